/*
 * store_sqlite.h - internals shared by the SQLite backend's files
 * (store_sqlite.c: connections, migrations, documents; store_sqlite_msg.c:
 * messages, deliveries and attempts). Not for use outside src/store/.
 */
#ifndef HK_STORE_SQLITE_H
#define HK_STORE_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

enum rstmt { R_DOC_GET, R_DOC_LIST_ASC, R_DOC_LIST_DESC, R_IDEM_GET, R_META_GET, R__COUNT };

enum mstmt {
	M_MSG_INSERT, M_DELIVERY_INSERT, M_ATTEMPT_INSERT, M_DELIVERY_ATTEMPT, M_DELIVERY_SET,
	M_DELIVERY_SET_RESET, M_MSG_EXPUNGE, M__COUNT
};

struct sqlite_reader {
	struct sqlite_reader *next;
	sqlite3 *db;
	sqlite3_stmt *st[R__COUNT];
};

struct sqlite_be {
	char *path;
	int lock_fd;
	sqlite3 *wdb;
	sqlite3_stmt *w[16];
	sqlite3_stmt *m[M__COUNT];
	pthread_mutex_t pool_mu;
	struct sqlite_reader *pool;
};

int sq_db_err(sqlite3 *db, int src, const char *what);
int sq_exec(sqlite3 *db, const char *sql);
int sq_step_done(struct sqlite_be *be, sqlite3_stmt *st, const char *what);
struct sqlite_reader *sq_reader_take(struct sqlite_be *be);
void sq_reader_give(struct sqlite_be *be, struct sqlite_reader *r);
sqlite3_stmt *sq_reader_stmt(struct sqlite_reader *r, enum rstmt which);
void sq_stmt_done(sqlite3_stmt *st);
json_t *sq_column_json(sqlite3_stmt *st, int col);

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
int sq_delivery_list(void *be, const char *app, const char *msg, const char *endpoint,
		     const struct store_page *pg, struct store_list *out);
int sq_delivery_get(void *be, const char *msg, const char *endpoint, struct store_due *out);
int sq_endpoint_stats(void *be, const char *endpoint, int64_t since, int64_t until,
		      struct store_ep_stats *out);
int sq_due_scan(void *be, const char *after_msg, const char *after_ep, int limit, store_due_fn fn,
		void *arg);
int sq_failed_scan(void *be, const char *endpoint, int64_t since, int64_t until, store_due_fn fn,
		   void *arg);

#endif
