/*
 * store_pg.h - internals shared by the PostgreSQL backend's files
 * (store_pg.c: connections, migrations, transactions, documents;
 * store_pg_msg.c: messages, deliveries, attempts; store_pg_inbound.c: the
 * inbound journal; store_pg_query.c: running the shared queries of
 * store/query.c and row helpers; store_pg_node.c: leases, claims, shared
 * limits, locks and retention). Not for use outside src/store/.
 */
#ifndef HK_STORE_PG_H
#define HK_STORE_PG_H

#include <libpq-fe.h>
#include <pthread.h>

#include "core/buf.h"
#include "core/id.h"
#include "store/query.h"
#include "store/store.h"

/* statements prepared on the writer connection, by name "w<index>" */
enum pg_wstmt {
	PW_DOC_INSERT, PW_DOC_UPDATE, PW_DOC_DELETE, PW_IDEM_PUT, PW_IDEM_PRUNE, PW_META_PUT,
	PW_MSG_INSERT, PW_ATTEMPT, PW_DELIVERY_SET, PW_DELIVERY_SET_RESET, PW_MSG_EXPUNGE, PW_ATTEMPT_EXPUNGE, PW_DELIVERY_ADD,
	PW_IN_CLAIM, PW_IN_INSERT, PW_IN_ROUTED, PW_SOURCE_COUNT, PW_NOTIFY_CONFIG, PW_NOTIFY_WORK,
	PW_HR_INSERT, PW_HR_UPDATE,
	PW__COUNT
};

/* statements prepared on a read connection on first use, by name "r<index>" */
enum pg_rstmt {
	PR_DOC_GET, PR_DOC_LIST_ASC, PR_DOC_LIST_DESC, PR_IDEM_GET, PR_META_GET, PR_MSG_PAYLOAD,
	PR_DELIVERY_GET, PR_DEDUPE_GET, PR_INBOUND_RAW, PR_SOURCE_STATS, PR_UNROUTED, PR_EP_STATS,
	PR__COUNT
};

struct pg_conn {
	struct pg_conn *next;
	PGconn *c;
	uint32_t prepared; /* bit per enum pg_rstmt */
};

struct pg_be {
	char *url;
	PGconn *w;               /* the writer's, used by the writer thread only */
	bool w_prepared;
	bool sp_held;            /* a write's savepoint is still to be released */
	bool pipe;               /* the batch runs in libpq's pipeline mode (store_pg.c) */
	int piped;               /* statements sent since the last read of answers */
	char writer[ID_MAX];     /* this writer's row of commit_mark (store_pg.c) */
	int64_t seq;             /* the number of its last batch */
	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv;
	struct pg_conn *pool;    /* idle read connections */
	int nconns, maxconns;
	/* the claim loop's connection (node_*, claim, wait, take_tokens) */
	PGconn *lease;
	bool listening;
	char node[96];           /* empty until node_start: then new deliveries are leased to it */
	int64_t lease_ms;
	/* locks for singleton jobs, on a connection of their own */
	pthread_mutex_t lock_mu;
	PGconn *lockc;
};

/* parameters of one statement: text, or binary for bytea */
#define PGP_MAX 48

struct pgp {
	int n;
	const char *v[PGP_MAX];
	int len[PGP_MAX];
	int fmt[PGP_MAX];
	char ibuf[PGP_MAX][24];
};

void pgp_s(struct pgp *p, const char *s);   /* NULL binds SQL NULL */
void pgp_i(struct pgp *p, int64_t i);
void pgp_b(struct pgp *p, const void *data, size_t len);

/* pg_err maps a failed result to an HK_E* code (a unique violation is HK_ECONFLICT) */
int pg_err(PGconn *c, const PGresult *res, const char *what);
PGconn *pg_connect(const char *url, char *err, size_t errlen);
/* pg_cmd runs a parameterless command; 0 or an error */
int pg_cmd(PGconn *c, const char *sql);
/* pg_wexec runs a writer statement; *changes gets the rows it touched (may be NULL) */
int pg_wexec(struct pg_be *be, enum pg_wstmt which, const struct pgp *p, int *changes);
PGresult *pg_wexec_rows(struct pg_be *be, enum pg_wstmt which, const struct pgp *p, int *rc);

/* read connections: take one, run prepared or built statements, give it back */
struct pg_conn *pg_take(struct pg_be *be);
void pg_give(struct pg_be *be, struct pg_conn *c);
/*
 * pg_read runs a read statement; on success the caller PQclear()s the result.
 * Reads on a pooled connection that the server dropped while it sat idle (a
 * restart) run once more on the connection made again (pg_read_again).
 */
PGresult *pg_read(struct pg_conn *c, enum pg_rstmt which, const struct pgp *p, int *rc);
/*
 * pg_read_again, after a read on c failed: true when the connection had
 * broken and is made again, so the read (safe to repeat) may go once more.
 */
bool pg_read_again(struct pg_conn *c);
/* pg_read1 does the same on a connection it takes and gives back */
PGresult *pg_read1(struct pg_be *be, enum pg_rstmt which, const struct pgp *p, int *rc);

/*
 * ---- store_pg_query.c ----
 * Running the shared queries (store/query.h); each runner releases its
 * query.
 */

int pg_run_list(struct pg_be *be, struct query *q, const struct store_page *pg, bool back, query_row_fn row,
		struct store_list *out);
int pg_single(struct pg_be *be, struct query *q, query_row_fn row, json_t **out);
/* pg_scan runs a query of due-shaped rows (QUERY_DUE_COLS) */
int pg_scan(struct pg_be *be, struct query *q, store_due_fn fn, void *arg);
void pg_due_from_row(const PGresult *res, int row, struct store_due *d);

const char *pg_text(const PGresult *res, int row, int col); /* NULL for SQL NULL */
int64_t pg_int(const PGresult *res, int row, int col);
json_t *pg_json(const PGresult *res, int row, int col);
/* pg_bytes decodes a bytea column into a malloc'd, NUL-terminated copy */
char *pg_bytes(const PGresult *res, int row, int col, size_t *len);

/* ---- store_pg_msg.c ---- */
int pg_msg_apply(struct pg_be *be, const struct store_op *op);
int pg_msg_get(void *be, const char *app, const char *key, bool with_content, json_t **out);
int pg_msg_payload(void *be, const char *msg, char **payload, size_t *len, char **event_type,
		   char **headers);
int pg_msg_list(void *be, const struct store_msg_query *q, const struct store_page *pg,
		struct store_list *out);
int pg_attempt_list(void *be, const struct store_attempt_query *q, const struct store_page *pg,
		    struct store_list *out);
int pg_attempt_get(void *be, const char *app, const char *msg, const char *id, json_t **out);
int pg_delivery_list(void *be, const struct store_delivery_query *dq,
		     const struct store_page *pg, struct store_list *out);
int pg_delivery_get(void *be, const char *msg, const char *endpoint, struct store_due *out);
int pg_endpoint_stats(void *be, const char *endpoint, int64_t since, int64_t until,
		      struct store_ep_stats *out);
int pg_failed_scan(void *be, const char *endpoint, int64_t since, int64_t until, store_due_fn fn,
		   void *arg);

/* ---- store_pg_inbound.c ---- */
int pg_inbound_apply(struct pg_be *be, const struct store_op *op);
int pg_inbound_dedupe_get(void *be, const char *source, const char *key, int64_t now, char event[ID_MAX]);
int pg_inbound_list(void *be, const char *source, int status, int64_t since, const struct store_page *pg,
		    struct store_list *out);
int pg_inbound_get(void *be, const char *source, const char *id, json_t **out);
int pg_inbound_raw(void *be, const char *id, struct store_inbound_raw *out);
int pg_source_stats(void *be, const char *source, struct store_source_stats *out);
int pg_inbound_unrouted_scan(void *be, const char *after, int limit, store_inbound_fn fn, void *arg);

/* ---- store_pg_hooks.c ---- */
int pg_hook_run_apply(struct pg_be *be, const struct store_op *op);
int pg_hook_run_list(void *be, const char *hook, const struct store_page *pg, struct store_list *out);
int pg_hook_run_get(void *be, const char *hook, const char *id, json_t **out);
int pg_hook_run_open_scan(void *be, const char *after, int limit, store_hook_run_fn fn, void *arg);

/* ---- store_pg_node.c ---- */
int pg_node_start(void *be, const char *node, int64_t lease_ms, char *err, size_t errlen);
int pg_node_renew(void *be, int *live_nodes, int64_t *expiry_in);
int pg_node_stop(void *be);
int pg_claim(void *be, int limit, int64_t horizon, store_due_fn fn, void *arg);
int pg_wait(void *be, int wake_fd, int timeout_ms);
int pg_take_tokens(void *be, const char *endpoint, int rate, int want, int *granted, int64_t *valid_ms);
int pg_try_lock(void *be, int64_t key);
void pg_unlock(void *be, int64_t key);
int pg_retain(struct pg_be *be, const struct store_retain *rt);
void pg_node_close(struct pg_be *be);

#endif
