/*
 * store_sqlite.h - internals shared by the SQLite backend's files
 * (store_sqlite.c: connections, migrations, documents; store_sqlite_msg.c:
 * messages, deliveries and attempts). Not for use outside src/store/.
 */
#ifndef HK_STORE_SQLITE_H
#define HK_STORE_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>

#include "core/buf.h"
#include "store/query.h"
#include "store/store.h"

enum rstmt { R_DOC_GET, R_DOC_LIST_ASC, R_DOC_LIST_DESC, R_IDEM_GET, R_META_GET, R__COUNT };

enum mstmt {
	M_MSG_INSERT, M_DELIVERY_INSERT, M_ATTEMPT_INSERT, M_DELIVERY_ATTEMPT, M_DELIVERY_SET,
	M_DELIVERY_SET_RESET, M_MSG_EXPUNGE, M_ATTEMPT_EXPUNGE, M_DELIVERY_ADD, M__COUNT
};

enum istmt { I_CLAIM, I_INSERT, I_STAT, I_ROUTED, I_COUNT, I__COUNT };

struct sqlite_reader {
	struct sqlite_reader *next;
	sqlite3 *db;
	sqlite3_stmt *st[R__COUNT];
};

struct sqlite_be {
	char *path;
	int lock_fd;
	int wal_fd;     /* the -wal file, for the pipelined sync; -1 until first used */
	sqlite3 *wdb;
	sqlite3_stmt *w[16];
	sqlite3_stmt *m[M__COUNT];
	sqlite3_stmt *ib[I__COUNT]; /* inbound writes, prepared on first use */
	sqlite3_stmt *hr[2];        /* hook run insert / update, prepared on first use */
	pthread_mutex_t pool_mu;
	struct sqlite_reader *pool;
	/* the claim loop's state (store_sqlite_node.c) */
	int64_t started_ms;
	char claim_msg[ID_MAX], claim_ep[ID_MAX];
	bool claim_done;
};

int sq_db_err(sqlite3 *db, int src, const char *what);
/* sq_vfs_register makes hookd's VFS (store_sqlite_vfs.c) the default; once, before any open */
int sq_vfs_register(void);
int sq_exec(sqlite3 *db, const char *sql);
int sq_step_done(struct sqlite_be *be, sqlite3_stmt *st, const char *what);
struct sqlite_reader *sq_reader_take(struct sqlite_be *be);
void sq_reader_give(struct sqlite_be *be, struct sqlite_reader *r);
sqlite3_stmt *sq_reader_stmt(struct sqlite_reader *r, enum rstmt which);
void sq_stmt_done(sqlite3_stmt *st);
json_t *sq_column_json(sqlite3_stmt *st, int col);

/* store_sqlite_query.c: running the shared queries (store/query.h). Each runner releases its query. */

/* sq_bind binds n parameters (text borrowed: it must outlive the statement's run) */
void sq_bind(sqlite3_stmt *st, const struct query_arg *args, int n);
/* qb_prepare prepares q on db and binds its parameters; NULL (logged) if it does not prepare */
sqlite3_stmt *qb_prepare(struct query *q, sqlite3 *db);
/* run_list collects a page of rows into out; single expects exactly one row */
int run_list(struct sqlite_be *be, struct query *q, const struct store_page *pg, bool back, query_row_fn row,
	     struct store_list *out);
int single(struct sqlite_be *be, struct query *q, query_row_fn row, json_t **out);
/* sq_read_fn takes one row: 0 for the next, > 0 to stop, < 0 to stop with that error */
typedef int (*sq_read_fn)(sqlite3_stmt *st, void *arg);
/*
 * sq_read runs q on a reader connection and passes each row to row until it
 * stops; a step that fails ends the rows as if none were left. Returns the
 * rows passed, row's error, or HK_EDB when no reader or q does not prepare.
 */
int sq_read(struct sqlite_be *be, struct query *q, sq_read_fn row, void *arg);
const char *col_text(sqlite3_stmt *st, int i);

/* store_sqlite_msg.c */
int sq_msg_prepare(struct sqlite_be *be, char *err, size_t errlen);
void sq_msg_finalize(struct sqlite_be *be);
int sq_msg_apply(struct sqlite_be *be, const struct store_op *op);
int sq_msg_get(void *be, const char *app, const char *key, bool with_content, json_t **out);
int sq_msg_payload(void *be, const char *msg, char **payload, size_t *len, char **event_type,
		   char **headers);
int sq_msg_list(void *be, const struct store_msg_query *q, const struct store_page *pg,
		struct store_list *out);
int sq_attempt_list(void *be, const struct store_attempt_query *q, const struct store_page *pg,
		    struct store_list *out);
int sq_attempt_get(void *be, const char *app, const char *msg, const char *id, json_t **out);
int sq_delivery_list(void *be, const struct store_delivery_query *dq,
		     const struct store_page *pg, struct store_list *out);
int sq_delivery_get(void *be, const char *msg, const char *endpoint, struct store_due *out);
int sq_endpoint_stats(void *be, const char *endpoint, int64_t since, int64_t until,
		      struct store_ep_stats *out);
int sq_failed_scan(void *be, const char *endpoint, int64_t since, int64_t until, store_due_fn fn,
		   void *arg);

/* store_sqlite_inbound.c */
int sq_inbound_apply(struct sqlite_be *be, const struct store_op *op);
void sq_inbound_finalize(struct sqlite_be *be);
int sq_inbound_dedupe_get(void *be, const char *source, const char *key, int64_t now, char event[ID_MAX]);
int sq_inbound_list(void *be, const char *source, int status, int64_t since, const struct store_page *pg,
		    struct store_list *out);
int sq_inbound_get(void *be, const char *source, const char *id, json_t **out);
int sq_inbound_raw(void *be, const char *id, struct store_inbound_raw *out);
int sq_source_stats(void *be, const char *source, struct store_source_stats *out);
int sq_inbound_unrouted_scan(void *be, const char *after, int limit, store_inbound_fn fn, void *arg);

/* store_sqlite_node.c: the cluster operations of a single node, and retention */
int sq_node_start(void *be, const char *node, int64_t lease_ms, char *err, size_t errlen);
int sq_node_renew(void *be, int *live_nodes, int64_t *expiry_in);
int sq_node_stop(void *be);
int sq_claim(void *be, int limit, int64_t horizon, store_due_fn fn, void *arg);
int sq_wait(void *be, int wake_fd, int timeout_ms);
int sq_take_tokens(void *be, const char *endpoint, int rate, int want, int *granted, int64_t *valid_ms);
int sq_try_lock(void *be, int64_t key);
void sq_unlock(void *be, int64_t key);
int sq_retain(struct sqlite_be *be, const struct store_retain *rt);
/* store_sqlite_hooks.c */
int sq_hook_run_apply(struct sqlite_be *be, const struct store_op *op);
void sq_hook_run_finalize(struct sqlite_be *be);
int sq_hook_run_list(void *be, const char *hook, const struct store_page *pg, struct store_list *out);
int sq_hook_run_get(void *be, const char *hook, const char *id, json_t **out);
int sq_hook_run_open_scan(void *be, const char *after, int limit, store_hook_run_fn fn, void *arg);

#endif
