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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok), cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_depth_limit), cmocka_unit_test(test_strip_private),
	};
	return RUN(tests);
}
