/*
 * store_pg_query.c - what the PostgreSQL backend's read paths share: the
 * runner of queries built by store/query.c (fixed SQL fragments, every
 * value a bound parameter), and typed access to result columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store_pg.h"

/* query_exec runs a built query on c (once more if c had broken: pg_read_again) and releases it */
static PGresult *query_exec(struct query *q, struct pg_conn *c, int *rc)
{
	struct pgp p = {0};
	PGresult *res = NULL;

	for (int i = 0; i < q->n; i++) {
		if (q->args[i].type == QUERY_INT)
			pgp_i(&p, q->args[i].i);
		else
			pgp_s(&p, q->args[i].s);
	}
	for (int tries = 0; tries < 2 && !res; tries++) {
		if (tries && !pg_read_again(c))
			break;
		res = PQexecParams(c->c, query_text(q), p.n, NULL, p.v, p.len, p.fmt, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			*rc = pg_err(c->c, res, query_text(q));
			PQclear(res);
			res = NULL;
		} else {
			*rc = 0;
		}
	}
	query_release(q);
	return res;
}

/* ---- rows: column access for the shapes of store/query.c ---- */

static const char *row_text(const struct query_row *r, int col)
{
	return pg_text(r->res, r->row, col);
}

static int64_t row_num(const struct query_row *r, int col)
{
	return pg_int(r->res, r->row, col);
}

static json_t *row_json(const struct query_row *r, int col)
{
	return pg_json(r->res, r->row, col);
}

static char *row_bytes(const struct query_row *r, int col, size_t *len)
{
	return pg_bytes(r->res, r->row, col, len);
}

static const struct query_row_ops row_ops = {
	.text = row_text,
	.num = row_num,
	.json = row_json,
	.bytes = row_bytes,
};

int pg_run_list(struct pg_be *be, struct query *q, const struct store_page *pg, bool back, query_row_fn row,
		struct store_list *out)
{
	struct pg_conn *c = pg_take(be);
	PGresult *res;
	int rc, n;

	if (!c) {
		query_release(q);
		return HK_EDB;
	}
	res = query_exec(q, c, &rc);
	pg_give(be, c);
	out->items = json_array();
	if (!res)
		return rc;
	n = PQntuples(res);
	for (int i = 0; i < n && i < pg->limit; i++) {
		struct query_row qr = {&row_ops, res, i};
		json_t *item = row(&qr);
		if (item)
			json_array_append_new(out->items, item);
	}
	out->done = n <= pg->limit;
	PQclear(res);
	query_list_finish(out, back);
	return 0;
}

int pg_single(struct pg_be *be, struct query *q, query_row_fn row, json_t **out)
{
	struct store_page pg = {NULL, 1, false};
	struct store_list l = {0};
	int rc;

	query_sql(q, " LIMIT 2");
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
	*d = (struct store_due){0};
	snprintf(d->msg, sizeof(d->msg), "%s", pg_text(res, row, 0));
	snprintf(d->endpoint, sizeof(d->endpoint), "%s", pg_text(res, row, 1));
	snprintf(d->app, sizeof(d->app), "%s", pg_text(res, row, 2));
	d->attempts = (int)pg_int(res, row, 3);
	d->next_at = pg_int(res, row, 4);
	d->status = (int)pg_int(res, row, 5);
}

int pg_scan(struct pg_be *be, struct query *q, store_due_fn fn, void *arg)
{
	struct pg_conn *c = pg_take(be);
	struct store_due d;
	PGresult *res;
	int rc = 0, n;

	if (!c) {
		query_release(q);
		return HK_EDB;
	}
	res = query_exec(q, c, &rc);
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
