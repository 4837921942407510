/* The store against a temporary SQLite database: writes, reads, pages, conflicts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/id.h"
#include "store/store.h"
#include "test.h"

static char dir[64];

static int setup(void **state)
{
	char url[128];
	struct store *st;
	char err[256];
	snprintf(dir, sizeof(dir), "/tmp/hookd-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	if (store_open(url, &st, err, sizeof(err)) < 0)
		return -1;
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	store_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int put(struct store *st, enum store_op_kind k, const char *kind, const char *id,
	       const char *parent, const char *uid)
{
	struct store_write *w = store_write_new(NULL, NULL);
	json_t *body = json_pack("{s:s,s:s?}", "id", id, "uid", uid);
	store_write_doc(w, k, kind, id, parent, uid, body, 1, 1);
	json_decref(body);
	return store_run(st, w);
}

static void test_insert_get_by_id_and_uid(void **state)
{
	struct store *st = *state;
	json_t *doc;
	assert_int_equal(put(st, SOP_DOC_INSERT, "app", "app_1", "", "one"), 0);
	assert_int_equal(store_doc_get(st, "app", "", "app_1", &doc), 0);
	assert_string_equal(json_string_value(json_object_get(doc, "uid")), "one");
	json_decref(doc);
	assert_int_equal(store_doc_get(st, "app", "", "one", &doc), 0);
	json_decref(doc);
	assert_int_equal(store_doc_get(st, "app", "", "two", &doc), HK_ENOTFOUND);
	assert_int_equal(store_doc_get(st, "endpoint", "", "app_1", &doc), HK_ENOTFOUND);
}

static void test_uid_unique_per_parent(void **state)
{
	struct store *st = *state;
	assert_int_equal(put(st, SOP_DOC_INSERT, "endpoint", "ep_1", "app_1", "e"), 0);
	assert_int_equal(put(st, SOP_DOC_INSERT, "endpoint", "ep_2", "app_1", "e"), HK_ECONFLICT);
	assert_int_equal(put(st, SOP_DOC_INSERT, "endpoint", "ep_3", "app_2", "e"), 0);
	assert_int_equal(put(st, SOP_DOC_INSERT, "endpoint", "ep_1", "app_9", NULL), HK_ECONFLICT);
}

static void test_failed_write_changes_nothing(void **state)
{
	struct store *st = *state;
	struct store_write *w = store_write_new(NULL, NULL);
	json_t *body = json_object(), *doc;
	store_write_doc(w, SOP_DOC_INSERT, "app", "app_a", "", NULL, body, 1, 1);
	store_write_doc(w, SOP_DOC_UPDATE, "app", "app_missing", "", NULL, body, 1, 1);
	json_decref(body);
	assert_int_equal(store_run(st, w), HK_ENOTFOUND);
	assert_int_equal(store_doc_get(st, "app", "", "app_a", &doc), HK_ENOTFOUND);
}

static void test_delete_cascades(void **state)
{
	struct store *st = *state;
	json_t *doc;
	assert_int_equal(put(st, SOP_DOC_INSERT, "app", "app_p", "", NULL), 0);
	assert_int_equal(put(st, SOP_DOC_INSERT, "endpoint", "ep_c", "app_p", NULL), 0);
	assert_int_equal(put(st, SOP_DOC_DELETE, "app", "app_p", "", NULL), 0);
	assert_int_equal(store_doc_get(st, "endpoint", "app_p", "ep_c", &doc), HK_ENOTFOUND);
	assert_int_equal(put(st, SOP_DOC_DELETE, "app", "app_p", "", NULL), HK_ENOTFOUND);
}

static void test_paging(void **state)
{
	struct store *st = *state;
	struct store_page pg = {NULL, 3, false};
	struct store_list l;
	char ids[7][ID_MAX];
	for (int i = 0; i < 7; i++) {
		id_new("app_", ids[i]);
		assert_int_equal(put(st, SOP_DOC_INSERT, "pg", ids[i], "", NULL), 0);
	}
	assert_int_equal(store_doc_list(st, "pg", "", &pg, &l), 0);
	assert_int_equal(json_array_size(l.items), 3);
	assert_false(l.done);
	assert_string_equal(l.iterator, ids[2]);
	store_list_release(&l);
	pg.iterator = ids[5];
	assert_int_equal(store_doc_list(st, "pg", "", &pg, &l), 0);
	assert_int_equal(json_array_size(l.items), 1);
	assert_true(l.done);
	store_list_release(&l);
	/* newest first, then walk back with the prev iterator */
	pg.iterator = NULL;
	pg.desc = true;
	assert_int_equal(store_doc_list(st, "pg", "", &pg, &l), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l.items, 0), "id")), ids[6]);
	store_list_release(&l);
	char prev[ID_MAX + 1];
	snprintf(prev, sizeof(prev), "-%s", ids[3]);
	pg.iterator = prev;
	assert_int_equal(store_doc_list(st, "pg", "", &pg, &l), 0);
	assert_int_equal(json_array_size(l.items), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l.items, 0), "id")), ids[6]);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l.items, 2), "id")), ids[4]);
	store_list_release(&l);
	pg.limit = 251;
	assert_int_equal(store_doc_list(st, "pg", "", &pg, &l), HK_EINVAL);
}

static void test_idempotency_and_meta(void **state)
{
	struct store *st = *state;
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = store_write_add(w, SOP_IDEM_PUT);
	int status;
	char *body, *val;
	size_t len;
	op->u.idem.key = strdup("k1");
	op->u.idem.status = 201;
	op->u.idem.body = strdup("{\"a\":1}");
	op->u.idem.len = 7;
	op->u.idem.expires = 1LL << 50;
	op = store_write_add(w, SOP_META_PUT);
	op->u.meta.key = strdup("m");
	op->u.meta.value = strdup("v");
	assert_int_equal(store_run(st, w), 0);
	assert_int_equal(store_idem_get(st, "k1", &status, &body, &len), 0);
	assert_int_equal(status, 201);
	assert_string_equal(body, "{\"a\":1}");
	free(body);
	assert_int_equal(store_idem_get(st, "k2", &status, &body, &len), HK_ENOTFOUND);
	assert_int_equal(store_meta_get(st, "m", &val), 0);
	assert_string_equal(val, "v");
	free(val);
}

/* writes no one waits for gather into one commit; a waited write takes them along */
static void test_unwaited_writes_share_a_commit(void **state)
{
	struct store *st = *state;
	uint64_t before = st->stats.commits;
	char id[32];
	json_t *doc;

	for (int i = 0; i < 100; i++) {
		struct store_write *w = store_write_new(NULL, NULL);
		json_t *body = json_object();
		snprintf(id, sizeof(id), "app_%03d", i);
		store_write_doc(w, SOP_DOC_INSERT, "app", id, "", NULL, body, 1, 1);
		json_decref(body);
		assert_int_equal(store_submit(st, w), 0);
	}
	assert_int_equal(put(st, SOP_DOC_INSERT, "app", "app_waited", "", NULL), 0);
	/* FIFO: every earlier write is committed once the waited one is answered */
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "app_%03d", i);
		assert_int_equal(store_doc_get(st, "app", "", id, &doc), 0);
		json_decref(doc);
	}
	assert_true(st->stats.commits - before <= 3);
	/* an unwaited write alone is committed too, after a short linger */
	struct store_write *w = store_write_new(NULL, NULL);
	json_t *body = json_object();
	store_write_doc(w, SOP_DOC_INSERT, "app", "app_alone", "", NULL, body, 1, 1);
	json_decref(body);
	assert_int_equal(store_submit(st, w), 0);
	store_drain(st);
	assert_int_equal(store_doc_get(st, "app", "", "app_alone", &doc), 0);
	json_decref(doc);
}

static void record_rc(struct store_write *w, int rc, void *arg)
{
	(void)w;
	*(int *)arg = rc;
}

/*
 * A backend whose savepoints cost a round trip runs a batch without them;
 * a write failing there sends the whole batch again with savepoints, so the
 * failing write fails whole and alone, and the others commit.
 */
static void test_optimistic_batch_reruns_guarded(void **state)
{
	struct store *st = *state;
	static struct store_ops ops;
	int rc[3] = {1, 1, 1};
	json_t *doc;

	ops = *st->ops;
	ops.caps |= STORE_CAP_OPTIMISTIC;
	st->ops = &ops;
	assert_int_equal(put(st, SOP_DOC_INSERT, "endpoint", "ep_0", "app_1", "taken"), 0);
	assert_int_equal(st->guarded, 0); /* no write failed: no savepoints needed */
	const char *uids[3] = {"a", "b", "c"};
	for (int i = 0; i < 3; i++) {
		char id[16];
		struct store_write *w = store_write_new(record_rc, &rc[i]);
		json_t *body = json_object();
		snprintf(id, sizeof(id), "ep_%d", i + 1);
		store_write_doc(w, SOP_DOC_INSERT, "endpoint", id, "app_1", uids[i], body, 1, 1);
		if (i == 1) /* the failing write changed a row before its failing op: undone too */
			store_write_doc(w, SOP_DOC_INSERT, "endpoint", "ep_9", "app_1", "taken", body, 1, 1);
		json_decref(body);
		assert_int_equal(store_submit(st, w), 0);
	}
	store_drain(st);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], HK_ECONFLICT);
	assert_int_equal(rc[2], 0);
	assert_int_equal(store_doc_get(st, "endpoint", "app_1", "ep_1", &doc), 0);
	json_decref(doc);
	assert_int_equal(store_doc_get(st, "endpoint", "app_1", "ep_2", &doc), HK_ENOTFOUND);
	assert_int_equal(store_doc_get(st, "endpoint", "app_1", "ep_9", &doc), HK_ENOTFOUND);
	assert_int_equal(store_doc_get(st, "endpoint", "app_1", "ep_3", &doc), 0);
	json_decref(doc);
	assert_true(st->guarded > 0); /* the next batches keep their savepoints */
}

static int failing_commits;
static int (*real_commit)(void *be);

static int flaky_commit(void *be)
{
	if (failing_commits > 0) {
		failing_commits--;
		return HK_EIO;
	}
	return real_commit(be);
}

/*
 * A batch that fails whole (the database out of reach) fails its waited
 * writes at once; the writes nobody waits for (attempt results) are kept and
 * committed once the database answers again.
 */
static void test_failed_batch_keeps_unwaited_writes(void **state)
{
	struct store *st = *state;
	static struct store_ops ops;
	struct store_write *w;
	int rc = 1;
	json_t *doc, *body = json_object();

	ops = *st->ops;
	real_commit = ops.commit;
	ops.commit = flaky_commit;
	st->ops = &ops;
	failing_commits = 2; /* the optimistic run and its guarded rerun */
	w = store_write_new(NULL, NULL);
	store_write_doc(w, SOP_DOC_INSERT, "app", "app_unwaited", "", NULL, body, 1, 1);
	assert_int_equal(store_submit(st, w), 0);
	w = store_write_new(record_rc, &rc);
	store_write_doc(w, SOP_DOC_INSERT, "app", "app_waited", "", NULL, body, 1, 1);
	assert_int_equal(store_submit(st, w), 0);
	json_decref(body);
	store_drain(st);
	assert_int_equal(failing_commits, 0);
	assert_int_equal(rc, HK_EIO);
	assert_int_equal(store_doc_get(st, "app", "", "app_waited", &doc), HK_ENOTFOUND);
	assert_int_equal(store_doc_get(st, "app", "", "app_unwaited", &doc), 0);
	json_decref(doc);
	assert_int_equal(st->retry_ms, 0); /* the pause is over once a batch commits */
}

static int journal_event(struct store *st, const char *id, const char *key)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_inbound *in = &store_write_add(w, SOP_INBOUND_INSERT)->u.in;
	snprintf(in->id, sizeof(in->id), "%s", id);
	snprintf(in->source, sizeof(in->source), "src_1");
	snprintf(in->method, sizeof(in->method), "POST");
	in->dedupe_key = strdup(key);
	in->body = strdup("{}");
	in->body_len = 2;
	in->status = INBOUND_RECEIVED;
	in->created = 1000;
	in->dedupe_expires = 1000 + 60000;
	return store_run(st, w);
}

static int mark_routed(struct store *st, const char *id, int expect)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_inbound_routed *r = &store_write_add(w, SOP_INBOUND_ROUTED)->u.routed;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->status = INBOUND_ROUTED;
	r->expect = expect;
	r->routed = strdup("[]");
	return store_run(st, w);
}

/* an event is routed once: a second pass that expects it unrouted fails whole */
static void test_inbound_routed_once(void **state)
{
	struct store *st = *state;
	assert_int_equal(journal_event(st, "evt_1", "k1"), 0);
	assert_int_equal(journal_event(st, "evt_2", "k1"), HK_ECONFLICT); /* a duplicate key */
	assert_int_equal(mark_routed(st, "evt_1", INBOUND_RECEIVED), 0);
	assert_int_equal(mark_routed(st, "evt_1", INBOUND_RECEIVED), HK_ECONFLICT);
	assert_int_equal(mark_routed(st, "evt_1", -1), 0); /* a replay routes it again */
	assert_int_equal(mark_routed(st, "evt_none", -1), HK_ECONFLICT);
}

static void test_second_open_refused(void **state)
{
	struct store *other;
	char url[128], err[256];
	(void)state;
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	assert_int_equal(store_open(url, &other, err, sizeof(err)), HK_EBUSY);
	assert_non_null(strstr(err, "in use"));
}

/* msg stores a message of app_1 with no deliveries; event_id may be NULL */
static void msg(struct store *st, const char *id, const char *event_id)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_msg *m = &store_write_add(w, SOP_MSG_INSERT)->u.msg;
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(m->app, sizeof(m->app), "app_1");
	m->event_id = event_id ? strdup(event_id) : NULL;
	m->event_type = strdup("t.t");
	m->payload = strdup("{}");
	m->payload_len = 2;
	m->created = 1000;
	m->expires = 1LL << 50;
	assert_int_equal(store_run(st, w), 0);
}

/* a key that is one message's id and another's eventId finds the first */
static void test_msg_get_prefers_id(void **state)
{
	struct store *st = *state;
	json_t *m;
	msg(st, "msg_0", "msg_a");
	msg(st, "msg_a", NULL);
	assert_int_equal(store_msg_get(st, "app_1", "msg_a", false, &m), 0);
	assert_string_equal(json_string_value(json_object_get(m, "id")), "msg_a");
	json_decref(m);
	assert_int_equal(store_msg_get(st, "app_1", "msg_c", false, &m), HK_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_insert_get_by_id_and_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uid_unique_per_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_cascades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency_and_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwaited_writes_share_a_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optimistic_batch_reruns_guarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_batch_keeps_unwaited_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_routed_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_open_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msg_get_prefers_id, setup, teardown),
	};
	return RUN(tests);
}
