/*
 * xmljson.c - recursive-descent XML reader producing mxj-shaped JSON.
 *
 * The reader works on a byte range with a cursor; every element is one call
 * of parse_element(), whose depth is capped, and every element or attribute
 * counts against a node budget, so hostile input costs at most O(n) time
 * and a bounded stack. Text is accumulated in a bounded struct buf.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "hooks/xmljson.h"

struct xp {
	const char *start, *p, *end;
	size_t nodes;
	char *err;
	size_t errlen;
};

static int fail(struct xp *x, int rc, const char *why)
{
	if (x->err && x->errlen)
		snprintf(x->err, x->errlen, "%s at byte %zu", why, (size_t)(x->p - x->start));
	return rc;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool starts(const struct xp *x, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(x->end - x->p) >= n && memcmp(x->p, lit, n) == 0;
}

/* skip_past moves the cursor after the next occurrence of lit. */
static int skip_past(struct xp *x, const char *lit)
{
	size_t n = strlen(lit);

	while ((size_t)(x->end - x->p) >= n) {
		if (memcmp(x->p, lit, n) == 0) {
			x->p += n;
			return 0;
		}
		x->p++;
	}
	return fail(x, HK_EPARSE, "unterminated markup");
}

/* skip_doctype skips "<!DOCTYPE ...>", with an internal subset in [...]. */
static int skip_doctype(struct xp *x)
{
	int bracket = 0;

	for (; x->p < x->end; x->p++) {
		if (*x->p == '[')
			bracket++;
		else if (*x->p == ']')
			bracket--;
		else if (*x->p == '>' && bracket <= 0) {
			x->p++;
			return 0;
		}
	}
	return fail(x, HK_EPARSE, "unterminated doctype");
}

/* skip_misc skips whitespace, comments, PIs and doctypes between elements. */
static int skip_misc(struct xp *x)
{
	int rc = 0;

	while (rc == 0 && x->p < x->end) {
		if (is_space(*x->p))
			x->p++;
		else if (starts(x, "<!--"))
			rc = skip_past(x, "-->");
		else if (starts(x, "<?"))
			rc = skip_past(x, "?>");
		else if (starts(x, "<!DOCTYPE") || starts(x, "<!doctype"))
			rc = skip_doctype(x);
		else
			break;
	}
	return rc;
}

static int put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return HK_EPARSE;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(b, u, n);
}

/* entity decodes "&...;" at the cursor into b. */
static int entity(struct xp *x, struct buf *b)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
	unsigned long cp = 0;
	bool hex;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (starts(x, named[i].name)) {
			x->p += strlen(named[i].name);
			return buf_append(b, &named[i].c, 1);
		}
	}
	if (!starts(x, "&#"))
		return fail(x, HK_EPARSE, "unknown entity");
	x->p += 2;
	hex = x->p < x->end && *x->p == 'x';
	if (hex)
		x->p++;
	for (int digits = 0;; digits++) {
		int v = -1;
		if (x->p >= x->end || digits > 8)
			return fail(x, HK_EPARSE, "bad character reference");
		if (*x->p == ';' && digits > 0)
			break;
		if (*x->p >= '0' && *x->p <= '9')
			v = *x->p - '0';
		else if (hex && *x->p >= 'a' && *x->p <= 'f')
			v = *x->p - 'a' + 10;
		else if (hex && *x->p >= 'A' && *x->p <= 'F')
			v = *x->p - 'A' + 10;
		if (v < 0)
			return fail(x, HK_EPARSE, "bad character reference");
		cp = cp * (hex ? 16 : 10) + (unsigned long)v;
		x->p++;
	}
	x->p++;
	return put_utf8(b, cp) < 0 ? fail(x, HK_EPARSE, "bad character reference") : 0;
}

/* read_name reads an element or attribute name; *local skips the prefix. */
static int read_name(struct xp *x, const char **name, size_t *len)
{
	const char *start = x->p, *local;

	while (x->p < x->end && !is_space(*x->p) && !strchr("/>=<\"'", *x->p))
		x->p++;
	if (x->p == start)
		return fail(x, HK_EPARSE, "expected a name");
	local = start;
	for (const char *q = start; q < x->p; q++) {
		if (*q == ':' && q + 1 < x->p)
			local = q + 1;
	}
	*name = local;
	*len = (size_t)(x->p - local);
	return 0;
}

static void skip_space(struct xp *x)
{
	while (x->p < x->end && is_space(*x->p))
		x->p++;
}

/* add_child stores v under key, turning a repeated key into an array. */
static int add_child(json_t *obj, const char *key, size_t klen, json_t *v)
{
	json_t *old = json_object_getn(obj, key, klen);

	if (!old)
		return json_object_setn_new_nocheck(obj, key, klen, v) < 0 ? HK_ENOMEM : 0;
	if (json_is_array(old))
		return json_array_append_new(old, v) < 0 ? HK_ENOMEM : 0;
	{
		json_t *arr = json_array();
		if (!arr || json_array_append(arr, old) < 0 || json_array_append_new(arr, v) < 0) {
			json_decref(arr);
			return HK_ENOMEM;
		}
		return json_object_setn_new_nocheck(obj, key, klen, arr) < 0 ? HK_ENOMEM : 0;
	}
}

static int parse_attr(struct xp *x, json_t *obj)
{
	const char *name;
	size_t nlen;
	char quote, key[256];
	struct buf val;
	int rc;

	rc = read_name(x, &name, &nlen);
	if (rc < 0)
		return rc;
	if (nlen + 2 > sizeof(key))
		return fail(x, HK_ETOOBIG, "attribute name too long");
	key[0] = '-';
	memcpy(key + 1, name, nlen);
	skip_space(x);
	if (x->p >= x->end || *x->p != '=')
		return fail(x, HK_EPARSE, "expected '='");
	x->p++;
	skip_space(x);
	if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
		return fail(x, HK_EPARSE, "expected a quoted value");
	quote = *x->p++;
	buf_init(&val, (size_t)(x->end - x->p) + 2);
	rc = buf_append(&val, "", 0);
	while (rc == 0 && x->p < x->end && *x->p != quote) {
		if (*x->p == '&')
			rc = entity(x, &val);
		else if (*x->p == '<')
			rc = fail(x, HK_EPARSE, "'<' in attribute value");
		else
			rc = buf_append(&val, x->p++, 1);
	}
	if (rc == 0 && x->p >= x->end)
		rc = fail(x, HK_EPARSE, "unterminated attribute value");
	if (rc == 0) {
		x->p++;
		if (++x->nodes > XMLJSON_NODES_MAX)
			rc = fail(x, HK_ETOOBIG, "too many nodes");
	}
	if (rc == 0 && !json_object_getn(obj, key, nlen + 1))
		rc = json_object_setn_new_nocheck(obj, key, nlen + 1,
						  json_stringn_nocheck(val.data, val.len)) < 0
			 ? HK_ENOMEM
			 : 0;
	buf_release(&val);
	return rc;
}

static int parse_element(struct xp *x, int depth, json_t **out, const char **name,
			 size_t *nlen);

/* parse_content reads text and children up to the matching end tag. */
static int parse_content(struct xp *x, int depth, json_t *obj, struct buf *text,
			 const char *name, size_t nlen)
{
	int rc = 0;

	while (rc == 0) {
		if (x->p >= x->end)
			return fail(x, HK_EPARSE, "unclosed element");
		if (starts(x, "</")) {
			const char *ename;
			size_t elen;
			x->p += 2;
			rc = read_name(x, &ename, &elen);
			if (rc < 0)
				return rc;
			if (elen != nlen || memcmp(ename, name, nlen) != 0)
				return fail(x, HK_EPARSE, "mismatched end tag");
			skip_space(x);
			if (x->p >= x->end || *x->p != '>')
				return fail(x, HK_EPARSE, "expected '>'");
			x->p++;
			return 0;
		} else if (starts(x, "<!--")) {
			rc = skip_past(x, "-->");
		} else if (starts(x, "<?")) {
			rc = skip_past(x, "?>");
		} else if (starts(x, "<![CDATA[")) {
			const char *s = x->p + 9;
			rc = skip_past(x, "]]>");
			if (rc == 0)
				rc = buf_append(text, s, (size_t)(x->p - 3 - s));
		} else if (*x->p == '<') {
			json_t *child;
			const char *cname;
			size_t clen;
			rc = parse_element(x, depth + 1, &child, &cname, &clen);
			if (rc == 0)
				rc = add_child(obj, cname, clen, child);
		} else if (*x->p == '&') {
			rc = entity(x, text);
		} else {
			rc = buf_append(text, x->p++, 1);
		}
	}
	return rc;
}

/* finish turns an element's parts into its mxj value. */
static json_t *finish(json_t *obj, const struct buf *text)
{
	const char *s = buf_cstr(text);
	size_t a = 0, b = text->len;

	while (a < b && is_space(s[a]))
		a++;
	while (b > a && is_space(s[b - 1]))
		b--;
	if (json_object_size(obj) == 0) {
		json_decref(obj);
		return json_stringn_nocheck(s + a, b - a);
	}
	if (b > a && json_object_set_new_nocheck(obj, "#text", json_stringn_nocheck(s + a, b - a)) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static int parse_element(struct xp *x, int depth, json_t **out, const char **name,
			 size_t *nlen)
{
	json_t *obj = NULL;
	struct buf text;
	bool empty = false;
	int rc;

	if (depth > XMLJSON_DEPTH_MAX)
		return fail(x, HK_ETOOBIG, "nesting too deep");
	if (++x->nodes > XMLJSON_NODES_MAX)
		return fail(x, HK_ETOOBIG, "too many nodes");
	if (x->p >= x->end || *x->p != '<')
		return fail(x, HK_EPARSE, "expected an element");
	x->p++;
	rc = read_name(x, name, nlen);
	if (rc < 0)
		return rc;
	buf_init(&text, (size_t)(x->end - x->p) + 2);
	obj = json_object();
	if (!obj) {
		rc = HK_ENOMEM;
		goto out;
	}
	for (;;) {
		skip_space(x);
		if (x->p >= x->end) {
			rc = fail(x, HK_EPARSE, "unterminated start tag");
			goto out;
		}
		if (starts(x, "/>")) {
			x->p += 2;
			empty = true;
			break;
		}
		if (*x->p == '>') {
			x->p++;
			break;
		}
		rc = parse_attr(x, obj);
		if (rc < 0)
			goto out;
	}
	if (!empty) {
		rc = parse_content(x, depth, obj, &text, *name, *nlen);
		if (rc < 0)
			goto out;
	}
	*out = finish(obj, &text);
	obj = NULL;
	if (!*out)
		rc = HK_ENOMEM;
out:
	json_decref(obj);
	buf_release(&text);
	return rc;
}

int xmljson_parse(const char *s, size_t n, json_t **out, char *err, size_t errlen)
{
	struct xp x = {.start = s, .p = s, .end = s + n, .err = err, .errlen = errlen};
	json_t *root = NULL, *v = NULL;
	const char *name;
	size_t nlen;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	rc = skip_misc(&x);
	if (rc < 0)
		return rc;
	if (x.p >= x.end)
		return fail(&x, HK_EPARSE, "no root element");
	rc = parse_element(&x, 1, &v, &name, &nlen);
	if (rc < 0)
		return rc;
	root = json_object();
	if (!root || json_object_setn_new_nocheck(root, name, nlen, v) < 0) {
		json_decref(root);
		return HK_ENOMEM;
	}
	*out = root;
	return 0;
}
