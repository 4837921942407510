// main.js - the dashboard's shell: sign-in, the hash router, the navigation,
// and app-portal mode (a token scoped to one application, opened from the
// link POST /api/v1/auth/app-portal-access/{app} returns).

import { ApiError, enc, get, session } from './api.js';
import { clear, errorBox, field, h } from './dom.js';
import * as live from './live.js';
import { overview } from './pages/overview.js';
import { appList, appPage, endpointDetail, endpointForm } from './pages/apps.js';
import { messageDetail, messageList } from './pages/messages.js';
import { eventTypes } from './pages/event-types.js';
import { sourceEvent, sourceList, sourcePage } from './pages/sources.js';
import { hookList, hookPage, hookRun } from './pages/hooks.js';
import { pollList, pollPage } from './pages/polls.js';

const main = document.getElementById('main');
let cleanup = null;

// routes: [pattern, page, title]; {name} captures one segment
const routes = [
  ['/', overview, 'Overview'],
  ['/apps', appList, 'Applications'],
  ['/app/{app}', appPage, 'Endpoints'],
  ['/app/{app}/endpoint/new', endpointForm, 'New endpoint'],
  ['/app/{app}/endpoint/{ep}', endpointDetail, 'Endpoint'],
  ['/app/{app}/endpoint/{ep}/edit', endpointForm, 'Edit endpoint'],
  ['/app/{app}/msg', messageList, 'Messages'],
  ['/app/{app}/msg/{msg}', messageDetail, 'Message'],
  ['/messages', messageList, 'Messages'],
  ['/event-types', eventTypes, 'Event types'],
  ['/sources', sourceList, 'Inbound sources'],
  ['/source/{source}', sourcePage, 'Inbound source'],
  ['/source/{source}/event/{evt}', sourceEvent, 'Inbound event'],
  ['/hooks', hookList, 'Command hooks'],
  ['/hook/{hook}', hookPage, 'Command hook'],
  ['/hook/{hook}/run/{run}', hookRun, 'Hook run'],
  ['/polls', pollList, 'Poll sources'],
  ['/poll/{poll}', pollPage, 'Poll source'],
];

function match(path) {
  const segs = path.split('/').filter(Boolean);
  for (const [pattern, page, title] of routes) {
    const ps = pattern.split('/').filter(Boolean);
    if (ps.length !== segs.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < ps.length && ok; i++) {
      if (ps[i].startsWith('{')) params[ps[i].slice(1, -1)] = decodeURIComponent(segs[i]);
      else ok = ps[i] === segs[i];
    }
    if (ok) return { page, title, params };
  }
  return null;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

// go navigates to a dashboard path ("/app/x").
export function go(path) {
  location.hash = `#${path}`;
}

function navItems() {
  if (session.app) {
    const a = enc(session.app);
    return [[`/app/${a}`, 'Endpoints'], [`/app/${a}/msg`, 'Messages']];
  }
  return [['/', 'Overview'], ['/apps', 'Applications'], ['/messages', 'Messages'],
    ['/event-types', 'Event types'], ['/sources', 'Inbound'], ['/polls', 'Polling'], ['/hooks', 'Command hooks']];
}

function renderNav(path) {
  const nav = document.getElementById('nav');
  const items = navItems();
  // the longest prefix that matches marks the current page
  let current = null;
  for (const [href] of items) {
    const hit = href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
    if (hit && (!current || href.length > current.length)) current = href;
  }
  if (!current && path.includes('/msg')) current = items.find(([x]) => x.endsWith('/msg') || x === '/messages')?.[0];
  if (!current && (path.startsWith('/app/'))) current = session.app ? items[0][0] : '/apps';
  if (!current && path.startsWith('/source/')) current = '/sources';
  if (!current && path.startsWith('/hook/')) current = '/hooks';
  if (!current && path.startsWith('/poll/')) current = '/polls';
  clear(nav, items.map(([href, label]) => h('li', {},
    h('a', { href: `#${href}`, 'aria-current': href === current ? 'page' : null }, label))));
  document.getElementById('scope').textContent = session.app ? `Application ${session.app}` : '';
}

function signIn(query) {
  document.getElementById('top').hidden = true;
  live.stop();
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false' });
  const app = h('input', { type: 'text', name: 'app', autocomplete: 'off', spellcheck: 'false' });
  const appField = field('Application (id or uid)', app, 'This token is limited to one application: name it.');
  appField.hidden = true;
  const msg = h('div', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'signin card', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to hookd'),
    h('p', { class: 'muted' }, 'Paste the admin token (printed by ', h('code', {}, 'hookd serve'),
      ' and kept in ', h('code', {}, 'hookd.token'), ') or a token for one application.'),
    field('Token', token),
    appField,
    msg,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    const t = token.value.trim();
    const scoped = app.value.trim();
    session.signIn(t, scoped);
    try {
      if (scoped) await get(`/app/${enc(scoped)}`);
      else await get('/app', { limit: 1 });
    } catch (e) {
      session.signOut();
      if (e instanceof ApiError && e.status === 403 && !scoped) {
        appField.hidden = false;
        app.focus();
        msg.textContent = 'This token is scoped to one application. Enter its id to continue.';
        return;
      }
      msg.textContent = e instanceof ApiError && e.status === 401
        ? 'That token was not accepted.' : e.message;
      token.focus();
      return;
    }
    const next = query.get('next');
    location.hash = next && !scoped ? `#${next}` : scoped ? `#/app/${enc(scoped)}` : '#/';
    route();
  });
  clear(main, form);
  document.title = 'Sign in · hookd';
  token.focus();
}

async function route() {
  const { path, query } = parseHash();
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }

  if (path === '/portal') {
    // a link from app-portal-access: keep the token, drop it from the address bar
    const t = query.get('token');
    const a = query.get('app');
    if (t && a) {
      session.signIn(t, a);
      location.replace(`#/app/${enc(a)}`);
      return;
    }
  }
  if (!session.token) {
    signIn(query);
    return;
  }
  const own = `/app/${enc(session.app)}`;
  if (session.app && path !== own && !path.startsWith(`${own}/`)) {
    location.replace(`#/app/${enc(session.app)}`);
    return;
  }
  const top = document.getElementById('top');
  if (top.hidden) {
    top.hidden = false;
    live.start();
  }
  renderNav(path);
  const m = match(path);
  const root = h('div', { class: 'page' });
  clear(main, root);
  if (!m) {
    root.append(h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Back to the overview')));
    return;
  }
  document.title = `${m.title} · hookd`;
  try {
    const c = await m.page(root, m.params, query);
    if (root.isConnected) cleanup = typeof c === 'function' ? c : null;
    else if (typeof c === 'function') c();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      session.signOut();
      signIn(new URLSearchParams({ next: path }));
      return;
    }
    root.append(errorBox(e));
  }
  if (root.isConnected && !parseHash().query.has('nofocus')) {
    const h1 = root.querySelector('h1');
    if (h1) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
  }
}

document.getElementById('signout').addEventListener('click', () => {
  session.signOut();
  live.stop();
  location.hash = '#/';
  route();
});
document.getElementById('skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', route);
route();
