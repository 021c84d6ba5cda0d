// Produce: one record (key, value as JSON or text, headers, partition) through sluice.js's produce (the
// WebSocket produce socket, REST as the fallback), and the offsets each send got.
import { produce } from '../sluice.js';
import { rest, showError, v3 } from './api.js';
import { h, parsePairs } from './dom.js';

/** A <select> of the non-internal topics (and a placeholder), preselecting `selected`. */
export async function topicSelect(selected, attrs = {}) {
  const list = await rest('GET', await v3('/topics'));
  const names = list.data.filter((t) => !t.is_internal).map((t) => t.topic_name).sort();
  return h('select', { required: true, ...attrs },
    h('option', { value: '' }, names.length ? '— topic —' : '(no topics yet)'),
    names.map((n) => h('option', { value: n, selected: n === selected }, n)));
}

export async function render(main, topic) {
  const sel = await topicSelect(topic, { name: 'topic' });
  const partition = h('input', { name: 'partition', type: 'number', min: 0, placeholder: 'auto (by key)' });
  const key = h('input', { name: 'key', placeholder: 'none' });
  const kind = h('select', { name: 'kind' }, h('option', { value: 'json' }, 'JSON'), h('option', { value: 'string' }, 'Text'));
  const value = h('textarea', { name: 'value', rows: 5, required: true, placeholder: '{"order": 1, "total": 9.5}' });
  const headers = h('textarea', { name: 'headers', rows: 2, placeholder: 'source=console\ntrace-id=abc' });
  const results = h('tbody');
  const resultTable = h('div.table-wrap', { hidden: true }, h('table',
    h('thead', h('tr', h('th', 'Time'), h('th', 'Topic'), h('th.num', 'Partition'), h('th.num', 'Offset'), h('th', 'Via'))),
    results));

  const form = h('form.grid#produce-form', {
    async onsubmit(ev) {
      ev.preventDefault();
      try {
        const format = kind.value;
        let v = value.value;
        if (format === 'json') {
          try { v = JSON.parse(v); } catch (e) { throw new Error(`The value is not valid JSON: ${e.message}`); }
        }
        const rec = { value: v };
        if (key.value !== '') rec.key = key.value;
        if (partition.value !== '') rec.partition = Number(partition.value);
        const hdrs = parsePairs(headers.value);
        if (hdrs.length) rec.headers = hdrs.map(([k, val]) => ({ key: k, value: val }));
        const offsets = await produce(sel.value, [rec], { format });
        const o = offsets[0] ?? {};
        if (o.error_code) throw Object.assign(new Error(o.error ?? o.message), { error_code: o.error_code });
        results.prepend(h('tr', { 'data-offset': o.offset, 'data-partition': o.partition },
          h('td', new Date().toLocaleTimeString()), h('td', sel.value),
          h('td.num', o.partition), h('td.num', o.offset), h('td', produce.lastTransport === 'ws' ? 'WebSocket' : 'REST')));
        resultTable.hidden = false;
        showError(null);
      } catch (err) {
        showError(err);
      }
    },
  },
  h('label', 'Topic', sel), h('label', 'Partition', partition), h('label', 'Key (text)', key),
  h('label', 'Value is', kind),
  h('label.wide', 'Value', value),
  h('label.wide', 'Headers (name=value, one per line)', headers),
  h('div.row.wide', h('button.primary', { type: 'submit' }, 'Send')));

  main.append(h('h1', 'Produce'), h('div.card', form), h('h2', 'Sent'), resultTable);
}
