/*
 * json_lua_test.c - JSON to Lua and back keeps what JSON distinguishes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "transform/transform.h"
#include "test.h"

static const char identity[] = "function handler(w) return w end";

/* roundtrip runs code on payload and returns the output payload (malloc'd) */
static char *roundtrip(const char *code, const char *payload, size_t len)
{
	struct transform_in in = {.event_type = "a.b", .payload = payload, .len = len, .url = "http://example.com/"};
	struct transform_out out;
	char err[512];
	int rc = transform_run(NULL, NULL, "t", code, &in, &out, err, sizeof(err));
	char *p;

	if (rc < 0)
		fail_msg("%s", err);
	p = out.payload;
	out.payload = NULL;
	transform_out_release(&out);
	return p;
}

/* assert_same_json checks both texts hold the same JSON, types included */
static void assert_same_json(const char *want, const char *got)
{
	json_t *a = json_loads(want, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
	json_t *b = json_loads(got, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
	assert_non_null(a);
	if (!b)
		fail_msg("output is not JSON: %s", got);
	if (!json_equal(a, b))
		fail_msg("want %s\n got %s", want, got);
	json_decref(a);
	json_decref(b);
}

static void test_identity_keeps_everything(void **state)
{
	static const char doc[] =
		"{\"emptyArray\":[],\"emptyObject\":{},\"max\":9223372036854775807,"
		"\"min\":-9223372036854775808,\"zero\":0,\"float\":1.5,\"integralFloat\":1.0,"
		"\"tiny\":1e-300,\"pi\":3.141592653589793,\"null\":null,"
		"\"nested\":{\"list\":[null,1,null,[[]],{\"n\":null}]},\"unicode\":\"h\\u00e9llo \\ud83d\\ude00 \xe6\x97\xa5\","
		"\"nul\":\"a\\u0000b\",\"escapes\":\"\\\"\\\\\\n\\t\\r\\b\\f\\u0001\",\"t\":true,\"f\":false}";
	char *out;
	(void)state;

	out = roundtrip(identity, doc, sizeof(doc) - 1);
	assert_same_json(doc, out);
	/* integral floats stay floats, integers stay integers */
	assert_non_null(strstr(out, "\"integralFloat\":1.0"));
	assert_non_null(strstr(out, "\"max\":9223372036854775807"));
	assert_non_null(strstr(out, "\"nul\":\"a\\u0000b\""));
	free(out);
}

static void test_top_level_values(void **state)
{
	const char *docs[] = {"[]", "{}", "[1,2,3]", "\"x\"", "42", "-0.25", "null", "true", "[[],{}]"};
	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char *out = roundtrip(identity, docs[i], strlen(docs[i]));
		assert_same_json(docs[i], out);
		free(out);
	}
}

static void test_lua_values_to_json(void **state)
{
	static const char code[] =
		"function handler(w)\n"
		"  local p = w.payload\n"
		"  w.payload = { a = json.array(), o = json.object(), plain = {}, seq = {1, 2, 3},\n"
		"    mixed = {10, 20, x = 1}, n = json.null, big = math.maxinteger, f = 0.1,\n"
		"    nul = 'a\\0b', len = #p.list, first = p.list[1], isnull = p.list[2] == json.null,\n"
		"    kind = getmetatable(p.list), round = json.decode(json.encode({[1]=json.null})) }\n"
		"  return w\n"
		"end";
	static const char in[] = "{\"list\":[\"x\",null,3]}";
	char *out;
	(void)state;

	out = roundtrip(code, in, sizeof(in) - 1);
	assert_same_json("{\"a\":[],\"o\":{},\"plain\":{},\"seq\":[1,2,3],\"mixed\":{\"1\":10,\"2\":20,\"x\":1},"
			 "\"n\":null,\"big\":9223372036854775807,\"f\":0.1,\"nul\":\"a\\u0000b\",\"len\":3,"
			 "\"first\":\"x\",\"isnull\":true,\"kind\":\"json.array\",\"round\":[null]}",
			 out);
	free(out);
}

static void test_unencodable_values(void **state)
{
	const char *bad[] = {
		"function handler(w) w.payload = {f = print} return w end",
		"function handler(w) w.payload = {x = 0/0} return w end",
		"function handler(w) w.payload = {x = math.huge} return w end",
		"function handler(w) w.payload = {s = '\\xff\\xfe'} return w end",
		"function handler(w) local t = {} t.self = t w.payload = t return w end",
		"function handler(w) w.payload = {[true] = 1} return w end",
		"function handler(w) w.payload = json.array({1, nil, 3}) w.payload[5] = 1 return w end",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct transform_in in = {.event_type = "a", .payload = "{}", .len = 2};
		struct transform_out out;
		char err[512];
		int rc = transform_run(NULL, NULL, "t", bad[i], &in, &out, err, sizeof(err));
		if (rc != HK_EINVAL)
			fail_msg("script %zu: rc %d", i, rc);
		assert_non_null(strstr(err, "payload"));
		transform_out_release(&out);
	}
}

static void test_text_payload(void **state)
{
	char *out;
	(void)state;
	out = roundtrip("function handler(w) w.payload = {got = w.payload} return w end", "a=1&b=2", 7);
	assert_same_json("{\"got\":\"a=1&b=2\"}", out);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_keeps_everything),
		cmocka_unit_test(test_top_level_values),
		cmocka_unit_test(test_lua_values_to_json),
		cmocka_unit_test(test_unencodable_values),
		cmocka_unit_test(test_text_payload),
	};
	return RUN(tests);
}
