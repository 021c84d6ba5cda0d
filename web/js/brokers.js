// Brokers: the cluster's nodes as the metadata quorum knows them (v3 brokers: host, REST / WebSocket /
// cluster ports, live or fenced, which one is the controller), and this node's view of the quorum
// (/v1/info quorum: role, term, commit and applied index). Refreshed every 3 s while open.
import { rest, showError, v3 } from './api.js';
import { fmtNum, h, table } from './dom.js';

export async function render(main) {
  const body = h('div');
  main.append(h('h1', 'Brokers'), body);
  const refresh = async () => {
    try {
      body.replaceChildren(...(await view()));
      showError(null);
    } catch (err) {
      showError(err);
    }
  };
  await refresh();
  const timer = setInterval(refresh, 3000);
  return () => clearInterval(timer);
}

async function view() {
  const [brokers, info] = await Promise.all([rest('GET', await v3('/brokers')), rest('GET', '/v1/info')]);
  const q = info.quorum;
  const rows = brokers.data.map((b) => [
    h('span', { 'data-broker': String(b.broker_id) }, String(b.broker_id)),
    b.host, String(b.port), String(b.ws_port), b.cluster_port ? String(b.cluster_port) : '—',
    h(b.state === 'live' ? 'span.ok' : 'span.pill.warn', { 'data-state': b.state }, b.state),
    b.is_controller ? h('b', { 'data-controller': 'yes' }, 'controller') : '',
  ]);
  return [
    h('p.muted', q
      ? `node ${info.node_id} is ${q.role} of the metadata quorum · term ${fmtNum(q.term)} · commit ${fmtNum(q.commit_index)}` +
        ` · applied ${fmtNum(q.applied_index)}`
      : `a one-node cluster: node ${info.node_id}, no metadata quorum (controller.quorum.voters is empty)`),
    table([{ label: 'Id' }, { label: 'Host' }, { label: 'REST', num: true }, { label: 'WebSocket', num: true, narrow: false },
      { label: 'Cluster', num: true, narrow: false }, { label: 'State' }, { label: 'Role' }],
    rows, 'No broker has registered yet.'),
  ];
}
