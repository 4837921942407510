/*
 * hookreq_body.c - turning a request body into the payload tree, and
 * parse-parameters-as-json.
 *
 * The content type picks the parser exactly as adnanh/webhook's handler does
 * (substring tests in a fixed order). Parsers never fail the request except
 * multipart, whose failure adnanh answers with 500; the others log and leave
 * the payload NULL so rules referring to it see "parameter node not found".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/log.h"
#include "hooks/hookreq.h"
#include "hooks/xmljson.h"

#define JSON_FLAGS (JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL)

/* Go's unicode.IsSpace on single bytes. */
static bool go_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0;
}

/* parse_json_body mirrors ParseJSONPayload: an array lands under "root". */
static json_t *parse_json_body(const char *s, size_t n)
{
	json_error_t jerr;
	json_t *v, *root;
	size_t i = 0;

	while (i < n && go_space((unsigned char)s[i]))
		i++;
	v = json_loadb(s, n, JSON_FLAGS, &jerr);
	if (!v) {
		log_warnx("cannot parse json payload: %s", jerr.text);
		return NULL;
	}
	if (i < n && s[i] == '[') {
		root = json_object();
		if (root && json_object_set_new(root, "root", v) == 0)
			return root;
		json_decref(root);
		return NULL;
	}
	if (!json_is_object(v)) {
		log_warnx("cannot parse json payload: not an object");
		json_decref(v);
		return NULL;
	}
	return v;
}

static json_t *parse_form_body(const char *s, size_t n)
{
	json_t *obj = json_object();
	int rc;

	if (!obj)
		return NULL;
	rc = hookreq_parse_form(s, n, obj);
	if (rc < 0) {
		/* url.ParseQuery reports any bad pair and adnanh then drops the form */
		log_warnx("cannot parse form payload: %s", hk_strerror(rc));
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* ------------------------------------------------------------------ */
/* multipart/form-data                                                  */

/*
 * get_param finds ;-separated parameter pname in a header value such as
 * 'form-data; name="a"; filename="b.json"' and returns it malloc'd.
 */
static char *get_param(const char *v, size_t n, const char *pname)
{
	size_t plen = strlen(pname), i = 0;

	while (i < n) {
		const char *semi = memchr(v + i, ';', n - i);
		size_t end = semi ? (size_t)(semi - v) : n;
		size_t a = i;

		while (a < end && (v[a] == ' ' || v[a] == '\t'))
			a++;
		if (end - a > plen && strncasecmp(v + a, pname, plen) == 0 && v[a + plen] == '=') {
			const char *val = v + a + plen + 1;
			size_t vlen = end - (a + plen + 1);
			if (vlen >= 2 && val[0] == '"') {
				/* a quoted value may hold ';': take up to the closing quote */
				const char *q = memchr(val + 1, '"', n - (size_t)(val + 1 - v));
				if (q)
					vlen = (size_t)(q - val) + 1;
				return strndup(val + 1, vlen >= 2 ? vlen - 2 : 0);
			}
			while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
				vlen--;
			return strndup(val, vlen);
		}
		i = end + 1;
	}
	return NULL;
}

struct part {
	char *name, *filename, *ctype;
	const char *data;
	size_t len;
};

/* part_headers reads a part's header block; the cursor ends on its data. */
static int part_headers(const char **pp, const char *end, struct part *pt)
{
	const char *p = *pp;

	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len;

		if (!nl)
			return HK_EPARSE;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			*pp = nl + 1;
			return 0;
		}
		if (len > 20 && strncasecmp(p, "Content-Disposition:", 20) == 0) {
			free(pt->name);
			free(pt->filename);
			pt->name = get_param(p + 20, len - 20, "name");
			pt->filename = get_param(p + 20, len - 20, "filename");
		} else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
			size_t a = 13;
			while (a < len && (p[a] == ' ' || p[a] == '\t'))
				a++;
			free(pt->ctype);
			pt->ctype = strndup(p + a, len - a);
		}
		p = nl + 1;
	}
}

static bool wants_json(const struct part *pt, const struct hookreq_arg *args, size_t n)
{
	if (pt->ctype && strncasecmp(pt->ctype, "application/json", 16) == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (args[i].source == HOOKREQ_SRC_PAYLOAD && strcmp(args[i].name, pt->name) == 0)
			return true;
	}
	return false;
}

/* store_part adds one part to the payload (the first of a name wins). */
static int store_part(json_t *payload, const struct part *pt, const struct hookreq_arg *args,
		      size_t n)
{
	json_t *v;

	if (!pt->name || json_object_get(payload, pt->name))
		return 0;
	if (wants_json(pt, args, n)) {
		json_error_t jerr;
		v = json_loadb(pt->data, pt->len, JSON_FLAGS, &jerr);
		if (!v || !json_is_object(v)) {
			log_warnx("cannot parse json part '%s'", pt->name);
			json_decref(v);
			v = json_null();
		}
	} else if (pt->filename) {
		return 0; /* files that are not JSON are not part of the payload */
	} else {
		v = json_stringn_nocheck(pt->data, pt->len);
	}
	if (json_object_size(payload) >= HOOKREQ_PARTS_MAX) {
		json_decref(v);
		return HK_ETOOBIG;
	}
	return json_object_set_new_nocheck(payload, pt->name, v) < 0 ? HK_ENOMEM : 0;
}

static int parse_parts(const char *s, size_t n, const char *delim, json_t *payload,
		       const struct hookreq_arg *args, size_t nargs)
{
	size_t dlen = strlen(delim);
	const char *end = s + n, *p = memmem(s, n, delim + 2, dlen - 2);
	int rc = 0, parts = 0;

	if (!p)
		return HK_EPARSE;
	p += dlen - 2;
	while (rc == 0) {
		struct part pt = {0};
		const char *next;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0; /* closing delimiter */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == '\r')
			p++;
		if (p >= end || *p != '\n' || ++parts > HOOKREQ_PARTS_MAX)
			return p >= end || *p != '\n' ? HK_EPARSE : HK_ETOOBIG;
		p++;
		rc = part_headers(&p, end, &pt);
		next = rc == 0 ? memmem(p, (size_t)(end - p), delim, dlen) : NULL;
		if (rc == 0 && !next)
			rc = HK_EPARSE;
		if (rc == 0) {
			pt.data = p;
			pt.len = (size_t)(next - p);
			rc = store_part(payload, &pt, args, nargs);
			p = next + dlen;
		}
		free(pt.name);
		free(pt.filename);
		free(pt.ctype);
	}
	return rc;
}

static int parse_multipart(struct hookreq *r, const struct hookreq_arg *args, size_t n)
{
	const char *ct = r->content_type;
	char *boundary = get_param(ct, strlen(ct), "boundary");
	char *delim = NULL;
	json_t *payload = NULL;
	int rc = HK_EPARSE;

	if (!boundary || !*boundary || strlen(boundary) > 200)
		goto out;
	delim = malloc(strlen(boundary) + 5);
	payload = json_object();
	if (!delim || !payload) {
		rc = HK_ENOMEM;
		goto out;
	}
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, strlen(boundary) + 1);
	rc = parse_parts(r->body, r->body_len, delim, payload, args, n);
	if (rc == 0) {
		json_decref(r->payload);
		r->payload = payload;
		payload = NULL;
	}
out:
	if (rc < 0)
		log_warnx("cannot parse multipart form: %s", hk_strerror(rc));
	json_decref(payload);
	free(delim);
	free(boundary);
	return rc < 0 ? HK_EPARSE : 0;
}

/* ------------------------------------------------------------------ */

int hookreq_parse_body(struct hookreq *r, const char *content_type_override,
		       const struct hookreq_arg *json_args, size_t njson)
{
	const char *ct;
	json_t *v = NULL;

	if (content_type_override && *content_type_override) {
		char *dup = strdup(content_type_override);
		if (!dup)
			return HK_ENOMEM;
		free(r->content_type);
		r->content_type = dup;
	}
	ct = r->content_type;
	if (strstr(ct, "json")) {
		v = parse_json_body(r->body, r->body_len);
	} else if (strstr(ct, "x-www-form-urlencoded")) {
		v = parse_form_body(r->body, r->body_len);
	} else if (strstr(ct, "xml")) {
		char why[128];
		if (xmljson_parse(r->body, r->body_len, &v, why, sizeof(why)) < 0) {
			log_warnx("cannot parse xml payload: %s", why);
			v = NULL;
		}
	} else if (strncmp(ct, "multipart/form-data;", 20) == 0) {
		return parse_multipart(r, json_args, njson);
	} else {
		log_debug("no payload parser for content type '%s'", ct);
		return 0;
	}
	json_decref(r->payload);
	r->payload = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* parse-parameters-as-json                                             */

/* replace puts v at a dot path whose leaf already exists; steals v. */
static int replace(json_t *root, const char *name, json_t *v)
{
	json_t *node = root;
	const char *s = name;

	if (json_object_get(root, name))
		return json_object_set_new_nocheck(root, name, v) < 0 ? HK_ENOMEM : 0;
	while (node) {
		const char *dot = strchr(s, '.');
		size_t seg = dot ? (size_t)(dot - s) : strlen(s);
		char *end;
		unsigned long idx;

		if (json_is_object(node)) {
			if (!dot) {
				if (!json_object_getn(node, s, seg))
					break;
				return json_object_setn_new_nocheck(node, s, seg, v) < 0 ? HK_ENOMEM : 0;
			}
			node = json_object_getn(node, s, seg);
		} else if (json_is_array(node) && seg > 0 && s[0] >= '0' && s[0] <= '9') {
			idx = strtoul(s, &end, 10);
			if (end != s + seg || idx >= json_array_size(node))
				break;
			if (!dot)
				return json_array_set_new(node, idx, v) < 0 ? HK_ENOMEM : 0;
			node = json_array_get(node, idx);
		} else {
			break;
		}
		s = dot + 1;
	}
	json_decref(v);
	return HK_ENOTFOUND;
}

static int json_arg(struct hookreq *r, const struct hookreq_arg *a)
{
	json_t *root, *v;
	json_error_t jerr;
	char *s = NULL, *key = NULL;
	size_t len;
	int rc;

	if (a->source == HOOKREQ_SRC_HEADER)
		root = r->headers;
	else if (a->source == HOOKREQ_SRC_URL)
		root = r->query;
	else if (a->source == HOOKREQ_SRC_PAYLOAD)
		root = r->payload;
	else
		return HK_EINVAL;
	rc = hookreq_value(r, a->source, a->name, &s, &len);
	if (rc < 0)
		return rc;
	v = json_loadb(s, len, JSON_FLAGS, &jerr);
	free(s);
	if (!v || !json_is_object(v)) {
		json_decref(v);
		return HK_EPARSE;
	}
	key = a->source == HOOKREQ_SRC_HEADER ? hookreq_canonical_header(a->name) : NULL;
	rc = replace(root, key ? key : a->name, v);
	free(key);
	return rc;
}

int hookreq_parse_json_args(struct hookreq *r, const struct hookreq_arg *args, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		int rc = json_arg(r, &args[i]);
		if (rc == HK_ENOMEM)
			return rc;
		if (rc < 0) {
			log_warnx("cannot parse %s '%s' as json: %s",
				  hookreq_source_name(args[i].source), args[i].name, hk_strerror(rc));
			failed = HK_EPARSE;
		}
	}
	return failed;
}
