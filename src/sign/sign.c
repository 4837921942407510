/*
 * sign.c - Standard Webhooks signing and verification on OpenSSL 3.
 *
 * HMAC runs through EVP_MAC, fed part by part, so the signed content
 * "id.ts.body" is never copied. Ed25519 has no streaming interface, so for
 * "v1a" the content is assembled once in a heap buffer sized by the body
 * (whose size the caller has already bounded).
 *
 * Verification walks the header token by token without copying it: a token
 * is "version,base64"; "v1" is checked against HMAC secrets, "v1a" against
 * ed25519 ones, anything else is ignored. Every candidate is decoded into a
 * fixed buffer, so a huge or hostile header costs time linear in its length
 * and no memory.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/codec.h"
#include "core/err.h"
#include "core/id.h"
#include "sign/sign.h"

#define HMAC_SECRET_BYTES 24
#define TS_MAX 24

/* ---- primitives ---- */

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

/*
 * Each thread keeps one HMAC context per digest, initialised with its digest
 * once: a signature then costs a key set-up and the hashing, not a fetch of
 * the digest implementation (OpenSSL 3 looks those up by name, under a lock).
 */
#define NDIGESTS 3
static pthread_key_t hmac_key;

static void hmac_ctxs_free(void *p)
{
	EVP_MAC_CTX **ctxs = p;
	for (int i = 0; i < NDIGESTS; i++)
		EVP_MAC_CTX_free(ctxs[i]);
	free(ctxs);
}

static void hmac_fetch(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	pthread_key_create(&hmac_key, hmac_ctxs_free);
}

static int digest_index(const char *digest)
{
	return !strcmp(digest, "SHA1") ? 0 : !strcmp(digest, "SHA256") ? 1 : 2;
}

/* hmac_ctx returns this thread's context for digest, made on first use */
static EVP_MAC_CTX *hmac_ctx(const char *digest)
{
	EVP_MAC_CTX **ctxs = pthread_getspecific(hmac_key);
	int i = digest_index(digest);
	OSSL_PARAM params[2];

	if (!ctxs) {
		ctxs = calloc(NDIGESTS, sizeof(*ctxs));
		if (!ctxs || pthread_setspecific(hmac_key, ctxs) != 0) {
			free(ctxs);
			return NULL;
		}
	}
	if (!ctxs[i]) {
		ctxs[i] = EVP_MAC_CTX_new(hmac_alg);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
		params[1] = OSSL_PARAM_construct_end();
		if (ctxs[i] && !EVP_MAC_CTX_set_params(ctxs[i], params)) {
			EVP_MAC_CTX_free(ctxs[i]);
			ctxs[i] = NULL;
		}
	}
	return ctxs[i];
}

static bool digest_known(const char *digest)
{
	return !strcmp(digest, "SHA1") || !strcmp(digest, "SHA256") || !strcmp(digest, "SHA512");
}

int sign_hmac(const char *digest, const void *key, size_t keylen, const struct sign_part *parts,
	      size_t nparts, unsigned char *out, size_t *outlen)
{
	static const unsigned char nokey[1];
	EVP_MAC_CTX *ctx;

	if (!digest_known(digest))
		return HK_EINVAL;
	pthread_once(&hmac_once, hmac_fetch);
	if (!hmac_alg)
		return HK_EIO;
	ctx = hmac_ctx(digest);
	if (!ctx)
		return HK_ENOMEM;
	/* OpenSSL refuses a NULL key; an empty HMAC key is valid, so pass a real pointer */
	if (!EVP_MAC_init(ctx, keylen ? key : nokey, keylen, NULL))
		return HK_EIO;
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].n && !EVP_MAC_update(ctx, parts[i].p, parts[i].n))
			return HK_EIO;
	if (!EVP_MAC_final(ctx, out, outlen, SIGN_MAC_MAX))
		return HK_EIO;
	return 0;
}

int sign_ed25519_sign(const unsigned char seed[32], const void *msg, size_t len,
		      unsigned char sig[64])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = 64;
	int rc = HK_EIO;

	if (!key || !ctx)
		goto out;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1)
		goto out;
	if (EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1 || siglen != 64)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return rc;
}

bool sign_ed25519_verify(const unsigned char pub[32], const void *msg, size_t len,
			 const unsigned char sig[64])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = false;

	if (!key || !ctx)
		goto out;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

/* ed25519_public derives the public key of a seed. */
static int ed25519_public(const unsigned char seed[32], unsigned char pub[32])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t publen = 32;
	int rc = HK_EIO;

	if (key && EVP_PKEY_get_raw_public_key(key, pub, &publen) == 1 && publen == 32)
		rc = 0;
	EVP_PKEY_free(key);
	return rc;
}

/* ---- secrets ---- */

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int sign_secret_parse(const char *s, struct sign_secret *out)
{
	unsigned char tmp[SIGN_SECRET_MAX / 4 * 3 + 3];
	size_t n, len = 0;
	int rc;

	if (!s)
		return HK_EPARSE;
	out->kind = SIGN_HMAC;
	if (has_prefix(s, "whsec_")) {
		s += 6;
	} else if (has_prefix(s, "whsk_")) {
		out->kind = SIGN_ED25519_SK;
		s += 5;
	} else if (has_prefix(s, "whpk_")) {
		out->kind = SIGN_ED25519_PK;
		s += 5;
	}
	n = strnlen(s, SIGN_SECRET_MAX);
	if (n == 0 || n >= SIGN_SECRET_MAX)
		return HK_EPARSE;
	rc = base64_decode(s, n, tmp, &len);
	if (rc == 0 && (len == 0 || len > SIGN_KEY_MAX))
		rc = HK_EPARSE;
	if (rc == 0 && out->kind == SIGN_ED25519_SK && len != 64)
		rc = HK_EPARSE;
	if (rc == 0 && out->kind == SIGN_ED25519_PK && len != 32)
		rc = HK_EPARSE;
	if (rc == 0) {
		memcpy(out->key, tmp, len);
		out->key_len = len;
	}
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return rc;
}

/* put_secret writes prefix + base64(raw) into out. */
static int put_secret(const char *prefix, const unsigned char *raw, size_t n, char *out,
		      size_t cap)
{
	size_t plen = strlen(prefix);

	if (cap < plen + base64_enc_len(n))
		return HK_ENOSPACE;
	memcpy(out, prefix, plen);
	base64_encode(raw, n, out + plen);
	return 0;
}

int sign_secret_new_hmac(char *out, size_t cap)
{
	unsigned char raw[HMAC_SECRET_BYTES];
	int rc;

	rand_bytes(raw, sizeof(raw));
	rc = put_secret("whsec_", raw, sizeof(raw), out, cap);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int sign_secret_new_ed25519(char *sk, size_t skcap, char *pk, size_t pkcap)
{
	unsigned char raw[64];
	int rc;

	rand_bytes(raw, 32);
	rc = ed25519_public(raw, raw + 32);
	if (rc == 0)
		rc = put_secret("whsk_", raw, 64, sk, skcap);
	if (rc == 0)
		rc = put_secret("whpk_", raw + 32, 32, pk, pkcap);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* ---- signing ---- */

/* content_join assembles "id.ts.body" for ed25519; the caller frees it. */
static unsigned char *content_join(const char *msg_id, const char *ts, const void *body,
				   size_t len, size_t *outlen)
{
	size_t idlen = strlen(msg_id), tslen = strlen(ts);
	unsigned char *p;

	if (len > SIZE_MAX - idlen - tslen - 2)
		return NULL;
	p = malloc(idlen + tslen + len + 2);
	if (!p)
		return NULL;
	memcpy(p, msg_id, idlen);
	p[idlen] = '.';
	memcpy(p + idlen + 1, ts, tslen);
	p[idlen + 1 + tslen] = '.';
	if (len)
		memcpy(p + idlen + tslen + 2, body, len);
	*outlen = idlen + tslen + len + 2;
	return p;
}

/* raw_signature computes the signature bytes of a parsed secret over id.ts.body. */
static int raw_signature(const struct sign_secret *sec, const char *msg_id, const char *ts,
			 const void *body, size_t len, unsigned char *sig, size_t *siglen)
{
	unsigned char *content;
	size_t clen;
	int rc;

	if (sec->kind == SIGN_HMAC) {
		struct sign_part parts[] = {
			{msg_id, strlen(msg_id)}, {".", 1}, {ts, strlen(ts)}, {".", 1}, {body, len},
		};
		return sign_hmac("SHA256", sec->key, sec->key_len, parts, 5, sig, siglen);
	}
	if (sec->kind != SIGN_ED25519_SK)
		return HK_EINVAL;
	content = content_join(msg_id, ts, body, len, &clen);
	if (!content)
		return HK_ENOMEM;
	rc = sign_ed25519_sign(sec->key, content, clen, sig);
	*siglen = 64;
	free(content);
	return rc;
}

/* sign_one signs with a parsed secret, checking an ed25519 key pair is consistent. */
static int sign_one(const struct sign_secret *sec, const char *msg_id, const char *ts,
		    const void *body, size_t len, char *out, size_t cap)
{
	unsigned char sig[SIGN_MAC_MAX], pub[32];
	const char *ver = sec->kind == SIGN_HMAC ? "v1," : "v1a,";
	size_t siglen = 0, vlen = strlen(ver);
	int rc;

	if (sec->kind == SIGN_ED25519_SK) {
		rc = ed25519_public(sec->key, pub);
		if (rc < 0)
			return rc;
		if (!ct_equal(pub, 32, sec->key + 32, 32))
			return HK_EINVAL;
	}
	rc = raw_signature(sec, msg_id, ts, body, len, sig, &siglen);
	if (rc < 0)
		return rc;
	if (cap < vlen + base64_enc_len(siglen))
		return HK_ENOSPACE;
	memcpy(out, ver, vlen);
	base64_encode(sig, siglen, out + vlen);
	return 0;
}

int sign_payload(const char *secret, const char *msg_id, int64_t timestamp, const void *body,
		 size_t len, char *out, size_t cap)
{
	const char *const one[] = {secret};
	return sign_header(one, 1, msg_id, timestamp, body, len, out, cap);
}

int sign_header(const char *const *secrets, size_t n, const char *msg_id, int64_t timestamp,
		const void *body, size_t len, char *out, size_t cap)
{
	struct sign_secret sec;
	char ts[TS_MAX], sig[SIGN_SIG_MAX];
	size_t used = 0;
	int rc = 0;

	if (n == 0 || !msg_id || cap == 0)
		return HK_EINVAL;
	snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
	out[0] = '\0';
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t slen;
		rc = sign_secret_parse(secrets[i], &sec);
		if (rc < 0 || sec.kind == SIGN_ED25519_PK) {
			rc = HK_EINVAL;
			break;
		}
		rc = sign_one(&sec, msg_id, ts, body, len, sig, sizeof(sig));
		if (rc < 0)
			break;
		slen = strlen(sig);
		if (used + (i > 0) + slen + 1 > cap) {
			rc = HK_ENOSPACE;
			break;
		}
		if (i > 0)
			out[used++] = ' ';
		memcpy(out + used, sig, slen + 1);
		used += slen;
	}
	OPENSSL_cleanse(&sec, sizeof(sec));
	if (rc < 0)
		out[0] = '\0';
	return rc;
}

/* ---- verification ---- */

int sign_parse_uint(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (!s || n == 0 || n > 18)
		return HK_EPARSE;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return HK_EPARSE;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int sign_check_time(int64_t ts, int64_t now, int tolerance_seconds, const char **reason)
{
	int64_t tol = tolerance_seconds == 0 ? SIGN_TOLERANCE_DEFAULT : tolerance_seconds;

	if (tolerance_seconds < 0)
		return 0;
	if (now - ts > tol) {
		if (reason)
			*reason = "timestamp too old";
		return HK_EVERIFY;
	}
	if (ts - now > tol) {
		if (reason)
			*reason = "timestamp in the future";
		return HK_EVERIFY;
	}
	return 0;
}

/*
 * match_candidate checks one decoded candidate of a given version against
 * every secret. Ed25519 verification needs the joined content, built lazily.
 */
struct verify_ctx {
	const struct sign_secret *secs;
	size_t nsecs;
	const char *msg_id, *ts;
	const void *body;
	size_t len;
	struct vmac *macs;      /* each HMAC secret's MAC, computed once */
	unsigned char *content; /* "id.ts.body" once an ed25519 candidate shows up */
	size_t clen;
	int ed_tries;           /* ed25519 candidates checked so far */
};

struct vmac {
	unsigned char mac[SIGN_MAC_MAX];
	size_t len; /* 0: not an HMAC secret */
};

/*
 * A header may carry thousands of candidates: HMACs are computed once per
 * secret, not per candidate, and only the first SIGN_ED25519_TRIES ed25519
 * candidates are checked (a rotation never needs more than a few).
 */
#define SIGN_ED25519_TRIES 8

static void compute_macs(struct verify_ctx *v)
{
	v->macs = calloc(v->nsecs, sizeof(*v->macs));
	if (!v->macs)
		return;
	for (size_t i = 0; i < v->nsecs; i++) {
		const struct sign_secret *s = &v->secs[i];
		if (s->kind == SIGN_HMAC &&
		    raw_signature(s, v->msg_id, v->ts, v->body, v->len, v->macs[i].mac,
				  &v->macs[i].len) < 0)
			v->macs[i].len = 0;
	}
}

static bool match_candidate(struct verify_ctx *v, bool ed, const unsigned char *sig,
			    size_t siglen)
{
	bool found = false;

	if (!ed && !v->macs)
		compute_macs(v);
	if (ed && (siglen != 64 || v->ed_tries++ >= SIGN_ED25519_TRIES))
		return false;
	if (ed && !v->content)
		v->content = content_join(v->msg_id, v->ts, v->body, v->len, &v->clen);
	for (size_t i = 0; i < v->nsecs; i++) {
		const struct sign_secret *s = &v->secs[i];

		if (!ed && s->kind == SIGN_HMAC && v->macs && v->macs[i].len)
			found |= ct_equal(v->macs[i].mac, v->macs[i].len, sig, siglen);
		if (ed && s->kind != SIGN_HMAC && v->content) {
			const unsigned char *pub = s->kind == SIGN_ED25519_SK ? s->key + 32 : s->key;
			found |= sign_ed25519_verify(pub, v->content, v->clen, sig);
		}
	}
	return found;
}

/*
 * scan_header walks the space-separated tokens. *wellformed tells whether at
 * least one token had a known version and a decodable signature.
 */
static bool scan_header(struct verify_ctx *v, const char *h, size_t hlen, bool *wellformed)
{
	unsigned char sig[SIGN_SIG_MAX / 4 * 3 + 3];
	size_t i = 0;
	bool found = false;

	while (i < hlen) {
		size_t start = i, comma = 0, siglen = 0;
		while (i < hlen && h[i] != ' ')
			i++;
		for (size_t j = start; j < i && !comma; j++)
			if (h[j] == ',')
				comma = j;
		if (comma) {
			size_t vlen = comma - start, blen = i - comma - 1;
			bool v1 = vlen == 2 && !memcmp(h + start, "v1", 2);
			bool v1a = vlen == 3 && !memcmp(h + start, "v1a", 3);
			if ((v1 || v1a) && blen > 0 && blen < SIGN_SIG_MAX &&
			    base64_decode(h + comma + 1, blen, sig, &siglen) == 0 && siglen > 0) {
				*wellformed = true;
				found |= match_candidate(v, v1a, sig, siglen);
			}
		}
		while (i < hlen && h[i] == ' ')
			i++;
	}
	return found;
}

static int verify_fail(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return HK_EVERIFY;
}

int sign_verify(const char *const *secrets, size_t n, const char *msg_id, const char *timestamp,
		const char *header, const void *body, size_t len, int64_t now,
		int tolerance_seconds, const char **reason)
{
	struct verify_ctx v = {.msg_id = msg_id, .body = body, .len = len};
	struct sign_secret *secs = NULL;
	size_t hlen, nsecs = 0;
	int64_t ts;
	bool wellformed = false, found;
	int rc;

	if (!msg_id || !*msg_id || strnlen(msg_id, SIGN_HEADER_MAX) >= SIGN_HEADER_MAX)
		return verify_fail(reason, "missing message id");
	if (!timestamp || sign_parse_uint(timestamp, strnlen(timestamp, TS_MAX), &ts) < 0)
		return verify_fail(reason, "invalid timestamp");
	rc = sign_check_time(ts, now, tolerance_seconds, reason);
	if (rc < 0)
		return rc;
	hlen = header ? strnlen(header, SIGN_HEADER_MAX) : 0;
	if (hlen == 0 || hlen >= SIGN_HEADER_MAX)
		return verify_fail(reason, "malformed signature header");
	secs = n ? calloc(n, sizeof(*secs)) : NULL;
	if (n && !secs)
		return HK_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (secrets[i] && sign_secret_parse(secrets[i], &secs[nsecs]) == 0)
			nsecs++;
	if (nsecs == 0) {
		rc = verify_fail(reason, "no valid secret");
		goto out;
	}
	v.secs = secs;
	v.nsecs = nsecs;
	v.ts = timestamp;
	found = scan_header(&v, header, hlen, &wellformed);
	if (found)
		rc = 0;
	else
		rc = verify_fail(reason, wellformed ? "no matching signature"
						    : "malformed signature header");
out:
	free(v.content);
	if (v.macs)
		OPENSSL_cleanse(v.macs, nsecs * sizeof(*v.macs));
	free(v.macs);
	if (secs)
		OPENSSL_cleanse(secs, n * sizeof(*secs));
	free(secs);
	return rc;
}
