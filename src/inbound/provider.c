/*
 * provider.c - the provider table and the thin front-end over it.
 *
 * The front-end validates arguments, applies what every provider has in
 * common (a source without a usable secret never verifies; dedupe keys and
 * event types come from the table's data unless the provider overrides
 * them) and leaves the scheme itself to the provider's functions in
 * providers/.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "inbound/provider.h"
#include "inbound/providers/prov.h"

static const struct provider *const providers[] = {
	&prov_github,   &prov_gitea,   &prov_forgejo, &prov_gogs,
	&prov_gitlab,   &prov_bitbucket, &prov_stripe, &prov_paddle,
	&prov_shopify,  &prov_slack,   &prov_zoom,    &prov_discord,
	&prov_twilio,   &prov_linear,  &prov_standard_webhooks, &prov_svix,
	&prov_hmac,     &prov_basic,   &prov_bearer,  &prov_none,
	NULL,
};

const struct provider *provider_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; providers[i]; i++)
		if (!strcmp(providers[i]->name, name))
			return providers[i];
	return NULL;
}

const struct provider *const *provider_list(void)
{
	return providers;
}

static bool has_secret(const struct provider_cfg *cfg)
{
	for (size_t i = 0; i < cfg->nsecrets; i++)
		if (cfg->secrets[i] && cfg->secrets[i][0])
			return true;
	return false;
}

int provider_verify(const struct provider *p, const struct provider_cfg *cfg,
		    const struct provider_req *req, char *reason, size_t cap)
{
	if (reason && cap)
		reason[0] = '\0';
	if (!p || !cfg || !req)
		return prov_fail(reason, cap, "no provider");
	if (p != &prov_none && !has_secret(cfg))
		return prov_fail(reason, cap, "no secret configured");
	if (req->body_len && !req->body)
		return prov_fail(reason, cap, "no body");
	return p->verify(p, cfg, req, reason, cap);
}

/* header_dedupe returns the first of the provider's dedupe headers present. */
static int header_dedupe(const struct provider *p, const struct provider_req *req, char *out,
			 size_t cap)
{
	const char *v;
	size_t n;

	for (size_t i = 0; i < 3 && p->dedupe_headers[i]; i++) {
		int rc = prov_header(req, p->dedupe_headers[i], &v, &n);
		if (rc == 0)
			return prov_put(out, cap, v, n);
		if (rc != HK_ENOTFOUND)
			return rc;
	}
	return HK_ENOTFOUND;
}

/* scalar_put writes a JSON string or integer member of the body. */
static int field_put(const struct provider_req *req, const char *field, char *out, size_t cap)
{
	json_t *body = prov_body_json(req), *v = NULL;
	int rc = HK_ENOTFOUND;

	if (body)
		v = json_object_get(body, field);
	if (json_is_string(v) && json_string_length(v) > 0)
		rc = prov_put(out, cap, json_string_value(v), json_string_length(v));
	else if (json_is_integer(v) && snprintf(out, cap, "%" JSON_INTEGER_FORMAT,
						json_integer_value(v)) >= (int)cap)
		rc = HK_ETOOBIG;
	else if (json_is_integer(v))
		rc = 0;
	json_decref(body);
	return rc;
}

int provider_dedupe_key(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap)
{
	int rc = HK_ENOTFOUND;

	if (!p || !cfg || !req || !out || cap == 0)
		return HK_EINVAL;
	out[0] = '\0';
	if (p->dedupe)
		rc = p->dedupe(p, cfg, req, out, cap);
	else if (p->dedupe_headers[0])
		rc = header_dedupe(p, req, out, cap);
	else if (p->dedupe_field)
		rc = field_put(req, p->dedupe_field, out, cap);
	if (rc < 0)
		out[0] = '\0';
	return rc;
}

int provider_event_type(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap)
{
	const char *v;
	size_t n;
	int rc = HK_ENOTFOUND;

	if (!p || !cfg || !req || !out || cap == 0)
		return HK_EINVAL;
	out[0] = '\0';
	if (p->event_type) {
		rc = p->event_type(p, cfg, req, out, cap);
	} else if (p->event_header) {
		rc = prov_header(req, p->event_header, &v, &n);
		if (rc == 0)
			rc = prov_event_put(out, cap, p->event_prefix, v, n);
	} else if (p->event_field) {
		json_t *body = prov_body_json(req);
		v = prov_json_str(body, p->event_field);
		if (v)
			rc = prov_event_put(out, cap, p->event_prefix, v, strlen(v));
		json_decref(body);
	}
	if (rc < 0)
		out[0] = '\0';
	return rc;
}

int provider_challenge(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, json_t **answer)
{
	if (!p || !cfg || !req || !answer)
		return HK_EINVAL;
	*answer = NULL;
	if (!p->challenge)
		return HK_ENOTFOUND;
	return p->challenge(p, cfg, req, answer);
}
