/*
 * prov_git.c - code forges: GitHub, Gitea, Forgejo, Gogs, GitLab, Bitbucket.
 *
 * All but GitLab sign the raw body with HMAC-SHA256 and send hex, some
 * behind a "sha256=" prefix, several under more than one header name. Each
 * provider lists its headers in preference order; the first one present is
 * the one checked (a present but wrong signature never falls through to a
 * weaker legacy header). GitLab sends the secret itself as a token.
 */
#include <string.h>
#include <strings.h>

#include "core/codec.h"
#include "core/err.h"
#include "inbound/providers/prov.h"

struct git_sig {
	const char *header;
	const char *prefix; /* NULL: bare hex */
	const char *digest;
};

static int verify_first(const struct provider_cfg *cfg, const struct provider_req *req,
			const struct git_sig *sigs, size_t nsigs, char *reason, size_t cap)
{
	struct sign_part body = {req->body, req->body_len};
	struct prov_mac m = {.enc = PROV_HEX, .parts = &body, .nparts = 1};
	const char *v;
	size_t n;

	for (size_t i = 0; i < nsigs; i++) {
		int rc = prov_header(req, sigs[i].header, &v, &n);
		if (rc == HK_ENOTFOUND)
			continue;
		if (rc < 0)
			return prov_fail(reason, cap, "header '%s' too long", sigs[i].header);
		m.digest = sigs[i].digest;
		return prov_match_list(cfg, &m, v, n, ',', sigs[i].prefix, reason, cap);
	}
	return prov_fail(reason, cap, "missing header '%s'", sigs[0].header);
}

static int github_verify(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *reason, size_t cap)
{
	static const struct git_sig sigs[] = {
		{"x-hub-signature-256", "sha256=", "SHA256"},
		{"x-hub-signature", "sha1=", "SHA1"},
	};
	json_t *sha1 = cfg->config ? json_object_get(cfg->config, "allow_sha1") : NULL;

	return verify_first(cfg, req, sigs, json_is_false(sha1) ? 1 : 2, reason, cap);
}

/* github_dedupe: the delivery id is shared by every hook of one event, so add the hook id */
static int github_dedupe(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *out, size_t cap)
{
	const char *hook, *del;
	size_t hn, dn;
	int rc = prov_header(req, "x-github-delivery", &del, &dn);

	if (rc < 0)
		return rc;
	rc = prov_header(req, "x-github-hook-id", &hook, &hn);
	if (rc == HK_ENOTFOUND)
		return prov_put(out, cap, del, dn);
	if (rc < 0)
		return rc;
	if (hn + 1 + dn >= cap)
		return HK_ETOOBIG;
	memcpy(out, hook, hn);
	out[hn] = ':';
	memcpy(out + hn + 1, del, dn);
	out[hn + 1 + dn] = '\0';
	return 0;
}

const struct provider prov_github = {
	.name = "github",
	.event_header = "x-github-event",
	.event_prefix = "github.",
	.verify = github_verify,
	.dedupe = github_dedupe,
};

static int gitea_verify(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *reason, size_t cap)
{
	static const struct git_sig sigs[] = {
		{"x-gitea-signature", NULL, "SHA256"},
		{"x-hub-signature-256", "sha256=", "SHA256"},
	};
	return verify_first(cfg, req, sigs, 2, reason, cap);
}

const struct provider prov_gitea = {
	.name = "gitea",
	.dedupe_headers = {"x-gitea-delivery"},
	.event_header = "x-gitea-event",
	.event_prefix = "gitea.",
	.verify = gitea_verify,
};

static int forgejo_verify(const struct provider *p, const struct provider_cfg *cfg,
			  const struct provider_req *req, char *reason, size_t cap)
{
	static const struct git_sig sigs[] = {
		{"x-forgejo-signature", NULL, "SHA256"},
		{"x-gitea-signature", NULL, "SHA256"},
		{"x-hub-signature-256", "sha256=", "SHA256"},
	};
	return verify_first(cfg, req, sigs, 3, reason, cap);
}

static int forgejo_event(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *out, size_t cap)
{
	const char *v;
	size_t n;
	int rc = prov_header(req, "x-forgejo-event", &v, &n);

	if (rc == HK_ENOTFOUND)
		rc = prov_header(req, "x-gitea-event", &v, &n);
	return rc < 0 ? rc : prov_event_put(out, cap, "forgejo.", v, n);
}

const struct provider prov_forgejo = {
	.name = "forgejo",
	.dedupe_headers = {"x-forgejo-delivery", "x-gitea-delivery"},
	.verify = forgejo_verify,
	.event_type = forgejo_event,
};

static int gogs_verify(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *reason, size_t cap)
{
	static const struct git_sig sigs[] = {{"x-gogs-signature", NULL, "SHA256"}};
	return verify_first(cfg, req, sigs, 1, reason, cap);
}

const struct provider prov_gogs = {
	.name = "gogs",
	.dedupe_headers = {"x-gogs-delivery"},
	.event_header = "x-gogs-event",
	.event_prefix = "gogs.",
	.verify = gogs_verify,
};

/* gitlab_verify: the token is the secret itself, compared in constant time */
static int gitlab_verify(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *reason, size_t cap)
{
	const char *v;
	size_t n;
	bool found = false;
	int rc = prov_need_header(req, "x-gitlab-token", &v, &n, reason, cap);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->nsecrets; i++) {
		const char *s = cfg->secrets[i];
		if (s && *s)
			found |= ct_equal(s, strlen(s), v, n);
	}
	return found ? 0 : prov_fail(reason, cap, "token does not match");
}

/* gitlab_event: "Merge Request Hook" → gitlab.merge_request; else body object_kind */
static int gitlab_event(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *out, size_t cap)
{
	static const char suffix[] = " Hook";
	const char *v;
	size_t n, sl = sizeof(suffix) - 1;
	json_t *body;
	int rc = prov_header(req, "x-gitlab-event", &v, &n);

	if (rc == 0) {
		if (n > sl && !strncasecmp(v + n - sl, suffix, sl))
			n -= sl;
		return prov_event_put(out, cap, "gitlab.", v, n);
	}
	if (rc != HK_ENOTFOUND)
		return rc;
	body = prov_body_json(req);
	v = prov_json_str(body, "object_kind");
	rc = v ? prov_event_put(out, cap, "gitlab.", v, strlen(v)) : HK_ENOTFOUND;
	json_decref(body);
	return rc;
}

const struct provider prov_gitlab = {
	.name = "gitlab",
	.dedupe_headers = {"idempotency-key", "x-gitlab-event-uuid"},
	.verify = gitlab_verify,
	.event_type = gitlab_event,
};

static int bitbucket_verify(const struct provider *p, const struct provider_cfg *cfg,
			    const struct provider_req *req, char *reason, size_t cap)
{
	static const struct git_sig sigs[] = {{"x-hub-signature", "sha256=", "SHA256"}};
	return verify_first(cfg, req, sigs, 1, reason, cap);
}

const struct provider prov_bitbucket = {
	.name = "bitbucket",
	.dedupe_headers = {"x-request-uuid", "x-request-id"},
	.event_header = "x-event-key",
	.event_prefix = "bitbucket.",
	.verify = bitbucket_verify,
};
