// Consumer groups: the list (state, members, total lag) and #groups/<id>: members with their assigned
// partitions, and committed offset, log end and lag per partition (v3 consumer-groups, consumers, lags).
// Refreshed every 3 s while open.
import { enc, rest, showError, v3 } from './api.js';
import { fmtNum, h, table } from './dom.js';

export async function render(main, id) {
  const body = h('div');
  // Element.append renders null as the text "null": the back link is added only on the detail page.
  if (id) main.append(h('p', h('a', { href: '#groups' }, '← Consumer groups')));
  main.append(h('h1', id ? ['Consumer group ', h('code', id)] : 'Consumer groups'), body);
  const refresh = async () => {
    try {
      body.replaceChildren(...(id ? await detail(id) : await list()));
      showError(null);
    } catch (err) {
      showError(err);
    }
  };
  await refresh();
  const timer = setInterval(refresh, 3000);
  return () => clearInterval(timer);
}

async function list() {
  const groups = await rest('GET', await v3('/consumer-groups'));
  const rows = await Promise.all(groups.data.map(async (g) => {
    const gid = g.consumer_group_id;
    const [members, lag] = await Promise.all([
      rest('GET', await v3(`/consumer-groups/${enc(gid)}/consumers`)).catch(() => null),
      rest('GET', await v3(`/consumer-groups/${enc(gid)}/lag-summary`)).catch(() => null),
    ]);
    return [h('a', { href: `#groups/${enc(gid)}`, 'data-group': gid }, gid), g.state, g.partition_assignor,
      members ? fmtNum(members.data.length) : '—', lag ? fmtNum(lag.total_lag) : '—',
      lag ? fmtNum(lag.max_lag) : '—'];
  }));
  return [table([{ label: 'Group' }, { label: 'State' }, { label: 'Assignor', narrow: false },
    { label: 'Members', num: true }, { label: 'Total lag', num: true }, { label: 'Max lag', num: true, narrow: false }],
  rows, 'No consumer groups yet: they appear when a REST consumer or a WebSocket subscriber with group= joins.')];
}

async function detail(id) {
  const [group, members, lags] = await Promise.all([
    rest('GET', await v3(`/consumer-groups/${enc(id)}`)),
    rest('GET', await v3(`/consumer-groups/${enc(id)}/consumers`)),
    rest('GET', await v3(`/consumer-groups/${enc(id)}/lags`)),
  ]);
  const byMember = new Map();
  for (const l of lags.data) {
    if (!l.consumer_id) continue;
    const a = byMember.get(l.consumer_id) ?? [];
    a.push(`${l.topic_name}/${l.partition_id}`);
    byMember.set(l.consumer_id, a);
  }
  const total = lags.data.reduce((a, l) => a + (l.lag > 0 ? l.lag : 0), 0);
  return [
    h('p.muted', `state ${group.state} · assignor ${group.partition_assignor} · total lag `,
      h('b#total-lag', fmtNum(total))),
    h('h2', 'Members'),
    table([{ label: 'Consumer' }, { label: 'Instance', narrow: false }, { label: 'Client', narrow: false },
      { label: 'Assigned partitions' }],
    members.data.map((m) => [h('code', m.consumer_id), m.instance_id ?? '—', m.client_id || '—',
      (byMember.get(m.consumer_id) ?? []).join(', ') || h('span.muted', 'none')]),
    'No live members.'),
    h('h2', 'Lag per partition'),
    table([{ label: 'Topic' }, { label: 'Partition', num: true }, { label: 'Committed', num: true },
      { label: 'Log end', num: true }, { label: 'Lag', num: true }, { label: 'Consumer', narrow: false }],
    lags.data.map((l) => [h('a', { href: `#topics/${enc(l.topic_name)}` }, l.topic_name), l.partition_id,
      fmtNum(l.current_offset), fmtNum(l.log_end_offset),
      h('b', { 'data-lag': `${l.topic_name}/${l.partition_id}` }, fmtNum(l.lag)), l.consumer_id || '—'])),
  ];
}
