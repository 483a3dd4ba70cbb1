// Who is signed in, kept for this tab only (sessionStorage: closing the tab forgets it): the
// tokens /auth/v1 issued and what they say. Two kinds: a tenant administrator (tenant role
// tenant_admin) and the platform administrator (a platform account: role platform_admin).
const KEY = 'tenancy.console.session';
// Why the last session ended without the user signing out, shown on the sign-in screen.
const ENDED_KEY = 'tenancy.console.ended';

export const apiUrl = window.location.origin;

/** The claims of a JWT, unverified: the server verifies; the page only reads who it is for. */
export function claimsOf(token) {
    const part = token.split('.')[1];
    if (!part) throw new Error('This is not a token (a JWT has three parts).');
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(decodeURIComponent(escape(json)));
}

/** The session to keep from GoTrue's session object (a sign-in's or a refresh's answer). */
export function sessionFrom(json) {
    const claims = claimsOf(json.access_token);
    return {
        kind: claims.role === 'platform_admin' ? 'platform' : 'tenant',
        token: json.access_token,
        refreshToken: json.refresh_token,
        expiresAt: json.expires_at,
        expiresIn: json.expires_in,
        claims,
        email: json.user?.email ?? claims.email,
    };
}

export function currentSession() {
    const saved = sessionStorage.getItem(KEY);
    return saved ? JSON.parse(saved) : null;
}

export function saveSession(session) {
    sessionStorage.setItem(KEY, JSON.stringify(session));
    sessionStorage.removeItem(ENDED_KEY);
}

export function forgetSession() {
    sessionStorage.removeItem(KEY);
}

/** Forgets a session the server ended, saying why for the sign-in screen. */
export function endSession(why) {
    forgetSession();
    sessionStorage.setItem(ENDED_KEY, why);
}

export const whySessionEnded = () => sessionStorage.getItem(ENDED_KEY);

export const isPlatform = (session) => session?.kind === 'platform';
