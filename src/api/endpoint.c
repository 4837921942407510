/*
 * endpoint.c - endpoints of an application, their signing secrets and
 * custom headers.
 *
 * An endpoint is a document of kind "endpoint" whose parent is its
 * application's id. Private members:
 *   _secrets  [{"key": "whsec_...", "expires": ms}]  the first is current
 *             (expires 0); older ones keep signing until they expire
 *   _headers  {"Name": "value"}                      sent with each delivery
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/json.h"
#include "deliver/dispatch.h"
#include "deliver/epdoc.h"
#include "deliver/fanout.h"
#include "deliver/format.h"
#include "deliver/health.h"
#include "deliver/opsevent.h"
#include "sign/sign.h"

#define EP_DESC_MAX 4096
#define EP_CHANNELS_MAX 10
#define EP_EVENT_TYPES_MAX 1000
#define EP_HEADERS_MAX 64
#define EP_OLD_KEYS_MAX 10
#define EP_PER_APP_MAX 1000
#define GRACE_DEFAULT_S 86400
#define GRACE_MAX_S 604800

/* ---- fields ---- */

static void ep_delivery_options(struct api_req *r, json_t *doc, bool patch);

static void ep_event_types(struct api_req *r, json_t *doc, const char *field)
{
	json_t *types = api_in_names(r, field, EP_EVENT_TYPES_MAX, false), *t;
	size_t i;

	if (!types)
		return;
	json_array_foreach(types, i, t) {
		json_t *et = NULL;
		if (opsevent_type_known(json_string_value(t)))
			continue; /* hookd's own operational events need no registration */
		if (store_doc_get(r->store, "event_type", "", json_string_value(t), &et) < 0) {
			api_field_error(r, "body", field, "unknown event type");
			return;
		}
		json_decref(et);
	}
	json_object_set(doc, "eventTypes", types);
	json_object_set(doc, "filterTypes", types);
}

static void ep_fields(struct api_req *r, json_t *doc, bool patch)
{
	const char *url = api_in_str(r, "url", !patch, 65536);
	const char *desc = api_in_str(r, "description", false, EP_DESC_MAX);
	const char *uid = api_in_str(r, "uid", false, 256);
	json_t *meta = api_in_obj(r, "metadata"), *channels;
	const char *why;

	if (url && !valid_url(url, &why))
		api_field_error(r, "body", "url", why);
	else if (url)
		json_object_set_new(doc, "url", json_string(url));
	if (desc || !patch)
		json_object_set_new(doc, "description", json_string(desc ? desc : ""));
	if (uid && !valid_uid(uid, "ep_", &why))
		api_field_error(r, "body", "uid", why);
	else if (uid)
		json_object_set_new(doc, "uid", json_string(uid));
	if (json_object_get(r->body, "disabled") || !patch)
		json_object_set_new(doc, "disabled", json_boolean(api_in_bool(r, "disabled", false)));
	if (json_object_get(r->body, "version") || !patch)
		json_object_set_new(doc, "version", json_integer(api_in_int(r, "version", 1, 1, 1 << 30)));
	if (meta)
		json_object_set(doc, "metadata", meta);
	if (json_object_get(r->body, "eventTypes"))
		ep_event_types(r, doc, "eventTypes");
	else if (json_object_get(r->body, "filterTypes"))
		ep_event_types(r, doc, "filterTypes");
	channels = api_in_names(r, "channels", EP_CHANNELS_MAX, false);
	if (channels)
		json_object_set(doc, "channels", channels);
	if (json_object_get(r->body, "throttleRate") || json_object_get(r->body, "rateLimit")) {
		const char *f = json_object_get(r->body, "throttleRate") ? "throttleRate" : "rateLimit";
		long long rate = api_in_int(r, f, 0, 1, 100000);
		json_object_set_new(doc, "throttleRate", rate ? json_integer(rate) : json_null());
	}
	ep_delivery_options(r, doc, patch);
	if (!patch) {
		/* PUT replaces: fields left out go back to their defaults */
		if (!json_object_get(r->body, "eventTypes") && !json_object_get(r->body, "filterTypes")) {
			json_object_set_new(doc, "eventTypes", json_null());
			json_object_set_new(doc, "filterTypes", json_null());
		}
		if (!channels)
			json_object_set_new(doc, "channels", json_null());
		if (!meta)
			json_object_set_new(doc, "metadata", json_object());
	}
}

/*
 * ep_delivery_options reads hookd's own endpoint options (the Svix SDK
 * ignores them): signatureHeaders "webhook"|"svix", format "json"|"query"|
 * "xml", successOn3xx, maxInFlight, and tls {clientCert, clientKey,
 * caBundle} (PEM; kept private, shown only as which parts are set).
 */
static void ep_delivery_options(struct api_req *r, json_t *doc, bool patch)
{
	const char *style = api_in_str(r, "signatureHeaders", false, 16);
	const char *format = api_in_str(r, "format", false, 16);
	json_t *tls = api_in_obj(r, "tls");

	if (style && strcmp(style, "webhook") != 0 && strcmp(style, "svix") != 0)
		api_field_error(r, "body", "signatureHeaders", "must be webhook or svix");
	else if (style || !patch)
		json_object_set_new(doc, "signatureHeaders", json_string(style ? style : "webhook"));
	if (format && format_parse(format) < 0)
		api_field_error(r, "body", "format", "must be json, query or xml");
	else if (format || !patch)
		json_object_set_new(doc, "format", json_string(format ? format : "json"));
	if (json_object_get(r->body, "successOn3xx") || !patch)
		json_object_set_new(doc, "successOn3xx", json_boolean(api_in_bool(r, "successOn3xx", false)));
	if (json_object_get(r->body, "maxInFlight") || !patch) {
		long long n = api_in_int(r, "maxInFlight", 0, 1, 10000);
		json_object_set_new(doc, "maxInFlight", n ? json_integer(n) : json_null());
	}
	if (tls) {
		const char *parts[] = {"clientCert", "clientKey", "caBundle"};
		json_t *priv = json_object(), *shown = json_object();
		for (size_t i = 0; i < 3; i++) {
			json_t *v = json_object_get(tls, parts[i]);
			if (v && !json_is_string(v))
				api_field_error(r, "body", "tls", "certificates and keys must be PEM strings");
			else if (v)
				json_object_set(priv, parts[i], v);
			json_object_set_new(shown, parts[i], json_boolean(v != NULL));
		}
		if (json_object_get(priv, "clientCert") && !json_object_get(priv, "clientKey"))
			api_field_error(r, "body", "tls", "a client certificate needs its key");
		json_object_set_new(doc, "_tls", priv);
		json_object_set_new(doc, "tls", shown);
	}
}

/* ---- lookups ---- */

/* ep_load finds {ep} within {app}; answers 404 itself. *app_out is optional. */
static json_t *ep_load(struct api_req *r, json_t **app_out)
{
	json_t *app = api_load_app(r), *ep = NULL;
	int rc;

	if (!app)
		return NULL;
	rc = store_doc_get(r->store, "endpoint", json_str(app, "id"), api_param(r, "ep"), &ep);
	if (rc < 0) {
		json_decref(app);
		api_fail(r, rc, "endpoint");
		return NULL;
	}
	if (app_out)
		*app_out = app;
	else
		json_decref(app);
	return ep;
}

/* an endpoint change to announce as an operational webhook after its commit */
struct ep_change {
	const char *type;
	char app[ID_MAX];
	json_t *data;
};

static void ep_change_emit(void *arg)
{
	struct ep_change *c = arg;
	opsevent_emit(c->type, c->app, json_incref(c->data));
}

static void ep_change_free(void *arg)
{
	struct ep_change *c = arg;
	if (c) {
		json_decref(c->data);
		free(c);
	}
}

/* ep_write commits a change of ep, after new_app (an application to make first, or NULL) */
static void ep_write(struct api_req *r, enum store_op_kind kind, json_t *ep, int status, json_t *answer,
		     json_t *new_app)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct ep_change *c = calloc(1, sizeof(*c));
	int64_t now = clock_now_ms();

	if (!w || !c ||
	    (new_app && store_write_doc(w, SOP_DOC_INSERT, "app", json_str(new_app, "id"), "",
					json_str(new_app, "uid"), new_app, now, now) < 0) ||
	    store_write_doc(w, kind, "endpoint", json_str(ep, "id"), json_str(ep, "_app"), json_str(ep, "uid"), ep,
			    now, now) < 0) {
		store_write_free(w);
		free(c);
		json_decref(answer);
		api_fail(r, HK_ENOMEM, "endpoint");
		return;
	}
	c->type = kind == SOP_DOC_INSERT ? "endpoint.created"
		  : kind == SOP_DOC_DELETE ? "endpoint.deleted"
					   : "endpoint.updated";
	snprintf(c->app, sizeof(c->app), "%s", json_str(ep, "_app"));
	c->data = json_pack("{s:s,s:s,s:s?}", "appId", c->app, "endpointId", json_str(ep, "id"),
			    "endpointUid", json_str(ep, "uid"));
	api_commit_then(r, w, status, answer, ep_change_emit, c, ep_change_free);
}

static void touch(json_t *doc)
{
	char now[40];
	api_now_str(now, NULL);
	json_object_set_new(doc, "updatedAt", json_string(now));
}

/* ---- handlers ---- */

/* ep_create_in makes an endpoint in app (taken), after new_app (an application to make first, or NULL) */
static void ep_create_in(struct api_req *r, json_t *app, json_t *new_app)
{
	json_t *ep, *existing = NULL;
	const char *secret;
	const char *why;
	char stored[VALID_SECRET_MAX];

	/* a bounded fan-out: an application holds at most EP_PER_APP_MAX endpoints */
	if (fanout_endpoints(api_fanout(r), json_str(app, "id"), &existing) == 0 &&
	    json_array_size(existing) >= EP_PER_APP_MAX)
		api_field_error(r, "body", "url", "an application holds at most 1000 endpoints");
	json_decref(existing);
	ep = epdoc_new(json_str(app, "id"), NULL);
	json_decref(app);
	if (!json_is_object(r->body))
		api_field_error(r, "body", "url", "field required");
	else
		ep_fields(r, ep, false);
	secret = api_in_str(r, "secret", false, 200);
	if (secret && !valid_secret(secret, stored, &why))
		api_field_error(r, "body", "secret", why);
	else if (secret)
		json_object_set_new(ep, "_secrets", json_pack("[{s:s,s:i}]", "key", stored, "expires", 0));
	if (json_array_size(r->errors)) {
		json_decref(ep);
		api_invalid(r);
		return;
	}
	ep_write(r, SOP_DOC_INSERT, ep, 201, api_public(ep), new_app);
	json_decref(ep);
}

static void ep_create(struct api_req *r)
{
	json_t *app = api_load_app(r);

	if (app)
		ep_create_in(r, app, NULL);
}

static void ep_list(struct api_req *r)
{
	json_t *app = api_load_app(r);

	if (app)
		api_doc_list(r, "endpoint", json_str(app, "id"), true, NULL, "endpoints");
	json_decref(app);
}

static void ep_get(struct api_req *r)
{
	json_t *ep = ep_load(r, NULL), *out;
	if (ep) {
		out = api_public(ep);
		if (api_dispatch(r)) {
			json_t *h = health_json(dispatch_health(api_dispatch(r)), json_str(ep, "id"));
			json_object_set_new(out, "health", h ? h : json_pack("{s:s,s:i}", "circuit", "closed",
									  "consecutiveFailures", 0));
		}
		api_json(r, 200, out);
		json_decref(ep);
	}
}

/*
 * ep_update_in serves PATCH and PUT of an endpoint of app (taken); PUT on an
 * unknown uid creates the endpoint, after new_app (an application to make
 * first, or NULL).
 */
static void ep_update_in(struct api_req *r, bool patch, json_t *app, json_t *new_app)
{
	json_t *ep = NULL;
	const char *key = api_param(r, "ep"), *why;
	enum store_op_kind kind = SOP_DOC_UPDATE;
	int rc, status = 200;

	rc = new_app ? HK_ENOTFOUND : store_doc_get(r->store, "endpoint", json_str(app, "id"), key, &ep);
	if (rc == HK_ENOTFOUND && !patch && valid_uid(key, "ep_", &why)) {
		ep = epdoc_new(json_str(app, "id"), NULL);
		json_object_set_new(ep, "uid", json_string(key));
		kind = SOP_DOC_INSERT;
		status = 201;
	} else if (rc < 0) {
		json_decref(app);
		api_fail(r, rc, "endpoint");
		return;
	}
	json_decref(app);
	if (!json_is_object(r->body))
		api_field_error(r, "body", "url", "field required");
	else
		ep_fields(r, ep, patch);
	if (json_array_size(r->errors)) {
		json_decref(ep);
		api_invalid(r);
		return;
	}
	touch(ep);
	ep_write(r, kind, ep, status, api_public(ep), kind == SOP_DOC_INSERT ? new_app : NULL);
	json_decref(ep);
}

static void ep_update(struct api_req *r, bool patch)
{
	json_t *app = api_load_app(r);

	if (app)
		ep_update_in(r, patch, app, NULL);
}

static void ep_put(struct api_req *r)
{
	ep_update(r, false);
}

static void ep_patch(struct api_req *r)
{
	ep_update(r, true);
}

static void ep_delete(struct api_req *r)
{
	json_t *ep = ep_load(r, NULL);
	if (!ep)
		return;
	ep_write(r, SOP_DOC_DELETE, ep, 204, NULL, NULL);
	json_decref(ep);
}

/* ---- secrets ---- */

static void ep_secret_get(struct api_req *r)
{
	json_t *ep = ep_load(r, NULL);
	if (!ep)
		return;
	api_json(r, 200, json_pack("{s:O}", "key",
				   json_object_get(json_array_get(json_object_get(ep, "_secrets"), 0),
						   "key")));
	json_decref(ep);
}

static void ep_secret_rotate(struct api_req *r)
{
	json_t *ep = ep_load(r, NULL), *old, *keys, *k;
	const char *key = api_in_str(r, "key", false, 200), *why;
	long long grace = api_in_int(r, "gracePeriodSeconds", GRACE_DEFAULT_S, 0, GRACE_MAX_S);
	int64_t now = clock_now_ms();
	char fresh[SIGN_SECRET_MAX], stored[VALID_SECRET_MAX];
	size_t i;

	if (!ep)
		return;
	if (key && !valid_secret(key, stored, &why))
		api_field_error(r, "body", "key", why);
	else if (key)
		key = stored;
	if (json_array_size(r->errors)) {
		json_decref(ep);
		api_invalid(r);
		return;
	}
	if (!key) {
		epdoc_secret_new(fresh, sizeof(fresh));
		key = fresh;
	}
	old = json_object_get(ep, "_secrets");
	keys = json_pack("[{s:s,s:i}]", "key", key, "expires", 0);
	json_array_foreach(old, i, k) {
		json_int_t exp = json_integer_value(json_object_get(k, "expires"));
		if (exp == 0)
			exp = now + grace * 1000;
		if (exp > now)
			json_array_append_new(keys, json_pack("{s:O,s:I}", "key", json_object_get(k, "key"),
							      "expires", exp));
	}
	if (json_array_size(keys) > EP_OLD_KEYS_MAX + 1) {
		json_decref(keys);
		json_decref(ep);
		api_error(r, 400, "too_many_keys",
			  "an endpoint keeps at most %d old keys during their grace period", EP_OLD_KEYS_MAX);
		return;
	}
	json_object_set_new(ep, "_secrets", keys);
	touch(ep);
	ep_write(r, SOP_DOC_UPDATE, ep, 204, NULL, NULL);
	json_decref(ep);
}

/* ---- headers ---- */

static void ep_headers_get(struct api_req *r)
{
	json_t *ep = ep_load(r, NULL), *headers = json_object(), *sensitive = json_array(), *v;
	const char *name;

	if (!ep) {
		json_decref(headers);
		json_decref(sensitive);
		return;
	}
	json_object_foreach(json_object_get(ep, "_headers"), name, v) {
		if (valid_header_sensitive(name))
			json_array_append_new(sensitive, json_string(name));
		else
			json_object_set(headers, name, v);
	}
	json_decref(ep);
	api_json(r, 200, json_pack("{s:o,s:o}", "headers", headers, "sensitive", sensitive));
}

/* ep_headers_set serves PUT (replace) and PATCH (merge; null deletes). */
static void ep_headers_set(struct api_req *r, bool patch)
{
	json_t *ep = ep_load(r, NULL), *in = api_in_obj(r, "headers"), *headers, *v;
	const char *name;

	if (!ep)
		return;
	if (!in && !json_array_size(r->errors))
		api_field_error(r, "body", "headers", "field required");
	headers = patch ? json_deep_copy(json_object_get(ep, "_headers")) : json_object();
	if (!headers)
		headers = json_object();
	json_object_foreach(in, name, v) {
		if (!valid_header_name(name) || valid_header_reserved(name)) {
			api_field_error(r, "body", "headers", "header name is invalid or reserved");
			break;
		}
		if (json_is_null(v) && patch) {
			json_object_del(headers, name);
		} else if (!json_is_string(v) || !valid_header_value(json_string_value(v))) {
			api_field_error(r, "body", "headers", "header values must be strings without newlines");
			break;
		} else {
			json_object_set(headers, name, v);
		}
	}
	if (json_object_size(headers) > EP_HEADERS_MAX)
		api_field_error(r, "body", "headers", "too many headers");
	if (json_array_size(r->errors)) {
		json_decref(headers);
		json_decref(ep);
		api_invalid(r);
		return;
	}
	json_object_set_new(ep, "_headers", headers);
	touch(ep);
	ep_write(r, SOP_DOC_UPDATE, ep, 204, NULL, NULL);
	json_decref(ep);
}

static void ep_headers_put(struct api_req *r)
{
	ep_headers_set(r, false);
}

static void ep_headers_patch(struct api_req *r)
{
	ep_headers_set(r, true);
}

/* ---- Svix's operational-webhook endpoints ---- */

/*
 * The routes under /api/v1/operational-webhook/endpoint are the endpoints of
 * hookd's operational application (opsevent.h), for the admin token (they
 * sit outside any application). ops_app names that application as the
 * route's {app}; creating the first endpoint (POST, or PUT of a new uid)
 * makes the application in the same commit.
 */
static json_t *ops_app(struct api_req *r, json_t **new_app)
{
	struct route_params *p = &r->params;
	json_t *app = NULL;
	int rc;

	*new_app = NULL;
	if (p->n < ROUTER_MAX_PARAMS) {
		p->names[p->n] = "{app}"; /* as the router names it: the pattern's "{name}" */
		snprintf(p->values[p->n], sizeof(p->values[p->n]), "%s", opsevent_app_uid());
		p->n++;
	}
	rc = store_doc_get(r->store, "app", "", opsevent_app_uid(), &app);
	if (rc == HK_ENOTFOUND)
		*new_app = opsevent_app_new();
	if (rc == 0 || *new_app)
		return app ? app : json_incref(*new_app);
	api_fail(r, rc == HK_ENOTFOUND ? HK_ENOMEM : rc, "application");
	return NULL;
}

/* ops_run runs an endpoint handler on the operational application, which must exist */
static void ops_run(struct api_req *r, api_fn fn)
{
	json_t *new_app, *app = ops_app(r, &new_app);

	if (new_app)
		api_fail(r, HK_ENOTFOUND, "endpoint");
	else if (app)
		fn(r);
	json_decref(new_app);
	json_decref(app);
}

static void ops_create(struct api_req *r)
{
	json_t *new_app, *app = ops_app(r, &new_app);

	if (app)
		ep_create_in(r, app, new_app);
	json_decref(new_app);
}

static void ops_put(struct api_req *r)
{
	json_t *new_app, *app = ops_app(r, &new_app);

	if (app)
		ep_update_in(r, false, app, new_app);
	json_decref(new_app);
}

static void ops_list(struct api_req *r)
{
	json_t *new_app, *app = ops_app(r, &new_app);

	if (new_app) /* no application yet: no endpoints */
		api_json(r, 200, json_pack("{s:[],s:n,s:n,s:b}", "data", "iterator", "prevIterator", "done", 1));
	else if (app)
		ep_list(r);
	json_decref(new_app);
	json_decref(app);
}

static void ops_get(struct api_req *r)
{
	ops_run(r, ep_get);
}

static void ops_patch(struct api_req *r)
{
	ops_run(r, ep_patch);
}

static void ops_delete(struct api_req *r)
{
	ops_run(r, ep_delete);
}

static void ops_secret_get(struct api_req *r)
{
	ops_run(r, ep_secret_get);
}

static void ops_secret_rotate(struct api_req *r)
{
	ops_run(r, ep_secret_rotate);
}

static void ops_headers_get(struct api_req *r)
{
	ops_run(r, ep_headers_get);
}

static void ops_headers_put(struct api_req *r)
{
	ops_run(r, ep_headers_put);
}

static void ops_headers_patch(struct api_req *r)
{
	ops_run(r, ep_headers_patch);
}

const struct api_route api_endpoint_routes[] = {
	{{"POST", "/api/v1/app/{app}/endpoint"}, ep_create, 0},
	{{"GET", "/api/v1/app/{app}/endpoint"}, ep_list, 0},
	{{"GET", "/api/v1/app/{app}/endpoint/{ep}"}, ep_get, 0},
	{{"PUT", "/api/v1/app/{app}/endpoint/{ep}"}, ep_put, 0},
	{{"PATCH", "/api/v1/app/{app}/endpoint/{ep}"}, ep_patch, 0},
	{{"DELETE", "/api/v1/app/{app}/endpoint/{ep}"}, ep_delete, 0},
	{{"GET", "/api/v1/app/{app}/endpoint/{ep}/secret"}, ep_secret_get, 0},
	{{"POST", "/api/v1/app/{app}/endpoint/{ep}/secret/rotate"}, ep_secret_rotate, 0},
	{{"GET", "/api/v1/app/{app}/endpoint/{ep}/headers"}, ep_headers_get, 0},
	{{"PUT", "/api/v1/app/{app}/endpoint/{ep}/headers"}, ep_headers_put, 0},
	{{"PATCH", "/api/v1/app/{app}/endpoint/{ep}/headers"}, ep_headers_patch, 0},
	{{"POST", "/api/v1/operational-webhook/endpoint"}, ops_create, 0},
	{{"GET", "/api/v1/operational-webhook/endpoint"}, ops_list, 0},
	{{"GET", "/api/v1/operational-webhook/endpoint/{ep}"}, ops_get, 0},
	{{"PUT", "/api/v1/operational-webhook/endpoint/{ep}"}, ops_put, 0},
	{{"PATCH", "/api/v1/operational-webhook/endpoint/{ep}"}, ops_patch, 0},
	{{"DELETE", "/api/v1/operational-webhook/endpoint/{ep}"}, ops_delete, 0},
	{{"GET", "/api/v1/operational-webhook/endpoint/{ep}/secret"}, ops_secret_get, 0},
	{{"POST", "/api/v1/operational-webhook/endpoint/{ep}/secret/rotate"}, ops_secret_rotate, 0},
	{{"GET", "/api/v1/operational-webhook/endpoint/{ep}/headers"}, ops_headers_get, 0},
	{{"PUT", "/api/v1/operational-webhook/endpoint/{ep}/headers"}, ops_headers_put, 0},
	{{"PATCH", "/api/v1/operational-webhook/endpoint/{ep}/headers"}, ops_headers_patch, 0},
};
const size_t api_endpoint_nroutes = sizeof(api_endpoint_routes) / sizeof(api_endpoint_routes[0]);
