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

bool json_utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p, need, min, cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= need)
			return false;
		for (unsigned i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += need + 1;
	}
	return true;
}

int json_buf_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char short_esc[] = {['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',
					 ['\t'] = 't', ['"'] = '"', ['\\'] = '\\'};
	size_t start = b->len, run = 0;
	int rc;

	if (!json_utf8_ok(s, n))
		return HK_EPARSE;
	rc = buf_append(b, "\"", 1);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		/* the run of bytes before this one needs no escaping */
		rc = buf_append(b, s + run, i - run);
		run = i + 1;
		if (c < sizeof(short_esc) && short_esc[c])
			esc[1] = short_esc[c];
		if (rc == 0)
			rc = buf_append(b, esc, esc[1] == 'u' ? 6 : 2);
	}
	if (rc == 0)
		rc = buf_append(b, s + run, n - run);
	if (rc == 0)
		rc = buf_append(b, "\"", 1);
	if (rc < 0) {
		b->len = start;
		if (b->data)
			b->data[start] = '\0';
	}
	return rc;
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
