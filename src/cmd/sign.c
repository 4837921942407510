/*
 * sign.c - `hookd sign` and `hookd verify`: Standard Webhooks headers for a
 * body read from stdin, and the check of a body against its headers, either
 * Standard Webhooks or any inbound provider's scheme.
 *
 * Both read the body whole and byte for byte: what is signed is exactly what
 * arrives on stdin, so `printf '%s' "$body" | hookd sign` is the way to sign
 * a body without a trailing newline.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/cmd.h"
#include "core/err.h"
#include "core/id.h"
#include "inbound/provider.h"
#include "sign/sign.h"

#define SIGN_BODY_MAX (64u << 20)

static const struct cli_opt sign_opts[] = {
	{"secret", "HOOKD_SECRET", NULL, "SECRET", CLI_VALUE,
	 "signing secret: whsec_... (HMAC) or whsk_... (ed25519); required"},
	{"id", NULL, NULL, "ID", CLI_VALUE, "message id (default: a new msg_ id)"},
	{"timestamp", NULL, NULL, "SECONDS", CLI_VALUE, "Unix timestamp (default: now)"},
};

const struct cmd_spec cmd_sign_spec = {
	"sign", "sign", "Print the Standard Webhooks headers for the body on stdin.",
	sign_opts, sizeof(sign_opts) / sizeof(sign_opts[0]), 0, 0,
};

static const struct cli_opt verify_opts[] = {
	{"secret", "HOOKD_SECRET", NULL, "SECRET", CLI_VALUE,
	 "secret to verify with (whsec_..., whpk_..., or the provider's secret); required"},
	{"id", NULL, NULL, "ID", CLI_VALUE, "webhook-id (default: from --header)"},
	{"timestamp", NULL, NULL, "SECONDS", CLI_VALUE, "webhook-timestamp (default: from --header)"},
	{"signature", NULL, NULL, "SIG", CLI_VALUE,
	 "webhook-signature, e.g. 'v1,base64...' (default: from --header)"},
	{"provider", NULL, NULL, "NAME", CLI_VALUE,
	 "verify as this inbound provider (github, stripe, slack, ...) instead of Standard Webhooks"},
	{"header", NULL, NULL, "'NAME: VALUE'", CLI_LIST, "a request header (repeatable)"},
	{"url", NULL, NULL, "URL", CLI_VALUE, "the URL the provider called (twilio signs it)"},
	{"tolerance", NULL, "300", "SECONDS", CLI_VALUE,
	 "accepted clock difference; 0 or -1 turns the time check off"},
};

const struct cmd_spec cmd_verify_spec = {
	"verify", "verify", "Check the signature of the body on stdin; exit 0 when it verifies, 1 when not.",
	verify_opts, sizeof(verify_opts) / sizeof(verify_opts[0]), 0, 0,
};

static int parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return HK_EINVAL;
	*out = v;
	return 0;
}

int cmd_sign(int argc, char **argv)
{
	struct cli_vals v;
	struct buf body;
	char id[ID_MAX], sig[SIGN_SIG_MAX];
	const char *secret;
	int64_t ts = (int64_t)time(NULL);
	int code, rc;

	code = cmd_args(&cmd_sign_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	secret = cli_get(&v, "secret");
	if (!secret)
		return cmd_usage_error(&cmd_sign_spec, "--secret is required");
	if (cli_get(&v, "timestamp") && parse_int64(cli_get(&v, "timestamp"), &ts) < 0)
		return cmd_usage_error(&cmd_sign_spec, "--timestamp needs Unix seconds");
	if (cli_get(&v, "id"))
		snprintf(id, sizeof(id), "%s", cli_get(&v, "id"));
	else
		id_new("msg_", id);
	if (cli_get(&v, "id") && strlen(cli_get(&v, "id")) >= sizeof(id))
		return cmd_usage_error(&cmd_sign_spec, "--id is too long");

	buf_init(&body, SIGN_BODY_MAX);
	if (cmd_read_all(stdin, &body) < 0) {
		buf_release(&body);
		return cmd_fail(&cmd_sign_spec, "cannot read the body from stdin");
	}
	rc = sign_payload(secret, id, ts, buf_cstr(&body), body.len, sig, sizeof(sig));
	buf_release(&body);
	if (rc < 0)
		return cmd_usage_error(&cmd_sign_spec, "--secret cannot sign: expected whsec_... or whsk_...");
	printf("webhook-id: %s\nwebhook-timestamp: %" PRId64 "\nwebhook-signature: %s\n", id, ts, sig);
	return CMD_OK;
}

/* ---- verify ---- */

struct headers {
	const char *const *lines; /* "Name: value" */
	int n;
	char value[PROVIDER_HEADER_MAX];
};

/* header_get finds a header by name, case-insensitively; the value is valid until the next call */
static const char *header_get(void *ctx, const char *name)
{
	struct headers *h = ctx;
	size_t len = strlen(name);

	for (int i = 0; i < h->n; i++) {
		const char *line = h->lines[i], *colon = strchr(line, ':');
		if (!colon || (size_t)(colon - line) != len || strncasecmp(line, name, len) != 0)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		snprintf(h->value, sizeof(h->value), "%s", colon);
		return h->value;
	}
	return NULL;
}

/* std_field takes a flag, else webhook-NAME, else svix-NAME from the headers */
static char *std_field(const struct cli_vals *v, struct headers *h, const char *flag, const char *name)
{
	char hname[64];
	const char *s = cli_get(v, flag);

	if (!s) {
		snprintf(hname, sizeof(hname), "webhook-%s", name);
		s = header_get(h, hname);
	}
	if (!s) {
		snprintf(hname, sizeof(hname), "svix-%s", name);
		s = header_get(h, hname);
	}
	return s ? strdup(s) : NULL;
}

static int verify_std(const struct cli_vals *v, struct headers *h, const char *secret,
		      int tolerance, const struct buf *body, const char **reason)
{
	char *id = std_field(v, h, "id", "id"), *ts = std_field(v, h, "timestamp", "timestamp");
	char *sig = std_field(v, h, "signature", "signature");
	int rc = HK_EINVAL;

	if (!id || !ts || !sig) {
		cmd_usage_error(&cmd_verify_spec, "missing %s: give --id, --timestamp and --signature (or --header)",
				!id ? "the message id" : !ts ? "the timestamp" : "the signature");
		goto out;
	}
	rc = sign_verify(&secret, 1, id, ts, sig, buf_cstr(body), body->len, (int64_t)time(NULL),
			 tolerance, reason);
out:
	free(id);
	free(ts);
	free(sig);
	return rc;
}

static int verify_provider(const struct cli_vals *v, struct headers *h, const char *secret,
			   int tolerance, const struct buf *body, char *reason, size_t cap)
{
	const struct provider *p = provider_find(cli_get(v, "provider"));
	struct provider_cfg cfg = {&secret, 1, tolerance, NULL};
	struct provider_req req = {0};

	if (!p) {
		struct buf names;
		const struct provider *const *all = provider_list();
		buf_init(&names, 4096);
		for (int i = 0; all[i]; i++)
			buf_printf(&names, "%s%s", i ? ", " : "", all[i]->name);
		cmd_usage_error(&cmd_verify_spec, "unknown provider '%s' (known: %s)", cli_get(v, "provider"),
				buf_cstr(&names));
		buf_release(&names);
		return HK_EINVAL;
	}
	req.method = "POST";
	req.url = cli_get(v, "url") ? cli_get(v, "url") : "";
	req.header = header_get;
	req.hctx = h;
	req.body = (const unsigned char *)buf_cstr(body);
	req.body_len = body->len;
	req.content_type = header_get(h, "content-type") ? strdup(header_get(h, "content-type")) : NULL;
	req.now = (int64_t)time(NULL);
	{
		int rc = provider_verify(p, &cfg, &req, reason, cap);
		free((char *)req.content_type);
		return rc;
	}
}

int cmd_verify(int argc, char **argv)
{
	struct cli_vals v;
	struct headers h = {0};
	struct buf body;
	char why[PROVIDER_REASON_MAX] = "";
	const char *secret, *reason = NULL;
	int64_t tol;
	int code, rc;

	code = cmd_args(&cmd_verify_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	secret = cli_get(&v, "secret");
	if (!secret)
		return cmd_usage_error(&cmd_verify_spec, "--secret is required");
	if (parse_int64(cli_get(&v, "tolerance"), &tol) < 0 || tol < -1 || tol > 100L * 365 * 86400)
		return cmd_usage_error(&cmd_verify_spec, "--tolerance needs seconds, or -1");
	if (cli_get(&v, "timestamp") && parse_int64(cli_get(&v, "timestamp"), &(int64_t){0}) < 0)
		return cmd_usage_error(&cmd_verify_spec, "--timestamp needs Unix seconds");
	if (!cli_get(&v, "provider") && sign_secret_parse(secret, &(struct sign_secret){0}) < 0)
		return cmd_usage_error(&cmd_verify_spec, "--secret is not a Standard Webhooks secret (whsec_... or whpk_...)");
	h.n = cli_list(&v, "header", &h.lines);
	for (int i = 0; i < h.n; i++)
		if (!strchr(h.lines[i], ':'))
			return cmd_usage_error(&cmd_verify_spec, "--header needs 'Name: value', not '%s'", h.lines[i]);

	buf_init(&body, SIGN_BODY_MAX);
	if (cmd_read_all(stdin, &body) < 0) {
		buf_release(&body);
		return cmd_fail(&cmd_verify_spec, "cannot read the body from stdin");
	}
	/* the signing code reads 0 as "its default"; -1 turns the check off */
	if (cli_get(&v, "provider")) {
		rc = verify_provider(&v, &h, secret, tol == 0 ? -1 : (int)tol, &body, why, sizeof(why));
		reason = why[0] ? why : NULL;
	} else {
		rc = verify_std(&v, &h, secret, tol == 0 ? -1 : (int)tol, &body, &reason);
	}
	buf_release(&body);
	if (rc == HK_EINVAL)
		return CMD_USAGE; /* already explained */
	if (rc < 0)
		return cmd_fail(&cmd_verify_spec, "not verified: %s", reason ? reason : hk_strerror(rc));
	printf("verified\n");
	return CMD_OK;
}
