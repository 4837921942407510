#include <stdio.h>

#include "core/map.h"
#include "test.h"

static void test_put_get_del(void **state)
{
	struct map m;
	char key[32];
	void *old;
	(void)state;
	map_init(&m);
	assert_null(map_get(&m, "x"));
	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%ld", i);
		assert_int_equal(map_put(&m, key, (void *)(i + 1), NULL), 0);
	}
	assert_int_equal(m.len, 5000);
	assert_ptr_equal(map_get(&m, "k4999"), (void *)5000);
	assert_int_equal(map_put(&m, "k1", (void *)7, &old), 0);
	assert_ptr_equal(old, (void *)2);
	assert_ptr_equal(map_del(&m, "k1"), (void *)7);
	assert_null(map_get(&m, "k1"));
	assert_null(map_del(&m, "k1"));
	assert_int_equal(m.len, 4999);
	map_release(&m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_put_get_del)};
	return RUN(tests);
}
