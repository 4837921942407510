/*
 * json.c - bounded parsing on top of jansson.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"

bool json_depth_ok(const char *data, size_t len, int max_depth)
{
	int depth = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth)
				return false;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return true;
}

int json_parse_bounded(const char *data, size_t len, int max_depth, json_t **out, char *err,
		       size_t errlen)
{
	json_error_t jerr;

	*out = NULL;
	if (!json_depth_ok(data, len, max_depth)) {
		snprintf(err, errlen, "json nested deeper than %d levels", max_depth);
		return HK_EPARSE;
	}
	*out = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!*out) {
		snprintf(err, errlen, "malformed json at line %d column %d: %s", jerr.line, jerr.column,
			 jerr.text);
		return HK_EPARSE;
	}
	return 0;
}

char *json_dump_compact(const json_t *v, size_t *len)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s && len)
		*len = strlen(s);
	return s;
}

const char *json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

json_t *json_strip_private(const json_t *obj)
{
	const char *key;
	json_t *val, *out = json_object();

	if (!out)
		return NULL;
	json_object_foreach((json_t *)obj, key, val) {
		if (key[0] != '_')
			json_object_set(out, key, val);
	}
	return out;
}
