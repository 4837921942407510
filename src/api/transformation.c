/*
 * transformation.c - an endpoint's transformation: GET|PUT|PATCH|DELETE
 * /app/{app}/endpoint/{ep}/transformation and POST .../transformation/simulate.
 *
 * The script lives in the endpoint document, in private members:
 *   _transformation         {"code", "enabled", "version", "updatedAt"}
 *   _transformationVersion  a counter that only grows (kept across DELETE),
 *                           so "<endpoint id>#<version>" never names two
 *                           different scripts in the dispatcher's cache
 * A script is checked before it is stored: it must compile and define
 * handler() (422 with the reason otherwise). Simulate runs a script once
 * on this thread, in the same sandbox and limits as deliveries, and sends
 * nothing. See docs/transformations.md for the shapes.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "transform/transform.h"

/* tf_load finds {ep} within {app}; answers 404 itself */
static json_t *tf_load(struct api_req *r)
{
	json_t *app = api_load_app(r), *ep = NULL;
	int rc;

	if (!app)
		return NULL;
	rc = store_doc_get(r->store, "endpoint", json_str(app, "id"), api_param(r, "ep"), &ep);
	json_decref(app);
	if (rc < 0) {
		api_fail(r, rc, "endpoint");
		return NULL;
	}
	return ep;
}

/* tf_out is the public shape: {code, enabled, version, updatedAt} */
static json_t *tf_out(const json_t *ep)
{
	json_t *t = json_object_get(ep, "_transformation");
	if (!t)
		return json_pack("{s:n,s:b,s:i,s:n}", "code", "enabled", 0, "version", 0, "updatedAt");
	return json_pack("{s:O,s:O,s:O,s:O}", "code", json_object_get(t, "code"), "enabled",
			 json_object_get(t, "enabled"), "version", json_object_get(t, "version"),
			 "updatedAt", json_object_get(t, "updatedAt"));
}

static void tf_write(struct api_req *r, json_t *ep, int status, json_t *answer)
{
	struct store_write *w = store_write_new(NULL, NULL);
	int64_t now = clock_now_ms();
	char ts[40];

	clock_format_ms(now, ts, sizeof(ts));
	json_object_set_new(ep, "updatedAt", json_string(ts));
	if (!w || store_write_doc(w, SOP_DOC_UPDATE, "endpoint", json_str(ep, "id"), json_str(ep, "_app"),
				  json_str(ep, "uid"), ep, now, now) < 0) {
		store_write_free(w);
		json_decref(answer);
		api_fail(r, HK_ENOMEM, "endpoint");
		return;
	}
	api_commit(r, w, status, answer);
}

/* tf_check_code records a 422 detail unless code compiles and defines handler */
static void tf_check_code(struct api_req *r, const char *code)
{
	char err[512];
	if (code && transform_check(code, err, sizeof(err)) < 0)
		api_field_error(r, "body", "code", err);
}

static void tf_get(struct api_req *r)
{
	json_t *ep = tf_load(r);
	if (!ep)
		return;
	api_json(r, 200, tf_out(ep));
	json_decref(ep);
}

/* tf_set serves PUT (code required, enabled defaults to true) and PATCH (either, merged) */
static void tf_set(struct api_req *r, bool patch)
{
	json_t *ep = tf_load(r), *old, *t;
	const char *code;
	bool enabled;
	json_int_t version;
	char ts[40];

	if (!ep)
		return;
	old = json_object_get(ep, "_transformation");
	code = api_in_str(r, "code", !patch, TRANSFORM_CODE_MAX);
	if (!code && patch)
		code = json_str(old, "code");
	enabled = api_in_bool(r, "enabled", patch && old ? json_is_true(json_object_get(old, "enabled")) : true);
	if (patch && !code && !json_array_size(r->errors) && enabled)
		api_field_error(r, "body", "code", "field required");
	if (json_object_get(r->body, "code"))
		tf_check_code(r, code);
	if (json_array_size(r->errors)) {
		json_decref(ep);
		api_invalid(r);
		return;
	}
	version = json_integer_value(json_object_get(ep, "_transformationVersion")) + 1;
	api_now_str(ts, NULL);
	t = json_pack("{s:s?,s:b,s:I,s:s}", "code", code, "enabled", enabled, "version", version,
		      "updatedAt", ts);
	json_object_set_new(ep, "_transformation", t);
	json_object_set_new(ep, "_transformationVersion", json_integer(version));
	tf_write(r, ep, patch ? 204 : 200, patch ? NULL : tf_out(ep));
	json_decref(ep);
}

static void tf_put(struct api_req *r)
{
	tf_set(r, false);
}

static void tf_patch(struct api_req *r)
{
	tf_set(r, true);
}

static void tf_delete(struct api_req *r)
{
	json_t *ep = tf_load(r);
	if (!ep)
		return;
	json_object_del(ep, "_transformation");
	tf_write(r, ep, 204, NULL);
	json_decref(ep);
}

/* ---- simulate ---- */

/* shown_headers masks the values of sensitive headers */
static json_t *shown_headers(const json_t *headers)
{
	json_t *out = json_object(), *v;
	const char *name;
	json_object_foreach((json_t *)headers, name, v)
		json_object_set_new(out, name, valid_header_sensitive(name) ? json_string("********")
									     : json_copy(v));
	return out;
}

static json_t *parse_or_text(const char *text, size_t len)
{
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	return v ? v : json_stringn(text, len);
}

/*
 * simulate_input reads the event to run on: {eventType, payload} or
 * {msgId}; *payload gets its JSON text (malloc'd).
 */
static int simulate_input(struct api_req *r, const json_t *ep, char **event_type, char **payload,
			  size_t *len)
{
	const char *msg = api_in_str(r, "msgId", false, 256);
	const char *type = api_in_str(r, "eventType", !msg, 256);
	json_t *p = json_object_get(r->body, "payload"), *doc = NULL;

	if (msg) {
		int rc = store_msg_get(r->store, json_str(ep, "_app"), msg, true, &doc);
		if (rc < 0) {
			api_field_error(r, "body", "msgId", "message not found");
			return rc;
		}
		type = json_str(doc, "eventType");
		p = json_object_get(doc, "payload");
	} else if (!p) {
		api_field_error(r, "body", "payload", "field required");
	}
	if (type && !valid_name(type, 256))
		api_field_error(r, "body", "eventType", "event type names may only contain letters, digits and . _ - : / *");
	if (json_array_size(r->errors)) {
		json_decref(doc);
		return HK_EINVAL;
	}
	*event_type = strdup(type);
	*payload = json_dump_compact(p, len);
	json_decref(doc);
	return *event_type && *payload ? 0 : HK_ENOMEM;
}

static void tf_simulate(struct api_req *r)
{
	json_t *ep = tf_load(r), *headers, *answer, *output = json_null();
	const char *code;
	char *event_type = NULL, *payload = NULL, err[640];
	struct transform_out out;
	size_t len = 0;
	int rc;

	if (!ep)
		return;
	code = api_in_str(r, "code", false, TRANSFORM_CODE_MAX);
	if (!code)
		code = json_str(json_object_get(ep, "_transformation"), "code");
	if (!code)
		api_field_error(r, "body", "code", "the endpoint has no transformation: pass code");
	rc = simulate_input(r, ep, &event_type, &payload, &len);
	if (rc < 0 || json_array_size(r->errors)) {
		free(event_type);
		free(payload);
		json_decref(ep);
		if (json_array_size(r->errors))
			api_invalid(r);
		else
			api_fail(r, rc, "simulation");
		return;
	}
	headers = json_deep_copy(json_object_get(ep, "_headers"));
	if (!headers)
		headers = json_object();
	struct transform_in in = {.event_type = event_type, .payload = payload, .len = len,
				  .url = json_str(ep, "url"), .method = "POST", .headers = headers};
	rc = transform_run(NULL, NULL, "simulate", code, &in, &out, err, sizeof(err));
	if (rc == 0 && !out.cancel)
		output = json_pack("{s:s,s:o,s:s,s:s,s:o,s:s%}", "eventType", out.event_type, "payload",
				   parse_or_text(out.payload, out.len), "url", out.url, "method", out.method,
				   "headers", shown_headers(out.headers), "body", out.payload, out.len);
	answer = json_pack("{s:{s:s,s:o,s:s?,s:s,s:o},s:o,s:b,s:s?,s:s?,s:f}", "input", "eventType",
			   event_type, "payload", parse_or_text(payload, len), "url", json_str(ep, "url"),
			   "method", "POST", "headers", shown_headers(headers), "output",
			   output ? output : json_null(), "cancel", rc == 0 && out.cancel, "error",
			   rc < 0 ? err : NULL, "logs", out.logs, "durationMs",
			   (double)out.duration_us / 1000.0);
	transform_out_release(&out);
	json_decref(headers);
	free(event_type);
	free(payload);
	json_decref(ep);
	if (!answer) {
		api_fail(r, HK_ENOMEM, "simulation");
		return;
	}
	api_json(r, 200, answer);
}

const struct api_route api_transformation_routes[] = {
	{{"GET", "/api/v1/app/{app}/endpoint/{ep}/transformation"}, tf_get, 0},
	{{"PUT", "/api/v1/app/{app}/endpoint/{ep}/transformation"}, tf_put, 0},
	{{"PATCH", "/api/v1/app/{app}/endpoint/{ep}/transformation"}, tf_patch, 0},
	{{"DELETE", "/api/v1/app/{app}/endpoint/{ep}/transformation"}, tf_delete, 0},
	{{"POST", "/api/v1/app/{app}/endpoint/{ep}/transformation/simulate"}, tf_simulate, 0},
};
const size_t api_transformation_nroutes =
	sizeof(api_transformation_routes) / sizeof(api_transformation_routes[0]);
