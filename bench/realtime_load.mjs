// The subscribers of bench/realtime.sh: realtime-js clients, one socket each, spread over the
// bench tenants, each listening to its tenant's chat.messages INSERTs. Every change received is
// timed against its commit_timestamp. Input (stdin): { url, tokens: [[token per subscriber]],
// seconds }. Output: { subscribers, joined, delivered, p50_ms, p99_ms, cpu_s } (cpu_s: this process's
// CPU while measuring, user + system: the client must not be what limits the run).
import { readFileSync } from 'node:fs';
import { RealtimeClient } from '@supabase/realtime-js';
import WebSocket from 'ws';

const { url, tokens, seconds } = JSON.parse(readFileSync(0, 'utf8'));
const latencies = [];
let joined = 0;
let measuring = false;
const clients = tokens.map((token) => {
  const client = new RealtimeClient(url.replace(/^http/, 'ws') + '/realtime/v1', { params: { apikey: token }, transport: WebSocket });
  client.channel('chat')
    .on('postgres_changes', { event: 'INSERT', schema: 'chat', table: 'messages' }, (m) => {
      if (measuring) latencies.push(Date.now() - Date.parse(m.commit_timestamp));
    })
    .subscribe((status) => { if (status === 'SUBSCRIBED') joined++; });
  return client;
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < 600 && joined < tokens.length; i++) await sleep(100);
console.error(`joined ${joined}/${tokens.length}`);
console.log('ready');
measuring = true;
const cpu = process.cpuUsage();
await sleep(seconds * 1000);
measuring = false;
const used = process.cpuUsage(cpu);
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? null;
for (const c of clients) c.disconnect();
console.log(JSON.stringify({ subscribers: tokens.length, joined, delivered: latencies.length, p50_ms: at(0.5), p99_ms: at(0.99), cpu_s: (used.user + used.system) / 1e6 }));
process.exit(0);
