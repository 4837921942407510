// messages.js - an application's messages (filter by event type, channel,
// time and status) and one message: its payload and, per endpoint, the
// timeline of its attempts with resend and recover.

import { enc, get, getAll, post, session } from '../api.js';
import {
  badge, busy, clear, copyable, empty, errorBox, field, fromLocalInput, h, loading, pre, statusBadge,
  table, timeEl, toLocalInput,
} from '../dom.js';
import * as live from '../live.js';
import { appHeader } from './apps.js';

const STATUS_FILTERS = [['', 'Any'], ['0', 'Succeeded'], ['1', 'Pending'], ['2', 'Failed'], ['3', 'Sending']];

// overall folds the per-endpoint statuses of a message into one
function overall(dests) {
  if (!dests.length) return null;
  const s = dests.map((d) => d.status);
  if (s.includes(2)) return 2;
  if (s.includes(3)) return 3;
  if (s.includes(1)) return 1;
  return 0;
}

export async function messageList(root, params, query) {
  let appId = params.app;
  if (!appId) {
    const apps = await getAll('/app', {}, 1000);
    if (!apps.length) {
      root.append(h('h1', {}, 'Messages'), empty('No applications yet.', h('a', { href: '#/apps' }, 'Create one')));
      return undefined;
    }
    location.replace(`#/app/${enc(apps[0].id)}/msg`);
    return undefined;
  }
  root.append(loading());
  const [app, types, apps] = await Promise.all([
    get(`/app/${enc(appId)}`),
    getAll('/event-type', {}, 1000).catch(() => []),
    session.app ? [] : getAll('/app', {}, 1000).catch(() => []),
  ]);
  const a = enc(app.id);
  const f = {
    type: query.get('event_types') || '', channel: query.get('channel') || '',
    after: query.get('after') || '', before: query.get('before') || '', status: query.get('status') || '',
  };
  const appSel = apps.length > 1 ? h('select', {
    onchange: (ev) => { location.hash = `#/app/${enc(ev.target.value)}/msg`; },
  }, apps.map((x) => h('option', { value: x.id, selected: x.id === app.id }, x.name || x.uid || x.id))) : null;
  const type = h('select', { name: 'event_types' }, h('option', { value: '' }, 'Any'),
    types.map((t) => h('option', { value: t.name, selected: t.name === f.type }, t.name)));
  const channel = h('input', { type: 'text', name: 'channel', value: f.channel });
  const after = h('input', { type: 'datetime-local', name: 'after', value: f.after ? toLocalInput(f.after) : '' });
  const before = h('input', { type: 'datetime-local', name: 'before', value: f.before ? toLocalInput(f.before) : '' });
  const status = h('select', { name: 'status' }, STATUS_FILTERS.map(([v, l]) => h('option', { value: v, selected: v === f.status }, l)));
  const form = h('form', { class: 'card filters', role: 'search', 'aria-label': 'Filter messages' },
    appSel ? field('Application', appSel) : null,
    field('Event type', type), field('Channel', channel), field('After', after), field('Before', before), field('Status', status),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('a', { class: 'button', href: `#/app/${a}/msg` }, 'Clear')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    if (type.value) q.set('event_types', type.value);
    if (channel.value.trim()) q.set('channel', channel.value.trim());
    if (after.value) q.set('after', fromLocalInput(after.value));
    if (before.value) q.set('before', fromLocalInput(before.value));
    if (status.value) q.set('status', status.value);
    const s = q.toString();
    location.hash = `#/app/${a}/msg${s ? `?${s}` : ''}`;
  });
  const list = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, 'Older messages');
  clear(root, appHeader(app, 'msg'), form, list, h('div', { class: 'actions' }, more));

  let iterator = null;
  let rows = [];
  let lastSig = '';
  async function page(reset) {
    if (reset) { iterator = null; rows = []; }
    const res = await get(`/app/${a}/msg`, {
      limit: 50, iterator, event_types: f.type, channel: f.channel, after: f.after, before: f.before, with_content: false,
    });
    const withStatus = await Promise.all(res.data.map(async (m) => {
      const d = await getAll(`/app/${a}/msg/${enc(m.id)}/endpoint`, {}, 250).catch(() => []);
      return { m, status: overall(d), n: d.length };
    }));
    rows = rows.concat(f.status === '' ? withStatus : withStatus.filter((x) => String(x.status) === f.status));
    iterator = res.done ? null : res.iterator;
    const sig = JSON.stringify(rows.map((r) => [r.m.id, r.status, r.n]));
    if (reset && sig === lastSig) return;
    lastSig = sig;
    more.hidden = !iterator;
    clear(list, rows.length ? table(['Message ID', 'Event type', 'Channels', 'Time', 'Status', ''], rows.map(({ m, status: st, n }) => [
      copyable(m.id), m.eventType, (m.channels || []).join(', ') || '—', timeEl(m.timestamp),
      st === null ? badge('no endpoint', 'muted') : h('span', {}, statusBadge(st), n > 1 ? ` ×${n}` : ''),
      h('a', { href: `#/app/${a}/msg/${enc(m.id)}`, 'aria-label': `Open message ${m.id}` }, 'Open')]), 'Messages')
      : empty(f.type || f.channel || f.after || f.before || f.status ? 'No message matches.' : 'No messages yet.'));
  }
  more.addEventListener('click', () => busy(more, () => page(false)).catch(() => {}));
  await page(true).catch((e) => clear(list, errorBox(e)));
  let t = null;
  const off = live.on('*', (d, k) => {
    if (k === 'tick' || ((k === 'message' || k === 'attempt') && (!d.app || d.app === app.id || d.app === app.uid))) {
      clearTimeout(t);
      t = setTimeout(() => page(true).catch(() => {}), 500);
    }
  });
  return () => { off(); clearTimeout(t); };
}

function attemptItem(x) {
  const body = x.response === undefined || x.response === null ? '' : String(x.response);
  return h('li', { class: `attempt attempt-${x.status}` },
    h('div', { class: 'attempt-head' }, statusBadge(x.status), ' ',
      h('strong', {}, x.responseStatusCode ? `HTTP ${x.responseStatusCode}` : 'no answer'), ' · ',
      `${x.responseDurationMs ?? '—'} ms`, ' · ', timeEl(x.timestamp),
      x.triggerType === 1 ? [' · ', badge('manual', 'muted')] : null),
    h('details', {}, h('summary', {}, `Response body (${body.length} characters)`), pre(body || '(empty)')),
    h('div', { class: 'muted small' }, 'Attempt ', h('code', {}, x.id)));
}

export async function messageDetail(root, { app: appId, msg: msgId }) {
  root.append(loading());
  const [app, msg] = await Promise.all([get(`/app/${enc(appId)}`), get(`/app/${enc(appId)}/msg/${enc(msgId)}`, { with_content: true })]);
  const a = enc(app.id);
  const m = enc(msg.id);
  const groups = h('div', { class: 'timelines' }, loading());
  clear(root, appHeader(app, 'msg'),
    h('h2', {}, 'Message ', h('span', { class: 'sr-only' }, msg.id)),
    h('dl', { class: 'card props' },
      h('dt', {}, 'ID'), h('dd', {}, copyable(msg.id)),
      msg.eventId ? [h('dt', {}, 'Event ID'), h('dd', {}, h('code', {}, msg.eventId))] : null,
      h('dt', {}, 'Event type'), h('dd', {}, msg.eventType),
      h('dt', {}, 'Channels'), h('dd', {}, (msg.channels || []).join(', ') || '—'),
      h('dt', {}, 'Time'), h('dd', {}, timeEl(msg.timestamp))),
    h('section', { class: 'card', 'aria-labelledby': 'payload-h' }, h('h2', { id: 'payload-h' }, 'Payload'), pre(msg.payload)),
    h('section', { 'aria-labelledby': 'att-h' }, h('h2', { id: 'att-h' }, 'Deliveries'), groups));

  let lastSig = '';
  async function load() {
    const [dests, atts, eps] = await Promise.all([
      getAll(`/app/${a}/msg/${m}/endpoint`, {}, 250),
      getAll(`/app/${a}/attempt/msg/${m}`, {}, 1000),
      getAll(`/app/${a}/endpoint`, {}, 1000).catch(() => []),
    ]);
    // re-render only on a change, so open details and typed dates survive a refresh
    const sig = JSON.stringify([dests, atts]);
    if (sig === lastSig) return;
    lastSig = sig;
    const byEp = new Map();
    for (const d of dests) byEp.set(d.id, { ep: d, attempts: [] });
    for (const x of atts) {
      if (!byEp.has(x.endpointId)) byEp.set(x.endpointId, { ep: eps.find((e) => e.id === x.endpointId) || { id: x.endpointId, url: x.url }, attempts: [] });
      byEp.get(x.endpointId).attempts.push(x);
    }
    if (!byEp.size) {
      clear(groups, empty('No endpoint subscribes to this message.'));
      return;
    }
    clear(groups, [...byEp.values()].map(({ ep, attempts }) => {
      const list = attempts.slice().sort((p, q) => new Date(p.timestamp) - new Date(q.timestamp));
      const resend = h('button', { type: 'button', class: 'primary', 'aria-label': `Resend to ${ep.url}` }, 'Resend');
      resend.addEventListener('click', () => busy(resend, () => post(`/app/${a}/msg/${m}/endpoint/${enc(ep.id)}/resend`), 'Resent').catch(() => {}));
      const since = h('input', { type: 'datetime-local', value: toLocalInput(new Date(msg.timestamp).getTime() - 60000) });
      const rec = h('form', { class: 'form-inline', 'aria-label': `Recover failures of ${ep.url}` },
        field('Recover this endpoint\'s failures since', since), h('button', { type: 'submit' }, 'Recover'));
      rec.addEventListener('submit', (ev) => {
        ev.preventDefault();
        busy(rec.querySelector('button'), () => post(`/app/${a}/endpoint/${enc(ep.id)}/recover`, { since: fromLocalInput(since.value) }),
          'Failed messages queued again').catch(() => {});
      });
      const st = ep.status ?? (list.length ? list[list.length - 1].status : 1);
      return h('section', { class: 'card timeline', 'aria-label': `Delivery to ${ep.url}` },
        h('div', { class: 'page-head' },
          h('h3', {}, h('a', { href: `#/app/${a}/endpoint/${enc(ep.id)}`, class: 'url' }, ep.url || ep.id), ' ', statusBadge(st)),
          h('div', { class: 'actions' }, resend)),
        list.length ? h('ol', { class: 'attempts', 'aria-label': 'Attempts, oldest first' }, list.map(attemptItem))
          : h('p', { class: 'muted' }, 'No attempt yet.'),
        rec);
    }));
  }
  await load().catch((e) => clear(groups, errorBox(e)));
  let t = null;
  const off = live.on('*', (d, k) => {
    if (k === 'tick' || (k === 'attempt' && d.msgId === msg.id)) {
      clearTimeout(t);
      t = setTimeout(() => load().catch(() => {}), 200);
    }
  });
  return () => { off(); clearTimeout(t); };
}
