// Signing in and out. A tenant administrator signs in with email and password through
// /auth/v1 (the token grant auth-js uses); the console accepts only a token whose tenant roles
// include tenant_admin. The platform administrator's token is checked against the platform API.
import { apiUrl, claimsOf, currentSession, forgetSession, isPlatform, saveSession } from './session';
import { call, send } from './api';

async function signInTenantAdmin({ email, password }) {
    const { json } = await send(`${apiUrl}/auth/v1/token?grant_type=password`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password }),
    });
    const claims = claimsOf(json.access_token);
    const roles = [].concat(claims.tenant_role ?? claims.tenant_roles ?? []);
    const session = { kind: 'tenant', token: json.access_token, claims, email: json.user?.email ?? email };
    if (!roles.includes('tenant_admin')) {
        saveSession(session); // to sign the session out again
        await signOut();
        throw new Error('This account is not an administrator of its tenant (tenant role tenant_admin).');
    }
    saveSession(session);
}

async function signInPlatformAdmin({ token }) {
    const claims = claimsOf(token.trim());
    saveSession({ kind: 'platform', token: token.trim(), claims });
    try {
        await call('/stats', { schema: 'platform' });
    } catch (e) {
        forgetSession();
        throw e;
    }
}

async function signOut() {
    const session = currentSession();
    forgetSession();
    if (session?.kind === 'tenant') {
        const headers = { Authorization: `Bearer ${session.token}` };
        await fetch(`${apiUrl}/auth/v1/logout`, { method: 'POST', headers }).catch(() => {});
    }
}

export const authProvider = {
    login: (form) => (form.token ? signInPlatformAdmin(form) : signInTenantAdmin(form)),
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
        const fullName = isPlatform(session) ? 'Platform administrator' : session.email;
        return Promise.resolve({ id: session.claims.sub ?? 'platform', fullName });
    },
};
