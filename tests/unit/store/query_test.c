/* The backend-neutral query builder: the SQL text and parameters both dialects get. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/query.h"
#include "test.h"

#define MSG_SELECT "SELECT " QUERY_MSG_COLS " FROM msg m WHERE"

static void assert_text(const struct query *q, int i, const char *s)
{
	assert_true(i < q->n);
	assert_int_equal(q->args[i].type, QUERY_TEXT);
	assert_string_equal(q->args[i].s, s);
}

static void assert_int(const struct query *q, int i, int64_t v)
{
	assert_true(i < q->n);
	assert_int_equal(q->args[i].type, QUERY_INT);
	assert_int_equal(q->args[i].i, v);
}

static void test_placeholders(void **state)
{
	struct query q;
	(void)state;
	query_init(&q, &query_sqlite, "SELECT 1 WHERE");
	query_s(&q, " a = ?", "x");
	query_i(&q, " AND b = ?", 7);
	query_sql(&q, " AND c = 0");
	assert_string_equal(query_text(&q), "SELECT 1 WHERE a = ? AND b = ? AND c = 0");
	assert_int_equal(q.n, 2);
	assert_text(&q, 0, "x");
	assert_int(&q, 1, 7);
	query_release(&q);

	query_init(&q, &query_pg, "SELECT 1 WHERE");
	query_s(&q, " a = ?", "x");
	query_i(&q, " AND b = ?", 7);
	query_s(&q, " AND c IS ?", NULL);
	assert_string_equal(query_text(&q), "SELECT 1 WHERE a = $1 AND b = $2 AND c IS $3");
	assert_null(q.args[2].s);
	query_release(&q);
}

static void test_full_drops_fragment_and_value(void **state)
{
	struct query q;
	(void)state;
	query_init(&q, &query_pg, "SELECT 1 WHERE true");
	for (int i = 0; i < QUERY_MAX_ARGS; i++)
		query_i(&q, " AND x <> ?", i);
	assert_int_equal(q.n, QUERY_MAX_ARGS);
	query_s(&q, " AND y = ?", "late");
	assert_int_equal(q.n, QUERY_MAX_ARGS);
	assert_null(strstr(query_text(&q), "y ="));
	query_release(&q);
}

static void test_msg_list_filters(void **state)
{
	struct store_msg_query mq = {.app = "app_1", .channel = "ch", .before = 20, .after = 10};
	struct store_page pg = {NULL, 50, true};
	struct query q;
	(void)state;
	mq.event_types = json_pack("[s,s]", "a.b", "c.d");
	assert_false(query_msg_list(&q, &query_sqlite, &mq, &pg));
	assert_string_equal(query_text(&q),
			    MSG_SELECT " m.app = ? AND m.event_type IN (?,?)"
				       " AND EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ?)"
				       " AND m.created < ? AND m.created > ? ORDER BY m.id DESC LIMIT 51");
	assert_int_equal(q.n, 6);
	assert_text(&q, 0, "app_1");
	assert_text(&q, 2, "c.d");
	assert_text(&q, 3, "ch");
	assert_int(&q, 4, 20);
	assert_int(&q, 5, 10);
	query_release(&q);

	assert_false(query_msg_list(&q, &query_pg, &mq, &pg));
	assert_string_equal(query_text(&q),
			    MSG_SELECT " m.app = $1 AND m.event_type IN ($2,$3)"
				       " AND EXISTS (SELECT 1 FROM json_array_elements_text(m.channels::json) ch"
				       " WHERE ch = $4) AND m.created < $5 AND m.created > $6"
				       " ORDER BY m.id DESC LIMIT 51");
	query_release(&q);
	json_decref(mq.event_types);
}

/* replay-missing's scan: only messages without a delivery to the endpoint */
static void test_msg_list_missing_to(void **state)
{
	struct store_msg_query mq = {.app = "app_1", .missing_to = "ep_1"};
	struct store_page pg = {NULL, 50, false};
	struct query q;
	(void)state;
	assert_false(query_msg_list(&q, &query_pg, &mq, &pg));
	assert_string_equal(query_text(&q),
			    MSG_SELECT " m.app = $1 AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.msg = m.id"
				       " AND d.endpoint = $2) ORDER BY m.id ASC LIMIT 51");
	assert_int_equal(q.n, 2);
	assert_text(&q, 1, "ep_1");
	query_release(&q);
}

static void test_in_list_is_capped(void **state)
{
	struct store_msg_query mq = {.app = "app_1"};
	struct store_page pg = {NULL, 10, false};
	struct query q;
	(void)state;
	mq.event_types = json_array();
	for (int i = 0; i < 40; i++)
		json_array_append_new(mq.event_types, json_string("t"));
	query_msg_list(&q, &query_sqlite, &mq, &pg);
	assert_int_equal(q.n, 1 + QUERY_MAX_IN);
	query_release(&q);
	json_decref(mq.event_types);
}

static void test_paging(void **state)
{
	struct store_page pg = {"msg_5", 10, false};
	struct store_msg_query mq = {.app = "app_1"};
	struct query q;
	const char *after;
	bool desc;
	(void)state;
	/* forwards, ascending: after the iterator */
	assert_false(query_msg_list(&q, &query_pg, &mq, &pg));
	assert_string_equal(query_text(&q), MSG_SELECT " m.app = $1 AND m.id > $2 ORDER BY m.id ASC LIMIT 11");
	assert_text(&q, 1, "msg_5");
	query_release(&q);
	/* backwards in a descending list: read ascending before reversing */
	pg.iterator = "-msg_5";
	pg.desc = true;
	assert_true(query_msg_list(&q, &query_sqlite, &mq, &pg));
	assert_string_equal(query_text(&q), MSG_SELECT " m.app = ? AND m.id > ? ORDER BY m.id ASC LIMIT 11");
	assert_text(&q, 1, "msg_5");
	query_release(&q);
	/* "-" alone walks back from the end */
	pg.iterator = "-";
	assert_true(query_cursor(&pg, &after, &desc));
	assert_null(after);
	assert_false(desc);
	pg.iterator = NULL;
	assert_false(query_cursor(&pg, &after, &desc));
	assert_null(after);
	assert_true(desc);
}

static void test_list_finish_reverses(void **state)
{
	struct store_list l = {0};
	(void)state;
	l.items = json_pack("[{s:s},{s:s}]", "id", "b", "id", "a");
	query_list_finish(&l, true);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l.items, 0), "id")), "a");
	assert_string_equal(l.iterator, "b");
	assert_string_equal(l.prev_iterator, "-a");
	json_decref(l.items);
}

static void test_attempt_list(void **state)
{
	struct store_attempt_query aq = {.app = "app_1", .msg = "msg_1", .status = -1, .code_class = 500};
	struct store_page pg = {NULL, 5, false};
	struct query q;
	(void)state;
	aq.event_types = json_pack("[s]", "a.b");
	query_attempt_list(&q, &query_pg, &aq, &pg);
	assert_string_equal(query_text(&q),
			    "SELECT " QUERY_ATT_COLS " FROM attempt a WHERE a.app = $1 AND a.msg = $2"
			    " AND a.code / 100 = $3 AND a.msg IN (SELECT m.id FROM msg m WHERE m.app = $4"
			    " AND m.event_type IN ($5)) ORDER BY a.id ASC LIMIT 6");
	assert_int(&q, 2, 5);
	query_release(&q);
	/* the message's channel and tag filter through the same subquery */
	json_decref(aq.event_types);
	aq.event_types = NULL;
	aq.channel = "ch";
	aq.tag = "t1";
	query_attempt_list(&q, &query_sqlite, &aq, &pg);
	assert_string_equal(query_text(&q),
			    "SELECT " QUERY_ATT_COLS " FROM attempt a WHERE a.app = ? AND a.msg = ?"
			    " AND a.code / 100 = ? AND a.msg IN (SELECT m.id FROM msg m WHERE m.app = ?"
			    " AND EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ?)"
			    " AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = ?)) ORDER BY a.id ASC LIMIT 6");
	assert_text(&q, 4, "ch");
	assert_text(&q, 5, "t1");
	query_release(&q);
	aq.channel = aq.tag = NULL;
	json_decref(aq.event_types);
	aq.event_types = NULL;
	aq.code_class = 0;
	aq.msg = NULL;
	query_attempt_list(&q, &query_sqlite, &aq, &pg);
	assert_string_equal(query_text(&q), "SELECT " QUERY_ATT_COLS " FROM attempt a WHERE a.app = ?"
					    " AND a.code = 0 ORDER BY a.id ASC LIMIT 6");
	query_release(&q);
}

static void test_delivery_list(void **state)
{
	struct store_delivery_query dq = {.app = "app_1", .endpoint = "ep_1", .status = 2, .tag = "t1", .after = 7};
	struct store_page pg = {NULL, 5, false};
	struct query q;
	(void)state;
	query_delivery_list(&q, &query_pg, &dq, &pg);
	assert_string_equal(query_text(&q),
			    "SELECT d.status, d.next_at, d.msg, " QUERY_MSG_COLS " FROM delivery d JOIN msg m ON"
			    " m.id = d.msg WHERE d.app = $1 AND d.endpoint = $2 AND d.status = $3 AND EXISTS"
			    " (SELECT 1 FROM json_array_elements_text(m.tags::json) t WHERE t = $4)"
			    " AND m.created > $5 ORDER BY d.msg ASC LIMIT 6");
	query_release(&q);
}

static void test_gets_and_scans(void **state)
{
	struct query q;
	(void)state;
	query_msg_get(&q, &query_pg, "app_1", "k");
	assert_string_equal(query_text(&q), MSG_SELECT " m.app = $1 AND (m.id = $2 OR m.event_id = $3)"
						       " ORDER BY (m.id = $4) DESC");
	assert_text(&q, 3, "k");
	query_release(&q);
	query_failed_scan(&q, &query_sqlite, "ep_1", 5, 0);
	assert_string_equal(query_text(&q), QUERY_DUE_COLS " WHERE d.status = 2 AND d.endpoint = ?"
							   " AND d.updated >= ?");
	query_release(&q);
	query_failed_scan(&q, &query_pg, "ep_1", 5, 9);
	assert_string_equal(query_text(&q), QUERY_DUE_COLS " WHERE d.status = 2 AND d.endpoint = $1"
							   " AND d.updated >= $2 AND d.updated <= $3");
	assert_int(&q, 2, 9);
	query_release(&q);
}

/* a row of text columns (NULL is SQL NULL), as a backend would show it */
static const char *text_col(const struct query_row *r, int col)
{
	return ((const char *const *)r->res)[col];
}

static int64_t num_col(const struct query_row *r, int col)
{
	const char *t = text_col(r, col);
	return t ? strtoll(t, NULL, 10) : 0;
}

static json_t *json_col(const struct query_row *r, int col)
{
	const char *t = text_col(r, col);
	return t ? json_loads(t, 0, NULL) : NULL;
}

static char *bytes_col(const struct query_row *r, int col, size_t *len)
{
	const char *t = text_col(r, col);
	*len = t ? strlen(t) : 0;
	return t ? strdup(t) : NULL;
}

static const struct query_row_ops fake_ops = {text_col, num_col, json_col, bytes_col};

static void test_row_shapes(void **state)
{
	const char *msg[] = {"msg_1", NULL, "a.b", "[\"ch\"]", "{\"x\":1}", "1000", "[\"t1\"]"};
	const char *in[] = {"in_1", "src_1", "POST", "/in/src_1", "", "127.0.0.1", "1", NULL, "push",
			    "1", "[\"msg_1\"]", "1000", "{\"h\":\"v\"}", "\xff\xfe"};
	struct query_row r = {&fake_ops, msg, 0};
	json_t *j;
	(void)state;
	j = query_msg_row(&r);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "msg_1");
	assert_true(json_is_null(json_object_get(j, "eventId")) || !json_object_get(j, "eventId"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "payload"), "x")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "channels"), 0)), "ch");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "tags"), 0)), "t1");
	json_decref(j);
	j = query_msg_row_bare(&r);
	assert_int_equal(json_object_size(json_object_get(j, "payload")), 0);
	json_decref(j);

	r.res = in;
	j = query_inbound_row(&r);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "routed");
	assert_null(json_object_get(j, "body"));
	json_decref(j);
	j = query_inbound_row_whole(&r);
	assert_string_equal(json_string_value(json_object_get(j, "bodyEncoding")), "base64");
	assert_string_equal(json_string_value(json_object_get(j, "body")), "//4=");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "headers"), "h")), "v");
	json_decref(j);
	in[13] = "ok";
	j = query_inbound_row_whole(&r);
	assert_string_equal(json_string_value(json_object_get(j, "bodyEncoding")), "utf8");
	assert_string_equal(json_string_value(json_object_get(j, "body")), "ok");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_full_drops_fragment_and_value),
		cmocka_unit_test(test_msg_list_filters),
		cmocka_unit_test(test_msg_list_missing_to),
		cmocka_unit_test(test_in_list_is_capped),
		cmocka_unit_test(test_paging),
		cmocka_unit_test(test_list_finish_reverses),
		cmocka_unit_test(test_attempt_list),
		cmocka_unit_test(test_delivery_list),
		cmocka_unit_test(test_gets_and_scans),
		cmocka_unit_test(test_row_shapes),
	};
	return RUN(tests);
}
