/*
 * addr.c - address classes and the connect-time allow-list.
 *
 * Both families are classified from prefix tables so a range is one line to
 * audit. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64,
 * 6to4) are classified by that IPv4 address: ::ffff:127.0.0.1 is loopback
 * and 2002:c0a8:0101:: reaches 192.168.1.1, so both are refused like the
 * IPv4 address itself.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>

#include "core/err.h"
#include "deliver/addr.h"

#define NO_EMBED (-1)

struct range {
	uint8_t net[16];
	int prefix;
	enum addr_class cls;
	int embed; /* byte offset of an embedded IPv4 address, or NO_EMBED */
};

static const struct range v4_ranges[] = {
    {{255, 255, 255, 255}, 32, ADDR_BROADCAST, NO_EMBED},
    {{0}, 8, ADDR_UNSPECIFIED, NO_EMBED},
    {{10}, 8, ADDR_PRIVATE, NO_EMBED},
    {{100, 64}, 10, ADDR_CGNAT, NO_EMBED},
    {{127}, 8, ADDR_LOOPBACK, NO_EMBED},
    {{169, 254}, 16, ADDR_LINKLOCAL, NO_EMBED},
    {{172, 16}, 12, ADDR_PRIVATE, NO_EMBED},
    {{192, 0, 0}, 24, ADDR_RESERVED, NO_EMBED},
    {{192, 0, 2}, 24, ADDR_DOCUMENTATION, NO_EMBED},
    {{192, 88, 99}, 24, ADDR_RESERVED, NO_EMBED},
    {{192, 168}, 16, ADDR_PRIVATE, NO_EMBED},
    {{198, 18}, 15, ADDR_RESERVED, NO_EMBED},
    {{198, 51, 100}, 24, ADDR_DOCUMENTATION, NO_EMBED},
    {{203, 0, 113}, 24, ADDR_DOCUMENTATION, NO_EMBED},
    {{224}, 4, ADDR_MULTICAST, NO_EMBED},
    {{240}, 4, ADDR_RESERVED, NO_EMBED},
};

static const struct range v6_ranges[] = {
    {{0}, 128, ADDR_UNSPECIFIED, NO_EMBED},
    {{[15] = 1}, 128, ADDR_LOOPBACK, NO_EMBED},
    {{[10] = 0xff, [11] = 0xff}, 96, ADDR_PUBLIC, 12},
    {{0}, 96, ADDR_PUBLIC, 12},
    {{0x00, 0x64, 0xff, 0x9b}, 96, ADDR_PUBLIC, 12},
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, ADDR_RESERVED, NO_EMBED},
    {{0x01, 0x00}, 64, ADDR_RESERVED, NO_EMBED},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, ADDR_DOCUMENTATION, NO_EMBED},
    {{0x20, 0x01}, 23, ADDR_RESERVED, NO_EMBED},
    {{0x20, 0x02}, 16, ADDR_PUBLIC, 2},
    {{0x3f, 0xff}, 20, ADDR_DOCUMENTATION, NO_EMBED},
    {{0xfc}, 7, ADDR_PRIVATE, NO_EMBED},
    {{0xfe, 0x80}, 10, ADDR_LINKLOCAL, NO_EMBED},
    {{0xfe, 0xc0}, 10, ADDR_PRIVATE, NO_EMBED},
    {{0xff}, 8, ADDR_MULTICAST, NO_EMBED},
    {{0x20}, 3, ADDR_PUBLIC, NO_EMBED},
    {{0}, 0, ADDR_RESERVED, NO_EMBED}, /* outside 2000::/3 */
};

/* prefix_match compares the first `prefix` bits of a and b. */
static bool prefix_match(const uint8_t *a, const uint8_t *b, int prefix)
{
	int whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

static enum addr_class classify_v4(const uint8_t a[4])
{
	for (size_t i = 0; i < sizeof v4_ranges / sizeof v4_ranges[0]; i++)
		if (prefix_match(a, v4_ranges[i].net, v4_ranges[i].prefix))
			return v4_ranges[i].cls;
	return ADDR_PUBLIC;
}

static enum addr_class classify_v6(const uint8_t a[16])
{
	for (size_t i = 0; i < sizeof v6_ranges / sizeof v6_ranges[0]; i++) {
		const struct range *r = &v6_ranges[i];
		if (!prefix_match(a, r->net, r->prefix))
			continue;
		return r->embed == NO_EMBED ? r->cls : classify_v4(a + r->embed);
	}
	return ADDR_RESERVED;
}

enum addr_class addr_classify(const struct sockaddr *sa)
{
	if (!sa)
		return ADDR_INVALID;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return classify_v4((const uint8_t *)&in->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		return classify_v6(in6->sin6_addr.s6_addr);
	}
	return ADDR_INVALID;
}

const char *addr_class_name(enum addr_class c)
{
	static const char *const names[] = {
	    [ADDR_PUBLIC] = "public",
	    [ADDR_UNSPECIFIED] = "unspecified",
	    [ADDR_LOOPBACK] = "loopback",
	    [ADDR_PRIVATE] = "private",
	    [ADDR_LINKLOCAL] = "link-local",
	    [ADDR_CGNAT] = "shared (cgnat)",
	    [ADDR_MULTICAST] = "multicast",
	    [ADDR_BROADCAST] = "broadcast",
	    [ADDR_DOCUMENTATION] = "documentation",
	    [ADDR_RESERVED] = "reserved",
	    [ADDR_INVALID] = "invalid",
	};
	if ((unsigned)c >= sizeof names / sizeof names[0])
		return "invalid";
	return names[c];
}

/* ---- allow-list ---- */

void addr_policy_init(struct addr_policy *p, bool allow_private)
{
	memset(p, 0, sizeof *p);
	p->allow_private = allow_private;
}

/* parse_prefix reads 0..max written without sign or leading zeros. */
static int parse_prefix(const char *s, int max, int *out)
{
	int v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return HK_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return HK_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return HK_EINVAL;
	*out = v;
	return 0;
}

/* host_bits_zero reports whether every bit of net past prefix is zero. */
static bool host_bits_zero(const uint8_t *net, int len, int prefix)
{
	for (int bit = prefix; bit < len * 8; bit++)
		if (net[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

int addr_policy_add_cidr(struct addr_policy *p, const char *cidr)
{
	char s[ADDR_CIDR_MAX_LEN + 1];
	struct addr_cidr c = {0};
	size_t n;
	char *slash;
	int max;

	if (!cidr || strnlen(cidr, ADDR_CIDR_MAX_LEN + 1) > ADDR_CIDR_MAX_LEN)
		return HK_EINVAL;
	while (*cidr == ' ' || *cidr == '\t')
		cidr++;
	n = strlen(cidr);
	while (n > 0 && (cidr[n - 1] == ' ' || cidr[n - 1] == '\t'))
		n--;
	memcpy(s, cidr, n);
	s[n] = '\0';
	slash = strchr(s, '/');
	if (slash)
		*slash = '\0';
	c.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	max = c.family == AF_INET6 ? 128 : 32;
	if (inet_pton(c.family, s, c.net) != 1)
		return HK_EINVAL;
	c.prefix = max;
	if (slash && parse_prefix(slash + 1, max, &c.prefix) < 0)
		return HK_EINVAL;
	if (!host_bits_zero(c.net, max / 8, c.prefix))
		return HK_EINVAL;
	if (p->n >= ADDR_POLICY_MAX_CIDRS)
		return HK_ETOOBIG;
	p->cidrs[p->n++] = c;
	return 0;
}

static bool listed(const struct addr_policy *p, int family, const uint8_t *a)
{
	for (int i = 0; i < p->n; i++)
		if (p->cidrs[i].family == family &&
		    prefix_match(a, p->cidrs[i].net, p->cidrs[i].prefix))
			return true;
	return false;
}

static bool in_allow_list(const struct addr_policy *p, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	const uint8_t *a;

	if (sa->sa_family == AF_INET)
		return listed(p, AF_INET,
		              (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (listed(p, AF_INET6, a))
		return true;
	return memcmp(a, mapped, sizeof mapped) == 0 && listed(p, AF_INET, a + 12);
}

int addr_policy_check(const struct addr_policy *p, const struct sockaddr *sa)
{
	enum addr_class c = addr_classify(sa);

	if (c == ADDR_INVALID)
		return HK_EDENIED;
	if (c == ADDR_PUBLIC || in_allow_list(p, sa))
		return 0;
	if (p->allow_private && c != ADDR_UNSPECIFIED && c != ADDR_MULTICAST && c != ADDR_BROADCAST)
		return 0;
	return HK_EDENIED;
}

void addr_curl_guard(CURL *e, long timeout_ms)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_PROXY, "");
}
