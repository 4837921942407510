#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "inbound/filter.h"
#include "test.h"

static const char *hdr(void *ctx, const char *name)
{
	(void)ctx;
	return strcasecmp(name, "X-GitHub-Event") == 0 ? "push" : NULL;
}

static bool m(const char *filter, const char *body)
{
	json_t *f = json_loads(filter, 0, NULL), *b = json_loads(body, 0, NULL);
	char err[128];
	assert_non_null(f);
	assert_int_equal(filter_check(f, err, sizeof(err)), 0);
	bool r = filter_match(f, hdr, NULL, b);
	json_decref(f);
	json_decref(b);
	return r;
}

static void test_conditions(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/main\",\"n\":5,\"a.b\":1,\"commits\":[{\"id\":\"c1\"}],\"repo\":{\"private\":false}}";
	(void)state;
	assert_true(m("{\"header\":\"x-github-event\",\"equals\":\"push\"}", body));
	assert_false(m("{\"header\":\"x-github-event\",\"equals\":\"issues\"}", body));
	assert_true(m("{\"field\":\"ref\",\"in\":[\"refs/heads/dev\",\"refs/heads/main\"]}", body));
	assert_true(m("{\"field\":\"ref\",\"regex\":\"^refs/heads/(main|release)$\"}", body));
	assert_false(m("{\"field\":\"ref\",\"regex\":\"^refs/tags/\"}", body));
	assert_true(m("{\"field\":\"commits.0.id\",\"equals\":\"c1\"}", body));
	assert_true(m("{\"field\":\"a.b\",\"equals\":1}", body));
	assert_true(m("{\"field\":\"repo.private\",\"exists\":true}", body));
	assert_true(m("{\"field\":\"nope\",\"exists\":false}", body));
	assert_false(m("{\"field\":\"nope\",\"equals\":\"x\"}", body));
	assert_true(m("{\"field\":\"n\",\"gt\":4}", body));
	assert_false(m("{\"field\":\"n\",\"lt\":5}", body));
	assert_true(m("{\"field\":\"n\",\"lte\":5}", body));
}

static void test_combinations(void **state)
{
	const char *body = "{\"ref\":\"main\",\"n\":5}";
	(void)state;
	assert_true(m("[{\"field\":\"ref\",\"equals\":\"main\"},{\"field\":\"n\",\"gte\":5}]", body));
	assert_false(m("{\"all\":[{\"field\":\"ref\",\"equals\":\"main\"},{\"field\":\"n\",\"gt\":5}]}", body));
	assert_true(m("{\"any\":[{\"field\":\"ref\",\"equals\":\"x\"},{\"field\":\"n\",\"gt\":1}]}", body));
	assert_true(m("{\"not\":{\"field\":\"ref\",\"equals\":\"x\"}}", body));
	assert_true(filter_match(NULL, hdr, NULL, NULL));
}

static void test_check_rejects(void **state)
{
	const char *bad[] = {"{\"field\":\"a\"}", "{\"field\":\"a\",\"equals\":1,\"in\":[1]}", "{\"equals\":1}",
			     "{\"field\":\"a\",\"regex\":\"(\"}", "{\"field\":\"a\",\"gt\":\"x\"}",
			     "{\"field\":\"a\",\"in\":1}", "5", "{\"all\":5}"};
	char err[128];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *f = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		assert_int_equal(filter_check(f, err, sizeof(err)), HK_EINVAL);
		json_decref(f);
	}
	json_t *deep = json_loads("{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{\"field\":\"a\",\"exists\":true}}}}}}}}}}", 0, NULL);
	assert_int_equal(filter_check(deep, err, sizeof(err)), HK_EINVAL);
	json_decref(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_conditions), cmocka_unit_test(test_combinations),
					   cmocka_unit_test(test_check_rejects)};
	return RUN(tests);
}
