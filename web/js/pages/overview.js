// overview.js - deliveries, success rate, latency, queue depth, inbound
// events and failing endpoints over the last hour or day, from
// GET /api/v1/stats, refreshed when the event stream reports activity.

import { ApiError, enc, get, getAll } from '../api.js';
import { clear, empty, errorBox, fmtNum, fmtPct, h, table, timeEl } from '../dom.js';
import * as live from '../live.js';

const RANGES = { hour: 3600, day: 86400 };
const COLORS = { ok: '#15803d', fail: '#b91c1c', retry: '#b45309', p50: '#1d4ed8', p99: '#7c3aed', inbound: '#0e7490' };
let range = 'hour';

function chart(title, series, desc) {
  const box = h('div', { class: 'chart-box' });
  const fig = h('figure', { class: 'card chart' },
    h('figcaption', {}, h('h2', {}, title)), box,
    h('p', { class: 'sr-only chart-summary' }, desc || ''));
  return { fig, box, series, plot: null };
}

function draw(c, xs, ys, summary) {
  c.fig.querySelector('.chart-summary').textContent = summary;
  const data = [xs, ...ys];
  const width = Math.max(240, c.box.clientWidth || 300);
  if (!window.uPlot) {
    clear(c.box, h('p', { class: 'muted' }, 'The chart library did not load.'));
    return;
  }
  if (c.plot) {
    c.plot.setData(data);
    return;
  }
  c.plot = new window.uPlot({
    width,
    height: 180,
    series: [{}, ...c.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: s.fill, spanGaps: false,
      // series with gaps (rate, latency) mark lone minutes, which a line alone would not show
      points: s.gaps ? { show: true, size: 5, fill: s.color } : {},
      value: (u, v) => (v === null || v === undefined ? '—' : s.fmt ? s.fmt(v) : fmtNum(v, 1)) }))],
    axes: [{}, { size: 50, values: (u, vals) => vals.map((v) => (c.series[0].fmt ? c.series[0].fmt(v) : fmtNum(v, 1))) }],
    scales: c.series[0].range ? { y: { range: c.series[0].range } } : {},
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  }, data, c.box);
}

function tile(label, value, sub) {
  return h('div', { class: 'card tile' }, h('div', { class: 'tile-label' }, label),
    h('div', { class: 'tile-value' }, value), sub ? h('div', { class: 'tile-sub' }, sub) : null);
}

export async function overview(root) {
  const rangeButtons = Object.keys(RANGES).map((r) => h('button', {
    type: 'button', class: 'seg', 'aria-pressed': String(r === range),
    onclick: () => { range = r; rangeButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.r === range))); load(); },
    dataset: { r },
  }, r === 'hour' ? 'Last hour' : 'Last day'));
  const tiles = h('div', { class: 'tiles' });
  const charts = {
    deliveries: chart('Deliveries per minute', [
      { label: 'Succeeded', color: COLORS.ok }, { label: 'Failed', color: COLORS.fail }, { label: 'Retrying', color: COLORS.retry }]),
    rate: chart('Success rate', [{ label: 'Success rate', color: COLORS.ok, gaps: true, fmt: (v) => `${fmtNum(v)} %`, range: [0, 100] }]),
    latency: chart('Delivery latency (ms)', [{ label: 'p50', color: COLORS.p50, gaps: true }, { label: 'p99', color: COLORS.p99, gaps: true }]),
    inbound: chart('Inbound events per minute', [{ label: 'Inbound', color: COLORS.inbound }]),
  };
  const chartGrid = h('div', { class: 'charts' }, Object.values(charts).map((c) => c.fig));
  const failing = h('section', { class: 'card', 'aria-labelledby': 'failing-h' }, h('h2', { id: 'failing-h' }, 'Failing endpoints'));
  const apps = h('section', { class: 'card', 'aria-labelledby': 'apps-h' }, h('h2', { id: 'apps-h' }, 'Applications'));
  const feed = h('ol', { class: 'feed', 'aria-label': 'Latest activity' });
  const activity = h('section', { class: 'card', 'aria-labelledby': 'feed-h' }, h('h2', { id: 'feed-h' }, 'Live activity'), feed,
    h('p', { class: 'muted feed-empty' }, 'Nothing yet. New messages, attempts and inbound events show here as they happen.'));
  const statsNote = h('div');

  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview'),
      h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' }, rangeButtons)),
    statsNote, tiles, chartGrid,
    h('div', { class: 'two-col' }, apps, h('div', {}, failing, activity)));

  async function loadApps() {
    try {
      const list = await getAll('/app', {}, 250);
      clear(apps, h('h2', { id: 'apps-h' }, 'Applications'),
        list.length ? h('ul', { class: 'link-list' }, list.map((a) => h('li', {},
          h('a', { href: `#/app/${enc(a.id)}` }, a.name || a.uid || a.id),
          ' ', h('code', { class: 'muted' }, a.uid || a.id))))
          : empty('No applications yet.', h('a', { href: '#/apps' }, 'Create one')));
    } catch (e) {
      apps.append(errorBox(e));
    }
  }

  async function load() {
    const until = new Date();
    const since = new Date(until.getTime() - RANGES[range] * 1000);
    let st;
    try {
      st = await get('/stats', { since: since.toISOString(), until: until.toISOString(), bucket: 60 });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        clear(statsNote, h('div', { class: 'notice-inline' }, 'This server does not report statistics yet (no ',
          h('code', {}, 'GET /api/v1/stats'), '). Applications and live activity still work.'));
        chartGrid.hidden = true;
        tiles.hidden = true;
        failing.hidden = true;
        return;
      }
      clear(statsNote, errorBox(e));
      return;
    }
    clear(statsNote);
    chartGrid.hidden = tiles.hidden = failing.hidden = false;
    const b = st.buckets || [];
    const xs = b.map((x) => Math.floor(new Date(x.start).getTime() / 1000));
    const col = (k) => b.map((x) => (x[k] === undefined ? null : x[k]));
    const sum = (k) => b.reduce((a, x) => a + (x[k] || 0), 0);
    const ok = sum('succeeded');
    const bad = sum('failed');
    const retry = sum('retrying');
    const inb = sum('inbound');
    const rate = b.map((x) => (x.succeeded + x.failed > 0 ? (100 * x.succeeded) / (x.succeeded + x.failed) : null));
    // a minute without attempts has no latency (the server reports 0 there)
    const busyMin = (x) => (x.succeeded || 0) + (x.failed || 0) + (x.retrying || 0) > 0;
    const lat = (k) => b.map((x) => (busyMin(x) && typeof x[k] === 'number' ? x[k] : null));
    const lastLat = [...b].reverse().find(busyMin) || {};
    const q = st.queue || {};
    const depth = (q.due || 0) + (q.scheduled || 0) + (q.inflight || 0);
    const minutes = Math.max(1, b.length);
    const fe = st.failingEndpoints || [];
    const feKnown = Array.isArray(st.failingEndpoints);
    clear(tiles,
      tile('Success rate', fmtPct(ok + bad ? ok / (ok + bad) : null), `${fmtNum(ok)} ok · ${fmtNum(bad)} failed · ${fmtNum(retry)} retrying`),
      tile('Latency p50 / p99', lastLat.p50Ms !== undefined ? `${fmtNum(lastLat.p50Ms)} / ${fmtNum(lastLat.p99Ms)} ms` : '—', 'latest minute with deliveries'),
      tile('Queue depth', fmtNum(depth), `${fmtNum(q.due)} due · ${fmtNum(q.scheduled)} scheduled · ${fmtNum(q.inflight)} in flight`),
      tile('Inbound events', fmtNum(inb), `${fmtNum(inb / minutes, 2)} a minute on average`),
      feKnown ? tile('Failing endpoints', fmtNum(fe.length), fe.length ? 'see the list below' : 'all healthy') : null);
    draw(charts.deliveries, xs, [col('succeeded'), col('failed'), col('retrying')],
      `${ok} succeeded, ${bad} failed, ${retry} retrying in the last ${range}.`);
    draw(charts.rate, xs, [rate], `Overall success rate ${fmtPct(ok + bad ? ok / (ok + bad) : null)}.`);
    draw(charts.latency, xs, [lat('p50Ms'), lat('p99Ms')], `Latest p50 ${fmtNum(lastLat.p50Ms)} ms, p99 ${fmtNum(lastLat.p99Ms)} ms.`);
    draw(charts.inbound, xs, [col('inbound')], `${inb} inbound events in the last ${range}.`);
    clear(failing, h('h2', { id: 'failing-h' }, 'Failing endpoints'),
      fe.length ? table(['Endpoint', 'Application', 'Failures', 'Last error'], fe.map((f) => [
        h('a', { href: `#/app/${enc(f.app)}/endpoint/${enc(f.endpoint)}` }, f.url || f.endpoint),
        h('a', { href: `#/app/${enc(f.app)}` }, f.app), fmtNum(f.failures), f.lastError || '—']), 'Failing endpoints')
        : empty(feKnown ? 'No endpoint is failing.' : 'This server does not report failing endpoints yet; each endpoint\'s page shows its health.'));
  }

  function addFeed(data, kind) {
    if (kind === 'tick') return;
    activity.querySelector('.feed-empty')?.remove();
    const text = kind === 'message' ? `message ${data.eventType || ''} for ${data.app || ''}`
      : kind === 'attempt' ? `attempt ${['succeeded', 'pending', 'failed', 'sending'][data.status] || ''}${data.responseStatusCode ? ` (${data.responseStatusCode})` : ''}`
        : `inbound ${data.eventType || ''} from ${data.source || ''}`;
    const link = kind === 'inbound' && data.source ? `#/source/${enc(data.source)}/event/${enc(data.id)}`
      : data.app && (data.msgId || kind === 'message') ? `#/app/${enc(data.app)}/msg/${enc(data.msgId || data.id)}` : null;
    feed.prepend(h('li', { class: `feed-${kind}` }, timeEl(data.timestamp || new Date().toISOString()), ' ',
      link ? h('a', { href: link }, text) : text));
    while (feed.children.length > 15) feed.lastChild.remove();
  }

  // refresh at most every 1.5 s on activity, and every 30 s so the window moves
  let pending = null;
  let lastTick = 0;
  const soon = () => { if (!pending) pending = setTimeout(() => { pending = null; load(); }, 1500); };
  const offs = [
    live.on('*', (d, k) => {
      if (k === 'tick') {
        if (Date.now() - lastTick > 10000) { lastTick = Date.now(); load(); }
        return;
      }
      addFeed(d, k);
      soon();
    }),
  ];
  const every = setInterval(load, 30000);
  const ro = new ResizeObserver(() => {
    for (const c of Object.values(charts)) {
      if (c.plot && c.box.clientWidth) c.plot.setSize({ width: c.box.clientWidth, height: 180 });
    }
  });
  ro.observe(chartGrid);
  await Promise.all([load(), loadApps()]);
  return () => { offs.forEach((f) => f()); clearInterval(every); clearTimeout(pending); ro.disconnect(); };
}
