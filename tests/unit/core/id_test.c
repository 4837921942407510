#include <string.h>

#include "core/clock.h"
#include "core/id.h"
#include "test.h"

static void test_shape(void **state)
{
	char id[ID_MAX];
	(void)state;
	id_new("msg_", id);
	assert_int_equal(strlen(id), 4 + ID_KSUID_LEN);
	assert_true(id_is("msg_", id));
	assert_false(id_is("app_", id));
	assert_false(id_is("msg_", "msg_short"));
	assert_false(id_is("msg_", "msg_!!!!!!!!!!!!!!!!!!!!!!!!!!!"));
}

static void test_sorted_in_creation_order(void **state)
{
	char prev[ID_MAX], cur[ID_MAX];
	(void)state;
	id_new("x_", prev);
	for (int i = 0; i < 10000; i++) {
		id_new("x_", cur);
		assert_true(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof(cur));
	}
}

static void test_time_roundtrip(void **state)
{
	char id[ID_MAX];
	int64_t t = 1700000000123LL;
	(void)state;
	id_new_at("app_", t, id);
	assert_int_equal(id_time_ms(id), t);
	assert_true(id_time_ms(id) / 1000 == t / 1000);
}

static void test_unique(void **state)
{
	char a[ID_MAX], b[ID_MAX];
	(void)state;
	id_new("a_", a);
	id_new("a_", b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_sorted_in_creation_order),
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_unique),
	};
	return RUN(tests);
}
