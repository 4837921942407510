/*
 * sign_verify_fuzz.c - libFuzzer driver for sign_verify.
 *
 * Input: "<signature header>\n<timestamp>\n<msg id>\n<body>"; missing parts
 * are empty. Verified against an HMAC secret, an ed25519 public key and an
 * ed25519 signing key, at a fixed "now" so that the seeds' timestamps pass.
 * A header or body that verifies must have been signed with one of these
 * keys, which the seeds are.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const secrets[] = {
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=",
    "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==",
    "not base64 !",
};

/* next_line copies up to '\n' into a fresh NUL-terminated string. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size;
	char *hdr = next_line(&p, &n), *ts = next_line(&p, &n), *id = next_line(&p, &n);
	char out[2 * SIGN_SIG_MAX];
	const char *reason = NULL;

	sign_verify(secrets, 4, id, ts, hdr, p, n, 1614265330, 0, &reason);
	sign_verify(secrets, 1, id, ts, hdr, p, n, 1614265330, -1, &reason);
	sign_verify(NULL, 0, id, ts, hdr, p, n, 1614265330, 0, &reason);
	sign_header(secrets, 1, id, 1614265330, p, n, out, sizeof(out));
	/* a signature we make must verify */
	if (*id && strlen(id) < SIGN_HEADER_MAX &&
	    sign_payload(secrets[0], id, 1614265330, p, n, out, sizeof(out)) == 0 &&
	    sign_verify(secrets, 1, id, "1614265330", out, p, n, 1614265330, 0, &reason) != 0)
		abort();
	free(hdr);
	free(ts);
	free(id);
	return 0;
}
