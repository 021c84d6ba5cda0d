// REST calls of the console, and how their errors are shown: as the server wrote them.
import { info, SluiceError } from '../sluice.js';
import { h } from './dom.js';

export { SluiceError };

/** fetch + JSON; throws SluiceError with the server's error_code/message (and the raw body) on non-2xx. */
export async function rest(method, path, body, contentType = 'application/json') {
  const init = { method, headers: { Accept: 'application/json, application/vnd.kafka.v2+json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = contentType;
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new SluiceError(0, `The server did not answer (${err.message}).`);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* plain text */ }
  if (!res.ok) {
    throw new SluiceError(json?.error_code ?? res.status, json?.message ?? text,
      { status: res.status, statusText: res.statusText, body: text });
  }
  return json;
}

export const serverInfo = () => info();

/** Path under /v3/clusters/{cluster_id}. */
export async function v3(path) {
  const { cluster_id: cid } = await info();
  return `/v3/clusters/${encodeURIComponent(cid)}${path}`;
}

export const enc = encodeURIComponent;

/** The Prometheus text of /metrics as {name: [{labels, value}]}. */
export async function metrics() {
  const res = await fetch('/metrics');
  if (!res.ok) throw new SluiceError(res.status, await res.text());
  const out = {};
  for (const line of (await res.text()).split('\n')) {
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    (out[m[1]] ||= []).push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** Renders an error into the page's banner (or into el): "error_code message", then the raw body. */
export function showError(err, el = document.getElementById('error')) {
  if (!err) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  const code = err.error_code ?? '';
  el.replaceChildren(
    h('span', h('b', code ? `${err.status ? `HTTP ${err.status} · ` : ''}${code} ` : ''), err.message ?? String(err)),
    err.body ? h('code.raw', err.body) : null);
  el.hidden = false;
}
