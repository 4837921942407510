/*
 * input.c - reading API input: body members, query parameters and pages.
 * Every helper records a Svix-style 422 detail on a bad value and returns a
 * neutral result, so a handler validates all fields and answers once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "deliver/fanout.h"

void api_field_error(struct api_req *r, const char *loc0, const char *field, const char *msg)
{
	json_t *e = json_pack("{s:[s,s],s:s,s:s}", "loc", loc0, field, "msg", msg, "type",
			      "value_error");
	if (e)
		json_array_append_new(r->errors, e);
}

static json_t *member(struct api_req *r, const char *field)
{
	json_t *v = json_is_object(r->body) ? json_object_get(r->body, field) : NULL;
	return json_is_null(v) ? NULL : v;
}

const char *api_in_str(struct api_req *r, const char *field, bool required, size_t maxlen)
{
	json_t *v = member(r, field);

	if (!v) {
		if (required)
			api_field_error(r, "body", field, "field required");
		return NULL;
	}
	if (!json_is_string(v)) {
		api_field_error(r, "body", field, "must be a string");
		return NULL;
	}
	if (json_string_length(v) > maxlen) {
		api_field_error(r, "body", field, "string too long");
		return NULL;
	}
	return json_string_value(v);
}

long long api_in_int(struct api_req *r, const char *field, long long dflt, long long min, long long max)
{
	json_t *v = member(r, field);

	if (!v)
		return dflt;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		api_field_error(r, "body", field, "must be an integer in range");
		return dflt;
	}
	return json_integer_value(v);
}

bool api_in_bool(struct api_req *r, const char *field, bool dflt)
{
	json_t *v = member(r, field);
	if (!v)
		return dflt;
	if (!json_is_boolean(v)) {
		api_field_error(r, "body", field, "must be a boolean");
		return dflt;
	}
	return json_is_true(v);
}

json_t *api_in_obj(struct api_req *r, const char *field)
{
	json_t *v = member(r, field);
	if (v && !json_is_object(v)) {
		api_field_error(r, "body", field, "must be an object");
		return NULL;
	}
	return v;
}

json_t *api_in_names(struct api_req *r, const char *field, size_t max, bool allow_empty)
{
	json_t *v = member(r, field), *item;
	size_t i;

	if (!v)
		return NULL;
	if (!json_is_array(v)) {
		api_field_error(r, "body", field, "must be a list of strings");
		return NULL;
	}
	if (json_array_size(v) > max || (!allow_empty && json_array_size(v) == 0)) {
		api_field_error(r, "body", field,
				json_array_size(v) ? "too many items" : "must not be empty");
		return NULL;
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || !valid_name(json_string_value(item), 256)) {
			api_field_error(r, "body", field,
					"items must be names of letters, digits, '.', '_' or '-'");
			return NULL;
		}
	}
	return v;
}

int api_query_limit(struct api_req *r)
{
	const char *s = http_query(r->http, "limit");
	char *end;
	long v;

	if (!s || !*s)
		return 50;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 250) {
		api_field_error(r, "query", "limit", "limit must be between 1 and 250");
		return 50;
	}
	return (int)v;
}

bool api_query_bool(struct api_req *r, const char *name, bool dflt)
{
	const char *s = http_query(r->http, name);
	if (!s || !*s)
		return dflt;
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		return true;
	if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		return false;
	api_field_error(r, "query", name, "must be true or false");
	return dflt;
}

void api_page(struct api_req *r, struct store_page *pg, bool default_desc)
{
	const char *order = http_query(r->http, "order");
	const char *it = http_query(r->http, "iterator");

	pg->limit = api_query_limit(r);
	pg->iterator = it && *it ? it : NULL;
	if (pg->iterator && strlen(pg->iterator) > 300) {
		api_field_error(r, "query", "iterator", "iterator too long");
		pg->iterator = NULL;
	}
	pg->desc = default_desc;
	if (order && strcmp(order, "ascending") == 0)
		pg->desc = false;
	else if (order && strcmp(order, "descending") == 0)
		pg->desc = true;
	else if (order && *order)
		api_field_error(r, "query", "order", "order must be ascending or descending");
}

void api_list(struct api_req *r, struct store_list *l)
{
	json_t *data = json_array(), *item, *doc;
	size_t i;

	json_array_foreach(l->items, i, item)
		json_array_append_new(data, api_public(item));
	doc = json_pack("{s:o,s:s?,s:s?,s:b}", "data", data, "iterator",
			l->iterator[0] ? l->iterator : NULL, "prevIterator",
			l->prev_iterator[0] ? l->prev_iterator : NULL, "done", l->done);
	store_list_release(l);
	api_json(r, 200, doc);
}

void api_doc_list(struct api_req *r, const char *kind, const char *parent, bool default_desc,
		  api_doc_fn out, const char *what)
{
	struct store_page pg;
	struct store_list l;
	json_t *items, *item;
	size_t i;
	int rc;

	api_page(r, &pg, default_desc);
	if (json_array_size(r->errors)) {
		api_invalid(r);
		return;
	}
	rc = store_doc_list(r->store, kind, parent, &pg, &l);
	if (rc < 0) {
		api_fail(r, rc, what);
		return;
	}
	if (out) {
		items = json_array();
		json_array_foreach(l.items, i, item)
			json_array_append_new(items, out(r, item));
		json_decref(l.items);
		l.items = items;
	}
	api_list(r, &l);
}

json_t *api_load_app(struct api_req *r)
{
	json_t *app = NULL;
	int rc = api_fanout(r) ? fanout_doc_shared(api_fanout(r), "app", api_param(r, "app"), &app)
			       : store_doc_get(r->store, "app", "", api_param(r, "app"), &app);
	if (rc < 0) {
		api_fail(r, rc, "application");
		return NULL;
	}
	return app;
}

int64_t api_query_time(struct api_req *r, const char *name)
{
	const char *s = http_query(r->http, name);
	int64_t ms = 0;

	if (s && *s && clock_parse(s, &ms) < 0)
		api_field_error(r, "query", name, "must be an RFC 3339 date-time");
	return ms;
}

json_t *api_query_names(struct api_req *r, const char *name)
{
	const char *s = http_query(r->http, name);
	json_t *out;

	if (!s || !*s)
		return NULL;
	out = json_array();
	while (*s && json_array_size(out) < 64) {
		size_t n = strcspn(s, ",");
		char item[257];
		if (n > 0 && n < sizeof(item)) {
			memcpy(item, s, n);
			item[n] = '\0';
			if (valid_name(item, 256))
				json_array_append_new(out, json_string(item));
			else
				api_field_error(r, "query", name, "names may only contain letters, digits and . _ - : / *");
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return out;
}

json_t *api_load_endpoint(struct api_req *r, const json_t *app)
{
	json_t *ep = NULL;
	int rc = store_doc_get(r->store, "endpoint", json_str(app, "id"), api_param(r, "ep"), &ep);
	if (rc < 0) {
		api_fail(r, rc, "endpoint");
		return NULL;
	}
	return ep;
}
