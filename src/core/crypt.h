/*
 * crypt.h - secrets at rest: AES-256-GCM under the master key.
 *
 * A sealed value is text: "enc:v1:" + key id (8 hex chars, from the key's
 * SHA-256) + ":" + base64(12-byte nonce | ciphertext | 16-byte tag). Opening
 * picks the key by its id, so values sealed under the previous key still
 * open during a rotation. A value without the prefix opens as itself (data
 * written before encryption was configured).
 *
 * Documents: crypt_seal_doc / crypt_open_doc walk a store document and seal
 * (open) every string inside the members that hold secrets (_secrets,
 * _headers, _tls, _transformation). The keys are process-wide, set once at start-up.
 */
#ifndef HK_CRYPT_H
#define HK_CRYPT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CRYPT_KEY_LEN 32

/* crypt_parse_key reads 64 hex characters (surrounding white space allowed) */
int crypt_parse_key(const char *text, unsigned char key[CRYPT_KEY_LEN]);
/* crypt_set_keys installs the current key and optionally the previous one (NULL) */
void crypt_set_keys(const unsigned char current[CRYPT_KEY_LEN], const unsigned char *previous);
void crypt_clear_keys(void);
bool crypt_enabled(void);

/* crypt_seal returns a malloc'd sealed text (a copy of plain when no key is set) */
char *crypt_seal(const char *plain, size_t len);
/* crypt_open returns a malloc'd plain text; HK_EVERIFY when the tag does not match, HK_ENOTFOUND for an unknown key */
int crypt_open(const char *sealed, char **plain, size_t *len);
bool crypt_is_sealed(const char *s);
/* crypt_sealed_with_current reports whether s is sealed under the current key */
bool crypt_sealed_with_current(const char *s);

int crypt_seal_doc(json_t *doc);
int crypt_open_doc(json_t *doc);

#endif
