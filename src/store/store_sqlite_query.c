/*
 * store_sqlite_query.c - how the SQLite backend runs the queries built by
 * store/query.c (fixed SQL fragments, every value a bound parameter): it
 * prepares and binds them, collects a page of rows shaped by query.c
 * (run_list, single) or hands each row to a callback (sq_read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store_sqlite.h"

void sq_bind(sqlite3_stmt *st, const struct query_arg *args, int n)
{
	for (int i = 0; i < n; i++) {
		if (args[i].type == QUERY_INT)
			sqlite3_bind_int64(st, i + 1, args[i].i);
		else
			sqlite3_bind_text(st, i + 1, args[i].s, -1, SQLITE_STATIC);
	}
}

sqlite3_stmt *qb_prepare(struct query *q, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, query_text(q), -1, &st, NULL) != SQLITE_OK) {
		log_error("cannot prepare '%s': %s", query_text(q), sqlite3_errmsg(db));
		query_release(q);
		return NULL;
	}
	sq_bind(st, q->args, q->n);
	query_release(q);
	return st;
}

/* ---- rows: column access for the shapes of store/query.c ---- */

static const char *row_text(const struct query_row *r, int col)
{
	return col_text(r->res, col);
}

static int64_t row_num(const struct query_row *r, int col)
{
	return sqlite3_column_int64(r->res, col);
}

static json_t *row_json(const struct query_row *r, int col)
{
	return sq_column_json(r->res, col);
}

static char *row_bytes(const struct query_row *r, int col, size_t *len)
{
	size_t n;
	char *out;

	*len = 0;
	if (sqlite3_column_type(r->res, col) == SQLITE_NULL)
		return NULL;
	n = (size_t)sqlite3_column_bytes(r->res, col);
	out = malloc(n + 1);
	if (!out)
		return NULL;
	if (n)
		memcpy(out, sqlite3_column_blob(r->res, col), n);
	out[n] = '\0';
	*len = n;
	return out;
}

static const struct query_row_ops row_ops = {
	.text = row_text,
	.num = row_num,
	.json = row_json,
	.bytes = row_bytes,
};

/* run_list collects limit rows into out->items and sets done and cursors */
int run_list(struct sqlite_be *be, struct query *q, const struct store_page *pg, bool back,
		    query_row_fn row, struct store_list *out)
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
		struct query_row qr = {&row_ops, st, 0};
		json_t *item = row(&qr);
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

const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int single(struct sqlite_be *be, struct query *q, query_row_fn row, json_t **out)
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

