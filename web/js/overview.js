// Overview: who this node is, how long it has run, how many topics, and records/s in and out
// (the difference of two /metrics samples, refreshed every 2 s while the page is open).
import { metrics, rest, serverInfo, showError, v3 } from './api.js';
import { fmtDuration, fmtNum, h, stat } from './dom.js';

const sum = (m, name) => (m[name] || []).reduce((a, s) => a + s.value, 0);

export async function render(main) {
  const info = await serverInfo();
  const grid = h('div.stats',
    stat('Node id', info.node_id, 'node'),
    stat('Cluster id', info.cluster_id, 'cluster', true),
    stat('Version', info.version, 'version'),
    stat('Uptime', '…', 'uptime'),
    stat('Topics', '…', 'topics'),
    stat('Records/s in', '…', 'rate-in'),
    stat('Records/s out', '…', 'rate-out'),
    stat('Ports', `REST ${info.rest_port} · WS ${info.ws_port || 'off'}`, 'ports', true));
  main.append(h('h1', 'Overview'), grid,
    h('p.muted', 'Rates are the change of sluice_topic_records_in_total and _out_total between two /metrics samples.'));
  const set = (id, v) => { grid.querySelector(`[data-stat="${id}"]`).textContent = v; };

  let prev = null;
  async function tick() {
    try {
      const [m, list] = await Promise.all([metrics(), rest('GET', await v3('/topics'))]);
      const now = performance.now();
      const cur = { t: now, in: sum(m, 'sluice_topic_records_in_total'), out: sum(m, 'sluice_topic_records_out_total') };
      set('uptime', fmtDuration(m.sluice_uptime_seconds?.[0]?.value ?? 0));
      set('topics', fmtNum(list.data.filter((t) => !t.is_internal).length));
      if (prev) {
        const dt = (cur.t - prev.t) / 1000;
        set('rate-in', fmtNum(Math.max(0, (cur.in - prev.in) / dt).toFixed(1)));
        set('rate-out', fmtNum(Math.max(0, (cur.out - prev.out) / dt).toFixed(1)));
      }
      prev = cur;
      showError(null);
    } catch (err) {
      showError(err);
    }
  }
  await tick();
  const first = setTimeout(tick, 1000); // a first rate soon, then every 2 s
  const timer = setInterval(tick, 2000);
  return () => { clearTimeout(first); clearInterval(timer); };
}
