/*
 * prov_stdwh.c - Standard Webhooks and Svix: the same scheme under
 * webhook-* or svix-* header names, verified by the sign module. Each
 * provider reads its own names first and the other family's second, since
 * senders differ on which they use.
 */
#include <string.h>

#include "core/err.h"
#include "inbound/providers/prov.h"

struct stdwh_names {
	const char *id, *ts, *sig;
};

static const struct stdwh_names webhook_names = {"webhook-id", "webhook-timestamp",
						   "webhook-signature"};
static const struct stdwh_names svix_names = {"svix-id", "svix-timestamp", "svix-signature"};

static int stdwh_verify_with(const struct provider *p, const struct provider_cfg *cfg,
			     const struct provider_req *req, const struct stdwh_names *first,
			     const struct stdwh_names *second, char *reason, size_t cap)
{
	const struct stdwh_names *h = first;
	const char *id, *ts, *sig, *why = NULL;
	size_t n;
	int tol = prov_tolerance(p, cfg), rc;

	if (prov_header(req, first->sig, &sig, &n) == HK_ENOTFOUND &&
	    prov_header(req, second->sig, &sig, &n) == 0)
		h = second;
	rc = prov_need_header(req, h->id, &id, &n, reason, cap);
	if (rc == 0)
		rc = prov_need_header(req, h->ts, &ts, &n, reason, cap);
	if (rc == 0)
		rc = prov_need_header(req, h->sig, &sig, &n, reason, cap);
	if (rc < 0)
		return rc;
	rc = sign_verify(cfg->secrets, cfg->nsecrets, id, ts, sig, req->body, req->body_len,
			 req->now, tol ? tol : -1, &why);
	if (rc == HK_EVERIFY)
		return prov_fail(reason, cap, "%s", why);
	return rc;
}

static int webhook_verify(const struct provider *p, const struct provider_cfg *cfg,
			  const struct provider_req *req, char *reason, size_t cap)
{
	return stdwh_verify_with(p, cfg, req, &webhook_names, &svix_names, reason, cap);
}

static int svix_verify(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *reason, size_t cap)
{
	return stdwh_verify_with(p, cfg, req, &svix_names, &webhook_names, reason, cap);
}

const struct provider prov_standard_webhooks = {
	.name = "standard-webhooks",
	.default_tolerance = 300,
	.dedupe_headers = {"webhook-id", "svix-id"},
	.event_field = "type",
	.verify = webhook_verify,
};

const struct provider prov_svix = {
	.name = "svix",
	.default_tolerance = 300,
	.dedupe_headers = {"svix-id", "webhook-id"},
	.event_field = "type",
	.verify = svix_verify,
};
