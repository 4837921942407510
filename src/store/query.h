/*
 * query.h - the filtered lists of both SQL backends, written once.
 *
 * A struct query is SQL text plus typed parameters. It is built from fixed
 * fragments: a value from a request is always a parameter, never text. The
 * dialect says how a parameter is spelt ('?' on SQLite, '$n' on
 * PostgreSQL) and holds the few fragments the two databases write
 * differently; everything else (filters, paging, order) is the same text
 * for both. A backend only prepares, binds and runs what it gets.
 *
 * Invariants:
 *   - Parameters are numbered in the order they were added; a fragment
 *     holds at most one '?', which becomes the next parameter.
 *   - At most QUERY_MAX_ARGS parameters: past it a fragment and its value
 *     are left out together, so text and parameters always agree.
 *   - A query borrows its string parameters: they must outlive the run.
 *   - Whoever runs a query releases it (query_release), success or not.
 *
 * Paging (query_page, query_cursor): lists page by an id column. Walking
 * forwards (no iterator, or an id) reads limit + 1 rows after the iterator
 * in the list's order; walking backwards ("-id") reads the rows before it in
 * the opposite order, and query_list_finish() puts them back in the list's
 * order. The extra row only says whether the page is the last (done).
 */
#ifndef HK_STORE_QUERY_H
#define HK_STORE_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

#define QUERY_MAX_ARGS 48
#define QUERY_MAX_IN 32 /* values of one IN list; more are ignored */

struct query_dialect {
	const char *name;
	bool numbered;             /* parameters are $1, $2, ... (else ?) */
	const char *channel_match; /* " AND" m.channels (JSON text) holds the one parameter */
	const char *tag_match;     /* the same for m.tags */
};

extern const struct query_dialect query_sqlite;
extern const struct query_dialect query_pg;

enum query_type { QUERY_TEXT, QUERY_INT };

struct query_arg {
	enum query_type type;
	const char *s; /* QUERY_TEXT; NULL binds SQL NULL */
	int64_t i;     /* QUERY_INT */
};

struct query {
	const struct query_dialect *d;
	struct buf sql;
	int n;
	struct query_arg args[QUERY_MAX_ARGS];
};

/* query_init starts q with the text base (no parameters in it) */
void query_init(struct query *q, const struct query_dialect *d, const char *base);
void query_release(struct query *q);
/* query_sql appends text without a parameter */
void query_sql(struct query *q, const char *text);
/* query_s / query_i append frag, whose one '?' is a parameter with the value s / i */
void query_s(struct query *q, const char *frag, const char *s);
void query_i(struct query *q, const char *frag, int64_t i);
/* query_in adds " AND col IN (...)" for a JSON array of strings; nothing when it is empty */
void query_in(struct query *q, const char *col, json_t *names);
/* query_page adds the cursor condition and the order on key column col; returns whether it walks backwards */
bool query_page(struct query *q, const char *col, const struct store_page *pg);
const char *query_text(const struct query *q);

/*
 * query_cursor reads a page's iterator: *after gets the id the page starts
 * after (NULL when it starts at an end), *desc the order to read in (the
 * list's, reversed when walking backwards). Returns whether it walks backwards.
 */
bool query_cursor(const struct store_page *pg, const char **after, bool *desc);
/* query_list_finish puts a backwards page in the list's order and sets its iterators */
void query_list_finish(struct store_list *out, bool back);

/*
 * The lists. Each builds its whole query into q (initialised here) and,
 * when it pages, returns whether it walks backwards. Rows come in these
 * column orders, which the backends' row readers rely on:
 *
 *   QUERY_MSG_COLS   id, event_id, event_type, channels, payload, created, tags
 *   QUERY_ATT_COLS   id, msg, endpoint, url, response, code, duration, status,
 *                    trigger, created
 *   QUERY_DUE_COLS   msg, endpoint, app, attempts, next_at, status (struct store_due)
 *   QUERY_IN_COLS    id, source, method, path, query, remote, verified, reason,
 *                    event_type, status, routed, created, headers, body
 *   QUERY_RUN_COLS   id, hook, event, trigger, retry_of, coalesced_into, status,
 *                    exit_code, signal, duration, truncated, error, created,
 *                    started, ended (and output, for query_hook_run_get)
 *
 * A "get" matches at most one row (the caller may add " LIMIT 2" to check).
 */
#define QUERY_MSG_COLS "m.id, m.event_id, m.event_type, m.channels, m.payload, m.created, m.tags"
#define QUERY_ATT_COLS \
	"a.id, a.msg, a.endpoint, a.url, a.response, a.code, a.duration, a.status, a.\"trigger\", a.created"
#define QUERY_DUE_COLS "SELECT d.msg, d.endpoint, d.app, d.attempts, d.next_at, d.status FROM delivery d"
#define QUERY_IN_COLS                                                                            \
	"i.id, i.source, i.method, i.path, i.query, i.remote, i.verified, i.reason, i.event_type, " \
	"i.status, i.routed, i.created, i.headers, i.body"
#define QUERY_RUN_COLS                                                                                \
	"id, hook, event, \"trigger\", retry_of, coalesced_into, status, exit_code, signal, duration, " \
	"truncated, error, created, started, ended"

/* messages of an app (QUERY_MSG_COLS); a get finds by id, else by eventId */
bool query_msg_list(struct query *q, const struct query_dialect *d, const struct store_msg_query *mq,
		    const struct store_page *pg);
void query_msg_get(struct query *q, const struct query_dialect *d, const char *app, const char *key);
/* attempts (QUERY_ATT_COLS) */
bool query_attempt_list(struct query *q, const struct query_dialect *d, const struct store_attempt_query *aq,
			const struct store_page *pg);
void query_attempt_get(struct query *q, const struct query_dialect *d, const char *app, const char *msg,
		       const char *id);
/*
 * deliveries of one message by endpoint (dq->msg set: endpoint body,
 * status, next_at, endpoint id), or of one endpoint by message (dq->msg
 * NULL: status, next_at, msg id, then QUERY_MSG_COLS)
 */
bool query_delivery_list(struct query *q, const struct query_dialect *d, const struct store_delivery_query *dq,
			 const struct store_page *pg);
/* failed deliveries of an endpoint last changed in [since, until] (QUERY_DUE_COLS); until 0 is open */
void query_failed_scan(struct query *q, const struct query_dialect *d, const char *endpoint, int64_t since,
		       int64_t until);
/* the inbound journal of a source (QUERY_IN_COLS); status < 0 and since 0 do not filter */
bool query_inbound_list(struct query *q, const struct query_dialect *d, const char *source, int status,
			int64_t since, const struct store_page *pg);
void query_inbound_get(struct query *q, const struct query_dialect *d, const char *source, const char *id);
/* runs of a command hook (QUERY_RUN_COLS; a get adds output) */
bool query_hook_run_list(struct query *q, const struct query_dialect *d, const char *hook,
			 const struct store_page *pg);
void query_hook_run_get(struct query *q, const struct query_dialect *d, const char *hook, const char *id);

/*
 * Rows. A backend shows its current row as a struct query_row with column
 * access through its ops, and the shapes below make the API's JSON from
 * the column orders above, the same on both databases.
 */
struct query_row;

struct query_row_ops {
	const char *(*text)(const struct query_row *r, int col); /* NULL for SQL NULL; valid while the row is */
	int64_t (*num)(const struct query_row *r, int col);      /* 0 for SQL NULL */
	json_t *(*json)(const struct query_row *r, int col);     /* the column's JSON text parsed, or NULL */
	/* bytes: a malloc'd, NUL-terminated copy the caller frees; NULL for SQL NULL */
	char *(*bytes)(const struct query_row *r, int col, size_t *len);
};

struct query_row {
	const struct query_row_ops *ops;
	void *res; /* the backend's statement or result */
	int row;   /* the row's index in res, where it has one */
};

/* query_row_fn makes one list item from a row; NULL leaves the row out */
typedef json_t *(*query_row_fn)(const struct query_row *r);

/* query_ts is a time in milliseconds as the API writes it */
json_t *query_ts(int64_t ms);
/* MessageOut from QUERY_MSG_COLS, with its payload parsed or without it */
json_t *query_msg_row(const struct query_row *r);
json_t *query_msg_row_bare(const struct query_row *r);
/* MessageAttemptOut from QUERY_ATT_COLS */
json_t *query_attempt_row(const struct query_row *r);
/* a delivery of one message with its endpoint (MessageEndpointOut), of query_delivery_list by msg */
json_t *query_destination_row(const struct query_row *r);
/* a delivery to one endpoint with its message (EndpointMessageOut), of query_delivery_list by endpoint */
json_t *query_endpoint_msg_row(const struct query_row *r);
/* an inbound event from QUERY_IN_COLS; whole adds its headers and body (base64 when not UTF-8) */
json_t *query_inbound_row(const struct query_row *r);
json_t *query_inbound_row_whole(const struct query_row *r);
/* a command run from QUERY_RUN_COLS; whole adds its output (base64 when not UTF-8) */
json_t *query_run_row(const struct query_row *r);
json_t *query_run_row_whole(const struct query_row *r);

#endif
