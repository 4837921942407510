/*
 * hookreq_test.c - request values: lookup, rendering and body parsers.
 * The tables re-express adnanh/webhook's hook_test.go cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "hooks/hookreq.h"
#include "hooks/xmljson.h"

static struct hookreq *req_with_payload(const char *json)
{
	struct hookreq *r = hookreq_new("POST", "127.0.0.1:1234");
	assert_non_null(r);
	if (json) {
		json_error_t e;
		r->payload = json_loads(json, JSON_DECODE_ANY, &e);
		assert_non_null(r->payload);
	}
	return r;
}

/* payload value as a string, or NULL when it does not resolve */
static char *pv(struct hookreq *r, const char *name)
{
	char *out = NULL;
	size_t len;
	int rc = hookreq_value(r, HOOKREQ_SRC_PAYLOAD, name, &out, &len);
	if (rc < 0) {
		assert_int_equal(rc, HK_ENOTFOUND);
		return NULL;
	}
	return out;
}

static void test_get_parameter(void **state)
{
	static const struct {
		const char *key, *json, *expect;
	} cases[] = {
		{"a", "{\"a\":\"1\"}", "1"},
		{"a.b", "{\"a.b\":\"1\"}", "1"},
		{"a.c", "{\"a\":{\"c\":2}}", "2"},
		{"a.1", "{\"a\":{\"1\":3}}", "3"},
		{"a.1", "{\"a\":[\"a\",\"b\"]}", "b"},
		{"root.0", "{\"root\":[\"a\",\"b\"]}", "a"},
		{"a.b.c", "{\"a\":{\"b\":{\"c\":\"z\"}}}", "z"},
		{"a.b.0", "{\"a\":{\"b\":[\"x\",\"y\",\"z\"]}}", "x"},
		{"a.1.b", "{\"a\":[{\"b\":\"y\"},{\"b\":\"z\"}]}", "z"},
		{"a.1.b.c", "{\"a\":[{\"b\":{\"c\":\"y\"}},{\"b\":{\"c\":\"z\"}}]}", "z"},
		{"b", "{\"b\":{\"z\":1}}", "{\"z\":1}"},
		{"c", "{\"c\":[\"y\",\"z\"]}", "[\"y\",\"z\"]"},
		/* a literal dotted key wins over the path, at any level */
		{"a.b.c", "{\"a\":{\"b.c\":\"lit\",\"b\":{\"c\":\"path\"}}}", "lit"},
		{"commits.0.id", "{\"commits.0.id\":\"lit\",\"commits\":[{\"id\":\"p\"}]}", "lit"},
		/* rendering of scalars */
		{"n", "{\"n\":42}", "42"},
		{"f", "{\"f\":1.5}", "1.5"},
		{"t", "{\"t\":true}", "true"},
		{"z", "{\"z\":null}", "<nil>"},
		{"h", "{\"h\":{\"x\":\"<&>\"}}", "{\"x\":\"\\u003c\\u0026\\u003e\"}"},
		/* failures */
		{"z", "{\"a\":\"1\"}", NULL},
		{"a.z", "{\"a\":{\"b\":2}}", NULL},
		{"z.b", "{\"a\":{\"z\":2}}", NULL},
		{"a.2", "{\"a\":[\"a\",\"b\"]}", NULL},
		{"a.X", "{\"a\":{\"b\":\"z\"}}", NULL},
		{"a.X.c", "{\"a\":[{\"b\":\"y\"},{\"b\":\"z\"}]}", NULL},
		{"a.-1.b", "{\"a\":[{\"b\":\"y\"},{\"b\":\"z\"}]}", NULL},
		{"a.500.b", "{\"a\":{\"b\":\"z\"}}", NULL},
		{"a.501.b", "{\"a\":[{\"b\":\"y\"},{\"b\":\"z\"}]}", NULL},
		{"a.502.b", "{\"a\":[]}", NULL},
		{"a.b.503", "{\"a\":{\"b\":[\"x\",\"y\",\"z\"]}}", NULL},
		{"a.b", "{\"a\":\"a\"}", NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hookreq *r = req_with_payload(cases[i].json);
		char *v = pv(r, cases[i].key);
		if (cases[i].expect)
			assert_non_null(v), assert_string_equal(v, cases[i].expect);
		else
			assert_null(v);
		free(v);
		hookreq_free(r);
	}
	{
		struct hookreq *r = req_with_payload(NULL); /* no payload at all */
		assert_null(pv(r, "check_nil"));
		hookreq_free(r);
	}
}

static void test_argument_get(void **state)
{
	struct hookreq *r = hookreq_new("POST", "127.0.0.1:1234");
	char *v;
	size_t len;
	(void)state;

	assert_int_equal(hookreq_add_header(r, "a", "z"), 0);
	{
		static const char qs[] = "a=z&b=x+y&c=%41&bad=%zz&a=second";
		assert_int_equal(hookreq_set_query(r, qs, sizeof(qs) - 1), 0);
	}
	r->payload = json_pack("{s:s}", "a", "z");

	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_HEADER, "A", &v, &len), 0);
	assert_string_equal(v, "z");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_URL, "a", &v, &len), 0);
	assert_string_equal(v, "z");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_URL, "b", &v, &len), 0);
	assert_string_equal(v, "x y");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_URL, "c", &v, &len), 0);
	assert_string_equal(v, "A");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_URL, "bad", &v, &len), HK_ENOTFOUND);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_PAYLOAD, "a", &v, &len), 0);
	assert_string_equal(v, "z");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_REQUEST, "METHOD", &v, &len), 0);
	assert_string_equal(v, "POST");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_REQUEST, "remote-addr", &v, &len), 0);
	assert_string_equal(v, "127.0.0.1:1234");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_REQUEST, "uri", &v, &len), HK_EINVAL);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_STRING, "a", &v, &len), 0);
	assert_string_equal(v, "a");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_ENTIRE_HEADERS, "", &v, &len), 0);
	assert_string_equal(v, "{\"A\":\"z\"}");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_ENTIRE_QUERY, "", &v, &len), 0);
	assert_string_equal(v, "{\"a\":\"z\",\"b\":\"x y\",\"c\":\"A\"}");
	free(v);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_ENTIRE_PAYLOAD, "", &v, &len), 0);
	assert_string_equal(v, "{\"a\":\"z\"}");
	free(v);
	/* failures: nil headers, nil query, nil payload */
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_HEADER, "b", &v, &len), HK_ENOTFOUND);
	json_decref(r->payload);
	r->payload = NULL;
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_PAYLOAD, "a", &v, &len), HK_ENOTFOUND);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_ENTIRE_PAYLOAD, "", &v, &len), 0);
	assert_string_equal(v, "null");
	free(v);
	hookreq_free(r);
}

static void test_headers(void **state)
{
	struct hookreq *r = hookreq_new("POST", "1.2.3.4:5");
	char *c;
	(void)state;

	assert_int_equal(hookreq_add_header(r, "x-hub-SIGNATURE", "one"), 0);
	assert_int_equal(hookreq_add_header(r, "X-Hub-Signature", "two"), 0);
	assert_int_equal(hookreq_add_header(r, "content-type", "application/json"), 0);
	assert_string_equal(hookreq_header(r, "X-HUB-signature"), "one");
	assert_string_equal(r->content_type, "application/json");
	c = hookreq_canonical_header("weird header");
	assert_string_equal(c, "weird header");
	free(c);
	c = hookreq_canonical_header("x-a-b");
	assert_string_equal(c, "X-A-B");
	free(c);
	hookreq_free(r);
}

static struct hookreq *body_req(const char *ct, const char *body)
{
	struct hookreq *r = hookreq_new("POST", "1.2.3.4:5");
	assert_int_equal(hookreq_add_header(r, "Content-Type", ct), 0);
	assert_int_equal(hookreq_set_body(r, body, strlen(body)), 0);
	return r;
}

static void test_json_body(void **state)
{
	struct hookreq *r = body_req("application/json", "  [{\"event\":\"processed\"}]");
	char *v;
	(void)state;

	assert_int_equal(hookreq_parse_body(r, NULL, NULL, 0), 0);
	v = pv(r, "root.0.event");
	assert_string_equal(v, "processed");
	free(v);
	hookreq_free(r);

	r = body_req("text/plain", "{\"a\":1}");
	assert_int_equal(hookreq_parse_body(r, "application/json", NULL, 0), 0);
	v = pv(r, "a");
	assert_string_equal(v, "1");
	free(v);
	hookreq_free(r);

	r = body_req("application/json", "{broken");
	assert_int_equal(hookreq_parse_body(r, NULL, NULL, 0), 0);
	assert_null(r->payload);
	hookreq_free(r);
}

static void test_form_body(void **state)
{
	struct hookreq_arg arg = {HOOKREQ_SRC_PAYLOAD, "payload", NULL, false};
	struct hookreq *r = body_req("application/x-www-form-urlencoded",
				     "payload=%7B%22canon_url%22%3A%22https%3A%2F%2Fbitbucket.org%22"
				     "%2C%22commits%22%3A%5B%7B%22branch%22%3A%22master%22%7D%5D%7D&x=1");
	char *v;
	(void)state;

	assert_int_equal(hookreq_parse_body(r, NULL, &arg, 1), 0);
	assert_int_equal(hookreq_parse_json_args(r, &arg, 1), 0);
	v = pv(r, "payload.canon_url");
	assert_string_equal(v, "https://bitbucket.org");
	free(v);
	v = pv(r, "payload.commits.0.branch");
	assert_string_equal(v, "master");
	free(v);
	hookreq_free(r);

	r = body_req("application/x-www-form-urlencoded", "a=1;b=2");
	assert_int_equal(hookreq_parse_body(r, NULL, NULL, 0), 0);
	assert_null(r->payload);
	hookreq_free(r);
}

static void test_parse_json_args(void **state)
{
	struct hookreq *r = hookreq_new("POST", "1.2.3.4:5");
	struct hookreq_arg a[] = {
		{HOOKREQ_SRC_HEADER, "a", NULL, false},
		{HOOKREQ_SRC_URL, "a", NULL, false},
		{HOOKREQ_SRC_HEADER, "z", NULL, false},
	};
	struct hookreq_arg bad[] = {
		{HOOKREQ_SRC_HEADER, "e", NULL, false},   /* empty string */
		{HOOKREQ_SRC_HEADER, "y", NULL, false},   /* missing */
		{HOOKREQ_SRC_STRING, "z", NULL, false},   /* invalid source */
	};
	json_t *v;
	(void)state;

	hookreq_add_header(r, "A", "{\"b\": \"y\"}");
	hookreq_add_header(r, "Z", "{}");
	hookreq_add_header(r, "E", "");
	hookreq_set_query(r, "a=%7B%22b%22%3A%22y%22%7D", 25);
	assert_int_equal(hookreq_parse_json_args(r, a, 3), 0);
	assert_int_equal(hookreq_json(r, HOOKREQ_SRC_HEADER, "a.b", &v), 0);
	assert_string_equal(json_string_value(v), "y");
	assert_int_equal(hookreq_json(r, HOOKREQ_SRC_URL, "a.b", &v), 0);
	assert_string_equal(json_string_value(v), "y");
	assert_int_equal(hookreq_json(r, HOOKREQ_SRC_HEADER, "z", &v), 0);
	assert_true(json_is_object(v));
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(hookreq_parse_json_args(r, &bad[i], 1), HK_EPARSE);
	assert_string_equal(hookreq_header(r, "E"), "");
	hookreq_free(r);
}

static void test_xml_body(void **state)
{
	static const char xml[] = "<?xml version=\"1.0\"?>\n<!-- users -->\n"
				  "<app>\n  <users>\n    <user id=\"1\" name=\"Jeff\" />\n"
				  "    <user id=\"2\" name=\"Sally\" />\n  </users>\n"
				  "  <messages>\n    <message id=\"1\" from_user=\"1\" to_user=\"2\">"
				  "Hello!!</message>\n  </messages>\n"
				  "  <x:note>a &amp; b &#x263A;<![CDATA[<raw>]]></x:note>\n</app>\n";
	struct hookreq *r = body_req("application/xml; charset=utf-8", xml);
	char *v;
	(void)state;

	assert_int_equal(hookreq_parse_body(r, NULL, NULL, 0), 0);
	assert_non_null(r->payload);
	v = pv(r, "app.users.user.0.-name");
	assert_string_equal(v, "Jeff");
	free(v);
	v = pv(r, "app.messages.message.#text");
	assert_string_equal(v, "Hello!!");
	free(v);
	v = pv(r, "app.messages.message.-id");
	assert_string_equal(v, "1");
	free(v);
	v = pv(r, "app.note");
	assert_string_equal(v, "a & b \xe2\x98\xba<raw>");
	free(v);
	hookreq_free(r);
}

static void test_xml_errors(void **state)
{
	static const char *bad[] = {"", "<a>", "<a></b>", "<a x=1/>", "<a>&nope;</a>", "text"};
	json_t *v;
	char deep[4 * (XMLJSON_DEPTH_MAX + 2) + 1] = "";
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xmljson_parse(bad[i], strlen(bad[i]), &v, NULL, 0), HK_EPARSE);
	for (int i = 0; i < XMLJSON_DEPTH_MAX + 2; i++)
		memcpy(deep + 3 * i, "<a>", 4);
	assert_int_equal(xmljson_parse(deep, strlen(deep), &v, NULL, 0), HK_ETOOBIG);
	assert_int_equal(xmljson_parse("<a/>", 4, &v, NULL, 0), 0);
	assert_string_equal(json_string_value(json_object_get(v, "a")), "");
	json_decref(v);
}

static void test_multipart_body(void **state)
{
	static const char body[] =
		"preamble\r\n--xyz\r\n"
		"Content-Disposition: form-data; name=\"field\"\r\n\r\n"
		"plain value\r\n--xyz\r\n"
		"Content-Disposition: form-data; name=\"payload\"; filename=\"p.json\"\r\n"
		"Content-Type: application/json\r\n\r\n"
		"{\"event\":\"media.play\"}\r\n--xyz\r\n"
		"Content-Disposition: form-data; name=\"thumb\"; filename=\"t.jpg\"\r\n"
		"Content-Type: image/jpeg\r\n\r\n"
		"\xff\xd8\xff\r\n--xyz--\r\n";
	struct hookreq *r = hookreq_new("POST", "1.2.3.4:5");
	char *v;
	(void)state;

	hookreq_add_header(r, "Content-Type", "multipart/form-data; boundary=xyz");
	hookreq_set_body(r, body, sizeof(body) - 1);
	assert_int_equal(hookreq_parse_body(r, NULL, NULL, 0), 0);
	v = pv(r, "field");
	assert_string_equal(v, "plain value");
	free(v);
	v = pv(r, "payload.event");
	assert_string_equal(v, "media.play");
	free(v);
	assert_null(pv(r, "thumb"));
	hookreq_free(r);

	r = hookreq_new("POST", "1.2.3.4:5");
	hookreq_add_header(r, "Content-Type", "multipart/form-data; boundary=xyz");
	hookreq_set_body(r, "--xyz\r\nbroken", 13);
	assert_int_equal(hookreq_parse_body(r, NULL, NULL, 0), HK_EPARSE);
	hookreq_free(r);
}

static void test_nul_in_body(void **state)
{
	struct hookreq *r = hookreq_new("POST", "1.2.3.4:5");
	char *v;
	size_t len;
	(void)state;

	hookreq_set_body(r, "a\0b", 3);
	assert_int_equal(hookreq_value(r, HOOKREQ_SRC_RAW_BODY, "", &v, &len), 0);
	assert_int_equal(len, 3);
	free(v);
	hookreq_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_parameter),   cmocka_unit_test(test_argument_get),
		cmocka_unit_test(test_headers),         cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_form_body),       cmocka_unit_test(test_parse_json_args),
		cmocka_unit_test(test_xml_body),        cmocka_unit_test(test_xml_errors),
		cmocka_unit_test(test_multipart_body),  cmocka_unit_test(test_nul_in_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
