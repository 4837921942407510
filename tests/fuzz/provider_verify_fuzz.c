/*
 * provider_verify_fuzz.c - libFuzzer driver running every inbound provider
 * over one request.
 *
 * Input: "<flags byte><signature>\n<timestamp>\n<id>\n<url>\n<body>".
 * Header lookups answer by name: names holding "timestamp" get the second
 * line, names naming an id, delivery, event or topic get the third, every
 * other header (signatures, tokens, authorization) the first. Flag bit 0
 * makes the body JSON, bit 1 form-encoded, otherwise no content type.
 * Verification, dedupe key, event type and challenge all run, whatever the
 * verification says, and any challenge answer is released.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_hdrs {
	char *sig, *ts, *id;
};

static const char *fuzz_header(void *ctx, const char *name)
{
	struct fuzz_hdrs *h = ctx;

	if (strstr(name, "timestamp"))
		return h->ts;
	if (strstr(name, "-id") || strstr(name, "delivery") || strstr(name, "uuid") ||
	    strstr(name, "event") || strstr(name, "topic") || strstr(name, "key"))
		return h->id;
	return h->sig;
}

static char *next_line(const uint8_t **p, size_t *n)
{
	const uint8_t *nl = memchr(*p, '\n', *n);
	size_t len = nl ? (size_t)(nl - *p) : *n;
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, *p, len);
	s[len] = '\0';
	*p += nl ? len + 1 : len;
	*n -= nl ? len + 1 : len;
	return s;
}

static const char *const secrets[] = {
    "It's a Secret to Everybody",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "b33c10f555028168b64b8943d320b4fdebb5f040edb77a04e3de38f050399194",
    "alice:s3cret",
};

static void run(const struct provider *p, const struct provider_cfg *cfg,
                const struct provider_req *req)
{
	char reason[PROVIDER_REASON_MAX], out[256];
	json_t *answer = NULL;

	provider_verify(p, cfg, req, reason, sizeof(reason));
	provider_dedupe_key(p, cfg, req, out, sizeof(out));
	provider_event_type(p, cfg, req, out, sizeof(out));
	if (provider_challenge(p, cfg, req, &answer) == 0)
		json_decref(answer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + (size > 0);
	size_t n = size - (size > 0);
	uint8_t flags = size ? data[0] : 0;
	struct fuzz_hdrs h;
	char *url;
	const struct provider *const *all = provider_list();
	json_t *conf = json_pack("{s:s,s:s,s:s}", "encoding", flags & 4 ? "base64" : "hex",
	                         "prefix", "sha256=", "event_header", "x-event");

	h.sig = next_line(&p, &n);
	h.ts = next_line(&p, &n);
	h.id = next_line(&p, &n);
	url = next_line(&p, &n);

	struct provider_req req = {
	    .method = "POST",
	    .url = url,
	    .header = fuzz_header,
	    .hctx = &h,
	    .body = p,
	    .body_len = n,
	    .content_type = flags & 1   ? "application/json"
	                    : flags & 2 ? "application/x-www-form-urlencoded"
	                                : NULL,
	    .now = 1700000000,
	};
	struct provider_cfg cfg = {secrets, 4, flags & 8 ? -1 : 0, flags & 16 ? NULL : conf};

	for (size_t i = 0; all[i]; i++)
		run(all[i], &cfg, &req);
	json_decref(conf);
	free(h.sig);
	free(h.ts);
	free(h.id);
	free(url);
	return 0;
}
