#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "test.h"

static void test_parse_ok(void **state)
{
	json_t *v;
	char err[128];
	(void)state;
	assert_int_equal(json_parse_bounded("{\"a\":[1,2,{\"b\":null}]}", 22, 8, &v, err, sizeof(err)), 0);
	assert_true(json_is_object(v));
	json_decref(v);
}

static void test_parse_malformed(void **state)
{
	json_t *v;
	char err[128];
	(void)state;
	assert_int_equal(json_parse_bounded("{\"a\":", 5, 8, &v, err, sizeof(err)), HK_EPARSE);
	assert_null(v);
	assert_non_null(strstr(err, "malformed"));
}

static void test_depth_limit(void **state)
{
	char deep[300];
	json_t *v;
	char err[128];
	(void)state;
	memset(deep, '[', 200);
	memset(deep + 200, ']', 100);
	assert_false(json_depth_ok(deep, 300, 64));
	assert_int_equal(json_parse_bounded(deep, 300, 64, &v, err, sizeof(err)), HK_EPARSE);
	/* brackets inside strings do not count */
	assert_true(json_depth_ok("[\"[[[[[[[[\"]", 12, 2));
	assert_true(json_depth_ok("[\"\\\"[[[[[[\"]", 12, 2));
}

static void test_strip_private(void **state)
{
	json_t *doc = json_pack("{s:s,s:s,s:i}", "id", "x", "_secret", "y", "n", 1);
	json_t *pub = json_strip_private(doc);
	(void)state;
	assert_non_null(json_object_get(pub, "id"));
	assert_null(json_object_get(pub, "_secret"));
	assert_int_equal(json_object_size(pub), 2);
	json_decref(doc);
	json_decref(pub);
}

/* json_buf_string writes what jansson's compact dump writes, and refuses what json_stringn refuses */
static void check_like_jansson(const char *s, size_t n)
{
	json_t *str = json_stringn(s, n);
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_appends(&b, "x");
	if (!str) {
		assert_int_equal(json_buf_string(&b, s, n), HK_EPARSE);
		assert_false(json_utf8_ok(s, n));
	} else {
		char *want = json_dumps(str, JSON_COMPACT | JSON_ENCODE_ANY);
		assert_true(json_utf8_ok(s, n));
		assert_int_equal(json_buf_string(&b, s, n), 0);
		assert_string_equal(buf_cstr(&b) + 1, want);
		free(want);
	}
	assert_int_equal(buf_cstr(&b)[0], 'x');
	json_decref(str);
	buf_release(&b);
}

static void test_buf_string(void **state)
{
	static const char *const cases[] = {
		"", "plain", "say \"hi\"", "back\\slash", "tab\tnl\ncr\rbs\bff\f", "\x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80", "/slash/", "\xe2\x80\xa8",
		/* not UTF-8: a lone byte, overlong, a surrogate, past U+10FFFF, truncated, a stray continuation */
		"caf\xe9", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x98", "\x80", "\xf8\x88\x80\x80\x80",
	};
	unsigned seed = 7;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_like_jansson(cases[i], strlen(cases[i]));
	check_like_jansson("nul\0inside", 11);
	/* random bytes, mostly ASCII with some high bytes: the same verdict and text as jansson */
	for (int round = 0; round < 20000; round++) {
		unsigned char s[24];
		size_t n = (size_t)(rand_r(&seed) % sizeof(s));
		for (size_t i = 0; i < n; i++) {
			int r = rand_r(&seed);
			s[i] = (unsigned char)(r % 4 == 0 ? 0x80 + r / 4 % 0x80 : r / 4 % 0x80);
		}
		check_like_jansson((const char *)s, n);
	}
}

static void test_buf_string_cap(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 16);
	buf_appends(&b, "{");
	/* fits only unescaped: escaping makes it too big, and the buffer is as it was */
	assert_int_equal(json_buf_string(&b, "\n\n\n\n\n\n\n\n", 8), HK_ETOOBIG);
	assert_string_equal(buf_cstr(&b), "{");
	assert_int_equal(json_buf_string(&b, "abc", 3), 0);
	assert_string_equal(buf_cstr(&b), "{\"abc\"");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok), cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_depth_limit), cmocka_unit_test(test_strip_private),
		cmocka_unit_test(test_buf_string), cmocka_unit_test(test_buf_string_cap),
	};
	return RUN(tests);
}
