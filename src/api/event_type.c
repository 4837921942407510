/*
 * event_type.c - event types: POST|GET /event-type, GET|PUT|PATCH|DELETE
 * /event-type/{name}. A document of kind "event_type" whose id is its name.
 * DELETE archives (hidden from lists unless include_archived=true);
 * DELETE ?expunge=true removes it.
 */
#include <string.h>

#include "api/api.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#define DESCRIPTION_MAX 4096

static void et_fields(struct api_req *r, json_t *doc, bool patch)
{
	const char *desc = api_in_str(r, "description", false, DESCRIPTION_MAX);
	json_t *schemas = json_object_get(r->body, "schemas");
	json_t *example = json_object_get(r->body, "example");

	if (desc || !patch)
		json_object_set_new(doc, "description", json_string(desc ? desc : ""));
	if (json_object_get(r->body, "archived") || !patch)
		json_object_set_new(doc, "archived", json_boolean(api_in_bool(r, "archived", false)));
	if (json_object_get(r->body, "deprecated") || !patch)
		json_object_set_new(doc, "deprecated", json_boolean(api_in_bool(r, "deprecated", false)));
	if (schemas && !json_is_object(schemas) && !json_is_null(schemas))
		api_field_error(r, "body", "schemas", "must be an object");
	else if (schemas || !patch)
		json_object_set(doc, "schemas", schemas ? schemas : json_null());
	if (example && !json_is_object(example) && !json_is_null(example))
		api_field_error(r, "body", "example", "must be an object");
	else if (example)
		json_object_set(doc, "_example", example);
}

static json_t *et_new_doc(const char *name)
{
	char now[40];
	api_now_str(now, NULL);
	return json_pack("{s:s,s:s,s:b,s:b,s:n,s:s,s:s}", "name", name, "description", "", "archived",
			 0, "deprecated", 0, "schemas", "createdAt", now, "updatedAt", now);
}

static void et_write(struct api_req *r, enum store_op_kind kind, json_t *doc, int status)
{
	struct store_write *w = store_write_new(NULL, NULL);
	int64_t now = clock_now_ms();

	if (!w || store_write_doc(w, kind, "event_type", json_str(doc, "name"), "", NULL, doc, now,
				  now) < 0) {
		store_write_free(w);
		json_decref(doc);
		api_fail(r, HK_ENOMEM, "event type");
		return;
	}
	api_commit(r, w, status, api_public(doc));
	json_decref(doc);
}

static void et_create(struct api_req *r)
{
	const char *name = api_in_str(r, "name", true, 256);
	json_t *doc;

	if (name && !valid_name(name, 256))
		api_field_error(r, "body", "name", "name may only contain letters, digits and . _ - : / *");
	doc = et_new_doc(name ? name : "");
	et_fields(r, doc, false);
	if (json_array_size(r->errors)) {
		json_decref(doc);
		api_invalid(r);
		return;
	}
	et_write(r, SOP_DOC_INSERT, doc, 201);
}

static void et_list(struct api_req *r)
{
	struct store_page pg;
	struct store_list l;
	bool archived = api_query_bool(r, "include_archived", false);
	bool content = api_query_bool(r, "with_content", true);
	json_t *kept;
	size_t i;
	json_t *item;
	int rc;

	api_page(r, &pg, false);
	if (json_array_size(r->errors)) {
		api_invalid(r);
		return;
	}
	rc = store_doc_list(r->store, "event_type", "", &pg, &l);
	if (rc < 0) {
		api_fail(r, rc, "event types");
		return;
	}
	/* archived types are filtered after paging: a page may come back short */
	kept = json_array();
	json_array_foreach(l.items, i, item) {
		if (!archived && json_is_true(json_object_get(item, "archived")))
			continue;
		if (!content)
			json_object_set_new(item, "schemas", json_null());
		json_array_append(kept, item);
	}
	json_decref(l.items);
	l.items = kept;
	api_list(r, &l);
}

static json_t *et_load(struct api_req *r)
{
	json_t *doc = NULL;
	int rc = store_doc_get(r->store, "event_type", "", api_param(r, "name"), &doc);
	if (rc < 0) {
		api_fail(r, rc, "event type");
		return NULL;
	}
	return doc;
}

static void et_get(struct api_req *r)
{
	json_t *doc = et_load(r);
	if (doc) {
		api_json(r, 200, api_public(doc));
		json_decref(doc);
	}
}

static void et_update(struct api_req *r, bool patch)
{
	json_t *doc = NULL;
	char now[40];
	int rc = store_doc_get(r->store, "event_type", "", api_param(r, "name"), &doc);
	bool create = rc == HK_ENOTFOUND && !patch;

	if (create) {
		if (!valid_name(api_param(r, "name"), 256)) {
			api_fail(r, rc, "event type");
			return;
		}
		doc = et_new_doc(api_param(r, "name"));
	} else if (rc < 0) {
		api_fail(r, rc, "event type");
		return;
	}
	et_fields(r, doc, patch);
	if (json_array_size(r->errors)) {
		json_decref(doc);
		api_invalid(r);
		return;
	}
	api_now_str(now, NULL);
	json_object_set_new(doc, "updatedAt", json_string(now));
	et_write(r, create ? SOP_DOC_INSERT : SOP_DOC_UPDATE, doc, create ? 201 : 200);
}

static void et_put(struct api_req *r)
{
	et_update(r, false);
}

static void et_patch(struct api_req *r)
{
	et_update(r, true);
}

static void et_delete(struct api_req *r)
{
	json_t *doc = et_load(r);
	struct store_write *w;
	bool expunge = api_query_bool(r, "expunge", false);
	char now[40];
	int64_t now_ms;

	if (!doc)
		return;
	api_now_str(now, &now_ms);
	json_object_set_new(doc, "archived", json_true());
	json_object_set_new(doc, "updatedAt", json_string(now));
	w = store_write_new(NULL, NULL);
	if (!w || store_write_doc(w, expunge ? SOP_DOC_DELETE : SOP_DOC_UPDATE, "event_type",
				  json_str(doc, "name"), "", NULL, doc, 0, now_ms) < 0) {
		store_write_free(w);
		json_decref(doc);
		api_fail(r, HK_ENOMEM, "event type");
		return;
	}
	json_decref(doc);
	api_commit(r, w, 204, NULL);
}

const struct api_route api_event_type_routes[] = {
	{{"POST", "/api/v1/event-type"}, et_create, 0},
	{{"GET", "/api/v1/event-type"}, et_list, RF_APP_READ},
	{{"GET", "/api/v1/event-type/{name}"}, et_get, RF_APP_READ},
	{{"PUT", "/api/v1/event-type/{name}"}, et_put, 0},
	{{"PATCH", "/api/v1/event-type/{name}"}, et_patch, 0},
	{{"DELETE", "/api/v1/event-type/{name}"}, et_delete, 0},
};
const size_t api_event_type_nroutes = sizeof(api_event_type_routes) / sizeof(api_event_type_routes[0]);
