#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/term.h"
#include "core/err.h"
#include "test.h"

static void test_table(void **state)
{
	static const char *const header[] = {"ID", "NAME", "URL"};
	const char *r1[] = {"app_1", "Shop", "https://a"};
	const char *r2[] = {"app_22", NULL, "x"};
	const char *r3[] = {"app_3", "Café", "y"};
	struct table t;
	struct buf b;
	(void)state;
	assert_int_equal(table_init(&t, 3, header), 0);
	assert_int_equal(table_add(&t, r1), 0);
	assert_int_equal(table_add(&t, r2), 0);
	assert_int_equal(table_add(&t, r3), 0);
	buf_init(&b, 4096);
	assert_int_equal(table_format(&t, &b, term_style_get(false)), 0);
	/* widths in characters, two spaces apart, no trailing blanks, "-" for NULL */
	assert_string_equal(buf_cstr(&b), "ID      NAME  URL\n"
					  "app_1   Shop  https://a\n"
					  "app_22  -     x\n"
					  "app_3   Café  y\n");
	buf_reset(&b);
	assert_int_equal(table_format(&t, &b, term_style_get(true)), 0);
	assert_true(strncmp(buf_cstr(&b), "\033[1mID", 6) == 0);
	buf_release(&b);
	table_release(&t);
	assert_int_equal(table_init(&t, TABLE_MAX_COLS + 1, header), HK_EINVAL);
}

static void test_table_many_rows(void **state)
{
	static const char *const header[] = {"N"};
	struct table t;
	struct buf b;
	(void)state;
	assert_int_equal(table_init(&t, 1, header), 0);
	for (int i = 0; i < 100; i++) {
		char n[16];
		const char *row[1] = {n};
		snprintf(n, sizeof(n), "%d", i);
		assert_int_equal(table_add(&t, row), 0);
	}
	buf_init(&b, 4096);
	assert_int_equal(table_format(&t, &b, term_style_get(false)), 0);
	assert_non_null(strstr(buf_cstr(&b), "\n99\n"));
	buf_release(&b);
	table_release(&t);
}

static void test_json_plain_matches_jansson(void **state)
{
	const char *doc = "{\"a\":1,\"b\":[true,null,\"x\\\"y\"],\"c\":{},\"d\":[],\"e\":{\"f\":1.5}}";
	json_t *v = json_loads(doc, JSON_PRESERVE_ORDER, NULL);
	char *want = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	struct buf b;
	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(term_json(&b, v, term_style_get(false)), 0);
	assert_string_equal(buf_cstr(&b), want);
	free(want);
	json_decref(v);
	buf_release(&b);
}

static void test_json_colour(void **state)
{
	json_t *v = json_pack("{s:s,s:i,s:b}", "k", "v", "n", 2, "t", 1);
	const struct term_style *st = term_style_get(true);
	char want[256];
	struct buf b;
	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(term_json(&b, v, st), 0);
	snprintf(want, sizeof(want), "%s\"k\"%s: %s\"v\"%s", st->blue, st->reset, st->green, st->reset);
	assert_non_null(strstr(buf_cstr(&b), want));
	snprintf(want, sizeof(want), "%s2%s", st->cyan, st->reset);
	assert_non_null(strstr(buf_cstr(&b), want));
	snprintf(want, sizeof(want), "%strue%s", st->magenta, st->reset);
	assert_non_null(strstr(buf_cstr(&b), want));
	json_decref(v);
	buf_release(&b);
}

static void test_no_colour_off_terminal(void **state)
{
	FILE *f = tmpfile();
	(void)state;
	assert_false(term_colour(f));
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_many_rows),
		cmocka_unit_test(test_json_plain_matches_jansson),
		cmocka_unit_test(test_json_colour),
		cmocka_unit_test(test_no_colour_off_terminal),
	};
	return RUN(tests);
}
