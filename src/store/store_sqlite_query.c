/*
 * store_sqlite_query.c - the query builder and list runner shared by the
 * SQLite backend's read paths: filters become fixed SQL fragments with
 * bound parameters, never text from the request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store_sqlite.h"



void qb_init(struct qb *q, const char *base)
{
	buf_init(&q->sql, 8192);
	buf_appends(&q->sql, base);
	q->n = 0;
}

void qb_s(struct qb *q, const char *frag, const char *s)
{
	if (q->n == QB_MAX_ARGS)
		return;
	buf_appends(&q->sql, frag);
	q->args[q->n].is_int = false;
	q->args[q->n++].s = s;
}

void qb_i(struct qb *q, const char *frag, int64_t i)
{
	if (q->n == QB_MAX_ARGS)
		return;
	buf_appends(&q->sql, frag);
	q->args[q->n].is_int = true;
	q->args[q->n++].i = i;
}

/* qb_in adds " AND col IN (?,?,..)" for a JSON array of strings */
void qb_in(struct qb *q, const char *col, json_t *names)
{
	size_t i;
	json_t *v;

	if (!json_array_size(names))
		return;
	buf_printf(&q->sql, " AND %s IN (", col);
	json_array_foreach(names, i, v) {
		if (i >= 32)
			break;
		qb_s(q, i ? ",?" : "?", json_string_value(v));
	}
	buf_appends(&q->sql, ")");
}

/* qb_page adds the cursor condition and order for key column col */
bool qb_page(struct qb *q, const char *col, const struct store_page *pg)
{
	const char *it = pg->iterator;
	bool back = it && it[0] == '-';
	bool desc = pg->desc != back;

	if (back)
		it++;
	if (it && *it) {
		buf_printf(&q->sql, " AND %s %s ?", col, desc ? "<" : ">");
		q->args[q->n].is_int = false;
		q->args[q->n++].s = it;
	}
	buf_printf(&q->sql, " ORDER BY %s %s LIMIT %d", col, desc ? "DESC" : "ASC", pg->limit + 1);
	return back;
}

sqlite3_stmt *qb_prepare(struct qb *q, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, buf_cstr(&q->sql), -1, &st, NULL) != SQLITE_OK) {
		log_error("cannot prepare '%s': %s", buf_cstr(&q->sql), sqlite3_errmsg(db));
		buf_release(&q->sql);
		return NULL;
	}
	for (int i = 0; i < q->n; i++) {
		if (q->args[i].is_int)
			sqlite3_bind_int64(st, i + 1, q->args[i].i);
		else
			sqlite3_bind_text(st, i + 1, q->args[i].s, -1, SQLITE_STATIC);
	}
	buf_release(&q->sql);
	return st;
}


/* run_list collects limit rows into out->items and sets done and cursors */
int run_list(struct sqlite_be *be, struct qb *q, const struct store_page *pg, bool back,
		    row_fn row, struct store_list *out)
{
	struct sqlite_reader *r = sq_reader_take(be);
	sqlite3_stmt *st;
	int n = 0, src, rc = 0;

	if (!r) {
		buf_release(&q->sql);
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
	if (back) {
		json_t *rev = json_array();
		for (size_t i = json_array_size(out->items); i > 0; i--)
			json_array_append(rev, json_array_get(out->items, i - 1));
		json_decref(out->items);
		out->items = rev;
	}
	store_list_set_iterators(out, back);
out:
	sq_reader_give(be, r);
	return rc;
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

int single(struct sqlite_be *be, struct qb *q, row_fn row, json_t **out)
{
	struct store_page pg = {NULL, 1, false};
	struct store_list l = {0};
	int rc;

	buf_appends(&q->sql, " LIMIT 2");
	rc = run_list(be, q, &pg, false, row, &l);
	if (rc == 0 && json_array_size(l.items) == 0)
		rc = HK_ENOTFOUND;
	if (rc == 0)
		*out = json_incref(json_array_get(l.items, 0));
	json_decref(l.items);
	return rc;
}

