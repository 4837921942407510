/*
 * app.c - applications: POST|GET /app, GET|PUT|PATCH|DELETE /app/{app}.
 *
 * An application is a document of kind "app" with no parent; deleting it
 * deletes its endpoints (their parent is the application's id).
 */
#include <string.h>

#include "api/api.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#define APP_NAME_MAX 256

/* app_fields reads the writable fields into doc; PATCH leaves absent ones alone. */
static void app_fields(struct api_req *r, json_t *doc, bool patch)
{
	const char *name = api_in_str(r, "name", !patch, APP_NAME_MAX);
	const char *uid = api_in_str(r, "uid", false, 256);
	const char *why;
	json_t *meta = api_in_obj(r, "metadata");

	if (name && !*name)
		api_field_error(r, "body", "name", "name must not be empty");
	else if (name)
		json_object_set_new(doc, "name", json_string(name));
	if (uid && !valid_uid(uid, "app_", &why))
		api_field_error(r, "body", "uid", why);
	else if (uid)
		json_object_set_new(doc, "uid", json_string(uid));
	else if (!patch || (json_is_object(r->body) && json_is_null(json_object_get(r->body, "uid"))))
		json_object_set_new(doc, "uid", json_null());
	if (meta)
		json_object_set(doc, "metadata", meta);
	else if (!patch)
		json_object_set_new(doc, "metadata", json_object());
	if (json_object_get(r->body, "throttleRate") || !patch) {
		long long rate = api_in_int(r, "throttleRate", 0, 1, 100000);
		json_object_set_new(doc, "throttleRate", rate ? json_integer(rate) : json_null());
	}
}

static json_t *app_new_doc(const char *uid_hint)
{
	char id[ID_MAX], now[40];
	id_new("app_", id);
	api_now_str(now, NULL);
	return json_pack("{s:s,s:s?,s:s,s:{},s:n,s:s,s:s}", "id", id, "uid", uid_hint, "name", "",
			 "metadata", "throttleRate", "createdAt", now, "updatedAt", now);
}

json_t *api_app_from(struct api_req *r, json_t *in, const char *uid_hint)
{
	json_t *body = r->body, *doc = app_new_doc(NULL);
	const char *why;

	if (!doc)
		return NULL;
	r->body = in; /* app_fields reads the request's body */
	app_fields(r, doc, false);
	r->body = body;
	if (json_is_null(json_object_get(doc, "uid")) && uid_hint && valid_uid(uid_hint, "app_", &why))
		json_object_set_new(doc, "uid", json_string(uid_hint));
	if (json_array_size(r->errors)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void app_insert(struct api_req *r, json_t *doc, int status)
{
	struct store_write *w = store_write_new(NULL, NULL);
	int64_t now = clock_now_ms();

	if (!w || store_write_doc(w, SOP_DOC_INSERT, "app", json_str(doc, "id"), "",
				  json_str(doc, "uid"), doc, now, now) < 0) {
		store_write_free(w);
		json_decref(doc);
		api_fail(r, HK_ENOMEM, "application");
		return;
	}
	api_commit(r, w, status, doc);
}

static void app_create(struct api_req *r)
{
	json_t *doc = app_new_doc(NULL), *existing = NULL;
	bool get_if_exists = api_query_bool(r, "get_if_exists", false);

	if (!json_is_object(r->body))
		api_field_error(r, "body", "name", "field required");
	else
		app_fields(r, doc, false);
	if (json_array_size(r->errors)) {
		json_decref(doc);
		api_invalid(r);
		return;
	}
	if (json_str(doc, "uid") &&
	    store_doc_get(r->store, "app", "", json_str(doc, "uid"), &existing) == 0) {
		json_decref(doc);
		if (get_if_exists) {
			api_json(r, 200, api_public(existing));
		} else {
			api_error(r, 409, "conflict", "an application with uid '%s' already exists",
				  json_str(existing, "uid"));
		}
		json_decref(existing);
		return;
	}
	app_insert(r, doc, 201);
}

static void app_list(struct api_req *r)
{
	api_doc_list(r, "app", "", false, NULL, "applications");
}

static void app_get(struct api_req *r)
{
	json_t *app = api_load_app(r);
	if (app) {
		api_json(r, 200, api_public(app));
		json_decref(app);
	}
}

/* app_update serves PUT (replace, or create with the path's uid) and PATCH. */
static void app_update(struct api_req *r, bool patch)
{
	json_t *doc = NULL;
	char now[40];
	int64_t now_ms;
	int rc = store_doc_get(r->store, "app", "", api_param(r, "app"), &doc);
	bool create = false;

	if (rc == HK_ENOTFOUND && !patch) {
		const char *why;
		if (!valid_uid(api_param(r, "app"), "app_", &why)) {
			api_fail(r, rc, "application");
			return;
		}
		doc = app_new_doc(api_param(r, "app"));
		create = true;
	} else if (rc < 0) {
		api_fail(r, rc, "application");
		return;
	}
	if (!json_is_object(r->body))
		api_field_error(r, "body", "name", "field required");
	else
		app_fields(r, doc, patch);
	if (create && json_is_null(json_object_get(doc, "uid")))
		json_object_set_new(doc, "uid", json_string(api_param(r, "app")));
	if (json_array_size(r->errors)) {
		json_decref(doc);
		api_invalid(r);
		return;
	}
	if (create) {
		app_insert(r, doc, 201);
		return;
	}
	api_now_str(now, &now_ms);
	json_object_set_new(doc, "updatedAt", json_string(now));
	struct store_write *w = store_write_new(NULL, NULL);
	if (!w || store_write_doc(w, SOP_DOC_UPDATE, "app", json_str(doc, "id"), "",
				  json_str(doc, "uid"), doc, 0, now_ms) < 0) {
		store_write_free(w);
		json_decref(doc);
		api_fail(r, HK_ENOMEM, "application");
		return;
	}
	api_commit(r, w, 200, api_public(doc));
	json_decref(doc);
}

static void app_put(struct api_req *r)
{
	app_update(r, false);
}

static void app_patch(struct api_req *r)
{
	app_update(r, true);
}

static void app_delete(struct api_req *r)
{
	json_t *app = api_load_app(r);
	struct store_write *w;

	if (!app)
		return;
	w = store_write_new(NULL, NULL);
	if (!w || store_write_doc(w, SOP_DOC_DELETE, "app", json_str(app, "id"), "", NULL, NULL, 0,
				  0) < 0) {
		store_write_free(w);
		json_decref(app);
		api_fail(r, HK_ENOMEM, "application");
		return;
	}
	json_decref(app);
	api_commit(r, w, 204, NULL);
}

const struct api_route api_app_routes[] = {
	{{"POST", "/api/v1/app"}, app_create, 0},
	{{"GET", "/api/v1/app"}, app_list, 0},
	{{"GET", "/api/v1/app/{app}"}, app_get, 0},
	{{"PUT", "/api/v1/app/{app}"}, app_put, RF_ADMIN_WRITE},
	{{"PATCH", "/api/v1/app/{app}"}, app_patch, RF_ADMIN_WRITE},
	{{"DELETE", "/api/v1/app/{app}"}, app_delete, RF_ADMIN_WRITE},
};
const size_t api_app_nroutes = sizeof(api_app_routes) / sizeof(api_app_routes[0]);
