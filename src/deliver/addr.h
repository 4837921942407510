/*
 * addr.h - the SSRF guard: is this resolved address one hookd may connect to?
 *
 * The dispatcher resolves an endpoint's host, then checks every address with
 * addr_policy_check() at connect time, so a name that re-resolves to a private
 * address (DNS rebinding) is still refused. Public addresses always pass;
 * others pass only when the operator allows private targets (--allow-private)
 * or lists them in the allow-list of CIDRs.
 *
 * Classification (first match wins):
 *   IPv4  0/8 unspecified, 10/8 172.16/12 192.168/16 private, 100.64/10 cgnat,
 *         127/8 loopback, 169.254/16 link-local, 192.0.0/24 192.88.99/24
 *         198.18/15 240/4 reserved, 192.0.2/24 198.51.100/24 203.0.113/24
 *         documentation, 224/4 multicast, 255.255.255.255 broadcast.
 *   IPv6  :: unspecified, ::1 loopback; ::ffff:0:0/96 (IPv4-mapped), ::/96
 *         (IPv4-compatible), 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) take
 *         the class of the IPv4 address they embed; 64:ff9b:1::/48, 100::/64
 *         and 2001::/23 reserved; 2001:db8::/32 and 3fff::/20 documentation;
 *         fc00::/7 and fec0::/10 private; fe80::/10 link-local; ff00::/8
 *         multicast; anything else outside 2000::/3 reserved.
 *
 * Invariants: the classifier and the policy are pure (no I/O, no
 * allocation); a policy is a plain value that can be copied and shared
 * read-only between threads once built.
 */
#ifndef HK_DELIVER_ADDR_H
#define HK_DELIVER_ADDR_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum addr_class {
	ADDR_PUBLIC,
	ADDR_UNSPECIFIED,
	ADDR_LOOPBACK,
	ADDR_PRIVATE,
	ADDR_LINKLOCAL,
	ADDR_CGNAT,
	ADDR_MULTICAST,
	ADDR_BROADCAST,
	ADDR_DOCUMENTATION,
	ADDR_RESERVED,
	ADDR_INVALID, /* NULL, or neither AF_INET nor AF_INET6 */
};

/* addr_classify reads an AF_INET or AF_INET6 sockaddr. */
enum addr_class addr_classify(const struct sockaddr *sa);

/* addr_class_name: "public", "loopback", "link-local", ... for logs. */
const char *addr_class_name(enum addr_class c);

#define ADDR_POLICY_MAX_CIDRS 64
#define ADDR_CIDR_MAX_LEN 64 /* longest CIDR string accepted */

struct addr_cidr {
	int family;      /* AF_INET or AF_INET6 */
	uint8_t net[16]; /* network address, host bits zero (4 bytes used for AF_INET) */
	int prefix;      /* 0..32 or 0..128 */
};

struct addr_policy {
	bool allow_private; /* every non-public class but unspecified, multicast, broadcast */
	int n;
	struct addr_cidr cidrs[ADDR_POLICY_MAX_CIDRS];
};

void addr_policy_init(struct addr_policy *p, bool allow_private);

/*
 * addr_policy_add_cidr adds "10.0.0.0/8", "::1/128", or a bare address
 * (a host). Blanks around it are ignored; host bits set past the prefix are
 * refused. Returns 0, HK_EINVAL (malformed, policy unchanged) or HK_ETOOBIG
 * (ADDR_POLICY_MAX_CIDRS already).
 */
int addr_policy_add_cidr(struct addr_policy *p, const char *cidr);

/*
 * addr_policy_check returns 0 if sa may be connected to, else HK_EDENIED.
 * Allowed: public addresses; addresses inside a listed CIDR (an IPv4-mapped
 * IPv6 address is also matched against IPv4 CIDRs); and with allow_private,
 * every class except unspecified, multicast, broadcast and invalid.
 */
int addr_policy_check(const struct addr_policy *p, const struct sockaddr *sa);

/*
 * addr_curl_guard sets what every request to a user's URL carries, from the
 * dispatcher and the poller alike: no signals, the request timeout (at most
 * 10 s of it to connect), no redirects, http and https only, and no proxy
 * taken from the environment. The connect-time check is the caller's
 * CURLOPT_OPENSOCKETFUNCTION, which calls addr_policy_check().
 */
void addr_curl_guard(CURL *e, long timeout_ms);

#endif
