// Topics: the list (partitions, log start/end offsets, size), create, delete with confirmation, and
// #topics/<name>: one topic's partitions and configs.
// Offsets and sizes come from GET /web/api/topics (api/rest/h_web.c); everything else from the v3 admin API.
import { enc, rest, showError, v3 } from './api.js';
import { fmtBytes, fmtList, fmtNum, h, parsePairs, table } from './dom.js';

const stats = () => rest('GET', '/web/api/topics').then((r) => new Map(r.topics.map((t) => [t.name, t])));

export function render(main, name) {
  return name ? renderDetail(main, name) : renderList(main);
}

async function renderList(main) {
  const list = h('div');
  const showInternal = h('input', { type: 'checkbox', onchange: refresh });
  main.append(h('h1', 'Topics'), createForm(refresh),
    h('div.row', h('h2.grow', 'All topics'), h('label.inline', showInternal, 'internal topics'),
      h('button', { onclick: refresh }, 'Refresh')),
    list);

  async function refresh() {
    try {
      const [topics, st] = await Promise.all([rest('GET', await v3('/topics')), stats()]);
      const rows = topics.data
        .filter((t) => showInternal.checked || !t.is_internal)
        .sort((a, b) => a.topic_name.localeCompare(b.topic_name))
        .map((t) => {
          const parts = st.get(t.topic_name)?.partitions ?? [];
          return [
            h('a', { href: `#topics/${enc(t.topic_name)}`, 'data-topic': t.topic_name }, t.topic_name),
            fmtNum(t.partitions_count),
            fmtList(parts.map((p) => p.log_start_offset)),
            fmtList(parts.map((p) => p.log_end_offset)),
            fmtBytes(parts.reduce((a, p) => a + p.size_bytes, 0)),
            t.is_internal ? h('span.muted', 'internal') :
              h('button.danger', { onclick: () => deleteTopic(t.topic_name, refresh), 'data-delete': t.topic_name }, 'Delete'),
          ];
        });
      list.replaceChildren(table([
        { label: 'Topic' }, { label: 'Partitions', num: true }, { label: 'Log start', num: true },
        { label: 'Log end', num: true }, { label: 'Size', num: true }, { label: '', cls: 'actions' },
      ], rows, 'No topics yet: create one above.'));
    } catch (err) {
      showError(err);
    }
  }
  await refresh();
  const timer = setInterval(() => { if (!document.querySelector('dialog[open]')) refresh(); }, 5000);
  return () => clearInterval(timer);
}

function createForm(onCreated) {
  const name = h('input', { name: 'topic_name', required: true, pattern: '[a-zA-Z0-9._\\-]{1,249}', placeholder: 'orders' });
  const parts = h('input', { name: 'partitions_count', type: 'number', min: 1, value: '1' });
  const configs = h('textarea', { name: 'configs', rows: 2, placeholder: 'retention.ms=86400000\ncleanup.policy=delete' });
  const result = h('span.muted');
  const form = h('form.grid#create-topic', {
    async onsubmit(ev) {
      ev.preventDefault();
      try {
        const body = {
          topic_name: name.value.trim(),
          partitions_count: Number(parts.value) || 1,
          configs: parsePairs(configs.value).map(([n, value]) => ({ name: n, value })),
        };
        const t = await rest('POST', await v3('/topics'), body);
        result.textContent = `Created ${t.topic_name} with ${t.partitions_count} partition(s).`;
        showError(null);
        form.reset();
        onCreated();
      } catch (err) {
        result.textContent = '';
        showError(err);
      }
    },
  },
  h('label', 'Name', name), h('label', 'Partitions', parts),
  h('label.wide', 'Configs (name=value, one per line)', configs),
  h('div.row.wide', h('button.primary', { type: 'submit' }, 'Create topic'), result));
  return h('div.card', form);
}

/** Asks for the topic's name in the confirmation dialog, then DELETEs it. */
export async function deleteTopic(name, then) {
  const dlg = document.getElementById('confirm');
  const input = document.getElementById('confirm-input');
  const ok = document.getElementById('confirm-ok');
  document.getElementById('confirm-text').textContent =
    `Delete topic "${name}" and all its records? This cannot be undone.`;
  document.getElementById('confirm-word').textContent = name;
  input.value = '';
  ok.disabled = true;
  input.oninput = () => { ok.disabled = input.value !== name; };
  dlg.returnValue = '';
  dlg.showModal();
  await new Promise((resolve) => dlg.addEventListener('close', resolve, { once: true }));
  if (dlg.returnValue !== 'ok' || input.value !== name) return;
  try {
    await rest('DELETE', await v3(`/topics/${enc(name)}`));
    showError(null);
    then?.();
  } catch (err) {
    showError(err);
  }
}

async function renderDetail(main, name) {
  const body = h('div');
  main.append(h('p', h('a', { href: '#topics' }, '← Topics')), h('h1', 'Topic ', h('code', name)),
    h('div.row',
      h('a', { href: `#produce/${enc(name)}` }, 'Produce to it'), '·',
      h('a', { href: `#tail/${enc(name)}` }, 'Tail it live'), '·',
      h('button.danger', { onclick: () => deleteTopic(name, () => { location.hash = '#topics'; }) }, 'Delete…')),
    body);

  async function refresh() {
    const [topic, parts, configs, st] = await Promise.all([
      rest('GET', await v3(`/topics/${enc(name)}`)),
      rest('GET', await v3(`/topics/${enc(name)}/partitions`)),
      rest('GET', await v3(`/topics/${enc(name)}/configs`)),
      stats(),
    ]);
    const pst = new Map((st.get(name)?.partitions ?? []).map((p) => [p.partition, p]));
    body.replaceChildren(
      h('p.muted', `${topic.partitions_count} partition(s), replication factor ${topic.replication_factor}`,
        topic.is_internal ? ', internal' : ''),
      h('h2', 'Partitions'),
      table([
        { label: 'Partition', num: true }, { label: 'Leader', num: true }, { label: 'Log start', num: true },
        { label: 'Log end', num: true }, { label: 'High watermark', num: true, narrow: false },
        { label: 'Records', num: true }, { label: 'Size', num: true }, { label: 'Segments', num: true, narrow: false },
      ], parts.data.map((p) => {
        const s = pst.get(p.partition_id) ?? {};
        const leader = p.leader?.related?.match(/\/replicas\/(\d+)$/)?.[1] ?? '—';
        return [p.partition_id, leader, fmtNum(s.log_start_offset), fmtNum(s.log_end_offset),
          fmtNum(s.high_watermark), fmtNum(s.log_end_offset - s.log_start_offset), fmtBytes(s.size_bytes),
          s.failed ? h('span.pill.warn', 'failed') : fmtNum(s.segments)];
      })),
      h('h2', 'Configs'),
      table([{ label: 'Name' }, { label: 'Value' }, { label: 'Source', narrow: false }],
        configs.data.map((c) => [h('code', c.name), h('code', c.value ?? 'null'),
          h('span', { class: c.is_default ? 'muted' : '' }, c.source)])),
      configForm(name, refresh));
  }
  await refresh();
}

function configForm(topic, onDone) {
  const name = h('input', { required: true, placeholder: 'retention.ms' });
  const value = h('input', { placeholder: 'empty = reset to the default' });
  return h('form.grid.card', {
    style: 'margin-top: .75rem',
    async onsubmit(ev) {
      ev.preventDefault();
      const op = value.value === '' ? { name: name.value, operation: 'DELETE' } : { name: name.value, value: value.value };
      try {
        await rest('POST', await v3(`/topics/${enc(topic)}/configs:alter`), { data: [op] });
        showError(null);
        onDone();
      } catch (err) {
        showError(err);
      }
    },
  }, h('label', 'Config', name), h('label', 'Value', value), h('button', { type: 'submit' }, 'Set config'));
}
