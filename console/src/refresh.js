// Keeps the session alive as auth-js does: a tick refreshes the access token with the refresh
// token when it expires within a margin, and a call about to go out with a token that expired
// meanwhile (a sleeping tab, a closed laptop) waits for that refresh first. A refused refresh
// (the session was signed out, revoked or reused elsewhere) ends the session here too: the
// console goes back to the sign-in screen and says why.
import { apiUrl, currentSession, endSession, saveSession, sessionFrom } from './session';

/** Dispatched on window when a refresh was refused and the session is gone. */
export const SESSION_ENDED = 'tenancy:session-ended';

let refreshing = null;

/** auth-js refreshes 90 s before expiry; a short-lived token, at two thirds of its life. */
const marginSeconds = (session) => Math.min(90, session.expiresIn / 3);

/** auth-js ticks every 30 s; here often enough that a short-lived token is caught in its
 * margin, and every second while signed out (a sign-in starts the session's ticks soon). */
const tickMs = (session) => (session ? Math.max(500, Math.min(30_000, session.expiresIn * 250)) : 1000);

const dueSoon = (session) => session.expiresAt - Date.now() / 1000 < marginSeconds(session);

/** The session, refreshed first when its access token expires soon (one refresh at a time). */
export async function freshSession() {
    const session = currentSession();
    if (!session?.refreshToken || !dueSoon(session)) return session;
    refreshing ??= refresh(session).finally(() => {
        refreshing = null;
    });
    return refreshing;
}

async function refresh(session) {
    const response = await fetch(`${apiUrl}/auth/v1/token?grant_type=refresh_token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: session.refreshToken }),
    }).catch(() => null);
    // The network or the server is down: keep the session, the next tick tries again.
    if (response === null || response.status >= 500) return session;
    const json = await response.json().catch(() => null);
    if (!response.ok) {
        endSession(`Your session has ended: ${json?.msg ?? response.statusText}. Sign in again.`);
        window.dispatchEvent(new Event(SESSION_ENDED));
        return null;
    }
    const next = sessionFrom(json);
    saveSession(next);
    return next;
}

/** Ticks for as long as the page is open, refreshing whenever a signed-in session is due. */
export function keepSessionAlive() {
    const tick = async () => {
        await freshSession();
        setTimeout(tick, tickMs(currentSession()));
    };
    setTimeout(tick, tickMs(currentSession()));
}
