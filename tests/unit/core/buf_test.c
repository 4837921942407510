#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "test.h"

static void test_append_and_cap(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 10);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_appends(&b, "hello"), 0);
	assert_int_equal(buf_appends(&b, "1234"), 0);
	assert_int_equal(buf_appends(&b, "x"), HK_ETOOBIG);
	assert_string_equal(buf_cstr(&b), "hello1234");
	assert_int_equal(buf_printf(&b, "%d", 42), HK_ETOOBIG);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s-%d", "a", 7), 0);
	assert_string_equal(buf_cstr(&b), "a-7");
	buf_release(&b);
}

static void test_detach(void **state)
{
	struct buf b;
	size_t n;
	char *s;
	(void)state;
	buf_init(&b, 100);
	s = buf_detach(&b, &n);
	assert_string_equal(s, "");
	assert_int_equal(n, 0);
	free(s);
	buf_appends(&b, "abc");
	s = buf_detach(&b, &n);
	assert_string_equal(s, "abc");
	assert_null(b.data);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_cap),
		cmocka_unit_test(test_detach),
	};
	return RUN(tests);
}
