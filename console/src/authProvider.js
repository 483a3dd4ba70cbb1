// Signing in and out through /auth/v1 (the password grant auth-js uses). The token says who
// signed in: a platform account's has role platform_admin; anyone else is admitted only when
// their tenant roles include tenant_admin, and signed out again otherwise.
import { apiUrl, currentSession, forgetSession, isPlatform, saveSession, sessionFrom } from './session';
import { freshSession } from './refresh';
import { send } from './api';

async function signIn({ email, password }) {
    const { json } = await send(`${apiUrl}/auth/v1/token?grant_type=password`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password }),
    });
    const session = sessionFrom(json);
    saveSession(session);
    const roles = [].concat(session.claims.tenant_role ?? session.claims.tenant_roles ?? []);
    if (!isPlatform(session) && !roles.includes('tenant_admin')) {
        await signOut();
        throw new Error('This account is not an administrator of its tenant (tenant role tenant_admin).');
    }
}

async function signOut() {
    const session = await freshSession();
    forgetSession();
    if (session) {
        const headers = { Authorization: `Bearer ${session.token}` };
        await fetch(`${apiUrl}/auth/v1/logout`, { method: 'POST', headers }).catch(() => {});
    }
}

export const authProvider = {
    login: (form) => signIn(form),
    logout: () => signOut(),
    checkAuth: () => (currentSession() ? Promise.resolve() : Promise.reject()),
    checkError: (error) => {
        if (error?.status === 401) {
            forgetSession();
            return Promise.reject();
        }
        return Promise.resolve();
    },
    getPermissions: () => Promise.resolve(currentSession()?.kind),
    getIdentity: () => {
        const session = currentSession();
        if (!session) return Promise.reject();
        const fullName = isPlatform(session) ? `${session.email} (platform)` : session.email;
        return Promise.resolve({ id: session.claims.sub, fullName });
    },
};
