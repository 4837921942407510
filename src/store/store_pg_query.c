/*
 * store_pg_query.c - what the PostgreSQL backend's read paths share: a
 * query builder (fixed SQL fragments, every value a bound parameter), the
 * list runner, and typed access to result columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store_pg.h"

void pqb_init(struct pqb *q, const char *base)
{
	buf_init(&q->sql, 8192);
	buf_appends(&q->sql, base);
	memset(&q->p, 0, sizeof(q->p));
}

/* frag_param appends frag with its '?' replaced by the next parameter's number */
static void frag_param(struct pqb *q, const char *frag)
{
	const char *mark = strchr(frag, '?');

	if (!mark) {
		buf_appends(&q->sql, frag);
		return;
	}
	buf_append(&q->sql, frag, (size_t)(mark - frag));
	buf_printf(&q->sql, "$%d", q->p.n + 1);
	buf_appends(&q->sql, mark + 1);
}

void pqb_s(struct pqb *q, const char *frag, const char *s)
{
	if (q->p.n == PGP_MAX)
		return;
	frag_param(q, frag);
	pgp_s(&q->p, s);
}

void pqb_i(struct pqb *q, const char *frag, int64_t i)
{
	if (q->p.n == PGP_MAX)
		return;
	frag_param(q, frag);
	pgp_i(&q->p, i);
}

/* pqb_in adds " AND col IN (...)" for a JSON array of strings (at most 32) */
void pqb_in(struct pqb *q, const char *col, json_t *names)
{
	size_t i;
	json_t *v;

	if (!json_array_size(names))
		return;
	buf_printf(&q->sql, " AND %s IN (", col);
	json_array_foreach(names, i, v) {
		if (i >= 32 || q->p.n >= PGP_MAX - 4)
			break;
		pqb_s(q, i ? ",?" : "?", json_string_value(v));
	}
	buf_appends(&q->sql, ")");
}

bool pqb_page(struct pqb *q, const char *col, const struct store_page *pg)
{
	const char *it = pg->iterator;
	bool back = it && it[0] == '-';
	bool desc = pg->desc != back;

	if (back)
		it++;
	if (it && *it) {
		char frag[96];
		snprintf(frag, sizeof(frag), " AND %s %s ?", col, desc ? "<" : ">");
		pqb_s(q, frag, it);
	}
	buf_printf(&q->sql, " ORDER BY %s %s LIMIT %d", col, desc ? "DESC" : "ASC", pg->limit + 1);
	return back;
}

/* pqb_exec runs the built query on c and releases the builder */
static PGresult *pqb_exec(struct pqb *q, PGconn *c, int *rc)
{
	PGresult *res = PQexecParams(c, buf_cstr(&q->sql), q->p.n, NULL, q->p.v, q->p.len, q->p.fmt, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		*rc = pg_err(c, res, buf_cstr(&q->sql));
		PQclear(res);
		res = NULL;
	} else {
		*rc = 0;
	}
	buf_release(&q->sql);
	return res;
}

int pg_run_list(struct pg_be *be, struct pqb *q, const struct store_page *pg, bool back, pg_row_fn row,
		struct store_list *out)
{
	struct pg_conn *c = pg_take(be);
	PGresult *res;
	int rc, n;

	if (!c) {
		buf_release(&q->sql);
		return HK_EDB;
	}
	res = pqb_exec(q, c->c, &rc);
	pg_give(be, c);
	out->items = json_array();
	if (!res)
		return rc;
	n = PQntuples(res);
	for (int i = 0; i < n && i < pg->limit; i++) {
		json_t *item = row(res, i);
		if (item)
			json_array_append_new(out->items, item);
	}
	out->done = n <= pg->limit;
	PQclear(res);
	if (back) {
		json_t *rev = json_array();
		for (size_t i = json_array_size(out->items); i > 0; i--)
			json_array_append(rev, json_array_get(out->items, i - 1));
		json_decref(out->items);
		out->items = rev;
	}
	store_list_set_iterators(out, back);
	return 0;
}

int pg_single(struct pg_be *be, struct pqb *q, pg_row_fn row, json_t **out)
{
	struct store_page pg = {NULL, 1, false};
	struct store_list l = {0};
	int rc;

	buf_appends(&q->sql, " LIMIT 2");
	rc = pg_run_list(be, q, &pg, false, row, &l);
	if (rc == 0 && json_array_size(l.items) == 0)
		rc = HK_ENOTFOUND;
	if (rc == 0)
		*out = json_incref(json_array_get(l.items, 0));
	json_decref(l.items);
	return rc;
}

void pg_due_from_row(const PGresult *res, int row, struct store_due *d)
{
	snprintf(d->msg, sizeof(d->msg), "%s", pg_text(res, row, 0));
	snprintf(d->endpoint, sizeof(d->endpoint), "%s", pg_text(res, row, 1));
	snprintf(d->app, sizeof(d->app), "%s", pg_text(res, row, 2));
	d->attempts = (int)pg_int(res, row, 3);
	d->next_at = pg_int(res, row, 4);
	d->status = (int)pg_int(res, row, 5);
}

int pg_scan(struct pg_be *be, struct pqb *q, store_due_fn fn, void *arg)
{
	struct pg_conn *c = pg_take(be);
	struct store_due d;
	PGresult *res;
	int rc = 0, n;

	if (!c) {
		buf_release(&q->sql);
		return HK_EDB;
	}
	res = pqb_exec(q, c->c, &rc);
	pg_give(be, c);
	if (!res)
		return rc;
	n = PQntuples(res);
	for (int i = 0; i < n && rc >= 0; i++) {
		pg_due_from_row(res, i, &d);
		rc = fn(&d, arg);
	}
	PQclear(res);
	return rc < 0 ? rc : n;
}

/* ---- columns ---- */

const char *pg_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int64_t pg_int(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

json_t *pg_json(const PGresult *res, int row, int col)
{
	const char *t = pg_text(res, row, col);
	return t ? json_loadb(t, (size_t)PQgetlength(res, row, col), 0, NULL) : NULL;
}

char *pg_bytes(const PGresult *res, int row, int col, size_t *len)
{
	unsigned char *raw;
	char *out;
	size_t n = 0;

	*len = 0;
	if (PQgetisnull(res, row, col))
		return NULL;
	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n);
	if (!raw)
		return NULL;
	out = malloc(n + 1);
	if (out) {
		memcpy(out, raw, n);
		out[n] = '\0';
		*len = n;
	}
	PQfreemem(raw);
	return out;
}

json_t *pg_ts(int64_t ms)
{
	char ts[40];
	clock_format_ms(ms, ts, sizeof(ts));
	return json_string(ts);
}
