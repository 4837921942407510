/* Retention batches and the single-node claim on SQLite: what goes, what stays, what comes back once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "store/store.h"
#include "test.h"

#define DAY (86400LL * 1000)

static char dir[64];

static int setup(void **state)
{
	char url[128], err[256];
	struct store *st;
	snprintf(dir, sizeof(dir), "/tmp/hookd-retain-XXXXXX");
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

/* publish_sized stores a message made at `at`, its payload len bytes, with one pending delivery to ep_1 */
static void publish_sized(struct store *st, int64_t at, size_t len, char id[ID_MAX])
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = store_write_add(w, SOP_MSG_INSERT);
	struct store_msg *m = &op->u.msg;
	id_new_at("msg_", at, m->id);
	memcpy(id, m->id, ID_MAX);
	snprintf(m->app, sizeof(m->app), "app_1");
	m->event_type = strdup("t.t");
	m->payload = malloc(len + 1);
	memset(m->payload, ' ', len);
	m->payload[0] = '{';
	m->payload[len - 1] = '}';
	m->payload[len] = '\0';
	m->payload_len = len;
	m->created = at;
	m->expires = at + 90 * DAY;
	m->endpoints = calloc(1, ID_MAX);
	snprintf(m->endpoints[0], ID_MAX, "ep_1");
	m->nendpoints = 1;
	assert_int_equal(store_run(st, w), 0);
}

static void publish(struct store *st, int64_t at, char id[ID_MAX])
{
	publish_sized(st, at, 2, id);
}

/* attempt records a successful attempt made at `at`, settling the delivery */
static void attempt(struct store *st, const char *msg, int64_t at)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_attempt *a = &store_write_add(w, SOP_ATTEMPT)->u.att;
	id_new_at("atmpt_", at, a->id);
	snprintf(a->msg, sizeof(a->msg), "%s", msg);
	snprintf(a->endpoint, sizeof(a->endpoint), "ep_1");
	snprintf(a->app, sizeof(a->app), "app_1");
	a->url = strdup("http://x");
	a->code = 200;
	a->created = at;
	a->delivery_status = MSG_SUCCESS;
	a->attempts = 1;
	assert_int_equal(store_run(st, w), 0);
}

static void test_retention_keeps_pending_and_recent(void **state)
{
	struct store *st = *state;
	int64_t now = clock_now_ms();
	char old_done[ID_MAX], old_pending[ID_MAX], fresh[ID_MAX];
	json_t *doc;

	publish(st, now - 40 * DAY, old_done);
	attempt(st, old_done, now - 40 * DAY);
	publish(st, now - 40 * DAY, old_pending);
	publish(st, now - DAY, fresh);
	attempt(st, fresh, now - DAY);
	/* two attempts, two settled deliveries and messages: the old ones go */
	assert_true(store_retention_run(st, 30) >= 3);
	assert_int_equal(store_msg_get(st, "app_1", old_done, false, &doc), HK_ENOTFOUND);
	assert_int_equal(store_msg_get(st, "app_1", old_pending, false, &doc), 0);
	json_decref(doc);
	assert_int_equal(store_msg_get(st, "app_1", fresh, false, &doc), 0);
	json_decref(doc);
	assert_int_equal(store_retention_run(st, 30), 0);
}

/* task stores a background task document made at `at` */
static void task(struct store *st, int64_t at, char id[ID_MAX])
{
	struct store_write *w = store_write_new(NULL, NULL);
	json_t *body = json_pack("{s:s}", "status", "finished");

	id_new_at("qtask_", at, id);
	assert_int_equal(store_write_doc(w, SOP_DOC_INSERT, "task", id, "", NULL, body, at, at), 0);
	json_decref(body);
	assert_int_equal(store_run(st, w), 0);
}

static void test_retention_takes_old_tasks(void **state)
{
	struct store *st = *state;
	int64_t now = clock_now_ms();
	char old[ID_MAX], fresh[ID_MAX];
	json_t *doc;

	task(st, now - 40 * DAY, old);
	task(st, now - DAY, fresh);
	assert_int_equal(store_retention_run(st, 30), 1);
	assert_int_equal(store_doc_get(st, "task", "", old, &doc), HK_ENOTFOUND);
	assert_int_equal(store_doc_get(st, "task", "", fresh, &doc), 0);
	json_decref(doc);
}

/* pragma_int reads an integer PRAGMA of the database file on a connection of its own */
static int pragma_int(const char *name)
{
	char path[128], sql[64];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;

	snprintf(path, sizeof(path), "%s/t.db", dir);
	snprintf(sql, sizeof(sql), "PRAGMA %s", name);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_retention_gives_pages_back(void **state)
{
	struct store *st = *state;
	int64_t old = clock_now_ms() - 40 * DAY;
	char id[ID_MAX];
	int pages;

	assert_int_equal(pragma_int("auto_vacuum"), 2); /* incremental */
	for (int i = 0; i < 300; i++) {
		publish_sized(st, old, 8000, id);
		attempt(st, id, old);
	}
	pages = pragma_int("page_count");
	assert_true(pages > 600);
	assert_true(store_retention_run(st, 30) >= 900);
	/* the freed pages went back to the file system, not onto the free list */
	assert_true(pragma_int("freelist_count") < 10);
	assert_true(pragma_int("page_count") < pages / 4);
}

static int count(const struct store_due *d, void *arg)
{
	(void)d;
	(*(int *)arg)++;
	return 0;
}

static void test_claim_returns_what_was_pending_once(void **state)
{
	struct store *st = *state;
	char id[ID_MAX], err[128];
	int n = 0, live;
	int64_t expiry;

	publish(st, clock_now_ms() - 1000, id);
	publish(st, clock_now_ms() - 1000, id);
	assert_int_equal(store_node_start(st, "node-a", 30000, err, sizeof(err)), 0);
	assert_int_equal(store_node_renew(st, &live, &expiry), 0);
	assert_int_equal(live, 1);
	assert_int_equal(store_claim(st, 1, 0, count, &n), 1);
	assert_int_equal(store_claim(st, 10, 0, count, &n), 1);
	assert_int_equal(store_claim(st, 10, 0, count, &n), 0);
	assert_int_equal(n, 2);
	/* a later publish is the dispatcher's in memory, never claimed */
	usleep(2000);
	publish(st, clock_now_ms(), id);
	assert_int_equal(store_claim(st, 10, 0, count, &n), 0);
	assert_int_equal(store_try_lock(st, STORE_LOCK_RETENTION), 0);
	store_unlock(st, STORE_LOCK_RETENTION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_retention_keeps_pending_and_recent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_returns_what_was_pending_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_gives_pages_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_takes_old_tasks, setup, teardown),
	};
	return RUN(tests);
}
