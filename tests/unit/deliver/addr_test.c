/*
 * addr_test.c - address classes for both families and the CIDR allow-list.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "deliver/addr.h"

/* sockaddr_of fills ss from a textual IPv4 or IPv6 address. */
static const struct sockaddr *sockaddr_of(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(text, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

static const struct {
	const char *addr;
	enum addr_class cls;
} cases[] = {
    /* IPv4 */
    {"0.0.0.0", ADDR_UNSPECIFIED},
    {"0.1.2.3", ADDR_UNSPECIFIED},
    {"1.1.1.1", ADDR_PUBLIC},
    {"8.8.8.8", ADDR_PUBLIC},
    {"9.255.255.255", ADDR_PUBLIC},
    {"10.0.0.1", ADDR_PRIVATE},
    {"10.255.255.255", ADDR_PRIVATE},
    {"11.0.0.0", ADDR_PUBLIC},
    {"100.63.255.255", ADDR_PUBLIC},
    {"100.64.0.0", ADDR_CGNAT},
    {"100.127.255.255", ADDR_CGNAT},
    {"100.128.0.0", ADDR_PUBLIC},
    {"126.255.255.255", ADDR_PUBLIC},
    {"127.0.0.1", ADDR_LOOPBACK},
    {"127.255.255.254", ADDR_LOOPBACK},
    {"169.254.169.254", ADDR_LINKLOCAL},
    {"169.253.0.1", ADDR_PUBLIC},
    {"172.15.255.255", ADDR_PUBLIC},
    {"172.16.0.0", ADDR_PRIVATE},
    {"172.31.255.255", ADDR_PRIVATE},
    {"172.32.0.0", ADDR_PUBLIC},
    {"192.0.0.8", ADDR_RESERVED},
    {"192.0.1.1", ADDR_PUBLIC},
    {"192.0.2.10", ADDR_DOCUMENTATION},
    {"192.88.99.1", ADDR_RESERVED},
    {"192.167.255.255", ADDR_PUBLIC},
    {"192.168.0.1", ADDR_PRIVATE},
    {"192.168.255.255", ADDR_PRIVATE},
    {"192.169.0.0", ADDR_PUBLIC},
    {"198.17.255.255", ADDR_PUBLIC},
    {"198.18.0.1", ADDR_RESERVED},
    {"198.19.255.255", ADDR_RESERVED},
    {"198.20.0.0", ADDR_PUBLIC},
    {"198.51.100.7", ADDR_DOCUMENTATION},
    {"203.0.113.200", ADDR_DOCUMENTATION},
    {"203.0.114.1", ADDR_PUBLIC},
    {"223.255.255.255", ADDR_PUBLIC},
    {"224.0.0.1", ADDR_MULTICAST},
    {"239.255.255.250", ADDR_MULTICAST},
    {"240.0.0.1", ADDR_RESERVED},
    {"255.255.255.254", ADDR_RESERVED},
    {"255.255.255.255", ADDR_BROADCAST},
    /* IPv6 */
    {"::", ADDR_UNSPECIFIED},
    {"::1", ADDR_LOOPBACK},
    {"::2", ADDR_UNSPECIFIED}, /* IPv4-compatible 0.0.0.2 */
    {"::ffff:127.0.0.1", ADDR_LOOPBACK},
    {"::ffff:10.1.2.3", ADDR_PRIVATE},
    {"::ffff:169.254.169.254", ADDR_LINKLOCAL},
    {"::ffff:8.8.8.8", ADDR_PUBLIC},
    {"::ffff:0.0.0.0", ADDR_UNSPECIFIED},
    {"::127.0.0.1", ADDR_LOOPBACK},
    {"::8.8.4.4", ADDR_PUBLIC},
    {"::ffff:0:1.2.3.4", ADDR_RESERVED},
    {"64:ff9b::7f00:1", ADDR_LOOPBACK},
    {"64:ff9b::192.168.1.1", ADDR_PRIVATE},
    {"64:ff9b::1.1.1.1", ADDR_PUBLIC},
    {"64:ff9b:1::1", ADDR_RESERVED},
    {"100::1", ADDR_RESERVED},
    {"100:0:0:1::1", ADDR_RESERVED},
    {"2001::1", ADDR_RESERVED},
    {"2001:1ff:ffff::1", ADDR_RESERVED},
    {"2001:200::1", ADDR_PUBLIC},
    {"2001:4860:4860::8888", ADDR_PUBLIC},
    {"2001:db8::1", ADDR_DOCUMENTATION},
    {"2001:db8:ffff::1", ADDR_DOCUMENTATION},
    {"2002:c0a8:0101::1", ADDR_PRIVATE},
    {"2002:7f00:0001::", ADDR_LOOPBACK},
    {"2002:0808:0808::1", ADDR_PUBLIC},
    {"2606:4700:4700::1111", ADDR_PUBLIC},
    {"3fff::1", ADDR_DOCUMENTATION},
    {"3fff:1000::1", ADDR_PUBLIC},
    {"fc00::1", ADDR_PRIVATE},
    {"fd12:3456:789a::1", ADDR_PRIVATE},
    {"fe80::1", ADDR_LINKLOCAL},
    {"febf:ffff::1", ADDR_LINKLOCAL},
    {"fec0::1", ADDR_PRIVATE},
    {"ff02::1", ADDR_MULTICAST},
    {"ff05::1:3", ADDR_MULTICAST},
    {"4000::1", ADDR_RESERVED},
    {"1::1", ADDR_RESERVED},
    {"e000::1", ADDR_RESERVED},
};

static void test_classify_table(void **state)
{
	struct sockaddr_storage ss;

	assert_true(sizeof cases / sizeof cases[0] >= 60);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum addr_class got = addr_classify(sockaddr_of(cases[i].addr, &ss));
		if (got != cases[i].cls)
			fail_msg("'%s' is %s, expected %s", cases[i].addr, addr_class_name(got),
			         addr_class_name(cases[i].cls));
	}
}

static void test_classify_invalid(void **state)
{
	struct sockaddr_storage ss = {0};

	assert_int_equal(addr_classify(NULL), ADDR_INVALID);
	ss.ss_family = AF_UNIX;
	assert_int_equal(addr_classify((struct sockaddr *)&ss), ADDR_INVALID);
	assert_string_equal(addr_class_name(ADDR_LINKLOCAL), "link-local");
	assert_string_equal(addr_class_name((enum addr_class)99), "invalid");
}

static void test_policy_default_denies(void **state)
{
	struct addr_policy p;
	struct sockaddr_storage ss;

	addr_policy_init(&p, false);
	assert_int_equal(addr_policy_check(&p, sockaddr_of("93.184.216.34", &ss)), 0);
	assert_int_equal(addr_policy_check(&p, sockaddr_of("2606:4700::1", &ss)), 0);
	static const char *denied[] = {
	    "127.0.0.1",         "10.0.0.1", "169.254.169.254", "::1",        "::ffff:127.0.0.1",
	    "2002:c0a8:0101::1", "fd00::1",  "0.0.0.0",         "100.64.1.1", "192.0.2.1"};
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
		assert_int_equal(addr_policy_check(&p, sockaddr_of(denied[i], &ss)), HK_EDENIED);
	assert_int_equal(addr_policy_check(&p, NULL), HK_EDENIED);
}

static void test_policy_allow_private(void **state)
{
	struct addr_policy p;
	struct sockaddr_storage ss;

	addr_policy_init(&p, true);
	static const char *allowed[] = {"127.0.0.1",  "10.0.0.1",           "::1",    "fe80::1",
	                                "100.64.0.1", "::ffff:192.168.1.1", "8.8.8.8"};
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		assert_int_equal(addr_policy_check(&p, sockaddr_of(allowed[i], &ss)), 0);
	static const char *denied[] = {"0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255"};
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
		assert_int_equal(addr_policy_check(&p, sockaddr_of(denied[i], &ss)), HK_EDENIED);
}

static void test_policy_cidrs(void **state)
{
	struct addr_policy p;
	struct sockaddr_storage ss;

	addr_policy_init(&p, false);
	assert_int_equal(addr_policy_add_cidr(&p, "127.0.0.1/32"), 0);
	assert_int_equal(addr_policy_add_cidr(&p, " 10.20.0.0/16 "), 0);
	assert_int_equal(addr_policy_add_cidr(&p, "172.16.0.0/12"), 0);
	assert_int_equal(addr_policy_add_cidr(&p, "fd00:1234::/32"), 0);
	assert_int_equal(addr_policy_add_cidr(&p, "::1"), 0);
	assert_int_equal(addr_policy_add_cidr(&p, "192.168.7.9"), 0);
	assert_int_equal(p.n, 6);

	static const char *hits[] = {"127.0.0.1",        "10.20.0.1",        "10.20.255.255",
	                             "172.31.1.1",       "fd00:1234:5::1",   "::1",
	                             "::ffff:127.0.0.1", "::ffff:10.20.3.4", "192.168.7.9"};
	for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++)
		assert_int_equal(addr_policy_check(&p, sockaddr_of(hits[i], &ss)), 0);
	static const char *misses[] = {
	    "127.0.0.2", "10.21.0.1",   "10.19.255.255",    "10.0.0.1",           "fd00:1235::1",
	    "::2",       "192.168.7.8", "2002:7f00:0001::", "64:ff9b::127.0.0.1", "192.168.0.1"};
	for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++)
		if (addr_policy_check(&p, sockaddr_of(misses[i], &ss)) != HK_EDENIED)
			fail_msg("allowed '%s'", misses[i]);

	/* a listed multicast or broadcast address is the operator's explicit choice */
	assert_int_equal(addr_policy_add_cidr(&p, "0.0.0.0/0"), 0);
	assert_int_equal(addr_policy_check(&p, sockaddr_of("224.0.0.1", &ss)), 0);
	assert_int_equal(addr_policy_check(&p, sockaddr_of("fe80::1", &ss)), HK_EDENIED);
}

static void test_cidr_junk(void **state)
{
	static const char *junk[] = {
	    "",
	    " ",
	    "/",
	    "10.0.0.0/",
	    "/8",
	    "10.0.0.0/33",
	    "10.0.0.0/-1",
	    "10.0.0.0/+8",
	    "10.0.0.0/08",
	    "10.0.0.0/8/8",
	    "10.0.0.1/8",
	    "10.0.0",
	    "10.0.0.0.0",
	    "256.0.0.0/8",
	    "010.0.0.0/8",
	    "0x0a.0.0.0/8",
	    "::1/129",
	    "fe80::1%eth0",
	    "::/1000",
	    "1::2::3",
	    "fd00::1/8",
	    "example.com",
	    "10.0.0.0/8 x",
	    "10.0.0.0 /8",
	    "10.0.0.0/ 8",
	    "::ffff:1.2.3.4/129",
	    "1111:2222:3333:4444:5555:6666:7777:8888/128 and a very long tail of text",
	};
	struct addr_policy p;

	addr_policy_init(&p, false);
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		if (addr_policy_add_cidr(&p, junk[i]) != HK_EINVAL)
			fail_msg("accepted '%s'", junk[i]);
	assert_int_equal(addr_policy_add_cidr(&p, NULL), HK_EINVAL);
	assert_int_equal(p.n, 0);
}

static void test_cidr_limit(void **state)
{
	struct addr_policy p;

	addr_policy_init(&p, false);
	for (int i = 0; i < ADDR_POLICY_MAX_CIDRS; i++)
		assert_int_equal(addr_policy_add_cidr(&p, "10.0.0.0/8"), 0);
	assert_int_equal(addr_policy_add_cidr(&p, "10.0.0.0/8"), HK_ETOOBIG);
	assert_int_equal(p.n, ADDR_POLICY_MAX_CIDRS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify_table),
	    cmocka_unit_test(test_classify_invalid),
	    cmocka_unit_test(test_policy_default_denies),
	    cmocka_unit_test(test_policy_allow_private),
	    cmocka_unit_test(test_policy_cidrs),
	    cmocka_unit_test(test_cidr_junk),
	    cmocka_unit_test(test_cidr_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
