/*
 * api.c - request plumbing for the API: routing, authentication, body
 * decoding, idempotency and answers. Resource handlers live one file per
 * resource (app.c, endpoint.c, ...) and only speak in api_* calls.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "deliver/dispatch.h"
#include "deliver/fanout.h"
#include "ui/ui.h"

#define IDEM_TTL_MS (12LL * 3600 * 1000)

/* a POST whose first answer is still being made; repeats wait on it */
struct idem_flight {
	struct idem_flight *next;
	char key[65];
	struct api_req *waiters[32];
	int nwaiters;
};

struct api {
	struct api_config cfg;
	struct api_route *routes;
	struct router router;      /* routes, compiled once */
	size_t nroutes;
	pthread_mutex_t idem_mu;
	struct idem_flight *flights;
};

static void health(struct api_req *r);
static void dashboard(struct api_req *r);

static const struct api_route api_base_routes[] = {
	{{"GET", "/api/v1/health"}, health, RF_PUBLIC},
	{{"GET", "/api/v1/health/ping"}, health, RF_PUBLIC},
	/* the embedded dashboard (src/ui): static files, no token */
	{{"GET", "/"}, dashboard, RF_PUBLIC | RF_RAW},
	{{"GET", "/ui/{file}"}, dashboard, RF_PUBLIC | RF_RAW},
	{{"GET", "/ui/{dir}/{file}"}, dashboard, RF_PUBLIC | RF_RAW},
	{{"GET", "/ui/{dir}/{sub}/{file}"}, dashboard, RF_PUBLIC | RF_RAW},
};

/* ---- small helpers ---- */

void api_now_str(char out[40], int64_t *ms)
{
	int64_t now = clock_now_ms();
	if (ms)
		*ms = now;
	clock_format_ms(now, out, 40);
}

json_t *api_public(const json_t *doc)
{
	return json_strip_private(doc);
}

struct dispatch *api_dispatch(struct api_req *r)
{
	return r->api->cfg.dispatch;
}

struct inbound_router *api_router(struct api_req *r)
{
	return r->api->cfg.router;
}

struct poller *api_poller(struct api_req *r)
{
	return r->api->cfg.poller;
}

struct runner *api_runner(struct api_req *r)
{
	return r->api->cfg.runner;
}

/* hook_id returns the {id} of a /<prefix>/{id} path, or NULL for any other path */
static const char *hook_id(const struct api *api, const char *path)
{
	size_t n = strlen(api->cfg.hooks_prefix);

	if (!api->cfg.runner || path[0] != '/' || strncmp(path + 1, api->cfg.hooks_prefix, n) != 0 ||
	    path[n + 1] != '/' || !path[n + 2])
		return NULL;
	return path + n + 2;
}

struct fanout *api_fanout(struct api_req *r)
{
	return r->api->cfg.fanout;
}

const char *api_param(struct api_req *r, const char *name)
{
	return route_param(&r->params, name);
}

/* ---- answers ---- */

static void idem_release(struct api_req *r, int status, const char *body, size_t len);

/* finish sends an answer, whether the request is suspended or not. */
static void finish(struct api_req *r, int status, char *body, size_t len)
{
	struct http_req *req = r->http;
	bool suspended = http_is_suspended(req);

	if (r->idem_owner)
		idem_release(r, status, body, len);
	http_respond_take(req, status, len || status != 204 ? "application/json" : NULL, body, len);
	if (suspended)
		http_resume(req); /* last touch: the request may be freed after this */
}

void api_json(struct api_req *r, int status, json_t *doc)
{
	size_t len = 0;
	char *body = json_dump_compact(doc, &len);
	json_decref(doc);
	if (!body) {
		api_error(r, 500, "internal", "out of memory");
		return;
	}
	finish(r, status, body, len);
}

void api_no_content(struct api_req *r)
{
	finish(r, 204, NULL, 0);
}

void api_error(struct api_req *r, int status, const char *code, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	json_t *doc;
	char *body;
	size_t len = 0;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	doc = json_pack("{s:s,s:s}", "code", code, "detail", detail);
	body = doc ? json_dump_compact(doc, &len) : NULL;
	json_decref(doc);
	if (!body) {
		body = strdup("{\"code\":\"internal\",\"detail\":\"out of memory\"}");
		len = body ? strlen(body) : 0;
	}
	finish(r, status, body, len);
}

void api_invalid(struct api_req *r)
{
	json_t *doc = json_pack("{s:O}", "detail", r->errors);
	api_json(r, 422, doc);
}

void api_fail(struct api_req *r, int rc, const char *what)
{
	switch (rc) {
	case HK_ENOTFOUND:
		api_error(r, 404, "not_found", "%s not found", what);
		break;
	case HK_ECONFLICT:
		api_error(r, 409, "conflict", "%s already exists", what);
		break;
	case HK_EFULL:
	case HK_EBUSY:
	case HK_ENOSPACE:
		http_add_header(r->http, "Retry-After", "1");
		api_error(r, 503, "unavailable", "the server is overloaded, retry later (%s)",
			  hk_strerror(rc));
		break;
	case HK_ECLOSED:
		http_add_header(r->http, "Retry-After", "1");
		api_error(r, 503, "unavailable", "the server is shutting down");
		break;
	case HK_EIO:
	case HK_EDB:
		/* the store cannot be used now (a full disk, a failing device, the database away): nothing was accepted */
		http_add_header(r->http, "Retry-After", "5");
		api_error(r, 503, "storage_unavailable", "%s could not be %s: %s", what,
			  strcmp(r->http->method, "GET") == 0 ? "read" : "stored", hk_strerror(rc));
		break;
	default:
		api_error(r, 500, "internal", "%s: %s", what, hk_strerror(rc));
	}
}

/* ---- commits ---- */

struct commit_ctx {
	struct api_req *r;
	int status;
	char *body;
	size_t len;
	void (*then)(void *arg);
	void *arg;
	void (*free_arg)(void *arg);
};

/* touches_config reports whether a write changed what the dispatcher and fan-out cache hold */
static bool touches_config(const struct store_write *w)
{
	for (size_t i = 0; i < w->nops; i++) {
		const struct store_op *op = &w->ops[i];
		if ((op->kind == SOP_DOC_INSERT || op->kind == SOP_DOC_UPDATE || op->kind == SOP_DOC_DELETE) &&
		    (strcmp(op->u.doc.kind, "endpoint") == 0 || strcmp(op->u.doc.kind, "app") == 0 ||
		     strcmp(op->u.doc.kind, "source") == 0))
			return true;
	}
	return false;
}

static void commit_done(struct store_write *w, int rc, void *arg)
{
	struct commit_ctx *c = arg;
	struct api_req *r = c->r;

	if (rc == 0 && touches_config(w)) {
		if (r->api->cfg.fanout)
			fanout_invalidate(r->api->cfg.fanout);
		if (r->api->cfg.dispatch)
			dispatch_config_changed(r->api->cfg.dispatch);
	}
	if (rc == 0 && c->then)
		c->then(c->arg);
	if (c->free_arg)
		c->free_arg(c->arg);
	if (rc == HK_ECONFLICT && r->idem_owner && w->failed_op >= 0 &&
	    w->ops[w->failed_op].kind == SOP_IDEM_PUT) {
		/* another node ran the same idempotency key first (shared database): its answer stands */
		int status;
		char *body = NULL;
		size_t len = 0;
		if (store_idem_get(r->store, r->idem_key, &status, &body, &len) == 0) {
			free(c->body);
			free(c);
			finish(r, status, body, len);
			return;
		}
	}
	if (rc == 0) {
		finish(r, c->status, c->body, c->len);
		c->body = NULL;
	} else {
		free(c->body);
		api_fail(r, rc, "resource");
	}
	free(c);
}

void api_commit(struct api_req *r, struct store_write *w, int status, json_t *doc)
{
	api_commit_then(r, w, status, doc, NULL, NULL, NULL);
}

void api_commit_then(struct api_req *r, struct store_write *w, int status, json_t *doc,
		     void (*then)(void *arg), void *arg, void (*free_arg)(void *arg))
{
	size_t len = 0;
	char *body = doc ? json_dump_compact(doc, &len) : NULL;

	json_decref(doc);
	if (doc && !body) {
		store_write_free(w);
		if (free_arg)
			free_arg(arg);
		api_fail(r, HK_ENOMEM, "write");
		return;
	}
	api_commit_text(r, w, status, body, len, then, arg, free_arg);
}

void api_commit_text(struct api_req *r, struct store_write *w, int status, char *body, size_t len,
		     void (*then)(void *arg), void *arg, void (*free_arg)(void *arg))
{
	struct commit_ctx *c = calloc(1, sizeof(*c));
	int rc = HK_ENOMEM;

	if (!c)
		goto fail;
	c->then = then;
	c->arg = arg;
	c->free_arg = free_arg;
	c->r = r;
	c->status = status;
	c->body = body;
	c->len = len;
	body = NULL;
	if (r->idem_owner) {
		struct store_op *op = store_write_add(w, SOP_IDEM_PUT);
		if (!op)
			goto fail;
		op->u.idem.key = strdup(r->idem_key);
		op->u.idem.status = status;
		op->u.idem.body = malloc(c->len + 1);
		if (!op->u.idem.key || !op->u.idem.body)
			goto fail;
		if (c->body)
			memcpy(op->u.idem.body, c->body, c->len + 1);
		else
			op->u.idem.body[0] = '\0'; /* a 204: remembered with no body */
		op->u.idem.len = c->len;
		op->u.idem.expires = clock_now_ms() + IDEM_TTL_MS;
	}
	w->done = commit_done;
	w->arg = c;
	http_suspend(r->http);
	rc = store_submit(r->store, w);
	if (rc < 0) {
		store_write_free(w);
		free(c->body);
		free(c);
		if (free_arg)
			free_arg(arg);
		api_fail(r, rc, "write");
	}
	return;
fail:
	store_write_free(w);
	free(body);
	if (c)
		free(c->body);
	free(c);
	if (free_arg)
		free_arg(arg);
	api_fail(r, rc, "write");
}

/* ---- idempotency ---- */

/*
 * idem_begin decides what a POST with an idempotency key does: answered from
 * the store (true), parked behind a running first request (true), or run as
 * the owner of the key (false).
 */
static bool idem_begin(struct api_req *r, const char *token, const char *key)
{
	struct api *api = r->api;
	struct buf b;
	struct idem_flight *f;
	int status;
	char *body = NULL;
	size_t len;

	buf_init(&b, 8192);
	if (buf_printf(&b, "%s\n%s\n%s\n%s", token, r->http->method, r->http->path, key) < 0) {
		buf_release(&b);
		return false;
	}
	sha256_hex(b.data, b.len, r->idem_key);
	buf_release(&b);

	pthread_mutex_lock(&api->idem_mu);
	for (f = api->flights; f; f = f->next) {
		if (strcmp(f->key, r->idem_key) == 0)
			break;
	}
	if (f && f->nwaiters < (int)(sizeof(f->waiters) / sizeof(f->waiters[0]))) {
		f->waiters[f->nwaiters++] = r;
		http_suspend(r->http);
		pthread_mutex_unlock(&api->idem_mu);
		return true;
	}
	if (f) {
		pthread_mutex_unlock(&api->idem_mu);
		http_add_header(r->http, "Retry-After", "1");
		api_error(r, 409, "conflict", "a request with this idempotency key is in progress");
		return true;
	}
	if (store_idem_get(r->store, r->idem_key, &status, &body, &len) == 0) {
		pthread_mutex_unlock(&api->idem_mu);
		http_respond_take(r->http, status, status == 204 ? NULL : "application/json", body, len);
		return true;
	}
	f = calloc(1, sizeof(*f));
	if (f) {
		memcpy(f->key, r->idem_key, sizeof(f->key));
		f->next = api->flights;
		api->flights = f;
		r->idem_owner = true;
	}
	pthread_mutex_unlock(&api->idem_mu);
	return false;
}

static void idem_release(struct api_req *r, int status, const char *body, size_t len)
{
	struct api *api = r->api;
	struct idem_flight **pp, *f = NULL;

	pthread_mutex_lock(&api->idem_mu);
	for (pp = &api->flights; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, r->idem_key) == 0) {
			f = *pp;
			*pp = f->next;
			break;
		}
	}
	pthread_mutex_unlock(&api->idem_mu);
	r->idem_owner = false;
	if (!f)
		return;
	for (int i = 0; i < f->nwaiters; i++) {
		struct http_req *wreq = f->waiters[i]->http;
		http_respond(wreq, status, status == 204 ? NULL : "application/json", body, len);
		http_resume(wreq);
	}
	free(f);
}

/* ---- request entry ---- */

static void api_req_free(void *p)
{
	struct api_req *r = p;
	json_decref(r->body);
	json_decref(r->errors);
	free(r);
}

static int token_lookup(struct api_req *r, const char *hash);

static int authenticate(struct api_req *r, char token_hash[65], bool query_token)
{
	const char *auth = http_header(r->http, "Authorization");
	const char *tok;

	if (!auth && query_token && http_query(r->http, "access_token"))
		tok = http_query(r->http, "access_token");
	else if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return HK_EAUTH;
	else
		tok = auth + 7;
	while (*tok == ' ')
		tok++;
	if (!*tok || strlen(tok) > 1024)
		return HK_EAUTH;
	sha256_hex(tok, strlen(tok), token_hash);
	if (ct_equal(token_hash, 64, r->api->cfg.admin_token_hash, 64)) {
		r->scope = SCOPE_ADMIN;
		return 0;
	}
	return token_lookup(r, token_hash);
}

/*
 * token_lookup finds a minted token by the hash of its text (tokens are
 * documents of kind "token" whose uid is that hash; the text itself is
 * never stored).
 */
static int token_lookup(struct api_req *r, const char *hash)
{
	json_t *doc = NULL;
	json_int_t expires;

	if (store_doc_get(r->store, "token", "", hash, &doc) < 0)
		return HK_EAUTH;
	expires = json_integer_value(json_object_get(doc, "_expires"));
	if (expires && expires < clock_now_ms()) {
		json_decref(doc);
		return HK_EAUTH;
	}
	r->read_only = json_is_true(json_object_get(doc, "readOnly"));
	if (json_str(doc, "app")) {
		r->scope = SCOPE_APP;
		snprintf(r->scope_app, sizeof(r->scope_app), "%s", json_str(doc, "app"));
	} else {
		r->scope = SCOPE_ADMIN;
	}
	json_decref(doc);
	return 0;
}

/*
 * authorize applies the token's scope to the route: 403 for what the token
 * may never do, 404 for another app (so an app token learns nothing of
 * other apps' ids).
 */
static bool authorize(struct api_req *r, const struct api_route *rt)
{
	const char *app = route_param(&r->params, "app");
	json_t *doc = NULL;
	bool same;

	if (rt->flags & RF_PUBLIC)
		return true;
	if (r->read_only && strcmp(r->http->method, "GET") != 0 && !(rt->flags & RF_ANY_TOKEN)) {
		api_error(r, 403, "forbidden", "this token is read-only");
		return false;
	}
	if (r->scope != SCOPE_APP)
		return true;
	if (!app) {
		if (rt->flags & RF_APP_READ)
			return true;
		api_error(r, 403, "forbidden", "an application token cannot use this route");
		return false;
	}
	same = store_doc_get(r->store, "app", "", app, &doc) == 0 &&
	       strcmp(json_str(doc, "id"), r->scope_app) == 0;
	json_decref(doc);
	if (!same) {
		api_error(r, 404, "not_found", "application not found");
		return false;
	}
	if (rt->flags & RF_ADMIN_WRITE && strcmp(r->http->method, "GET") != 0) {
		api_error(r, 403, "forbidden", "an application token cannot change its application");
		return false;
	}
	return true;
}

static bool decode_body(struct api_req *r)
{
	struct http_req *req = r->http;
	const char *ctype = http_header(req, "Content-Type");
	char err[256];

	if (req->body.len == 0)
		return true;
	if (ctype && strncasecmp(ctype, "application/json", 16) != 0 && !strstr(ctype, "+json")) {
		api_error(r, 415, "unsupported_media_type", "content type '%s' is not application/json",
			  ctype);
		return false;
	}
	if (json_parse_bounded(req->body.data, req->body.len, JSON_DEPTH_MAX, &r->body, err,
			       sizeof(err)) < 0) {
		api_error(r, 400, "bad_request", "%s", err);
		return false;
	}
	return true;
}

static void health(struct api_req *r)
{
	if (strstr(r->http->path, "/ping")) {
		api_no_content(r);
		return;
	}
	api_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void dashboard(struct api_req *r)
{
	ui_serve(r->http);
}

/* set_request_id answers with the caller's x-request-id (when sane) or a new one */
static void set_request_id(struct http_req *req)
{
	const char *given = http_header(req, "x-request-id");
	char id[ID_MAX];
	bool ok = given && *given && strlen(given) <= 128;

	for (const char *p = given; ok && *p; p++)
		ok = (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f;
	if (!ok)
		id_new("req_", id);
	http_add_header(req, "x-request-id", ok ? given : id);
}

void api_handle(struct http_req *req, void *arg)
{
	struct api *api = arg;
	struct api_req *r = calloc(1, sizeof(*r));
	const struct route *base = NULL;
	const struct api_route *rt;
	enum router_result res;
	char token_hash[65] = "";

	if (!r) {
		http_respond(req, 500, "application/json", "{\"code\":\"internal\",\"detail\":\"oom\"}", 34);
		return;
	}
	r->http = req;
	r->api = api;
	r->store = api->cfg.store;
	r->errors = json_array();
	req->ctx = r;
	req->ctx_free = api_req_free;
	set_request_id(req);
	if (api->cfg.require_client_cert) {
		const char *why;
		if (!http_client_cert_ok(req, &why)) {
			api_error(r, 403, "client_certificate_required", "%s", why);
			return;
		}
	}
	if (hook_id(api, req->path)) {
		api_hook_receive(r, hook_id(api, req->path));
		return;
	}
	res = router_find(&api->router, req->method, req->path, &base, &r->params);
	rt = (const struct api_route *)base;
	if (res == ROUTE_NO_PATH) {
		api_error(r, 404, "not_found", "no route for '%s %s'", req->method, req->path);
		return;
	}
	if (res == ROUTE_NO_METHOD) {
		api_error(r, 405, "method_not_allowed", "method '%s' is not allowed on '%s'", req->method,
			  req->path);
		return;
	}
	if (!(rt->flags & RF_PUBLIC) && authenticate(r, token_hash, rt->flags & RF_QUERY_TOKEN) < 0) {
		api_error(r, 401, "authentication_failed", "missing or invalid bearer token");
		return;
	}
	if (!authorize(r, rt))
		return;
	if (rt->flags & RF_RAW) {
		rt->fn(r);
		return;
	}
	if (!decode_body(r))
		return;
	if (strcmp(req->method, "POST") == 0) {
		const char *key = http_header(req, "idempotency-key");
		if (key && *key && idem_begin(r, token_hash, key))
			return;
	}
	rt->fn(r);
}

/*
 * api_body_limit picks the body cap when the headers are in: an inbound
 * source's own maxBodyBytes for /in/{source}, the API's limit elsewhere.
 */
size_t api_body_limit(const char *method, const char *path, void *arg)
{
	struct api *api = arg;
	json_t *src = NULL;
	size_t limit = api->cfg.body_limit;
	(void)method;

	if (hook_id(api, path))
		return api->cfg.hooks_body_limit;
	while (*path == '/')
		path++;
	if (strncmp(path, "in/", 3) == 0) {
		char key[257];
		size_t n = strcspn(path + 3, "/");
		if (n < sizeof(key)) {
			memcpy(key, path + 3, n);
			key[n] = '\0';
			if ((api->cfg.fanout ? fanout_doc_shared(api->cfg.fanout, "source", key, &src)
					     : store_doc_get(api->cfg.store, "source", "", key, &src)) == 0) {
				json_int_t v = json_integer_value(json_object_get(src, "maxBodyBytes"));
				if (v > 0)
					limit = (size_t)v;
			}
			json_decref(src);
		}
	}
	return limit;
}

/* ---- lifecycle ---- */

static int add_routes(struct api *api, const struct api_route *routes, size_t n)
{
	struct api_route *p = realloc(api->routes, (api->nroutes + n) * sizeof(*p));
	if (!p)
		return HK_ENOMEM;
	memcpy(p + api->nroutes, routes, n * sizeof(*p));
	api->routes = p;
	api->nroutes += n;
	return 0;
}

int api_new(const struct api_config *cfg, struct api **out)
{
	struct api *api = calloc(1, sizeof(*api));
	int rc = 0;

	if (!api)
		return HK_ENOMEM;
	api->cfg = *cfg;
	if (!api->cfg.body_limit)
		api->cfg.body_limit = 1 << 20;
	if (!api->cfg.hooks_prefix)
		api->cfg.hooks_prefix = "hooks";
	if (!api->cfg.hooks_body_limit)
		api->cfg.hooks_body_limit = api->cfg.body_limit;
	pthread_mutex_init(&api->idem_mu, NULL);
	rc = add_routes(api, api_base_routes, sizeof(api_base_routes) / sizeof(api_base_routes[0]));
	if (rc == 0)
		rc = add_routes(api, api_app_routes, api_app_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_event_type_routes, api_event_type_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_endpoint_routes, api_endpoint_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_msg_routes, api_msg_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_attempt_routes, api_attempt_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_source_routes, api_source_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_inbound_routes, api_inbound_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_transformation_routes, api_transformation_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_ops_routes, api_ops_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_stream_routes, api_stream_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_auth_routes, api_auth_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_poll_routes, api_poll_nroutes);
	if (rc == 0)
		rc = add_routes(api, api_task_routes, api_task_nroutes);
	if (rc == 0 && api->cfg.runner)
		rc = add_routes(api, api_hook_routes, api_hook_nroutes);
	if (rc == 0 && router_init(&api->router, api->routes, api->nroutes, sizeof(*api->routes)) < 0)
		rc = HK_ENOMEM;
	if (rc < 0) {
		api_free(api);
		return rc;
	}
	*out = api;
	return 0;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	while (api->flights) {
		struct idem_flight *f = api->flights;
		api->flights = f->next;
		free(f);
	}
	pthread_mutex_destroy(&api->idem_mu);
	router_release(&api->router);
	free(api->routes);
	free(api);
}
