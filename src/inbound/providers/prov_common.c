/*
 * prov_common.c - what every provider file shares: bounded header access,
 * reasons, candidate matching against every secret, time windows, body
 * JSON and event type normalisation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/codec.h"
#include "core/err.h"
#include "inbound/providers/prov.h"

#define CAND_MAX (2 * SIGN_MAC_MAX) /* the longest encoding of a MAC (hex) */

int prov_header(const struct provider_req *req, const char *name, const char **v, size_t *n)
{
	const char *s = req->header ? req->header(req->hctx, name) : NULL;
	size_t len;

	if (!s || !*s)
		return HK_ENOTFOUND;
	len = strnlen(s, PROVIDER_HEADER_MAX + 1);
	if (len > PROVIDER_HEADER_MAX)
		return HK_ETOOBIG;
	*v = s;
	*n = len;
	return 0;
}

int prov_fail(char *reason, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (reason && cap) {
		va_start(ap, fmt);
		vsnprintf(reason, cap, fmt, ap);
		va_end(ap);
	}
	return HK_EVERIFY;
}

int prov_nomatch(char *reason, size_t cap)
{
	return prov_fail(reason, cap, "no matching signature");
}

int prov_need_header(const struct provider_req *req, const char *name, const char **v, size_t *n,
		     char *reason, size_t cap)
{
	int rc = prov_header(req, name, v, n);

	if (rc == HK_ENOTFOUND)
		return prov_fail(reason, cap, "missing header '%s'", name);
	if (rc < 0)
		return prov_fail(reason, cap, "header '%s' too long", name);
	return 0;
}

/* the MAC of the signed content under one secret; len 0 when the secret is unusable */
struct pmac {
	unsigned char mac[SIGN_MAC_MAX];
	size_t len;
};

/*
 * macs_compute computes the MAC under every secret once, so that a header
 * with thousands of candidates costs one HMAC per secret, not per candidate.
 */
static struct pmac *macs_compute(const struct provider_cfg *cfg, const struct prov_mac *m)
{
	struct pmac *macs = calloc(cfg->nsecrets ? cfg->nsecrets : 1, sizeof(*macs));

	if (!macs)
		return NULL;
	for (size_t i = 0; i < cfg->nsecrets; i++) {
		const char *key = cfg->secrets[i];
		if (!key || !*key ||
		    sign_hmac(m->digest, key, strlen(key), m->parts, m->nparts, macs[i].mac,
			      &macs[i].len) < 0)
			macs[i].len = 0;
	}
	return macs;
}

static void macs_free(struct pmac *macs, size_t n)
{
	if (macs)
		OPENSSL_cleanse(macs, (n ? n : 1) * sizeof(*macs));
	free(macs);
}

/* macs_match decodes one candidate and compares it with every MAC: 1, 0 or HK_EPARSE. */
static int macs_match(const struct pmac *macs, size_t nmacs, enum prov_enc enc, const char *cand,
		      size_t n)
{
	unsigned char want[CAND_MAX];
	size_t wantlen = 0;
	int rc, found = 0;

	if (n == 0 || n > CAND_MAX)
		return HK_EPARSE;
	if (enc == PROV_HEX)
		rc = hex_decode(cand, n, want, &wantlen);
	else
		rc = base64_decode(cand, n, want, &wantlen);
	if (rc < 0 || wantlen == 0)
		return HK_EPARSE;
	for (size_t i = 0; i < nmacs; i++)
		if (macs[i].len)
			found |= ct_equal(macs[i].mac, macs[i].len, want, wantlen);
	return found;
}

int prov_match(const struct provider_cfg *cfg, const struct prov_mac *m, const char *cand,
	       size_t n)
{
	struct pmac *macs = macs_compute(cfg, m);
	int rc;

	if (!macs)
		return HK_ENOMEM;
	rc = macs_match(macs, cfg->nsecrets, m->enc, cand, n);
	macs_free(macs, cfg->nsecrets);
	return rc;
}

int prov_match_list(const struct provider_cfg *cfg, const struct prov_mac *m, const char *v,
		    size_t n, char sep, const char *prefix, char *reason, size_t cap)
{
	size_t plen = prefix ? strlen(prefix) : 0, i = 0;
	struct pmac *macs = macs_compute(cfg, m);
	bool decoded = false;
	int found = 0;

	if (!macs)
		return HK_ENOMEM;
	while (i < n) {
		size_t start = i, len;
		while (i < n && v[i] != sep)
			i++;
		len = i - start;
		while (len && v[start] == ' ')
			start++, len--;
		while (len && v[start + len - 1] == ' ')
			len--;
		i++;
		if (plen && (len < plen || strncmp(v + start, prefix, plen)))
			continue;
		int rc = macs_match(macs, cfg->nsecrets, m->enc, v + start + plen, len - plen);
		if (rc >= 0)
			decoded = true;
		if (rc > 0)
			found = 1;
	}
	macs_free(macs, cfg->nsecrets);
	if (found)
		return 0;
	if (!decoded)
		return prov_fail(reason, cap, "malformed signature header");
	return prov_nomatch(reason, cap);
}

int prov_tolerance(const struct provider *p, const struct provider_cfg *cfg)
{
	if (cfg->tolerance_seconds < 0)
		return 0;
	return cfg->tolerance_seconds ? cfg->tolerance_seconds : p->default_tolerance;
}

int prov_check_time(const struct provider *p, const struct provider_cfg *cfg,
		    const struct provider_req *req, int64_t ts, char *reason, size_t cap)
{
	int tol = prov_tolerance(p, cfg);
	const char *why = NULL;

	if (tol == 0)
		return 0;
	if (sign_check_time(ts, req->now, tol, &why) < 0)
		return prov_fail(reason, cap, "%s", why);
	return 0;
}

json_t *prov_body_json(const struct provider_req *req)
{
	json_t *j;

	if (!req->body || req->body_len == 0)
		return NULL;
	j = json_loadb((const char *)req->body, req->body_len, 0, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

const char *prov_opt(const struct provider_cfg *cfg, const char *key)
{
	const char *s;

	if (!cfg->config || !json_is_object(cfg->config))
		return NULL;
	s = json_string_value(json_object_get(cfg->config, key));
	return s && *s ? s : NULL;
}

int prov_put(char *out, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return HK_ETOOBIG;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static char event_char(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')
		return (char)c;
	if (c == '/' || c == ':')
		return '.';
	return '_';
}

int prov_event_put(char *out, size_t cap, const char *prefix, const char *name, size_t n)
{
	size_t plen = prefix ? strlen(prefix) : 0;

	if (n == 0)
		return HK_ENOTFOUND;
	if (plen + n >= cap)
		return HK_ETOOBIG;
	if (plen)
		memcpy(out, prefix, plen);
	for (size_t i = 0; i < n; i++)
		out[plen + i] = event_char((unsigned char)name[i]);
	out[plen + n] = '\0';
	return 0;
}

const char *prov_json_str(json_t *obj, const char *path)
{
	const char *dot = strchr(path, '.');
	char head[64];

	if (!json_is_object(obj))
		return NULL;
	if (!dot)
		return json_string_value(json_object_get(obj, path));
	if ((size_t)(dot - path) >= sizeof(head))
		return NULL;
	memcpy(head, path, (size_t)(dot - path));
	head[dot - path] = '\0';
	return prov_json_str(json_object_get(obj, head), dot + 1);
}

int prov_generic_dedupe(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap)
{
	const char *name = prov_opt(cfg, "dedupe_header"), *v;
	size_t n;
	int rc;

	if (!name)
		return HK_ENOTFOUND;
	rc = prov_header(req, name, &v, &n);
	return rc < 0 ? rc : prov_put(out, cap, v, n);
}

int prov_generic_event(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *out, size_t cap)
{
	const char *name = prov_opt(cfg, "event_header"), *v;
	json_t *body;
	size_t n;
	int rc;

	if (name) {
		rc = prov_header(req, name, &v, &n);
		return rc < 0 ? rc : prov_event_put(out, cap, NULL, v, n);
	}
	body = prov_body_json(req);
	v = prov_json_str(body, "type");
	rc = v ? prov_event_put(out, cap, NULL, v, strlen(v)) : HK_ENOTFOUND;
	json_decref(body);
	return rc;
}
