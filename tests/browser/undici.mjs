// Error closes as Node's WebSocket sees them: undici's WebSocket (the implementation behind Node's global
// WebSocket; pinned in package.json) against the real sluice binary on ephemeral ports (issue 12). An error must
// arrive as the `error` message and then the close code 4000 + status, not as 1006: the server sends the error
// frame uncompressed, then its close, and waits for the client's close before it closes TCP.
//
//   SLUICE_BIN=build/test/sluice node tests/browser/undici.mjs        (ctest runs it as the "undici" test)
//
// Prints "N passed, N failed"; exit 1 on any failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'undici';

import { assert, finish, step } from './steps.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.SLUICE_BIN || join(root, 'build/test/sluice');

function startSluice(dataDir) {
  const proc = spawn(BIN, ['--data-dir', dataDir, '--rest-port', '0', '--ws-port', '0', '--rest-bind', '127.0.0.1'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`sluice did not start in 15 s:\n${log}`)), 15000);
    proc.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/sluice listening rest_port=(\d+) ws_port=(\d+)/);
      if (m && !proc.started) {
        proc.started = true;
        clearTimeout(timer);
        ok({ proc, rest: `http://127.0.0.1:${m[1]}`, ws: `ws://127.0.0.1:${m[2]}`, log: () => log });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); if (!proc.started) fail(new Error(`sluice exited ${code}:\n${log}`)); });
  });
}

// Opens url and collects messages until the close: {messages, code, reason, extensions, ms}; rejects after 10 s.
function session(url, onOpen) {
  return new Promise((ok, fail) => {
    const t0 = Date.now();
    const ws = new WebSocket(url, 'sluice.v1');
    const messages = [];
    let extensions = '';
    const timer = setTimeout(() => { ws.close(); fail(new Error(`no close within 10 s (messages: ${JSON.stringify(messages)})`)); }, 10000);
    ws.onopen = () => { extensions = ws.extensions; onOpen?.(ws); };
    ws.onmessage = (ev) => messages.push(JSON.parse(ev.data));
    ws.onerror = () => { /* the close follows */ };
    ws.onclose = (ev) => { clearTimeout(timer); ok({ messages, code: ev.code, reason: ev.reason, extensions, ms: Date.now() - t0 }); };
  });
}


function expectError(s, errorCode, close) {
  // the case that lost the error: it came permessage-deflate compressed
  assert(s.extensions.includes('permessage-deflate'), `permessage-deflate not negotiated ('${s.extensions}')`);
  const errs = s.messages.filter((m) => m.type === 'error');
  assert(s.code === close, `close code ${s.code} (reason '${s.reason}'), expected ${close}; messages ${JSON.stringify(s.messages)}`);
  assert(errs.length === 1 && errs[0].error_code === errorCode && typeof errs[0].message === 'string',
    `expected one error with error_code ${errorCode}, got ${JSON.stringify(s.messages)}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'sluice-undici-'));
const server = await startSluice(dataDir);
try {
  const info = await (await fetch(`${server.rest}/v3/clusters`)).json();
  const cluster = info.data[0].cluster_id;
  const made = await fetch(`${server.rest}/v3/clusters/${cluster}/topics`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ topic_name: 'u', partitions_count: 1 }),
  });
  assert(made.status === 201 || made.status === 200, `create topic: ${made.status}`);

  for (let round = 0; round < 3; round++) {
    await step(`unknown topic: error 40401 then close 4404 (round ${round + 1})`, async () =>
      expectError(await session(`${server.ws}/ws/v1/topics/no-such-topic?from=earliest`), 40401, 4404));
    await step(`bad query: error 400 then close 4400 (round ${round + 1})`, async () =>
      expectError(await session(`${server.ws}/ws/v1/topics/u?from=bogus`), 400, 4400));
  }
  await step('a produce request with an unknown format: error then close 4400', async () => {
    const s = await session(`${server.ws}/ws/v1/topics/u/produce?format=nope`);
    assert(s.code === 4400 && s.messages.some((m) => m.type === 'error'), `got ${s.code} ${JSON.stringify(s.messages)}`);
  });
  await step('a good session still works: produce is acknowledged, the client closes with 1000', async () => {
    const s = await session(`${server.ws}/ws/v1/topics/u/produce`, (ws) => {
      ws.send(JSON.stringify({ id: 1, records: [{ value: 1 }] }));
      ws.addEventListener('message', () => ws.close(1000, 'done'));
    });
    assert(s.code === 1000 && s.messages[0]?.type === 'ack', `got ${s.code} ${JSON.stringify(s.messages)}`);
  });
} finally {
  server.proc.kill('SIGTERM');
  await new Promise((r) => server.proc.on('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
finish();
