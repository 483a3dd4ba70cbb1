// A WebSocket client that is not realtime-js (plain `ws`): it sends the frames the test lists,
// forged or malformed on purpose, and reports what the server answered.
// Input: { url, query, frames: [{ text } | { bytes: [u8] } | { junk: length }], wait_ms }.
// Output: { refused: { status, body } | null, received: [message], closed: { code, reason } | null }.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const { url, query, frames, wait_ms } = JSON.parse(readFileSync(0, 'utf8'));
const out = { refused: null, received: [], closed: null };
const ws = new WebSocket(url.replace(/^http/, 'ws') + '/realtime/v1/websocket?' + query);
const done = new Promise((resolve) => {
  ws.on('unexpected-response', (_req, res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => {
      out.refused = { status: res.statusCode, body: JSON.parse(body) };
      resolve();
    });
  });
  ws.on('message', (data) => out.received.push(JSON.parse(data.toString())));
  ws.on('close', (code, reason) => {
    out.closed = { code, reason: reason.toString() };
    resolve();
  });
  ws.on('error', () => {});
  ws.on('open', async () => {
    for (const f of frames) {
      if (ws.readyState !== WebSocket.OPEN) break;
      if (f.text !== undefined) ws.send(f.text);
      else if (f.bytes !== undefined) ws.send(Buffer.from(f.bytes));
      else ws.send('x'.repeat(f.junk));
    }
    setTimeout(() => { ws.close(); }, wait_ms ?? 1000);
  });
});
await done;
// exit only once stdout is flushed: a pipe takes large outputs in pieces
process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
