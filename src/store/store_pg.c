/*
 * store_pg.c - the PostgreSQL backend, for several hookd nodes on one
 * database: connections, migrations, transactions and documents.
 *
 * Connections: one for the writer thread (every statement it runs is
 * prepared once, when the connection opens), a small pool for reads
 * (statements prepared on a connection's first use of each), one for the
 * claim loop (leases, claims, LISTEN, shared limits: store_pg_node.c) and
 * one for singleton jobs' advisory locks. A connection found broken is
 * reset before its next use; the statement that saw it break fails.
 *
 * Migrations are the same numbered steps as SQLite's, in PostgreSQL's
 * words, plus the parts only a cluster needs (node heartbeats, leases on
 * deliveries, shared rate windows). schema_version records how far a
 * database is; a session advisory lock around the check makes nodes that
 * start together migrate once.
 *
 * Every identifier column sorts with COLLATE "C", because lists page by id
 * and ids are base62 (mixed case) whose order must be bytewise whatever
 * the database's default collation is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/log.h"
#include "store/store_pg.h"

#define PG_READERS_MAX 10
#define PG_MIGRATE_LOCK 0x686f6f6b64000000LL
/* a batch's number in its writer's row (see "a commit whose answer was lost") */
#define PG_MARK_SQL "INSERT INTO commit_mark(writer,seq,at) VALUES('%s',%lld,hookd_now_ms())" \
		    " ON CONFLICT (writer) DO UPDATE SET seq=excluded.seq, at=excluded.at"

/* ---- migrations: append only, never edit a released step ---- */

static const char *const migrations[] = {
	/* 1: documents, idempotency answers, settings; cluster nodes, shared rate windows */
	"CREATE TABLE doc ("
	"  kind TEXT COLLATE \"C\" NOT NULL, id TEXT COLLATE \"C\" NOT NULL,"
	"  parent TEXT COLLATE \"C\" NOT NULL DEFAULT '', uid TEXT COLLATE \"C\", body TEXT NOT NULL,"
	"  created BIGINT NOT NULL, updated BIGINT NOT NULL, PRIMARY KEY (kind, id));"
	"CREATE UNIQUE INDEX doc_uid ON doc(kind, parent, uid) WHERE uid IS NOT NULL;"
	"CREATE INDEX doc_parent ON doc(parent, kind, id);"
	"CREATE TABLE idem (key TEXT PRIMARY KEY, status INTEGER NOT NULL, body BYTEA NOT NULL,"
	"  expires BIGINT NOT NULL);"
	"CREATE INDEX idem_expires ON idem(expires);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE FUNCTION hookd_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE AS"
	"  'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint';"
	"CREATE TABLE node (id TEXT PRIMARY KEY, started BIGINT NOT NULL, alive_until BIGINT NOT NULL);"
	"CREATE TABLE rate_window (endpoint TEXT COLLATE \"C\" PRIMARY KEY, win BIGINT NOT NULL,"
	"  taken INTEGER NOT NULL);"
	"CREATE FUNCTION hookd_take_tokens(ep TEXT, rate INTEGER, want INTEGER,"
	"  OUT granted INTEGER, OUT valid_ms BIGINT) LANGUAGE plpgsql AS $$"
	" DECLARE now_ms BIGINT := hookd_now_ms(); w BIGINT := now_ms / 1000; used INTEGER;"
	" BEGIN"
	"  INSERT INTO rate_window AS r (endpoint, win, taken) VALUES (ep, w, 0)"
	"  ON CONFLICT (endpoint) DO UPDATE SET win = excluded.win,"
	"    taken = CASE WHEN r.win = excluded.win THEN r.taken ELSE 0 END"
	"  RETURNING r.taken INTO used;"
	"  granted := greatest(0, least(want, rate - used));"
	"  IF granted > 0 THEN UPDATE rate_window SET taken = taken + granted WHERE endpoint = ep; END IF;"
	"  valid_ms := (w + 1) * 1000 - now_ms;"
	" END $$;",
	/* 2: messages, their deliveries (one per endpoint, leased to a node) and attempts */
	"CREATE TABLE msg ("
	"  id TEXT COLLATE \"C\" PRIMARY KEY, app TEXT COLLATE \"C\" NOT NULL, event_id TEXT,"
	"  event_type TEXT NOT NULL, channels TEXT, payload BYTEA, created BIGINT NOT NULL,"
	"  expires BIGINT NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX msg_event_id ON msg(app, event_id) WHERE event_id IS NOT NULL;"
	"CREATE INDEX msg_app ON msg(app, id);"
	"CREATE INDEX msg_expires ON msg(expires) WHERE payload IS NOT NULL AND expires > 0;"
	"CREATE TABLE delivery ("
	"  msg TEXT COLLATE \"C\" NOT NULL, endpoint TEXT COLLATE \"C\" NOT NULL,"
	"  app TEXT COLLATE \"C\" NOT NULL, status INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at BIGINT NOT NULL, updated BIGINT NOT NULL, owner TEXT,"
	"  PRIMARY KEY (msg, endpoint));"
	"CREATE INDEX delivery_claim ON delivery(owner, next_at) WHERE status = 1;"
	"CREATE INDEX delivery_endpoint ON delivery(endpoint, msg);"
	"CREATE TABLE attempt ("
	"  id TEXT COLLATE \"C\" PRIMARY KEY, msg TEXT COLLATE \"C\" NOT NULL,"
	"  endpoint TEXT COLLATE \"C\" NOT NULL, app TEXT COLLATE \"C\" NOT NULL, url TEXT NOT NULL,"
	"  status INTEGER NOT NULL, code INTEGER NOT NULL, response TEXT, duration BIGINT NOT NULL,"
	"  \"trigger\" INTEGER NOT NULL, created BIGINT NOT NULL);"
	"CREATE INDEX attempt_msg ON attempt(msg, id);"
	"CREATE INDEX attempt_endpoint ON attempt(endpoint, id);",
	/* 3: extra headers per message (inbound pass-through); the inbound journal */
	"ALTER TABLE msg ADD COLUMN headers TEXT;"
	"CREATE TABLE inbound ("
	"  id TEXT COLLATE \"C\" PRIMARY KEY, source TEXT COLLATE \"C\" NOT NULL, dedupe_key TEXT NOT NULL,"
	"  method TEXT NOT NULL, path TEXT NOT NULL, query TEXT NOT NULL, headers TEXT NOT NULL,"
	"  body BYTEA NOT NULL, remote TEXT NOT NULL, verified INTEGER NOT NULL, reason TEXT,"
	"  event_type TEXT, status INTEGER NOT NULL, routed TEXT, created BIGINT NOT NULL,"
	"  updated BIGINT NOT NULL);"
	"CREATE INDEX inbound_source ON inbound(source, id);"
	"CREATE INDEX inbound_unrouted ON inbound(id) WHERE status = 0;"
	"CREATE TABLE inbound_dedupe (source TEXT COLLATE \"C\" NOT NULL, key TEXT NOT NULL,"
	"  event TEXT NOT NULL, expires BIGINT NOT NULL, PRIMARY KEY (source, key));"
	"CREATE INDEX inbound_dedupe_expires ON inbound_dedupe(expires);"
	"CREATE TABLE source_stat (source TEXT COLLATE \"C\" PRIMARY KEY,"
	"  received BIGINT NOT NULL DEFAULT 0, verified BIGINT NOT NULL DEFAULT 0,"
	"  rejected BIGINT NOT NULL DEFAULT 0, duplicates BIGINT NOT NULL DEFAULT 0);",
	/* 4: command-hook runs; their trigger events live in the inbound journal */
	"CREATE TABLE hook_run ("
	"  id TEXT COLLATE \"C\" PRIMARY KEY, hook TEXT COLLATE \"C\" NOT NULL, event TEXT NOT NULL,"
	"  \"trigger\" TEXT NOT NULL, retry_of TEXT, coalesced_into TEXT, status INTEGER NOT NULL,"
	"  exit_code INTEGER NOT NULL DEFAULT -1, signal INTEGER NOT NULL DEFAULT 0,"
	"  duration BIGINT NOT NULL DEFAULT 0, output BYTEA, truncated INTEGER NOT NULL DEFAULT 0, error TEXT,"
	"  created BIGINT NOT NULL, started BIGINT NOT NULL DEFAULT 0, ended BIGINT NOT NULL DEFAULT 0,"
	"  updated BIGINT NOT NULL);"
	"CREATE INDEX hook_run_hook ON hook_run(hook, id);"
	"CREATE INDEX hook_run_open ON hook_run(id) WHERE status IN (0, 1);",
	/* 5: the node that queued a run (recovery takes dead nodes' runs only) */
	"ALTER TABLE hook_run ADD COLUMN node TEXT;",
	/* 6: each writer's last commit, to learn the outcome of one whose answer was lost */
	"CREATE TABLE commit_mark (writer TEXT PRIMARY KEY, seq BIGINT NOT NULL, at BIGINT NOT NULL);",
	/* 7: a message's tags (JSON array text), to filter lists by */
	"ALTER TABLE msg ADD COLUMN tags TEXT;",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- the statement catalogue ---- */

static const char *const wsql[PW__COUNT] = {
	[PW_DOC_INSERT] = "INSERT INTO doc(kind,id,parent,uid,body,created,updated) VALUES($1,$2,$3,$4,$5,$6,$7)",
	[PW_DOC_UPDATE] = "UPDATE doc SET uid=$3, body=$4, updated=$5 WHERE kind=$1 AND id=$2",
	[PW_DOC_DELETE] = "WITH d AS (DELETE FROM doc WHERE kind=$1 AND id=$2 RETURNING id),"
			  " c AS (DELETE FROM doc WHERE parent=$2 AND EXISTS (SELECT 1 FROM d) RETURNING 1)"
			  " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM c)",
	[PW_IDEM_PUT] = "INSERT INTO idem(key,status,body,expires) VALUES($1,$2,$3,$4) ON CONFLICT (key)"
			" DO UPDATE SET status=excluded.status, body=excluded.body, expires=excluded.expires"
			" WHERE idem.expires < $5",
	[PW_IDEM_PRUNE] = "DELETE FROM idem WHERE expires < $1",
	[PW_META_PUT] = "INSERT INTO meta(key,value) VALUES($1,$2) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
	/* a message and its deliveries in one statement: the endpoints are one array parameter */
	[PW_MSG_INSERT] = "WITH m AS (INSERT INTO msg(id,app,event_id,event_type,channels,payload,created,expires,"
			  "headers,tags) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$13) RETURNING id)"
			  " INSERT INTO delivery(msg,endpoint,app,status,attempts,next_at,updated,owner)"
			  " SELECT m.id, e, $2, 1, 0, $12, $7, $11 FROM m, unnest($10::text[]) AS e",
	/* an attempt and what it does to its delivery in one statement */
	[PW_ATTEMPT] = "WITH a AS (INSERT INTO attempt(id,msg,endpoint,app,url,status,code,response,duration,"
		       "\"trigger\",created) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11))"
		       " UPDATE delivery SET status=$12, attempts=$13, next_at=$14, updated=$11"
		       " WHERE msg=$2 AND endpoint=$3",
	[PW_DELIVERY_SET] = "UPDATE delivery SET status=$3, next_at=$4, updated=$5, owner=$6"
			    " WHERE msg=$1 AND endpoint=$2",
	[PW_DELIVERY_SET_RESET] = "UPDATE delivery SET status=$3, next_at=$4, updated=$5, owner=$6, attempts=0"
				  " WHERE msg=$1 AND endpoint=$2",
	[PW_MSG_EXPUNGE] = "UPDATE msg SET payload=NULL WHERE id=$1",
	[PW_DELIVERY_ADD] = "INSERT INTO delivery(msg,endpoint,app,status,attempts,next_at,updated,owner)"
			    " VALUES($1,$2,$3,1,0,$4,$4,$5) ON CONFLICT (msg,endpoint) DO NOTHING",
	[PW_ATTEMPT_EXPUNGE] = "UPDATE attempt SET response='" STORE_EXPUNGED "' WHERE id=$1 AND msg=$2",
	[PW_IN_CLAIM] = "INSERT INTO inbound_dedupe(source,key,event,expires) VALUES($1,$2,$3,$4)"
			" ON CONFLICT (source,key) DO UPDATE SET event=excluded.event, expires=excluded.expires"
			" WHERE inbound_dedupe.expires < $5",
	[PW_IN_INSERT] = "WITH s AS (INSERT INTO source_stat AS t (source,received,verified) VALUES($2,1,$10)"
			 " ON CONFLICT (source) DO UPDATE SET received=t.received+1, verified=t.verified+excluded.verified)"
			 " INSERT INTO inbound(id,source,dedupe_key,method,path,query,headers,body,remote,verified,"
			 "reason,event_type,status,routed,created,updated)"
			 " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$14,NULL,$13,$13)",
	[PW_IN_ROUTED] = "UPDATE inbound SET status=$2, routed=$3, updated=$4 WHERE id=$1"
			 " AND ($5 < 0 OR status = $5)",
	[PW_SOURCE_COUNT] = "INSERT INTO source_stat AS t (source,rejected,duplicates) VALUES($1,$2,$3)"
			    " ON CONFLICT (source) DO UPDATE SET rejected=t.rejected+excluded.rejected,"
			    " duplicates=t.duplicates+excluded.duplicates",
	[PW_NOTIFY_CONFIG] = "SELECT pg_notify('hookd_config', '')",
	[PW_NOTIFY_WORK] = "SELECT pg_notify('hookd_work', '')",
	[PW_HR_INSERT] = "INSERT INTO hook_run(id,hook,event,\"trigger\",retry_of,coalesced_into,status,exit_code,"
			 "signal,duration,output,truncated,error,created,started,ended,updated,node)"
			 " VALUES($1,$2,$3,$4,NULLIF($5::text,''),NULLIF($6::text,''),$7,$8,$9,$10,$11::bytea,$12,"
			 "$13::text,$14,$15,$16,$17,NULLIF($18::text,''))",
	/* only what an update knows: NULL texts and zero times keep the stored values */
	[PW_HR_UPDATE] = "UPDATE hook_run SET status=$3, exit_code=$4, signal=$5, duration=$6,"
			 " output=COALESCE($7::bytea, output), truncated=$8, error=COALESCE($9::text, error),"
			 " started=COALESCE(NULLIF($10::bigint,0), started), ended=COALESCE(NULLIF($11::bigint,0), ended),"
			 " coalesced_into=COALESCE(NULLIF($2::text,''), coalesced_into), updated=$12 WHERE id=$1"
			 " AND ($13 = 0 OR status IN (0, 1))",
};

static const char *const rsql[PR__COUNT] = {
	[PR_DOC_GET] = "SELECT body FROM doc WHERE kind=$1 AND parent=$2 AND id=$3"
		       " UNION ALL SELECT body FROM doc WHERE kind=$1 AND parent=$2 AND uid=$3 LIMIT 1",
	[PR_DOC_LIST_ASC] = "SELECT id, body FROM doc WHERE kind=$1 AND parent=$2 AND id>$3 ORDER BY id ASC LIMIT $4",
	[PR_DOC_LIST_DESC] = "SELECT id, body FROM doc WHERE kind=$1 AND parent=$2 AND id<$3 ORDER BY id DESC LIMIT $4",
	[PR_IDEM_GET] = "SELECT status, body FROM idem WHERE key=$1 AND expires>=$2",
	[PR_META_GET] = "SELECT value FROM meta WHERE key=$1",
	[PR_MSG_PAYLOAD] = "SELECT payload, event_type, headers FROM msg WHERE id=$1",
	[PR_DELIVERY_GET] = "SELECT msg, endpoint, app, attempts, next_at, status FROM delivery"
			    " WHERE msg=$1 AND endpoint=$2",
	[PR_DEDUPE_GET] = "SELECT event FROM inbound_dedupe WHERE source=$1 AND key=$2 AND expires>=$3",
	[PR_INBOUND_RAW] = "SELECT id, source, method, path, query, headers, event_type, body, status"
			   " FROM inbound WHERE id=$1",
	[PR_SOURCE_STATS] = "SELECT received, verified, rejected, duplicates FROM source_stat WHERE source=$1",
	[PR_UNROUTED] = "SELECT id FROM inbound WHERE status = 0 AND id > $1 ORDER BY id LIMIT $2",
	[PR_EP_STATS] = "SELECT status, count(*) FROM delivery WHERE endpoint=$1 AND updated >= $2"
			" AND updated <= $3 GROUP BY status",
};

/* ---- parameters and errors ---- */

void pgp_s(struct pgp *p, const char *s)
{
	if (p->n == PGP_MAX)
		return;
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

void pgp_i(struct pgp *p, int64_t i)
{
	if (p->n == PGP_MAX)
		return;
	snprintf(p->ibuf[p->n], sizeof(p->ibuf[p->n]), "%lld", (long long)i);
	pgp_s(p, p->ibuf[p->n]);
}

void pgp_b(struct pgp *p, const void *data, size_t len)
{
	if (p->n == PGP_MAX)
		return;
	p->v[p->n] = data ? data : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n++] = 1;
}

int pg_err(PGconn *c, const PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (state && strncmp(state, "23", 2) == 0)
		return HK_ECONFLICT; /* integrity: unique, exclusion, ... */
	if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
		      strcmp(state, "55P03") == 0))
		return HK_EBUSY;
	if (state && (strcmp(state, "53100") == 0))
		return HK_ENOSPACE;
	log_error("postgresql %s failed: %s", what,
		  res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : PQerrorMessage(c));
	return HK_EDB;
}

/* pg_notice_quiet keeps server notices (e.g. "relation exists, skipping") out of stderr */
static void pg_notice_quiet(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgresql: %s", message);
}

PGconn *pg_connect(const char *url, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(url);

	if (!c || PQstatus(c) != CONNECTION_OK) {
		char reason[400];
		snprintf(reason, sizeof(reason), "%s", c ? PQerrorMessage(c) : "out of memory");
		reason[strcspn(reason, "\n")] = '\0';
		if (err)
			snprintf(err, errlen, "cannot connect to PostgreSQL: %s", reason);
		else
			log_error("cannot connect to PostgreSQL: %s", reason);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, pg_notice_quiet, NULL);
	return c;
}

int pg_cmd(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	int rc = 0;
	ExecStatusType s = PQresultStatus(res);

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = pg_err(c, res, sql);
	PQclear(res);
	return rc;
}

/* ---- the writer's connection ---- */

static int w_prepare(struct pg_be *be, char *err, size_t errlen)
{
	/*
	 * the writer never idles inside a transaction: one the server still holds
	 * after this connection was cut (a partition it has not noticed) ends
	 * within 30 s, with its locks, instead of blocking the batch run again
	 */
	if (pg_cmd(be->w, "SET idle_in_transaction_session_timeout = '30s'") < 0) {
		snprintf(err, errlen, "cannot set up the writer's session");
		return HK_EDB;
	}
	for (int i = 0; i < PW__COUNT; i++) {
		char name[16];
		PGresult *res;
		snprintf(name, sizeof(name), "w%d", i);
		res = PQprepare(be->w, name, wsql[i], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "cannot prepare statement %d: %s", i, PQresultErrorMessage(res));
			PQclear(res);
			return HK_EDB;
		}
		PQclear(res);
	}
	be->w_prepared = true;
	return 0;
}

/* w_ensure brings a broken writer connection back before a transaction */
static int w_ensure(struct pg_be *be)
{
	char err[256];

	if (PQstatus(be->w) == CONNECTION_OK)
		return 0;
	log_warnx("the PostgreSQL writer connection broke; reconnecting");
	PQreset(be->w);
	if (PQstatus(be->w) != CONNECTION_OK)
		return HK_EDB;
	if (w_prepare(be, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return HK_EDB;
	}
	return 0;
}

/*
 * ---- pipelining ----
 *
 * A batch begun unguarded (no savepoints, see store.c) runs in libpq's
 * pipeline mode: its statements go out without waiting for their answers.
 * Those are read at the commit, after every PG_PIPE_MAX statements (so that
 * neither side's socket buffers fill and block the other), and before any
 * statement whose answer a write needs, which ends the pipeline for the rest
 * of the batch. A failed statement shows only at such a read; it fails the
 * batch, and store.c runs the batch again with savepoints, unpipelined, so
 * each write still succeeds or fails alone.
 */
#define PG_PIPE_MAX 256

/* pipe_read ends a pipeline segment and reads its answers: 0 or the first failure */
static int pipe_read(struct pg_be *be)
{
	PGconn *c = be->w;
	int rc = 0, nulls = 0;

	be->piped = 0;
	if (PQpipelineSync(c) != 1)
		return pg_err(c, NULL, "pipeline sync");
	for (;;) {
		PGresult *res = PQgetResult(c);
		ExecStatusType s;

		if (!res) { /* between two statements' answers; never twice in a row */
			if (PQstatus(c) == CONNECTION_BAD || ++nulls > 1)
				return rc < 0 ? rc : pg_err(c, NULL, "pipeline read");
			continue;
		}
		nulls = 0;
		s = PQresultStatus(res);
		if (s == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			return rc;
		}
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && rc == 0)
			rc = s == PGRES_PIPELINE_ABORTED ? HK_EDB : pg_err(c, res, "pipelined statement");
		PQclear(res);
	}
}

/* pipe_end reads what is left and leaves pipeline mode: the batch goes on statement by statement */
static int pipe_end(struct pg_be *be)
{
	int rc = 0;

	if (!be->pipe)
		return 0;
	if (be->piped)
		rc = pipe_read(be);
	be->pipe = false;
	if (PQexitPipelineMode(be->w) != 1 && rc == 0)
		rc = pg_err(be->w, NULL, "leaving pipeline mode");
	return rc;
}

/* pipe_send sends a statement without reading its answer */
static int pipe_send(struct pg_be *be, const char *prepared, const char *sql, const struct pgp *p)
{
	int ok = prepared ? PQsendQueryPrepared(be->w, prepared, p ? p->n : 0, p ? p->v : NULL,
						p ? p->len : NULL, p ? p->fmt : NULL, 0)
			  : PQsendQueryParams(be->w, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (ok != 1)
		return pg_err(be->w, NULL, prepared ? prepared : sql);
	return ++be->piped >= PG_PIPE_MAX ? pipe_read(be) : 0;
}

PGresult *pg_wexec_rows(struct pg_be *be, enum pg_wstmt which, const struct pgp *p, int *rc)
{
	char name[16];
	PGresult *res;
	ExecStatusType s;

	*rc = pipe_end(be); /* this answer is needed now */
	if (*rc < 0)
		return NULL;
	snprintf(name, sizeof(name), "w%d", (int)which);
	res = PQexecPrepared(be->w, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
			     p ? p->fmt : NULL, 0);
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		*rc = pg_err(be->w, res, wsql[which]);
		PQclear(res);
		return NULL;
	}
	*rc = 0;
	return res;
}

int pg_wexec(struct pg_be *be, enum pg_wstmt which, const struct pgp *p, int *changes)
{
	int rc;
	PGresult *res;

	if (be->pipe && !changes) {
		char name[16];
		snprintf(name, sizeof(name), "w%d", (int)which);
		return pipe_send(be, name, NULL, p);
	}
	res = pg_wexec_rows(be, which, p, &rc);

	if (!res)
		return rc;
	if (changes) {
		const char *t = PQcmdTuples(res);
		*changes = t && *t ? (int)strtol(t, NULL, 10) : 0;
	}
	PQclear(res);
	return 0;
}

/* ---- migrations ---- */

static int migrate(struct pg_be *be, char *err, size_t errlen)
{
	char lock[96];
	PGresult *res;
	int version = 0, rc;

	snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%lld)", PG_MIGRATE_LOCK);
	rc = pg_cmd(be->w, lock);
	if (rc < 0) {
		snprintf(err, errlen, "cannot take the migration lock");
		return rc;
	}
	rc = pg_cmd(be->w, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
	if (rc < 0) {
		snprintf(err, errlen, "cannot create schema_version");
		goto out;
	}
	res = PQexec(be->w, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (version > NMIGRATIONS) {
		snprintf(err, errlen, "the database is at schema %d, newer than this hookd (%d)", version,
			 NMIGRATIONS);
		rc = HK_EINVAL;
		goto out;
	}
	for (int i = version; i < NMIGRATIONS && rc == 0; i++) {
		char mark[80];
		snprintf(mark, sizeof(mark), "INSERT INTO schema_version VALUES (%d)", i + 1);
		rc = pg_cmd(be->w, "BEGIN");
		if (rc == 0)
			rc = pg_cmd(be->w, migrations[i]);
		if (rc == 0)
			rc = pg_cmd(be->w, mark);
		if (rc == 0)
			rc = pg_cmd(be->w, "COMMIT");
		if (rc < 0) {
			pg_cmd(be->w, "ROLLBACK");
			snprintf(err, errlen, "migration %d failed", i + 1);
		} else {
			log_info("applied migration %d to the PostgreSQL database", i + 1);
		}
	}
out:
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_unlock(%lld)", PG_MIGRATE_LOCK);
	pg_cmd(be->w, lock);
	return rc;
}

/* ---- open / close ---- */

static void pg_close(void *arg)
{
	struct pg_be *be = arg;

	if (!be)
		return;
	pg_node_close(be);
	while (be->pool) {
		struct pg_conn *c = be->pool;
		be->pool = c->next;
		PQfinish(c->c);
		free(c);
	}
	PQfinish(be->w);
	pthread_mutex_destroy(&be->pool_mu);
	pthread_cond_destroy(&be->pool_cv);
	pthread_mutex_destroy(&be->lock_mu);
	free(be->url);
	free(be);
}

/* mark_start names this writer and gives it a row of commit_mark; rows idle for 30 days go */
static int mark_start(struct pg_be *be, char *err, size_t errlen)
{
	char sql[320];

	id_new("w", be->writer);
	snprintf(sql, sizeof(sql), PG_MARK_SQL "; DELETE FROM commit_mark WHERE at < hookd_now_ms() - %lld",
		 be->writer, 0LL, 30LL * 86400 * 1000);
	if (pg_cmd(be->w, sql) < 0) {
		snprintf(err, errlen, "cannot write this writer's commit mark");
		return HK_EDB;
	}
	return 0;
}

static int pg_open(const char *url, void **out, char *err, size_t errlen)
{
	struct pg_be *be = calloc(1, sizeof(*be));
	int rc;

	if (!be)
		return HK_ENOMEM;
	pthread_mutex_init(&be->pool_mu, NULL);
	pthread_cond_init(&be->pool_cv, NULL);
	pthread_mutex_init(&be->lock_mu, NULL);
	be->maxconns = PG_READERS_MAX;
	be->url = strdup(url);
	if (!be->url) {
		rc = HK_ENOMEM;
		goto fail;
	}
	be->w = pg_connect(url, err, errlen);
	if (!be->w) {
		rc = HK_EDB;
		goto fail;
	}
	rc = migrate(be, err, errlen);
	if (rc == 0)
		rc = w_prepare(be, err, errlen);
	if (rc == 0)
		rc = mark_start(be, err, errlen);
	if (rc < 0)
		goto fail;
	*out = be;
	return 0;
fail:
	pg_close(be);
	return rc;
}

/*
 * ---- transactions ----
 *
 * An unguarded batch is pipelined (above) and has no savepoints. In a guarded
 * one each write runs in a savepoint. Releasing it right away would cost a
 * round trip per write; nothing runs between one write's release and the next
 * write's savepoint, so the release is deferred and sent in the same round
 * trip as the next "SAVEPOINT w", and COMMIT releases the last one.
 */

static int pg_begin(void *arg, bool guarded)
{
	struct pg_be *be = arg;
	int rc = w_ensure(be);
	be->sp_held = false;
	if (rc < 0)
		return rc;
	if (!guarded && PQenterPipelineMode(be->w) == 1) {
		be->pipe = true;
		be->piped = 0;
		return pipe_send(be, NULL, "BEGIN", NULL);
	}
	return pg_cmd(be->w, "BEGIN");
}

/*
 * ---- a commit whose answer was lost ----
 *
 * When the connection breaks after COMMIT went out, the server may have
 * committed or not. Failing the batch although it committed would, for one,
 * leave a published message's deliveries leased to this node and never sent,
 * and its client told that nothing was stored. So each batch also writes its
 * number into the writer's row of commit_mark, in the same transaction, and
 * after such a break commit_resolve reads the row on a new connection: the
 * number is there if and only if the batch committed. A transaction that
 * still runs on a server that has not noticed the cut holds the row's lock,
 * so the read (FOR SHARE) waits for it to end. The server gets
 * PG_DOUBT_WAIT_MS to come back; after that the batch counts as failed.
 */
#define PG_DOUBT_WAIT_MS 15000

static int commit_resolve(struct pg_be *be)
{
	char sql[160];
	int64_t until = clock_mono_us() + PG_DOUBT_WAIT_MS * 1000LL;
	long wait_ms = 50;

	snprintf(sql, sizeof(sql), "SELECT seq FROM commit_mark WHERE writer = '%s' FOR SHARE", be->writer);
	for (;;) {
		if (w_ensure(be) == 0 && pg_cmd(be->w, "SET lock_timeout = '5s'") == 0) {
			PGresult *res = PQexec(be->w, sql);
			bool read = PQresultStatus(res) == PGRES_TUPLES_OK;
			bool committed = read && PQntuples(res) == 1 &&
					 strtoll(PQgetvalue(res, 0, 0), NULL, 10) == be->seq;
			PQclear(res);
			pg_cmd(be->w, "RESET lock_timeout");
			if (read) {
				log_warnx("the answer to a commit was lost with the connection: it %s",
					  committed ? "committed" : "did not commit");
				return committed ? 0 : HK_EDB;
			}
		}
		if (clock_mono_us() >= until)
			break;
		nanosleep(&(struct timespec){.tv_sec = wait_ms / 1000, .tv_nsec = wait_ms % 1000 * 1000000}, NULL);
		wait_ms = wait_ms * 2 > 1000 ? 1000 : wait_ms * 2;
	}
	log_error("the answer to a commit was lost and PostgreSQL stayed out of reach for %d s:"
		  " the batch counts as failed although it may have committed", PG_DOUBT_WAIT_MS / 1000);
	return HK_EDB;
}

static int pg_commit(void *arg)
{
	struct pg_be *be = arg;
	char sql[320];
	int rc;

	be->sp_held = false;
	snprintf(sql, sizeof(sql), PG_MARK_SQL "%s", be->writer, (long long)++be->seq,
		 be->pipe ? "" : "; COMMIT");
	if (!be->pipe) {
		rc = pg_cmd(be->w, sql);
	} else {
		rc = pipe_send(be, NULL, sql, NULL);
		if (rc == 0)
			rc = pipe_send(be, NULL, "COMMIT", NULL);
		if (rc == 0)
			rc = pipe_end(be);
		else
			pipe_end(be);
	}
	if (rc < 0 && PQstatus(be->w) == CONNECTION_BAD)
		return commit_resolve(be);
	/* after a failed statement the server answers COMMIT by rolling back */
	if (rc == 0 && PQtransactionStatus(be->w) != PQTRANS_IDLE)
		rc = HK_EDB;
	return rc;
}

static void pg_rollback(void *arg)
{
	struct pg_be *be = arg;
	be->sp_held = false;
	pipe_end(be);
	if (PQtransactionStatus(be->w) != PQTRANS_IDLE)
		pg_cmd(be->w, "ROLLBACK");
}

static int pg_savepoint(void *arg)
{
	struct pg_be *be = arg;
	int rc = pg_cmd(be->w, be->sp_held ? "RELEASE w; SAVEPOINT w" : "SAVEPOINT w");
	be->sp_held = rc == 0;
	return rc;
}

static int pg_release(void *arg)
{
	(void)arg; /* deferred: see above */
	return 0;
}

static void pg_rollback_to(void *arg)
{
	struct pg_be *be = arg;
	be->sp_held = false;
	pg_cmd(be->w, "ROLLBACK TO w; RELEASE w");
}

/* ---- writes: documents, idempotency, settings ---- */

static int apply_doc(struct pg_be *be, const struct store_op *op)
{
	const struct store_doc *d = &op->u.doc;
	struct pgp p = {0};
	char *body = NULL;
	int rc, changes = 0;

	if (op->kind == SOP_DOC_DELETE) {
		PGresult *res;
		pgp_s(&p, d->kind);
		pgp_s(&p, d->id);
		res = pg_wexec_rows(be, PW_DOC_DELETE, &p, &rc);
		if (!res)
			return rc;
		rc = PQntuples(res) == 1 && pg_int(res, 0, 0) > 0 ? 0 : HK_ENOTFOUND;
		PQclear(res);
	} else {
		body = d->body ? json_dumps(d->body, JSON_COMPACT) : NULL;
		if (d->body && !body)
			return HK_ENOMEM;
		pgp_s(&p, d->kind);
		pgp_s(&p, d->id);
		if (op->kind == SOP_DOC_INSERT)
			pgp_s(&p, d->parent);
		pgp_s(&p, d->uid);
		pgp_s(&p, body ? body : "{}");
		if (op->kind == SOP_DOC_INSERT)
			pgp_i(&p, d->created);
		pgp_i(&p, d->updated);
		rc = pg_wexec(be, op->kind == SOP_DOC_INSERT ? PW_DOC_INSERT : PW_DOC_UPDATE, &p, &changes);
		if (rc == 0 && op->kind == SOP_DOC_UPDATE && changes == 0)
			rc = HK_ENOTFOUND;
		free(body);
	}
	/* other nodes cache endpoints and applications: they hear of it at the commit */
	if (rc == 0)
		rc = pg_wexec(be, PW_NOTIFY_CONFIG, NULL, NULL);
	return rc;
}

static int pg_apply(void *arg, const struct store_op *op)
{
	struct pg_be *be = arg;
	struct pgp p = {0};
	int rc, changes = 0;

	/* messages and attempts may be pipelined; the rest talk to the server directly */
	if (be->pipe && op->kind != SOP_MSG_INSERT && op->kind != SOP_ATTEMPT &&
	    op->kind != SOP_DELIVERY_SET && op->kind != SOP_DELIVERY_ADD && op->kind != SOP_MSG_EXPUNGE) {
		rc = pipe_end(be);
		if (rc < 0)
			return rc;
	}
	switch (op->kind) {
	case SOP_DOC_INSERT:
	case SOP_DOC_UPDATE:
	case SOP_DOC_DELETE:
		return apply_doc(be, op);
	case SOP_IDEM_PUT:
		/* a live answer from another node's request with the same key wins: conflict */
		pgp_s(&p, op->u.idem.key);
		pgp_i(&p, op->u.idem.status);
		pgp_b(&p, op->u.idem.body, op->u.idem.len);
		pgp_i(&p, op->u.idem.expires);
		pgp_i(&p, clock_now_ms());
		rc = pg_wexec(be, PW_IDEM_PUT, &p, &changes);
		return rc == 0 && changes == 0 ? HK_ECONFLICT : rc;
	case SOP_IDEM_PRUNE:
		pgp_i(&p, op->u.prune.at);
		return pg_wexec(be, PW_IDEM_PRUNE, &p, NULL);
	case SOP_META_PUT:
		pgp_s(&p, op->u.meta.key);
		pgp_s(&p, op->u.meta.value);
		return pg_wexec(be, PW_META_PUT, &p, NULL);
	case SOP_MSG_INSERT:
	case SOP_MSG_EXPUNGE:
	case SOP_ATTEMPT:
	case SOP_ATTEMPT_EXPUNGE:
	case SOP_DELIVERY_SET:
	case SOP_DELIVERY_ADD:
		return pg_msg_apply(be, op);
	case SOP_INBOUND_INSERT:
	case SOP_INBOUND_ROUTED:
	case SOP_SOURCE_COUNT:
		return pg_inbound_apply(be, op);
	case SOP_RETAIN:
		return pg_retain(be, &op->u.retain);
	case SOP_HOOK_RUN_INSERT:
	case SOP_HOOK_RUN_UPDATE:
		return pg_hook_run_apply(be, op);
	}
	return HK_EINVAL;
}

/* ---- read connections ---- */

struct pg_conn *pg_take(struct pg_be *be)
{
	struct pg_conn *c = NULL;

	pthread_mutex_lock(&be->pool_mu);
	while (!be->pool && be->nconns >= be->maxconns)
		pthread_cond_wait(&be->pool_cv, &be->pool_mu);
	if (be->pool) {
		c = be->pool;
		be->pool = c->next;
	} else {
		be->nconns++;
	}
	pthread_mutex_unlock(&be->pool_mu);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (c)
			c->c = pg_connect(be->url, NULL, 0);
		if (!c || !c->c) {
			free(c);
			pthread_mutex_lock(&be->pool_mu);
			be->nconns--;
			pthread_cond_signal(&be->pool_cv);
			pthread_mutex_unlock(&be->pool_mu);
			return NULL;
		}
	}
	if (PQstatus(c->c) != CONNECTION_OK) {
		PQreset(c->c);
		c->prepared = 0;
	}
	return c;
}

void pg_give(struct pg_be *be, struct pg_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&be->pool_mu);
	c->next = be->pool;
	be->pool = c;
	pthread_cond_signal(&be->pool_cv);
	pthread_mutex_unlock(&be->pool_mu);
}

bool pg_read_again(struct pg_conn *c)
{
	if (PQstatus(c->c) != CONNECTION_BAD)
		return false;
	log_warnx("a PostgreSQL read connection broke; reconnecting");
	PQreset(c->c);
	c->prepared = 0;
	return PQstatus(c->c) == CONNECTION_OK;
}

static PGresult *read_once(struct pg_conn *c, enum pg_rstmt which, const struct pgp *p, int *rc)
{
	char name[16];
	PGresult *res;

	snprintf(name, sizeof(name), "r%d", (int)which);
	if (!(c->prepared & (1u << which))) {
		res = PQprepare(c->c, name, rsql[which], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			*rc = pg_err(c->c, res, rsql[which]);
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		c->prepared |= 1u << which;
	}
	res = PQexecPrepared(c->c, name, p->n, p->v, p->len, p->fmt, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		*rc = pg_err(c->c, res, rsql[which]);
		PQclear(res);
		return NULL;
	}
	*rc = 0;
	return res;
}

PGresult *pg_read(struct pg_conn *c, enum pg_rstmt which, const struct pgp *p, int *rc)
{
	PGresult *res = read_once(c, which, p, rc);
	if (!res && pg_read_again(c))
		res = read_once(c, which, p, rc);
	return res;
}

/* pg_read1 takes a connection, runs one read and gives the connection back */
PGresult *pg_read1(struct pg_be *be, enum pg_rstmt which, const struct pgp *p, int *rc)
{
	struct pg_conn *c = pg_take(be);
	PGresult *res;

	if (!c) {
		*rc = HK_EDB;
		return NULL;
	}
	res = pg_read(c, which, p, rc);
	pg_give(be, c);
	return res;
}

/* ---- reads: documents, idempotency, settings ---- */

static int pg_doc_get(void *arg, const char *kind, const char *parent, const char *key, json_t **out)
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, kind);
	pgp_s(&p, parent);
	pgp_s(&p, key);
	res = pg_read1(arg, PR_DOC_GET, &p, &rc);
	if (!res)
		return rc;
	if (PQntuples(res) == 0) {
		rc = HK_ENOTFOUND;
	} else {
		*out = pg_json(res, 0, 0);
		rc = *out ? 0 : HK_EDB;
	}
	PQclear(res);
	return rc;
}

/* pg_doc_list pages by id, as sqlite_doc_list does */
static int pg_doc_list(void *arg, const char *kind, const char *parent, const struct store_page *pg,
		       struct store_list *out)
{
	const char *it;
	bool desc;
	bool back = query_cursor(pg, &it, &desc);
	struct pgp p = {0};
	PGresult *res;
	int rc, n;

	if (!it)
		it = desc ? "\x7f" : "";
	pgp_s(&p, kind);
	pgp_s(&p, parent);
	pgp_s(&p, it);
	pgp_i(&p, pg->limit + 1);
	res = pg_read1(arg, desc ? PR_DOC_LIST_DESC : PR_DOC_LIST_ASC, &p, &rc);
	if (!res)
		return rc;
	out->items = json_array();
	n = PQntuples(res);
	for (int i = 0; i < n && i < pg->limit; i++) {
		json_t *doc = pg_json(res, i, 1);
		if (doc)
			json_array_append_new(out->items, doc);
	}
	out->done = n <= pg->limit;
	PQclear(res);
	query_list_finish(out, back);
	return 0;
}

static int pg_idem_get(void *arg, const char *key, int64_t now, int *status, char **body, size_t *len)
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, key);
	pgp_i(&p, now);
	res = pg_read1(arg, PR_IDEM_GET, &p, &rc);
	if (!res)
		return rc;
	rc = HK_ENOTFOUND;
	if (PQntuples(res) == 1) {
		*status = (int)pg_int(res, 0, 0);
		*body = pg_bytes(res, 0, 1, len);
		rc = *body ? 0 : HK_ENOMEM;
	}
	PQclear(res);
	return rc;
}

static int pg_meta_get(void *arg, const char *key, char **value)
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, key);
	res = pg_read1(arg, PR_META_GET, &p, &rc);
	if (!res)
		return rc;
	rc = HK_ENOTFOUND;
	if (PQntuples(res) == 1) {
		*value = strdup(pg_text(res, 0, 0));
		rc = *value ? 0 : HK_ENOMEM;
	}
	PQclear(res);
	return rc;
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.caps = STORE_CAP_CLUSTER | STORE_CAP_OPTIMISTIC,
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.release = pg_release,
	.rollback_to = pg_rollback_to,
	.apply = pg_apply,
	.doc_get = pg_doc_get,
	.doc_list = pg_doc_list,
	.idem_get = pg_idem_get,
	.meta_get = pg_meta_get,
	.msg_get = pg_msg_get,
	.msg_payload = pg_msg_payload,
	.msg_list = pg_msg_list,
	.attempt_list = pg_attempt_list,
	.attempt_get = pg_attempt_get,
	.delivery_list = pg_delivery_list,
	.delivery_get = pg_delivery_get,
	.endpoint_stats = pg_endpoint_stats,
	.failed_scan = pg_failed_scan,
	.inbound_dedupe_get = pg_inbound_dedupe_get,
	.inbound_list = pg_inbound_list,
	.inbound_get = pg_inbound_get,
	.inbound_raw = pg_inbound_raw,
	.source_stats = pg_source_stats,
	.inbound_unrouted_scan = pg_inbound_unrouted_scan,
	.node_start = pg_node_start,
	.node_renew = pg_node_renew,
	.node_stop = pg_node_stop,
	.claim = pg_claim,
	.wait = pg_wait,
	.take_tokens = pg_take_tokens,
	.try_lock = pg_try_lock,
	.unlock = pg_unlock,
	.hook_run_list = pg_hook_run_list,
	.hook_run_get = pg_hook_run_get,
	.hook_run_open_scan = pg_hook_run_open_scan,
};
