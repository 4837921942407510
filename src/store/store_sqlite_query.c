/*
 * store_sqlite_query.c - the list runner of the SQLite backend's read
 * paths: it prepares a query built by store/query.c (fixed SQL fragments,
 * every value a bound parameter), binds, steps and collects the rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store_sqlite.h"

sqlite3_stmt *qb_prepare(struct query *q, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, query_text(q), -1, &st, NULL) != SQLITE_OK) {
		log_error("cannot prepare '%s': %s", query_text(q), sqlite3_errmsg(db));
		query_release(q);
		return NULL;
	}
	for (int i = 0; i < q->n; i++) {
		if (q->args[i].type == QUERY_INT)
			sqlite3_bind_int64(st, i + 1, q->args[i].i);
		else
			sqlite3_bind_text(st, i + 1, q->args[i].s, -1, SQLITE_STATIC);
	}
	query_release(q);
	return st;
}


/* run_list collects limit rows into out->items and sets done and cursors */
int run_list(struct sqlite_be *be, struct query *q, const struct store_page *pg, bool back,
		    row_fn row, struct store_list *out)
{
	struct sqlite_reader *r = sq_reader_take(be);
	sqlite3_stmt *st;
	int n = 0, src, rc = 0;

	if (!r) {
		query_release(q);
		return HK_EDB;
	}
	st = qb_prepare(q, r->db);
	out->items = json_array();
	if (!st) {
		rc = HK_EDB;
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == pg->limit)
			break;
		json_t *item = row(st);
		if (item)
			json_array_append_new(out->items, item);
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		rc = sq_db_err(r->db, src, "list");
	out->done = n <= pg->limit;
	sqlite3_finalize(st);
	query_list_finish(out, back);
out:
	sq_reader_give(be, r);
	return rc;
}

int sq_read(struct sqlite_be *be, struct query *q, sq_read_fn row, void *arg)
{
	struct sqlite_reader *r = sq_reader_take(be);
	sqlite3_stmt *st;
	int rc = 0, n = 0;

	if (!r) {
		query_release(q);
		return HK_EDB;
	}
	st = qb_prepare(q, r->db);
	if (!st) {
		rc = HK_EDB;
		goto out;
	}
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		n++;
		rc = row(st, arg);
	}
	sqlite3_finalize(st);
out:
	sq_reader_give(be, r);
	return rc < 0 ? rc : n;
}

/* ---- row shapes ---- */

json_t *ts_json(int64_t ms)
{
	char ts[40];
	clock_format_ms(ms, ts, sizeof(ts));
	return json_string(ts);
}

const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int single(struct sqlite_be *be, struct query *q, row_fn row, json_t **out)
{
	struct store_page pg = {NULL, 1, false};
	struct store_list l = {0};
	int rc;

	query_sql(q, " LIMIT 2");
	rc = run_list(be, q, &pg, false, row, &l);
	if (rc == 0 && json_array_size(l.items) == 0)
		rc = HK_ENOTFOUND;
	if (rc == 0)
		*out = json_incref(json_array_get(l.items, 0));
	json_decref(l.items);
	return rc;
}

