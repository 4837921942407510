/*
 * prov_commerce.c - payment and shop platforms: Stripe, Paddle, Shopify.
 *
 * Stripe and Paddle put a timestamp and one or more signatures in one
 * header ("t=...,v1=...", "ts=...;h1=...") and sign "timestamp + sep +
 * body", so a captured request cannot be replayed outside the window.
 * Shopify signs the body alone and sends base64.
 */
#include <string.h>

#include "core/err.h"
#include "inbound/providers/prov.h"

/* kv_find finds the first "key=value" item of a sep-separated list. */
static bool kv_find(const char *v, size_t n, char sep, const char *key, const char **val,
		    size_t *vlen)
{
	size_t klen = strlen(key), i = 0;

	while (i < n) {
		size_t start = i;
		while (i < n && v[i] != sep)
			i++;
		while (start < i && v[start] == ' ')
			start++;
		if (i - start > klen && !strncmp(v + start, key, klen) && v[start + klen] == '=') {
			*val = v + start + klen + 1;
			*vlen = i - start - klen - 1;
			return true;
		}
		i++;
	}
	return false;
}

/*
 * ts_signed verifies the "timestamp + sep + body" schemes: header h holds
 * tkey=<unix> and one or more skey=<hex> items separated by lsep.
 */
struct ts_scheme {
	const char *header;
	char lsep;
	const char *tkey, *skey; /* "t", "v1=" */
	const char *join;        /* between timestamp and body */
};

static int ts_signed(const struct provider *p, const struct provider_cfg *cfg,
		     const struct provider_req *req, const struct ts_scheme *s, char *reason,
		     size_t cap)
{
	const char *v, *t;
	size_t n, tn;
	int64_t ts;
	int rc = prov_need_header(req, s->header, &v, &n, reason, cap);

	if (rc < 0)
		return rc;
	if (!kv_find(v, n, s->lsep, s->tkey, &t, &tn) || sign_parse_uint(t, tn, &ts) < 0)
		return prov_fail(reason, cap, "malformed signature header");
	rc = prov_check_time(p, cfg, req, ts, reason, cap);
	if (rc < 0)
		return rc;
	struct sign_part parts[] = {{t, tn}, {s->join, 1}, {req->body, req->body_len}};
	struct prov_mac m = {"SHA256", PROV_HEX, parts, 3};
	return prov_match_list(cfg, &m, v, n, s->lsep, s->skey, reason, cap);
}

static int stripe_verify(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *reason, size_t cap)
{
	static const struct ts_scheme s = {"stripe-signature", ',', "t", "v1=", "."};
	return ts_signed(p, cfg, req, &s, reason, cap);
}

const struct provider prov_stripe = {
	.name = "stripe",
	.default_tolerance = 300,
	.dedupe_field = "id",
	.event_field = "type",
	.event_prefix = "stripe.",
	.verify = stripe_verify,
};

static int paddle_verify(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *reason, size_t cap)
{
	static const struct ts_scheme s = {"paddle-signature", ';', "ts", "h1=", ":"};
	return ts_signed(p, cfg, req, &s, reason, cap);
}

const struct provider prov_paddle = {
	.name = "paddle",
	.default_tolerance = 5,
	.dedupe_field = "event_id",
	.event_field = "event_type",
	.event_prefix = "paddle.",
	.verify = paddle_verify,
};

static int shopify_verify(const struct provider *p, const struct provider_cfg *cfg,
			  const struct provider_req *req, char *reason, size_t cap)
{
	struct sign_part body = {req->body, req->body_len};
	struct prov_mac m = {"SHA256", PROV_BASE64, &body, 1};
	const char *v;
	size_t n;
	int rc = prov_need_header(req, "x-shopify-hmac-sha256", &v, &n, reason, cap);

	if (rc < 0)
		return rc;
	return prov_match_list(cfg, &m, v, n, ',', NULL, reason, cap);
}

const struct provider prov_shopify = {
	.name = "shopify",
	.dedupe_headers = {"x-shopify-webhook-id", "x-shopify-event-id"},
	.event_header = "x-shopify-topic",
	.event_prefix = "shopify.",
	.verify = shopify_verify,
};
