/*
 * prov_twilio.c - Twilio: HMAC-SHA1 (auth token) of the URL Twilio called,
 * followed, for form posts, by every POST parameter sorted by name, each
 * name then value, url-decoded. A JSON body is not signed directly: the URL
 * then carries bodySHA256=hex(sha256(body)), which must match the body, and
 * no parameters are appended.
 *
 * The URL must be the one Twilio called, so the receiver passes the full
 * public URL. Twilio's own libraries also accept the URL with the default
 * port added or removed (proxies differ on that); so does this check.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "core/codec.h"
#include "core/err.h"
#include "inbound/providers/prov.h"

#define URL_MAX PROVIDER_HEADER_MAX

struct param {
	const char *name, *val;
	size_t nlen, vlen;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* url_decode decodes in place-wise into out (never longer than n) and returns the length. */
static size_t url_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

static int param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
	int c = memcmp(x->name, y->name, n);

	if (c || x->nlen != y->nlen)
		return c ? c : (x->nlen < y->nlen ? -1 : 1);
	n = x->vlen < y->vlen ? x->vlen : y->vlen;
	c = memcmp(x->val, y->val, n);
	if (c || x->vlen == y->vlen)
		return c;
	return x->vlen < y->vlen ? -1 : 1;
}

/*
 * form_parse splits a form body into decoded, sorted parameters. *store
 * holds the decoded bytes and *ps the array; the caller frees both.
 */
static int form_parse(const char *b, size_t n, char **store, struct param **ps, size_t *np)
{
	size_t count = 1, i = 0, o = 0, k = 0;

	for (size_t j = 0; j < n; j++)
		count += b[j] == '&';
	*store = malloc(n + 1);
	*ps = calloc(count, sizeof(**ps));
	if (!*store || !*ps)
		return HK_ENOMEM;
	while (i < n) {
		size_t start = i, eq;
		while (i < n && b[i] != '&')
			i++;
		for (eq = start; eq < i && b[eq] != '='; eq++)
			;
		if (i > start) {
			struct param *p = &(*ps)[k++];
			p->name = *store + o;
			p->nlen = url_decode(b + start, eq - start, *store + o);
			o += p->nlen;
			p->val = *store + o;
			p->vlen = eq < i ? url_decode(b + eq + 1, i - eq - 1, *store + o) : 0;
			o += p->vlen;
		}
		i++;
	}
	qsort(*ps, k, sizeof(**ps), param_cmp);
	*np = k;
	return 0;
}

/* host_port finds the ":port" of the URL's authority, or NULL; *end gets the authority's end. */
static const char *host_port(const char *host, const char **end)
{
	const char *p = host;

	*end = host + strcspn(host, "/?#");
	if (*p == '[') {
		p = memchr(host, ']', (size_t)(*end - host));
		if (!p)
			return NULL;
	}
	p = memchr(p, ':', (size_t)(*end - p));
	return p;
}

/*
 * url_variant writes the URL with its default port toggled (":443" for
 * https, ":80" for http) into out; false when there is no such variant.
 */
static bool url_variant(const char *url, char *out, size_t cap)
{
	const char *host, *end, *colon, *port;
	size_t n = strlen(url), plen, head;

	if (!strncasecmp(url, "https://", 8))
		port = "443";
	else if (!strncasecmp(url, "http://", 7))
		port = "80";
	else
		return false;
	plen = strlen(port);
	host = strstr(url, "://") + 3;
	colon = host_port(host, &end);
	if (colon) {
		if ((size_t)(end - colon - 1) != plen || strncmp(colon + 1, port, plen) || n >= cap)
			return false;
		head = (size_t)(colon - url);
		memcpy(out, url, head);
		memcpy(out + head, end, strlen(end) + 1);
		return true;
	}
	if (n + 1 + plen >= cap)
		return false;
	head = (size_t)(end - url);
	memcpy(out, url, head);
	out[head] = ':';
	memcpy(out + head + 1, port, plen);
	memcpy(out + head + 1 + plen, end, strlen(end) + 1);
	return true;
}

/* query_param finds a query parameter of the URL (not decoded). */
static bool query_param(const char *url, const char *name, const char **v, size_t *vn)
{
	const char *q = strchr(url, '?');
	size_t len = strlen(name);

	if (!q)
		return false;
	q++;
	while (*q && *q != '#') {
		size_t n = strcspn(q, "&#");
		if (n > len && !strncmp(q, name, len) && q[len] == '=') {
			*v = q + len + 1;
			*vn = n - len - 1;
			return true;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return false;
}

/* body_hash_ok compares hex(sha256(body)) with the URL's bodySHA256. */
static bool body_hash_ok(const struct provider_req *req, const char *want, size_t wn)
{
	unsigned char md[32], raw[32];
	unsigned int mdlen = 0;
	size_t rawlen = 0;

	if (wn != 64 || hex_decode(want, wn, raw, &rawlen) < 0)
		return false;
	if (EVP_Digest(req->body_len ? (const void *)req->body : "", req->body_len, md, &mdlen,
		       EVP_sha256(), NULL) != 1)
		return false;
	return ct_equal(md, mdlen, raw, rawlen);
}

static bool is_form(const char *ct)
{
	static const char form[] = "application/x-www-form-urlencoded";
	return !ct || !strncasecmp(ct, form, sizeof(form) - 1);
}

/* twilio_match tries the URL as given, then its port variant. */
static int twilio_match(const struct provider_cfg *cfg, struct sign_part *parts, size_t nparts,
			const char *url, const char *sig, size_t sn)
{
	struct prov_mac m = {"SHA1", PROV_BASE64, parts, nparts};
	char *alt;
	int rc;

	parts[0] = (struct sign_part){url, strlen(url)};
	rc = prov_match(cfg, &m, sig, sn);
	if (rc != 0)
		return rc;
	alt = malloc(URL_MAX + 8);
	if (!alt)
		return HK_ENOMEM;
	if (url_variant(url, alt, URL_MAX + 8)) {
		parts[0] = (struct sign_part){alt, strlen(alt)};
		rc = prov_match(cfg, &m, sig, sn);
	}
	free(alt);
	return rc;
}

static int twilio_verify(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *reason, size_t cap)
{
	struct param *ps = NULL;
	struct sign_part *parts = NULL;
	const char *sig, *want;
	char *store = NULL;
	size_t sn, wn, np = 0;
	int rc = prov_need_header(req, "x-twilio-signature", &sig, &sn, reason, cap);

	if (rc < 0)
		return rc;
	if (!req->url || !*req->url || strnlen(req->url, URL_MAX + 1) > URL_MAX)
		return prov_fail(reason, cap, "missing request url");
	if (query_param(req->url, "bodySHA256", &want, &wn)) {
		if (!body_hash_ok(req, want, wn))
			return prov_fail(reason, cap, "body does not match bodySHA256");
	} else if (req->body_len && !is_form(req->content_type)) {
		return prov_fail(reason, cap, "body not covered by the signature");
	} else if (req->body_len) {
		rc = form_parse((const char *)req->body, req->body_len, &store, &ps, &np);
		if (rc < 0)
			goto out;
	}
	parts = calloc(1 + 2 * np, sizeof(*parts));
	if (!parts) {
		rc = HK_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < np; i++) {
		parts[1 + 2 * i] = (struct sign_part){ps[i].name, ps[i].nlen};
		parts[2 + 2 * i] = (struct sign_part){ps[i].val, ps[i].vlen};
	}
	rc = twilio_match(cfg, parts, 1 + 2 * np, req->url, sig, sn);
	if (rc > 0)
		rc = 0;
	else if (rc == 0)
		rc = prov_nomatch(reason, cap);
	else if (rc == HK_EPARSE)
		rc = prov_fail(reason, cap, "malformed signature header");
out:
	free(parts);
	free(ps);
	free(store);
	return rc;
}

/* twilio_event: messages and calls are told apart by the sid they carry */
static int twilio_event(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap)
{
	const char *b = (const char *)req->body;
	size_t n = req->body_len;

	if (!b || !is_form(req->content_type))
		return HK_ENOTFOUND;
	if ((n >= 11 && !memcmp(b, "MessageSid=", 11)) || memmem(b, n, "&MessageSid=", 12))
		return prov_put(out, cap, "twilio.message", 14);
	if ((n >= 8 && !memcmp(b, "CallSid=", 8)) || memmem(b, n, "&CallSid=", 9))
		return prov_put(out, cap, "twilio.call", 11);
	return HK_ENOTFOUND;
}

const struct provider prov_twilio = {
	.name = "twilio",
	.dedupe_headers = {"i-twilio-idempotency-token"},
	.verify = twilio_verify,
	.event_type = twilio_event,
};
