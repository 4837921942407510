// apps.js - applications, their endpoints (create, edit, disable, rotate the
// secret, headers, filters, rate limit, mTLS, format) and each endpoint's
// health.

import { ApiError, del, enc, get, getAll, patch, post, put, session } from '../api.js';
import {
  badge, busy, clear, copyable, empty, errorBox, field, fmtPct, fromLocalInput, h, loading, notify,
  statusBadge, table, timeEl, toLocalInput,
} from '../dom.js';
import * as live from '../live.js';

// ---- applications ----

export async function appList(root) {
  const list = h('div', {}, loading());
  const name = h('input', { type: 'text', required: true, maxlength: 256 });
  const uid = h('input', { type: 'text', pattern: '[a-zA-Z0-9._\\-]+', maxlength: 256 });
  const form = h('form', { class: 'card form-inline', 'aria-labelledby': 'newapp-h' },
    h('h2', { id: 'newapp-h' }, 'New application'),
    field('Name', name), field('UID (optional)', uid, 'Your own id for it: letters, digits, ".", "_" or "-".'),
    h('button', { type: 'submit', class: 'primary' }, 'Create application'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector('button');
    const body = { name: name.value.trim() };
    if (uid.value.trim()) body.uid = uid.value.trim();
    const app = await busy(btn, () => post('/app', body), 'Application created').catch(() => null);
    if (app) location.hash = `#/app/${enc(app.id)}`;
  });
  root.append(h('h1', {}, 'Applications'), list, form);
  const apps = await getAll('/app', {}, 1000);
  clear(list, apps.length
    ? table(['Name', 'UID', 'ID', 'Created', ''], apps.map((a) => [
      h('a', { href: `#/app/${enc(a.id)}` }, a.name || '(no name)'), a.uid || '—', copyable(a.id), timeEl(a.createdAt),
      h('a', { href: `#/app/${enc(a.id)}/msg` }, 'Messages')]), 'Applications')
    : empty('No applications yet: create the first one below.'));
}

function appTabs(app, current) {
  const a = enc(app.id);
  return h('nav', { class: 'tabs', 'aria-label': 'Application' },
    h('a', { href: `#/app/${a}`, 'aria-current': current === 'endpoints' ? 'page' : null }, 'Endpoints'),
    h('a', { href: `#/app/${a}/msg`, 'aria-current': current === 'msg' ? 'page' : null }, 'Messages'));
}

export function appHeader(app, current, ...actions) {
  return [
    session.app ? null : h('p', { class: 'crumbs' }, h('a', { href: '#/apps' }, 'Applications'), ' / '),
    h('div', { class: 'page-head' }, h('h1', {}, app.name || app.uid || app.id), h('div', { class: 'actions' }, actions)),
    h('p', { class: 'muted' }, 'ID ', copyable(app.id), app.uid ? [' · UID ', h('code', {}, app.uid)] : null),
    appTabs(app, current),
  ];
}

// ---- endpoint health ----

function circuitBadge(state) {
  if (!state) return badge('unknown', 'muted');
  const kind = state === 'closed' ? 'success' : state === 'open' ? 'fail' : 'pending';
  return badge(`circuit ${state}`, kind);
}

// health reads the endpoint's own health object when the server has one,
// else derives a success rate from /stats and the last error from attempts.
async function health(appId, ep) {
  if (ep.health) return ep.health;
  const base = `/app/${enc(appId)}`;
  const [st, att] = await Promise.all([
    get(`${base}/endpoint/${enc(ep.id)}/stats`).catch(() => null),
    get(`/app/${enc(appId)}/attempt/endpoint/${enc(ep.id)}`, { limit: 1, status: 2 }).catch(() => null),
  ]);
  const done = st ? st.success + st.fail : 0;
  const last = att && att.data && att.data[0];
  return {
    circuit: null,
    successRate: done ? st.success / done : null,
    lastError: last ? `${last.responseStatusCode || 'no answer'} at ${new Date(last.timestamp).toLocaleString()}` : null,
    stats: st,
  };
}

function healthCells(hl) {
  return [
    hl.circuit ? circuitBadge(hl.circuit) : '—',
    fmtPct(hl.successRate),
    hl.lastError ? h('span', { class: 'err-text' }, String(hl.lastError)) : '—',
  ];
}

// ---- endpoints of one application ----

export async function appPage(root, { app: appId }) {
  root.append(loading());
  const app = await get(`/app/${enc(appId)}`);
  const list = h('div', {}, loading());
  clear(root, appHeader(app, 'endpoints',
    h('a', { class: 'button primary', href: `#/app/${enc(app.id)}/endpoint/new` }, 'Add endpoint')), list);
  const eps = await getAll(`/app/${enc(app.id)}/endpoint`, {}, 1000);
  if (!eps.length) {
    clear(list, empty('No endpoints yet.', h('a', { href: `#/app/${enc(app.id)}/endpoint/new` }, 'Add the first endpoint')));
    return undefined;
  }
  const rows = eps.map((ep) => {
    const cells = [h('span', {}, '…'), h('span', {}, '…'), h('span', {}, '…')];
    health(app.id, ep).then((hl) => healthCells(hl).forEach((c, i) => cells[i].replaceWith(c instanceof Node ? c : document.createTextNode(c))));
    return [
      h('a', { href: `#/app/${enc(app.id)}/endpoint/${enc(ep.id)}`, class: 'url' }, ep.url),
      ep.disabled ? badge('disabled', 'fail') : badge('enabled', 'success'),
      ep.eventTypes && ep.eventTypes.length ? ep.eventTypes.join(', ') : 'all events',
      ...cells,
    ];
  });
  clear(list, table(['URL', 'State', 'Event types', 'Circuit', 'Success rate', 'Last error'], rows, 'Endpoints'));
  return undefined;
}

// ---- endpoint form (create and edit) ----

function linesToHeaders(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export async function endpointForm(root, { app: appId, ep: epId }) {
  root.append(loading());
  const [app, types, ep, hdrs] = await Promise.all([
    get(`/app/${enc(appId)}`),
    getAll('/event-type', {}, 1000).catch(() => []),
    epId ? get(`/app/${enc(appId)}/endpoint/${enc(epId)}`) : null,
    epId ? get(`/app/${enc(appId)}/endpoint/${enc(epId)}/headers`).catch(() => null) : null,
  ]);
  const v = ep || {};
  const url = h('input', { type: 'url', required: true, value: v.url || '', placeholder: 'https://example.com/webhooks' });
  const desc = h('input', { type: 'text', value: v.description || '' });
  const uid = h('input', { type: 'text', value: v.uid || '', pattern: '[a-zA-Z0-9._\\-]+' });
  const disabled = h('input', { type: 'checkbox', checked: !!v.disabled });
  const chosen = new Set(v.eventTypes || []);
  const typeBoxes = types.map((t) => h('input', { type: 'checkbox', value: t.name, checked: chosen.has(t.name) }));
  const channels = h('input', { type: 'text', value: (v.channels || []).join(', '), placeholder: 'project_1, eu' });
  const rate = h('input', { type: 'number', min: 1, max: 100000, value: v.throttleRate ?? '', inputmode: 'numeric' });
  const format = h('select', {}, ['json', 'query', 'xml'].map((f) => h('option', { value: f, selected: (v.format || 'json') === f },
    { json: 'JSON body (POST)', query: 'Query string (GET)', xml: 'XML body (POST)' }[f])));
  const sigs = h('select', {}, ['webhook', 'svix'].map((f) => h('option', { value: f, selected: (v.signatureHeaders || 'webhook') === f },
    f === 'webhook' ? 'webhook-id / webhook-signature' : 'svix-id / svix-signature')));
  const headers = h('textarea', { rows: 3, placeholder: 'X-Team: payments' },
    Object.entries((hdrs && hdrs.headers) || {}).map(([k, x]) => `${k}: ${x}`).join('\n'));
  const tlsSet = v.tls || {};
  const cert = h('textarea', { rows: 3, placeholder: tlsSet.clientCert ? '(set; paste to replace)' : '-----BEGIN CERTIFICATE-----' });
  const key = h('textarea', { rows: 3, placeholder: tlsSet.clientKey ? '(set; paste to replace)' : '-----BEGIN PRIVATE KEY-----' });
  const ca = h('textarea', { rows: 3, placeholder: tlsSet.caBundle ? '(set; paste to replace)' : '-----BEGIN CERTIFICATE-----' });
  const msg = h('div', { class: 'form-error', role: 'alert' });
  const title = epId ? 'Edit endpoint' : 'Add endpoint';
  const form = h('form', { class: 'card endpoint-form', 'aria-labelledby': 'epform-h', novalidate: false },
    field('URL', url, 'Where hookd delivers; must answer 2xx.'),
    field('Description', desc),
    epId ? null : field('UID (optional)', uid),
    field('Disabled', disabled),
    h('fieldset', {}, h('legend', {}, 'Event types'),
      types.length ? h('div', { class: 'checks' }, typeBoxes.map((b) => field(b.value, b)))
        : h('p', { class: 'muted' }, 'No event types are defined: the endpoint receives every event.'),
      h('small', { class: 'hint' }, 'None ticked: every event type.')),
    field('Channels', channels, 'Comma-separated; empty: every channel.'),
    field('Rate limit (requests per second)', rate, 'Empty: no limit.'),
    field('Format', format),
    field('Signature headers', sigs),
    field('Custom headers', headers, 'One "Name: value" a line; sent with every delivery.'),
    h('fieldset', {}, h('legend', {}, 'Mutual TLS (optional)'),
      field('Client certificate (PEM)', cert), field('Client key (PEM)', key), field('CA bundle (PEM)', ca),
      h('small', { class: 'hint' }, 'Kept on the server and never shown again; leave empty to keep what is set.')),
    msg,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, epId ? 'Save endpoint' : 'Create endpoint'),
      h('a', { class: 'button', href: epId ? `#/app/${enc(app.id)}/endpoint/${enc(epId)}` : `#/app/${enc(app.id)}` }, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    if (!form.reportValidity()) return;
    const body = {
      url: url.value.trim(),
      description: desc.value,
      disabled: disabled.checked,
      format: format.value,
      signatureHeaders: sigs.value,
    };
    const ticked = typeBoxes.filter((b) => b.checked).map((b) => b.value);
    if (ticked.length) body.eventTypes = ticked;
    const ch = channels.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (ch.length) body.channels = ch;
    if (rate.value) body.throttleRate = Number(rate.value);
    if (!epId && uid.value.trim()) body.uid = uid.value.trim();
    if (cert.value.trim() || key.value.trim() || ca.value.trim()) {
      body.tls = {};
      if (cert.value.trim()) body.tls.clientCert = cert.value.trim();
      if (key.value.trim()) body.tls.clientKey = key.value.trim();
      if (ca.value.trim()) body.tls.caBundle = ca.value.trim();
    }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      let saved;
      const base = `/app/${enc(app.id)}/endpoint`;
      if (epId) {
        // PUT replaces the endpoint: carry over what the form does not show
        body.metadata = v.metadata || {};
        if (v.successOn3xx !== undefined) body.successOn3xx = v.successOn3xx;
        if (v.maxInFlight) body.maxInFlight = v.maxInFlight;
        if (v.version) body.version = v.version;
        saved = await put(`${base}/${enc(epId)}`, body);
      } else {
        saved = await post(base, body);
      }
      const hs = linesToHeaders(headers.value);
      const had = (hdrs && hdrs.headers) || {};
      if (JSON.stringify(hs) !== JSON.stringify(had)) await put(`${base}/${enc(saved.id)}/headers`, { headers: hs });
      notify(epId ? 'Endpoint saved' : 'Endpoint created', 'ok');
      location.hash = `#/app/${enc(app.id)}/endpoint/${enc(saved.id)}`;
    } catch (e) {
      msg.textContent = e.message;
    } finally {
      btn.disabled = false;
    }
  });
  clear(root, appHeader(app, 'endpoints'), h('h2', { id: 'epform-h' }, title), form);
  url.focus();
}

// ---- one endpoint ----

export async function endpointDetail(root, { app: appId, ep: epId }) {
  root.append(loading());
  const base = `/app/${enc(appId)}/endpoint/${enc(epId)}`;
  const [app, ep] = await Promise.all([get(`/app/${enc(appId)}`), get(base)]);
  const a = enc(app.id);
  const healthBox = h('div', { class: 'tiles' }, loading());
  const attempts = h('div', {}, loading());
  const secretBox = h('span', {}, h('code', {}, '••••••••'));
  const since = h('input', { type: 'datetime-local', value: toLocalInput(Date.now() - 86400000) });

  const toggle = h('button', { type: 'button' }, ep.disabled ? 'Enable' : 'Disable');
  toggle.addEventListener('click', async () => {
    await busy(toggle, () => patch(base, { disabled: !ep.disabled }), ep.disabled ? 'Endpoint enabled' : 'Endpoint disabled').catch(() => null);
    endpointDetail(clear(root), { app: appId, ep: epId });
  });
  const reveal = h('button', { type: 'button' }, 'Show secret');
  reveal.addEventListener('click', async () => {
    const s = await busy(reveal, () => get(`${base}/secret`)).catch(() => null);
    if (s) clear(secretBox, copyable(s.key));
  });
  const rotate = h('button', { type: 'button' }, 'Rotate secret');
  rotate.addEventListener('click', async () => {
    if (!confirm('Rotate the signing secret? The old one keeps signing for 24 hours.')) return;
    await busy(rotate, () => post(`${base}/secret/rotate`, {}), 'Secret rotated; the old one signs for 24 hours more').catch(() => null);
    clear(secretBox, h('code', {}, '••••••••'));
  });
  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
  remove.addEventListener('click', async () => {
    if (!confirm(`Delete the endpoint ${ep.url}?`)) return;
    await busy(remove, () => del(base), 'Endpoint deleted').catch(() => null);
    location.hash = `#/app/${a}`;
  });
  const example = h('button', { type: 'button' }, 'Send test event');
  example.addEventListener('click', () => busy(example, () => post(`${base}/send-example`, { eventType: 'hookd.ping' }), 'Test event sent').catch(() => null));
  const recoverForm = h('form', { class: 'form-inline', 'aria-label': 'Recover failed messages' },
    field('Recover failures since', since), h('button', { type: 'submit' }, 'Recover'));
  recoverForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await busy(recoverForm.querySelector('button'), () => post(`${base}/recover`, { since: fromLocalInput(since.value) }),
      'Failed messages queued again').catch(() => null);
  });

  const info = [
    ['ID', copyable(ep.id)],
    ['State', ep.disabled ? badge('disabled', 'fail') : badge('enabled', 'success')],
    ['Description', ep.description || '—'],
    ['Event types', ep.eventTypes && ep.eventTypes.length ? ep.eventTypes.join(', ') : 'all'],
    ['Channels', ep.channels && ep.channels.length ? ep.channels.join(', ') : 'all'],
    ['Rate limit', ep.throttleRate ? `${ep.throttleRate} / s` : 'none'],
    ['Format', ep.format || 'json'],
    ['Signature headers', ep.signatureHeaders || 'webhook'],
    ['mTLS', ep.tls ? Object.entries(ep.tls).filter(([, x]) => x).map(([k]) => k).join(', ') || 'off' : 'off'],
    ['Secret', h('span', {}, secretBox, ' ', reveal, ' ', rotate)],
  ];
  clear(root, appHeader(app, 'endpoints',
    h('a', { class: 'button', href: `#/app/${a}/endpoint/${enc(ep.id)}/edit` }, 'Edit'), toggle, example, remove),
  h('h2', { class: 'url' }, ep.url),
  h('section', { 'aria-label': 'Health' }, healthBox),
  h('dl', { class: 'card props' }, info.map(([k, x]) => [h('dt', {}, k), h('dd', {}, x)])),
  h('section', { class: 'card', 'aria-labelledby': 'rec-h' }, h('h2', { id: 'rec-h' }, 'Recover'), recoverForm),
  h('section', { class: 'card', 'aria-labelledby': 'att-h' }, h('h2', { id: 'att-h' }, 'Latest attempts'), attempts));

  async function load() {
    const [hl, list] = await Promise.all([health(app.id, ep), get(`/app/${a}/attempt/endpoint/${enc(ep.id)}`, { limit: 20 })]);
    const st = hl.stats || await get(`${base}/stats`).catch(() => null);
    const [circuit, rateCell, lastErr] = healthCells(hl);
    clear(healthBox,
      h('div', { class: 'card tile' }, h('div', { class: 'tile-label' }, 'Circuit'), h('div', { class: 'tile-value' }, circuit)),
      h('div', { class: 'card tile' }, h('div', { class: 'tile-label' }, 'Success rate'), h('div', { class: 'tile-value' }, rateCell)),
      st ? h('div', { class: 'card tile' }, h('div', { class: 'tile-label' }, 'Messages'),
        h('div', { class: 'tile-sub' }, `${st.success} ok · ${st.fail} failed · ${st.pending} pending · ${st.sending} sending`)) : null,
      h('div', { class: 'card tile' }, h('div', { class: 'tile-label' }, 'Last error'), h('div', { class: 'tile-sub' }, lastErr)));
    clear(attempts, list.data.length
      ? table(['Time', 'Status', 'Response', 'Duration', 'Message'], list.data.map((x) => [
        timeEl(x.timestamp), statusBadge(x.status), x.responseStatusCode ? String(x.responseStatusCode) : '—',
        `${x.responseDurationMs ?? '—'} ms`, h('a', { href: `#/app/${a}/msg/${enc(x.msgId)}` }, x.msgId)]), 'Latest attempts')
      : empty('No attempts yet.'));
  }
  await load().catch((e) => { if (!(e instanceof ApiError)) throw e; clear(attempts, errorBox(e)); });
  let t = null;
  const off = live.on('*', (d, k) => {
    if (k === 'tick' || (k === 'attempt' && d.endpointId === ep.id)) {
      clearTimeout(t);
      t = setTimeout(() => load().catch(() => {}), 300);
    }
  });
  return () => { off(); clearTimeout(t); };
}
