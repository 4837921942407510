/*
 * crypt.c - AES-256-GCM sealing of secrets (crypt.h).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/crypt.h"
#include "core/err.h"
#include "core/id.h"

#define PREFIX "enc:v1:"
#define PREFIX_LEN 7
#define KID_LEN 8
#define NONCE_LEN 12
#define TAG_LEN 16

struct key {
	bool set;
	unsigned char k[CRYPT_KEY_LEN];
	char kid[KID_LEN + 1];
};

static struct key keys[2]; /* current, previous */

/* transformation code too: scripts often carry tokens for the services they reshape for */
static const char *const sealed_members[] = {"_secrets", "_headers", "_tls", "_transformation"};

int crypt_parse_key(const char *text, unsigned char key[CRYPT_KEY_LEN])
{
	size_t n;
	char hex[2 * CRYPT_KEY_LEN + 1];
	size_t j = 0;

	for (const char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (j == sizeof(hex) - 1)
			return HK_EINVAL;
		hex[j++] = *p;
	}
	hex[j] = '\0';
	if (j != 2 * CRYPT_KEY_LEN || hex_decode(hex, j, key, &n) < 0 || n != CRYPT_KEY_LEN)
		return HK_EINVAL;
	return 0;
}

static void set_key(struct key *k, const unsigned char *raw)
{
	char digest[65];
	memcpy(k->k, raw, CRYPT_KEY_LEN);
	sha256_hex(raw, CRYPT_KEY_LEN, digest);
	memcpy(k->kid, digest, KID_LEN);
	k->kid[KID_LEN] = '\0';
	k->set = true;
}

void crypt_set_keys(const unsigned char current[CRYPT_KEY_LEN], const unsigned char *previous)
{
	crypt_clear_keys();
	set_key(&keys[0], current);
	if (previous)
		set_key(&keys[1], previous);
}

void crypt_clear_keys(void)
{
	OPENSSL_cleanse(keys, sizeof(keys));
}

bool crypt_enabled(void)
{
	return keys[0].set;
}

bool crypt_is_sealed(const char *s)
{
	return s && strncmp(s, PREFIX, PREFIX_LEN) == 0;
}

bool crypt_sealed_with_current(const char *s)
{
	return crypt_is_sealed(s) && keys[0].set && strncmp(s + PREFIX_LEN, keys[0].kid, KID_LEN) == 0;
}

static int gcm(bool enc, const unsigned char *key, const unsigned char *nonce, const unsigned char *in,
	       size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, rc = HK_EIO;

	if (!ctx)
		return HK_ENOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1) {
		rc = HK_EVERIFY;
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

char *crypt_seal(const char *plain, size_t len)
{
	unsigned char *raw = NULL;
	char *out = NULL;
	size_t rawlen = NONCE_LEN + len + TAG_LEN;

	if (!keys[0].set) {
		out = malloc(len + 1);
		if (out) {
			memcpy(out, plain, len);
			out[len] = '\0';
		}
		return out;
	}
	raw = malloc(rawlen);
	out = malloc(PREFIX_LEN + KID_LEN + 1 + base64_enc_len(rawlen));
	if (!raw || !out)
		goto fail;
	rand_bytes(raw, NONCE_LEN);
	if (gcm(true, keys[0].k, raw, (const unsigned char *)plain, len, raw + NONCE_LEN,
		raw + NONCE_LEN + len) < 0)
		goto fail;
	memcpy(out, PREFIX, PREFIX_LEN);
	memcpy(out + PREFIX_LEN, keys[0].kid, KID_LEN);
	out[PREFIX_LEN + KID_LEN] = ':';
	base64_encode(raw, rawlen, out + PREFIX_LEN + KID_LEN + 1);
	free(raw);
	return out;
fail:
	free(raw);
	free(out);
	return NULL;
}

int crypt_open(const char *sealed, char **plain, size_t *len)
{
	const struct key *k = NULL;
	const char *b64;
	unsigned char *raw;
	size_t rawlen, n;
	int rc;

	if (!crypt_is_sealed(sealed)) {
		*plain = strdup(sealed);
		*len = strlen(sealed);
		return *plain ? 0 : HK_ENOMEM;
	}
	for (int i = 0; i < 2; i++)
		if (keys[i].set && strncmp(sealed + PREFIX_LEN, keys[i].kid, KID_LEN) == 0)
			k = &keys[i];
	if (!k || sealed[PREFIX_LEN + KID_LEN] != ':')
		return HK_ENOTFOUND;
	b64 = sealed + PREFIX_LEN + KID_LEN + 1;
	rawlen = strlen(b64);
	raw = malloc(base64_dec_len(rawlen));
	if (!raw)
		return HK_ENOMEM;
	if (base64_decode(b64, rawlen, raw, &n) < 0 || n < NONCE_LEN + TAG_LEN) {
		free(raw);
		return HK_EPARSE;
	}
	*len = n - NONCE_LEN - TAG_LEN;
	*plain = malloc(*len + 1);
	if (!*plain) {
		free(raw);
		return HK_ENOMEM;
	}
	rc = gcm(false, k->k, raw, raw + NONCE_LEN, *len, (unsigned char *)*plain, raw + NONCE_LEN + *len);
	free(raw);
	if (rc < 0) {
		free(*plain);
		*plain = NULL;
		return rc;
	}
	(*plain)[*len] = '\0';
	return 0;
}

/*
 * convert seals or opens one string value; *out is the new string (NULL when
 * the value stays as it is: already sealed under the current key)
 */
static int convert(const json_t *str, bool seal, json_t **out)
{
	char *text = NULL;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	if (seal && !crypt_sealed_with_current(json_string_value(str)))
		text = crypt_seal(json_string_value(str), json_string_length(str));
	else if (!seal)
		rc = crypt_open(json_string_value(str), &text, &n);
	if (text)
		*out = json_string(text);
	free(text);
	return rc;
}

/* walk seals or opens every string under v (strings are replaced by their parent) */
static int walk(json_t *v, bool seal)
{
	const char *key;
	json_t *child, *repl;
	size_t i;
	int rc = 0;

	json_object_foreach(v, key, child) {
		rc = json_is_string(child) ? convert(child, seal, &repl) : walk(child, seal);
		if (rc < 0)
			return rc;
		if (json_is_string(child) && repl)
			json_object_set_new(v, key, repl);
	}
	json_array_foreach(v, i, child) {
		rc = json_is_string(child) ? convert(child, seal, &repl) : walk(child, seal);
		if (rc < 0)
			return rc;
		if (json_is_string(child) && repl)
			json_array_set_new(v, i, repl);
	}
	return 0;
}

static int each_member(json_t *doc, bool seal)
{
	if (!json_is_object(doc) || (seal && !keys[0].set))
		return 0;
	for (size_t i = 0; i < sizeof(sealed_members) / sizeof(sealed_members[0]); i++) {
		json_t *m = json_object_get(doc, sealed_members[i]);
		if (m) {
			int rc = walk(m, seal);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int crypt_seal_doc(json_t *doc)
{
	return each_member(doc, true);
}

int crypt_open_doc(json_t *doc)
{
	return each_member(doc, false);
}
