// The SSE stream (GET /sse/v1/topics/{topic}) through the npm `eventsource` client and a TCP proxy that can
// cut connections, as a reverse proxy with an idle timeout does:
//   1. a silent stream gets ": heartbeat" within sse.heartbeat.ms (seen on the wire by the proxy);
//   2. a from=latest client cut before any record reconnects (its own automatic retry, with Last-Event-ID)
//      and gets every record produced while it was away, exactly once.
//
//   SLUICE_BIN=build/test/sluice node tests/docs/sse.mjs      (ctest runs it as the "docs_sse" test)
//
// Prints "N passed, N failed"; exit 1 on any failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.SLUICE_BIN || join(root, 'build/test/sluice');
const HEARTBEAT_MS = 300;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function assert(cond, msg) { if (!cond) throw new Error(msg); }
async function until(fn, what, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await sleep(20);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

function startSluice(dataDir) {
  const proc = spawn(BIN, ['--data-dir', dataDir, '--rest-port', '0', '--ws-port', '0', '--rest-bind', '127.0.0.1',
    '--set', `sse.heartbeat.ms=${HEARTBEAT_MS}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`sluice did not start in 15 s:\n${log}`)), 15000);
    proc.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/sluice listening rest_port=(\d+)/);
      if (m && !proc.started) {
        proc.started = true;
        clearTimeout(timer);
        ok({ proc, base: `http://127.0.0.1:${m[1]}`, port: Number(m[1]) });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); if (!proc.started) fail(new Error(`sluice exited ${code}:\n${log}`)); });
  });
}

// A TCP proxy to port: records what each side sent; cut() closes every connection it carries.
function startProxy(port) {
  const conns = new Set();
  const p = { up: '', down: '', accepted: 0, cut: () => { for (const s of conns) s.destroy(); conns.clear(); } };
  p.server = net.createServer((client) => {
    p.accepted++;
    const upstream = net.connect(port, '127.0.0.1');
    conns.add(client).add(upstream);
    client.on('data', (d) => { p.up += d; upstream.write(d); });
    upstream.on('data', (d) => { p.down += d; client.write(d); });
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      a.on('close', () => b.destroy());
      a.on('error', () => b.destroy());
    }
  });
  return new Promise((ok) => p.server.listen(0, '127.0.0.1', () => { p.base = `http://127.0.0.1:${p.server.address().port}`; ok(p); }));
}

async function post(url, body, type = 'application/json') {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': type }, body: JSON.stringify(body) });
  assert(res.status < 300, `POST ${url}: ${res.status} ${await res.text()}`);
  return res.json().catch(() => null);
}

let passed = 0, failed = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok    ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAIL  ${name} (${Date.now() - t0} ms)\n      ${err.message}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-sse-'));
const sl = await startSluice(dir);
const proxy = await startProxy(sl.port);
const es = [];
try {
  const info = await (await fetch(`${sl.base}/v1/info`)).json();
  await post(`${sl.base}/v3/clusters/${info.cluster_id}/topics`, { topic_name: 'e', partitions_count: 2 });
  await post(`${sl.base}/topics/e`, { records: [{ value: 'before', partition: 0 }] }, 'application/vnd.kafka.json.v2+json');

  const seen = [];
  let opened = 0;
  const source = new EventSource(`${proxy.base}/sse/v1/topics/e?from=latest`);
  es.push(source);
  source.onopen = () => { opened++; };
  source.addEventListener('records', (ev) => {
    for (const r of JSON.parse(ev.data).records) seen.push(`${r.partition}:${r.offset}`);
  });

  await step('a silent stream gets ": heartbeat" within sse.heartbeat.ms', async () => {
    await until(() => opened === 1, 'the stream to open', 5000);
    const t0 = Date.now();
    await until(() => proxy.down.includes(': heartbeat\n'), `a heartbeat (interval ${HEARTBEAT_MS} ms)`, HEARTBEAT_MS + 700);
    const mark = proxy.down.length;
    await until(() => proxy.down.indexOf(': heartbeat\n', mark) >= 0, 'a second heartbeat', HEARTBEAT_MS + 700);
    console.log(`      heartbeats within ${Date.now() - t0} ms of the open`);
  });

  await step('from=latest, cut before any record: the automatic reconnect gets what came in between, once', async () => {
    await until(() => opened === 1, 'the stream to open', 5000);
    proxy.cut(); // the proxy drops the idle stream; nothing was delivered yet
    const recs = [{ value: 1, partition: 0 }, { value: 2, partition: 1 }, { value: 3, partition: 1 }];
    await post(`${sl.base}/topics/e`, { records: recs }, 'application/vnd.kafka.json.v2+json');
    await until(() => opened === 2, 'the client to reconnect (its default retry is 3 s)', 10000);
    const last = proxy.up.match(/last-event-id: *([^\r\n]*)/i);
    await until(() => seen.length >= 3, `3 records after the reconnect (Last-Event-ID ${last ? last[1] : 'not sent'}; got [${seen}])`, 4000);
    await sleep(300); // anything repeated would come now
    assert(seen.sort().join(' ') === '0:1 1:0 1:1', `records after the reconnect: [${seen}] (want 0:1 1:0 1:1)`);
  });
} finally {
  for (const s of es) s.close();
  proxy.cut();
  proxy.server.close();
  sl.proc.kill('SIGTERM');
  await new Promise((r) => (sl.proc.exitCode !== null ? r() : sl.proc.on('exit', r)));
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
