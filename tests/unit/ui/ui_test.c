/*
 * ui_test.c - the embedded dashboard table: every file is found by its
 * path, nothing else is, and each has a content type and a quoted ETag.
 */
#include <string.h>

#include "test.h"
#include "ui/ui.h"

static void test_index_is_embedded(void **state)
{
	const struct ui_file *f = ui_find("index.html");
	(void)state;
	assert_non_null(f);
	assert_true(f->len > 0);
	assert_int_equal(f->data[f->len], 0);
	assert_non_null(strstr((const char *)f->data, "<!doctype html>"));
	assert_non_null(ui_find("js/main.js"));
	assert_non_null(ui_find("vendor/uPlot.iife.min.js"));
}

static void test_only_table_paths(void **state)
{
	(void)state;
	assert_null(ui_find(""));
	assert_null(ui_find("../hookd.token"));
	assert_null(ui_find("/index.html"));
	assert_null(ui_find("package.json"));
	assert_null(ui_find("node_modules/uplot/package.json"));
}

static void test_types_and_etags(void **state)
{
	(void)state;
	assert_string_equal(ui_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(ui_type("js/pages/apps.js"), "text/javascript; charset=utf-8");
	assert_string_equal(ui_type("app.css"), "text/css; charset=utf-8");
	assert_string_equal(ui_type("favicon.svg"), "image/svg+xml");
	assert_string_equal(ui_type("LICENSE"), "application/octet-stream");
	for (size_t i = 0; i < ui_nfiles; i++) {
		const char *e = ui_files[i].etag;
		size_t n = strlen(e);
		assert_true(n > 2 && e[0] == '"' && e[n - 1] == '"');
		assert_non_null(ui_find(ui_files[i].path));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_is_embedded),
		cmocka_unit_test(test_only_table_paths),
		cmocka_unit_test(test_types_and_etags),
	};
	return RUN(tests);
}
