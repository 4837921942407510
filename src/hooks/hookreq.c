/*
 * hookreq.c - a request as command hooks see it: lifecycle, headers, query
 * string, value lookup and rendering.
 *
 * Headers, query and payload are all JSON objects so that one lookup walks
 * them all the same way (adnanh/webhook keeps three Go maps and one
 * GetParameter). Strings enter the trees unchecked for UTF-8 (json_*_nocheck)
 * because HTTP carries bytes and a signature header must compare byte for
 * byte; only serialising a tree (entire-payload and friends) needs UTF-8,
 * and fails with HK_EINVAL when a value is not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/form.h"
#include "hooks/hookreq.h"

/* ------------------------------------------------------------------ */
/* sources                                                              */

static const struct {
	const char *name;
	enum hookreq_source src;
} sources[] = {
	{"header", HOOKREQ_SRC_HEADER},
	{"url", HOOKREQ_SRC_URL},
	{"query", HOOKREQ_SRC_URL},
	{"payload", HOOKREQ_SRC_PAYLOAD},
	{"raw-request-body", HOOKREQ_SRC_RAW_BODY},
	{"request", HOOKREQ_SRC_REQUEST},
	{"string", HOOKREQ_SRC_STRING},
	{"entire-payload", HOOKREQ_SRC_ENTIRE_PAYLOAD},
	{"entire-headers", HOOKREQ_SRC_ENTIRE_HEADERS},
	{"entire-query", HOOKREQ_SRC_ENTIRE_QUERY},
};

int hookreq_source_parse(const char *s, enum hookreq_source *out)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (strcmp(s, sources[i].name) == 0) {
			*out = sources[i].src;
			return 0;
		}
	}
	return HK_EINVAL;
}

const char *hookreq_source_name(enum hookreq_source src)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (sources[i].src == src)
			return sources[i].name;
	}
	return "?";
}

void hookreq_arg_release(struct hookreq_arg *a)
{
	free(a->name);
	free(a->envname);
	a->name = NULL;
	a->envname = NULL;
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                            */

struct hookreq *hookreq_new(const char *method, const char *remote_addr)
{
	struct hookreq *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->method = strdup(method ? method : "");
	r->remote_addr = strdup(remote_addr ? remote_addr : "");
	r->content_type = strdup("");
	r->body = calloc(1, 1);
	r->headers = json_object();
	r->query = json_object();
	if (!r->method || !r->remote_addr || !r->content_type || !r->body || !r->headers ||
	    !r->query) {
		hookreq_free(r);
		return NULL;
	}
	return r;
}

void hookreq_free(struct hookreq *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->remote_addr);
	free(r->content_type);
	free(r->body);
	json_decref(r->headers);
	json_decref(r->query);
	json_decref(r->payload);
	free(r);
}

int hookreq_set_body(struct hookreq *r, const void *body, size_t len)
{
	char *copy;

	if (len > HOOKREQ_BODY_MAX)
		return HK_ETOOBIG;
	copy = malloc(len + 1);
	if (!copy)
		return HK_ENOMEM;
	if (len)
		memcpy(copy, body, len);
	copy[len] = '\0';
	free(r->body);
	r->body = copy;
	r->body_len = len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* headers                                                              */

static bool is_token_byte(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return true;
	if (c >= 'A' && c <= 'Z')
		return true;
	if (c >= '0' && c <= '9')
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

char *hookreq_canonical_header(const char *name)
{
	char *out = strdup(name);
	bool upper = true;

	if (!out)
		return NULL;
	for (const char *p = name; *p; p++) {
		if (!is_token_byte((unsigned char)*p))
			return out; /* Go leaves such names alone */
	}
	for (char *p = out; *p; p++) {
		if (upper && *p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
		else if (!upper && *p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		upper = *p == '-';
	}
	return out;
}

int hookreq_add_header(struct hookreq *r, const char *name, const char *value)
{
	char *key = hookreq_canonical_header(name);
	size_t len;
	int rc = 0;

	if (!key)
		return HK_ENOMEM;
	/* as Go's server: Host and Transfer-Encoding are not headers of the request it hands on */
	if (strcmp(key, "Host") == 0 || strcmp(key, "Transfer-Encoding") == 0)
		goto out;
	if (json_object_get(r->headers, key))
		goto out; /* the first value wins, as r.Header.Get */
	/* and a value has no surrounding blanks */
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (json_object_size(r->headers) >= HOOKREQ_HEADERS_MAX) {
		rc = HK_ETOOBIG;
		goto out;
	}
	if (json_object_set_new_nocheck(r->headers, key, json_stringn_nocheck(value, len)) < 0) {
		rc = HK_ENOMEM;
		goto out;
	}
	if (strcmp(key, "Content-Type") == 0) {
		char *ct = strndup(value, len);
		if (!ct) {
			rc = HK_ENOMEM;
			goto out;
		}
		free(r->content_type);
		r->content_type = ct;
	}
out:
	free(key);
	return rc;
}

const char *hookreq_header(const struct hookreq *r, const char *name)
{
	char *key = hookreq_canonical_header(name);
	json_t *v;

	if (!key)
		return NULL;
	v = json_object_get(r->headers, key);
	free(key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int hookreq_parse_form(const char *s, size_t len, json_t *obj)
{
	return form_parse(s, len, obj);
}

int hookreq_set_query(struct hookreq *r, const char *qs, size_t len)
{
	json_t *q = json_object();
	int rc;

	if (!q)
		return HK_ENOMEM;
	rc = hookreq_parse_form(qs, len, q);
	if (rc == HK_ENOMEM || rc == HK_ETOOBIG) {
		json_decref(q);
		return rc;
	}
	json_decref(r->query);
	r->query = q; /* bad pairs were skipped, as r.URL.Query() does */
	return 0;
}

/* ------------------------------------------------------------------ */
/* lookup                                                               */

/* parse_index reads a decimal array index the way strconv.ParseUint does. */
static bool parse_index(const char *s, size_t n, size_t *out)
{
	size_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (SIZE_MAX - 9) / 10)
			return false;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* walk resolves a dot path: a literal key first, then the first segment. */
static json_t *walk(json_t *node, const char *s)
{
	while (node) {
		const char *dot = strchr(s, '.');
		size_t seg = dot ? (size_t)(dot - s) : strlen(s);

		if (json_is_array(node)) {
			size_t idx;
			if (json_array_size(node) == 0 || !parse_index(s, seg, &idx) ||
			    idx >= json_array_size(node))
				return NULL;
			node = json_array_get(node, idx);
		} else if (json_is_object(node)) {
			json_t *v = json_object_get(node, s);
			if (v)
				return v;
			if (!dot)
				return NULL;
			node = json_object_getn(node, s, seg);
		} else {
			return NULL;
		}
		if (!dot)
			return node;
		s = dot + 1;
	}
	return NULL;
}

int hookreq_json(const struct hookreq *r, enum hookreq_source src, const char *name,
		 json_t **out)
{
	json_t *root, *v;
	char *key = NULL;

	switch (src) {
	case HOOKREQ_SRC_HEADER:
		root = r->headers;
		key = hookreq_canonical_header(name);
		if (!key)
			return HK_ENOMEM;
		break;
	case HOOKREQ_SRC_URL:
		root = r->query;
		break;
	case HOOKREQ_SRC_PAYLOAD:
		root = r->payload;
		break;
	default:
		return HK_EINVAL;
	}
	v = root ? walk(root, key ? key : name) : NULL;
	free(key);
	if (!v)
		return HK_ENOTFOUND;
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* rendering                                                            */

static int dup_out(const char *s, size_t n, char **out, size_t *len)
{
	char *p = malloc(n + 1);

	if (!p)
		return HK_ENOMEM;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	*out = p;
	if (len)
		*len = n;
	return 0;
}

/* dump_go serialises like Go's json.Marshal: compact, sorted, HTML-safe. */
static int dump_go(const json_t *v, char **out, size_t *len)
{
	struct buf b;
	char *s;
	int rc = 0;

	if (!v)
		return dup_out("null", 4, out, len);
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!s)
		return HK_EINVAL; /* not UTF-8 */
	buf_init(&b, (size_t)HOOKREQ_BODY_MAX * 6 + 16);
	for (const char *p = s; *p && rc == 0; p++) {
		if (*p == '<')
			rc = buf_appends(&b, "\\u003c");
		else if (*p == '>')
			rc = buf_appends(&b, "\\u003e");
		else if (*p == '&')
			rc = buf_appends(&b, "\\u0026");
		else if (strncmp(p, "\xe2\x80\xa8", 3) == 0 || strncmp(p, "\xe2\x80\xa9", 3) == 0) {
			rc = buf_appends(&b, p[2] == '\xa8' ? "\\u2028" : "\\u2029");
			p += 2;
		} else
			rc = buf_append(&b, p, 1);
	}
	free(s);
	if (rc < 0) {
		buf_release(&b);
		return rc;
	}
	*out = buf_detach(&b, len);
	return 0;
}

static void format_real(double d, char *out, size_t cap)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

int hookreq_render(const json_t *v, char **out, size_t *len)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return dup_out(json_string_value(v), json_string_length(v), out, len);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return dup_out(num, strlen(num), out, len);
	case JSON_REAL:
		format_real(json_real_value(v), num, sizeof(num));
		return dup_out(num, strlen(num), out, len);
	case JSON_TRUE:
		return dup_out("true", 4, out, len);
	case JSON_FALSE:
		return dup_out("false", 5, out, len);
	case JSON_NULL:
		return dup_out("<nil>", 5, out, len);
	default:
		return dump_go(v, out, len);
	}
}

static int request_value(const struct hookreq *r, const char *name, char **out, size_t *len)
{
	if (strcasecmp(name, "remote-addr") == 0)
		return dup_out(r->remote_addr, strlen(r->remote_addr), out, len);
	if (strcasecmp(name, "method") == 0)
		return dup_out(r->method, strlen(r->method), out, len);
	return HK_EINVAL;
}

int hookreq_value(const struct hookreq *r, enum hookreq_source src, const char *name,
		  char **out, size_t *len)
{
	json_t *v;
	int rc;

	switch (src) {
	case HOOKREQ_SRC_STRING:
		return dup_out(name, strlen(name), out, len);
	case HOOKREQ_SRC_RAW_BODY:
		return dup_out(r->body, r->body_len, out, len);
	case HOOKREQ_SRC_REQUEST:
		return request_value(r, name, out, len);
	case HOOKREQ_SRC_ENTIRE_PAYLOAD:
		return dump_go(r->payload, out, len);
	case HOOKREQ_SRC_ENTIRE_HEADERS:
		return dump_go(r->headers, out, len);
	case HOOKREQ_SRC_ENTIRE_QUERY:
		return dump_go(r->query, out, len);
	default:
		rc = hookreq_json(r, src, name, &v);
		if (rc < 0)
			return rc;
		return hookreq_render(v, out, len);
	}
}
