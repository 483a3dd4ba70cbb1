// Every call the console makes goes through `send`: it adds the signed-in token (refreshed
// first when it expires soon: refresh.js), and turns the API's own error body into the error
// shown (its message, then its hint and code); a TN042 report's items stay readable in
// `error.body.details`.
import { HttpError } from 'react-admin';
import { apiUrl } from './session';
import { freshSession } from './refresh';

/** fetch with the session's token; rejects with the API's message. Also react-admin's httpClient. */
export async function send(url, { method = 'GET', headers, body } = {}) {
    const sent = new Headers(headers);
    if (!sent.has('Accept')) sent.set('Accept', 'application/json');
    const session = await freshSession();
    if (session) sent.set('Authorization', `Bearer ${session.token}`);
    const response = await fetch(url, { method, headers: sent, body });
    const text = await response.text();
    const json = text ? parseJson(text) : null;
    if (!response.ok) throw apiError(response, json, text);
    return { status: response.status, headers: response.headers, body: text, json };
}

/** A path of this server, in a schema (the profile header PostgREST's clients send). */
export function call(path, { method = 'GET', schema, body } = {}) {
    const headers = new Headers();
    if (body !== undefined) headers.set('Content-Type', 'application/json');
    if (schema) headers.set(method === 'GET' ? 'Accept-Profile' : 'Content-Profile', schema);
    return send(`${apiUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** `POST /rpc/<name>` in a schema, answering the function's JSON. */
export async function rpc(schema, name, args) {
    return (await call(`/rpc/${name}`, { method: 'POST', schema, body: args })).json;
}

function parseJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return null;
    }
}

/** The message as the API says it: PostgREST's `message` and `hint`, or GoTrue's `msg`. */
function apiError(response, json, text) {
    const message = json?.message ?? json?.msg ?? json?.error_description ?? (text || response.statusText);
    const hint = json?.hint ? ` ${json.hint}` : '';
    const code = json?.error_code ?? json?.code;
    return new HttpError(`${message}${hint}${code ? ` (${code})` : ''}`, response.status, json ?? {});
}
