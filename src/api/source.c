/*
 * source.c - inbound sources: POST|GET /source, GET|PUT|PATCH|DELETE
 * /source/{source}, and their events: GET /source/{source}/event[/{evt}],
 * POST /source/{source}/event/{evt}/replay.
 *
 * A source is a document of kind "source". Its secrets are write-only:
 * kept in _secrets, shown masked in "secrets".
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "inbound/filter.h"
#include "inbound/provider.h"
#include "inbound/router.h"
#include "transform/transform.h"

#define SOURCE_SECRETS_MAX 10
#define SOURCE_ROUTES_MAX 32
#define SOURCE_BODY_DEFAULT (1 << 20)
#define SOURCE_BODY_MAX (64 << 20)
#define SOURCE_DEDUPE_DEFAULT 604800

/* mask shows the last four characters of a long secret, nothing of a short one */
static json_t *mask(json_t *secrets)
{
	json_t *out = json_array(), *s;
	size_t i;
	json_array_foreach(secrets, i, s) {
		const char *v = json_string_value(s);
		size_t n = v ? strlen(v) : 0;
		char shown[32];
		snprintf(shown, sizeof(shown), "********%s", n >= 16 ? v + n - 4 : "");
		json_array_append_new(out, json_string(shown));
	}
	return out;
}

/* source_out is the public form of a source, with its counters */
static json_t *source_out(struct api_req *r, const json_t *doc)
{
	json_t *out = api_public(doc);
	struct store_source_stats st;

	json_object_set_new(out, "secrets", mask(json_object_get(doc, "_secrets")));
	if (store_source_stats(r->store, json_str(doc, "id"), &st) == 0)
		json_object_set_new(out, "stats",
				    json_pack("{s:I,s:I,s:I,s:I}", "received", (json_int_t)st.received,
					      "verified", (json_int_t)st.verified, "rejected",
					      (json_int_t)st.rejected, "duplicates", (json_int_t)st.duplicates));
	return out;
}

static void check_routes(struct api_req *r, json_t *routes)
{
	json_t *route;
	size_t i;
	char err[160];

	if (!json_is_array(routes) || json_array_size(routes) > SOURCE_ROUTES_MAX) {
		api_field_error(r, "body", "routes", "must be a list of at most 32 routes");
		return;
	}
	json_array_foreach(routes, i, route) {
		json_t *filter = json_object_get(route, "filter"), *pass = json_object_get(route, "passHeaders");
		const char *app = json_str(route, "app"), *hook = json_str(route, "hook");
		const char *type = json_str(route, "eventType");
		if (!json_is_object(route) || (!app && !hook)) {
			api_field_error(r, "body", "routes", "each route needs an app or a hook");
			return;
		}
		if (type && !valid_name(type, 256)) {
			api_field_error(r, "body", "routes", "eventType must be a name of letters, digits, '.', '_' or '-'");
			return;
		}
		if (filter && !json_is_null(filter) && filter_check(filter, err, sizeof(err)) < 0) {
			api_field_error(r, "body", "routes", err);
			return;
		}
		if (json_object_get(route, "transform") && !json_is_null(json_object_get(route, "transform"))) {
			const char *code = json_str(route, "transform");
			char why[512];
			if (!code || strlen(code) > TRANSFORM_CODE_MAX) {
				api_field_error(r, "body", "routes", "transform must be Lua code of at most 64 KiB");
				return;
			}
			if (transform_check(code, why, sizeof(why)) < 0) {
				api_field_error(r, "body", "routes", why);
				return;
			}
		}
		if (pass && (!json_is_array(pass) || json_array_size(pass) > 32)) {
			api_field_error(r, "body", "routes", "passHeaders must be a list of header names");
			return;
		}
	}
}

static void source_fields(struct api_req *r, json_t *doc, bool patch)
{
	const char *name = api_in_str(r, "name", false, 256), *uid = api_in_str(r, "uid", false, 256);
	const char *provider = api_in_str(r, "provider", !patch, 64);
	const char *url = api_in_str(r, "publicUrl", false, 65536), *why;
	json_t *secrets = json_object_get(r->body, "secrets"), *config = api_in_obj(r, "config");
	json_t *routes = json_object_get(r->body, "routes"), *s;
	size_t i;

	if (name || !patch)
		json_object_set_new(doc, "name", json_string(name ? name : ""));
	if (uid && !valid_uid(uid, "src_", &why))
		api_field_error(r, "body", "uid", why);
	else if (uid)
		json_object_set_new(doc, "uid", json_string(uid));
	if (provider && !provider_find(provider))
		api_field_error(r, "body", "provider", "unknown provider");
	else if (provider)
		json_object_set_new(doc, "provider", json_string(provider));
	if (secrets) {
		bool ok = json_is_array(secrets) && json_array_size(secrets) <= SOURCE_SECRETS_MAX;
		json_array_foreach(secrets, i, s)
			ok &= json_is_string(s) && json_string_length(s) > 0 && json_string_length(s) <= 1024;
		if (ok)
			json_object_set(doc, "_secrets", secrets);
		else
			api_field_error(r, "body", "secrets", "must be a list of 1 to 10 non-empty strings");
	}
	if (json_object_get(r->body, "toleranceSeconds") || !patch)
		json_object_set_new(doc, "toleranceSeconds",
				    json_integer(api_in_int(r, "toleranceSeconds", 0, 0, 86400)));
	if (json_object_get(r->body, "maxBodyBytes") || !patch)
		json_object_set_new(doc, "maxBodyBytes",
				    json_integer(api_in_int(r, "maxBodyBytes", SOURCE_BODY_DEFAULT, 1, SOURCE_BODY_MAX)));
	if (json_object_get(r->body, "dedupeWindowSeconds") || !patch)
		json_object_set_new(doc, "dedupeWindowSeconds",
				    json_integer(api_in_int(r, "dedupeWindowSeconds", SOURCE_DEDUPE_DEFAULT, 0,
							    90 * 86400)));
	if (url && !valid_url(url, &why))
		api_field_error(r, "body", "publicUrl", why);
	else if (url)
		json_object_set_new(doc, "publicUrl", json_string(url));
	if (config)
		json_object_set(doc, "config", config);
	if (routes) {
		check_routes(r, routes);
		json_object_set(doc, "routes", routes);
	}
	if (json_object_get(r->body, "disabled") || !patch)
		json_object_set_new(doc, "disabled", json_boolean(api_in_bool(r, "disabled", false)));
	if (json_object_get(r->body, "requireClientCert") || !patch)
		json_object_set_new(doc, "requireClientCert",
				    json_boolean(api_in_bool(r, "requireClientCert", false)));
	if (!patch && !json_array_size(json_object_get(doc, "_secrets")) && provider &&
	    strcmp(provider, "none") != 0)
		api_field_error(r, "body", "secrets", "this provider needs at least one secret");
}

static json_t *source_new_doc(void)
{
	char id[ID_MAX], now[40];
	id_new("src_", id);
	api_now_str(now, NULL);
	return json_pack("{s:s,s:n,s:s,s:s,s:[],s:{},s:[],s:s,s:s}", "id", id, "uid", "name", "",
			 "provider", "none", "_secrets", "config", "routes", "createdAt", now,
			 "updatedAt", now);
}

static void source_write(struct api_req *r, enum store_op_kind kind, json_t *doc, int status)
{
	struct store_write *w = store_write_new(NULL, NULL);
	int64_t now = clock_now_ms();

	if (!w || store_write_doc(w, kind, "source", json_str(doc, "id"), "", json_str(doc, "uid"), doc,
				  now, now) < 0) {
		store_write_free(w);
		api_fail(r, HK_ENOMEM, "source");
		return;
	}
	api_commit(r, w, status, status == 204 ? NULL : source_out(r, doc));
}

static json_t *source_load(struct api_req *r)
{
	json_t *doc = NULL;
	int rc = store_doc_get(r->store, "source", "", api_param(r, "source"), &doc);
	if (rc < 0)
		api_fail(r, rc, "source");
	return doc;
}

static void source_create(struct api_req *r)
{
	json_t *doc = source_new_doc();
	if (!json_is_object(r->body))
		api_field_error(r, "body", "provider", "field required");
	else
		source_fields(r, doc, false);
	if (json_array_size(r->errors))
		api_invalid(r);
	else
		source_write(r, SOP_DOC_INSERT, doc, 201);
	json_decref(doc);
}

static void source_list(struct api_req *r)
{
	api_doc_list(r, "source", "", false, source_out, "sources");
}

static void source_get(struct api_req *r)
{
	json_t *doc = source_load(r);
	if (doc) {
		api_json(r, 200, source_out(r, doc));
		json_decref(doc);
	}
}

static void source_update(struct api_req *r, bool patch)
{
	json_t *doc = source_load(r);
	char now[40];

	if (!doc)
		return;
	if (!json_is_object(r->body))
		api_field_error(r, "body", "provider", "field required");
	else
		source_fields(r, doc, patch);
	if (json_array_size(r->errors)) {
		api_invalid(r);
	} else {
		api_now_str(now, NULL);
		json_object_set_new(doc, "updatedAt", json_string(now));
		source_write(r, SOP_DOC_UPDATE, doc, 200);
	}
	json_decref(doc);
}

static void source_put(struct api_req *r)
{
	source_update(r, false);
}

static void source_patch(struct api_req *r)
{
	source_update(r, true);
}

static void source_delete(struct api_req *r)
{
	json_t *doc = source_load(r);
	if (doc) {
		source_write(r, SOP_DOC_DELETE, doc, 204);
		json_decref(doc);
	}
}

/* ---- events ---- */

static void event_list(struct api_req *r)
{
	json_t *src = source_load(r);
	const char *status = http_query(r->http, "status");
	struct store_page pg;
	struct store_list l;
	int st = -1, rc;
	int64_t since = api_query_time(r, "since");

	if (!src)
		return;
	if (status && strcmp(status, "received") == 0)
		st = INBOUND_RECEIVED;
	else if (status && strcmp(status, "routed") == 0)
		st = INBOUND_ROUTED;
	else if (status && strcmp(status, "route_failed") == 0)
		st = INBOUND_ROUTE_FAILED;
	else if (status && *status)
		api_field_error(r, "query", "status", "must be received, routed or route_failed");
	api_page(r, &pg, true);
	if (json_array_size(r->errors)) {
		api_invalid(r);
	} else {
		rc = store_inbound_list(r->store, json_str(src, "id"), st, since, &pg, &l);
		if (rc < 0)
			api_fail(r, rc, "events");
		else
			api_list(r, &l);
	}
	json_decref(src);
}

static void event_get(struct api_req *r)
{
	json_t *src = source_load(r), *ev = NULL;
	int rc;

	if (!src)
		return;
	rc = store_inbound_get(r->store, json_str(src, "id"), api_param(r, "evt"), &ev);
	json_decref(src);
	if (rc < 0)
		api_fail(r, rc, "event");
	else
		api_json(r, 200, ev);
}

static void event_replay(struct api_req *r)
{
	json_t *src = source_load(r), *ev = NULL;
	int rc;

	if (!src)
		return;
	rc = store_inbound_get(r->store, json_str(src, "id"), api_param(r, "evt"), &ev);
	json_decref(src);
	if (rc == 0)
		rc = router_route(api_router(r), json_str(ev, "id"), true);
	json_decref(ev);
	if (rc < 0)
		api_fail(r, rc, "event");
	else
		api_json(r, 202, json_object());
}

const struct api_route api_source_routes[] = {
	{{"POST", "/api/v1/source"}, source_create, 0},
	{{"GET", "/api/v1/source"}, source_list, 0},
	{{"GET", "/api/v1/source/{source}"}, source_get, 0},
	{{"PUT", "/api/v1/source/{source}"}, source_put, 0},
	{{"PATCH", "/api/v1/source/{source}"}, source_patch, 0},
	{{"DELETE", "/api/v1/source/{source}"}, source_delete, 0},
	{{"GET", "/api/v1/source/{source}/event"}, event_list, 0},
	{{"GET", "/api/v1/source/{source}/event/{evt}"}, event_get, 0},
	{{"POST", "/api/v1/source/{source}/event/{evt}/replay"}, event_replay, 0},
};
const size_t api_source_nroutes = sizeof(api_source_routes) / sizeof(api_source_routes[0]);
