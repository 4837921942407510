/*
 * provider.h - how each webhook provider signs, names and identifies its
 * deliveries, behind one table of operations.
 *
 * A source (one provider account) receives requests at /in/{source}. The
 * receiver turns each request into a struct provider_req, then calls, in
 * this order:
 *
 *     p = provider_find(source->provider);          // once, at config load
 *     provider_verify(p, &cfg, &req, why, sizeof(why))   → 0 | HK_EVERIFY
 *     provider_challenge(p, &cfg, &req, &answer)     → 0: send answer, stop
 *     provider_dedupe_key(p, &cfg, &req, key, cap)   → HK_ENOTFOUND: hash the body
 *     provider_event_type(p, &cfg, &req, type, cap)  → HK_ENOTFOUND: source default
 *
 * Nothing here knows the HTTP server or the store: a request is plain data
 * plus a header lookup callback, so the fuzz targets and unit tests drive
 * providers directly. No call keeps a pointer into req or cfg after it
 * returns; nothing is cached between calls; every function is thread-safe.
 *
 * Bounds: a header value longer than PROVIDER_HEADER_MAX is treated as
 * malformed, never copied. Bodies are bounded by the caller.
 *
 * Secrets: every configured secret is tried against every candidate
 * signature, in constant time, so a rotation is "add the new secret, remove
 * the old one later". What a secret is depends on the provider: an HMAC key
 * as text (github, stripe's whole "whsec_..." string, slack signing secret,
 * twilio auth token, ...), a Standard Webhooks secret (whsec_/whpk_), an
 * ed25519 public key in hex (discord), a token (gitlab, bearer) or
 * "user:password" (basic).
 *
 * Time: req->now is Unix seconds. cfg->tolerance_seconds 0 means the
 * provider's default window, negative disables the check; providers without
 * a timestamp ignore it.
 *
 * Event types are "<provider>.<name>" (github.push, stripe.charge.succeeded,
 * gitlab.merge_request, shopify.orders.create), normalised to the characters
 * [a-z0-9._-]: letters lowercased, '/' and ':' become '.', anything else '_'.
 * The generic providers (standard-webhooks, svix, hmac, basic, bearer, none)
 * take the body's "type" (or config "event_header") without a prefix.
 *
 * provider  | event type from              | dedupe key from
 * ----------+------------------------------+-----------------------------------------
 * github    | X-GitHub-Event               | X-GitHub-Hook-ID ":" X-GitHub-Delivery
 * gitea     | X-Gitea-Event                | X-Gitea-Delivery
 * forgejo   | X-Forgejo-Event, X-Gitea-... | X-Forgejo-Delivery, X-Gitea-Delivery
 * gogs      | X-Gogs-Event                 | X-Gogs-Delivery
 * gitlab    | X-Gitlab-Event minus " Hook" | Idempotency-Key, X-Gitlab-Event-UUID
 * bitbucket | X-Event-Key                  | X-Request-UUID, X-Request-Id
 * stripe    | body type                    | body id
 * shopify   | X-Shopify-Topic              | X-Shopify-Webhook-Id
 * slack     | body event.type, else type   | body event_id
 * twilio    | MessageSid/CallSid present   | I-Twilio-Idempotency-Token
 * paddle    | body event_type              | body event_id
 * linear    | body type "." action         | Linear-Delivery
 * zoom      | body event                   | body event ":" event_ts
 * discord   | interaction type / event.type| body id
 * standard-webhooks, svix | body type      | webhook-id / svix-id
 * hmac, basic, bearer, none | config "event_header", else body type
 *                                          | config "dedupe_header"
 *
 * Challenges (answer instead of accepting an event; call after verify):
 * slack url_verification → {"challenge": ...}; zoom endpoint.url_validation →
 * {"plainToken", "encryptedToken"}; discord PING (type 1) → {"type": 1}.
 *
 * Provider options (cfg->config, a JSON object, may be NULL):
 *   hmac:  "header" (default "X-Signature"), "algorithm" sha1|sha256|sha512
 *          (default sha256), "encoding" hex|base64 (default hex), "prefix"
 *          (e.g. "sha256=", stripped and required when set)
 *   hmac, basic, bearer, none: "dedupe_header", "event_header"
 *   github: "allow_sha1" (default true) accepts the legacy X-Hub-Signature
 */
#ifndef HK_PROVIDER_H
#define HK_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PROVIDER_HEADER_MAX 8192
#define PROVIDER_REASON_MAX 128

struct provider_req {
	const char *method;
	const char *url; /* full public URL with query, as the sender called it (twilio) */
	/* case-insensitive header lookup; NULL when absent; the value lives as long as req */
	const char *(*header)(void *ctx, const char *name);
	void *hctx;
	const unsigned char *body;
	size_t body_len;
	const char *content_type; /* may be NULL */
	int64_t now;              /* Unix seconds */
};

struct provider_cfg {
	const char *const *secrets;
	size_t nsecrets;
	int tolerance_seconds; /* 0: provider default, < 0: no time check */
	json_t *config;        /* provider options, borrowed, may be NULL */
};

struct provider {
	const char *name;
	int default_tolerance; /* seconds; 0 when the provider sends no timestamp */
	/* where the delivery id sits, when no dedupe() is given */
	const char *dedupe_headers[3]; /* first present wins */
	const char *dedupe_field;      /* top-level body JSON field */
	/* where the event type sits, when no event_type() is given */
	const char *event_header;
	const char *event_field;
	const char *event_prefix; /* "github." or NULL for none */

	int (*verify)(const struct provider *p, const struct provider_cfg *cfg,
		      const struct provider_req *req, char *reason, size_t cap);
	int (*dedupe)(const struct provider *p, const struct provider_cfg *cfg,
		      const struct provider_req *req, char *out, size_t cap);
	int (*event_type)(const struct provider *p, const struct provider_cfg *cfg,
			  const struct provider_req *req, char *out, size_t cap);
	/* optional; answer is a new reference on 0, HK_ENOTFOUND when not a challenge */
	int (*challenge)(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, json_t **answer);
};

/* provider_find returns the provider of that name (case-sensitive), or NULL. */
const struct provider *provider_find(const char *name);

/* provider_list returns the NULL-terminated table of every provider. */
const struct provider *const *provider_list(void);

/*
 * provider_verify authenticates a request: 0, or HK_EVERIFY with a
 * lowercase reason ("missing header 'x-hub-signature-256'", "no matching
 * signature", "timestamp too old", ...). The "none" provider returns 0 with
 * the reason "unverified". reason may be NULL when cap is 0. HK_ENOMEM
 * when memory runs out (answer 503, not 401).
 */
int provider_verify(const struct provider *p, const struct provider_cfg *cfg,
		    const struct provider_req *req, char *reason, size_t cap);

/*
 * provider_dedupe_key writes the provider's delivery id (NUL-terminated).
 * HK_ENOTFOUND when the request carries none (hash the body instead),
 * HK_ETOOBIG when it does not fit in cap (never truncated).
 */
int provider_dedupe_key(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap);

/* provider_event_type writes the normalised event type; same errors as above. */
int provider_event_type(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap);

/*
 * provider_challenge tells whether the request is a handshake the provider
 * expects a specific answer to. 0 with *answer a new JSON reference (the
 * caller sends it with 200 and decrefs it), HK_ENOTFOUND when it is an
 * ordinary event. Call it only on a request that passed provider_verify.
 */
int provider_challenge(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, json_t **answer);

#endif
