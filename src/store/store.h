/*
 * store.h - hookd's durable state behind one operations table.
 *
 * Invariants:
 *   - There is one writer: every change goes through store_submit(), which
 *     queues a struct store_write. The writer thread drains the queue, runs
 *     each write inside its own savepoint of one transaction, commits once,
 *     and then calls every write's done() callback with its result (group
 *     commit). A write either applies whole or not at all.
 *   - done() runs on the writer thread: it must be quick (resume an HTTP
 *     request, hand deliveries to the dispatcher) and must not submit and
 *     wait for another write.
 *   - Reads may run on any thread; backends keep a pool of read connections.
 *     A read sees every write whose done() has been called.
 *
 * Management entities (applications, endpoints, event types, sources, ...)
 * are documents: a JSON object keyed by (kind, id), optionally by a uid that
 * is unique per (kind, parent). Fields whose names start with '_' are private
 * (secrets, internal state) and never leave the API layer.
 *
 * Backends (store_sqlite.c, store_pg.c) implement struct store_ops; this
 * front-end validates, logs and counts, so each backend stays small.
 */
#ifndef HK_STORE_H
#define HK_STORE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

/* ---- write operations ---- */

enum store_op_kind {
	SOP_DOC_INSERT,  /* new document; a duplicate id or uid fails with HK_ECONFLICT */
	SOP_DOC_UPDATE,  /* replace an existing document's body and uid; HK_ENOTFOUND if gone */
	SOP_DOC_DELETE,  /* delete a document and every document whose parent it is */
	SOP_IDEM_PUT,    /* remember an answer for an idempotency key */
	SOP_IDEM_PRUNE,  /* forget answers that expired before `at` */
	SOP_META_PUT,    /* a key/value setting (token hash, node state) */
	SOP_MSG_INSERT,  /* a message and one pending delivery per endpoint; a duplicate eventId: HK_ECONFLICT */
	SOP_MSG_EXPUNGE, /* drop a message's payload */
	SOP_ATTEMPT,     /* record an attempt and move its delivery on */
	SOP_ATTEMPT_EXPUNGE, /* replace an attempt's response body (u.att.id, u.att.msg); none: HK_ENOTFOUND */
	SOP_DELIVERY_SET,/* requeue or settle a delivery (resend, recover, disabled endpoint) */
	SOP_DELIVERY_ADD,/* a pending delivery of a stored message to one more endpoint (u.dset; none if it has one) */
	SOP_INBOUND_INSERT, /* journal an accepted inbound request; a live duplicate: HK_ECONFLICT */
	SOP_INBOUND_ROUTED, /* record what routing an inbound event produced */
	SOP_SOURCE_COUNT,   /* add to a source's rejected / duplicate counters */
	SOP_RETAIN,         /* one batch of retention: old attempts, messages, journal; expired payloads */
	SOP_HOOK_RUN_INSERT, /* a new command-hook run (struct store_hook_run); a duplicate id: HK_ECONFLICT */
	SOP_HOOK_RUN_UPDATE, /* a run's new state and result; HK_ENOTFOUND if the id is unknown */
};

/* delivery and attempt statuses, as the Svix API numbers them */
enum msg_status {
	MSG_SUCCESS = 0,
	MSG_PENDING = 1,
	MSG_FAIL = 2,
	MSG_SENDING = 3,
	MSG_CANCELED = 4,
};

const char *msg_status_text(int status);

struct store_msg {
	char id[ID_MAX];
	char app[ID_MAX];
	char *event_id;    /* owned, may be NULL */
	char *event_type;  /* owned */
	json_t *channels;  /* owned reference, NULL when none */
	json_t *tags;      /* owned reference, NULL when none */
	json_t *headers;   /* owned reference: extra headers for its deliveries, or NULL */
	char *payload;     /* owned: the bytes deliveries send */
	size_t payload_len;
	int64_t created;
	int64_t expires;   /* payload retention, 0: keep */
	int64_t deliver_at; /* when its deliveries are first due (ms), 0: at once */
	char (*endpoints)[ID_MAX]; /* owned: one pending delivery each */
	size_t nendpoints;
};

struct store_attempt {
	char id[ID_MAX];
	char msg[ID_MAX];
	char endpoint[ID_MAX];
	char app[ID_MAX];
	char *url;         /* owned */
	char *response;    /* owned, capped by the dispatcher */
	int status;        /* MSG_SUCCESS, MSG_FAIL or MSG_CANCELED */
	int code;          /* HTTP status, 0 for a connection error */
	int64_t duration_ms;
	int trigger;       /* 0 scheduled, 1 manual */
	int64_t created;
	/* what happens to the delivery */
	int delivery_status;
	int attempts;
	int64_t next_at;
};

struct store_inbound {
	char id[ID_MAX];
	char source[ID_MAX];
	char *dedupe_key;  /* owned */
	char method[16];
	char *path, *query, *headers, *remote, *reason, *event_type; /* owned; headers: JSON object text */
	char *body;        /* owned */
	size_t body_len;
	bool verified;
	int status;        /* INBOUND_RECEIVED, or INBOUND_ROUTED when there is nothing to route */
	int64_t created;
	int64_t dedupe_expires;
};

enum inbound_status { INBOUND_RECEIVED = 0, INBOUND_ROUTED = 1, INBOUND_ROUTE_FAILED = 2 };

struct store_inbound_routed {
	char id[ID_MAX];
	int status;
	int expect;        /* the status it must still have (else HK_ECONFLICT), or -1: any */
	char *routed;      /* owned: JSON array text of what was produced */
};

struct store_source_count {
	char source[ID_MAX];
	int rejected, duplicates;
};

/*
 * Command-hook runs (src/hooks/runner.c). A run is one execution of a hook's
 * command for one stored trigger event (an id of the inbound journal). Its
 * status only moves forward:
 *
 *   queued -> running -> succeeded | failed | timed_out
 *   queued -> coalesced            (a newer trigger of the same hook ran instead)
 *   queued | running -> interrupted (found unfinished at start-up; a new run
 *                                    is queued for the same event, retry_of)
 *
 * SOP_HOOK_RUN_INSERT writes every field; SOP_HOOK_RUN_UPDATE sets status,
 * started, ended, exit_code, signal, duration_ms, output, truncated, error
 * and coalesced_into (NULL strings and 0 times leave a column as it was),
 * and always sets updated.
 */
enum hook_run_status {
	HOOK_RUN_QUEUED = 0,
	HOOK_RUN_RUNNING = 1,
	HOOK_RUN_SUCCEEDED = 2,
	HOOK_RUN_FAILED = 3,
	HOOK_RUN_TIMED_OUT = 4,
	HOOK_RUN_INTERRUPTED = 5,
	HOOK_RUN_COALESCED = 6,
};

const char *hook_run_status_text(int status);

struct store_hook_run {
	char id[ID_MAX];        /* run_... */
	char hook[256];         /* the hook's id (adnanh ids may hold '/') */
	char event[ID_MAX];     /* the inbound journal event that triggered it */
	char trigger[16];       /* "http", "route", "rerun", "requeue" */
	char retry_of[ID_MAX];  /* "" or the run this one repeats */
	char coalesced_into[ID_MAX]; /* "" or the run that ran instead */
	int status;             /* enum hook_run_status */
	int exit_code;          /* -1: none (not run, killed by a signal, spawn failure) */
	int signal;             /* the signal that ended it, 0: none */
	int64_t duration_ms;
	char *output;           /* owned, may be NULL: stdout and stderr interleaved, capped */
	size_t output_len;
	bool truncated;         /* output was cut at the hook's output-limit */
	char *error;            /* owned, may be NULL: why it failed to start, timed out, ... */
	int64_t created, started, ended;
	bool only_open;         /* update: only a run still queued or running (else HK_ECONFLICT) */
};

/*
 * an unfinished run, as the recovery scan reads it back. On a shared
 * database a run belongs to the node that queued it (PostgreSQL: the node
 * id of a delivering node) and the scan returns only runs without a live
 * owner: this node's own earlier process, a node that died.
 */
struct store_hook_run_ref {
	char id[ID_MAX], hook[256], event[ID_MAX];
	int status;
	bool owned;  /* queued by a node holding a lease (which has since died) */
};

typedef int (*store_hook_run_fn)(const struct store_hook_run_ref *run, void *arg);

struct store_delivery_set {
	char msg[ID_MAX];
	char endpoint[ID_MAX];
	char app[ID_MAX];        /* SOP_DELIVERY_ADD only */
	int status;
	int64_t next_at;
	bool reset_attempts;
};

/*
 * One retention batch: at most `limit` rows of each kind are removed, so a
 * batch stays short inside the group commit. The backend adds what it
 * removed to *removed and sets *more when a kind had `limit` rows to go.
 */
struct store_retain {
	int64_t before;   /* attempts, messages (settled) and inbound events created before this go */
	int64_t now;      /* payloads, idempotency answers and dedupe keys that expired before this go */
	int limit;
	int64_t *removed; /* written by the writer thread; read after done() */
	bool *more;
};

struct store_doc {
	char kind[24];
	char id[ID_MAX + 200]; /* event types use their name (up to 256) as id */
	char parent[ID_MAX];
	char *uid;             /* owned, may be NULL */
	json_t *body;          /* owned reference */
	int64_t created, updated;
};

struct store_op {
	enum store_op_kind kind;
	union {
		struct store_doc doc;
		struct {
			char *key; /* owned: already hashed by the caller */
			int status;
			char *body; /* owned */
			size_t len;
			int64_t expires;
		} idem;
		struct {
			int64_t at;
		} prune;
		struct {
			char *key, *value; /* owned */
		} meta;
		struct store_msg msg;
		struct store_attempt att;
		struct store_delivery_set dset;
		struct store_inbound in;
		struct store_inbound_routed routed;
		struct store_source_count count;
		struct store_retain retain;
		struct store_hook_run run;
	} u;
};

struct store_write;
typedef void (*store_done_fn)(struct store_write *w, int rc, void *arg);

struct store_write {
	struct store_write *next; /* queue link, private */
	struct store_op *ops;     /* owned by the write */
	size_t nops, cap;
	store_done_fn done;       /* may be NULL: fire and forget */
	void *arg;
	int rc;
	int failed_op;            /* index of the op that failed, -1 */
	bool keep;                /* no client waits on done(): a failed batch keeps it too */
	int kept;                 /* failed batches it was kept from, private (store.c) */
};

/* ---- reads ---- */

struct store_page {
	const char *iterator; /* NULL, an id, or "-id" to walk backwards */
	int limit;            /* 1..250 */
	bool desc;            /* newest first */
};

struct store_list {
	json_t *items;        /* array of documents, in the order asked */
	bool done;            /* no more items past the last one */
	char iterator[ID_MAX + 200];
	char prev_iterator[ID_MAX + 201];
};

/* message and attempt queries */
struct store_msg_query {
	const char *app;          /* app id */
	json_t *event_types;      /* array of names or NULL */
	const char *channel;      /* or NULL */
	const char *tag;          /* or NULL */
	int64_t before, after;    /* ms, 0: unbounded */
	bool with_content;
	const char *missing_to;   /* only messages with no delivery to this endpoint id, or NULL */
};

struct store_attempt_query {
	const char *app;
	const char *msg;          /* filter by message id, or NULL */
	const char *endpoint;     /* filter by endpoint id, or NULL */
	int status;               /* -1: any */
	int code_class;           /* -1: any; 0 (no answer), 100, 200, 300, 400, 500 */
	json_t *event_types;
	const char *channel, *tag; /* the message's, or NULL */
	int64_t before, after;
};

/* a message's destinations (msg set) or an endpoint's messages (endpoint set) */
struct store_delivery_query {
	const char *app;
	const char *msg;
	const char *endpoint;
	int status;               /* -1: any */
	/* an endpoint's messages only: which messages */
	json_t *event_types;
	const char *channel, *tag;
	int64_t before, after;    /* the message's creation, ms; 0: unbounded */
};

/* a due delivery, as recovery reads it back */
struct store_due {
	char msg[ID_MAX], endpoint[ID_MAX], app[ID_MAX];
	int attempts;
	int64_t next_at;
	int status;
	/*
	 * The message itself, when the read joins it (claims do, so a claimed
	 * batch needs no read per row): event_type set, the strings borrowed for
	 * the callback only; payload NULL once expunged, headers NULL when none.
	 * Reads that do not join leave all of them NULL.
	 */
	const char *event_type, *payload, *headers;
	size_t len;
};

typedef int (*store_due_fn)(const struct store_due *d, void *arg);

struct store_source_stats {
	int64_t received, verified, rejected, duplicates;
};

/* an inbound event read back whole, for routing, replay and command hooks */
struct store_inbound_raw {
	char id[ID_MAX], source[ID_MAX];
	char *method, *path, *query, *headers, *event_type, *body; /* owned */
	char *remote;      /* owned: the sender's address as journaled ("ip" or "ip:port") */
	size_t body_len;
	int status;
};

void store_inbound_raw_release(struct store_inbound_raw *r);
typedef int (*store_inbound_fn)(const char *id, void *arg);

struct store_ep_stats {
	int64_t success, pending, sending, fail, canceled;
};

/* ---- backends ---- */

/* capability flags of a backend */
/* what an expunged attempt's response reads (SOP_ATTEMPT_EXPUNGE), as on Svix */
#define STORE_EXPUNGED "EXPUNGED"

#define STORE_CAP_CLUSTER 1u /* several hookd nodes may share the database: leases, shared limits */
/*
 * batches first run without savepoints (store.c): they cost more than running
 * a batch again now and then (PostgreSQL: a round trip; SQLite: a statement journal)
 */
#define STORE_CAP_OPTIMISTIC 2u

/* what store_wait reports (a bit set) */
#define STORE_WAKE_WORK 1   /* deliveries were released or queued for any node to claim */
#define STORE_WAKE_CONFIG 2 /* another node changed endpoints or applications */

struct store_ops {
	const char *name;
	unsigned caps;
	int (*open)(const char *location, void **be, char *err, size_t errlen);
	void (*close)(void *be);
	/*
	 * transaction control, on the writer's connection; a batch begun
	 * unguarded runs no savepoints, and a backend may then send its
	 * statements without waiting for each answer (see store.c). commit
	 * answers 0 only if the transaction committed, and an error only if it
	 * did not: a backend that loses the answer finds out which it was.
	 */
	int (*begin)(void *be, bool guarded);
	int (*commit)(void *be);
	void (*rollback)(void *be);
	int (*savepoint)(void *be);
	int (*release)(void *be);
	void (*rollback_to)(void *be);
	int (*apply)(void *be, const struct store_op *op);
	/*
	 * sync (optional) makes every committed transaction durable. A backend
	 * that has it commits without waiting for the disk; the front-end then
	 * syncs on a second thread while the writer runs the next batch, and
	 * wakes a batch's waiters only after its sync (pipelined group commit).
	 */
	int (*sync)(void *be);
	/* reads, any thread */
	int (*doc_get)(void *be, const char *kind, const char *parent, const char *key, json_t **out);
	int (*doc_list)(void *be, const char *kind, const char *parent, const struct store_page *pg,
			struct store_list *out);
	int (*idem_get)(void *be, const char *key, int64_t now, int *status, char **body, size_t *len);
	int (*meta_get)(void *be, const char *key, char **value);
	int (*msg_get)(void *be, const char *app, const char *key, bool with_content, json_t **out);
	int (*msg_payload)(void *be, const char *msg, char **payload, size_t *len, char **event_type,
			   char **headers);
	int (*msg_list)(void *be, const struct store_msg_query *q, const struct store_page *pg,
			struct store_list *out);
	int (*attempt_list)(void *be, const struct store_attempt_query *q, const struct store_page *pg,
			    struct store_list *out);
	int (*attempt_get)(void *be, const char *app, const char *msg, const char *id, json_t **out);
	/* deliveries of one message (by endpoint) or one endpoint (by message) */
	int (*delivery_list)(void *be, const struct store_delivery_query *dq,
			     const struct store_page *pg, struct store_list *out);
	int (*delivery_get)(void *be, const char *msg, const char *endpoint, struct store_due *out);
	int (*endpoint_stats)(void *be, const char *endpoint, int64_t since, int64_t until,
			      struct store_ep_stats *out);
	/* failed deliveries of an endpoint whose last change is in [since, until] */
	int (*failed_scan)(void *be, const char *endpoint, int64_t since, int64_t until, store_due_fn fn,
			   void *arg);
	/* inbound journal */
	int (*inbound_dedupe_get)(void *be, const char *source, const char *key, int64_t now,
				  char event[ID_MAX]);
	int (*inbound_list)(void *be, const char *source, int status, int64_t since,
			    const struct store_page *pg, struct store_list *out);
	int (*inbound_get)(void *be, const char *source, const char *id, json_t **out);
	int (*inbound_raw)(void *be, const char *id, struct store_inbound_raw *out);
	int (*source_stats)(void *be, const char *source, struct store_source_stats *out);
	int (*inbound_unrouted_scan)(void *be, const char *after, int limit, store_inbound_fn fn, void *arg);
	/*
	 * Cluster operations, called by one thread (the claim loop) on a
	 * connection of their own. On a single-node backend they are trivial:
	 * every delivery is this process's, and claim only hands back what a
	 * previous run left pending (once, at start).
	 */
	int (*node_start)(void *be, const char *node, int64_t lease_ms, char *err, size_t errlen);
	int (*node_renew)(void *be, int *live_nodes, int64_t *expiry_in);
	int (*node_stop)(void *be);
	int (*claim)(void *be, int limit, int64_t horizon, store_due_fn fn, void *arg);
	int (*wait)(void *be, int wake_fd, int timeout_ms);
	int (*take_tokens)(void *be, const char *endpoint, int rate, int want, int *granted,
			   int64_t *valid_ms);
	int (*try_lock)(void *be, int64_t key);
	void (*unlock)(void *be, int64_t key);
	/* command-hook runs: list (newest first unless asked), get (with output), unfinished scan */
	int (*hook_run_list)(void *be, const char *hook, const struct store_page *pg, struct store_list *out);
	int (*hook_run_get)(void *be, const char *hook, const char *id, json_t **out);
	int (*hook_run_open_scan)(void *be, const char *after, int limit, store_hook_run_fn fn, void *arg);
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;
int sqlite_backup(const char *path, const char *dest, char *err, size_t errlen);

struct store_stats {
	uint64_t commits, writes, failed_commits;
	uint64_t batch_max;
	uint64_t queued;
};

struct store {
	const struct store_ops *ops;
	void *be;
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the writer waits for work */
	pthread_cond_t idle;    /* store_drain waits for an empty queue */
	struct store_write *head, *tail;
	pthread_t syncer;       /* only with ops->sync */
	pthread_cond_t sync_cv;
	struct store_write *sync_head, *sync_tail; /* committed, waiting for the disk */
	bool syncing, sync_stopping, syncer_started;
	int64_t flushed_us;     /* when the last flush began (monotonic) */
	size_t queued, max_queued;
	size_t waited;          /* queued writes whose done() someone waits for */
	int guarded;            /* batches left to run with savepoints after a failed write */
	int64_t retry_us;       /* kept writes of a failed batch run again after this (monotonic) */
	int retry_ms;           /* the pause before that, doubling while batches keep failing */
	bool busy, stopping, started;
	struct store_stats stats;
};

/*
 * store_open opens "sqlite:PATH" (or a bare path) or "postgres://..." and
 * applies migrations. err gets a human reason on failure.
 */
int store_open(const char *url, struct store **out, char *err, size_t errlen);
/* store_queued reports how many writes wait for the writer */
size_t store_queued(struct store *st);
/*
 * store_set_queue_max caps the writes that may wait for the writer (default
 * 100 000, at least 1): beyond it store_submit answers HK_EFULL, which the
 * API turns into 503 with Retry-After (`hookd serve --write-queue`).
 */
void store_set_queue_max(struct store *st, size_t n);
/* store_drain waits until every queued write has been committed and answered. */
void store_drain(struct store *st);
/*
 * store_backup copies the database at url to dest, consistently, while a
 * server may be writing it (SQLite); HK_EUNSUPPORTED for backends with
 * their own tools (PostgreSQL: pg_dump).
 */
int store_backup(const char *url, const char *dest, char *err, size_t errlen);
/* store_close drains the writer queue, stops it and closes the database. */
void store_close(struct store *st);

/* ---- writes ---- */

struct store_write *store_write_new(store_done_fn done, void *arg);
/* store_write_add returns a zeroed op appended to w, or NULL without memory. */
struct store_op *store_write_add(struct store_write *w, enum store_op_kind kind);
/* store_write_doc appends a doc op; it takes a new reference to body and copies uid. */
int store_write_doc(struct store_write *w, enum store_op_kind kind, const char *doc_kind,
		    const char *id, const char *parent, const char *uid, json_t *body,
		    int64_t created, int64_t updated);
void store_write_free(struct store_write *w);
/*
 * store_submit queues w; the store owns it from then on and frees it after
 * done() returns. HK_EFULL when the queue is at its cap (then w is not
 * taken and done() never runs: the caller frees it).
 */
int store_submit(struct store *st, struct store_write *w);
/* store_run submits and waits; for start-up and tools, never on a loop thread. */
int store_run(struct store *st, struct store_write *w);

/* ---- reads ---- */

/* store_doc_get finds by id, else by uid; *out is a new reference. */
int store_doc_get(struct store *st, const char *kind, const char *parent, const char *key, json_t **out);
int store_doc_list(struct store *st, const char *kind, const char *parent, const struct store_page *pg,
		   struct store_list *out);
void store_list_release(struct store_list *l);
/* store_list_set_iterators fills the cursors from the items' ids (for backends). */
void store_list_set_iterators(struct store_list *l, bool backwards);
/* store_idem_get: 0 and the stored answer, or HK_ENOTFOUND (also once expired). */
int store_idem_get(struct store *st, const char *key, int *status, char **body, size_t *len);
int store_meta_get(struct store *st, const char *key, char **value);

/*
 * Messages, deliveries and attempts. Answers are API-shaped documents
 * (MessageOut, MessageAttemptOut, ...). msg key: the id or the eventId.
 */
int store_msg_get(struct store *st, const char *app, const char *key, bool with_content, json_t **out);
/*
 * store_msg_payload returns the bytes to deliver (NULL after an expunge), the
 * event type and the message's extra headers as a JSON object text (or NULL)
 */
int store_msg_payload(struct store *st, const char *msg, char **payload, size_t *len, char **event_type,
		      char **headers);
int store_msg_list(struct store *st, const struct store_msg_query *q, const struct store_page *pg,
		   struct store_list *out);
int store_attempt_list(struct store *st, const struct store_attempt_query *q,
		       const struct store_page *pg, struct store_list *out);
int store_attempt_get(struct store *st, const char *app, const char *msg, const char *id, json_t **out);
int store_delivery_list(struct store *st, const struct store_delivery_query *dq,
			const struct store_page *pg, struct store_list *out);
int store_delivery_get(struct store *st, const char *msg, const char *endpoint, struct store_due *out);
int store_endpoint_stats(struct store *st, const char *endpoint, int64_t since, int64_t until,
			 struct store_ep_stats *out);
int store_failed_scan(struct store *st, const char *endpoint, int64_t since, int64_t until,
		      store_due_fn fn, void *arg);

/*
 * The inbound journal. dedupe_get finds a live (unexpired) earlier event
 * with this delivery key; list items leave out headers and body, get
 * includes the raw request.
 */
int store_inbound_dedupe_get(struct store *st, const char *source, const char *key, char event[ID_MAX]);
int store_inbound_list(struct store *st, const char *source, int status, int64_t since,
		       const struct store_page *pg, struct store_list *out);
int store_inbound_get(struct store *st, const char *source, const char *id, json_t **out);
int store_inbound_raw(struct store *st, const char *id, struct store_inbound_raw *out);
int store_source_stats(struct store *st, const char *source, struct store_source_stats *out);
int store_inbound_unrouted_scan(struct store *st, const char *after, int limit, store_inbound_fn fn,
				void *arg);

/*
 * ---- cluster: leases, claims and shared limits ----
 *
 * A node that delivers registers with store_node_start before it accepts
 * work: from then on the deliveries its writes create or requeue are leased
 * to it, and it must call store_node_renew more often than lease_ms or other
 * nodes take its pending work over. store_claim hands the caller's function
 * pending deliveries that no live node holds (due before `horizon`, ms),
 * now leased to this node. store_node_stop gives this node's pending work
 * back for others to claim at once (a clean stop). All of these, with
 * store_wait and store_take_tokens, run on one thread, the claim loop.
 */
static inline bool store_clustered(const struct store *st)
{
	return (st->ops->caps & STORE_CAP_CLUSTER) != 0;
}
int store_node_start(struct store *st, const char *node, int64_t lease_ms, char *err, size_t errlen);
/*
 * store_node_renew extends this node's lease; *live_nodes counts the nodes
 * alive (>= 1), *expiry_in is how long until the next other node's lease
 * runs out unless renewed (ms; -1: no other node), when its work may be free
 */
int store_node_renew(struct store *st, int *live_nodes, int64_t *expiry_in);
int store_node_stop(struct store *st);
/* store_claim returns how many deliveries it handed to fn, or an error */
int store_claim(struct store *st, int limit, int64_t horizon, store_due_fn fn, void *arg);
/*
 * store_wait sleeps until a notification from another node, wake_fd
 * readable (it is not read), or timeout_ms; returns STORE_WAKE_* bits (0 on timeout)
 */
int store_wait(struct store *st, int wake_fd, int timeout_ms);
/*
 * store_take_tokens takes up to `want` sends to an endpoint limited to
 * `rate` a second across every node sharing the store; *granted may be 0.
 * Tokens are good for *valid_ms (the rest of the current one-second window):
 * with none granted, that is when to ask again.
 */
int store_take_tokens(struct store *st, const char *endpoint, int rate, int want, int *granted,
		      int64_t *valid_ms);
/* store_try_lock takes a cluster-wide lock by number for a singleton job: 0, or HK_EBUSY */
int store_try_lock(struct store *st, int64_t key);
void store_unlock(struct store *st, int64_t key);

#define STORE_LOCK_RETENTION 0x686f6f6b64000001LL

/* ---- retention (retain.c) ---- */

struct store_retention;
/*
 * store_retention_start runs the retention job every interval_ms on a thread
 * of its own: one node at a time (store_try_lock), in batches of SOP_RETAIN.
 */
int store_retention_start(struct store *st, int days, int64_t interval_ms, struct store_retention **out);
/* store_retention_run runs one whole pass now (for tests and tools); returns rows removed */
int64_t store_retention_run(struct store *st, int days);
/* store_retention_before removes what was created before a time (ms); `hookd prune` */
int64_t store_retention_before(struct store *st, int64_t before);
void store_retention_stop(struct store_retention *r);

/*
 * Command-hook runs. list: API-shaped run documents without output, in
 * id order (pg->desc: newest first), paged by run id; get: one run of this
 * hook with its output ("output", and "outputEncoding" "base64" when it is
 * not UTF-8); open_scan: runs still queued or running with an id after
 * `after`, in id order, at most limit, each passed to fn (a negative return
 * stops the scan); returns how many were passed or an error.
 *
 * Run document: {id, hookId, eventId, status, trigger, retryOf, coalescedInto,
 * exitCode, signal, durationMs, outputTruncated, error, createdAt, startedAt,
 * endedAt} with null for absent values.
 */
int store_hook_run_list(struct store *st, const char *hook, const struct store_page *pg,
			struct store_list *out);
int store_hook_run_get(struct store *st, const char *hook, const char *id, json_t **out);
int store_hook_run_open_scan(struct store *st, const char *after, int limit, store_hook_run_fn fn,
			     void *arg);

#endif
