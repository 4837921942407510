/*
 * store_sqlite_msg.c - messages, deliveries and attempts in SQLite.
 *
 * A message row holds the payload bytes exactly as deliveries send them. A
 * delivery row (msg, endpoint) is the unit of work: pending (with next_at)
 * until an attempt settles it. Attempts are an append-only log. Writes run
 * on the writer connection with statements prepared once; list queries with
 * filters are built per call from fixed fragments and bound parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "store/store_sqlite.h"

static const char *const msql[M__COUNT] = {
	[M_MSG_INSERT] = "INSERT INTO msg(id,app,event_id,event_type,channels,payload,created,expires,headers,"
			 "tags) VALUES(?,?,?,?,?,?,?,?,?,?)",
	[M_DELIVERY_INSERT] = "INSERT INTO delivery(msg,endpoint,app,status,attempts,next_at,updated)"
			      " VALUES(?,?,?,1,0,?,?)",
	[M_ATTEMPT_INSERT] = "INSERT INTO attempt(id,msg,endpoint,app,url,status,code,response,duration,"
			     "trigger,created) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	[M_DELIVERY_ATTEMPT] = "UPDATE delivery SET status=?3, attempts=?4, next_at=?5, updated=?6"
			       " WHERE msg=?1 AND endpoint=?2",
	[M_DELIVERY_SET] = "UPDATE delivery SET status=?3, next_at=?4, updated=?5 WHERE msg=?1 AND endpoint=?2",
	[M_DELIVERY_SET_RESET] = "UPDATE delivery SET status=?3, next_at=?4, updated=?5, attempts=0"
				 " WHERE msg=?1 AND endpoint=?2",
	[M_MSG_EXPUNGE] = "UPDATE msg SET payload=NULL WHERE id=?1",
	[M_DELIVERY_ADD] = "INSERT INTO delivery(msg,endpoint,app,status,attempts,next_at,updated)"
			   " VALUES(?1,?2,?3,1,0,?4,?4) ON CONFLICT DO NOTHING",
	[M_ATTEMPT_EXPUNGE] = "UPDATE attempt SET response='" STORE_EXPUNGED "' WHERE id=?1 AND msg=?2",
};

int sq_msg_prepare(struct sqlite_be *be, char *err, size_t errlen)
{
	for (int i = 0; i < M__COUNT; i++) {
		if (sqlite3_prepare_v3(be->wdb, msql[i], -1, SQLITE_PREPARE_PERSISTENT, &be->m[i], NULL) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "cannot prepare statement: %s", sqlite3_errmsg(be->wdb));
			return HK_EDB;
		}
	}
	return 0;
}

void sq_msg_finalize(struct sqlite_be *be)
{
	for (int i = 0; i < M__COUNT; i++) {
		sqlite3_finalize(be->m[i]);
		be->m[i] = NULL;
	}
}

/* ---- writes ---- */

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int msg_insert(struct sqlite_be *be, const struct store_msg *m)
{
	sqlite3_stmt *st = be->m[M_MSG_INSERT];
	char *channels = m->channels ? json_dumps(m->channels, JSON_COMPACT) : NULL;
	char *headers = m->headers ? json_dumps(m->headers, JSON_COMPACT) : NULL;
	char *tags = m->tags ? json_dumps(m->tags, JSON_COMPACT) : NULL;
	int rc;

	if ((m->channels && !channels) || (m->headers && !headers) || (m->tags && !tags)) {
		rc = HK_ENOMEM;
		goto out;
	}
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->app, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, m->event_id);
	sqlite3_bind_text(st, 4, m->event_type, -1, SQLITE_STATIC);
	bind_text_or_null(st, 5, channels);
	sqlite3_bind_blob(st, 6, m->payload ? m->payload : "", (int)m->payload_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, m->created);
	sqlite3_bind_int64(st, 8, m->expires);
	bind_text_or_null(st, 9, headers);
	bind_text_or_null(st, 10, tags);
	rc = sq_step_done(be, st, "message insert");
	st = be->m[M_DELIVERY_INSERT];
	for (size_t i = 0; rc == 0 && i < m->nendpoints; i++) {
		sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->endpoints[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, m->app, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, m->deliver_at ? m->deliver_at : m->created);
		sqlite3_bind_int64(st, 5, m->created);
		rc = sq_step_done(be, st, "delivery insert");
	}
out:
	free(channels);
	free(headers);
	free(tags);
	return rc;
}

static int attempt_insert(struct sqlite_be *be, const struct store_attempt *a)
{
	sqlite3_stmt *st = be->m[M_ATTEMPT_INSERT];
	int rc;

	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->msg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->url ? a->url : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, a->status);
	sqlite3_bind_int(st, 7, a->code);
	bind_text_or_null(st, 8, a->response);
	sqlite3_bind_int64(st, 9, a->duration_ms);
	sqlite3_bind_int(st, 10, a->trigger);
	sqlite3_bind_int64(st, 11, a->created);
	rc = sq_step_done(be, st, "attempt insert");
	if (rc < 0)
		return rc;
	st = be->m[M_DELIVERY_ATTEMPT];
	sqlite3_bind_text(st, 1, a->msg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, a->delivery_status);
	sqlite3_bind_int(st, 4, a->attempts);
	sqlite3_bind_int64(st, 5, a->next_at);
	sqlite3_bind_int64(st, 6, a->created);
	return sq_step_done(be, st, "delivery update");
}

int sq_msg_apply(struct sqlite_be *be, const struct store_op *op)
{
	sqlite3_stmt *st;
	int rc;
	const struct store_delivery_set *d = &op->u.dset;

	switch (op->kind) {
	case SOP_MSG_INSERT:
		return msg_insert(be, &op->u.msg);
	case SOP_ATTEMPT:
		return attempt_insert(be, &op->u.att);
	case SOP_MSG_EXPUNGE:
		st = be->m[M_MSG_EXPUNGE];
		sqlite3_bind_text(st, 1, op->u.msg.id, -1, SQLITE_STATIC);
		return sq_step_done(be, st, "message expunge");
	case SOP_DELIVERY_ADD:
		st = be->m[M_DELIVERY_ADD];
		sqlite3_bind_text(st, 1, d->msg, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, d->endpoint, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d->app, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, d->next_at);
		return sq_step_done(be, st, "delivery add");
	case SOP_ATTEMPT_EXPUNGE:
		st = be->m[M_ATTEMPT_EXPUNGE];
		sqlite3_bind_text(st, 1, op->u.att.id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, op->u.att.msg, -1, SQLITE_STATIC);
		rc = sq_step_done(be, st, "attempt expunge");
		return rc < 0 ? rc : sqlite3_changes(be->wdb) ? 0 : HK_ENOTFOUND;
	case SOP_DELIVERY_SET:
		st = be->m[d->reset_attempts ? M_DELIVERY_SET_RESET : M_DELIVERY_SET];
		sqlite3_bind_text(st, 1, d->msg, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, d->endpoint, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, d->status);
		sqlite3_bind_int64(st, 4, d->next_at);
		sqlite3_bind_int64(st, 5, clock_now_ms());
		return sq_step_done(be, st, "delivery update");
	default:
		return HK_EINVAL;
	}
}

/* ---- reads ---- */

int sq_msg_get(void *arg, const char *app, const char *key, bool with_content, json_t **out)
{
	struct query q;

	query_msg_get(&q, &query_sqlite, app, key);
	return single(arg, &q, with_content ? query_msg_row : query_msg_row_bare, out);
}

int sq_msg_payload(void *arg, const char *msg, char **payload, size_t *len, char **event_type,
		   char **headers)
{
	struct sqlite_be *be = arg;
	struct sqlite_reader *r = sq_reader_take(be);
	sqlite3_stmt *st = NULL;
	int rc = HK_ENOTFOUND;

	*payload = NULL;
	*event_type = NULL;
	if (!r)
		return HK_EDB;
	if (sqlite3_prepare_v2(r->db, "SELECT payload, event_type, headers FROM msg WHERE id=?", -1, &st, NULL) !=
	    SQLITE_OK) {
		rc = HK_EDB;
		goto out;
	}
	sqlite3_bind_text(st, 1, msg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*len = (size_t)sqlite3_column_bytes(st, 0);
			*payload = malloc(*len + 1);
			if (*payload) {
				if (*len)
					memcpy(*payload, sqlite3_column_blob(st, 0), *len);
				(*payload)[*len] = '\0';
			}
		}
		*event_type = strdup(col_text(st, 1));
		if (col_text(st, 2))
			*headers = strdup(col_text(st, 2));
		rc = 0;
	}
out:
	sqlite3_finalize(st);
	sq_reader_give(be, r);
	return rc;
}

int sq_msg_list(void *arg, const struct store_msg_query *mq, const struct store_page *pg,
		struct store_list *out)
{
	struct query q;
	bool back = query_msg_list(&q, &query_sqlite, mq, pg);

	return run_list(arg, &q, pg, back, mq->with_content ? query_msg_row : query_msg_row_bare, out);
}

int sq_attempt_list(void *arg, const struct store_attempt_query *aq, const struct store_page *pg,
		    struct store_list *out)
{
	struct query q;
	bool back = query_attempt_list(&q, &query_sqlite, aq, pg);

	return run_list(arg, &q, pg, back, query_attempt_row, out);
}

int sq_attempt_get(void *arg, const char *app, const char *msg, const char *id, json_t **out)
{
	struct query q;

	query_attempt_get(&q, &query_sqlite, app, msg, id);
	return single(arg, &q, query_attempt_row, out);
}

int sq_delivery_list(void *arg, const struct store_delivery_query *dq, const struct store_page *pg,
		     struct store_list *out)
{
	struct query q;
	bool back = query_delivery_list(&q, &query_sqlite, dq, pg);

	return run_list(arg, &q, pg, back, dq->msg ? query_destination_row : query_endpoint_msg_row, out);
}

static void due_from_row(sqlite3_stmt *st, struct store_due *d)
{
	*d = (struct store_due){0};
	snprintf(d->msg, sizeof(d->msg), "%s", col_text(st, 0));
	snprintf(d->endpoint, sizeof(d->endpoint), "%s", col_text(st, 1));
	snprintf(d->app, sizeof(d->app), "%s", col_text(st, 2));
	d->attempts = sqlite3_column_int(st, 3);
	d->next_at = sqlite3_column_int64(st, 4);
	d->status = sqlite3_column_int(st, 5);
}

/* scan runs a prepared query of due-shaped rows through fn */
static int scan(struct sqlite_be *be, struct query *q, store_due_fn fn, void *arg)
{
	struct sqlite_reader *r = sq_reader_take(be);
	sqlite3_stmt *st;
	struct store_due d;
	int rc = 0, src, n = 0;

	if (!r) {
		query_release(q);
		return HK_EDB;
	}
	st = qb_prepare(q, r->db);
	if (!st) {
		sq_reader_give(be, r);
		return HK_EDB;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		due_from_row(st, &d);
		n++;
		rc = fn(&d, arg);
		if (rc < 0)
			break;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = sq_db_err(r->db, src, "scan");
	sqlite3_finalize(st);
	sq_reader_give(be, r);
	return rc < 0 ? rc : n;
}

static int due_read(sqlite3_stmt *st, void *out)
{
	due_from_row(st, out);
	return 1;
}

int sq_delivery_get(void *arg, const char *msg, const char *endpoint, struct store_due *out)
{
	struct query q;
	int n;

	query_init(&q, &query_sqlite, QUERY_DUE_COLS " WHERE");
	query_s(&q, " d.msg = ?", msg);
	query_s(&q, " AND d.endpoint = ?", endpoint);
	n = sq_read(arg, &q, due_read, out);
	return n < 0 ? n : n ? 0 : HK_ENOTFOUND;
}

int sq_failed_scan(void *arg, const char *endpoint, int64_t since, int64_t until, store_due_fn fn,
		   void *fnarg)
{
	struct query q;

	query_failed_scan(&q, &query_sqlite, endpoint, since, until);
	return scan(arg, &q, fn, fnarg);
}

static int stats_read(sqlite3_stmt *st, void *arg)
{
	struct store_ep_stats *out = arg;
	int64_t n = sqlite3_column_int64(st, 1);

	switch (sqlite3_column_int(st, 0)) {
	case MSG_SUCCESS: out->success = n; break;
	case MSG_PENDING: out->pending = n; break;
	case MSG_FAIL: out->fail = n; break;
	case MSG_SENDING: out->sending = n; break;
	case MSG_CANCELED: out->canceled = n; break;
	}
	return 0;
}

int sq_endpoint_stats(void *arg, const char *endpoint, int64_t since, int64_t until,
		      struct store_ep_stats *out)
{
	struct query q;
	int n;

	query_init(&q, &query_sqlite, "SELECT status, count(*) FROM delivery WHERE");
	query_s(&q, " endpoint = ?", endpoint);
	query_i(&q, " AND updated >= ?", since);
	query_i(&q, " AND updated <= ?", until ? until : INT64_MAX);
	query_sql(&q, " GROUP BY status");
	n = sq_read(arg, &q, stats_read, out);
	return n < 0 ? n : 0;
}
