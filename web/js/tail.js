// Live tail: records of one topic pushed over WebSocket (sluice.js subscribe), from earliest, latest, an
// offset or a time; pause/resume (flow control: the server stops at its in-flight window), a filter box,
// a rate indicator, and JSON values pretty-printed. Keeps the newest MAX_ROWS records on screen.
import { subscribe } from '../sluice.js';
import { showError } from './api.js';
import { h } from './dom.js';
import { topicSelect } from './produce.js';

const MAX_ROWS = 500;

function pretty(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    try {
      const j = JSON.parse(v);
      if (j !== null && typeof j === 'object') return JSON.stringify(j, null, 2);
    } catch { /* plain text */ }
    return v;
  }
  return JSON.stringify(v, null, 2);
}

const headerText = (hs) => (hs || []).map((x) => {
  let v = x.value;
  try { v = v === null ? 'null' : new TextDecoder().decode(Uint8Array.from(atob(v), (c) => c.charCodeAt(0))); } catch { /* keep */ }
  return `${x.key}=${v}`;
}).join(' ');

export async function render(main, topic) {
  const sel = await topicSelect(topic, { name: 'topic' });
  const start = h('select', { name: 'start' }, ['latest', 'earliest', 'offset', 'time'].map((s) => h('option', { value: s }, s)));
  const offset = h('input', { name: 'offset', type: 'number', min: 0, value: '0', hidden: true });
  const time = h('input', { name: 'time', type: 'datetime-local', step: 1, hidden: true });
  const partition = h('input', { name: 'partition', type: 'number', min: 0, placeholder: 'all' });
  const group = h('input', { name: 'group', placeholder: 'none (no commits)' });
  const format = h('select', { name: 'format' }, ['json', 'string', 'binary'].map((f) => h('option', { value: f }, f)));
  start.onchange = () => { offset.hidden = start.value !== 'offset'; time.hidden = start.value !== 'time'; };

  const startBtn = h('button.primary', { type: 'submit' }, 'Start');
  const pauseBtn = h('button#pause', { type: 'button', disabled: true }, 'Pause');
  const filter = h('input.grow#filter', { type: 'search', placeholder: 'Filter: text in key, value or headers' });
  const status = h('span.pill#tail-status', 'stopped');
  const rate = h('span.muted#rate', '0 rec/s');
  const count = h('span.muted#count', '0 records');
  const list = h('div.records#records');

  let sub = null;
  let received = 0;
  const arrivals = []; // timestamps of recent records, for the rate
  const timer = setInterval(() => {
    const now = performance.now();
    while (arrivals.length && now - arrivals[0] > 5000) arrivals.shift();
    rate.textContent = `${(arrivals.length / 5).toFixed(1)} rec/s`;
  }, 500);

  const matches = (el) => !filter.value || el.dataset.text.toLowerCase().includes(filter.value.toLowerCase());
  filter.oninput = () => { for (const el of list.children) el.hidden = !matches(el); };

  function show(records) {
    const now = performance.now();
    for (const r of records) {
      arrivals.push(now);
      const value = pretty(r.value);
      const hdrs = headerText(r.headers);
      const el = h('div.record', { dataset: { partition: r.partition, offset: r.offset } },
        h('div.meta', h('span', 'partition ', h('b', r.partition)), h('span', 'offset ', h('b', r.offset)),
          h('span', new Date(r.timestamp).toISOString()),
          r.key !== null && r.key !== undefined ? h('span', 'key ', h('b', typeof r.key === 'string' ? r.key : JSON.stringify(r.key))) : null,
          hdrs ? h('span', 'headers ', h('b', hdrs)) : null),
        h('pre', value));
      el.dataset.text = `${JSON.stringify(r.key)} ${value} ${hdrs}`;
      el.hidden = !matches(el);
      list.prepend(el);
    }
    while (list.children.length > MAX_ROWS) list.lastChild.remove();
    received += records.length;
    count.textContent = `${received} records`;
  }

  function stop() {
    sub?.close();
    sub = null;
    startBtn.textContent = 'Start';
    pauseBtn.disabled = true;
    pauseBtn.textContent = 'Pause';
    status.textContent = 'stopped';
    status.className = 'pill';
  }

  const form = h('form.grid#tail-form', {
    onsubmit(ev) {
      ev.preventDefault();
      if (sub) return stop();
      showError(null);
      let from = start.value;
      if (from === 'offset') from = offset.value || '0';
      if (from === 'time') from = time.value ? `time:${new Date(time.value).getTime()}` : `time:${Date.now()}`;
      list.replaceChildren();
      received = 0;
      count.textContent = '0 records';
      sub = subscribe(sel.value, {
        from,
        partition: partition.value === '' ? undefined : Number(partition.value),
        group: group.value || undefined,
        format: format.value,
        onRecords: show,
        onAssignment: (ps) => { status.title = `assigned partitions ${ps.map((p) => p.partition ?? p).join(', ')}`; },
        onError: (err) => showError(err),
        onStatus: (s) => {
          status.textContent = s === 'open' ? (sub?.paused ? 'paused' : 'live') : s;
          status.className = `pill ${s === 'open' ? 'live' : s === 'closed' ? '' : 'warn'}`;
          if (s === 'closed' && sub) { sub = null; startBtn.textContent = 'Start'; pauseBtn.disabled = true; }
        },
      });
      startBtn.textContent = 'Stop';
      pauseBtn.disabled = false;
    },
  },
  h('label', 'Topic', sel), h('label', 'Start at', start, offset, time), h('label', 'Partition', partition),
  h('label', 'Group', group), h('label', 'Format', format),
  h('div.row.wide', startBtn, pauseBtn, status, rate, count));

  pauseBtn.onclick = () => {
    if (!sub) return;
    if (sub.paused) sub.resume(); else sub.pause();
    pauseBtn.textContent = sub.paused ? 'Resume' : 'Pause';
    if (sub.state === 'open') status.textContent = sub.paused ? 'paused' : 'live';
  };

  main.append(h('h1', 'Live tail'), h('div.card', form), h('div.row', filter), h('p'), list);
  if (topic) form.requestSubmit();
  return () => { clearInterval(timer); stop(); };
}
