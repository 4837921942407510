/*
 * rules_check.c - the leaf checks of trigger rules: payload HMACs, IP
 * allow-lists and Scalr signatures.
 *
 * Each returns an hookd error code that rules.c maps onto adnanh's error
 * kinds: HK_EVERIFY is a signature failure (soft-failable inside an or),
 * anything else negative is an evaluation error. Messages and codes never
 * carry the expected MAC.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/clock.h"
#include "core/codec.h"
#include "core/err.h"
#include "hooks/rules.h"

/* ------------------------------------------------------------------ */
/* payload HMAC                                                         */

static const EVP_MD *hmac_md(enum rule_match type, const char **prefix)
{
	switch (type) {
	case RULE_MATCH_HMAC_SHA1:
		*prefix = "sha1=";
		return EVP_sha1();
	case RULE_MATCH_HMAC_SHA256:
		*prefix = "sha256=";
		return EVP_sha256();
	case RULE_MATCH_HMAC_SHA512:
		*prefix = "sha512=";
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* hmac_hex writes the hex HMAC of p1 followed by p2 (the one-shot HMAC()). */
static int hmac_hex(const EVP_MD *md, const char *key, const void *p1, size_t n1, const void *p2,
		    size_t n2, char *hex)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	unsigned char *joined = NULL;
	const void *data = p1;
	int rc = HK_ENOMEM;

	if (n2) {
		joined = malloc(n1 + n2);
		if (!joined)
			return HK_ENOMEM;
		if (n1)
			memcpy(joined, p1, n1);
		memcpy(joined + n1, p2, n2);
		data = joined;
	}
	if (!HMAC(md, key, (int)strlen(key), data, n1 + n2, mac, &len))
		goto out;
	hex_encode(mac, len, hex);
	rc = 0;
out:
	free(joined);
	return rc;
}

/* entry_matches compares one candidate [s, s+n) with the computed MAC. */
static bool entry_matches(const char *s, size_t n, const char *mac)
{
	return ct_equal(s, n, mac, strlen(mac));
}

int rules_check_hmac(enum rule_match type, const void *payload, size_t n, const char *secret,
		     const char *signature, char *mac_hex)
{
	char mac[RULES_MAC_HEX_MAX];
	const char *prefix = "";
	const EVP_MD *md = hmac_md(type, &prefix);
	size_t plen = strlen(prefix);
	bool ok = false;
	int rc;

	if (mac_hex)
		mac_hex[0] = '\0';
	if (!md || !secret || !*secret)
		return HK_EINVAL;
	rc = hmac_hex(md, secret, payload, n, NULL, 0, mac);
	if (rc < 0)
		return rc;
	if (mac_hex)
		memcpy(mac_hex, mac, strlen(mac) + 1);
	if (!strchr(signature, ',')) {
		const char *s = strncmp(signature, prefix, plen) == 0 ? signature + plen : signature;
		return entry_matches(s, strlen(s), mac) ? 0 : HK_EVERIFY;
	}
	/* a list: only entries carrying the prefix count (adnanh's rule) */
	for (const char *p = signature;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len >= plen && strncmp(p, prefix, plen) == 0)
			ok |= entry_matches(p + plen, len - plen, mac);
		if (!comma)
			break;
		p = comma + 1;
	}
	return ok ? 0 : HK_EVERIFY;
}

/* ------------------------------------------------------------------ */
/* IP allow-list                                                        */

/* An address as 16 bytes; v4 marks an IPv4 (or v4-mapped) address. */
struct addr {
	unsigned char b[16];
	bool v4;
};

static bool parse_addr(const char *s, size_t n, struct addr *a)
{
	char tmp[64];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, tmp, a->b + 12) == 1) {
		memcpy(a->b, mapped, 12);
		a->v4 = true;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, a->b) != 1)
		return false;
	a->v4 = memcmp(a->b, mapped, 12) == 0;
	return true;
}

static const char *trim(const char *s, size_t *n, const char *set)
{
	while (*n > 0 && strchr(set, s[0]))
		s++, (*n)--;
	while (*n > 0 && strchr(set, s[*n - 1]))
		(*n)--;
	return s;
}

/*
 * host_of extracts the address from "ip:port" the way adnanh does: trim
 * " []", cut at the last ':', trim again.
 */
static const char *host_of(const char *remote, size_t *n)
{
	const char *s;
	const char *colon = NULL;

	*n = strlen(remote);
	s = trim(remote, n, " []");
	for (size_t i = 0; i < *n; i++) {
		if (s[i] == ':')
			colon = s + i;
	}
	if (colon) {
		*n = (size_t)(colon - s);
		s = trim(s, n, " []");
	}
	return s;
}

/* in_cidr parses one range entry and tests a against it. */
static int in_cidr(const struct addr *a, const char *r, size_t n)
{
	const char *slash = memchr(r, '/', n);
	size_t alen = slash ? (size_t)(slash - r) : n;
	struct addr net;
	unsigned long bits = 32;
	unsigned off, max;

	if (!parse_addr(r, alen, &net))
		return HK_EINVAL;
	if (slash) {
		size_t dl = n - alen - 1;
		if (dl == 0 || dl > 3)
			return HK_EINVAL;
		bits = 0;
		for (size_t i = 0; i < dl; i++) {
			if (slash[1 + i] < '0' || slash[1 + i] > '9')
				return HK_EINVAL;
			bits = bits * 10 + (unsigned long)(slash[1 + i] - '0');
		}
	}
	/* an IPv4 range holds IPv4 addresses; an IPv6 range only IPv6 ones (Go) */
	max = net.v4 && memchr(r, ':', alen) == NULL ? 32 : 128;
	if (bits > max)
		return HK_EINVAL;
	if ((max == 32) != a->v4)
		return 0;
	off = max == 32 ? 12 : 0;
	for (unsigned i = 0; i < bits; i++) {
		unsigned byte = off + i / 8, mask = 0x80u >> (i % 8);
		if ((a->b[byte] & mask) != (net.b[byte] & mask))
			return 0;
	}
	return 1;
}

int rules_check_ip(const char *remote_addr, const char *ip_range)
{
	struct addr a;
	size_t n;
	const char *host = host_of(remote_addr, &n);
	const char *p = ip_range;

	if (!parse_addr(host, n, &a))
		return HK_EINVAL;
	while (*p) {
		size_t len;
		int rc;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
			p++;
		len = strcspn(p, " \t\n\r\v\f");
		if (len == 0)
			break;
		rc = in_cidr(&a, p, len);
		if (rc != 0)
			return rc;
		p += len;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Scalr                                                                */

/* parse_scalr_date reads "Thu 07 Sep 2017 06:30:04 UTC" as UTC seconds. */
static int parse_scalr_date(const char *s, int64_t *out)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%a %d %b %Y %H:%M:%S", &tm);
	if (!rest || *rest != ' ')
		return HK_EPARSE;
	rest++;
	if (!*rest)
		return HK_EPARSE;
	for (const char *p = rest; *p; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
		      *p == '-'))
			return HK_EPARSE;
	}
	*out = (int64_t)timegm(&tm);
	return 0;
}

int rules_check_scalr(const struct hookreq *req, const char *key, bool check_date,
		      int64_t now_ms)
{
	const char *sig = hookreq_header(req, "X-Signature");
	const char *date = hookreq_header(req, "Date");
	char mac[RULES_MAC_HEX_MAX];
	int64_t when, delta;
	int rc;

	if (!sig || !date)
		return 0;
	if (!key || !*key)
		return HK_EINVAL;
	rc = hmac_hex(EVP_sha1(), key, req->body, req->body_len, date, strlen(date), mac);
	if (rc < 0)
		return rc;
	if (!ct_equal(sig, strlen(sig), mac, strlen(mac)))
		return HK_EVERIFY;
	if (!check_date)
		return 1;
	rc = parse_scalr_date(date, &when);
	if (rc < 0)
		return rc;
	if (now_ms == 0)
		now_ms = clock_now_ms();
	delta = now_ms / 1000 - when;
	if (delta < 0)
		delta = -delta;
	return delta > 300 ? HK_EVERIFY : 1;
}
