#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "poll/poll_int.h"
#include "poll/rule.h"
#include "test.h"

static json_t *js(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	return v;
}

static void rule_of(const char *spec, struct poll_rule *r)
{
	json_t *v = js(spec);
	char err[256];
	assert_int_equal(poll_rule_parse(v, r, err, sizeof(err)), 0);
	json_decref(v);
}

static void test_rule_parse(void **state)
{
	const char *bad[] = {
		"[]", "{}", "{\"kind\":\"list\"}", "{\"kind\":\"items\"}", "{\"kind\":\"items\",\"idField\":\"\"}",
		"{\"kind\":\"items\",\"idField\":\".\"}", "{\"kind\":\"items\",\"idField\":\"a b\"}",
		"{\"kind\":\"items\",\"idField\":\"id\",\"path\":3}",
		"{\"kind\":\"document\",\"includePrevious\":\"yes\"}",
	};
	struct poll_rule r;
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = js(bad[i]);
		err[0] = '\0';
		assert_int_equal(poll_rule_parse(v, &r, err, sizeof(err)), HK_EINVAL);
		assert_true(err[0] != '\0');
		json_decref(v);
	}
	rule_of("{\"kind\":\"items\",\"path\":\".data\",\"idField\":\"id\",\"updatedField\":\"updated_at\"}", &r);
	assert_int_equal(r.kind, POLL_ITEMS);
	assert_string_equal(r.path, ".data");
	assert_string_equal(r.id_field, "id");
	assert_string_equal(r.updated_field, "updated_at");
	rule_of("{\"kind\":\"document\",\"includePrevious\":true}", &r);
	assert_int_equal(r.kind, POLL_DOCUMENT);
	assert_true(r.include_previous);
	assert_string_equal(r.path, "");
}

static void test_path(void **state)
{
	json_t *doc = js("{\"data\":{\"items\":[{\"id\":1},{\"id\":2}]},\"n\":3}");
	(void)state;
	assert_ptr_equal(poll_path_get(doc, ""), doc);
	assert_ptr_equal(poll_path_get(doc, "."), doc);
	assert_int_equal(json_integer_value(poll_path_get(doc, ".n")), 3);
	assert_int_equal(json_integer_value(poll_path_get(doc, "n")), 3);
	assert_true(json_is_array(poll_path_get(doc, ".data.items")));
	assert_int_equal(json_integer_value(poll_path_get(doc, ".data.items.1.id")), 2);
	assert_null(poll_path_get(doc, ".data.items.7"));
	assert_null(poll_path_get(doc, ".missing.deeper"));
	assert_null(poll_path_get(doc, ".n.x"));
	json_decref(doc);
}

static void test_item_key(void **state)
{
	struct poll_rule r;
	json_t *a = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\",\"x\":1}");
	json_t *b = js("{\"x\":1,\"id\":\"7\"}"), *c = js("{\"id\":\"7\",\"x\":1}");
	json_t *none = js("{\"x\":1}"), *empty = js("{\"id\":\"\"}"), *obj = js("{\"id\":{}}");
	char id[64], v1[128], v2[128];
	(void)state;

	rule_of("{\"kind\":\"items\",\"idField\":\"id\",\"updatedField\":\"updated_at\"}", &r);
	assert_int_equal(poll_item_key(&r, a, id, sizeof(id), v1, sizeof(v1)), 0);
	assert_string_equal(id, "7");
	assert_string_equal(v1, "u:2024-01-01T00:00:00Z");
	/* without the updated field: a hash that ignores member order */
	assert_int_equal(poll_item_key(&r, b, id, sizeof(id), v1, sizeof(v1)), 0);
	assert_int_equal(poll_item_key(&r, c, id, sizeof(id), v2, sizeof(v2)), 0);
	assert_string_equal(id, "7");
	assert_true(strncmp(v1, "h:", 2) == 0);
	assert_string_equal(v1, v2);
	assert_int_equal(poll_item_key(&r, none, id, sizeof(id), v1, sizeof(v1)), HK_EINVAL);
	assert_int_equal(poll_item_key(&r, empty, id, sizeof(id), v1, sizeof(v1)), HK_EINVAL);
	assert_int_equal(poll_item_key(&r, obj, id, sizeof(id), v1, sizeof(v1)), HK_EINVAL);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(none);
	json_decref(empty);
	json_decref(obj);
}

/* diff runs one poll of items against seen and returns the changed ids joined by ',' */
static void diff(const struct poll_rule *r, const char *items, json_t **seen, size_t window, char *out,
		 size_t cap)
{
	json_t *list = js(items), *changes = NULL, *next = NULL, *c;
	size_t skipped, i;

	assert_int_equal(poll_items_diff(r, list, *seen, window, &changes, &next, &skipped), 0);
	out[0] = '\0';
	json_array_foreach(changes, i, c) {
		if (i)
			strncat(out, ",", cap - strlen(out) - 1);
		strncat(out, json_string_value(json_object_get(c, "id")), cap - strlen(out) - 1);
		assert_true(json_is_object(json_object_get(c, "item")));
	}
	json_decref(*seen);
	*seen = next;
	json_decref(changes);
	json_decref(list);
}

static void test_items_diff(void **state)
{
	struct poll_rule r;
	json_t *seen = json_object();
	char got[256];
	(void)state;

	rule_of("{\"kind\":\"items\",\"idField\":\"id\",\"updatedField\":\"u\"}", &r);
	diff(&r, "[{\"id\":1,\"u\":1},{\"id\":2,\"u\":1}]", &seen, 100, got, sizeof(got));
	assert_string_equal(got, "1,2");
	/* nothing changed */
	diff(&r, "[{\"id\":1,\"u\":1},{\"id\":2,\"u\":1}]", &seen, 100, got, sizeof(got));
	assert_string_equal(got, "");
	/* a new item, a changed one, an unchanged one, in answer order */
	diff(&r, "[{\"id\":3,\"u\":1},{\"id\":1,\"u\":2},{\"id\":2,\"u\":1}]", &seen, 100, got, sizeof(got));
	assert_string_equal(got, "3,1");
	/* an item that left the answer and comes back unchanged is not new */
	diff(&r, "[{\"id\":3,\"u\":1}]", &seen, 100, got, sizeof(got));
	assert_string_equal(got, "");
	diff(&r, "[{\"id\":2,\"u\":1},{\"id\":3,\"u\":1}]", &seen, 100, got, sizeof(got));
	assert_string_equal(got, "");
	/* duplicates in one answer count once; items without an id are skipped */
	diff(&r, "[{\"id\":9,\"u\":1},{\"id\":9,\"u\":2},{\"x\":1}]", &seen, 100, got, sizeof(got));
	assert_string_equal(got, "9");
	assert_string_equal(json_string_value(json_object_get(seen, "9")), "u:1");
	json_decref(seen);
}

static void test_items_window(void **state)
{
	struct poll_rule r;
	json_t *seen = json_object();
	char got[256];
	(void)state;

	rule_of("{\"kind\":\"items\",\"idField\":\"id\"}", &r);
	diff(&r, "[{\"id\":1},{\"id\":2},{\"id\":3}]", &seen, 3, got, sizeof(got));
	assert_string_equal(got, "1,2,3");
	/* the current answer comes first; the oldest of the rest falls out */
	diff(&r, "[{\"id\":4}]", &seen, 3, got, sizeof(got));
	assert_string_equal(got, "4");
	assert_int_equal(json_object_size(seen), 3);
	assert_non_null(json_object_get(seen, "4"));
	assert_non_null(json_object_get(seen, "1"));
	assert_non_null(json_object_get(seen, "2"));
	assert_null(json_object_get(seen, "3"));
	/* an answer larger than the window is remembered whole: nothing in it is new next time */
	diff(&r, "[{\"id\":5},{\"id\":6},{\"id\":7},{\"id\":8}]", &seen, 3, got, sizeof(got));
	assert_string_equal(got, "5,6,7,8");
	diff(&r, "[{\"id\":5},{\"id\":6},{\"id\":7},{\"id\":8}]", &seen, 3, got, sizeof(got));
	assert_string_equal(got, "");
	assert_int_equal(json_object_size(seen), 4);
	/* an item changed in content (no updated field): hashed, so announced again */
	diff(&r, "[{\"id\":4,\"v\":2}]", &seen, 3, got, sizeof(got));
	assert_string_equal(got, "4");
	json_decref(seen);
}

static void test_event_ids(void **state)
{
	char a[POLL_EVENT_ID_MAX], b[POLL_EVENT_ID_MAX], c[POLL_EVENT_ID_MAX], d[POLL_EVENT_ID_MAX];
	(void)state;

	poll_item_event_id("poll_1", "7", "u:1", a);
	poll_item_event_id("poll_1", "7", "u:1", b);
	assert_string_equal(a, b); /* stable across restarts */
	assert_true(strncmp(a, "poll_1.", 7) == 0);
	assert_int_equal(strlen(a), 7 + 32);
	poll_item_event_id("poll_1", "7", "u:2", c);
	assert_string_not_equal(a, c); /* a second change is a new event */
	poll_item_event_id("poll_2", "7", "u:1", d);
	assert_string_not_equal(a, d); /* another source is another event */
	poll_item_event_id("poll_1", "7\nu:1", "", c);
	assert_string_not_equal(a, c);
	poll_doc_event_id("poll_1", 1, "abc", a);
	poll_doc_event_id("poll_1", 2, "abc", b);
	assert_string_not_equal(a, b); /* the same content again later is a new change */
	for (const char *p = a; *p; p++)
		assert_true(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p) != NULL);
}

static void test_value_hash(void **state)
{
	json_t *a = js("{\"a\":1,\"b\":[1,2]}"), *b = js("{\"b\":[1,2],\"a\":1}"), *c = js("{\"a\":1,\"b\":[2,1]}");
	json_t *s = js("\"text\"");
	char ha[65], hb[65], hc[65], hs[65];
	(void)state;
	assert_int_equal(poll_value_hash(a, ha), 0);
	assert_int_equal(poll_value_hash(b, hb), 0);
	assert_int_equal(poll_value_hash(c, hc), 0);
	assert_int_equal(poll_value_hash(s, hs), 0); /* a bare string is a document too */
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(s);
}

static void test_link_next(void **state)
{
	char out[256];
	(void)state;
	assert_int_equal(poll_link_next("<https://a.example/x?page=2>; rel=\"next\"", out, sizeof(out)), 0);
	assert_string_equal(out, "https://a.example/x?page=2");
	assert_int_equal(poll_link_next("<https://a/?p=1>; rel=\"prev\", <https://a/?p=3>; rel=\"next\", "
					"<https://a/?p=9>; rel=\"last\"",
					out, sizeof(out)),
			 0);
	assert_string_equal(out, "https://a/?p=3");
	assert_int_equal(poll_link_next("</items?cursor=abc>; rel=next", out, sizeof(out)), 0);
	assert_string_equal(out, "/items?cursor=abc");
	assert_int_equal(poll_link_next("<https://a/2>; title=\"a, b\"; rel=\"last next\"", out, sizeof(out)), 0);
	assert_string_equal(out, "https://a/2");
	assert_int_equal(poll_link_next("<https://a/1>; rel=\"prev\"", out, sizeof(out)), HK_ENOTFOUND);
	assert_int_equal(poll_link_next("<https://a/1>; rel=\"nextish\"", out, sizeof(out)), HK_ENOTFOUND);
	assert_int_equal(poll_link_next("garbage", out, sizeof(out)), HK_ENOTFOUND);
	assert_int_equal(poll_link_next("<>; rel=next", out, sizeof(out)), HK_ENOTFOUND);
	assert_int_equal(poll_link_next("<https://a/very/long>; rel=next", out, 8), HK_ENOTFOUND);
}

static void test_next_url(void **state)
{
	char *u;
	(void)state;
	u = fetch_next_url("http://127.0.0.1:9/items?page=1", "/items?page=2");
	assert_string_equal(u, "http://127.0.0.1:9/items?page=2");
	free(u);
	u = fetch_next_url("http://127.0.0.1:9/items?page=1", "http://127.0.0.1:9/items?page=3");
	assert_string_equal(u, "http://127.0.0.1:9/items?page=3");
	free(u);
	/* the source's headers never go to another origin */
	assert_null(fetch_next_url("http://127.0.0.1:9/items", "http://127.0.0.1:10/items?page=2"));
	assert_null(fetch_next_url("http://127.0.0.1:9/items", "https://127.0.0.1:9/items?page=2"));
	assert_null(fetch_next_url("https://api.example/items", "https://evil.example/items"));
	assert_null(fetch_next_url("https://api.example/items", "file:///etc/passwd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_parse), cmocka_unit_test(test_path),
		cmocka_unit_test(test_item_key),   cmocka_unit_test(test_items_diff),
		cmocka_unit_test(test_items_window), cmocka_unit_test(test_event_ids),
		cmocka_unit_test(test_value_hash), cmocka_unit_test(test_link_next),
		cmocka_unit_test(test_next_url),
	};
	return RUN(tests);
}
