/*
 * valid.c - value rules for API input.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/valid.h"
#include "core/codec.h"

static bool uid_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-';
}

bool valid_uid(const char *s, const char *id_prefix, const char **why)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 256) {
		*why = "uid must be 1 to 256 characters";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!uid_char((unsigned char)s[i])) {
			*why = "uid may only contain letters, digits, '.', '_' and '-'";
			return false;
		}
	}
	if (id_prefix && strncmp(s, id_prefix, strlen(id_prefix)) == 0) {
		*why = "invalid_uid_prefix: uid must not start with the id prefix";
		return false;
	}
	return true;
}

bool valid_name(const char *s, size_t maxlen)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > maxlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!uid_char(c) && c != ':' && c != '/' && c != '*')
			return false;
	}
	return true;
}

bool valid_url(const char *s, const char **why)
{
	const char *host, *end;
	size_t n = s ? strlen(s) : 0;

	*why = "url must be an absolute http or https URL";
	if (n < 8 || n > 65536)
		return false;
	if (strncasecmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return false;
	end = host + strcspn(host, "/?#");
	if (end == host)
		return false;
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "url must not contain spaces or control characters";
			return false;
		}
	}
	return true;
}

bool valid_header_name(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 256)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && !strchr(extra, c))
			return false;
	}
	return true;
}

bool valid_header_value(const char *s)
{
	if (strlen(s) > 4096)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n')
			return false;
	return true;
}

bool valid_header_reserved(const char *s)
{
	static const char *const names[] = {"host", "content-length", "content-type",
					    "transfer-encoding", "connection", "keep-alive",
					    "upgrade", "te", "trailer", "user-agent"};
	if (strncasecmp(s, "webhook-", 8) == 0 || strncasecmp(s, "svix-", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0)
			return true;
	return false;
}

bool valid_header_sensitive(const char *s)
{
	static const char *const names[] = {"authorization", "proxy-authorization", "cookie",
					    "x-api-key", "api-key", "x-auth-token"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0)
			return true;
	return false;
}

bool valid_secret(const char *s, char out[VALID_SECRET_MAX], const char **why)
{
	unsigned char raw[128];
	size_t n = 0, len;
	const char *b64 = s, *prefix = "whsec_";
	size_t min = 24, max = 64;

	*why = "secret must be 'whsec_' followed by base64 of 24 to 64 bytes";
	if (strncmp(s, "whsec_", 6) == 0) {
		b64 = s + 6;
	} else if (strncmp(s, "whsk_", 5) == 0) {
		b64 = s + 5;
		prefix = "whsk_";
		min = max = 64;
		*why = "an ed25519 secret must be 'whsk_' followed by base64 of 64 bytes";
	}
	len = strlen(b64);
	/* receivers decode with the standard alphabet: the URL-safe one would sign with other bytes */
	if (len > 100 || strpbrk(b64, "-_") || base64_decode(b64, len, raw, &n) < 0 || n < min || n > max)
		return false;
	snprintf(out, VALID_SECRET_MAX, "%s%s", prefix, b64);
	return true;
}
