// polls.js - poll sources (the polling bridge): the list with each source's state,
// a form to add one, and one source's settings and state with enable, disable and delete.

import { del, enc, get, getAll, patch, post } from '../api.js';
import { badge, busy, clear, copyable, empty, errorBox, field, fmtNum, h, loading, pre, table, timeEl } from '../dom.js';

function stateBadge(p) {
  if (p.disabled) return badge('disabled', 'muted');
  if (p.status?.failures) return badge(`failing (${p.status.failures})`, 'fail');
  if (!p.status?.baselineRecorded) return badge('starting', 'pending');
  return badge('polling', 'success');
}

function newSourceForm(onMade) {
  const uid = h('input', { type: 'text', name: 'uid', spellcheck: 'false' });
  const url = h('input', { type: 'url', name: 'url', required: true, placeholder: 'https://api.example.com/orders' });
  const interval = h('input', { type: 'number', name: 'interval', min: '1', value: '60', required: true });
  const app = h('input', { type: 'text', name: 'app', required: true, spellcheck: 'false' });
  const eventType = h('input', { type: 'text', name: 'eventType', spellcheck: 'false', placeholder: 'order.changed' });
  const kind = h('select', { name: 'kind' }, h('option', { value: 'items' }, 'items: one message per new or changed item'),
    h('option', { value: 'document' }, 'document: one message per change of the whole'));
  const path = h('input', { type: 'text', name: 'path', spellcheck: 'false', placeholder: '.data' });
  const idField = h('input', { type: 'text', name: 'idField', spellcheck: 'false', value: 'id' });
  const updatedField = h('input', { type: 'text', name: 'updatedField', spellcheck: 'false' });
  const msg = h('div', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'card endpoint-form', 'aria-labelledby': 'newpoll-h' },
    h('h2', { id: 'newpoll-h' }, 'New poll source'),
    field('URL', url, 'The API hookd asks; it must answer JSON.'),
    field('UID (optional)', uid),
    field('Every (seconds)', interval),
    field('Application (id or uid)', app, 'Where the changes are published as messages.'),
    field('Event type', eventType, 'Empty: poll.changed.'),
    field('Rule', kind),
    field('Path', path, 'Where the list (or the watched value) is in the answer; empty: the whole answer.'),
    field('Id field', idField, 'items: the field that names an item.'),
    field('Updated field (optional)', updatedField, 'items: a newer value announces the item again; empty: a change of content does.'),
    msg, h('button', { type: 'submit', class: 'primary' }, 'Add poll source'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    const rule = { kind: kind.value };
    if (path.value.trim()) rule.path = path.value.trim();
    if (kind.value === 'items') {
      rule.idField = idField.value.trim() || 'id';
      if (updatedField.value.trim()) rule.updatedField = updatedField.value.trim();
    }
    const body = { url: url.value.trim(), intervalSeconds: Number(interval.value), app: app.value.trim(), rule };
    if (uid.value.trim()) body.uid = uid.value.trim();
    if (eventType.value.trim()) body.eventType = eventType.value.trim();
    try {
      const made = await busy(form.querySelector('button'), () => post('/poll', body), 'Poll source added');
      onMade(made);
    } catch (e) {
      msg.textContent = e.message || String(e);
    }
  });
  return form;
}

export async function pollList(root) {
  const list = h('div', {}, loading());
  root.append(h('h1', {}, 'Poll sources'),
    h('p', { class: 'muted' }, 'hookd asks these APIs on a schedule and publishes what changed as ordinary webhooks.'),
    list, newSourceForm((p) => { location.hash = `#/poll/${enc(p.id)}`; }));
  const polls = await getAll('/poll', {}, 1000);
  clear(list, polls.length ? table(['Source', 'URL', 'Every', 'Application', 'State', 'Published', 'Last change'],
    polls.map((p) => [h('a', { href: `#/poll/${enc(p.id)}` }, p.uid || p.id), h('code', { class: 'wrap' }, p.url),
      `${fmtNum(p.intervalSeconds)} s`, p.app, stateBadge(p), fmtNum(p.status?.published), timeEl(p.status?.lastChangeAt)]),
    'Poll sources') : empty('No poll sources yet. Add one below.'));
}

export async function pollPage(root, { poll }) {
  root.append(loading());
  let p = await get(`/poll/${enc(poll)}`);
  const id = enc(p.id);
  const toggle = h('button', { type: 'button' });
  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
  const props = h('dl', { class: 'card props' });
  function render() {
    toggle.textContent = p.disabled ? 'Enable' : 'Disable';
    const st = p.status || {};
    clear(props,
      h('dt', {}, 'ID'), h('dd', {}, copyable(p.id)),
      h('dt', {}, 'URL'), h('dd', {}, h('code', { class: 'wrap' }, `${p.method || 'GET'} ${p.url}`)),
      h('dt', {}, 'Every'), h('dd', {}, `${fmtNum(p.intervalSeconds)} s`),
      h('dt', {}, 'Publishes to'), h('dd', {}, h('a', { href: `#/app/${enc(p.app)}` }, p.app), ` as ${p.eventType || 'poll.changed'}`),
      h('dt', {}, 'State'), h('dd', {}, stateBadge(p)),
      h('dt', {}, 'Published'), h('dd', {}, fmtNum(st.published)),
      h('dt', {}, 'Last change'), h('dd', {}, timeEl(st.lastChangeAt)),
      h('dt', {}, 'Last error'), h('dd', {}, st.lastError ? `${st.lastError} (${st.failures} in a row; next try ${new Date(st.backoffUntil).toLocaleString()})` : '—'),
      h('dt', {}, 'Rule'), h('dd', {}, pre(p.rule)));
  }
  toggle.addEventListener('click', () => busy(toggle, async () => {
    p = await patch(`/poll/${id}`, { disabled: !p.disabled });
    render();
  }, 'Saved').catch(() => {}));
  remove.addEventListener('click', () => {
    if (!window.confirm(`Delete the poll source ${p.uid || p.id}? What it remembers goes too.`)) return;
    busy(remove, () => del(`/poll/${id}`), 'Poll source deleted').then(() => { location.hash = '#/polls'; }).catch(() => {});
  });
  render();
  clear(root, h('p', { class: 'crumbs' }, h('a', { href: '#/polls' }, 'Poll sources'), ' / '),
    h('div', { class: 'page-head' }, h('h1', {}, p.uid || p.id), h('div', { class: 'actions' }, toggle, remove)), props);
  const timer = setInterval(() => get(`/poll/${id}`).then((next) => { p = next; render(); }).catch((e) => clear(props, errorBox(e))), 5000);
  return () => clearInterval(timer);
}
