/*
 * codec.h - base64 (standard and URL-safe), hex, and constant-time compare.
 *
 * Decoders are strict: they reject characters outside the alphabet and
 * return HK_EPARSE. Output buffers are sized by the *_len helpers; every
 * encoder NUL-terminates.
 */
#ifndef HK_CODEC_H
#define HK_CODEC_H

#include <stdbool.h>
#include <stddef.h>

static inline size_t base64_enc_len(size_t n) { return (n + 2) / 3 * 4 + 1; }
static inline size_t base64_dec_len(size_t n) { return n / 4 * 3 + 3; }

/* base64_encode writes the padded standard encoding; returns its length. */
size_t base64_encode(const void *in, size_t n, char *out);
/*
 * base64_decode accepts the standard and the URL-safe alphabets, with or
 * without padding; *outlen gets the decoded size.
 */
int base64_decode(const char *in, size_t n, unsigned char *out, size_t *outlen);

size_t hex_encode(const void *in, size_t n, char *out); /* out: 2n+1 bytes */
/* hex_decode takes upper or lower case, an even number of digits. */
int hex_decode(const char *in, size_t n, unsigned char *out, size_t *outlen);

/* sha256_hex writes the lowercase hex SHA-256 of data (64 chars and a NUL). */
void sha256_hex(const void *data, size_t len, char out[65]);

/* ct_equal compares two byte strings in time independent of their content. */
bool ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
