/*
 * prov.h - helpers shared by the provider files (not for other modules).
 *
 * Every provider's verify() follows one shape: fetch its headers through
 * prov_header (bounded by PROVIDER_HEADER_MAX, never copied), check the time
 * window, then hand each candidate signature to prov_match, which tries it
 * against every configured secret in constant time. Failures go through
 * prov_fail so every reason is formatted the same way.
 *
 * HMAC keys for the provider schemes are the secret strings' bytes as
 * configured; empty secrets are skipped, never used as a key.
 */
#ifndef HK_PROV_H
#define HK_PROV_H

#include <stdbool.h>

#include "core/log.h"
#include "inbound/provider.h"
#include "sign/sign.h"

enum prov_enc { PROV_HEX, PROV_BASE64 };

/* what a candidate signature is compared against */
struct prov_mac {
	const char *digest; /* "SHA1", "SHA256", "SHA512" */
	enum prov_enc enc;
	const struct sign_part *parts;
	size_t nparts;
};

/*
 * prov_header looks a header up: 0 with its value and length, HK_ENOTFOUND
 * when absent or empty, HK_ETOOBIG when longer than PROVIDER_HEADER_MAX.
 */
int prov_header(const struct provider_req *req, const char *name, const char **v, size_t *n);

/*
 * prov_need_header is prov_header for a header verification requires: a
 * missing or oversized one is HK_EVERIFY with the reason filled in.
 */
int prov_need_header(const struct provider_req *req, const char *name, const char **v, size_t *n,
		     char *reason, size_t cap);

/* prov_fail formats a reason (when there is room) and returns HK_EVERIFY. */
int prov_fail(char *reason, size_t cap, const char *fmt, ...) HK_PRINTF(3, 4);

/* prov_nomatch is prov_fail with "no matching signature". */
int prov_nomatch(char *reason, size_t cap);

/*
 * prov_match decodes one candidate (hex or base64, per m->enc) and compares
 * it with the MAC under every secret: 1 on a match, 0 on none, HK_EPARSE
 * when the candidate cannot be decoded or is too long to be a MAC,
 * HK_ENOMEM when memory runs out.
 */
int prov_match(const struct provider_cfg *cfg, const struct prov_mac *m, const char *cand,
	       size_t n);

/*
 * prov_match_list splits a header value on sep, strips an optional prefix
 * from each item ("sha256=", "v1="; items without it are skipped when
 * prefix is set) and matches each: 0 on a match, HK_EVERIFY with a reason
 * otherwise ("malformed signature header" when no item could be decoded).
 * The MAC under each secret is computed once, whatever the item count.
 */
int prov_match_list(const struct provider_cfg *cfg, const struct prov_mac *m, const char *v,
		    size_t n, char sep, const char *prefix, char *reason, size_t cap);

/* prov_tolerance is the window in force: 0 means no check. */
int prov_tolerance(const struct provider *p, const struct provider_cfg *cfg);

/* prov_check_time checks a Unix-seconds timestamp against req->now. */
int prov_check_time(const struct provider *p, const struct provider_cfg *cfg,
		    const struct provider_req *req, int64_t ts, char *reason, size_t cap);

/* prov_body_json parses the body as a JSON object; NULL when it is not one. */
json_t *prov_body_json(const struct provider_req *req);

/* prov_opt returns a string option of cfg->config, or NULL. */
const char *prov_opt(const struct provider_cfg *cfg, const char *key);

/* prov_put copies n bytes and a NUL into out: HK_ETOOBIG when it does not fit. */
int prov_put(char *out, size_t cap, const char *s, size_t n);

/*
 * prov_event_put writes prefix (may be NULL) + the normalised name
 * (see provider.h); HK_ENOTFOUND for an empty name.
 */
int prov_event_put(char *out, size_t cap, const char *prefix, const char *name, size_t n);

/* prov_json_str returns a string member of obj (a dotted path "event.type"), or NULL. */
const char *prov_json_str(json_t *obj, const char *path);

/* the dedupe / event functions of the generic providers (config driven) */
int prov_generic_dedupe(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap);
int prov_generic_event(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *out, size_t cap);

/* the provider tables, one per provider file */
extern const struct provider prov_github, prov_gitea, prov_forgejo, prov_gogs, prov_gitlab,
	prov_bitbucket;
extern const struct provider prov_stripe, prov_paddle, prov_shopify;
extern const struct provider prov_slack, prov_zoom, prov_discord;
extern const struct provider prov_twilio, prov_linear;
extern const struct provider prov_standard_webhooks, prov_svix;
extern const struct provider prov_hmac, prov_basic, prov_bearer, prov_none;

#endif
