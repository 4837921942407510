/*
 * api_input_fuzz.c - what the API decodes from a request: bounded JSON,
 * then every value rule and filter, dates, forms, and the formats a
 * payload can be turned into.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/valid.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/form.h"
#include "core/json.h"
#include "deliver/fanout.h"
#include "deliver/format.h"
#include "inbound/filter.h"

static void strings(json_t *v, int depth)
{
	const char *key, *why;
	json_t *child;
	size_t i;
	int64_t ms;

	if (depth > 70)
		return;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char secret[VALID_SECRET_MAX];
		valid_uid(s, "app_", &why);
		valid_name(s, 256);
		valid_url(s, &why);
		valid_header_name(s);
		valid_header_value(s);
		valid_secret(s, secret, &why);
		clock_parse(s, &ms);
		return;
	}
	json_object_foreach(v, key, child)
		strings(child, depth + 1);
	json_array_foreach(v, i, child)
		strings(child, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = NULL, *form = json_object();
	char err[256];
	struct buf b;

	form_parse((const char *)data, size, form);
	json_decref(form);
	if (json_parse_bounded((const char *)data, size, JSON_DEPTH_MAX, &doc, err, sizeof(err)) < 0)
		return 0;
	strings(doc, 0);
	if (filter_check(doc, err, sizeof(err)) == 0)
		filter_match(doc, NULL, NULL, doc);
	fanout_match(doc, "a.b", json_object_get(doc, "channels"));
	if (json_is_object(doc)) {
		buf_init(&b, 1 << 20);
		format_xml(doc, &b);
		buf_reset(&b);
		format_query_url("https://example.com/x", doc, &b);
		buf_release(&b);
	}
	json_decref(doc);
	return 0;
}
