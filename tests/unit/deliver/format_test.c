#include <string.h>

#include "core/err.h"
#include "deliver/format.h"
#include "test.h"

static void test_query(void **state)
{
	struct buf b;
	json_t *p = json_loads("{\"id\":42,\"name\":\"a b&c\",\"ok\":true,\"n\":null,\"o\":{\"x\":1}}", 0, NULL);
	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(format_query_url("https://h/x", p, &b), 0);
	assert_string_equal(buf_cstr(&b), "https://h/x?id=42&name=a%20b%26c&ok=true&n=&o=%7B%22x%22%3A1%7D");
	buf_reset(&b);
	assert_int_equal(format_query_url("https://h/x?k=1", p, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "?k=1&id=42"));
	buf_release(&b);
	json_decref(p);
}

static void test_xml(void **state)
{
	struct buf b;
	json_t *p = json_loads("{\"id\":1,\"items\":[\"a\",\"<b>\"],\"9bad name\":\"x\"}", 0, NULL);
	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(format_xml(p, &b), 0);
	assert_string_equal(buf_cstr(&b),
			    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><webhook><id>1</id><items><item>a</item>"
			    "<item>&lt;b&gt;</item></items><_9bad_name>x</_9bad_name></webhook>");
	buf_release(&b);
	buf_init(&b, 16);
	assert_int_equal(format_xml(p, &b), HK_ETOOBIG);
	buf_release(&b);
	json_decref(p);
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(format_parse("json"), FORMAT_JSON);
	assert_int_equal(format_parse(NULL), FORMAT_JSON);
	assert_int_equal(format_parse("query"), FORMAT_QUERY);
	assert_int_equal(format_parse("xml"), FORMAT_XML);
	assert_int_equal(format_parse("yaml"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_query), cmocka_unit_test(test_xml),
					   cmocka_unit_test(test_parse)};
	return RUN(tests);
}
