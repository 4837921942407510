/*
 * store_sqlite_hooks.c - command-hook runs in SQLite (store.h describes the
 * record and its states). One row per run in hook_run; the request that
 * triggered it stays in the inbound journal, referenced by event id.
 *
 * An update binds only what it knows: NULL strings and zero times keep the
 * stored value (COALESCE / NULLIF in the statement), so the writer can send
 * "running" with a start time and later the result without re-sending
 * everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store_sqlite.h"

enum { HR_INSERT, HR_UPDATE };

static const char *const hrsql[2] = {
	[HR_INSERT] = "INSERT INTO hook_run(id,hook,event,trigger,retry_of,coalesced_into,status,exit_code,"
		      "signal,duration,output,truncated,error,created,started,ended,updated)"
		      " VALUES(?1,?2,?3,?4,NULLIF(?5,''),NULLIF(?6,''),?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)",
	[HR_UPDATE] = "UPDATE hook_run SET status=?7, exit_code=?8, signal=?9, duration=?10,"
		      " output=COALESCE(?11, output), truncated=?12, error=COALESCE(?13, error),"
		      " started=COALESCE(NULLIF(?15,0), started), ended=COALESCE(NULLIF(?16,0), ended),"
		      " coalesced_into=COALESCE(NULLIF(?6,''), coalesced_into), updated=?17 WHERE id=?1"
		      " AND (?18 = 0 OR status IN (0, 1))",
};

static sqlite3_stmt *hrstmt(struct sqlite_be *be, int which)
{
	if (!be->hr[which] &&
	    sqlite3_prepare_v3(be->wdb, hrsql[which], -1, SQLITE_PREPARE_PERSISTENT, &be->hr[which],
			       NULL) != SQLITE_OK)
		return NULL;
	return be->hr[which];
}

void sq_hook_run_finalize(struct sqlite_be *be)
{
	for (int i = 0; i < 2; i++) {
		sqlite3_finalize(be->hr[i]);
		be->hr[i] = NULL;
	}
}

int sq_hook_run_apply(struct sqlite_be *be, const struct store_op *op)
{
	const struct store_hook_run *h = &op->u.run;
	bool insert = op->kind == SOP_HOOK_RUN_INSERT;
	sqlite3_stmt *st = hrstmt(be, insert ? HR_INSERT : HR_UPDATE);
	int rc;

	if (!st)
		return HK_EDB;
	sqlite3_bind_text(st, 1, h->id, -1, SQLITE_STATIC);
	if (insert) {
		sqlite3_bind_text(st, 2, h->hook, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, h->event, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, h->trigger, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, h->retry_of, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 14, h->created);
	}
	sqlite3_bind_text(st, 6, h->coalesced_into, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, h->status);
	sqlite3_bind_int(st, 8, h->exit_code);
	sqlite3_bind_int(st, 9, h->signal);
	sqlite3_bind_int64(st, 10, h->duration_ms);
	if (h->output)
		sqlite3_bind_blob(st, 11, h->output, (int)h->output_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 12, h->truncated);
	if (h->error)
		sqlite3_bind_text(st, 13, h->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, h->started);
	sqlite3_bind_int64(st, 16, h->ended);
	sqlite3_bind_int64(st, 17, clock_now_ms());
	if (!insert)
		sqlite3_bind_int(st, 18, h->only_open);
	rc = sq_step_done(be, st, insert ? "hook run insert" : "hook run update");
	if (rc == 0 && !insert && sqlite3_changes(be->wdb) == 0)
		rc = h->only_open ? HK_ECONFLICT : HK_ENOTFOUND;
	return rc;
}

/* ---- reads ---- */

int sq_hook_run_list(void *arg, const char *hook, const struct store_page *pg, struct store_list *out)
{
	struct query q;
	bool back = query_hook_run_list(&q, &query_sqlite, hook, pg);

	return run_list(arg, &q, pg, back, query_run_row, out);
}

int sq_hook_run_get(void *arg, const char *hook, const char *id, json_t **out)
{
	struct query q;

	query_hook_run_get(&q, &query_sqlite, hook, id);
	return single(arg, &q, query_run_row_whole, out);
}

struct open_runs {
	store_hook_run_fn fn;
	void *arg;
};

/* only a callback's error stops the scan */
static int open_run_read(sqlite3_stmt *st, void *arg)
{
	struct open_runs *o = arg;
	struct store_hook_run_ref ref;
	int rc;

	snprintf(ref.id, sizeof(ref.id), "%s", col_text(st, 0));
	snprintf(ref.hook, sizeof(ref.hook), "%s", col_text(st, 1));
	snprintf(ref.event, sizeof(ref.event), "%s", col_text(st, 2));
	ref.status = sqlite3_column_int(st, 3);
	ref.owned = false; /* one node: no leases */
	rc = o->fn(&ref, o->arg);
	return rc < 0 ? rc : 0;
}

int sq_hook_run_open_scan(void *arg, const char *after, int limit, store_hook_run_fn fn, void *fnarg)
{
	struct open_runs o = {fn, fnarg};
	struct query q;

	query_init(&q, &query_sqlite, "SELECT id, hook, event, status FROM hook_run WHERE status IN (0, 1)");
	query_s(&q, " AND id > ?", after);
	query_i(&q, " ORDER BY id LIMIT ?", limit);
	return sq_read(arg, &q, open_run_read, &o);
}
