/*
 * prov_chat.c - chat and meeting platforms: Slack, Zoom, Discord.
 *
 * Slack and Zoom share one scheme: hex HMAC-SHA256 of "v0:" + timestamp +
 * ":" + body, the timestamp in its own header. Discord signs timestamp +
 * body with ed25519; the source's secret is the application's public key in
 * hex. All three probe a new endpoint with a challenge that must be
 * answered in a specific way, which is what the challenge functions build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/err.h"
#include "inbound/providers/prov.h"

/* v0_verify checks the Slack/Zoom scheme; the timestamp header is required. */
static int v0_verify(const struct provider *p, const struct provider_cfg *cfg,
		     const struct provider_req *req, const char *tsh, const char *sigh,
		     char *reason, size_t cap)
{
	const char *ts, *sig;
	size_t tn, sn;
	int64_t t;
	int rc = prov_need_header(req, tsh, &ts, &tn, reason, cap);

	if (rc == 0)
		rc = prov_need_header(req, sigh, &sig, &sn, reason, cap);
	if (rc < 0)
		return rc;
	if (sign_parse_uint(ts, tn, &t) < 0)
		return prov_fail(reason, cap, "invalid timestamp");
	rc = prov_check_time(p, cfg, req, t, reason, cap);
	if (rc < 0)
		return rc;
	struct sign_part parts[] = {{"v0:", 3}, {ts, tn}, {":", 1}, {req->body, req->body_len}};
	struct prov_mac m = {"SHA256", PROV_HEX, parts, 4};
	return prov_match_list(cfg, &m, sig, sn, ',', "v0=", reason, cap);
}

/* ---- Slack ---- */

static int slack_verify(const struct provider *p, const struct provider_cfg *cfg,
			const struct provider_req *req, char *reason, size_t cap)
{
	return v0_verify(p, cfg, req, "x-slack-request-timestamp", "x-slack-signature", reason,
			 cap);
}

/* form_has reports whether a form-encoded body has a parameter of that name. */
static bool form_has(const struct provider_req *req, const char *name)
{
	const char *b = (const char *)req->body;
	size_t n = req->body_len, len = strlen(name), i = 0;

	while (i < n) {
		if (n - i > len && !memcmp(b + i, name, len) && b[i + len] == '=')
			return true;
		while (i < n && b[i] != '&')
			i++;
		i++;
	}
	return false;
}

/* slack_event: Events API callbacks by their inner type, then commands, interactions */
static int slack_event(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *out, size_t cap)
{
	json_t *body = prov_body_json(req);
	const char *type = prov_json_str(body, "type"), *v = type;
	int rc;

	if (type && !strcmp(type, "event_callback") && prov_json_str(body, "event.type"))
		v = prov_json_str(body, "event.type");
	if (!body && form_has(req, "command"))
		v = "command";
	else if (!body && form_has(req, "payload"))
		v = "interaction";
	rc = v ? prov_event_put(out, cap, "slack.", v, strlen(v)) : HK_ENOTFOUND;
	json_decref(body);
	return rc;
}

static int slack_challenge(const struct provider *p, const struct provider_cfg *cfg,
			   const struct provider_req *req, json_t **answer)
{
	json_t *body = prov_body_json(req);
	const char *type = prov_json_str(body, "type"), *ch = prov_json_str(body, "challenge");
	int rc = HK_ENOTFOUND;

	if (type && ch && !strcmp(type, "url_verification")) {
		*answer = json_pack("{s:s}", "challenge", ch);
		rc = *answer ? 0 : HK_ENOMEM;
	}
	json_decref(body);
	return rc;
}

const struct provider prov_slack = {
	.name = "slack",
	.default_tolerance = 300,
	.dedupe_field = "event_id",
	.verify = slack_verify,
	.event_type = slack_event,
	.challenge = slack_challenge,
};

/* ---- Zoom ---- */

static int zoom_verify(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *reason, size_t cap)
{
	return v0_verify(p, cfg, req, "x-zm-request-timestamp", "x-zm-signature", reason, cap);
}

static int zoom_dedupe(const struct provider *p, const struct provider_cfg *cfg,
		       const struct provider_req *req, char *out, size_t cap)
{
	json_t *body = prov_body_json(req);
	const char *ev = prov_json_str(body, "event");
	json_t *ts = json_object_get(body, "event_ts");
	int rc = HK_ENOTFOUND, n;

	if (ev && json_is_integer(ts)) {
		n = snprintf(out, cap, "%s:%" JSON_INTEGER_FORMAT, ev, json_integer_value(ts));
		rc = n < 0 || (size_t)n >= cap ? HK_ETOOBIG : 0;
	}
	json_decref(body);
	return rc;
}

/* zoom_secret picks the secret that signed this request, so a rotation answers right */
static const char *zoom_secret(const struct provider *p, const struct provider_cfg *cfg,
			       const struct provider_req *req)
{
	const char *first = NULL;

	for (size_t i = 0; i < cfg->nsecrets; i++) {
		struct provider_cfg one = *cfg;
		if (!cfg->secrets[i] || !*cfg->secrets[i])
			continue;
		one.secrets = &cfg->secrets[i];
		one.nsecrets = 1;
		if (zoom_verify(p, &one, req, NULL, 0) == 0)
			return cfg->secrets[i];
		if (!first)
			first = cfg->secrets[i];
	}
	return first;
}

static int zoom_challenge(const struct provider *p, const struct provider_cfg *cfg,
			  const struct provider_req *req, json_t **answer)
{
	json_t *body = prov_body_json(req);
	const char *ev = prov_json_str(body, "event");
	const char *plain = prov_json_str(body, "payload.plainToken"), *secret;
	unsigned char mac[SIGN_MAC_MAX];
	char hex[2 * SIGN_MAC_MAX + 1];
	size_t maclen = 0;
	int rc = HK_ENOTFOUND;

	if (!ev || !plain || strcmp(ev, "endpoint.url_validation"))
		goto out;
	secret = zoom_secret(p, cfg, req);
	if (!secret) {
		rc = HK_EINVAL;
		goto out;
	}
	struct sign_part part = {plain, strlen(plain)};
	rc = sign_hmac("SHA256", secret, strlen(secret), &part, 1, mac, &maclen);
	if (rc < 0)
		goto out;
	hex_encode(mac, maclen, hex);
	*answer = json_pack("{s:s,s:s}", "plainToken", plain, "encryptedToken", hex);
	rc = *answer ? 0 : HK_ENOMEM;
out:
	json_decref(body);
	return rc;
}

const struct provider prov_zoom = {
	.name = "zoom",
	.event_field = "event",
	.event_prefix = "zoom.",
	.verify = zoom_verify,
	.dedupe = zoom_dedupe,
	.challenge = zoom_challenge,
};

/* ---- Discord ---- */

/* discord_match checks one signature against every public key (hex secrets). */
static bool discord_match(const struct provider_cfg *cfg, const unsigned char *msg, size_t len,
			  const unsigned char sig[64])
{
	unsigned char pub[32];
	size_t publen;
	bool found = false;

	for (size_t i = 0; i < cfg->nsecrets; i++) {
		const char *s = cfg->secrets[i];
		if (!s || strnlen(s, 65) != 64 || hex_decode(s, 64, pub, &publen) < 0)
			continue;
		found |= sign_ed25519_verify(pub, msg, len, sig);
	}
	return found;
}

static int discord_verify(const struct provider *p, const struct provider_cfg *cfg,
			  const struct provider_req *req, char *reason, size_t cap)
{
	const char *ts, *sig;
	unsigned char raw[64], *msg;
	size_t tn, sn, rawlen;
	int64_t t;
	int rc = prov_need_header(req, "x-signature-timestamp", &ts, &tn, reason, cap);

	if (rc == 0)
		rc = prov_need_header(req, "x-signature-ed25519", &sig, &sn, reason, cap);
	if (rc < 0)
		return rc;
	if (sn != 128 || hex_decode(sig, sn, raw, &rawlen) < 0)
		return prov_fail(reason, cap, "malformed signature header");
	if (prov_tolerance(p, cfg) > 0) {
		if (sign_parse_uint(ts, tn, &t) < 0)
			return prov_fail(reason, cap, "invalid timestamp");
		rc = prov_check_time(p, cfg, req, t, reason, cap);
		if (rc < 0)
			return rc;
	}
	msg = malloc(tn + req->body_len + 1);
	if (!msg)
		return HK_ENOMEM;
	memcpy(msg, ts, tn);
	if (req->body_len)
		memcpy(msg + tn, req->body, req->body_len);
	rc = discord_match(cfg, msg, tn + req->body_len, raw) ? 0 : prov_nomatch(reason, cap);
	free(msg);
	return rc;
}

/* discord_event: webhook events by event.type, interactions by their numeric type */
static int discord_event(const struct provider *p, const struct provider_cfg *cfg,
			 const struct provider_req *req, char *out, size_t cap)
{
	static const char *const kinds[] = {
		"ping", "ping", "application_command", "message_component",
		"application_command_autocomplete", "modal_submit",
	};
	json_t *body = prov_body_json(req), *type = json_object_get(body, "type");
	const char *v = prov_json_str(body, "event.type");
	int rc;

	if (!v && json_is_integer(type) && json_integer_value(type) >= 0 &&
	    json_integer_value(type) < (json_int_t)(sizeof(kinds) / sizeof(kinds[0])))
		v = kinds[json_integer_value(type)];
	rc = v ? prov_event_put(out, cap, "discord.", v, strlen(v)) : HK_ENOTFOUND;
	json_decref(body);
	return rc;
}

static int discord_challenge(const struct provider *p, const struct provider_cfg *cfg,
			     const struct provider_req *req, json_t **answer)
{
	json_t *body = prov_body_json(req), *type = json_object_get(body, "type");
	int rc = HK_ENOTFOUND;

	if (json_is_integer(type) && json_integer_value(type) == 1 &&
	    !json_object_get(body, "event")) {
		*answer = json_pack("{s:i}", "type", 1);
		rc = *answer ? 0 : HK_ENOMEM;
	}
	json_decref(body);
	return rc;
}

const struct provider prov_discord = {
	.name = "discord",
	.dedupe_field = "id",
	.verify = discord_verify,
	.event_type = discord_event,
	.challenge = discord_challenge,
};
