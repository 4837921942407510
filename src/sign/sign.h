/*
 * sign.h - Standard Webhooks signatures (HMAC-SHA256 "v1" and ed25519 "v1a").
 *
 * What is signed is "{msg_id}.{timestamp}.{body}", the timestamp being the
 * decimal Unix seconds exactly as sent in webhook-timestamp. Secrets come in
 * three kinds, told apart by their prefix:
 *
 *     whsec_<base64 key>              HMAC-SHA256, signs and verifies ("v1,")
 *     <base64 key>                    the same, without its prefix
 *     whsk_<base64 seed(32) pub(32)>  ed25519 signing key, signs and verifies ("v1a,")
 *     whpk_<base64 pub(32)>           ed25519 public key, verifies only
 *
 * A header holds one or more space-separated "version,base64" signatures (one
 * per active key during a rotation). Verification tries every candidate
 * against every secret and compares in constant time; a malformed candidate
 * is skipped, never fatal. Nothing here allocates memory that outlives a call;
 * every output goes into a caller buffer whose capacity is given explicitly.
 *
 * Times: timestamps and "now" are Unix seconds. A tolerance of 0 means the
 * default (SIGN_TOLERANCE_DEFAULT, 5 minutes either way); a negative
 * tolerance turns the time check off (for re-verifying stored events).
 *
 * The sign_hmac / sign_ed25519_* helpers are the primitives the inbound
 * providers share; they take the message as a list of parts so that nothing
 * needs to be concatenated for HMAC.
 */
#ifndef HK_SIGN_H
#define HK_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGN_KEY_MAX 256          /* longest decoded HMAC key accepted */
#define SIGN_SECRET_MAX 400       /* longest secret string, NUL included */
#define SIGN_SIG_MAX 96           /* one "v1a,<base64 64 bytes>" plus NUL */
#define SIGN_HEADER_MAX 8192      /* longest signature header accepted */
#define SIGN_TOLERANCE_DEFAULT 300

enum sign_kind {
	SIGN_HMAC,       /* key = HMAC key */
	SIGN_ED25519_SK, /* key = 32-byte seed then 32-byte public key */
	SIGN_ED25519_PK, /* key = 32-byte public key */
};

struct sign_secret {
	enum sign_kind kind;
	size_t key_len;
	unsigned char key[SIGN_KEY_MAX];
};

/*
 * sign_secret_parse decodes a secret string. An empty or undecodable key,
 * or an ed25519 key of the wrong size, is HK_EPARSE. The struct holds key
 * material: callers should clear it (OPENSSL_cleanse) when done with it.
 */
int sign_secret_parse(const char *s, struct sign_secret *out);

/* sign_secret_new_hmac writes "whsec_" + base64 of 24 random bytes. */
int sign_secret_new_hmac(char *out, size_t cap);

/* sign_secret_new_ed25519 writes a new "whsk_" signing key and its "whpk_" public key. */
int sign_secret_new_ed25519(char *sk, size_t skcap, char *pk, size_t pkcap);

/*
 * sign_payload writes one signature, "v1,<base64>" or "v1a,<base64>"
 * depending on the secret, into out (SIGN_SIG_MAX is always enough).
 * HK_EINVAL for a secret that cannot sign (whpk_, unparsable), HK_ENOSPACE
 * when out is too small.
 */
int sign_payload(const char *secret, const char *msg_id, int64_t timestamp, const void *body,
		 size_t len, char *out, size_t cap);

/*
 * sign_header writes the webhook-signature value for several secrets: their
 * signatures separated by single spaces, in the order given. Same errors as
 * sign_payload; HK_EINVAL when n is 0.
 */
int sign_header(const char *const *secrets, size_t n, const char *msg_id, int64_t timestamp,
		const void *body, size_t len, char *out, size_t cap);

/*
 * sign_verify checks a webhook-signature header. Returns 0 when some
 * candidate matches some secret, else HK_EVERIFY with *reason set to a
 * static lowercase message ("no matching signature", "timestamp too old",
 * "timestamp in the future", "invalid timestamp", "missing message id",
 * "malformed signature header", "no valid secret"). reason may be NULL.
 * Unparsable secrets are skipped. The time check comes before the
 * signatures, as the spec asks.
 */
int sign_verify(const char *const *secrets, size_t n, const char *msg_id, const char *timestamp,
		const char *header, const void *body, size_t len, int64_t now,
		int tolerance_seconds, const char **reason);

/*
 * sign_check_time applies the tolerance rule above: 0, or HK_EVERIFY with
 * "timestamp too old" / "timestamp in the future".
 */
int sign_check_time(int64_t ts, int64_t now, int tolerance_seconds, const char **reason);

/* sign_parse_uint parses n decimal digits (1..18, nothing else) into *out. */
int sign_parse_uint(const char *s, size_t n, int64_t *out);

/* ---- primitives shared with the inbound providers ---- */

struct sign_part {
	const void *p;
	size_t n;
};

#define SIGN_MAC_MAX 64 /* SHA-512 */

/*
 * sign_hmac computes HMAC(digest, key, parts...) into out (SIGN_MAC_MAX
 * bytes); digest is "SHA1", "SHA256" or "SHA512". HK_EINVAL for an unknown
 * digest, HK_EIO when the crypto library fails.
 */
int sign_hmac(const char *digest, const void *key, size_t keylen, const struct sign_part *parts,
	      size_t nparts, unsigned char *out, size_t *outlen);

/* sign_ed25519_sign writes the 64-byte signature of msg with a 32-byte seed. */
int sign_ed25519_sign(const unsigned char seed[32], const void *msg, size_t len,
		      unsigned char sig[64]);

/* sign_ed25519_verify reports whether sig (64 bytes) signs msg under pub. */
bool sign_ed25519_verify(const unsigned char pub[32], const void *msg, size_t len,
			 const unsigned char sig[64]);

#endif
