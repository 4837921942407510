/*
 * store_sqlite_node.c - the cluster operations for the embedded backend,
 * where there is exactly one node (the file is flock'ed), and retention.
 *
 * Everything pending is this process's: node_start remembers when the node
 * started, and claim walks the deliveries that were pending before then
 * (what a previous run left behind) once, in (msg, endpoint) order, and
 * afterwards finds nothing: later work reaches the dispatcher in memory.
 * Tokens are granted as asked (the dispatcher's own bucket is the limit);
 * locks always succeed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store_sqlite.h"

int sq_node_start(void *arg, const char *node, int64_t lease_ms, char *err, size_t errlen)
{
	struct sqlite_be *be = arg;
	be->started_ms = clock_now_ms();
	be->claim_msg[0] = be->claim_ep[0] = '\0';
	be->claim_done = false;
	return 0;
}

int sq_node_renew(void *arg, int *live_nodes, int64_t *expiry_in)
{
	*live_nodes = 1;
	*expiry_in = -1;
	return 0;
}

int sq_node_stop(void *arg)
{
	return 0;
}

/* sq_claim hands back, batch by batch, what was pending when the node started */
int sq_claim(void *arg, int limit, int64_t horizon, store_due_fn fn, void *fnarg)
{
	struct sqlite_be *be = arg;
	struct sqlite_reader *r;
	sqlite3_stmt *st = NULL;
	struct store_due d;
	int rc = 0, n = 0, src;

	if (be->claim_done)
		return 0;
	r = sq_reader_take(be);
	if (!r)
		return HK_EDB;
	if (sqlite3_prepare_v2(r->db,
			       "SELECT d.msg, d.endpoint, d.app, d.attempts, d.next_at, d.status,"
			       " m.event_type, m.payload, m.headers FROM delivery d JOIN msg m ON m.id = d.msg"
			       " WHERE d.status = 1 AND d.updated <= ?3 AND (d.msg > ?1 OR (d.msg = ?1 AND"
			       " d.endpoint > ?2)) ORDER BY d.msg, d.endpoint LIMIT ?4",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = sq_db_err(r->db, SQLITE_ERROR, "claim");
		goto out;
	}
	sqlite3_bind_text(st, 1, be->claim_msg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, be->claim_ep, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, be->started_ms);
	sqlite3_bind_int(st, 4, limit);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(d.msg, sizeof(d.msg), "%s", col_text(st, 0));
		snprintf(d.endpoint, sizeof(d.endpoint), "%s", col_text(st, 1));
		snprintf(d.app, sizeof(d.app), "%s", col_text(st, 2));
		d.attempts = sqlite3_column_int(st, 3);
		d.next_at = sqlite3_column_int64(st, 4);
		d.status = sqlite3_column_int(st, 5);
		d.event_type = col_text(st, 6);
		d.payload = sqlite3_column_type(st, 7) == SQLITE_NULL ? NULL : sqlite3_column_blob(st, 7);
		d.len = (size_t)sqlite3_column_bytes(st, 7);
		d.headers = col_text(st, 8);
		memcpy(be->claim_msg, d.msg, sizeof(d.msg));
		memcpy(be->claim_ep, d.endpoint, sizeof(d.endpoint));
		n++;
		fn(&d, fnarg);
	}
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sq_db_err(r->db, src, "claim");
	else if (n < limit)
		be->claim_done = true;
out:
	sqlite3_finalize(st);
	sq_reader_give(be, r);
	return rc < 0 ? rc : n;
}

/* with no other node to hear from, waiting is a poll on wake_fd */
int sq_wait(void *arg, int wake_fd, int timeout_ms)
{
	struct pollfd p = {.fd = wake_fd, .events = POLLIN};
	if (wake_fd < 0)
		return 0;
	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
		return HK_EIO;
	return 0;
}

int sq_take_tokens(void *arg, const char *endpoint, int rate, int want, int *granted,
			  int64_t *valid_ms)
{
	*granted = want;
	*valid_ms = 1000;
	return 0;
}

int sq_try_lock(void *arg, int64_t key)
{
	return 0;
}

void sq_unlock(void *arg, int64_t key)
{
}

/* ---- retention ---- */

static const char *const retain_sql[] = {
	"DELETE FROM attempt WHERE id IN (SELECT id FROM attempt WHERE id < ?1 ORDER BY id LIMIT ?3)",
	"DELETE FROM delivery WHERE status NOT IN (1, 3) AND msg IN (SELECT m.id FROM msg m WHERE m.id < ?2"
	" AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.msg = m.id AND d.status IN (1, 3))"
	" ORDER BY m.id LIMIT ?3)",
	"DELETE FROM msg WHERE id IN (SELECT m.id FROM msg m WHERE m.id < ?2 AND NOT EXISTS"
	" (SELECT 1 FROM delivery d WHERE d.msg = m.id) ORDER BY m.id LIMIT ?3)",
	"DELETE FROM inbound WHERE id IN (SELECT id FROM inbound WHERE id < ?5 AND status <> 0"
	" ORDER BY id LIMIT ?3)",
	"UPDATE msg SET payload = NULL WHERE id IN (SELECT id FROM msg WHERE payload IS NOT NULL"
	" AND expires > 0 AND expires < ?4 LIMIT ?3)",
	"DELETE FROM idem WHERE key IN (SELECT key FROM idem WHERE expires < ?4 LIMIT ?3)",
	"DELETE FROM inbound_dedupe WHERE (source, key) IN (SELECT source, key FROM inbound_dedupe"
	" WHERE expires < ?4 LIMIT ?3)",
	"DELETE FROM hook_run WHERE id IN (SELECT id FROM hook_run WHERE id < ?6 AND status NOT IN (0, 1)"
	" ORDER BY id LIMIT ?3)",
	"DELETE FROM doc WHERE kind = 'task' AND id IN (SELECT id FROM doc WHERE kind = 'task' AND id < ?7"
	" ORDER BY id LIMIT ?3)",
};

int sq_retain(struct sqlite_be *be, const struct store_retain *rt)
{
	char att[ID_MAX], msg[ID_MAX], evt[ID_MAX], run[ID_MAX], task[ID_MAX];
	int rc = 0;

	id_new_at("atmpt_", rt->before, att);
	id_new_at("msg_", rt->before, msg);
	id_new_at("evt_", rt->before, evt);
	id_new_at("run_", rt->before, run);
	id_new_at("qtask_", rt->before, task);
	for (size_t i = 0; rc == 0 && i < sizeof(retain_sql) / sizeof(retain_sql[0]); i++) {
		sqlite3_stmt *st = NULL;
		int changes;
		if (sqlite3_prepare_v2(be->wdb, retain_sql[i], -1, &st, NULL) != SQLITE_OK)
			return sq_db_err(be->wdb, SQLITE_ERROR, "retention");
		sqlite3_bind_text(st, 1, att, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, msg, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, rt->limit);
		sqlite3_bind_int64(st, 4, rt->now);
		sqlite3_bind_text(st, 5, evt, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, run, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, task, -1, SQLITE_STATIC);
		rc = sq_step_done(be, st, "retention");
		changes = sqlite3_changes(be->wdb);
		sqlite3_finalize(st);
		if (rc == 0) {
			*rt->removed += changes;
			if (changes >= rt->limit)
				*rt->more = true;
		}
	}
	/* give the freed pages back to the file system, a bounded number per batch,
	 * so the database file stays bounded (auto_vacuum=INCREMENTAL) */
	if (rc == 0 && *rt->removed > 0)
		rc = sq_exec(be->wdb, "PRAGMA incremental_vacuum(2000)");
	return rc;
}
