// api.js - every call the dashboard makes goes through here: the token from
// sessionStorage as a bearer token, JSON in and out, an idempotency key on
// each POST (as the Svix SDKs send), and errors as ApiError.

const KEY_TOKEN = 'hookd.token';
const KEY_APP = 'hookd.app'; // set when the token is scoped to one application

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

function describe(status, body) {
  if (body && typeof body.detail === 'string') return body.detail;
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((d) => `${(d.loc || []).slice(1).join('.') || 'input'}: ${d.msg}`).join('; ');
  }
  if (status === 0) return 'the server cannot be reached';
  return `the server answered ${status}`;
}

export const session = {
  get token() { return sessionStorage.getItem(KEY_TOKEN) || ''; },
  get app() { return sessionStorage.getItem(KEY_APP) || ''; },
  signIn(token, app = '') {
    sessionStorage.setItem(KEY_TOKEN, token);
    if (app) sessionStorage.setItem(KEY_APP, app);
    else sessionStorage.removeItem(KEY_APP);
  },
  signOut() {
    sessionStorage.removeItem(KEY_TOKEN);
    sessionStorage.removeItem(KEY_APP);
  },
};

function idempotencyKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return 'dash_' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// qs builds a query string from an object, leaving out empty values.
export function qs(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// call makes one API request; resolves with the parsed body (null for 204).
export async function call(method, path, body, { token = session.token } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method === 'POST') headers['idempotency-key'] = idempotencyKey();
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, null);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

export const get = (path, params) => call('GET', path + qs(params));
export const post = (path, body = {}) => call('POST', path, body);
export const patch = (path, body) => call('PATCH', path, body);
export const put = (path, body) => call('PUT', path, body);
export const del = (path) => call('DELETE', path);

// enc escapes one path segment.
export const enc = (s) => encodeURIComponent(s);

// getAll follows iterators up to max items.
export async function getAll(path, params = {}, max = 1000) {
  const out = [];
  let iterator;
  while (out.length < max) {
    const page = await get(path, { ...params, limit: 250, iterator });
    out.push(...(page.data || []));
    if (page.done || !page.iterator) break;
    iterator = page.iterator;
  }
  return out;
}
