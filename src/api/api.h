/*
 * api.h - the management and publish API (wire-compatible with Svix) and
 * the request plumbing every resource handler shares.
 *
 * A handler receives a struct api_req: the parsed path parameters, the query,
 * the JSON body (already checked for size, depth and content type) and the
 * caller's scope. It ends in exactly one of:
 *
 *   api_json(r, status, doc)     answer now (takes the reference to doc)
 *   api_error(r, status, code, detail)
 *   api_invalid(r)               answer 422 with the field errors collected
 *   api_commit(r, w, status, doc) submit a store write; the answer (doc) is
 *                                sent after the commit, or an error if the
 *                                write fails (conflict 409, full 503, ...)
 *
 * Idempotency: a POST with an idempotency-key header is answered at most
 * once per (token, method, path, key) within 12 hours. The first answer is
 * stored in the same commit as the write it answers; a repeat that arrives
 * while the first is running waits for it (suspended) and gets the same
 * answer.
 */
#ifndef HK_API_H
#define HK_API_H

#include <jansson.h>
#include <stdbool.h>

#include "http/router.h"
#include "http/server.h"
#include "store/store.h"

struct api;
struct api_req;

typedef void (*api_fn)(struct api_req *r);

enum api_route_flag {
	RF_PUBLIC = 1, /* no bearer token */
	RF_RAW = 2,    /* the body is not JSON for the API: no decoding, no idempotency */
	RF_QUERY_TOKEN = 4, /* the token may come as ?access_token= (EventSource cannot set headers) */
	RF_APP_READ = 8,    /* outside any app, but open to app tokens (event type reads, stream) */
	RF_ANY_TOKEN = 16,  /* open to read-only tokens whatever the method (logout) */
	RF_ADMIN_WRITE = 32, /* inside an app, but only an admin token may change it (the app itself) */
};

struct api_route {
	struct route base; /* first: the router sees only this */
	api_fn fn;
	unsigned flags;
};

/*
 * Scopes: the admin token reaches everything; an app token reaches one
 * application's routes (another app answers 404, so ids do not leak, and
 * routes outside any app answer 403 unless marked RF_APP_READ). A read-only
 * token of either kind may only GET.
 */
enum api_scope { SCOPE_NONE, SCOPE_ADMIN, SCOPE_APP };

struct dispatch;
struct fanout;
struct inbound_router;
struct poller;
struct runner;

struct api_config {
	struct store *store;
	struct dispatch *dispatch;    /* NULL on an api-only node */
	struct fanout *fanout;
	struct inbound_router *router; /* routes accepted inbound events */
	struct poller *poller;        /* NULL on a node that does not poll */
	const char *admin_token_hash; /* hex sha256 of the admin token */
	size_t body_limit;            /* default request body cap (1 MiB) */
	bool require_client_cert;     /* mTLS for every route */
	struct runner *runner;        /* command hooks, or NULL */
	const char *hooks_prefix;     /* serve hooks at /<prefix>/{id}; NULL: "hooks" */
	size_t hooks_body_limit;      /* body cap of /<prefix>/{id}; 0: body_limit */
};

struct api_req {
	struct http_req *http;
	struct api *api;
	struct store *store;
	struct route_params params;
	json_t *body;          /* NULL when there was no body */
	json_t *errors;        /* 422 details collected by the input helpers */
	enum api_scope scope;
	bool read_only;
	char scope_app[ID_MAX]; /* the app an app token is bound to */
	char idem_key[65];     /* hashed idempotency key, "" when none */
	bool idem_owner;       /* this request answers for idem_key */
};

int api_new(const struct api_config *cfg, struct api **out);
void api_free(struct api *api);
/* api_handle is the HTTP server's handler (arg: struct api *). */
void api_handle(struct http_req *req, void *arg);
size_t api_body_limit(const char *method, const char *path, void *arg);

/* ---- answers ---- */
void api_json(struct api_req *r, int status, json_t *doc);
void api_no_content(struct api_req *r);
void api_error(struct api_req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void api_invalid(struct api_req *r);
/* api_fail maps an HK_E* code to an error answer. */
void api_fail(struct api_req *r, int rc, const char *what);
void api_commit(struct api_req *r, struct store_write *w, int status, json_t *doc);
/*
 * api_commit_then is api_commit with a callback that runs on the store
 * writer after a successful commit and before the answer (hand work to the
 * dispatcher); arg is freed with free_arg either way.
 */
void api_commit_then(struct api_req *r, struct store_write *w, int status, json_t *doc,
		     void (*then)(void *arg), void *arg, void (*free_arg)(void *arg));
/* api_commit_text is api_commit_then with the answer already JSON text (body, owned; NULL: none). */
void api_commit_text(struct api_req *r, struct store_write *w, int status, char *body, size_t len,
		     void (*then)(void *arg), void *arg, void (*free_arg)(void *arg));

/* ---- input: each helper records a 422 detail on a bad value ---- */
void api_field_error(struct api_req *r, const char *loc0, const char *field, const char *msg);
/* api_in_str: a string member (maxlen bytes), NULL when absent or null */
const char *api_in_str(struct api_req *r, const char *field, bool required, size_t maxlen);
/* api_in_int: an integer member; returns dflt when absent or null */
long long api_in_int(struct api_req *r, const char *field, long long dflt, long long min, long long max);
bool api_in_bool(struct api_req *r, const char *field, bool dflt);
/* api_in_obj: an object member or NULL (borrowed) */
json_t *api_in_obj(struct api_req *r, const char *field);
/* api_in_names: an array of names matching valid_name, at most max items (borrowed); NULL when absent/null */
json_t *api_in_names(struct api_req *r, const char *field, size_t max, bool allow_empty);
/* api_query_* read query parameters, recording 422 with loc "query" */
int api_query_limit(struct api_req *r);
bool api_query_bool(struct api_req *r, const char *name, bool dflt);
const char *api_param(struct api_req *r, const char *name);
/* api_page reads limit, iterator and order into a page (desc unless order=ascending) */
void api_page(struct api_req *r, struct store_page *pg, bool default_desc);
/* api_list answers a store list in Svix's list shape, stripping private fields */
void api_list(struct api_req *r, struct store_list *l);
/* api_doc_fn makes a document's answer (a new reference; the document is borrowed) */
typedef json_t *(*api_doc_fn)(struct api_req *r, const json_t *doc);
/*
 * api_doc_list answers a page of the documents of kind under parent: it
 * reads the page (api_page), answers 422 for a bad one, lists, and passes
 * each document through out (when not NULL) before api_list. what names
 * the documents in an error answer.
 */
void api_doc_list(struct api_req *r, const char *kind, const char *parent, bool default_desc,
		  api_doc_fn out, const char *what);

/* api_public returns a copy of a stored document without its private fields */
json_t *api_public(const json_t *doc);
/* api_now_str formats the current time; ms gets the epoch milliseconds */
void api_now_str(char out[40], int64_t *ms);

/* ---- resources, one file each ---- */
extern const struct api_route api_app_routes[];
extern const size_t api_app_nroutes;
/*
 * api_app_from makes a new application document from in, an ApplicationIn
 * inside the request's body (a publish's `application`), with uid uid_hint
 * unless in names one; NULL with field errors collected in r when in is not
 * valid, or without any when out of memory (app.c).
 */
json_t *api_app_from(struct api_req *r, json_t *in, const char *uid_hint);
extern const struct api_route api_event_type_routes[];
extern const size_t api_event_type_nroutes;
extern const struct api_route api_endpoint_routes[];
extern const size_t api_endpoint_nroutes;
extern const struct api_route api_msg_routes[];
extern const size_t api_msg_nroutes;
extern const struct api_route api_attempt_routes[];
extern const size_t api_attempt_nroutes;
extern const struct api_route api_source_routes[];
extern const size_t api_source_nroutes;
extern const struct api_route api_inbound_routes[];
extern const size_t api_inbound_nroutes;
extern const struct api_route api_transformation_routes[];
extern const size_t api_transformation_nroutes;
extern const struct api_route api_ops_routes[];
extern const size_t api_ops_nroutes;
extern const struct api_route api_auth_routes[];
extern const size_t api_auth_nroutes;
extern const struct api_route api_stream_routes[];
extern const size_t api_stream_nroutes;
/* api_stream_start/stop run the keep-alive and end every open stream at shutdown */
void api_stream_start(void);
void api_stream_stop(void);
/* api_metrics answers the Prometheus text (also served token-less on --metrics-listen) */
void api_metrics(struct api_req *r);
extern const struct api_route api_task_routes[];
extern const size_t api_task_nroutes;
/*
 * api_task_add adds to w a background task, finished, of kind task (as Svix
 * names them: "endpoint.recover", ...) with data (taken; NULL: {}), and
 * returns the answer Svix gives for it ({id, status, task, updatedAt}), or
 * NULL when out of memory (task.c).
 */
json_t *api_task_add(struct store_write *w, const char *task, json_t *data);
extern const struct api_route api_poll_routes[];
extern const size_t api_poll_nroutes;
extern const struct api_route api_hook_routes[];
extern const size_t api_hook_nroutes;
/* api_hook_receive answers /<prefix>/{id}: a command hook (hooks.c) */
void api_hook_receive(struct api_req *r, const char *id);
struct runner *api_runner(struct api_req *r);

/* api_query_time reads an RFC 3339 query parameter (0 when absent) */
int64_t api_query_time(struct api_req *r, const char *name);
/* api_query_names reads a comma-separated or repeated list of names (NULL when absent) */
json_t *api_query_names(struct api_req *r, const char *name);
/* api_dispatch returns the dispatcher, or NULL on a node that does not deliver */
struct dispatch *api_dispatch(struct api_req *r);
struct fanout *api_fanout(struct api_req *r);
struct inbound_router *api_router(struct api_req *r);
/* api_poller returns the poller to tell of poll source changes, or NULL */
struct poller *api_poller(struct api_req *r);

/* shared lookups */
/*
 * api_load_app finds the {app} path parameter; answers 404 itself and returns
 * NULL. The document may be the one the cache shares between threads: read it,
 * never change it, and json_decref it when done.
 */
json_t *api_load_app(struct api_req *r);
/* api_load_endpoint finds {ep} within the app document; answers 404 itself */
json_t *api_load_endpoint(struct api_req *r, const json_t *app);

#endif
