/*
 * prov_generic.c - sources that are not a named provider: a configurable
 * HMAC header, HTTP basic and bearer authentication, and "none" (accept
 * everything, recorded as unverified). Their dedupe key and event type come
 * from the source's options (dedupe_header, event_header) or the body's
 * "type".
 */
#include <string.h>
#include <strings.h>

#include "core/codec.h"
#include "core/err.h"
#include "inbound/providers/prov.h"

static const char *hmac_digest(const char *alg)
{
	if (!alg || !strcasecmp(alg, "sha256"))
		return "SHA256";
	if (!strcasecmp(alg, "sha1"))
		return "SHA1";
	if (!strcasecmp(alg, "sha512"))
		return "SHA512";
	return NULL;
}

static int hmac_verify(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *reason, size_t cap)
{
	const char *header = prov_opt(cfg, "header"), *enc = prov_opt(cfg, "encoding");
	struct sign_part body = {req->body, req->body_len};
	struct prov_mac m = {hmac_digest(prov_opt(cfg, "algorithm")), PROV_HEX, &body, 1};
	const char *v;
	size_t n;
	int rc;

	if (!m.digest)
		return prov_fail(reason, cap, "unknown algorithm '%s'", prov_opt(cfg, "algorithm"));
	if (enc && !strcasecmp(enc, "base64"))
		m.enc = PROV_BASE64;
	else if (enc && strcasecmp(enc, "hex"))
		return prov_fail(reason, cap, "unknown encoding '%s'", enc);
	rc = prov_need_header(req, header ? header : "x-signature", &v, &n, reason, cap);
	if (rc < 0)
		return rc;
	return prov_match_list(cfg, &m, v, n, ',', prov_opt(cfg, "prefix"), reason, cap);
}

const struct provider prov_hmac = {
	.name = "hmac",
	.verify = hmac_verify,
	.dedupe = prov_generic_dedupe,
	.event_type = prov_generic_event,
};

/* auth_value returns the credentials after "<scheme> " in Authorization. */
static int auth_value(const struct provider_req *req, const char *scheme, const char **v,
		      size_t *n, char *reason, size_t cap)
{
	size_t sl = strlen(scheme);
	int rc = prov_need_header(req, "authorization", v, n, reason, cap);

	if (rc < 0)
		return rc;
	if (*n <= sl + 1 || strncasecmp(*v, scheme, sl) || (*v)[sl] != ' ')
		return prov_fail(reason, cap, "authorization is not %s", scheme);
	*v += sl + 1;
	*n -= sl + 1;
	while (*n && **v == ' ')
		(*v)++, (*n)--;
	return 0;
}

/* secret_equal compares a credential with every secret in constant time. */
static bool secret_equal(const struct provider_cfg *cfg, const void *v, size_t n)
{
	bool found = false;

	for (size_t i = 0; i < cfg->nsecrets; i++) {
		const char *s = cfg->secrets[i];
		if (s && *s)
			found |= ct_equal(s, strlen(s), v, n);
	}
	return found;
}

static int basic_verify(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *reason, size_t cap)
{
	unsigned char raw[PROVIDER_HEADER_MAX / 4 * 3 + 3];
	const char *v;
	size_t n, rawlen = 0;
	int rc = auth_value(req, "Basic", &v, &n, reason, cap);

	if (rc < 0)
		return rc;
	if (base64_decode(v, n, raw, &rawlen) < 0 || !memchr(raw, ':', rawlen))
		return prov_fail(reason, cap, "malformed authorization");
	return secret_equal(cfg, raw, rawlen) ? 0 : prov_fail(reason, cap, "wrong credentials");
}

const struct provider prov_basic = {
	.name = "basic",
	.verify = basic_verify,
	.dedupe = prov_generic_dedupe,
	.event_type = prov_generic_event,
};

static int bearer_verify(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *reason, size_t cap)
{
	const char *v;
	size_t n;
	int rc = auth_value(req, "Bearer", &v, &n, reason, cap);

	if (rc < 0)
		return rc;
	return secret_equal(cfg, v, n) ? 0 : prov_fail(reason, cap, "wrong token");
}

const struct provider prov_bearer = {
	.name = "bearer",
	.verify = bearer_verify,
	.dedupe = prov_generic_dedupe,
	.event_type = prov_generic_event,
};

static int none_verify(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *reason, size_t cap)
{
	prov_fail(reason, cap, "unverified");
	return 0;
}

const struct provider prov_none = {
	.name = "none",
	.verify = none_verify,
	.dedupe = prov_generic_dedupe,
	.event_type = prov_generic_event,
};
