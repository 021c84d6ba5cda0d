// sluice.js: a small browser client for sluice (ES module, no dependencies).
//
//   import { subscribe, produce } from 'http://localhost:8082/web/sluice.js';
//
//   const sub = subscribe('orders', {
//     from: 'earliest',            // 'earliest' | 'latest' | <offset> | 'time:<epoch-ms>' | a Date
//     group: 'dashboard',          // optional: join a consumer group (resume from its committed offsets)
//     onRecords(records) { ... },  // may return a Promise: no acks are sent until it settles (back-pressure)
//     onAssignment(partitions) { ... },
//     onRevoke(partitions) { ... }, // with a group: partitions a rebalance took, after their records were committed
//     onError(err) { ... },        // err.error_code / err.message as the server wrote them; see Reconnects
//     onStatus(state) { ... },     // connecting | open | reconnecting | closed
//   });
//   sub.pause(); sub.resume(); sub.close();   sub.state, sub.error (after a permanent error)
//
//   const offsets = await produce('orders', [{ key: 'k1', value: { n: 1 } }]);   // [{partition, offset}]
//
// Delivery: records reach onRecords in offset order per partition, each at most once per subscription, and
// after a dropped connection the subscription resumes exactly after the last record it delivered:
//   - without a group it reconnects from its original start and seeks every partition it has seen to the
//     offset after its last delivered record ({"type":"seek"}), and drops anything already delivered;
//     'latest' is pinned to explicit per-partition end offsets (REST) at the first connect, so a reconnect
//     neither skips nor repeats records;
//   - with a group it commits what it delivered (after every onRecords, and again on the next connection if
//     the socket was gone), and the server resumes from the group's committed offsets. When a rebalance
//     revokes partitions it finishes the batch being delivered, commits, drops undelivered records of those
//     partitions (their next owner reads them) and answers {"type":"revoked"} (then onRevoke(partitions)).
// Flow control: after onRecords returns (or its Promise settles) the delivered offsets are acked (or
// committed), which opens the server's window of max_in_flight unacknowledged records. pause() stops
// delivering and acking, so the server stops sending once the window is full; nothing is buffered without bound.
// Reconnects back off exponentially (250 ms doubling to 10 s) with jitter, for ever, except after a permanent
// error, where retrying would only fail again: a close 4400..4499 (bad request, 4401/4403 not allowed, 4404
// unknown topic; not 4408/4429), a protocol-error close (1002, 1003, 1007, 1009, 1010), or a server error
// message with a 4xx error_code followed by a lost close (1006). Then the subscription stops for good:
// onError(err) was called (err.error_code / err.message from the server, err.closeCode the close code), then
// onStatus('closed'); sub.state is 'closed' and sub.error is err. A close() by the caller leaves sub.error null.

const DEFAULTS = { minDelayMs: 250, maxDelayMs: 10000, maxInFlight: 1000, format: 'json', autoCommit: true };

/** An error as the server reported it: {"error_code": N, "message": "..."}. */
export class SluiceError extends Error {
  constructor(errorCode, message, extra = {}) {
    super(message ?? `error ${errorCode}`);
    this.name = 'SluiceError';
    this.error_code = errorCode;
    Object.assign(this, extra);
  }
}

function restBase(url) {
  if (url) return String(url).replace(/\/+$/, '');
  if (typeof location !== 'undefined') return location.origin;
  throw new Error('sluice.js: pass {url: "http://host:8082"} outside a browser page');
}

async function restJson(base, method, path, body, contentType = 'application/json') {
  const init = { method, headers: { Accept: 'application/json, application/vnd.kafka.v2+json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = contentType;
    init.body = JSON.stringify(body);
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    throw new SluiceError(json?.error_code ?? res.status, json?.message ?? (text || res.statusText),
      { status: res.status, body: text });
  }
  return json;
}

const infoCache = new Map();
/** GET /v1/info (cached per base URL): version, node_id, cluster_id, rest_port, ws_port. */
export function info(opts = {}) {
  const base = restBase(opts.url);
  if (!infoCache.has(base)) {
    const p = restJson(base, 'GET', '/v1/info');
    p.catch(() => infoCache.delete(base));
    infoCache.set(base, p);
  }
  return infoCache.get(base);
}

/** The ws:// base URL of the WebSocket server: opts.wsUrl, or the REST host with /v1/info's ws_port. */
export async function wsBase(opts = {}) {
  if (opts.wsUrl) return String(opts.wsUrl).replace(/\/+$/, '');
  const base = new URL(restBase(opts.url));
  const { ws_port: port } = await info(opts);
  if (!port) throw new SluiceError(50302, 'The WebSocket server is not running on this node (ws_port is 0).');
  const scheme = base.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${base.hostname.includes(':') ? `[${base.hostname}]` : base.hostname}:${port}`;
}

function fromParam(from) {
  if (from instanceof Date) return `time:${from.getTime()}`;
  if (from === undefined || from === null || from === '') return 'latest';
  return String(from);
}

// Closes after which reconnecting would only repeat the failure: the request is wrong (4400..4499, e.g. 4400 bad
// request, 4401/4403 not allowed, 4404 unknown topic; but not 4408 timeout or 4429 throttled) or the client broke
// the protocol (1002 protocol error, 1003 unsupported data, 1007 invalid payload, 1009 too big, 1010 extension).
// 1008 is retried: sluice sends it to a subscriber that stopped acknowledging for ws.idle.timeout.ms.
const FINAL_PROTOCOL_CLOSES = new Set([1002, 1003, 1007, 1009, 1010]);
const isFinalClose = (code) => FINAL_PROTOCOL_CLOSES.has(code) || (code >= 4400 && code < 4500 && code !== 4408 && code !== 4429);
// A server error whose error_code is a client error (4xx, or a 4xxxx Confluent-style code; not 408/429) is final
// too when the close frame that should follow it never arrived (1006: a proxy, or a server closing TCP first).
const isFinalError = (errorCode) => {
  const status = errorCode >= 10000 ? Math.floor(errorCode / 100) : errorCode;
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
};

/** Subscribes to topic over WebSocket; see the top of this file. Returns a Subscription. */
export function subscribe(topic, opts = {}) {
  return new Subscription(topic, { ...DEFAULTS, ...opts });
}

export class Subscription {
  constructor(topic, opts) {
    this.topic = topic;
    this.opts = opts;
    this.state = 'connecting';     // connecting | open | reconnecting | closed
    this.paused = false;
    this.next = new Map();         // partition -> offset after the last record delivered
    this.assigned = null;          // with a group: the partitions of the last assignment
    this._start = fromParam(opts.from);
    this._queue = [];              // received, not yet delivered: {gen, records}
    this._delivering = false;
    this._pendingCommit = new Map(); // group: delivered but not yet committed (socket was gone)
    this._attempt = 0;
    this._gen = 0;
    this._ws = null;
    this._timer = null;
    this.error = null;             // the permanent error that closed the subscription (see the top of this file)
    this._connect();
  }

  pause() { this.paused = true; }
  resume() {
    this.paused = false;
    if (this._waitingForResume) {
      this._waitingForResume = false;
      this._connect();
    }
    this._drain();
  }

  /** Stops for good: commits what was delivered (with a group), then closes the socket with 1000. */
  close() {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this._timer);
    const ws = this._ws;
    this._ws = null;
    this._queue = [];
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) {
        this._flushCommits(ws);
        ws.close(1000, 'closed by client');
      } else if (ws.readyState === WebSocket.CONNECTING) {
        ws.onopen = () => ws.close(1000, 'closed by client');
      }
    }
    this._status();
  }

  _status() { this.opts.onStatus?.(this.state, this); }
  _error(err) {
    if (this.opts.onError) this.opts.onError(err, this);
    else console.error('sluice:', err);
  }

  async _url() {
    const base = await wsBase(this.opts);
    const q = new URLSearchParams();
    const o = this.opts;
    if (o.group) q.set('group', o.group);
    if (o.partition !== undefined && o.partition !== null && o.partition !== '') q.set('partition', o.partition);
    if (o.format) q.set('format', o.format);
    if (o.maxInFlight) q.set('max_in_flight', o.maxInFlight);
    if (!o.group && this._start === 'latest' && !this._pinTried) {
      this._pinTried = true;
      await this._pinLatest();
    }
    let from = this._start;
    if (this._pinned && this.next.size) {
      // 'latest' pinned to known positions for every partition: the lowest one skips nothing we owe; the
      // seeks sent on open move each partition to its own position, and _drain drops what was delivered.
      from = String(Math.min(...this.next.values()));
    }
    q.set('from', from);
    return `${base}/ws/v1/topics/${encodeURIComponent(this.topic)}?${q}`;
  }

  // 'latest' is pinned to the end offsets of now, so that a reconnect resumes from there and not from the
  // end offsets of the reconnect. Needs REST (same origin or CORS); without it, 'latest' stays as it is.
  async _pinLatest() {
    try {
      const base = restBase(this.opts.url);
      const t = encodeURIComponent(this.topic);
      const topic = await restJson(base, 'GET', `/topics/${t}`);
      const parts = topic.partitions.map((p) => p.partition)
        .filter((p) => this.opts.partition === undefined || this.opts.partition === null ||
                       this.opts.partition === '' || p === Number(this.opts.partition));
      const ends = await Promise.all(parts.map((p) => restJson(base, 'GET', `/topics/${t}/partitions/${p}/offsets`)));
      parts.forEach((p, i) => this.next.set(p, ends[i].end_offset));
      this._pinned = true;
    } catch { /* keep 'latest' */ }
  }

  async _connect() {
    if (this.state === 'closed') return;
    const gen = ++this._gen;
    let url;
    try {
      url = await this._url();
    } catch (err) {
      this._error(err);
      return this._retry(gen);
    }
    if (this.state === 'closed' || gen !== this._gen) return;
    const ws = new WebSocket(url);
    this._ws = ws;
    ws.onopen = () => {
      if (gen !== this._gen) return;
      this.state = 'open';
      this._attempt = 0;
      this._status();
      // with a group, positions are settled when the assignment arrives (the cursors exist only then)
      if (!this.opts.group)
        for (const [partition, offset] of this.next) this._send(ws, { type: 'seek', partition, offset });
    };
    ws.onmessage = (ev) => {
      if (gen !== this._gen) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return this._error(new SluiceError(0, `not JSON: ${ev.data}`)); }
      this._onMessage(msg, gen);
    };
    ws.onclose = (ev) => {
      if (gen !== this._gen || this.state === 'closed') return;
      this._ws = null;
      if (isFinalClose(ev.code) || (ev.code === 1006 && this._finalError)) {
        this.state = 'closed';
        clearTimeout(this._timer);
        this.error = this._finalError || this._lastError ||
          new SluiceError(ev.code >= 4000 ? ev.code - 4000 : ev.code, ev.reason || `closed with ${ev.code}`);
        this.error.closeCode = ev.code;
        if (!this._sawError) this._error(this.error);
        this._status();
        return;
      }
      this._retry(gen);
    };
    ws.onerror = () => { /* onclose follows */ };
    this._sawError = false;
    this._lastError = null;
    this._finalError = null;
  }

  _retry(gen) {
    if (this.state === 'closed' || gen !== this._gen) return;
    this.state = 'reconnecting';
    this._status();
    if (!this.opts.wsUrl) infoCache.delete(restBase(this.opts.url)); // it may come back on another ws_port
    if (this.paused) {
      // a paused subscriber stops acking, and the server may close a socket whose window stays full:
      // reconnect when resumed rather than fill the window again
      this._waitingForResume = true;
      return;
    }
    const cap = Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** this._attempt++);
    const delay = cap / 2 + Math.random() * cap / 2; // "equal jitter": never 0, never in lock step
    this._timer = setTimeout(() => this._connect(), delay);
  }

  _onMessage(msg, gen) {
    switch (msg.type) {
      case 'records':
        this._queue.push({ gen, records: msg.records || [] });
        this._drain();
        break;
      case 'revoke': {
        // a rebalance takes these partitions: records of them not yet delivered are left to the next owner
        // (nothing of them was committed), what was delivered is committed, then the server is told
        const gone = (msg.partitions || []).map((p) => p.partition);
        for (const b of this._queue) b.records = b.records.filter((r) => !gone.includes(r.partition));
        this._revokePending = { ws: this._ws, partitions: msg.partitions || [] };
        if (!this._delivering) this._finishRevoke();
        break;
      }
      case 'assignment': {
        const entries = (msg.partitions || []).map((p) => (typeof p === 'object' ? p : { partition: p }));
        const parts = entries.map((e) => e.partition);
        this.assigned = parts;
        // positions of partitions now owned by another member are theirs to advance
        for (const p of [...this.next.keys()]) if (!parts.includes(p)) this.next.delete(p);
        for (const p of [...this._pendingCommit.keys()]) if (!parts.includes(p)) this._pendingCommit.delete(p);
        // delivered beyond what the group has committed (a commit lost with the old socket): commit it now
        // and move the cursor there, so nothing is delivered twice
        for (const e of entries) {
          const mine = this.next.get(e.partition);
          if (mine !== undefined && e.offset !== undefined && mine > e.offset) {
            if (this.opts.autoCommit) this._pendingCommit.set(e.partition, mine);
            this._send(this._ws, { type: 'seek', partition: e.partition, offset: mine });
          }
        }
        if (this._ws) this._flushCommits(this._ws);
        this.opts.onAssignment?.(msg.partitions || [], this);
        break;
      }
      case 'error': {
        const err = new SluiceError(msg.error_code, msg.message, msg);
        this._sawError = true;
        this._lastError = err;
        if (msg.id === undefined && isFinalError(msg.error_code)) this._finalError = err;
        this._error(err);
        break;
      }
      case 'committed':
        this.opts.onCommitted?.(msg, this);
        break;
      default:
        this.opts.onMessage?.(msg, this);
    }
  }

  // Delivers queued batches one at a time, in order, unless paused; acks each after its handler settles.
  async _drain() {
    if (this._delivering) return;
    this._delivering = true;
    try {
      while (!this.paused && this._queue.length && this.state !== 'closed') {
        const { gen, records } = this._queue.shift();
        const fresh = [];
        for (const r of records) {
          const want = this.next.get(r.partition);
          if (want !== undefined && r.offset < want) continue; // delivered already
          if (this.assigned && this.opts.group && !this.assigned.includes(r.partition)) continue;
          fresh.push(r);
          this.next.set(r.partition, r.offset + 1);
        }
        if (fresh.length) {
          try {
            await this.opts.onRecords?.(fresh, this);
          } catch (err) {
            this._error(err);
          }
        }
        this._ack(records, gen);
        if (this._revokePending) this._finishRevoke();
      }
    } finally {
      this._delivering = false;
      if (this._revokePending) this._finishRevoke();
    }
  }

  // After the batch being delivered (if any) was committed: commits the rest and answers the revoke.
  _finishRevoke() {
    const { ws, partitions } = this._revokePending;
    this._revokePending = null;
    if (ws !== this._ws || !ws || ws.readyState !== WebSocket.OPEN) return;
    this._flushCommits(ws);
    this.opts.onRevoke?.(partitions, this);
    this._send(ws, { type: 'revoked' });
  }

  // Acks every record of the batch (delivered now or before) on the socket it came from; with a group, the
  // positions are committed as well (commit also acks). Offsets are the next offset to read, as in Kafka.
  _ack(records, gen) {
    const last = new Map();
    for (const r of records) last.set(r.partition, Math.max(last.get(r.partition) ?? -1, r.offset));
    if (!last.size) return;
    const offsets = [...last].map(([partition, o]) => ({ topic: this.topic, partition, offset: o + 1 }));
    const ws = this._ws;
    const live = ws && ws.readyState === WebSocket.OPEN && gen === this._gen;
    if (this.opts.group && this.opts.autoCommit) {
      for (const o of offsets) this._pendingCommit.set(o.partition, o.offset);
      if (live) this._flushCommits(ws);
    } else if (live) {
      this._send(ws, { type: 'ack', offsets });
    }
  }

  _flushCommits(ws) {
    if (!this._pendingCommit.size) return;
    const offsets = [...this._pendingCommit].map(([partition, offset]) => ({ topic: this.topic, partition, offset }));
    this._pendingCommit.clear();
    this._send(ws, { type: 'commit', offsets });
  }

  _send(ws, msg) {
    try { ws.send(JSON.stringify(msg)); } catch { /* closing: onclose reconnects */ }
  }
}

// ---- produce ----

const producers = new Map(); // ws url -> Producer

class Producer {
  constructor(url) {
    this.url = url;
    this.pending = new Map(); // id -> {resolve, reject}
    this.seq = 0;
    this.ready = new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.onopen = () => resolve(this);
      ws.onerror = () => reject(new SluiceError(0, `cannot connect to ${url}`));
      ws.onmessage = (ev) => this._onMessage(ev.data);
      ws.onclose = (ev) => {
        producers.delete(url);
        const err = new SluiceError(ev.code >= 4000 ? ev.code - 4000 : 0,
          ev.reason || `produce socket closed (${ev.code})`);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
    });
  }

  _onMessage(data) {
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.type === 'ack') p.resolve(msg.offsets);
    else p.reject(new SluiceError(msg.error_code, msg.message, msg));
  }

  async send(records) {
    await this.ready;
    const id = `c${++this.seq}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, records }));
    });
  }
}

const toBase64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

// headers: [{key, value}] with value a string (sent base64) or {name: value}
function normHeaders(h) {
  if (!h) return undefined;
  const list = Array.isArray(h) ? h : Object.entries(h).map(([key, value]) => ({ key, value }));
  return list.map(({ key, value }) => ({ key, value: value === null || value === undefined ? null : toBase64(String(value)) }));
}

const REST_TYPES = {
  json: 'application/vnd.kafka.json.v2+json',
  string: 'application/vnd.kafka.text.v2+json',
  binary: 'application/vnd.kafka.binary.v2+json',
};

/**
 * Produces records to topic. records: [{key?, value, partition?, headers?}], values as the format says
 * (json: any JSON value; string: a string; binary: base64). headers: {name: "text"} or [{key, value}].
 * opts: {url, wsUrl, format: 'json'|'string'|'binary', transport: 'auto'|'ws'|'rest'}.
 * Resolves to the offsets, one per record, in order: [{partition, offset}] (a failed record carries
 * error_code/error instead); rejects with a SluiceError when the request fails as a whole.
 * 'auto' uses the WebSocket produce socket (one per topic, kept open) and falls back to REST when no
 * WebSocket connection can be made.
 */
export async function produce(topic, records, opts = {}) {
  const format = opts.format || 'json';
  const transport = opts.transport || 'auto';
  const recs = records.map((r) => ({ ...r, headers: normHeaders(r.headers) }));
  for (const r of recs) if (r.headers === undefined) delete r.headers;
  if (transport !== 'rest') {
    try {
      const url = `${await wsBase(opts)}/ws/v1/topics/${encodeURIComponent(topic)}/produce?format=${format}`;
      let p = producers.get(url);
      if (!p) producers.set(url, (p = new Producer(url)));
      try {
        await p.ready;
      } catch (err) {
        producers.delete(url);
        throw err;
      }
      const offsets = await p.send(recs);
      produce.lastTransport = 'ws';
      return offsets;
    } catch (err) {
      // a server answer (error_code from the produce socket) is final; only a connection failure falls back
      if (transport === 'ws' || (err instanceof SluiceError && err.error_code >= 400)) throw err;
    }
  }
  const res = await restJson(restBase(opts.url), 'POST', `/topics/${encodeURIComponent(topic)}`, { records: recs },
    REST_TYPES[format] || REST_TYPES.json);
  produce.lastTransport = 'rest';
  return res.offsets;
}
