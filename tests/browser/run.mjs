// End-to-end tests of the web console and web/sluice.js: the real sluice binary on ephemeral ports in a temp
// data dir, driven through Debian's headless Chromium with playwright-core (no browser download).
//
//   SLUICE_BIN=build/test/sluice node tests/browser/run.mjs        (ctest runs it as the "browser" test)
//
// Env: SLUICE_BIN (default build/test/sluice), CHROMIUM (default /usr/bin/chromium), SCREENSHOTS: the folder
// for the console's PNGs (default web/screenshots, the README's; ctest uses its build folder; 0 = none).
// Prints "N passed, N failed"; exit 1 on any failure.
// A step that needs a server part not built yet (the WebSocket server: ws_port 0 in /v1/info) is reported
// as PENDING, with the reason, instead of failing.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const BIN = process.env.SLUICE_BIN || join(root, 'build/test/sluice');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS === '0' ? null : resolve(root, process.env.SCREENSHOTS || 'web/screenshots');
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

// ---- the server ----

function startSluice(dataDir, restPort = 0, wsPort = 0) {
  const proc = spawn(BIN, ['--data-dir', dataDir, '--rest-port', String(restPort), '--ws-port', String(wsPort),
    '--rest-bind', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`sluice did not start in 15 s:\n${log}`)), 15000);
    proc.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/sluice listening rest_port=(\d+) ws_port=(\d+)/);
      if (m && !proc.started) {
        proc.started = true;
        clearTimeout(timer);
        ok({ proc, rest: Number(m[1]), ws: Number(m[2]), base: `http://127.0.0.1:${m[1]}`, log: () => log });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); if (!proc.started) fail(new Error(`sluice exited ${code}:\n${log}`)); });
  });
}

function stopSluice(s) {
  return new Promise((ok) => {
    const status = () => (s.proc.signalCode ? `killed by ${s.proc.signalCode}` : s.proc.exitCode);
    if (s.proc.exitCode !== null || s.proc.signalCode) return ok(status());
    const kill = setTimeout(() => s.proc.kill('SIGKILL'), 10000);
    s.proc.on('exit', () => { clearTimeout(kill); ok(status()); });
    s.proc.kill('SIGTERM');
  });
}

async function http(method, url, body, type = 'application/json') {
  const res = await fetch(url, { method, headers: body ? { 'Content-Type': type } : {}, body: body && JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

// ---- the harness ----

let passed = 0, failed = 0;
const pending = [];
class Pending extends Error {}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function assert(cond, msg) { if (!cond) throw new Error(msg); }
async function until(fn, what, ms = 8000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok    ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    if (err instanceof Pending) {
      pending.push(`${name}: ${err.message}`);
      console.log(`PENDING ${name}: ${err.message}`);
      return;
    }
    failed++;
    console.log(`FAIL  ${name} (${Date.now() - t0} ms)\n      ${String(err.stack || err).split('\n').join('\n      ')}`);
  }
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

// ---- the tests ----

const dataDir = mkdtempSync(join(tmpdir(), 'sluice-browser-'));
let server = await startSluice(dataDir);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const pageErrors = [];
const newPage = async () => {
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  return p;
};
const page = await newPage();
const B = () => server.base;
const wsRunning = () => server.ws !== 0;
const needWs = () => { if (!wsRunning()) throw new Pending('the WebSocket server is not running (ws_port 0 in the "sluice listening" line; issue 4)'); };
const TOPIC = 'web-e2e';
const banner = () => page.locator('#error');

try {
  await step('static files: /, /web/*, content types, ETag/304, no traversal', async () => {
    const idx = await http('GET', `${B()}/`);
    assert(idx.status === 200 && idx.headers.get('content-type').startsWith('text/html'), `GET / ${idx.status}`);
    const etag = idx.headers.get('etag');
    assert(etag && idx.headers.get('cache-control') === 'no-cache', 'ETag and Cache-Control');
    const again = await fetch(`${B()}/`, { headers: { 'If-None-Match': etag } });
    assert(again.status === 304, `If-None-Match: ${again.status}`);
    for (const [p, t] of [['/web/app.js', 'text/javascript'], ['/web/style.css', 'text/css'],
      ['/web/sluice.js', 'text/javascript'], ['/web/js/topics.js', 'text/javascript'], ['/web/example.html', 'text/html']]) {
      const r = await http('GET', B() + p);
      assert(r.status === 200 && r.headers.get('content-type').startsWith(t), `${p}: ${r.status} ${r.headers.get('content-type')}`);
    }
    for (const p of ['/web/..%2fCMakeLists.txt', '/web/../CMakeLists.txt', '/web/js/..%2f..%2fMakefile', '/web/embed.cmake', '/web/nope.js']) {
      const r = await http('GET', B() + p);
      assert(r.status === 404, `${p} answered ${r.status}`);
    }
  });

  await step('overview shows node, cluster, version, uptime, topics and rates', async () => {
    await page.goto(`${B()}/`);
    const info = (await http('GET', `${B()}/v1/info`)).json;
    await until(async () => (await page.locator('[data-stat="cluster"]').textContent()) === info.cluster_id, 'cluster id');
    assert((await page.locator('[data-stat="node"]').textContent()) === String(info.node_id), 'node id');
    await until(async () => /\d/.test(await page.locator('[data-stat="rate-in"]').textContent()), 'records/s in', 5000);
    assert(/\ds/.test(await page.locator('[data-stat="uptime"]').textContent()), 'uptime');
    assert(await banner().isHidden(), `error banner: ${await banner().textContent()}`);
    await shot(page, 'overview');
  });

  await step('create a topic with partitions and configs through the form', async () => {
    await page.goto(`${B()}/#topics`);
    await page.fill('#create-topic [name=topic_name]', TOPIC);
    await page.fill('#create-topic [name=partitions_count]', '2');
    await page.fill('#create-topic [name=configs]', 'retention.ms=3600000');
    await page.click('#create-topic button[type=submit]');
    await page.locator(`a[data-topic="${TOPIC}"]`).waitFor({ timeout: 5000 });
    const t = await http('GET', `${B()}/topics/${TOPIC}`);
    assert(t.json.partitions.length === 2 && t.json.configs['retention.ms'] === '3600000', `topic: ${t.text}`);
  });

  await step('server errors are shown as the server wrote them', async () => {
    await page.fill('#create-topic [name=topic_name]', TOPIC);
    await page.click('#create-topic button[type=submit]');
    await banner().waitFor({ state: 'visible', timeout: 5000 });
    const raw = (await http('POST', `${B()}/v3/clusters/${(await http('GET', `${B()}/v1/info`)).json.cluster_id}/topics`,
      { topic_name: TOPIC })).json;
    const text = await banner().textContent();
    assert(text.includes(String(raw.error_code)) && text.includes(raw.message), `banner "${text}" vs ${JSON.stringify(raw)}`);
  });

  await step('topic detail shows partitions and configs', async () => {
    await page.goto(`${B()}/#topics/${TOPIC}`);
    await page.locator('text=retention.ms').first().waitFor({ timeout: 5000 });
    assert(await page.locator('text=3600000').count() > 0, 'retention.ms value');
    const rows = await page.locator('table').first().locator('tbody tr').count();
    assert(rows === 2, `${rows} partition rows`);
  });

  const tail = await newPage();
  await step('produce through the form; the record appears in the live tail', async () => {
    await tail.goto(`${B()}/#tail`);
    await tail.selectOption('#tail-form [name=topic]', TOPIC);
    await tail.selectOption('#tail-form [name=start]', 'earliest');
    await tail.click('#tail-form button[type=submit]');
    await page.goto(`${B()}/#produce/${TOPIC}`);
    await page.fill('#produce-form [name=key]', 'order-1');
    await page.fill('#produce-form [name=value]', '{"order":1,"items":["tea","cake"]}');
    await page.fill('#produce-form [name=headers]', 'source=console');
    await page.fill('#produce-form [name=partition]', '0');
    await page.click('#produce-form button[type=submit]');
    const row = page.locator('tr[data-offset]').first();
    await row.waitFor({ timeout: 5000 });
    assert((await row.getAttribute('data-partition')) === '0' && (await row.getAttribute('data-offset')) === '0',
      `produced at ${await row.textContent()}`);
    await shot(page, 'produce');
    needWs();
    const rec = tail.locator('#records .record').first();
    await rec.waitFor({ timeout: 8000 });
    const txt = await rec.textContent();
    assert(txt.includes('order-1') && txt.includes('"items": [') && txt.includes('source=console'), `tail shows: ${txt}`);
    await tail.fill('#filter', 'no-such-text');
    assert(await rec.isHidden(), 'filter hides non-matching records');
    await tail.fill('#filter', 'cake');
    assert(await rec.isVisible(), 'filter shows matching records');
    await tail.fill('#filter', '');
    await tail.click('#pause');
    assert((await tail.locator('#tail-status').textContent()) === 'paused', 'paused');
    await http('POST', `${B()}/topics/${TOPIC}`, { records: [{ key: 'k2', value: { order: 2 }, partition: 1 }] },
      'application/vnd.kafka.json.v2+json');
    await sleep(500);
    assert(await tail.locator('#records .record').count() === 1, 'nothing delivered while paused');
    await tail.click('#pause');
    await until(async () => (await tail.locator('#records .record').count()) === 2, 'the record held back by pause');
    await shot(tail, 'tail');
  });

  await step('a consumer group shows members, committed offsets and lag', async () => {
    const H = 'application/vnd.kafka.v2+json';
    for (let i = 0; i < 3; i++) {
      await http('POST', `${B()}/topics/${TOPIC}`, { records: [{ value: { n: i }, partition: 0 }] }, 'application/vnd.kafka.json.v2+json');
    }
    assert((await http('POST', `${B()}/consumers/web-group`, { name: 'c1', format: 'json', 'auto.offset.reset': 'earliest' }, H)).status === 200, 'consumer');
    assert((await http('POST', `${B()}/consumers/web-group/instances/c1/subscription`, { topics: [TOPIC] }, H)).status === 204, 'subscribe');
    await fetch(`${B()}/consumers/web-group/instances/c1/records?timeout=500`, { headers: { Accept: 'application/vnd.kafka.json.v2+json' } });
    const c = await http('POST', `${B()}/consumers/web-group/instances/c1/offsets`, { offsets: [{ topic: TOPIC, partition: 0, offset: 1 }] }, H);
    assert(c.status < 300, `commit: ${c.status} ${c.text}`);
    const noNullText = async (view) => {
      const text = await page.locator('#page').innerText();
      const m = text.match(/\b(null|undefined|NaN)\b/);
      assert(!m, `the ${view} view shows a literal "${m && m[1]}": ${JSON.stringify(text.slice(0, 200))}`);
    };
    await page.goto(`${B()}/#groups`);
    await page.locator('a[data-group="web-group"]').waitFor();
    await noNullText('groups list');
    await page.locator('a[data-group="web-group"]').click();
    const lag = page.locator(`[data-lag="${TOPIC}/0"]`);
    await lag.waitFor({ timeout: 5000 });
    await noNullText('group detail');
    assert((await lag.textContent()) === '3', `lag of partition 0: ${await lag.textContent()} (end 4, committed 1)`);
    assert(await page.locator('text=c1').count() > 0, 'member c1 listed');
    await shot(page, 'groups');
    await http('DELETE', `${B()}/consumers/web-group/instances/c1`);
  });

  await step('the brokers page lists this node as live and the controller', async () => {
    await page.goto(`${B()}/#brokers`);
    const row = page.locator('[data-broker="1"]');
    await row.waitFor({ timeout: 5000 });
    assert(await page.locator('[data-state="live"]').count() === 1, 'one live broker');
    assert(await page.locator('[data-controller="yes"]').count() === 1, 'one controller');
    const text = await page.locator('#page').innerText();
    assert(text.includes('a one-node cluster'), `no one-node note: ${text.slice(0, 200)}`);
    assert(!/\b(null|undefined|NaN)\b/.test(text), `a literal null/undefined/NaN: ${text.slice(0, 200)}`);
    await shot(page, 'brokers');
  });

  await step('the topics list and a narrow window', async () => {
    await page.goto(`${B()}/#topics`);
    await page.locator(`a[data-topic="${TOPIC}"]`).waitFor();
    await shot(page, 'topics');
    await page.goto(`${B()}/#topics/${TOPIC}`);
    await page.locator('text=retention.ms').first().waitFor();
    await shot(page, 'topic');
    await page.setViewportSize({ width: 380, height: 760 });
    for (const p of ['overview', 'topics', `topics/${TOPIC}`, 'produce', 'tail', 'groups', 'brokers']) {
      await page.goto(`${B()}/#${p}`);
      await page.locator('h1').waitFor();
      await sleep(150);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(over <= 1, `#${p} overflows a 380px window by ${over}px`);
    }
    await page.goto(`${B()}/#topics`);
    await page.locator(`a[data-topic="${TOPIC}"]`).waitFor();
    await shot(page, 'narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await step('delete the topic, with confirmation', async () => {
    await page.goto(`${B()}/#topics`);
    await page.click(`button[data-delete="${TOPIC}"]`);
    assert(await page.locator('#confirm-ok').isDisabled(), 'Delete is disabled until the name is typed');
    await page.fill('#confirm-input', TOPIC);
    await page.click('#confirm-ok');
    await until(async () => (await page.locator(`a[data-topic="${TOPIC}"]`).count()) === 0, 'topic gone from the list');
    assert((await http('GET', `${B()}/topics/${TOPIC}`)).status === 404, 'topic deleted on the server');
  });

  // sluice.js in a page: N records produced in rounds, the server restarted (same ports and data) in the
  // middle; the subscriber must end with every record exactly once, in order per partition.
  async function reconnectCase(name, group, from = 'earliest') {
    needWs();
    const topic = `recon-${name}`;
    const cid = (await http('GET', `${B()}/v1/info`)).json.cluster_id;
    await http('POST', `${B()}/v3/clusters/${cid}/topics`, { topic_name: topic, partitions_count: 3 });
    const p = await newPage();
    await p.goto(`${B()}/web/example.html`);
    await p.evaluate(async ({ topic, group, from }) => {
      const { subscribe } = await import('/web/sluice.js');
      window.got = [];
      window.states = [];
      window.sub = subscribe(topic, { from, group, minDelayMs: 100, maxDelayMs: 1000, maxInFlight: 50,
        onRecords: (rs) => { for (const r of rs) window.got.push([r.partition, r.offset, r.value.n]); },
        onStatus: (s) => window.states.push(s) });
    }, { topic, group, from });
    await until(() => p.evaluate(() => window.states.includes('open')), 'the first connection');
    let n = 0;
    const produceRound = async (count) => {
      const records = [];
      for (let i = 0; i < count; i++, n++) records.push({ value: { n }, partition: n % 3 });
      const r = await http('POST', `${B()}/topics/${topic}`, { records }, 'application/vnd.kafka.json.v2+json');
      assert(r.status === 200, `produce ${r.status} ${r.text}`);
    };
    await produceRound(60);
    await until(() => p.evaluate(() => window.got.length >= 30), 'first records');
    const { rest, ws } = server;
    await stopSluice(server);
    server = await startSluice(dataDir, rest, ws);
    await produceRound(60);
    await until(() => p.evaluate(() => window.states.filter((s) => s === 'open').length >= 2), 'a reconnect', 15000);
    await produceRound(30);
    const got = await until(async () => {
      const g = await p.evaluate(() => window.got);
      return g.length >= n ? g : null;
    }, `all ${n} records`, 15000);
    await sleep(300);
    const final = await p.evaluate(() => { window.sub.close(); return window.got; });
    const seen = new Set(final.map(([, , v]) => v));
    assert(final.length === n && seen.size === n, `${final.length} delivered, ${seen.size} distinct, ${n} produced`);
    for (const part of [0, 1, 2]) {
      const offs = final.filter(([q]) => q === part).map(([, o]) => o);
      assert(offs.every((o, i) => o === i), `partition ${part} offsets in order without gaps: ${offs.join(',')}`);
    }
    await p.close();
  }

  await step('sluice.js reconnects after a server restart without loss or duplicates', () => reconnectCase('plain'));
  await step('sluice.js from latest resumes from its pinned positions after a restart', () => reconnectCase('latest', undefined, 'latest'));
  await step('sluice.js with a group resumes from its commits after a restart', () => reconnectCase('group', 'web-recon'));

  await step('no uncaught errors in the pages', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
} catch (err) {
  failed++;
  console.log(`FAIL  harness: ${err.stack || err}`);
} finally {
  await browser.close().catch(() => {});
  const code = await stopSluice(server);
  if (code !== 0) {
    failed++;
    console.log(`FAIL  sluice did not stop cleanly at SIGTERM (exit ${code}):\n${server.log()}`);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

if (pending.length) console.log(`${pending.length} pending (not run, see above):\n  ${pending.join('\n  ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
