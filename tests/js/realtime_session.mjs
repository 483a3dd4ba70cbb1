// realtime-js, unmodified, with `ws` as its transport (Node 20 has no WebSocket): a session of
// several clients, played step by step as the test lists them, and everything they saw.
// Input: { url, clients: { name: { token, vsn? } }, steps: [...] }, where a step is one of
//   { do: 'subscribe', client, channel, config?, changes?: [{event, schema, table?, filter?}] }
//   { do: 'send', client, channel, event, payload }          (broadcast; its result is kept)
//   { do: 'track', client, channel, payload } / { do: 'untrack', client, channel }
//   { do: 'unsubscribe', client, channel } / { do: 'set_auth', client, token }
//   { do: 'rest', token, method, path, body?, schema? }      (a REST call, e.g. a write)
//   { do: 'wait', ms } / { do: 'disconnect', client }
//   { do: 'wait_for', client, channel, body, ms }           (until a change whose new row has
//                                                            that body arrives, ms at most)
// Output: { events: { client: [{ channel, type, payload }] }, statuses: { client: { channel:
//   [status, error?] } }, results: [step results in order] }.
import { readFileSync } from 'node:fs';
import { RealtimeClient } from '@supabase/realtime-js';
import WebSocket from 'ws';

const { url, clients: specs, steps } = JSON.parse(readFileSync(0, 'utf8'));
const endpoint = url.replace(/^http/, 'ws') + '/realtime/v1';
const clients = {};
const channels = {};
const events = {};
const statuses = {};
const results = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = Date.now();
const transport = [];

for (const [name, spec] of Object.entries(specs)) {
  clients[name] = new RealtimeClient(endpoint, {
    params: { apikey: spec.token },
    transport: WebSocket,
    vsn: spec.vsn ?? '2.0.0',
    heartbeatIntervalMs: spec.heartbeat_ms ?? 25000,
    // What the socket did (opened, closed, why), for a failing test's message.
    logger: (kind, msg, data) => {
      if (kind === 'transport') transport.push([name, Date.now() - started, msg, data?.code ?? null, data?.reason ?? null]);
    },
  });
  events[name] = [];
  statuses[name] = {};
}

const record = (client, channel, type) => (payload) => events[client].push({ channel, type, payload, at: Date.now() });

async function subscribe({ client, channel, config, changes, wait_ms }) {
  const ch = clients[client].channel(channel, { config: config ?? {} });
  channels[`${client}/${channel}`] = ch;
  ch.on('broadcast', { event: '*' }, record(client, channel, 'broadcast'));
  ch.on('system', {}, record(client, channel, 'system'));
  if (config?.presence) {
    ch.on('presence', { event: 'join' }, ({ key, newPresences }) =>
      events[client].push({ channel, type: 'presence_join', payload: { key, metas: newPresences } }));
    ch.on('presence', { event: 'leave' }, ({ key, leftPresences }) =>
      events[client].push({ channel, type: 'presence_leave', payload: { key, metas: leftPresences } }));
  }
  for (const filter of changes ?? []) {
    ch.on('postgres_changes', filter, record(client, channel, 'postgres_changes'));
  }
  const settled = new Promise((resolve) => {
    ch.subscribe((status, err) => {
      const seen = (statuses[client][channel] ??= []);
      seen.push(err ? [status, err.message, err.cause ?? null] : [status]);
      if (status !== 'SUBSCRIBED') events[client].push({ channel, type: 'status', payload: { status, error: err?.message ?? null, cause: err?.cause ?? null } });
      resolve(status);
    });
  });
  const status = await Promise.race([settled, sleep(wait_ms ?? 5000).then(() => 'NO ANSWER')]);
  return { status };
}

async function waitFor({ client, channel, body, ms }) {
  const arrived = () => events[client].some((e) => e.channel === channel && e.type === 'postgres_changes' && e.payload.new?.body === body);
  const until = Date.now() + ms;
  while (!arrived() && Date.now() < until) await sleep(50);
  return { arrived: arrived() };
}

async function rest({ token, method, path, body, schema }) {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Prefer: 'return=representation' };
  if (schema) headers[method === 'GET' ? 'Accept-Profile' : 'Content-Profile'] = schema;
  const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

for (const step of steps) {
  const ch = channels[`${step.client}/${step.channel}`];
  switch (step.do) {
    case 'subscribe': results.push(await subscribe(step)); break;
    case 'send': results.push(await ch.send({ type: 'broadcast', event: step.event, payload: step.payload })); break;
    case 'track': results.push(await ch.track(step.payload)); break;
    case 'untrack': results.push(await ch.untrack()); break;
    case 'unsubscribe': results.push(await ch.unsubscribe()); break;
    case 'set_auth': await clients[step.client].setAuth(step.token); results.push('ok'); break;
    case 'rest': results.push(await rest(step)); break;
    case 'wait': await sleep(step.ms); results.push(null); break;
    case 'wait_for': results.push(await waitFor(step)); break;
    case 'disconnect': await clients[step.client].disconnect(); results.push('ok'); break;
    default: throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}
for (const c of Object.values(clients)) await c.disconnect();
// exit only once stdout is flushed: a pipe takes large outputs in pieces
process.stdout.write(JSON.stringify({ events, statuses, results, transport }) + '\n', () => process.exit(0));
