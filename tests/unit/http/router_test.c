#include <string.h>

#include "http/router.h"
#include "test.h"

struct my_route {
	struct route base;
	int tag;
};

static const struct my_route routes[] = {
	{{"GET", "/api/v1/app"}, 1},
	{{"POST", "/api/v1/app"}, 2},
	{{"GET", "/api/v1/app/{app}"}, 3},
	{{"GET", "/api/v1/app/{app}/endpoint/{ep}/secret"}, 4},
	{{"GET", "/api/v1/app/{app}/endpoint/{ep}"}, 5},
	{{NULL, "/any/{x}"}, 6},
};

static int match(const char *method, const char *path, struct route_params *p)
{
	const struct route *out = NULL;
	enum router_result r = router_match(routes, sizeof(routes) / sizeof(routes[0]), sizeof(routes[0]),
					    method, path, &out, p);
	if (r == ROUTE_NO_PATH)
		return -1;
	if (r == ROUTE_NO_METHOD)
		return -2;
	return ((const struct my_route *)out)->tag;
}

static void test_literals_and_methods(void **state)
{
	struct route_params p;
	(void)state;
	assert_int_equal(match("GET", "/api/v1/app", &p), 1);
	assert_int_equal(match("POST", "/api/v1/app", &p), 2);
	assert_int_equal(match("DELETE", "/api/v1/app", &p), -2);
	assert_int_equal(match("GET", "/api/v1/nope", &p), -1);
	assert_int_equal(match("PUT", "/any/thing", &p), 6);
}

static void test_captures(void **state)
{
	struct route_params p;
	(void)state;
	assert_int_equal(match("GET", "/api/v1/app/app_123/endpoint/my-ep/secret", &p), 4);
	assert_string_equal(route_param(&p, "app"), "app_123");
	assert_string_equal(route_param(&p, "ep"), "my-ep");
	assert_null(route_param(&p, "msg"));
	assert_int_equal(match("GET", "/api/v1/app/x/endpoint/y", &p), 5);
}

static void test_trailing_and_double_slashes(void **state)
{
	struct route_params p;
	(void)state;
	assert_int_equal(match("GET", "/api/v1/app/", &p), 1);
	assert_int_equal(match("GET", "//api//v1/app/abc/", &p), 3);
	assert_string_equal(route_param(&p, "app"), "abc");
}

static void test_bounds(void **state)
{
	struct route_params p;
	char long_seg[400] = "/api/v1/app/";
	(void)state;
	memset(long_seg + 12, 'a', 300);
	long_seg[312] = '\0';
	assert_int_equal(match("GET", long_seg, &p), -1);
	assert_int_equal(match("GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", &p), -1);
	assert_int_equal(match("GET", "", &p), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_and_methods),
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_trailing_and_double_slashes),
		cmocka_unit_test(test_bounds),
	};
	return RUN(tests);
}
