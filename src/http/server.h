/*
 * server.h - hookd's HTTP server: a thin layer over libmicrohttpd.
 *
 * The server reads each request whole (headers, query, body up to a cap) and
 * then calls one handler with a struct http_req. The handler answers in one
 * of two ways:
 *
 *   - at once: http_respond*() before it returns;
 *   - later: http_suspend() and return; another thread fills the answer with
 *     http_respond*() and then calls http_resume(). The connection holds no
 *     server thread while it waits (MHD_suspend_connection), so hundreds of
 *     requests can wait for one database commit.
 *
 * A body over the cap is read and discarded up to HTTP_DISCARD_MAX, then
 * answered 413 with a JSON error, so the client can read the answer. The
 * request and everything it points to is freed by the server after the
 * answer is sent; handlers attach their own state through req->ctx and
 * req->ctx_free.
 */
#ifndef HK_HTTP_SERVER_H
#define HK_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define HTTP_DISCARD_MAX (64u << 20) /* past this a too-large body closes the connection */
#define HTTP_MAX_RESP_HEADERS 16

struct http_server;
struct http_req;

typedef void (*http_handler_fn)(struct http_req *req, void *arg);

struct http_header {
	char *name;
	char *value;
};

struct http_req {
	/* request, read-only for handlers */
	const char *method;
	char *path;            /* decoded path without the query */
	char *raw_uri;         /* path and query exactly as received */
	struct buf body;
	char remote_addr[64];  /* "127.0.0.1" or "::1" */
	unsigned remote_port;  /* the client's port, 0 when unknown */
	int64_t start_us;      /* monotonic, when the request line arrived */

	/* answer */
	int status;
	char *resp_body;
	size_t resp_len;
	const char *resp_type;
	struct http_header resp_headers[HTTP_MAX_RESP_HEADERS];
	int nresp_headers;

	/* handler state, freed with ctx_free after the answer */
	void *ctx;
	void (*ctx_free)(void *ctx);

	/* private to server.c */
	struct http_server *srv;
	struct http_stream *stream;
	void *conn;
	int state;
	bool too_big;
	size_t discarded;
	size_t body_limit;
};

struct http_config {
	const char *listen;    /* "127.0.0.1:8071", "[::1]:8071", ":8071" */
	unsigned threads;      /* 0: one per core */
	size_t body_limit;     /* default request body cap */
	unsigned conn_timeout; /* seconds a client may stay silent, 0: 10 (slow clients are cut off) */
	size_t header_limit;   /* request line and headers in all; past it 431; 0: 16 KiB */
	http_handler_fn handler;
	void *arg;
	/* TLS (PEM text; NULL for plain HTTP). With client_ca set, clients may
	 * present certificates, checked by http_client_cert_ok. */
	const char *tls_cert, *tls_key, *tls_client_ca;
	/* optional: choose a per-request body cap from method and path */
	size_t (*body_limit_for)(const char *method, const char *path, void *arg);
};

int http_server_start(const struct http_config *cfg, struct http_server **out);
/* http_server_port reports the bound port (useful with port 0). */
unsigned http_server_port(const struct http_server *srv);
/* http_server_quiesce stops accepting; http_server_stop also finishes and frees. */
void http_server_quiesce(struct http_server *srv);
void http_server_stop(struct http_server *srv);

/* request accessors; names are case-insensitive; results live as long as req */
const char *http_header(struct http_req *req, const char *name);
const char *http_query(struct http_req *req, const char *name);
/* http_headers_each calls fn for every request header in arrival order */
void http_headers_each(struct http_req *req, void (*fn)(const char *name, const char *value, void *arg),
		       void *arg);
/*
 * http_headers_json returns the request headers as a compact JSON object,
 * malloc'd (NULL on ENOMEM): in arrival order, a repeated name once with its
 * last value, a name or value that is not UTF-8 left out, and the value of
 * every name in redact (NULL-terminated, compared without case) replaced by
 * "[redacted]".
 */
char *http_headers_json(struct http_req *req, const char *const *redact);
void http_query_each(struct http_req *req, void (*fn)(const char *name, const char *value, void *arg),
		     void *arg);

/* answers; body is copied. A response may be set only once. */
void http_respond(struct http_req *req, int status, const char *type, const char *body, size_t len);
/* http_respond_take takes ownership of a malloc'd body. */
void http_respond_take(struct http_req *req, int status, const char *type, char *body, size_t len);
void http_add_header(struct http_req *req, const char *name, const char *value);

/*
 * http_client_cert_ok reports whether the connection presented a client
 * certificate that verifies against the server's client CA; why gets a
 * reason when it does not.
 */
bool http_client_cert_ok(struct http_req *req, const char **why);
bool http_is_tls(struct http_req *req);

/*
 * Streaming answers (server-sent events). read() copies up to max bytes of
 * the body into buf and returns how many; 0 means nothing right now (the
 * connection then waits, holding no thread, until http_stream_wake); a
 * negative value ends the body. free_fn(arg) runs when the connection is
 * done. http_stream_wake may be called from any thread.
 */
struct http_stream;
typedef long (*http_stream_fn)(void *arg, char *buf, size_t max);
struct http_stream *http_respond_stream(struct http_req *req, int status, const char *type,
					http_stream_fn read, void *arg, void (*free_fn)(void *));
void http_stream_wake(struct http_stream *s);

void http_suspend(struct http_req *req);
bool http_is_suspended(const struct http_req *req);
/* http_resume may be called from any thread, once the answer is set. */
void http_resume(struct http_req *req);

#endif
