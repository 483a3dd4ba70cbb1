// Who is signed in, kept for this tab only (sessionStorage: closing the tab forgets it).
// Two kinds: a tenant administrator signed in through /auth/v1 (tenant role tenant_admin), and
// the platform administrator, whose token (`tenancy-api token - platform_admin`) is pasted.
const KEY = 'tenancy.console.session';

export const apiUrl = window.location.origin;

/** The claims of a JWT, unverified: the server verifies; the page only reads who it is for. */
export function claimsOf(token) {
    const part = token.split('.')[1];
    if (!part) throw new Error('This is not a token (a JWT has three parts).');
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(decodeURIComponent(escape(json)));
}

export function currentSession() {
    const saved = sessionStorage.getItem(KEY);
    return saved ? JSON.parse(saved) : null;
}

export function saveSession(session) {
    sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function forgetSession() {
    sessionStorage.removeItem(KEY);
}

export const isPlatform = (session) => session?.kind === 'platform';
