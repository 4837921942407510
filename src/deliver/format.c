/*
 * format.c - JSON payloads as query strings and XML documents.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "deliver/format.h"

int format_parse(const char *s)
{
	if (!s || strcmp(s, "json") == 0)
		return FORMAT_JSON;
	if (strcmp(s, "query") == 0 || strcmp(s, "get") == 0)
		return FORMAT_QUERY;
	if (strcmp(s, "xml") == 0)
		return FORMAT_XML;
	return -1;
}

static int url_encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			rc = buf_append(out, &s[i], 1);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = buf_append(out, esc, 3);
		}
	}
	return rc;
}

/* scalar_text renders a JSON value as the text a query or XML carries */
static char *scalar_text(const json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_null(v))
		return strdup("");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int format_query_url(const char *url, const json_t *payload, struct buf *out)
{
	const char *key;
	json_t *v;
	char sep = strchr(url, '?') ? '&' : '?';
	int rc = buf_appends(out, url);

	json_object_foreach((json_t *)payload, key, v) {
		char *text = scalar_text(v);
		if (!text)
			return HK_ENOMEM;
		if (rc == 0)
			rc = buf_append(out, &sep, 1);
		if (rc == 0)
			rc = url_encode(out, key, strlen(key));
		if (rc == 0)
			rc = buf_append(out, "=", 1);
		if (rc == 0)
			rc = url_encode(out, text, strlen(text));
		free(text);
		sep = '&';
		if (rc < 0)
			return rc;
	}
	return rc;
}

static int xml_escape(struct buf *out, const char *s)
{
	int rc = 0;
	for (; *s && rc == 0; s++) {
		switch (*s) {
		case '<': rc = buf_appends(out, "&lt;"); break;
		case '>': rc = buf_appends(out, "&gt;"); break;
		case '&': rc = buf_appends(out, "&amp;"); break;
		case '"': rc = buf_appends(out, "&quot;"); break;
		case '\'': rc = buf_appends(out, "&apos;"); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r')
				break; /* not allowed in XML 1.0 */
			rc = buf_append(out, s, 1);
		}
	}
	return rc;
}

static int xml_name(struct buf *out, const char *key)
{
	int rc = 0;
	if (!*key || !(isalpha((unsigned char)key[0]) || key[0] == '_'))
		rc = buf_append(out, "_", 1);
	for (; *key && rc == 0; key++) {
		unsigned char c = (unsigned char)*key;
		char keep = isalnum(c) || c == '_' || c == '-' || c == '.' ? (char)c : '_';
		rc = buf_append(out, &keep, 1);
	}
	return rc;
}

static int xml_value(struct buf *out, const char *name, const json_t *v, int depth);

static int xml_element(struct buf *out, const char *name, const json_t *v, int depth)
{
	int rc = buf_append(out, "<", 1);
	if (rc == 0)
		rc = xml_name(out, name);
	if (rc == 0)
		rc = buf_append(out, ">", 1);
	if (rc == 0)
		rc = xml_value(out, name, v, depth + 1);
	if (rc == 0)
		rc = buf_append(out, "</", 2);
	if (rc == 0)
		rc = xml_name(out, name);
	if (rc == 0)
		rc = buf_append(out, ">", 1);
	return rc;
}

static int xml_value(struct buf *out, const char *name, const json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;
	int rc = 0;

	(void)name;
	if (depth > 64)
		return HK_ETOOBIG;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child) {
			rc = xml_element(out, key, child, depth);
			if (rc < 0)
				return rc;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			rc = xml_element(out, "item", child, depth);
			if (rc < 0)
				return rc;
		}
	} else {
		char *text = scalar_text(v);
		if (!text)
			return HK_ENOMEM;
		rc = xml_escape(out, text);
		free(text);
	}
	return rc;
}

int format_xml(const json_t *payload, struct buf *out)
{
	int rc = buf_appends(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
	if (rc == 0)
		rc = xml_element(out, "webhook", payload, 0);
	return rc;
}
