/*
 * store_pg_inbound.c - the inbound journal in PostgreSQL, as the SQLite
 * backend keeps it (see store_sqlite_inbound.c for the model).
 *
 * The de-duplication claim is an upsert that only replaces an expired key.
 * Two nodes receiving the same delivery at once both try it: the second
 * waits on the first's row lock, then sees the committed live key, touches
 * no row and fails with HK_ECONFLICT, so one event is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "store/store_pg.h"

static int inbound_insert(struct pg_be *be, const struct store_inbound *in)
{
	struct pgp p = {0};
	int rc, changes = 0;

	pgp_s(&p, in->source);
	pgp_s(&p, in->dedupe_key);
	pgp_s(&p, in->id);
	pgp_i(&p, in->dedupe_expires);
	pgp_i(&p, in->created);
	rc = pg_wexec(be, PW_IN_CLAIM, &p, &changes);
	if (rc < 0)
		return rc;
	if (changes == 0)
		return HK_ECONFLICT;
	memset(&p, 0, sizeof(p));
	pgp_s(&p, in->id);
	pgp_s(&p, in->source);
	pgp_s(&p, in->dedupe_key);
	pgp_s(&p, in->method);
	pgp_s(&p, in->path ? in->path : "");
	pgp_s(&p, in->query ? in->query : "");
	pgp_s(&p, in->headers ? in->headers : "{}");
	pgp_b(&p, in->body, in->body_len);
	pgp_s(&p, in->remote ? in->remote : "");
	pgp_i(&p, in->verified);
	pgp_s(&p, in->reason);
	pgp_s(&p, in->event_type);
	pgp_i(&p, in->created);
	pgp_i(&p, in->status);
	return pg_wexec(be, PW_IN_INSERT, &p, NULL);
}

int pg_inbound_apply(struct pg_be *be, const struct store_op *op)
{
	struct pgp p = {0};
	int rc, changes = 0;

	switch (op->kind) {
	case SOP_INBOUND_INSERT:
		return inbound_insert(be, &op->u.in);
	case SOP_INBOUND_ROUTED:
		pgp_s(&p, op->u.routed.id);
		pgp_i(&p, op->u.routed.status);
		pgp_s(&p, op->u.routed.routed);
		pgp_i(&p, clock_now_ms());
		pgp_i(&p, op->u.routed.expect);
		rc = pg_wexec(be, PW_IN_ROUTED, &p, &changes);
		return rc == 0 && changes == 0 ? HK_ECONFLICT : rc;
	case SOP_SOURCE_COUNT:
		pgp_s(&p, op->u.count.source);
		pgp_i(&p, op->u.count.rejected);
		pgp_i(&p, op->u.count.duplicates);
		return pg_wexec(be, PW_SOURCE_COUNT, &p, NULL);
	default:
		return HK_EINVAL;
	}
}

/* ---- reads ---- */

int pg_inbound_dedupe_get(void *arg, const char *source, const char *key, int64_t now, char event[ID_MAX])
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, source);
	pgp_s(&p, key);
	pgp_i(&p, now);
	res = pg_read1(arg, PR_DEDUPE_GET, &p, &rc);
	if (!res)
		return rc;
	rc = HK_ENOTFOUND;
	if (PQntuples(res) == 1) {
		snprintf(event, ID_MAX, "%s", pg_text(res, 0, 0));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

int pg_inbound_list(void *arg, const char *source, int status, int64_t since, const struct store_page *pg,
		    struct store_list *out)
{
	struct query q;
	bool back = query_inbound_list(&q, &query_pg, source, status, since, pg);

	return pg_run_list(arg, &q, pg, back, query_inbound_row, out);
}

int pg_inbound_get(void *arg, const char *source, const char *id, json_t **out)
{
	struct query q;

	query_inbound_get(&q, &query_pg, source, id);
	return pg_single(arg, &q, query_inbound_row_whole, out);
}

static char *dup_col(const PGresult *res, int col)
{
	const char *s = pg_text(res, 0, col);
	return strdup(s ? s : "");
}

int pg_inbound_raw(void *arg, const char *id, struct store_inbound_raw *out)
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, id);
	res = pg_read1(arg, PR_INBOUND_RAW, &p, &rc);
	if (!res)
		return rc;
	rc = HK_ENOTFOUND;
	if (PQntuples(res) == 1) {
		snprintf(out->id, sizeof(out->id), "%s", pg_text(res, 0, 0));
		snprintf(out->source, sizeof(out->source), "%s", pg_text(res, 0, 1));
		out->method = dup_col(res, 2);
		out->path = dup_col(res, 3);
		out->query = dup_col(res, 4);
		out->headers = dup_col(res, 5);
		out->event_type = pg_text(res, 0, 6) ? dup_col(res, 6) : NULL;
		out->body = pg_bytes(res, 0, 7, &out->body_len);
		out->status = (int)pg_int(res, 0, 8);
		rc = out->method && out->path && out->query && out->headers && out->body ? 0 : HK_ENOMEM;
		if (rc < 0)
			store_inbound_raw_release(out);
	}
	PQclear(res);
	return rc;
}

int pg_source_stats(void *arg, const char *source, struct store_source_stats *out)
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, source);
	res = pg_read1(arg, PR_SOURCE_STATS, &p, &rc);
	if (!res)
		return rc;
	if (PQntuples(res) == 1) {
		out->received = pg_int(res, 0, 0);
		out->verified = pg_int(res, 0, 1);
		out->rejected = pg_int(res, 0, 2);
		out->duplicates = pg_int(res, 0, 3);
	}
	PQclear(res);
	return 0;
}

int pg_inbound_unrouted_scan(void *arg, const char *after, int limit, store_inbound_fn fn, void *fnarg)
{
	struct pgp p = {0};
	PGresult *res;
	int rc = 0, n;

	pgp_s(&p, after ? after : "");
	pgp_i(&p, limit);
	res = pg_read1(arg, PR_UNROUTED, &p, &rc);
	if (!res)
		return rc;
	n = PQntuples(res);
	for (int i = 0; i < n && rc == 0; i++)
		rc = fn(pg_text(res, i, 0), fnarg);
	PQclear(res);
	return rc < 0 ? rc : n;
}
