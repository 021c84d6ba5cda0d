// The console's entry point: a hash router over the pages in js/. Each page module exports
// render(main, ...params), which fills main and may return a cleanup function (timers, sockets).
import { serverInfo, showError } from './js/api.js';
import * as overview from './js/overview.js';
import * as topics from './js/topics.js';
import * as produce from './js/produce.js';
import * as tail from './js/tail.js';
import * as groups from './js/groups.js';
import * as brokers from './js/brokers.js';

const pages = { overview, topics, produce, tail, groups, brokers };
const main = document.getElementById('page');
let cleanup = null;

async function route() {
  const [name = 'overview', ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = pages[name] ? name : 'overview';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  if (cleanup) cleanup();
  cleanup = null;
  showError(null);
  main.replaceChildren();
  main.dataset.page = page;
  try {
    cleanup = (await pages[page].render(main, ...params.filter(Boolean))) || null;
  } catch (err) {
    showError(err);
  }
}

async function header() {
  try {
    const i = await serverInfo();
    document.getElementById('server').textContent = `node ${i.node_id} · ${i.cluster_id} · v${i.version}`;
  } catch (err) {
    showError(err);
  }
}

window.addEventListener('hashchange', route);
header();
route();
