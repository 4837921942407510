/*
 * prov_linear.c - Linear: hex HMAC-SHA256 of the body in Linear-Signature.
 * The timestamp travels inside the signed body (webhookTimestamp, in
 * milliseconds), so it is read only after the signature matched.
 */
#include <string.h>

#include "core/err.h"
#include "inbound/providers/prov.h"

static int linear_time(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *reason, size_t cap)
{
	json_t *body = prov_body_json(req), *ts = json_object_get(body, "webhookTimestamp");
	int tol = prov_tolerance(p, cfg);
	int64_t ms, now = req->now * 1000;
	int rc = 0;

	if (tol == 0)
		goto out;
	if (!json_is_integer(ts)) {
		rc = prov_fail(reason, cap, "missing webhookTimestamp");
		goto out;
	}
	ms = json_integer_value(ts);
	if (now - ms > (int64_t)tol * 1000)
		rc = prov_fail(reason, cap, "timestamp too old");
	else if (ms - now > (int64_t)tol * 1000)
		rc = prov_fail(reason, cap, "timestamp in the future");
out:
	json_decref(body);
	return rc;
}

static int linear_verify(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *reason, size_t cap)
{
	struct sign_part body = {req->body, req->body_len};
	struct prov_mac m = {"SHA256", PROV_HEX, &body, 1};
	const char *v;
	size_t n;
	int rc = prov_need_header(req, "linear-signature", &v, &n, reason, cap);

	if (rc == 0)
		rc = prov_match_list(cfg, &m, v, n, ',', NULL, reason, cap);
	if (rc == 0)
		rc = linear_time(p, cfg, req, reason, cap);
	return rc;
}

/* linear_event: "Issue" + "create" → linear.issue.create */
static int linear_event(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap)
{
	json_t *body = prov_body_json(req);
	const char *type = prov_json_str(body, "type"), *action = prov_json_str(body, "action");
	size_t tn, an;
	int rc = HK_ENOTFOUND;

	if (type && *type) {
		tn = strlen(type);
		an = action ? strlen(action) : 0;
		rc = prov_event_put(out, cap, "linear.", type, tn);
		if (rc == 0 && an) {
			size_t used = strlen(out);
			if (used + 1 + an >= cap)
				rc = HK_ETOOBIG;
			else
				rc = prov_event_put(out + used, cap - used, ".", action, an);
		}
	}
	json_decref(body);
	return rc;
}

const struct provider prov_linear = {
	.name = "linear",
	.default_tolerance = 60,
	.dedupe_headers = {"linear-delivery"},
	.verify = linear_verify,
	.event_type = linear_event,
};
