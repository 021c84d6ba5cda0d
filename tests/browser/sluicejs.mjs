// web/sluice.js's reconnect policy in Node, against a scripted WebSocket server (node:net, a few lines of RFC 6455)
// so that any ending can be produced, also those the real server never sends (issue 12): permanent errors
// (4404, 4400, 1002, an error message then a lost close) stop the subscription, surfaced through onError,
// onStatus('closed') and sub.error; transient ones (1006, 1008, 4503) are retried. sluice.js runs on undici's
// WebSocket (pinned in package.json), the implementation behind Node's global one.
//
//   node tests/browser/sluicejs.mjs        (ctest runs it as the "sluicejs" test)
//
// Prints "N passed, N failed"; exit 1 on any failure.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocket } from 'undici';

import { assert, finish, step } from './steps.mjs';

globalThis.WebSocket = WebSocket;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { subscribe } = await import(pathToFileURL(join(root, 'web/sluice.js')).href);

// A server that answers every upgrade with 101 and then runs script(socket) (send frames, close, destroy).
function scriptedServer(script) {
  const server = createServer((sock) => {
    let head = '';
    sock.on('error', () => {});
    sock.on('data', function onData(d) {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const key = /sec-websocket-key: *(\S+)/i.exec(head)[1];
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
      server.connections++;
      script(sock);
    });
  });
  server.connections = 0;
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}
const frame = (opcode, payload) => { // unmasked (server), < 64 KiB
  const p = Buffer.from(payload);
  const head = p.length < 126 ? Buffer.from([0x80 | opcode, p.length])
    : Buffer.from([0x80 | opcode, 126, p.length >> 8, p.length & 0xff]);
  return Buffer.concat([head, p]);
};
const text = (obj) => frame(1, JSON.stringify(obj));
const close = (code) => frame(8, Buffer.from([code >> 8, code & 0xff]));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Subscribes against a server running script for 1.5 s with fast reconnects; returns what the caller saw.
async function run(script) {
  const server = await scriptedServer(script);
  const seen = { errors: [], states: [] };
  const sub = subscribe('t', { wsUrl: `ws://127.0.0.1:${server.address().port}`, from: 'earliest',
    minDelayMs: 20, maxDelayMs: 50, onError: (e) => seen.errors.push(e), onStatus: (s) => seen.states.push(s) });
  await sleep(1500);
  seen.connections = server.connections;
  seen.state = sub.state;
  seen.error = sub.error;
  sub.close();
  server.close();
  return seen;
}

function expectFinal(seen, errorCode, closeCode) {
  assert(seen.connections === 1, `${seen.connections} connections: it reconnected after a permanent error`);
  assert(seen.state === 'closed' && seen.states.at(-1) === 'closed', `state ${seen.state}, states ${seen.states}`);
  assert(seen.errors.length === 1 && seen.errors[0].error_code === errorCode,
    `onError calls: ${JSON.stringify(seen.errors.map((e) => e.error_code))}, expected one with ${errorCode}`);
  assert(seen.error === seen.errors[0] && seen.error.closeCode === closeCode,
    `sub.error ${seen.error && seen.error.error_code} closeCode ${seen.error && seen.error.closeCode}`);
}

function expectRetried(seen) {
  assert(seen.connections >= 3, `only ${seen.connections} connections: a transient close was not retried`);
  assert(seen.state !== 'closed' && seen.error === null, `state ${seen.state}, error ${seen.error}`);
}

await step('error 40401 then close 4404: final, one onError, sub.error set', async () =>
  expectFinal(await run((s) => s.end(Buffer.concat([text({ type: 'error', error_code: 40401, message: 'no topic' }), close(4404)]))), 40401, 4404));
await step('close 4400 without an error message: final, onError(400)', async () =>
  expectFinal(await run((s) => s.end(close(4400))), 400, 4400));
await step('close 4403: final', async () => expectFinal(await run((s) => s.end(close(4403))), 403, 4403));
await step('close 1002 (protocol error): final', async () => expectFinal(await run((s) => s.end(close(1002))), 1002, 1002));
await step('an error 40401 message, then TCP dropped without a close frame (1006): final', async () =>
  expectFinal(await run((s) => { s.write(text({ type: 'error', error_code: 40401, message: 'no topic' })); setTimeout(() => s.destroy(), 50); }), 40401, 1006));
await step('TCP dropped without an error (1006): retried', async () => expectRetried(await run((s) => setTimeout(() => s.destroy(), 20))));
await step('close 1008 (no acks in time): retried', async () => expectRetried(await run((s) => s.end(close(1008)))));
await step('error 50301 then close 4503 (overloaded): retried', async () =>
  expectRetried(await run((s) => s.end(Buffer.concat([text({ type: 'error', error_code: 50301, message: 'busy' }), close(4503)])))));
await step('an answered request error (with id), then a lost connection: retried', async () =>
  expectRetried(await run((s) => { s.write(text({ type: 'error', id: 1, error_code: 400, message: 'bad seek' })); setTimeout(() => s.destroy(), 20); })));

// Client frames (masked, text, payload < 64 KiB) parsed from what the socket received so far.
function clientMessages(buf) {
  const out = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    let len = buf[i + 1] & 0x7f, at = i + 2;
    if (len === 126) { len = buf.readUInt16BE(at); at += 2; }
    if (at + 4 + len > buf.length) break;
    const mask = buf.subarray(at, at + 4), p = Buffer.from(buf.subarray(at + 4, at + 4 + len));
    for (let k = 0; k < p.length; k++) p[k] ^= mask[k % 4];
    if ((buf[i] & 0x0f) === 1) out.push(JSON.parse(p.toString()));
    i = at + 4 + len;
  }
  return out;
}

await step('revoke: the batch being delivered is committed, queued records of revoked partitions dropped, then revoked', async () => {
  let got = Buffer.alloc(0);
  const server = await scriptedServer((s) => {
    s.on('data', (d) => { got = Buffer.concat([got, d]); });
    const rec = (partition, offset) => ({ topic: 't', partition, offset, value: offset });
    s.write(Buffer.concat([
      text({ type: 'assignment', generation: 1, partitions: [{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 1, offset: 0 }] }),
      text({ type: 'records', records: [rec(0, 0), rec(1, 0)] }),
      text({ type: 'records', records: [rec(1, 1), rec(0, 1)] }),
      text({ type: 'revoke', generation: 1, partitions: [{ topic: 't', partition: 1, offset: 2 }] }),
    ]));
  });
  const delivered = [], revoked = [];
  const sub = subscribe('t', { wsUrl: `ws://127.0.0.1:${server.address().port}`, group: 'g', from: 'earliest',
    async onRecords(rs) { delivered.push(...rs.map((r) => `${r.partition}-${r.offset}`)); await sleep(100); },
    onRevoke: (ps) => revoked.push(...ps.map((p) => p.partition)) });
  await sleep(800);
  sub.close();
  server.close();
  const msgs = clientMessages(got);
  const types = msgs.map((m) => m.type);
  assert(JSON.stringify(delivered) === JSON.stringify(['0-0', '1-0', '0-1']),
    `delivered ${delivered}: 1-1 was queued when partition 1 was revoked and belongs to its next owner`);
  const r = types.indexOf('revoked');
  assert(r > 0 && types.lastIndexOf('revoked') === r, `client messages ${types}: one revoked expected`);
  const before = msgs.slice(0, r).filter((m) => m.type === 'commit').flatMap((m) => m.offsets);
  assert(before.some((o) => o.partition === 1 && o.offset === 1) && before.some((o) => o.partition === 0 && o.offset === 1),
    `commits before revoked: ${JSON.stringify(before)} (1-0 and 0-0 delivered must be committed first)`);
  assert(!msgs.some((m) => m.type === 'commit' && m.offsets.some((o) => o.partition === 1 && o.offset > 1)),
    'an undelivered record of the revoked partition was committed');
  assert(JSON.stringify(revoked) === '[1]', `onRevoke got ${revoked}`);
});

finish();
