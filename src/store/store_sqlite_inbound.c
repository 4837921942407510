/*
 * store_sqlite_inbound.c - the inbound journal in SQLite: accepted requests
 * as they arrived, their de-duplication keys and per-source counters.
 *
 * De-duplication is a table keyed by (source, key) holding the first event
 * and an expiry. Inserting an event first claims its key: the claim
 * succeeds when the key is new or its earlier claim has expired, and fails
 * with HK_ECONFLICT otherwise, inside the same transaction as the event,
 * so two copies arriving together store one event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "store/store_sqlite.h"

static const char *const isql[I__COUNT] = {
	[I_CLAIM] = "INSERT INTO inbound_dedupe(source,key,event,expires) VALUES(?1,?2,?3,?4)"
		    " ON CONFLICT(source,key) DO UPDATE SET event=excluded.event, expires=excluded.expires"
		    " WHERE inbound_dedupe.expires < ?5",
	[I_INSERT] = "INSERT INTO inbound(id,source,dedupe_key,method,path,query,headers,body,remote,"
		     "verified,reason,event_type,status,routed,created,updated)"
		     " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?14,NULL,?13,?13)",
	[I_STAT] = "INSERT INTO source_stat(source,received,verified) VALUES(?1,1,?2)"
		   " ON CONFLICT(source) DO UPDATE SET received=received+1, verified=verified+?2",
	[I_ROUTED] = "UPDATE inbound SET status=?2, routed=?3, updated=?4 WHERE id=?1"
		     " AND (?5 < 0 OR status = ?5)",
	[I_COUNT] = "INSERT INTO source_stat(source,rejected,duplicates) VALUES(?1,?2,?3)"
		    " ON CONFLICT(source) DO UPDATE SET rejected=rejected+?2, duplicates=duplicates+?3",
};

/* the writer is one thread, so its statements can be prepared lazily */
static sqlite3_stmt *wstmt(struct sqlite_be *be, enum istmt which)
{
	if (!be->ib[which] &&
	    sqlite3_prepare_v3(be->wdb, isql[which], -1, SQLITE_PREPARE_PERSISTENT, &be->ib[which],
			       NULL) != SQLITE_OK)
		return NULL;
	return be->ib[which];
}

void sq_inbound_finalize(struct sqlite_be *be)
{
	for (int i = 0; i < I__COUNT; i++) {
		sqlite3_finalize(be->ib[i]);
		be->ib[i] = NULL;
	}
}

static int inbound_insert(struct sqlite_be *be, const struct store_inbound *in)
{
	sqlite3_stmt *st = wstmt(be, I_CLAIM);
	int rc;

	if (!st)
		return HK_EDB;
	sqlite3_bind_text(st, 1, in->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->dedupe_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, in->dedupe_expires);
	sqlite3_bind_int64(st, 5, in->created);
	rc = sq_step_done(be, st, "dedupe claim");
	if (rc == 0 && sqlite3_changes(be->wdb) == 0)
		return HK_ECONFLICT;
	if (rc < 0)
		return rc;
	st = wstmt(be, I_INSERT);
	if (!st)
		return HK_EDB;
	sqlite3_bind_text(st, 1, in->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->dedupe_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, in->method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, in->path ? in->path : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, in->query ? in->query : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, in->headers ? in->headers : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, in->body ? in->body : "", (int)in->body_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, in->remote ? in->remote : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, in->verified);
	if (in->reason)
		sqlite3_bind_text(st, 11, in->reason, -1, SQLITE_STATIC);
	if (in->event_type)
		sqlite3_bind_text(st, 12, in->event_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, in->created);
	sqlite3_bind_int(st, 14, in->status);
	rc = sq_step_done(be, st, "inbound insert");
	if (rc < 0)
		return rc;
	st = wstmt(be, I_STAT);
	if (!st)
		return HK_EDB;
	sqlite3_bind_text(st, 1, in->source, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, in->verified);
	return sq_step_done(be, st, "source counters");
}

int sq_inbound_apply(struct sqlite_be *be, const struct store_op *op)
{
	sqlite3_stmt *st;
	int rc;

	switch (op->kind) {
	case SOP_INBOUND_INSERT:
		return inbound_insert(be, &op->u.in);
	case SOP_INBOUND_ROUTED:
		st = wstmt(be, I_ROUTED);
		if (!st)
			return HK_EDB;
		sqlite3_bind_text(st, 1, op->u.routed.id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, op->u.routed.status);
		if (op->u.routed.routed)
			sqlite3_bind_text(st, 3, op->u.routed.routed, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, clock_now_ms());
		sqlite3_bind_int(st, 5, op->u.routed.expect);
		rc = sq_step_done(be, st, "inbound routed");
		return rc == 0 && sqlite3_changes(be->wdb) == 0 ? HK_ECONFLICT : rc;
	case SOP_SOURCE_COUNT:
		st = wstmt(be, I_COUNT);
		if (!st)
			return HK_EDB;
		sqlite3_bind_text(st, 1, op->u.count.source, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, op->u.count.rejected);
		sqlite3_bind_int(st, 3, op->u.count.duplicates);
		return sq_step_done(be, st, "source counters");
	default:
		return HK_EINVAL;
	}
}

/* ---- reads ---- */

static int event_read(sqlite3_stmt *st, void *event)
{
	snprintf(event, ID_MAX, "%s", col_text(st, 0));
	return 1;
}

int sq_inbound_dedupe_get(void *arg, const char *source, const char *key, int64_t now, char event[ID_MAX])
{
	struct query q;
	int n;

	query_init(&q, &query_sqlite, "SELECT event FROM inbound_dedupe WHERE");
	query_s(&q, " source=?", source);
	query_s(&q, " AND key=?", key);
	query_i(&q, " AND expires>=?", now);
	n = sq_read(arg, &q, event_read, event);
	return n < 0 ? n : n ? 0 : HK_ENOTFOUND;
}

int sq_inbound_list(void *arg, const char *source, int status, int64_t since,
		    const struct store_page *pg, struct store_list *out)
{
	struct query q;
	bool back = query_inbound_list(&q, &query_sqlite, source, status, since, pg);

	return run_list(arg, &q, pg, back, query_inbound_row, out);
}

int sq_inbound_get(void *arg, const char *source, const char *id, json_t **out)
{
	struct query q;

	query_inbound_get(&q, &query_sqlite, source, id);
	return single(arg, &q, query_inbound_row_whole, out);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const char *s = col_text(st, i);
	return strdup(s ? s : "");
}

static int raw_read(sqlite3_stmt *st, void *arg)
{
	struct store_inbound_raw *out = arg;

	snprintf(out->id, sizeof(out->id), "%s", col_text(st, 0));
	snprintf(out->source, sizeof(out->source), "%s", col_text(st, 1));
	out->method = dup_col(st, 2);
	out->path = dup_col(st, 3);
	out->query = dup_col(st, 4);
	out->headers = dup_col(st, 5);
	out->event_type = col_text(st, 6) ? dup_col(st, 6) : NULL;
	out->body_len = (size_t)sqlite3_column_bytes(st, 7);
	out->body = malloc(out->body_len + 1);
	if (out->body) {
		if (out->body_len)
			memcpy(out->body, sqlite3_column_blob(st, 7), out->body_len);
		out->body[out->body_len] = '\0';
	}
	out->status = sqlite3_column_int(st, 8);
	out->remote = dup_col(st, 9);
	if (out->method && out->path && out->query && out->headers && out->body && out->remote)
		return 1;
	store_inbound_raw_release(out);
	return HK_ENOMEM;
}

int sq_inbound_raw(void *arg, const char *id, struct store_inbound_raw *out)
{
	struct query q;
	int n;

	query_init(&q, &query_sqlite,
		   "SELECT id, source, method, path, query, headers, event_type, body, status, remote"
		   " FROM inbound WHERE");
	query_s(&q, " id=?", id);
	n = sq_read(arg, &q, raw_read, out);
	return n < 0 ? n : n ? 0 : HK_ENOTFOUND;
}

static int source_stats_read(sqlite3_stmt *st, void *arg)
{
	struct store_source_stats *out = arg;

	out->received = sqlite3_column_int64(st, 0);
	out->verified = sqlite3_column_int64(st, 1);
	out->rejected = sqlite3_column_int64(st, 2);
	out->duplicates = sqlite3_column_int64(st, 3);
	return 1;
}

int sq_source_stats(void *arg, const char *source, struct store_source_stats *out)
{
	struct query q;
	int n;

	query_init(&q, &query_sqlite, "SELECT received, verified, rejected, duplicates FROM source_stat WHERE");
	query_s(&q, " source=?", source);
	n = sq_read(arg, &q, source_stats_read, out);
	return n < 0 ? n : 0;
}

struct unrouted {
	store_inbound_fn fn;
	void *arg;
};

/* a callback's positive answer stops the scan too */
static int unrouted_read(sqlite3_stmt *st, void *arg)
{
	struct unrouted *u = arg;
	return u->fn(col_text(st, 0), u->arg);
}

int sq_inbound_unrouted_scan(void *arg, const char *after, int limit, store_inbound_fn fn, void *fnarg)
{
	struct unrouted u = {fn, fnarg};
	struct query q;

	query_init(&q, &query_sqlite, "SELECT id FROM inbound WHERE status = 0");
	query_s(&q, " AND id > ?", after ? after : "");
	query_i(&q, " ORDER BY id LIMIT ?", limit);
	return sq_read(arg, &q, unrouted_read, &u);
}
