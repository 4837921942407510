/* Retention batches and the single-node claim on SQLite: what goes, what stays, what comes back once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* publish stores a message made at `at` with one pending delivery to ep_1; its id goes to id */
static void publish(struct store *st, int64_t at, char id[ID_MAX])
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = store_write_add(w, SOP_MSG_INSERT);
	struct store_msg *m = &op->u.msg;
	id_new_at("msg_", at, m->id);
	memcpy(id, m->id, ID_MAX);
	snprintf(m->app, sizeof(m->app), "app_1");
	m->event_type = strdup("t.t");
	m->payload = strdup("{}");
	m->payload_len = 2;
	m->created = at;
	m->expires = at + 90 * DAY;
	m->endpoints = calloc(1, ID_MAX);
	snprintf(m->endpoints[0], ID_MAX, "ep_1");
	m->nendpoints = 1;
	assert_int_equal(store_run(st, w), 0);
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
	};
	return RUN(tests);
}
