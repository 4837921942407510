/*
 * hooks.c - command hooks over HTTP: /hooks/{id} (adnanh/webhook 2.8
 * compatible; --urlprefix changes "hooks") and /api/v1/hook (runs).
 *
 * /hooks/{id}, in order, with adnanh's answers:
 *   unknown id                       404 "Hook not found."
 *   method not in http-methods       405
 *   malformed multipart body         500 "Error occurred while parsing multipart form."
 *   rules not satisfied              mismatch code or 200 "Hook rules were not satisfied."
 *   rules cannot be evaluated        500 "Error occurred while evaluating hook rules."
 * then hookd's own steps:
 *   a value with a NUL byte          400 "argument contains a NUL byte", no run
 *   a known delivery id seen before  the success answer, no run (X-Hookd-Duplicate)
 *   the hook's queue is full         503 + Retry-After, nothing stored
 *   journal the request and its queued run in one commit, then
 *     without include-command-output-in-response: answer response-message
 *     with the success code right after the commit;
 *     with it: the request stays suspended (no server thread held) until the
 *     run ends, then the output (200 / success code / exit-code-status), or
 *     500 on failure (the output only with ...-on-error).
 *
 * The request is journaled in the inbound table under the source
 * "hook:<id>", marked routed in the same commit, so the run's eventId
 * points at exactly what was received.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "hooks/runner.h"
#include "inbound/provider.h"

#define HOOKS_DEDUPE_WINDOW_MS (24LL * 3600 * 1000)
#define MSG_EXEC_ERROR "Error occurred while executing the hook's command. Please check your logs for more details."

/* the delivery id headers of known providers; a request carrying one is de-duplicated */
static const char *const delivery_headers[] = {
	"X-GitHub-Delivery", "X-Gitlab-Event-UUID", "X-Gitea-Delivery", "X-Forgejo-Delivery",
	"X-Gogs-Delivery", "X-Request-UUID", "X-Shopify-Webhook-Id", "webhook-id", "svix-id",
	"Linear-Delivery", "I-Twilio-Idempotency-Token",
};

struct hook_call {
	struct api_req *r;
	struct hookset *set;
	const struct hookdef *def;
	struct runner_job *job;
	char source[ID_MAX];
	char *dedupe_key;
	bool wait;
};

static void call_free(struct hook_call *c)
{
	hookset_release(c->set);
	free(c->dedupe_key);
	free(c);
}

/* known_status keeps a code Go's net/http has a name for, else answers dflt, as adnanh does */
static int known_status(int code, int dflt)
{
	static const short known[] = {
		100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303,
		304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413,
		414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502,
		503, 504, 505, 506, 507, 508, 510, 511,
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i] == code)
			return code;
	return dflt;
}

/*
 * reply answers in text; triggered answers (def set) carry the hook's
 * response-headers as adnanh sets them: a name given twice keeps its last
 * value, and Content-Type replaces hookd's. Works on a suspended request.
 */
static void reply(struct api_req *r, const struct hookdef *def, int status, const char *body, size_t len)
{
	struct http_req *req = r->http;
	bool suspended = http_is_suspended(req);
	const char *type = "text/plain; charset=utf-8";

	for (size_t i = 0; def && i < def->nresponse_headers; i++) {
		const char *name = def->response_headers[i].name;
		bool later = false;
		for (size_t k = i + 1; k < def->nresponse_headers && !later; k++)
			later = strcasecmp(name, def->response_headers[k].name) == 0;
		if (later)
			continue;
		if (strcasecmp(name, "Content-Type") == 0)
			type = def->response_headers[i].value;
		else
			http_add_header(req, name, def->response_headers[i].value);
	}
	http_respond(req, status, type, body, len);
	if (suspended)
		http_resume(req); /* last touch */
}

static void replys(struct api_req *r, const struct hookdef *def, int status, const char *body)
{
	reply(r, def, status, body, strlen(body));
}

static void reply_accepted(struct api_req *r, const struct hookdef *def)
{
	replys(r, def, known_status(def->success_http_response_code, 200), def->response_message);
}

/* run_answered turns a finished run into the waiting request's answer (loop thread) */
static void run_answered(void *arg, const struct runner_result *res)
{
	struct hook_call *c = arg;
	const struct hookdef *def = c->def;
	int status;

	if (res->status == HOOK_RUN_INTERRUPTED) {
		http_add_header(c->r->http, "Retry-After", "5");
		replys(c->r, NULL, 503, "hookd is shutting down; the run will start again when it is back.");
		call_free(c);
		return;
	}
	if (res->status == HOOK_RUN_SUCCEEDED)
		status = def->exit_code_status ? hookdef_exit_http_status(def, 0)
					       : known_status(def->success_http_response_code, 200);
	else if (def->exit_code_status && res->status == HOOK_RUN_FAILED && res->exit_code >= 0)
		status = hookdef_exit_http_status(def, res->exit_code);
	else
		status = 500;
	status = known_status(status, 200);
	/* adnanh answers a run that succeeded with its output whatever the success code */
	if (res->status == HOOK_RUN_SUCCEEDED || status < 400 || def->include_command_output_in_response_on_error)
		reply(c->r, def, status, res->output, res->output_len);
	else
		replys(c->r, def, status, MSG_EXEC_ERROR);
	call_free(c);
}

static void committed(struct store_write *w, int rc, void *arg)
{
	struct hook_call *c = arg;
	char first[ID_MAX];
	(void)w;

	if (rc == 0) {
		bool wait = c->wait;
		runner_job_commit(c->job); /* with wait, c now belongs to run_answered */
		if (!wait) {
			reply_accepted(c->r, c->def);
			call_free(c);
		}
		return;
	}
	runner_job_abort(c->job);
	if (rc == HK_ECONFLICT &&
	    store_inbound_dedupe_get(c->r->store, c->source, c->dedupe_key, first) == 0) {
		http_add_header(c->r->http, "X-Hookd-Duplicate", first);
		reply_accepted(c->r, c->def);
	} else {
		http_add_header(c->r->http, "Retry-After", "1");
		replys(c->r, NULL, 503, "The request could not be stored; retry later.");
	}
	call_free(c);
}

/* hook_source names a hook's journal source, within ID_MAX */
static void hook_source(const char *id, char out[ID_MAX])
{
	if (strlen(id) + strlen(RUNNER_SOURCE_PREFIX) < ID_MAX) {
		snprintf(out, ID_MAX, "%s%s", RUNNER_SOURCE_PREFIX, id);
	} else {
		char hex[65];
		sha256_hex(id, strlen(id), hex);
		snprintf(out, ID_MAX, "%s#%.32s", RUNNER_SOURCE_PREFIX, hex);
	}
}

/* dedupe_key is the provider's delivery id, or NULL when the request has none */
static char *dedupe_key(struct api_req *r)
{
	for (size_t i = 0; i < sizeof(delivery_headers) / sizeof(delivery_headers[0]); i++) {
		const char *v = http_header(r->http, delivery_headers[i]);
		const char *hook = http_header(r->http, "X-GitHub-Hook-ID");
		struct buf b;
		if (!v || !*v)
			continue;
		buf_init(&b, 2048);
		if (i == 0 && hook)
			buf_printf(&b, "%s:%s:%s", delivery_headers[i], hook, v);
		else
			buf_printf(&b, "%s:%s", delivery_headers[i], v);
		return buf_detach(&b, NULL);
	}
	return NULL;
}

/* journal_ops adds the request's journal entry (and its "routed" mark) to w */
static int journal_ops(struct api_req *r, struct hook_call *c, const char *event, const char *run,
		       bool keyed, struct store_write *w)
{
	struct store_op *op = store_write_add(w, SOP_INBOUND_INSERT);
	struct store_inbound *in;
	const char *q = strchr(r->http->raw_uri, '?');
	char remote[96];

	if (!op)
		return HK_ENOMEM;
	in = &op->u.in;
	snprintf(in->id, sizeof(in->id), "%s", event);
	snprintf(in->source, sizeof(in->source), "%s", c->source);
	snprintf(in->method, sizeof(in->method), "%s", r->http->method);
	snprintf(remote, sizeof(remote), strchr(r->http->remote_addr, ':') ? "[%s]:%u" : "%s:%u",
		 r->http->remote_addr, r->http->remote_port);
	in->dedupe_key = strdup(c->dedupe_key);
	in->path = strdup(r->http->path);
	in->query = strdup(q ? q + 1 : "");
	in->headers = http_headers_json(r->http, NULL);
	in->remote = strdup(remote);
	in->body = malloc(r->http->body.len + 1);
	if (!in->dedupe_key || !in->path || !in->query || !in->headers || !in->remote || !in->body)
		return HK_ENOMEM;
	memcpy(in->body, buf_cstr(&r->http->body), r->http->body.len);
	in->body_len = r->http->body.len;
	in->verified = true;
	in->created = clock_now_ms();
	in->dedupe_expires = keyed ? in->created + HOOKS_DEDUPE_WINDOW_MS : in->created;
	op = store_write_add(w, SOP_INBOUND_ROUTED);
	if (!op)
		return HK_ENOMEM;
	snprintf(op->u.routed.id, sizeof(op->u.routed.id), "%s", event);
	op->u.routed.status = INBOUND_ROUTED;
	op->u.routed.routed = NULL;
	{
		json_t *log = json_pack("[{s:s,s:s}]", "hook", c->def->id, "run", run);
		op->u.routed.routed = log ? json_dump_compact(log, NULL) : NULL;
		json_decref(log);
	}
	return op->u.routed.routed ? 0 : HK_ENOMEM;
}

struct hdr_ctx {
	struct hookreq *req;
	int rc;
};

static void add_header_req(const char *name, const char *value, void *arg)
{
	struct hdr_ctx *hc = arg;
	int rc = hookreq_add_header(hc->req, name, value);
	if (rc < 0 && hc->rc == 0)
		hc->rc = rc;
}

/* request_of reads the HTTP request into the values hooks refer to */
static int request_of(struct api_req *r, struct hookreq **out)
{
	const char *q = strchr(r->http->raw_uri, '?');
	char remote[96];
	struct hdr_ctx hc = {NULL, 0};

	snprintf(remote, sizeof(remote), strchr(r->http->remote_addr, ':') ? "[%s]:%u" : "%s:%u",
		 r->http->remote_addr, r->http->remote_port);
	hc.req = hookreq_new(r->http->method, remote);
	if (!hc.req)
		return HK_ENOMEM;
	http_headers_each(r->http, add_header_req, &hc);
	if (hc.rc == 0 && q)
		hc.rc = hookreq_set_query(hc.req, q + 1, strlen(q + 1));
	if (hc.rc == 0)
		hc.rc = hookreq_set_body(hc.req, buf_cstr(&r->http->body), r->http->body.len);
	if (hc.rc < 0) {
		hookreq_free(hc.req);
		return hc.rc;
	}
	*out = hc.req;
	return 0;
}

static const char *req_header(void *ctx, const char *name)
{
	return http_header(ctx, name);
}

/*
 * verify_source applies hookd's `source` field: the named inbound source's
 * provider verification must pass (as on /in/{source}). 0 when it passes;
 * otherwise the request has been answered.
 */
static int verify_source(struct api_req *r, const struct hookdef *def)
{
	json_t *src = NULL, *secrets, *s;
	const struct provider *p;
	const char *list[16];
	struct provider_cfg pc = {0};
	struct provider_req pr = {0};
	char reason[160] = "";
	size_t n = 0, i;
	int rc = 0;

	if (store_doc_get(r->store, "source", "", def->source, &src) < 0 ||
	    !(p = provider_find(json_str(src, "provider")))) {
		log_warnx("hook '%s': source '%s' is not usable", def->id, def->source);
		replys(r, NULL, 500, "Error occurred while evaluating hook rules.");
		json_decref(src);
		return HK_ENOTFOUND;
	}
	secrets = json_object_get(src, "_secrets");
	json_array_foreach(secrets, i, s) {
		if (n < 16)
			list[n++] = json_string_value(s);
	}
	pc.secrets = list;
	pc.nsecrets = n;
	pc.tolerance_seconds = (int)json_integer_value(json_object_get(src, "toleranceSeconds"));
	pc.config = json_object_get(src, "config");
	pr.method = r->http->method;
	pr.url = r->http->raw_uri;
	pr.header = req_header;
	pr.hctx = r->http;
	pr.body = (const unsigned char *)buf_cstr(&r->http->body);
	pr.body_len = r->http->body.len;
	pr.content_type = http_header(r->http, "Content-Type");
	pr.now = clock_now_ms() / 1000;
	if (provider_verify(p, &pc, &pr, reason, sizeof(reason)) < 0) {
		log_info("hook '%s' rejected by source '%s': %s", def->id, def->source, reason);
		replys(r, NULL, 401, "Signature verification failed.");
		rc = HK_EVERIFY;
	}
	json_decref(src);
	return rc;
}

/* accept journals the request with its run, then answers (now, or when the run ends) */
static void accept_call(struct api_req *r, struct hook_call *c, struct hookdef_argv *argv)
{
	struct store_write *w = store_write_new(committed, c);
	char event[ID_MAX], first[ID_MAX];
	bool keyed = c->dedupe_key != NULL;
	int rc = w ? 0 : HK_ENOMEM;

	id_new("evt_", event);
	if (keyed && store_inbound_dedupe_get(r->store, c->source, c->dedupe_key, first) == 0) {
		hookdef_argv_release(argv);
		store_write_free(w);
		http_add_header(r->http, "X-Hookd-Duplicate", first);
		reply_accepted(r, c->def);
		call_free(c);
		return;
	}
	if (!keyed) {
		char key[ID_MAX + 8];
		snprintf(key, sizeof(key), "event:%s", event);
		c->dedupe_key = strdup(key);
		if (!c->dedupe_key)
			rc = HK_ENOMEM;
	}
	if (rc == 0)
		rc = runner_job_new(api_runner(r), c->set, c->def, event, "http", NULL, false, argv, w, &c->job);
	else
		hookdef_argv_release(argv);
	if (rc == 0)
		rc = journal_ops(r, c, event, runner_job_id(c->job), keyed, w);
	if (rc == 0 && c->wait)
		rc = runner_job_wait(c->job, run_answered, c);
	if (rc == 0) {
		http_suspend(r->http);
		rc = store_submit(r->store, w);
		if (rc == 0)
			return;
	}
	if (c->job)
		runner_job_abort(c->job);
	if (w)
		w->done = NULL;
	store_write_free(w);
	if (rc == HK_EFULL || rc == HK_ECLOSED || rc == HK_EBUSY) {
		http_add_header(r->http, "Retry-After", "1");
		replys(r, NULL, 503,
		       rc == HK_ECLOSED ? "hookd is shutting down; retry later." : "The hook's queue is full; retry later.");
	} else {
		replys(r, NULL, 500, "The request could not be stored.");
	}
	call_free(c);
}

void api_hook_receive(struct api_req *r, const char *id)
{
	struct hook_call *c = calloc(1, sizeof(*c));
	struct hookreq *req = NULL;
	struct hookdef_argv argv;
	const char *body;
	char err[256] = "";
	int status, rc;

	if (!c) {
		replys(r, NULL, 500, "out of memory");
		return;
	}
	c->r = r;
	c->set = runner_hooks(api_runner(r));
	c->def = hookset_find(c->set, id);
	if (!c->def) {
		replys(r, NULL, 404, "Hook not found.");
		goto out;
	}
	if (!hookdef_method_allowed(c->def, r->http->method)) {
		reply(r, NULL, 405, "", 0);
		goto out;
	}
	if (c->def->source && verify_source(r, c->def) < 0)
		goto out;
	rc = request_of(r, &req);
	if (rc == 0)
		rc = hookdef_prepare_request(c->def, req);
	if (rc == HK_EPARSE) {
		replys(r, NULL, 500, "Error occurred while parsing multipart form.");
		goto out;
	}
	if (rc < 0) {
		replys(r, NULL, rc == HK_ETOOBIG ? 413 : 500, hk_strerror(rc));
		goto out;
	}
	if (hookdef_trigger(c->def, req, &status, &body, err, sizeof(err)) != RULES_MATCH) {
		if (err[0])
			log_info("hook '%s': %s", c->def->id, err);
		replys(r, NULL, known_status(status, 200), body);
		goto out;
	}
	rc = hookdef_build_argv(c->def, req, &argv, err, sizeof(err));
	if (rc < 0) {
		replys(r, NULL, rc == HK_EINVAL ? 400 : 500, err[0] ? err : hk_strerror(rc));
		goto out;
	}
	hookreq_free(req);
	hook_source(c->def->id, c->source);
	c->dedupe_key = dedupe_key(r);
	c->wait = c->def->include_command_output_in_response;
	accept_call(r, c, &argv);
	return;
out:
	hookreq_free(req);
	call_free(c);
}

/* ---- /api/v1/hook ---- */

static void describe(const struct hookdef *d, void *arg)
{
	struct api_req *r = ((void **)arg)[0];
	json_t *data = ((void **)arg)[1], *methods = json_array(), *doc;

	for (size_t i = 0; i < d->nhttp_methods; i++)
		json_array_append_new(methods, json_string(d->http_methods[i]));
	doc = json_pack("{s:s,s:s,s:s,s:o,s:b,s:b,s:i,s:i,s:i,s:b,s:I,s:s?,s:o}", "id", d->id,
			"executeCommand", d->execute_command, "commandWorkingDirectory",
			d->command_working_directory, "httpMethods", methods,
			"includeCommandOutputInResponse", d->include_command_output_in_response,
			"includeCommandOutputInResponseOnError",
			d->include_command_output_in_response_on_error, "concurrency", (int)d->concurrency,
			"queue", (int)d->queue, "timeout", (int)d->timeout_s, "coalesce", d->coalesce,
			"outputLimit", (json_int_t)d->output_limit, "source", d->source, "state",
			runner_hook_state(api_runner(r), d->id));
	if (doc)
		json_array_append_new(data, doc);
}

static void hook_list(struct api_req *r)
{
	struct hookset *set = runner_hooks(api_runner(r));
	json_t *data = json_array();
	void *arg[2] = {r, data};

	hookset_each(set, describe, arg);
	hookset_release(set);
	api_json(r, 200, json_pack("{s:o,s:n,s:n,s:b}", "data", data, "iterator", "prevIterator", "done", 1));
}

static void run_list(struct api_req *r)
{
	struct store_page pg;
	struct store_list l;
	int rc;

	api_page(r, &pg, true);
	if (json_array_size(r->errors)) {
		api_invalid(r);
		return;
	}
	rc = store_hook_run_list(r->store, api_param(r, "hook"), &pg, &l);
	if (rc < 0) {
		api_fail(r, rc, "runs");
		return;
	}
	api_list(r, &l);
}

static void run_get(struct api_req *r)
{
	json_t *doc = NULL;
	int rc = store_hook_run_get(r->store, api_param(r, "hook"), api_param(r, "run"), &doc);

	if (rc < 0) {
		api_fail(r, rc, "run");
		return;
	}
	api_json(r, 200, doc);
}

struct rerun_ctx {
	struct runner_job *job;
	bool taken;
};

static void rerun_then(void *arg)
{
	struct rerun_ctx *c = arg;
	runner_job_commit(c->job);
	c->taken = true;
}

static void rerun_free(void *arg)
{
	struct rerun_ctx *c = arg;
	if (!c->taken)
		runner_job_abort(c->job);
	free(c);
}

static void run_rerun(struct api_req *r)
{
	const char *hook = api_param(r, "hook"), *run = api_param(r, "run");
	struct hookset *set = runner_hooks(api_runner(r));
	const struct hookdef *def = hookset_find(set, hook);
	struct hookdef_argv argv;
	struct rerun_ctx *c = NULL;
	struct store_write *w = NULL;
	json_t *old = NULL, *doc;
	char err[256] = "";
	int rc = store_hook_run_get(r->store, hook, run, &old);

	if (rc < 0) {
		api_fail(r, rc, "run");
		goto out;
	}
	if (!def) {
		api_error(r, 404, "not_found", "hook '%s' is not loaded", hook);
		goto out;
	}
	rc = runner_event_argv(api_runner(r), def, json_str(old, "eventId"), false, &argv, err, sizeof(err));
	if (rc < 0) {
		api_error(r, 409, "conflict", "cannot run again: %s", err);
		goto out;
	}
	c = calloc(1, sizeof(*c));
	w = store_write_new(NULL, NULL);
	if (!c || !w) {
		hookdef_argv_release(&argv);
		free(c);
		store_write_free(w);
		api_fail(r, HK_ENOMEM, "run");
		goto out;
	}
	rc = runner_job_new(api_runner(r), set, def, json_str(old, "eventId"), "rerun", run, false, &argv, w,
			    &c->job);
	if (rc < 0) {
		free(c);
		store_write_free(w);
		api_fail(r, rc, "run");
		goto out;
	}
	doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", runner_job_id(c->job), "hookId", def->id,
			"eventId", json_str(old, "eventId"), "status", "queued", "trigger", "rerun",
			"retryOf", run);
	api_commit_then(r, w, 202, doc, rerun_then, c, rerun_free);
out:
	json_decref(old);
	hookset_release(set);
}

const struct api_route api_hook_routes[] = {
	{{"GET", "/api/v1/hook"}, hook_list, 0},
	{{"GET", "/api/v1/hook/{hook}/run"}, run_list, 0},
	{{"GET", "/api/v1/hook/{hook}/run/{run}"}, run_get, 0},
	{{"POST", "/api/v1/hook/{hook}/run/{run}/rerun"}, run_rerun, 0},
};
const size_t api_hook_nroutes = sizeof(api_hook_routes) / sizeof(api_hook_routes[0]);
