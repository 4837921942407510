/*
 * poll.c - poll sources: POST|GET /poll, GET|PUT|PATCH|DELETE /poll/{poll}.
 *
 * A poll source is a document of kind "poll" (ids "poll_"). Its request
 * headers are secrets: kept in _headers, shown with masked values in
 * "headers". What the poller learned (seen ids, ETag, failures) is a
 * separate document of kind "poll_state" whose parent is the source, so a
 * delete takes it along; answers show a summary of it as "status".
 * Every committed write tells the poller to reload (poller_invalidate).
 */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "poll/poll.h"
#include "poll/rule.h"

#define POLL_HEADERS_MAX 64
#define POLL_INTERVAL_DEFAULT 60
#define POLL_INTERVAL_MAX (7 * 86400)
#define POLL_BODY_TEXT_MAX (256 * 1024)

/* ---- answers ---- */

static json_t *masked_headers(const json_t *headers)
{
	json_t *out = json_object(), *v;
	const char *name;
	json_object_foreach((json_t *)headers, name, v)
		json_object_set_new(out, name, json_string("********"));
	return out;
}

static json_t *time_or_null(const json_t *ms)
{
	char when[40];
	if (!json_is_integer(ms) || json_integer_value(ms) <= 0)
		return json_null();
	clock_format_ms(json_integer_value(ms), when, sizeof(when));
	return json_string(when);
}

/* status_of summarises a poll_state document for people */
static json_t *status_of(const json_t *st)
{
	json_int_t failures = json_integer_value(json_object_get(st, "failures"));
	const char *err = failures ? json_str(st, "lastError") : NULL;

	return json_pack("{s:b,s:I,s:I,s:s?,s:o,s:o,s:o}", "baselineRecorded",
			 json_is_true(json_object_get(st, "baseline")), "published",
			 json_integer_value(json_object_get(st, "published")), "failures", failures,
			 "lastError", err, "lastErrorAt", time_or_null(json_object_get(st, "lastErrorAt")),
			 "lastChangeAt", time_or_null(json_object_get(st, "lastChangeAt")), "backoffUntil",
			 failures ? time_or_null(json_object_get(st, "backoffUntil")) : json_null());
}

static json_t *poll_out(struct api_req *r, const json_t *doc)
{
	json_t *out = api_public(doc), *st = NULL;
	const char *id = json_str(doc, "id");

	json_object_set_new(out, "headers", masked_headers(json_object_get(doc, "_headers")));
	if (id && store_doc_get(r->store, "poll_state", id, id, &st) == 0)
		json_object_set_new(out, "status", status_of(st));
	else
		json_object_set_new(out, "status", status_of(NULL));
	json_decref(st);
	return out;
}

/* ---- fields ---- */

static bool header_refused(const char *name)
{
	static const char *const names[] = {"host", "content-length", "transfer-encoding", "connection",
					    "keep-alive", "upgrade", "te", "trailer", "if-none-match",
					    "if-modified-since", "expect"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

static void poll_headers(struct api_req *r, json_t *doc)
{
	json_t *headers = json_object_get(r->body, "headers"), *v, *keep;
	const char *name;

	if (!headers)
		return;
	if (json_is_null(headers)) {
		json_object_set_new(doc, "_headers", json_object());
		return;
	}
	if (!json_is_object(headers) || json_object_size(headers) > POLL_HEADERS_MAX) {
		api_field_error(r, "body", "headers", "must be an object of at most 64 headers");
		return;
	}
	keep = json_object();
	json_object_foreach(headers, name, v) {
		json_t *had = json_object_get(json_object_get(doc, "_headers"), name);
		if (had && json_is_string(v) && strcmp(json_string_value(v), "********") == 0)
			v = had; /* a masked value sent back unchanged keeps the secret */
		if (!valid_header_name(name) || header_refused(name)) {
			api_field_error(r, "body", "headers", "a header name is not allowed");
			break;
		}
		if (!json_is_string(v) || json_string_length(v) > 4096 || !valid_header_value(json_string_value(v))) {
			api_field_error(r, "body", "headers", "header values must be strings without line breaks");
			break;
		}
		json_object_set(keep, name, v);
	}
	json_object_set_new(doc, "_headers", keep);
}

static void poll_rule(struct api_req *r, json_t *doc, bool patch)
{
	json_t *rule = json_object_get(r->body, "rule");
	struct poll_rule parsed;
	char err[256];

	if (!rule || json_is_null(rule)) {
		if (!patch)
			api_field_error(r, "body", "rule", "field required");
		return;
	}
	if (poll_rule_parse(rule, &parsed, err, sizeof(err)) < 0) {
		api_field_error(r, "body", "rule", err);
		return;
	}
	json_object_set_new(doc, "rule", json_deep_copy(rule));
}

static void poll_app(struct api_req *r, json_t *doc, bool patch)
{
	const char *app = api_in_str(r, "app", !patch, 256);
	json_t *found = NULL;

	if (!app)
		return;
	if (store_doc_get(r->store, "app", "", app, &found) < 0)
		api_field_error(r, "body", "app", "application not found");
	else
		json_object_set_new(doc, "app", json_string(app));
	json_decref(found);
}

static void poll_fields(struct api_req *r, json_t *doc, bool patch)
{
	const char *url = api_in_str(r, "url", !patch, 65536), *uid = api_in_str(r, "uid", false, 256);
	const char *method = api_in_str(r, "method", false, 8), *type = api_in_str(r, "eventType", false, 256);
	json_t *body = json_object_get(r->body, "body");
	const char *why;

	if (uid && !valid_uid(uid, "poll_", &why))
		api_field_error(r, "body", "uid", why);
	else if (uid)
		json_object_set_new(doc, "uid", json_string(uid));
	if (url && !valid_url(url, &why))
		api_field_error(r, "body", "url", why);
	else if (url)
		json_object_set_new(doc, "url", json_string(url));
	if (method && strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		api_field_error(r, "body", "method", "must be GET or POST");
	else if (method || !patch)
		json_object_set_new(doc, "method", json_string(method ? method : "GET"));
	if (body && !json_is_null(body)) {
		char *text = json_dump_compact(body, NULL);
		if (!text || strlen(text) > POLL_BODY_TEXT_MAX)
			api_field_error(r, "body", "body", "must be JSON of at most 256 KiB");
		else
			json_object_set(doc, "body", body);
		free(text);
	} else if (body || !patch) {
		json_object_del(doc, "body");
	}
	if (json_object_get(r->body, "intervalSeconds") || !patch)
		json_object_set_new(doc, "intervalSeconds",
				    json_integer(api_in_int(r, "intervalSeconds", POLL_INTERVAL_DEFAULT, 1,
							    POLL_INTERVAL_MAX)));
	if (type && !valid_name(type, 256))
		api_field_error(r, "body", "eventType", "must be a name of letters, digits, '.', '_' or '-'");
	else if (type || !patch)
		json_object_set_new(doc, "eventType", json_string(type ? type : "poll.changed"));
	if (json_object_get(r->body, "emitInitial") || !patch)
		json_object_set_new(doc, "emitInitial", json_boolean(api_in_bool(r, "emitInitial", false)));
	if (json_object_get(r->body, "disabled") || !patch)
		json_object_set_new(doc, "disabled", json_boolean(api_in_bool(r, "disabled", false)));
	poll_app(r, doc, patch);
	poll_rule(r, doc, patch);
	poll_headers(r, doc);
	if (!patch && !json_object_get(r->body, "headers"))
		json_object_set_new(doc, "_headers", json_object());
	if (json_object_get(doc, "body") && strcmp(json_str(doc, "method"), "POST") != 0)
		api_field_error(r, "body", "body", "only a POST sends a body");
}

static json_t *poll_new_doc(void)
{
	char id[ID_MAX], now[40];
	id_new("poll_", id);
	api_now_str(now, NULL);
	return json_pack("{s:s,s:n,s:s,s:s,s:{}}", "id", id, "uid", "createdAt", now, "updatedAt", now,
			 "_headers");
}

/* ---- writes ---- */

static void reload_poller(void *arg)
{
	poller_invalidate(arg);
}

static void poll_write(struct api_req *r, enum store_op_kind kind, json_t *doc, int status)
{
	struct store_write *w = store_write_new(NULL, NULL);
	int64_t now = clock_now_ms();

	if (!w || store_write_doc(w, kind, "poll", json_str(doc, "id"), "", json_str(doc, "uid"), doc, now,
				  now) < 0) {
		store_write_free(w);
		api_fail(r, HK_ENOMEM, "poll source");
		return;
	}
	api_commit_then(r, w, status, status == 204 ? NULL : poll_out(r, doc), reload_poller, api_poller(r),
			NULL);
}

static json_t *poll_load(struct api_req *r)
{
	json_t *doc = NULL;
	int rc = store_doc_get(r->store, "poll", "", api_param(r, "poll"), &doc);
	if (rc < 0)
		api_fail(r, rc, "poll source");
	return doc;
}

/* ---- handlers ---- */

static void poll_create(struct api_req *r)
{
	json_t *doc = poll_new_doc(), *existing = NULL;

	if (!json_is_object(r->body))
		api_field_error(r, "body", "url", "field required");
	else
		poll_fields(r, doc, false);
	if (json_array_size(r->errors)) {
		api_invalid(r);
	} else if (json_str(doc, "uid") &&
		   store_doc_get(r->store, "poll", "", json_str(doc, "uid"), &existing) == 0) {
		api_error(r, 409, "conflict", "a poll source with uid '%s' already exists", json_str(doc, "uid"));
		json_decref(existing);
	} else {
		poll_write(r, SOP_DOC_INSERT, doc, 201);
	}
	json_decref(doc);
}

static void poll_list(struct api_req *r)
{
	api_doc_list(r, "poll", "", false, poll_out, "poll sources");
}

static void poll_get(struct api_req *r)
{
	json_t *doc = poll_load(r);
	if (doc) {
		api_json(r, 200, poll_out(r, doc));
		json_decref(doc);
	}
}

/* poll_update serves PATCH and PUT; PUT on an unknown uid creates the source */
static void poll_update(struct api_req *r, bool patch)
{
	json_t *doc = NULL;
	const char *key = api_param(r, "poll"), *why;
	enum store_op_kind kind = SOP_DOC_UPDATE;
	int rc = store_doc_get(r->store, "poll", "", key, &doc), status = 200;
	char now[40];

	if (rc == HK_ENOTFOUND && !patch && valid_uid(key, "poll_", &why)) {
		doc = poll_new_doc();
		json_object_set_new(doc, "uid", json_string(key));
		kind = SOP_DOC_INSERT;
		status = 201;
	} else if (rc < 0) {
		api_fail(r, rc, "poll source");
		return;
	}
	if (!json_is_object(r->body))
		api_field_error(r, "body", "url", "field required");
	else
		poll_fields(r, doc, patch);
	if (json_array_size(r->errors)) {
		api_invalid(r);
	} else {
		api_now_str(now, NULL);
		json_object_set_new(doc, "updatedAt", json_string(now));
		poll_write(r, kind, doc, status);
	}
	json_decref(doc);
}

static void poll_put(struct api_req *r)
{
	poll_update(r, false);
}

static void poll_patch(struct api_req *r)
{
	poll_update(r, true);
}

static void poll_delete(struct api_req *r)
{
	json_t *doc = poll_load(r);
	if (doc) {
		poll_write(r, SOP_DOC_DELETE, doc, 204);
		json_decref(doc);
	}
}

const struct api_route api_poll_routes[] = {
	{{"POST", "/api/v1/poll"}, poll_create, 0},
	{{"GET", "/api/v1/poll"}, poll_list, 0},
	{{"GET", "/api/v1/poll/{poll}"}, poll_get, 0},
	{{"PUT", "/api/v1/poll/{poll}"}, poll_put, 0},
	{{"PATCH", "/api/v1/poll/{poll}"}, poll_patch, 0},
	{{"DELETE", "/api/v1/poll/{poll}"}, poll_delete, 0},
};
const size_t api_poll_nroutes = sizeof(api_poll_routes) / sizeof(api_poll_routes[0]);
