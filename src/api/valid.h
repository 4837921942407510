/*
 * valid.h - value rules shared by the API's resources (and unit-tested alone).
 */
#ifndef HK_VALID_H
#define HK_VALID_H

#include <stdbool.h>
#include <stddef.h>

/* valid_uid: 1-256 of [a-zA-Z0-9._-], not starting with the entity's id prefix */
bool valid_uid(const char *s, const char *id_prefix, const char **why);
/* valid_name: event type and channel names, 1-256 of [a-zA-Z0-9._-] (and ':' '/' '*' for channels) */
bool valid_name(const char *s, size_t maxlen);
/* valid_url: an absolute http or https URL with a host, at most 65536 bytes */
bool valid_url(const char *s, const char **why);
/* valid_header_name: an HTTP token; valid_header_value: no CR, LF or NUL */
bool valid_header_name(const char *s);
bool valid_header_value(const char *s);
/* valid_header_reserved: names hookd sets itself and endpoints may not override */
bool valid_header_reserved(const char *s);
/* valid_header_sensitive: names whose values the API never shows again */
bool valid_header_sensitive(const char *s);
/*
 * valid_secret: "whsec_" + base64 of 24..64 bytes (or that base64 alone, as
 * Svix takes it), or "whsk_" + base64 of an ed25519 key; standard base64
 * only. out (VALID_SECRET_MAX) gets the form to store: always prefixed.
 */
#define VALID_SECRET_MAX 112
bool valid_secret(const char *s, char out[VALID_SECRET_MAX], const char **why);

#endif
