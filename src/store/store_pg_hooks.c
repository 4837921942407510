/*
 * store_pg_hooks.c - command-hook runs in PostgreSQL, the same rows and
 * documents as store_sqlite_hooks.c (store.h describes them). An update
 * sends only what it knows: NULL texts and zero times keep stored values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store_pg.h"

int pg_hook_run_apply(struct pg_be *be, const struct store_op *op)
{
	const struct store_hook_run *h = &op->u.run;
	struct pgp p = {0};
	int rc, changes = 0;

	pgp_s(&p, h->id);
	if (op->kind == SOP_HOOK_RUN_INSERT) {
		pgp_s(&p, h->hook);
		pgp_s(&p, h->event);
		pgp_s(&p, h->trigger);
		pgp_s(&p, h->retry_of);
	}
	pgp_s(&p, h->coalesced_into);
	pgp_i(&p, h->status);
	pgp_i(&p, h->exit_code);
	pgp_i(&p, h->signal);
	pgp_i(&p, h->duration_ms);
	if (h->output)
		pgp_b(&p, h->output, h->output_len);
	else
		pgp_s(&p, NULL);
	pgp_i(&p, h->truncated);
	pgp_s(&p, h->error);
	if (op->kind == SOP_HOOK_RUN_INSERT)
		pgp_i(&p, h->created);
	pgp_i(&p, h->started);
	pgp_i(&p, h->ended);
	pgp_i(&p, clock_now_ms());
	if (op->kind == SOP_HOOK_RUN_INSERT)
		pgp_s(&p, be->node); /* "" until the node registered: no owner */
	else
		pgp_i(&p, h->only_open);
	rc = pg_wexec(be, op->kind == SOP_HOOK_RUN_INSERT ? PW_HR_INSERT : PW_HR_UPDATE, &p, &changes);
	if (rc == 0 && op->kind == SOP_HOOK_RUN_UPDATE && changes == 0)
		rc = h->only_open ? HK_ECONFLICT : HK_ENOTFOUND;
	return rc;
}

/* ---- reads ---- */

int pg_hook_run_list(void *arg, const char *hook, const struct store_page *pg, struct store_list *out)
{
	struct query q;
	bool back = query_hook_run_list(&q, &query_pg, hook, pg);

	return pg_run_list(arg, &q, pg, back, query_run_row, out);
}

int pg_hook_run_get(void *arg, const char *hook, const char *id, json_t **out)
{
	struct query q;

	query_hook_run_get(&q, &query_pg, hook, id);
	return pg_single(arg, &q, query_run_row_whole, out);
}

int pg_hook_run_open_scan(void *arg, const char *after, int limit, store_hook_run_fn fn, void *fnarg)
{
	struct pg_be *be = arg;
	struct pg_conn *c = pg_take(be);
	struct pgp p = {0};
	PGresult *res;
	int rc = 0, n;

	if (!c)
		return HK_EDB;
	pgp_s(&p, after);
	pgp_i(&p, limit);
	for (int tries = 0;; tries++) {
		res = PQexecParams(c->c, "SELECT id, hook, event, status, node IS NOT NULL FROM hook_run"
				   " WHERE status IN (0, 1)"
				   " AND id > $1 AND (node IS NULL OR node NOT IN (SELECT id FROM node"
				   " WHERE alive_until >= hookd_now_ms())) ORDER BY id LIMIT $2",
				   p.n, NULL, p.v, p.len, p.fmt, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK || tries || PQstatus(c->c) != CONNECTION_BAD)
			break;
		PQclear(res);
		if (!pg_read_again(c)) {
			pg_give(be, c);
			return HK_EDB;
		}
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = pg_err(c->c, res, "hook run scan");
		PQclear(res);
		pg_give(be, c);
		return rc;
	}
	pg_give(be, c);
	n = PQntuples(res);
	for (int i = 0; i < n && rc >= 0; i++) {
		struct store_hook_run_ref ref;
		snprintf(ref.id, sizeof(ref.id), "%s", pg_text(res, i, 0));
		snprintf(ref.hook, sizeof(ref.hook), "%s", pg_text(res, i, 1));
		snprintf(ref.event, sizeof(ref.event), "%s", pg_text(res, i, 2));
		ref.status = (int)pg_int(res, i, 3);
		ref.owned = pg_text(res, i, 4) && pg_text(res, i, 4)[0] == 't';
		rc = fn(&ref, fnarg);
	}
	PQclear(res);
	return rc < 0 ? rc : n;
}
