/*
 * store_sqlite.c - the embedded backend: SQLite in WAL mode.
 *
 * One write connection, used only by the store's writer thread, with its
 * statements prepared once. Reads take a connection from a small pool
 * (opened read-only on demand, returned after the call), so API threads read
 * in parallel with the writer, as WAL allows. The database file is locked
 * with flock(2) for the life of the process: one hookd per file.
 *
 * Migrations are numbered; PRAGMA user_version records how far a file is.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store.h"
#include "store/store_sqlite.h"

/* ---- migrations: append only, never edit a released step ---- */

static const char *const migrations[] = {
	/* 1: documents, idempotency answers, settings */
	"CREATE TABLE doc ("
	"  kind TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',"
	"  uid TEXT, body TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, id));"
	"CREATE UNIQUE INDEX doc_uid ON doc(kind, parent, uid) WHERE uid IS NOT NULL;"
	"CREATE INDEX doc_parent ON doc(parent, kind, id);"
	"CREATE TABLE idem (key TEXT PRIMARY KEY, status INTEGER NOT NULL, body BLOB NOT NULL,"
	"  expires INTEGER NOT NULL);"
	"CREATE INDEX idem_expires ON idem(expires);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 2: messages, their deliveries (one per endpoint) and attempts */
	"CREATE TABLE msg ("
	"  id TEXT PRIMARY KEY, app TEXT NOT NULL, event_id TEXT, event_type TEXT NOT NULL,"
	"  channels TEXT, payload BLOB, created INTEGER NOT NULL, expires INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX msg_event_id ON msg(app, event_id) WHERE event_id IS NOT NULL;"
	"CREATE INDEX msg_app ON msg(app, id);"
	"CREATE TABLE delivery ("
	"  msg TEXT NOT NULL, endpoint TEXT NOT NULL, app TEXT NOT NULL, status INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  PRIMARY KEY (msg, endpoint)) WITHOUT ROWID;"
	"CREATE INDEX delivery_pending ON delivery(msg, endpoint) WHERE status = 1;"
	"CREATE INDEX delivery_endpoint ON delivery(endpoint, msg);"
	"CREATE TABLE attempt ("
	"  id TEXT PRIMARY KEY, msg TEXT NOT NULL, endpoint TEXT NOT NULL, app TEXT NOT NULL,"
	"  url TEXT NOT NULL, status INTEGER NOT NULL, code INTEGER NOT NULL, response TEXT,"
	"  duration INTEGER NOT NULL, trigger INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE INDEX attempt_msg ON attempt(msg, id);"
	"CREATE INDEX attempt_endpoint ON attempt(endpoint, id);",
	/* 3: extra headers per message (inbound pass-through); the inbound journal */
	"ALTER TABLE msg ADD COLUMN headers TEXT;"
	"CREATE TABLE inbound ("
	"  id TEXT PRIMARY KEY, source TEXT NOT NULL, dedupe_key TEXT NOT NULL, method TEXT NOT NULL,"
	"  path TEXT NOT NULL, query TEXT NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL,"
	"  remote TEXT NOT NULL, verified INTEGER NOT NULL, reason TEXT, event_type TEXT,"
	"  status INTEGER NOT NULL, routed TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX inbound_source ON inbound(source, id);"
	"CREATE INDEX inbound_unrouted ON inbound(id) WHERE status = 0;"
	"CREATE TABLE inbound_dedupe (source TEXT NOT NULL, key TEXT NOT NULL, event TEXT NOT NULL,"
	"  expires INTEGER NOT NULL, PRIMARY KEY (source, key)) WITHOUT ROWID;"
	"CREATE INDEX inbound_dedupe_expires ON inbound_dedupe(expires);"
	"CREATE TABLE source_stat (source TEXT PRIMARY KEY, received INTEGER NOT NULL DEFAULT 0,"
	"  verified INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,"
	"  duplicates INTEGER NOT NULL DEFAULT 0);",
	/* 4: command-hook runs; their trigger events live in the inbound journal */
	"CREATE TABLE hook_run ("
	"  id TEXT PRIMARY KEY, hook TEXT NOT NULL, event TEXT NOT NULL, trigger TEXT NOT NULL,"
	"  retry_of TEXT, coalesced_into TEXT, status INTEGER NOT NULL, exit_code INTEGER NOT NULL DEFAULT -1,"
	"  signal INTEGER NOT NULL DEFAULT 0, duration INTEGER NOT NULL DEFAULT 0, output BLOB,"
	"  truncated INTEGER NOT NULL DEFAULT 0, error TEXT, created INTEGER NOT NULL,"
	"  started INTEGER NOT NULL DEFAULT 0, ended INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL);"
	"CREATE INDEX hook_run_hook ON hook_run(hook, id);"
	"CREATE INDEX hook_run_open ON hook_run(id) WHERE status IN (0, 1);",
	/* 5: the node that queued a run (a shared database's recovery takes dead nodes' runs only) */
	"ALTER TABLE hook_run ADD COLUMN node TEXT;",
	/* 6: PostgreSQL's commit marks (a commit whose answer was lost): nothing here */
	"",
	/* 7: a message's tags (JSON array text), to filter lists by */
	"ALTER TABLE msg ADD COLUMN tags TEXT;",
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* ---- statements ---- */

enum wstmt {
	W_DOC_INSERT, W_DOC_UPDATE, W_DOC_DELETE, W_DOC_DELETE_CHILDREN,
	W_IDEM_PUT, W_IDEM_PRUNE, W_META_PUT, W_BEGIN, W_COMMIT, W_SAVEPOINT, W_RELEASE, W_ROLLBACK_TO,
	W__COUNT
};

static const char *const wsql[W__COUNT] = {
	[W_DOC_INSERT] = "INSERT INTO doc(kind,id,parent,uid,body,created,updated) VALUES(?,?,?,?,?,?,?)",
	[W_DOC_UPDATE] = "UPDATE doc SET uid=?4, body=?5, updated=?7 WHERE kind=?1 AND id=?2",
	[W_DOC_DELETE] = "DELETE FROM doc WHERE kind=?1 AND id=?2",
	[W_DOC_DELETE_CHILDREN] = "DELETE FROM doc WHERE parent=?2",
	[W_IDEM_PUT] = "INSERT OR REPLACE INTO idem(key,status,body,expires) VALUES(?,?,?,?)",
	[W_IDEM_PRUNE] = "DELETE FROM idem WHERE expires < ?",
	[W_META_PUT] = "INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)",
	/* transaction control, prepared once too: every write opens and closes a savepoint */
	[W_BEGIN] = "BEGIN IMMEDIATE",
	[W_COMMIT] = "COMMIT",
	[W_SAVEPOINT] = "SAVEPOINT w",
	[W_RELEASE] = "RELEASE w",
	[W_ROLLBACK_TO] = "ROLLBACK TO w",
};

static void reader_free_all(struct sqlite_be *be);

/* ---- helpers ---- */

int sq_db_err(sqlite3 *db, int src, const char *what)
{
	int primary = src & 0xff;
	if (primary == SQLITE_CONSTRAINT)
		return HK_ECONFLICT;
	if (primary == SQLITE_FULL)
		return HK_ENOSPACE;
	if (primary == SQLITE_IOERR) {
		log_error("sqlite %s failed: %s", what, sqlite3_errmsg(db));
		return HK_EIO;
	}
	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		return HK_EBUSY;
	log_error("sqlite %s failed: %s", what, sqlite3_errmsg(db));
	return HK_EDB;
}

int sq_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int src = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (src != SQLITE_OK) {
		int rc = sq_db_err(db, src, msg ? msg : sql);
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/*
 * sqlite_configure turns off SQLite's memory statistics, which nothing reads:
 * with them on, every allocation SQLite makes takes one process-wide mutex,
 * shared by the writer and every reader. It must run before SQLite starts;
 * if SQLite was started already, the call fails and changes nothing.
 */
static void sqlite_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sq_vfs_register() != SQLITE_OK)
		log_warnx("cannot register hookd's SQLite VFS: WAL frames are written one by one");
}

static int open_conn(const char *path, bool readonly, sqlite3 **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	sqlite3 *db = NULL;

	pthread_once(&once, sqlite_configure);
	flags |= SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		log_warnx("cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return HK_EDB;
	}
	sqlite3_busy_timeout(db, 5000);
	*out = db;
	return 0;
}

static int migrate(struct sqlite_be *be, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version = 0, rc = 0;

	if (sqlite3_prepare_v2(be->wdb, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > (int)NMIGRATIONS) {
		snprintf(err, errlen, "database '%s' is at schema %d, newer than this hookd (%zu)",
			 be->path, version, NMIGRATIONS);
		return HK_EINVAL;
	}
	for (int i = version; i < (int)NMIGRATIONS; i++) {
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", i + 1);
		rc = sq_exec(be->wdb, "BEGIN IMMEDIATE");
		if (rc == 0)
			rc = sq_exec(be->wdb, migrations[i]);
		if (rc == 0)
			rc = sq_exec(be->wdb, pragma);
		if (rc == 0)
			rc = sq_exec(be->wdb, "COMMIT");
		if (rc < 0) {
			sq_exec(be->wdb, "ROLLBACK");
			snprintf(err, errlen, "migration %d of '%s' failed", i + 1, be->path);
			return rc;
		}
		log_info("applied migration %d to '%s'", i + 1, be->path);
	}
	return 0;
}

static void sqlite_close(void *arg)
{
	struct sqlite_be *be = arg;
	if (!be)
		return;
	for (int i = 0; i < W__COUNT; i++)
		sqlite3_finalize(be->w[i]);
	sq_msg_finalize(be);
	sq_inbound_finalize(be);
	sq_hook_run_finalize(be);
	reader_free_all(be);
	if (be->wdb) {
		sqlite3_exec(be->wdb, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		sqlite3_close(be->wdb);
	}
	if (be->lock_fd >= 0)
		close(be->lock_fd);
	if (be->wal_fd >= 0)
		close(be->wal_fd);
	pthread_mutex_destroy(&be->pool_mu);
	free(be->path);
	free(be);
}

static int sqlite_open(const char *path, void **out, char *err, size_t errlen)
{
	struct sqlite_be *be = calloc(1, sizeof(*be));
	int rc;

	if (!be)
		return HK_ENOMEM;
	be->lock_fd = -1;
	be->wal_fd = -1;
	pthread_mutex_init(&be->pool_mu, NULL);
	be->path = strdup(path);
	be->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (be->lock_fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		rc = HK_EIO;
		goto fail;
	}
	if (flock(be->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "database '%s' is in use by another hookd process", path);
		rc = HK_EBUSY;
		goto fail;
	}
	rc = open_conn(path, false, &be->wdb);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open database '%s'", path);
		goto fail;
	}
	/*
	 * auto_vacuum first: it takes only on a file not yet written, and switching to WAL writes
	 * it (retention gives freed pages back: sq_retain). Commits skip the disk sync: the
	 * store's syncer thread makes each batch durable (sqlite_sync).
	 */
	rc = sq_exec(be->wdb, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			   "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;");
	if (rc < 0) {
		snprintf(err, errlen, "cannot set up database '%s'", path);
		goto fail;
	}
	rc = migrate(be, err, errlen);
	if (rc < 0)
		goto fail;
	for (int i = 0; i < W__COUNT; i++) {
		if (sqlite3_prepare_v3(be->wdb, wsql[i], -1, SQLITE_PREPARE_PERSISTENT, &be->w[i], NULL) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "cannot prepare statement: %s", sqlite3_errmsg(be->wdb));
			rc = HK_EDB;
			goto fail;
		}
	}
	rc = sq_msg_prepare(be, err, errlen);
	if (rc < 0)
		goto fail;
	*out = be;
	return 0;
fail:
	sqlite_close(be);
	return rc;
}

/*
 * sqlite_sync makes every transaction committed so far durable: with
 * synchronous=NORMAL a WAL commit is in the OS's hands (it survives a crash
 * of hookd, not of the machine) until the WAL file reaches the disk.
 * fdatasync on our own descriptor of that file flushes it; SQLite itself
 * syncs the WAL before every checkpoint.
 */
static int sqlite_sync(void *arg)
{
	struct sqlite_be *be = arg;

	if (be->wal_fd < 0) {
		char path[4096];
		snprintf(path, sizeof(path), "%s-wal", be->path);
		be->wal_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (be->wal_fd < 0) {
			log_warn("cannot open '%s'", path);
			return HK_EIO;
		}
	}
	if (fdatasync(be->wal_fd) < 0) {
		log_warn("cannot sync '%s-wal'", be->path);
		return HK_EIO;
	}
	return 0;
}

/* ---- transactions ---- */

static int run_stmt(struct sqlite_be *be, enum wstmt which, const char *what)
{
	return sq_step_done(be, be->w[which], what);
}

static int sqlite_begin(void *arg, bool guarded)
{
	(void)guarded;
	return run_stmt(arg, W_BEGIN, "begin");
}

static int sqlite_commit(void *arg)
{
	return run_stmt(arg, W_COMMIT, "commit");
}

static void sqlite_rollback(void *arg)
{
	struct sqlite_be *be = arg;
	if (!sqlite3_get_autocommit(be->wdb))
		sq_exec(be->wdb, "ROLLBACK");
}

static int sqlite_savepoint(void *arg)
{
	return run_stmt(arg, W_SAVEPOINT, "savepoint");
}

static int sqlite_release(void *arg)
{
	return run_stmt(arg, W_RELEASE, "release");
}

static void sqlite_rollback_to(void *arg)
{
	if (run_stmt(arg, W_ROLLBACK_TO, "rollback to") == 0)
		run_stmt(arg, W_RELEASE, "release");
}

/* ---- writes ---- */

int sq_step_done(struct sqlite_be *be, sqlite3_stmt *st, const char *what)
{
	int src = sqlite3_step(st);
	int rc = src == SQLITE_DONE ? 0 : sq_db_err(be->wdb, src, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int apply_doc(struct sqlite_be *be, enum wstmt which, const struct store_doc *d)
{
	sqlite3_stmt *st = be->w[which];
	char *body = NULL;
	int rc;

	if (d->body) {
		body = json_dumps(d->body, JSON_COMPACT);
		if (!body)
			return HK_ENOMEM;
	}
	sqlite3_bind_text(st, 1, d->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->id, -1, SQLITE_STATIC);
	if (which == W_DOC_INSERT)
		sqlite3_bind_text(st, 3, d->parent, -1, SQLITE_STATIC);
	if (which == W_DOC_INSERT || which == W_DOC_UPDATE) {
		if (d->uid)
			sqlite3_bind_text(st, 4, d->uid, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_text(st, 5, body ? body : "{}", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, d->updated);
	}
	if (which == W_DOC_INSERT)
		sqlite3_bind_int64(st, 6, d->created);
	rc = sq_step_done(be, st, "document write");
	if (rc == 0 && which != W_DOC_INSERT && sqlite3_changes(be->wdb) == 0)
		rc = HK_ENOTFOUND;
	free(body);
	return rc;
}

static int sqlite_apply(void *arg, const struct store_op *op)
{
	struct sqlite_be *be = arg;
	sqlite3_stmt *st;
	int rc;

	switch (op->kind) {
	case SOP_DOC_INSERT:
		return apply_doc(be, W_DOC_INSERT, &op->u.doc);
	case SOP_DOC_UPDATE:
		return apply_doc(be, W_DOC_UPDATE, &op->u.doc);
	case SOP_DOC_DELETE:
		rc = apply_doc(be, W_DOC_DELETE, &op->u.doc);
		if (rc < 0)
			return rc;
		st = be->w[W_DOC_DELETE_CHILDREN];
		sqlite3_bind_text(st, 2, op->u.doc.id, -1, SQLITE_STATIC);
		return sq_step_done(be, st, "document delete");
	case SOP_IDEM_PUT:
		st = be->w[W_IDEM_PUT];
		sqlite3_bind_text(st, 1, op->u.idem.key, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, op->u.idem.status);
		sqlite3_bind_blob(st, 3, op->u.idem.body ? op->u.idem.body : "", (int)op->u.idem.len,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, op->u.idem.expires);
		return sq_step_done(be, st, "idempotency write");
	case SOP_IDEM_PRUNE:
		st = be->w[W_IDEM_PRUNE];
		sqlite3_bind_int64(st, 1, op->u.prune.at);
		return sq_step_done(be, st, "idempotency prune");
	case SOP_META_PUT:
		st = be->w[W_META_PUT];
		sqlite3_bind_text(st, 1, op->u.meta.key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, op->u.meta.value, -1, SQLITE_STATIC);
		return sq_step_done(be, st, "setting write");
	case SOP_MSG_INSERT:
	case SOP_MSG_EXPUNGE:
	case SOP_ATTEMPT:
	case SOP_ATTEMPT_EXPUNGE:
	case SOP_DELIVERY_SET:
	case SOP_DELIVERY_ADD:
		return sq_msg_apply(be, op);
	case SOP_INBOUND_INSERT:
	case SOP_INBOUND_ROUTED:
	case SOP_SOURCE_COUNT:
		return sq_inbound_apply(be, op);
	case SOP_RETAIN:
		return sq_retain(be, &op->u.retain);
	case SOP_HOOK_RUN_INSERT:
	case SOP_HOOK_RUN_UPDATE:
		return sq_hook_run_apply(be, op);
	}
	return HK_EINVAL;
}

/* ---- reads ---- */


static const char *const rsql[R__COUNT] = {
	[R_DOC_GET] = "SELECT body FROM doc WHERE kind=?1 AND parent=?2 AND id=?3 "
		      "UNION ALL SELECT body FROM doc WHERE kind=?1 AND parent=?2 AND uid=?3 LIMIT 1",
	[R_DOC_LIST_ASC] = "SELECT id, body FROM doc WHERE kind=?1 AND parent=?2 AND id>?3 "
			   "ORDER BY id ASC LIMIT ?4",
	[R_DOC_LIST_DESC] = "SELECT id, body FROM doc WHERE kind=?1 AND parent=?2 AND id<?3 "
			    "ORDER BY id DESC LIMIT ?4",
	[R_IDEM_GET] = "SELECT status, body FROM idem WHERE key=?1 AND expires>=?2",
	[R_META_GET] = "SELECT value FROM meta WHERE key=?1",
};


struct sqlite_reader *sq_reader_take(struct sqlite_be *be)
{
	struct sqlite_reader *r;

	pthread_mutex_lock(&be->pool_mu);
	r = be->pool;
	if (r)
		be->pool = r->next;
	pthread_mutex_unlock(&be->pool_mu);
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (open_conn(be->path, true, &r->db) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

void sq_reader_give(struct sqlite_be *be, struct sqlite_reader *r)
{
	pthread_mutex_lock(&be->pool_mu);
	r->next = be->pool;
	be->pool = r;
	pthread_mutex_unlock(&be->pool_mu);
}

static void reader_free(struct sqlite_reader *r)
{
	for (int i = 0; i < R__COUNT; i++)
		sqlite3_finalize(r->st[i]);
	sqlite3_close(r->db);
	free(r);
}

static void reader_free_all(struct sqlite_be *be)
{
	while (be->pool) {
		struct sqlite_reader *r = be->pool;
		be->pool = r->next;
		reader_free(r);
	}
}

/* sq_reader_stmt returns the reader's prepared statement, reset and unbound. */
sqlite3_stmt *sq_reader_stmt(struct sqlite_reader *r, enum rstmt which)
{
	if (!r->st[which] &&
	    sqlite3_prepare_v3(r->db, rsql[which], -1, SQLITE_PREPARE_PERSISTENT, &r->st[which], NULL) !=
		    SQLITE_OK) {
		log_error("cannot prepare '%s': %s", rsql[which], sqlite3_errmsg(r->db));
		return NULL;
	}
	return r->st[which];
}

void sq_stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

json_t *sq_column_json(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	return text ? json_loadb(text, (size_t)sqlite3_column_bytes(st, col), 0, NULL) : NULL;
}

/*
 * read_one steps the reader statement which once with the parameters args;
 * row takes the row if there is one. Returns row's result, HK_ENOTFOUND
 * without a row, or the database's error (what names the read in the log).
 */
static int read_one(struct sqlite_be *be, enum rstmt which, const struct query_arg *args, int nargs,
		    sq_read_fn row, void *arg, const char *what)
{
	struct sqlite_reader *r = sq_reader_take(be);
	sqlite3_stmt *st;
	int rc = HK_ENOTFOUND, src;

	if (!r)
		return HK_EDB;
	st = sq_reader_stmt(r, which);
	if (!st) {
		rc = HK_EDB;
		goto out;
	}
	sq_bind(st, args, nargs);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = row(st, arg);
	else if (src != SQLITE_DONE)
		rc = sq_db_err(r->db, src, what);
	sq_stmt_done(st);
out:
	sq_reader_give(be, r);
	return rc;
}

static int doc_read(sqlite3_stmt *st, void *arg)
{
	json_t **out = arg;

	*out = sq_column_json(st, 0);
	return *out ? 0 : HK_EDB;
}

static int sqlite_doc_get(void *arg, const char *kind, const char *parent, const char *key, json_t **out)
{
	const struct query_arg args[] = {
		{.type = QUERY_TEXT, .s = kind}, {.type = QUERY_TEXT, .s = parent}, {.type = QUERY_TEXT, .s = key}};

	return read_one(arg, R_DOC_GET, args, 3, doc_read, out, "document read");
}

/*
 * sqlite_doc_list pages by id. Walking forwards (no iterator or an id) it
 * reads limit+1 rows after the iterator in the list's order; walking
 * backwards ("-id") it reads the rows before it in the opposite order and
 * reverses them.
 */
static int sqlite_doc_list(void *arg, const char *kind, const char *parent, const struct store_page *pg,
			   struct store_list *out)
{
	struct sqlite_be *be = arg;
	struct sqlite_reader *r = sq_reader_take(be);
	const char *it;
	bool desc; /* the SQL order */
	bool back = query_cursor(pg, &it, &desc);
	sqlite3_stmt *st;
	int rc = 0, src, n = 0;

	if (!r)
		return HK_EDB;
	if (!it)
		it = desc ? "\x7f" : "";
	st = sq_reader_stmt(r, desc ? R_DOC_LIST_DESC : R_DOC_LIST_ASC);
	out->items = json_array();
	if (!st || !out->items) {
		rc = HK_EDB;
		goto out;
	}
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, parent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, it, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, pg->limit + 1);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == pg->limit)
			break;
		json_t *doc = sq_column_json(st, 1);
		if (doc)
			json_array_append_new(out->items, doc);
	}
	out->done = n <= pg->limit;
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		rc = sq_db_err(r->db, src, "document list");
	sq_stmt_done(st);
	query_list_finish(out, back);
out:
	sq_reader_give(be, r);
	return rc;
}

struct idem_answer {
	int *status;
	char **body;
	size_t *len;
};

static int idem_read(sqlite3_stmt *st, void *arg)
{
	struct idem_answer *a = arg;
	int n = sqlite3_column_bytes(st, 1);

	*a->status = sqlite3_column_int(st, 0);
	*a->body = malloc((size_t)n + 1);
	if (!*a->body)
		return HK_ENOMEM;
	if (n)
		memcpy(*a->body, sqlite3_column_blob(st, 1), (size_t)n);
	(*a->body)[n] = '\0';
	*a->len = (size_t)n;
	return 0;
}

static int sqlite_idem_get(void *arg, const char *key, int64_t now, int *status, char **body, size_t *len)
{
	const struct query_arg args[] = {{.type = QUERY_TEXT, .s = key}, {.type = QUERY_INT, .i = now}};
	struct idem_answer a = {status, body, len};

	return read_one(arg, R_IDEM_GET, args, 2, idem_read, &a, "idempotency read");
}

static int meta_read(sqlite3_stmt *st, void *arg)
{
	char **value = arg;

	*value = strdup((const char *)sqlite3_column_text(st, 0));
	return *value ? 0 : HK_ENOMEM;
}

static int sqlite_meta_get(void *arg, const char *key, char **value)
{
	const struct query_arg args[] = {{.type = QUERY_TEXT, .s = key}};

	return read_one(arg, R_META_GET, args, 1, meta_read, value, "setting read");
}

/*
 * sqlite_backup copies path to dest page by page from one read snapshot:
 * the server's writer goes on meanwhile (WAL), and the copy holds exactly
 * what was committed when the backup began.
 */
int sqlite_backup(const char *path, const char *dest, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	int src_rc, rc = HK_EDB;

	if (access(dest, F_OK) == 0) {
		snprintf(err, errlen, "'%s' exists: hookd does not overwrite a backup", dest);
		return HK_ECONFLICT;
	}
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open '%s' or '%s': %s", path, dest,
			 sqlite3_errmsg(dst ? dst : src));
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(err, errlen, "cannot back up '%s': %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	/* one step: the copy comes from a single read transaction, so it is consistent */
	src_rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (src_rc != SQLITE_DONE) {
		snprintf(err, errlen, "backup of '%s' failed: %s", path, sqlite3_errstr(src_rc));
		goto out;
	}
	rc = sq_exec(dst, "PRAGMA journal_mode=DELETE");
	if (rc < 0)
		snprintf(err, errlen, "cannot finish '%s'", dest);
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	if (rc < 0)
		unlink(dest);
	return rc;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.caps = STORE_CAP_OPTIMISTIC,
	.open = sqlite_open,
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.savepoint = sqlite_savepoint,
	.release = sqlite_release,
	.rollback_to = sqlite_rollback_to,
	.apply = sqlite_apply,
	.sync = sqlite_sync,
	.doc_get = sqlite_doc_get,
	.doc_list = sqlite_doc_list,
	.idem_get = sqlite_idem_get,
	.meta_get = sqlite_meta_get,
	.msg_get = sq_msg_get,
	.msg_payload = sq_msg_payload,
	.msg_list = sq_msg_list,
	.attempt_list = sq_attempt_list,
	.attempt_get = sq_attempt_get,
	.delivery_list = sq_delivery_list,
	.delivery_get = sq_delivery_get,
	.endpoint_stats = sq_endpoint_stats,
	.failed_scan = sq_failed_scan,
	.inbound_dedupe_get = sq_inbound_dedupe_get,
	.inbound_list = sq_inbound_list,
	.inbound_get = sq_inbound_get,
	.inbound_raw = sq_inbound_raw,
	.source_stats = sq_source_stats,
	.inbound_unrouted_scan = sq_inbound_unrouted_scan,
	.node_start = sq_node_start,
	.node_renew = sq_node_renew,
	.node_stop = sq_node_stop,
	.claim = sq_claim,
	.wait = sq_wait,
	.take_tokens = sq_take_tokens,
	.try_lock = sq_try_lock,
	.unlock = sq_unlock,
	.hook_run_list = sq_hook_run_list,
	.hook_run_get = sq_hook_run_get,
	.hook_run_open_scan = sq_hook_run_open_scan,
};
