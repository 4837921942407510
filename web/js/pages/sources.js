// sources.js - inbound sources with their counters, each source's events,
// and one event's raw request with a replay button.

import { enc, get, getAll, post } from '../api.js';
import { badge, busy, clear, copyable, empty, errorBox, fmtNum, h, loading, pre, table, timeEl } from '../dom.js';
import * as live from '../live.js';

const EVENT_STATUS = { received: 'pending', routed: 'success', route_failed: 'fail' };

function eventStatus(s) {
  return badge(s.replace('_', ' '), EVENT_STATUS[s] || 'muted');
}

export async function sourceList(root) {
  const list = h('div', {}, loading());
  root.append(h('h1', {}, 'Inbound sources'),
    h('p', { class: 'muted' }, 'Providers send their webhooks to ', h('code', {}, `${location.origin}/in/<source>`), '.'), list);
  async function load() {
    const sources = await getAll('/source', {}, 1000);
    clear(list, sources.length ? table(['Source', 'Provider', 'Receives at', 'Received', 'Verified', 'Rejected', 'Duplicates'],
      sources.map((s) => {
        const st = s.stats || {};
        return [h('a', { href: `#/source/${enc(s.id)}` }, s.name || s.uid || s.id), s.provider,
          h('code', {}, `/in/${s.uid || s.id}`), fmtNum(st.received), fmtNum(st.verified), fmtNum(st.rejected), fmtNum(st.duplicates)];
      }), 'Inbound sources') : empty('No inbound sources yet. Create one with POST /api/v1/source.'));
  }
  await load();
  const off = live.on('*', (d, k) => { if (k === 'inbound' || k === 'tick') load().catch(() => {}); });
  return off;
}

export async function sourcePage(root, { source }) {
  root.append(loading());
  const src = await get(`/source/${enc(source)}`);
  const s = enc(src.id);
  const list = h('div', {}, loading());
  const st = src.stats || {};
  clear(root, h('p', { class: 'crumbs' }, h('a', { href: '#/sources' }, 'Inbound sources'), ' / '),
    h('h1', {}, src.name || src.uid || src.id),
    h('dl', { class: 'card props' },
      h('dt', {}, 'ID'), h('dd', {}, copyable(src.id)),
      h('dt', {}, 'Provider'), h('dd', {}, src.provider),
      h('dt', {}, 'Receives at'), h('dd', {}, copyable(`${location.origin}/in/${src.uid || src.id}`)),
      h('dt', {}, 'Counters'), h('dd', {}, `${fmtNum(st.received)} received · ${fmtNum(st.verified)} verified · ${fmtNum(st.rejected)} rejected · ${fmtNum(st.duplicates)} duplicates`),
      h('dt', {}, 'Routes'), h('dd', {}, (src.routes || []).map((r) => r.app ? `→ app ${r.app}` : `→ hook ${r.hook}`).join(', ') || 'none')),
    h('h2', {}, 'Events'), list);
  let sig = '';
  async function load() {
    const res = await get(`/source/${s}/event`, { limit: 100 });
    const next = JSON.stringify(res.data.map((e) => [e.id, e.status]));
    if (next === sig) return;
    sig = next;
    clear(list, res.data.length ? table(['Event', 'Type', 'Received', 'Verified', 'Status'], res.data.map((e) => [
      h('a', { href: `#/source/${s}/event/${enc(e.id)}` }, e.id), e.eventType || '—', timeEl(e.timestamp),
      e.verified ? badge('verified', 'success') : badge('unverified', 'pending'), eventStatus(e.status)]), 'Events')
      : empty('No events received yet.'));
  }
  await load().catch((e) => clear(list, errorBox(e)));
  const off = live.on('*', (d, k) => { if (k === 'tick' || (k === 'inbound' && (d.source === src.id || d.source === src.uid))) load().catch(() => {}); });
  return off;
}

export async function sourceEvent(root, { source, evt }) {
  root.append(loading());
  const src = await get(`/source/${enc(source)}`);
  const s = enc(src.id);
  const ev = await get(`/source/${s}/event/${enc(evt)}`);
  let body = ev.body;
  if (ev.bodyEncoding !== 'base64') {
    try { body = JSON.stringify(JSON.parse(ev.body), null, 2); } catch { /* shown as received */ }
  }
  const replay = h('button', { type: 'button', class: 'primary' }, 'Replay');
  replay.addEventListener('click', () => busy(replay, () => post(`/source/${s}/event/${enc(ev.id)}/replay`), 'Event routed again').catch(() => {}));
  const headerRows = Object.entries(ev.headers || {}).map(([k, v]) => [h('code', {}, k), h('code', { class: 'wrap' }, String(v))]);
  clear(root, h('p', { class: 'crumbs' }, h('a', { href: '#/sources' }, 'Inbound sources'), ' / ',
    h('a', { href: `#/source/${s}` }, src.name || src.uid || src.id), ' / '),
  h('div', { class: 'page-head' }, h('h1', {}, 'Inbound event'), h('div', { class: 'actions' }, replay)),
  h('dl', { class: 'card props' },
    h('dt', {}, 'ID'), h('dd', {}, copyable(ev.id)),
    h('dt', {}, 'Event type'), h('dd', {}, ev.eventType || '—'),
    h('dt', {}, 'Received'), h('dd', {}, timeEl(ev.timestamp)),
    h('dt', {}, 'Signature'), h('dd', {}, ev.verified ? badge('verified', 'success') : badge('unverified', 'pending'), ev.reason && ev.reason !== 'unverified' ? ` ${ev.reason}` : ''),
    h('dt', {}, 'Status'), h('dd', {}, eventStatus(ev.status)),
    h('dt', {}, 'Routed to'), h('dd', {}, (ev.routed || []).map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join(', ') || '—')),
  h('section', { class: 'card', 'aria-labelledby': 'raw-h' }, h('h2', { id: 'raw-h' }, 'Raw request'),
    pre(`${ev.method} ${ev.path}${ev.query ? `?${ev.query}` : ''}   (from ${ev.remoteAddr || '?'})`),
    h('h3', {}, 'Headers'), table(['Name', 'Value'], headerRows, 'Request headers'),
    h('h3', {}, `Body${ev.bodyEncoding === 'base64' ? ' (base64: not UTF-8)' : ''}`), pre(body || '(empty)')));
}
