/*
 * rules_test.c - trigger rules: signature, IP and Scalr checks, match
 * types, and/or/not semantics. The tables re-express adnanh/webhook's
 * hook_test.go cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "hooks/rules.h"

#define A_Z "{\"a\": \"z\"}"

static void test_hmac(void **state)
{
	static const struct {
		enum rule_match type;
		const char *payload, *secret, *sig, *mac;
		int rc;
	} cases[] = {
		{RULE_MATCH_HMAC_SHA1, A_Z, "secret", "b17e04cbb22afa8ffbff8796fc1894ed27badd9e",
		 "b17e04cbb22afa8ffbff8796fc1894ed27badd9e", 0},
		{RULE_MATCH_HMAC_SHA1, A_Z, "secret", "sha1=b17e04cbb22afa8ffbff8796fc1894ed27badd9e",
		 "b17e04cbb22afa8ffbff8796fc1894ed27badd9e", 0},
		{RULE_MATCH_HMAC_SHA1, A_Z, "secret",
		 "sha1=XXXe04cbb22afa8ffbff8796fc1894ed27badd9e,sha1=b17e04cbb22afa8ffbff8796fc1894ed27badd9e",
		 "b17e04cbb22afa8ffbff8796fc1894ed27badd9e", 0},
		{RULE_MATCH_HMAC_SHA1, "", "secret", "25af6174a0fcecc4d346680a72b7ce644b9a88e8",
		 "25af6174a0fcecc4d346680a72b7ce644b9a88e8", 0},
		{RULE_MATCH_HMAC_SHA1, A_Z, "secret", "XXXe04cbb22afa8ffbff8796fc1894ed27badd9e",
		 "b17e04cbb22afa8ffbff8796fc1894ed27badd9e", HK_EVERIFY},
		{RULE_MATCH_HMAC_SHA1, A_Z, "secret", "sha1=XXXe04cbb22afa8ffbff8796fc1894ed27badd9e",
		 "b17e04cbb22afa8ffbff8796fc1894ed27badd9e", HK_EVERIFY},
		{RULE_MATCH_HMAC_SHA1, A_Z, "secret",
		 "sha1=XXXe04cbb22afa8ffbff8796fc1894ed27badd9e,sha1=XXXe04cbb22afa8ffbff8796fc1894ed27badd9e",
		 "b17e04cbb22afa8ffbff8796fc1894ed27badd9e", HK_EVERIFY},
		/* in a list, entries without the prefix are not tried */
		{RULE_MATCH_HMAC_SHA1, A_Z, "secret",
		 "XXX,b17e04cbb22afa8ffbff8796fc1894ed27badd9e",
		 "b17e04cbb22afa8ffbff8796fc1894ed27badd9e", HK_EVERIFY},
		{RULE_MATCH_HMAC_SHA1, A_Z, "secreX", "b17e04cbb22afa8ffbff8796fc1894ed27badd9e",
		 "900225703e9342328db7307692736e2f7cc7b36e", HK_EVERIFY},
		{RULE_MATCH_HMAC_SHA1, A_Z, "", "b17e04cbb22afa8ffbff8796fc1894ed27badd9e", "",
		 HK_EINVAL},
		{RULE_MATCH_HMAC_SHA1, "", "secret", "XXXf6174a0fcecc4d346680a72b7ce644b9a88e8",
		 "25af6174a0fcecc4d346680a72b7ce644b9a88e8", HK_EVERIFY},
		{RULE_MATCH_HMAC_SHA256, A_Z, "secret",
		 "f417af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89",
		 "f417af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89", 0},
		{RULE_MATCH_HMAC_SHA256, A_Z, "secret",
		 "sha256=f417af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89",
		 "f417af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89", 0},
		{RULE_MATCH_HMAC_SHA256, A_Z, "secret",
		 "sha256=XXX7af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89,"
		 "sha256=f417af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89",
		 "f417af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89", 0},
		{RULE_MATCH_HMAC_SHA256, "", "secret",
		 "f9e66e179b6747ae54108f82f8ade8b3c25d76fd30afde6c395822c530196169",
		 "f9e66e179b6747ae54108f82f8ade8b3c25d76fd30afde6c395822c530196169", 0},
		{RULE_MATCH_HMAC_SHA256, A_Z, "secret",
		 "sha256=XXX7af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89",
		 "f417af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89", HK_EVERIFY},
		{RULE_MATCH_HMAC_SHA256, A_Z, "",
		 "XXX7af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89", "", HK_EINVAL},
		{RULE_MATCH_HMAC_SHA512, A_Z, "secret",
		 "4ab17cc8ec668ead8bf498f87f8f32848c04d5ca3c9bcfcd3db9363f0deb44e580b329502a7fdff633d4d8"
		 "fca301cc5c94a55a2fec458c675fb0ff2655898324",
		 "4ab17cc8ec668ead8bf498f87f8f32848c04d5ca3c9bcfcd3db9363f0deb44e580b329502a7fdff633d4d8"
		 "fca301cc5c94a55a2fec458c675fb0ff2655898324",
		 0},
		{RULE_MATCH_HMAC_SHA512, A_Z, "secret",
		 "sha512=4ab17cc8ec668ead8bf498f87f8f32848c04d5ca3c9bcfcd3db9363f0deb44e580b329502a7fdff"
		 "633d4d8fca301cc5c94a55a2fec458c675fb0ff2655898324",
		 "4ab17cc8ec668ead8bf498f87f8f32848c04d5ca3c9bcfcd3db9363f0deb44e580b329502a7fdff633d4d8"
		 "fca301cc5c94a55a2fec458c675fb0ff2655898324",
		 0},
		{RULE_MATCH_HMAC_SHA512, "", "secret",
		 "b0e9650c5faf9cd8ae02276671545424104589b3656731ec193b25d01b07561c27637c2d4d68389d6cf50"
		 "07a8632c26ec89ba80a01c77a6cdd389ec28db43901",
		 "b0e9650c5faf9cd8ae02276671545424104589b3656731ec193b25d01b07561c27637c2d4d68389d6cf50"
		 "07a8632c26ec89ba80a01c77a6cdd389ec28db43901",
		 0},
		{RULE_MATCH_HMAC_SHA512, A_Z, "secret",
		 "74a0081f5b5988f4f3e8b8dd34dadc6291611f2e6260635a7e1535f8e95edb97ff520ba8b152e8ca5760ac"
		 "42639854f3242e29efc81be73a8bf52d474d31ffea",
		 "4ab17cc8ec668ead8bf498f87f8f32848c04d5ca3c9bcfcd3db9363f0deb44e580b329502a7fdff633d4d8"
		 "fca301cc5c94a55a2fec458c675fb0ff2655898324",
		 HK_EVERIFY},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char mac[RULES_MAC_HEX_MAX];
		int rc = rules_check_hmac(cases[i].type, cases[i].payload, strlen(cases[i].payload),
					  cases[i].secret, cases[i].sig, mac);
		assert_int_equal(rc, cases[i].rc);
		assert_string_equal(mac, cases[i].mac);
	}
}

static struct hookreq *req_headers(const char *remote, const char *body, ...)
{
	struct hookreq *r = hookreq_new("POST", remote);
	const char *name;
	va_list ap;

	assert_non_null(r);
	assert_int_equal(hookreq_set_body(r, body, strlen(body)), 0);
	va_start(ap, body);
	while ((name = va_arg(ap, const char *)) != NULL)
		assert_int_equal(hookreq_add_header(r, name, va_arg(ap, const char *)), 0);
	va_end(ap);
	return r;
}

#define SCALR_KEY "bilFGi4ZVZUdG+C6r0NIM9tuRq6PaG33R3eBUVhLwMAErGBaazvXe4Gq2DcJs5q+"
#define SCALR_DATE "Thu 07 Sep 2017 06:30:04 UTC"
#define SCALR_SIG "48e395e38ac48988929167df531eb2da00063a7d"
#define SCALR_NOW 1504765804000LL /* the Date above, in ms */

static void test_scalr(void **state)
{
	struct hookreq *r;
	(void)state;

	r = req_headers("", "{\"a\": \"b\"}", "Date", SCALR_DATE, "X-Signature", SCALR_SIG, NULL);
	assert_int_equal(rules_check_scalr(r, SCALR_KEY, false, 0), 1);
	assert_int_equal(rules_check_scalr(r, SCALR_KEY, true, SCALR_NOW + 299000), 1);
	assert_int_equal(rules_check_scalr(r, SCALR_KEY, true, SCALR_NOW - 299000), 1);
	assert_int_equal(rules_check_scalr(r, SCALR_KEY, true, SCALR_NOW + 301000), HK_EVERIFY);
	assert_int_equal(rules_check_scalr(r, "", false, 0), HK_EINVAL); /* missing key */
	hookreq_free(r);

	r = req_headers("", "{\"a\": \"b\"}", "Date", SCALR_DATE, "X-Signature",
			"999395e38ac48988929167df531eb2da00063a7d", NULL);
	assert_int_equal(rules_check_scalr(r, SCALR_KEY, false, 0), HK_EVERIFY);
	hookreq_free(r);
	r = req_headers("", "{\"a\": \"b\"}", "X-Signature", SCALR_SIG, NULL);
	assert_int_equal(rules_check_scalr(r, SCALR_KEY, false, 0), 0); /* no Date */
	hookreq_free(r);
	r = req_headers("", "{\"a\": \"b\"}", "Date", SCALR_DATE, NULL);
	assert_int_equal(rules_check_scalr(r, SCALR_KEY, false, 0), 0); /* no X-Signature */
	hookreq_free(r);
}

static void test_ip_whitelist(void **state)
{
	static const struct {
		const char *addr, *range;
		int rc;
	} cases[] = {
		{"[ 10.0.0.1:1234 ] ", "  10.0.0.1 ", 1},
		{"[ 10.0.0.1:1234 ] ", "  10.0.0.0 ", 0},
		{"[ 10.0.0.1:1234 ] ", "  10.0.0.1 10.0.0.1 ", 1},
		{"[ 10.0.0.1:1234 ] ", "  10.0.0.0/31 ", 1},
		{" [2001:db8:1:2::1:1234] ", "  2001:db8:1::/48 ", 1},
		{" [2001:db8:1:2::1:1234] ", "  2001:db8:1::/48 2001:db8:1::/64", 1},
		{" [2001:db8:1:2::1:1234] ", "  2001:db8:1::/64 ", 0},
		{"192.168.0.2:9000", "192.168.0.1/24", 1},
		{"192.168.0.1:9000", "192.168.0.1", 1},
		{"[::1]:9000", "::1/24", 1},
		{"[::1]:9000", "::1", 1},
		{"[::ffff:10.1.2.3]:9000", "10.0.0.0/8", 1},
		{"10.1.2.3:9000", "::ffff:10.0.0.0/104", 0},
		{"192.168.0.2:9000", "192.168.0.1/a", HK_EINVAL},
		{"192.168.0.2:9000", "192.168.0.a", HK_EINVAL},
		{"192.168.0.a:9000", "192.168.0.1/24", HK_EINVAL},
		{"192.168.0.2:9000", "192.168.0.1/33", HK_EINVAL},
		{"[::1]:9000", "::1/a", HK_EINVAL},
		{"[::1]:9000", "::z", HK_EINVAL},
		{"[::z]:9000", "::1/24", HK_EINVAL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(rules_check_ip(cases[i].addr, cases[i].range), cases[i].rc);
}

static struct rule *rule_of(const char *json)
{
	json_error_t e;
	json_t *j = json_loads(json, 0, &e);
	struct rule *r = NULL;
	char err[256];

	assert_non_null(j);
	if (rules_parse(j, &r, err, sizeof(err)) < 0)
		fail_msg("rules_parse '%s': %s", json, err);
	json_decref(j);
	return r;
}

static enum rules_result eval_json(const char *json, const struct hookreq *req, bool soft)
{
	struct rule *r = rule_of(json);
	char reason[256];
	enum rules_result res = rules_eval(r, req, soft, reason, sizeof(reason));
	rules_free(r);
	return res;
}

#define MATCH(type, extra, src, name) \
	"{\"match\":{\"type\":\"" type "\"," extra "\"parameter\":{\"source\":\"" src \
	"\",\"name\":\"" name "\"}}}"
#define V(val, name) MATCH("value", "\"value\":\"" val "\",", "header", name)

static void test_match_rule(void **state)
{
	struct hookreq *z = req_headers("", "", "A", "z", NULL);
	struct hookreq *sig1 = req_headers("", A_Z, "A", "b17e04cbb22afa8ffbff8796fc1894ed27badd9e",
					   NULL);
	struct hookreq *sig256 = req_headers(
		"", A_Z, "A", "f417af3a21bd70379b5796d5f013915e7029f62c580fb0f500f59a35a6f04c89", NULL);
	struct hookreq *empty = req_headers("", "", "A", "", NULL);
	struct hookreq *y = req_headers("", "", "Y", "z", NULL);
	struct hookreq *ip = req_headers("192.168.0.2:9000", "", NULL);
	struct hookreq *ip6 = req_headers("[::1]:9000", "", NULL);
	struct hookreq *badip = req_headers("192.168.0.a:9000", "", NULL);
	(void)state;

	assert_int_equal(eval_json(V("z", "a"), z, false), RULES_MATCH);
	assert_int_equal(eval_json(MATCH("regex", "\"regex\":\"^z\",", "header", "a"), z, false),
			 RULES_MATCH);
	assert_int_equal(eval_json(MATCH("payload-hmac-sha1", "\"secret\":\"secret\",", "header", "a"),
				   sig1, false),
			 RULES_MATCH);
	assert_int_equal(eval_json(MATCH("payload-hash-sha1", "\"secret\":\"secret\",", "header", "a"),
				   sig1, false),
			 RULES_MATCH);
	assert_int_equal(eval_json(MATCH("payload-hmac-sha256", "\"secret\":\"secret\",", "header",
					 "a"),
				   sig256, false),
			 RULES_MATCH);
	assert_int_equal(eval_json(MATCH("payload-hash-sha256", "\"secret\":\"secret\",", "header",
					 "a"),
				   sig256, false),
			 RULES_MATCH);
	/* failures */
	assert_int_equal(eval_json(V("X", "a"), z, false), RULES_NOMATCH);
	assert_int_equal(eval_json(MATCH("regex", "\"regex\":\"^X\",", "header", "a"), z, false),
			 RULES_NOMATCH);
	/* an invalid header reference is "parameter node not found": no match */
	assert_int_equal(eval_json(V("X", "a"), y, false), RULES_NOMATCH);
	/* errors: invalid HMACs */
	static const char *hmacs[] = {"payload-hmac-sha1", "payload-hash-sha1", "payload-hmac-sha256",
				      "payload-hash-sha256", "payload-hmac-sha512",
				      "payload-hash-sha512"};
	for (size_t i = 0; i < 6; i++) {
		char json[256];
		snprintf(json, sizeof(json),
			 "{\"match\":{\"type\":\"%s\",\"secret\":\"secret\",\"parameter\":"
			 "{\"source\":\"header\",\"name\":\"a\"}}}",
			 hmacs[i]);
		assert_int_equal(eval_json(json, empty, false), RULES_ERROR);
	}
	/* IP allow-lists */
	assert_int_equal(eval_json("{\"match\":{\"type\":\"ip-whitelist\",\"ip-range\":\"192.168.0.1/24\"}}",
				   ip, false),
			 RULES_MATCH);
	assert_int_equal(eval_json("{\"match\":{\"type\":\"ip-whitelist\",\"ip-range\":\"::1\"}}", ip6,
				   false),
			 RULES_MATCH);
	assert_int_equal(eval_json("{\"match\":{\"type\":\"ip-whitelist\",\"ip-range\":\"10.0.0.0/8\"}}",
				   ip, false),
			 RULES_NOMATCH);
	assert_int_equal(eval_json("{\"match\":{\"type\":\"ip-whitelist\",\"ip-range\":\"192.168.0.1/24\"}}",
				   badip, false),
			 RULES_ERROR);
	hookreq_free(z);
	hookreq_free(sig1);
	hookreq_free(sig256);
	hookreq_free(empty);
	hookreq_free(y);
	hookreq_free(ip);
	hookreq_free(ip6);
	hookreq_free(badip);
}

static void test_and_or_not(void **state)
{
	struct hookreq *r1 = req_headers("", "", "A", "z", "B", "y", NULL);
	struct hookreq *r2 = req_headers("", "", "A", "z", "B", "Y", NULL);
	struct hookreq *r3 = req_headers("", "", "A", "z", "B", "y", "C", "x", "D", "w", "E", "X",
					 "F", "X", NULL);
	struct hookreq *ry = req_headers("", "", "Y", "z", NULL);
	struct hookreq *rx = req_headers("", "", "A", "X", "B", "y", NULL);
	struct hookreq *rzz = req_headers("", "", "A", "Z", "B", "Y", NULL);
	(void)state;

	assert_int_equal(eval_json("{\"and\":[" V("z", "a") "," V("y", "b") "]}", r1, false),
			 RULES_MATCH);
	assert_int_equal(eval_json("{\"and\":[" V("z", "a") "," V("y", "b") "]}", r2, false),
			 RULES_NOMATCH);
	assert_int_equal(eval_json("{\"and\":[" V("z", "a") ",{\"and\":[" V("y", "b") "," V("x", "c")
				   "]},{\"or\":[" V("w", "d") "," V("v", "e") "]},{\"not\":" V(
					   "u", "f") "}]}",
				   r3, false),
			 RULES_MATCH);
	assert_int_equal(eval_json("{\"and\":[{}]}", r1, false), RULES_NOMATCH);
	assert_int_equal(eval_json("{}", r1, false), RULES_NOMATCH);
	/* and passes "not found" up; the top level reads it as no match */
	assert_int_equal(eval_json("{\"and\":[" V("X", "a") "]}", ry, false), RULES_NOMATCH);

	assert_int_equal(eval_json("{\"or\":[" V("z", "a") "," V("y", "b") "]}", r1, false),
			 RULES_MATCH);
	assert_int_equal(eval_json("{\"or\":[" V("z", "a") "," V("y", "b") "]}", rx, false),
			 RULES_MATCH);
	assert_int_equal(eval_json("{\"or\":[" V("z", "a") "," V("y", "b") "]}", rzz, false),
			 RULES_NOMATCH);
	assert_int_equal(eval_json("{\"or\":[" V("z", "a") "]}", ry, false), RULES_NOMATCH);

	assert_int_equal(eval_json("{\"not\":" V("X", "a") "}", r1, false), RULES_MATCH);
	assert_int_equal(eval_json("{\"not\":" V("z", "a") "}", r1, false), RULES_NOMATCH);
	/* adnanh quirk kept: not over a missing value is true at the top level */
	assert_int_equal(eval_json("{\"not\":" V("z", "a") "}", ry, false), RULES_MATCH);
	assert_int_equal(eval_json("{\"and\":[{\"not\":" V("z", "a") "}]}", ry, false),
			 RULES_NOMATCH);
	hookreq_free(r1);
	hookreq_free(r2);
	hookreq_free(r3);
	hookreq_free(ry);
	hookreq_free(rx);
	hookreq_free(rzz);
}

#define SIG(secret) MATCH("payload-hmac-sha1", "\"secret\":\"" secret "\",", "header", "X-Sig")

static void test_soft_signatures(void **state)
{
	struct hookreq *r = req_headers("10.0.0.1:5", A_Z, "X-Sig", "sha1=bad", NULL);
	const char *or_ip = "{\"or\":[" SIG("secret") ",{\"match\":{\"type\":\"ip-whitelist\","
			    "\"ip-range\":\"10.0.0.0/8\"}}]}";
	const char *or_only = "{\"or\":[" SIG("secret") "]}";
	(void)state;

	assert_int_equal(eval_json(SIG("secret"), r, false), RULES_ERROR);
	assert_int_equal(eval_json(SIG("secret"), r, true), RULES_ERROR); /* only inside or */
	assert_int_equal(eval_json(or_ip, r, false), RULES_ERROR);
	assert_int_equal(eval_json(or_ip, r, true), RULES_MATCH);
	assert_int_equal(eval_json(or_only, r, true), RULES_NOMATCH);
	assert_int_equal(eval_json("{\"and\":[" SIG("secret") "]}", r, true), RULES_ERROR);
	hookreq_free(r);
}

static void test_regex(void **state)
{
	static const struct {
		const char *re, *subject;
		bool match;
	} cases[] = {
		{"^refs/heads/\\d+$", "refs/heads/123", true},
		{"^refs/heads/\\d+$", "refs/heads/d", false},
		{"(?i)^MASTER$", "master", true},
		{"^(?:feat|fix)/\\w+", "fix/abc_1", true},
		{"a.*?b", "axxb", true},
		{"^v[\\d.]+$", "v1.2.3", true},
		{"^[\\w\\-]+$", "a-b_c", true},
		{"^[\\w\\-]+$", "a b", false},
		{"\\s", "a b", true},
		{"^\\S+$", "a b", false},
		{"x\\/y", "x/y", true},
		{"^a\\.b$", "axb", false},
	};
	static const char *invalid[] = {"*", "(?P<n>x)", "\\pL", "[a", "(?s)x", "a)"};
	char err[128];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		regex_t re;
		assert_int_equal(rules_regex_compile(cases[i].re, &re, err, sizeof(err)), 0);
		assert_int_equal(regexec(&re, cases[i].subject, 0, NULL, 0) == 0, cases[i].match);
		regfree(&re);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		regex_t re;
		assert_int_equal(rules_regex_compile(invalid[i], &re, err, sizeof(err)), HK_EINVAL);
		assert_true(err[0] != '\0');
	}
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{"{\"match\":{\"type\":\"foo\"}}", "unknown match type 'foo'"},
		{"{\"and\":[{\"match\":{\"type\":\"value\",\"value\":\"x\"}}]}",
		 "and.0: value: missing 'parameter'"},
		{"{\"or\":[{},{\"match\":{\"type\":\"regex\",\"regex\":\"*\",\"parameter\":"
		 "{\"source\":\"header\",\"name\":\"a\"}}}]}",
		 "or.1: regex '*': "},
		{"{\"match\":{\"type\":\"value\",\"parameter\":{\"source\":\"cookie\",\"name\":\"a\"}}}",
		 "parameter: unknown source 'cookie'"},
		{"{\"match\":{\"type\":\"payload-hmac-sha256\",\"parameter\":{\"source\":\"header\","
		 "\"name\":\"a\"}}}",
		 "payload-hmac-sha256: empty 'secret'"},
		{"{\"match\":{\"type\":\"ip-whitelist\",\"ip-range\":\"10.0.0.1 10.0.0/8\"}}",
		 "ip-whitelist: invalid range '10.0.0/8'"},
		{"{\"and\":[],\"or\":[]}", "a rule takes exactly one of and, or, not, match"},
		{"{\"not\":[]}", "not: a rule must be an object"},
		{"{\"match\":{\"type\":\"value\",\"parameter\":{\"source\":\"request\",\"name\":\"uri\"}}}",
		 "parameter: unsupported request key 'uri'"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i].json, 0, NULL);
		struct rule *r = NULL;
		char err[256] = "";
		assert_non_null(j);
		assert_true(rules_parse(j, &r, err, sizeof(err)) < 0);
		if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].msg);
		json_decref(j);
	}
	{
		/* nesting is capped */
		char deep[RULES_DEPTH_MAX * 8 + 16] = "";
		size_t n = 0;
		json_t *j;
		struct rule *r = NULL;
		for (int i = 0; i <= RULES_DEPTH_MAX; i++)
			n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"not\":");
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{}");
		for (int i = 0; i <= RULES_DEPTH_MAX; i++)
			deep[n++] = '}';
		deep[n] = '\0';
		j = json_loads(deep, 0, NULL);
		assert_non_null(j);
		assert_int_equal(rules_parse(j, &r, NULL, 0), HK_ETOOBIG);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac),         cmocka_unit_test(test_scalr),
		cmocka_unit_test(test_ip_whitelist), cmocka_unit_test(test_match_rule),
		cmocka_unit_test(test_and_or_not),   cmocka_unit_test(test_soft_signatures),
		cmocka_unit_test(test_regex),        cmocka_unit_test(test_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
