// Tiny DOM helpers shared by the console's pages.

/** h('tag.class#id', {attr: v, onclick: fn}, ...children): an element; strings become text nodes. */
export function h(spec, attrs = {}, ...children) {
  const [, tag = 'div', rest = ''] = spec.match(/^([a-z0-9]*)(.*)$/i);
  const el = document.createElement(tag || 'div');
  for (const m of rest.matchAll(/([.#])([\w-]+)/g)) {
    if (m[1] === '.') el.classList.add(m[2]);
    else el.id = m[2];
  }
  if (attrs === null || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A table: columns [{label, num?, narrow?}], rows of cells (nodes or text). */
export function table(columns, rows, emptyText = 'Nothing here yet.') {
  if (!rows.length) return h('div.table-wrap', h('div.empty', emptyText));
  const cls = (c) => [c.num && 'num', c.narrow === false && 'hide-narrow', c.cls].filter(Boolean).join(' ') || undefined;
  return h('div.table-wrap', h('table',
    h('thead', h('tr', columns.map((c) => h('th', { class: cls(c) }, c.label)))),
    h('tbody', rows.map((r) => h('tr', r.map((cell, i) => h('td', { class: cls(columns[i]) }, cell)))))));
}

export function stat(label, value, id, small = false) {
  return h('div.stat', h('div.label', label), h('div.value', { 'data-stat': id, class: small ? 'value small' : 'value' }, value));
}

export const fmtNum = (n) => (n === undefined || n === null ? '—' : Number(n).toLocaleString('en-US'));

export function fmtBytes(n) {
  if (n === undefined || n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function fmtDuration(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return [d && `${d}d`, (d || hh) && `${hh}h`, (d || hh || m) && `${m}m`, `${s % 60}s`].filter(Boolean).join(' ');
}

/** Compact list of per-partition values: "0, 4, 9" or "0 … 12 (16 partitions)". */
export function fmtList(values) {
  if (values.length <= 4) return values.map(fmtNum).join(', ');
  return `${fmtNum(Math.min(...values))} … ${fmtNum(Math.max(...values))}`;
}

/** Parses "name=value" (or "name: value") lines into [[name, value]]; blank lines and # comments skipped. */
export function parsePairs(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const m = t.match(/^([^=:]+?)\s*[=:]\s*(.*)$/);
    if (!m) throw new Error(`expected name=value, got "${t}"`);
    out.push([m[1], m[2]]);
  }
  return out;
}
