/*
 * hookd's SQLite VFS (store_sqlite_vfs.c) gathers WAL frames and writes them
 * at the commit's barrier: a reader on SQLite's own VFS, with a file
 * descriptor of its own, must see every committed row at once, and the file
 * must stay sound for plain SQLite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "core/id.h"
#include "store/store.h"
#include "test.h"

static char dir[64], path[128];

static int setup(void **state)
{
	char url[160], err[256];
	struct store *st;

	snprintf(dir, sizeof(dir), "/tmp/hookd-vfs-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	if (store_open(url, &st, err, sizeof(err)) < 0)
		return -1;
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	if (*state)
		store_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* publish commits n messages of len-byte payloads in one write */
static void publish(struct store *st, int n, size_t len)
{
	struct store_write *w = store_write_new(NULL, NULL);

	for (int i = 0; i < n; i++) {
		struct store_msg *m = &store_write_add(w, SOP_MSG_INSERT)->u.msg;
		id_new("msg_", m->id);
		snprintf(m->app, sizeof(m->app), "app_1");
		m->event_type = strdup("t.t");
		m->payload = malloc(len);
		memset(m->payload, 'x', len);
		m->payload[0] = '"';
		m->payload[len - 1] = '"';
		m->payload_len = len;
		m->created = clock_now_ms();
	}
	assert_int_equal(store_run(st, w), 0);
}

/* count reads how many messages a connection on SQLite's own VFS sees */
static int count(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM msg", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_commits_are_in_the_file_when_published(void **state)
{
	struct store *st = *state;
	sqlite3 *db = NULL;
	int total = 0;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
	/* small commits (frames gathered), and commits larger than the buffer (written as they come) */
	for (int round = 0; round < 40; round++) {
		int n = round % 4 == 3 ? 60 : 3;
		size_t len = round % 4 == 3 ? 5000 : 200;
		publish(st, n, len);
		total += n;
		assert_int_equal(count(db), total);
	}
	sqlite3_close(db);
	store_close(st);
	*state = NULL;
	/* plain SQLite finds the file sound and every row in it */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
	{
		sqlite3_stmt *q = NULL;
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
		sqlite3_finalize(q);
	}
	assert_int_equal(count(db), total);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commits_are_in_the_file_when_published, setup, teardown),
	};
	return RUN(tests);
}
