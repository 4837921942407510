/*
 * server.c - libmicrohttpd glue: read a request whole, call the handler,
 * queue its answer, possibly after a suspension.
 *
 * Request states (one function, set_state, changes them):
 *
 *   READING --(body complete)--> HANDLING --(http_respond)--> READY --> SENT
 *                                    |                          ^
 *                                    +--(http_suspend)--> SUSPENDED
 *                                                   (http_resume, any thread)
 *
 * MHD calls the access handler again after a resume; it then finds READY
 * and queues the answer. The server runs MHD's internal thread pool on epoll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/server.h"

/* headers are bounded by the connection's memory; escaping grows them at most sixfold */
#define HTTP_HEADERS_JSON_MAX (8u << 20)

enum req_state { REQ_READING, REQ_HANDLING, REQ_SUSPENDED, REQ_READY, REQ_SENT };

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_config cfg;
	unsigned port;
	atomic_int suspended; /* connections waiting (never stop MHD under them) */
};

struct http_stream {
	pthread_mutex_t mu;
	struct MHD_Connection *conn;
	struct http_server *srv;
	http_stream_fn read;
	void *arg;
	void (*free_fn)(void *);
	bool waiting;
};

static void stream_free(void *cls);

static void set_state(struct http_req *req, enum req_state st)
{
	req->state = (int)st;
}

/* ---- listen address ---- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon, *port_s;
	long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof(host))
			return HK_EINVAL;
		memcpy(host, listen + 1, (size_t)(close - listen - 1));
		host[close - listen - 1] = '\0';
		port_s = close + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || (size_t)(colon - listen) >= sizeof(host))
			return HK_EINVAL;
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = '\0';
		port_s = colon + 1;
	}
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (errno || *end || end == port_s || port < 0 || port > 65535)
		return HK_EINVAL;
	if (host[0] == '\0')
		snprintf(host, sizeof(host), "0.0.0.0");
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return HK_EINVAL;
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return HK_EINVAL;
		*len = sizeof(*s4);
	}
	return 0;
}

/* ---- request lifecycle ---- */

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *req = calloc(1, sizeof(*req));
	(void)conn;
	if (!req)
		return NULL;
	req->srv = cls;
	req->raw_uri = strdup(uri ? uri : "/");
	req->start_us = clock_mono_us();
	req->status = 0;
	set_state(req, REQ_READING);
	return req;
}

static void req_free(struct http_req *req)
{
	if (req->ctx_free)
		req->ctx_free(req->ctx);
	buf_release(&req->body);
	if (req->stream)
		stream_free(req->stream);
	free(req->path);
	free(req->raw_uri);
	free(req->resp_body);
	for (int i = 0; i < req->nresp_headers; i++) {
		free(req->resp_headers[i].name);
		free(req->resp_headers[i].value);
	}
	free(req);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (req) {
		metrics_http_request(clock_mono_us() - req->start_us);
		req_free(req);
	}
	*con_cls = NULL;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	size_t *n = cls;
	(void)kind;
	*n += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* header_bytes measures the request line and headers as they arrived */
static size_t header_bytes(struct http_req *req)
{
	size_t n = strlen(req->method) + strlen(req->raw_uri) + 12;
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &n);
	return n;
}

static void fill_remote(struct http_req *req, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(req->remote_addr, sizeof(req->remote_addr), "unknown");
	if (sa && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->remote_addr,
			  sizeof(req->remote_addr));
		req->remote_port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa && sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->remote_addr,
			  sizeof(req->remote_addr));
		req->remote_port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
}

/* ---- streams ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *s = cls;
	long n;
	(void)pos;

	pthread_mutex_lock(&s->mu);
	n = s->read(s->arg, buf, max);
	if (n == 0) {
		/* nothing to send: wait without a thread until http_stream_wake */
		s->waiting = true;
		atomic_fetch_add(&s->srv->suspended, 1);
		MHD_suspend_connection(s->conn);
	}
	pthread_mutex_unlock(&s->mu);
	return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct http_stream *s = cls;
	if (s->free_fn)
		s->free_fn(s->arg);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

struct http_stream *http_respond_stream(struct http_req *req, int status, const char *type,
					http_stream_fn read, void *arg, void (*free_fn)(void *))
{
	struct http_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->conn = req->conn;
	s->srv = req->srv;
	s->read = read;
	s->arg = arg;
	s->free_fn = free_fn;
	req->stream = s;
	http_respond_take(req, status, type, NULL, 0);
	return s;
}

void http_stream_wake(struct http_stream *s)
{
	pthread_mutex_lock(&s->mu);
	if (s->waiting) {
		s->waiting = false;
		atomic_fetch_sub(&s->srv->suspended, 1);
		MHD_resume_connection(s->conn);
	}
	pthread_mutex_unlock(&s->mu);
}

static enum MHD_Result queue_answer(struct http_req *req, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (req->stream) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, req->stream,
							 stream_free);
		req->stream = NULL; /* owned by the response now */
	} else {
		resp = MHD_create_response_from_buffer(req->resp_len, req->resp_body, MHD_RESPMEM_MUST_FREE);
		req->resp_body = NULL; /* owned by MHD now */
	}
	if (!resp)
		return MHD_NO;
	if (req->resp_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->resp_type);
	for (int i = 0; i < req->nresp_headers; i++)
		MHD_add_response_header(resp, req->resp_headers[i].name, req->resp_headers[i].value);
	ret = MHD_queue_response(conn, (unsigned)req->status, resp);
	MHD_destroy_response(resp);
	set_state(req, REQ_SENT);
	return ret;
}

static void answer_too_big(struct http_req *req)
{
	static const char body[] =
		"{\"code\":\"payload_too_large\",\"detail\":\"request body exceeds the size limit\"}";
	set_state(req, REQ_HANDLING);
	if (req->path && strncmp(req->path, "/in/", 4) == 0) {
		char source[80];
		snprintf(source, sizeof(source), "%.*s", (int)strcspn(req->path + 4, "/"), req->path + 4);
		metrics_inbound(source, VERDICT_TOO_LARGE); /* an inbound provider's post: never stored */
	}
	http_respond(req, 413, "application/json", body, sizeof(body) - 1);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_req *req = *con_cls;
	(void)version;

	if (!req)
		return MHD_NO;
	if (req->state == REQ_READY)
		return queue_answer(req, conn);
	if (req->state != REQ_READING)
		return MHD_YES; /* suspended: nothing to do until resumed */

	if (!req->conn) {
		/* first call: headers are complete */
		req->conn = conn;
		req->method = method;
		req->path = strdup(url);
		req->body_limit = srv->cfg.body_limit;
		if (srv->cfg.body_limit_for)
			req->body_limit = srv->cfg.body_limit_for(method, url, srv->cfg.arg);
		buf_init(&req->body, req->body_limit + 1);
		fill_remote(req, conn);
		if (header_bytes(req) > (srv->cfg.header_limit ? srv->cfg.header_limit : 16384)) {
			static const char body[] = "{\"code\":\"header_fields_too_large\","
						   "\"detail\":\"the request line and headers exceed the limit\"}";
			set_state(req, REQ_HANDLING);
			http_respond(req, 431, "application/json", body, sizeof(body) - 1);
			return queue_answer(req, conn);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (!req->too_big && buf_append(&req->body, upload_data, n) < 0) {
			req->too_big = true;
			buf_release(&req->body);
		}
		if (req->too_big) {
			req->discarded += n;
			if (req->discarded > HTTP_DISCARD_MAX) {
				answer_too_big(req);
				return queue_answer(req, conn);
			}
		}
		return MHD_YES;
	}
	/* body complete */
	if (req->too_big) {
		answer_too_big(req);
		return queue_answer(req, conn);
	}
	set_state(req, REQ_HANDLING);
	srv->cfg.handler(req, srv->cfg.arg);
	if (req->state == REQ_READY)
		return queue_answer(req, conn);
	if (req->state == REQ_HANDLING) {
		static const char body[] = "{\"code\":\"internal\",\"detail\":\"no answer\"}";
		log_error("handler gave no answer for '%s %s'", req->method, req->path);
		http_respond(req, 500, "application/json", body, sizeof(body) - 1);
		return queue_answer(req, conn);
	}
	return MHD_YES;
}

/* ---- public ---- */

int http_server_start(const struct http_config *cfg, struct http_server **out)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	struct http_server *srv;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned threads = cfg->threads;
	int rc;

	rc = parse_listen(cfg->listen, &ss, &slen);
	if (rc < 0) {
		log_warnx("cannot parse listen address '%s'", cfg->listen);
		return rc;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return HK_ENOMEM;
	srv->cfg = *cfg;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 2;
	}
	struct MHD_OptionItem tls[4] = {{MHD_OPTION_END, 0, NULL}};
	if (cfg->tls_cert && cfg->tls_key) {
		int n = 0;
		flags |= MHD_USE_TLS;
		tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert};
		tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key};
		if (cfg->tls_client_ca)
			tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)cfg->tls_client_ca};
		tls[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	}
	srv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, access_cb, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, srv,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv, MHD_OPTION_CONNECTION_TIMEOUT,
		cfg->conn_timeout ? cfg->conn_timeout : 10u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(cfg->header_limit ? cfg->header_limit : 16384) + 16384, MHD_OPTION_CONNECTION_LIMIT, 10000u, MHD_OPTION_LISTEN_BACKLOG_SIZE,
		1024u, MHD_OPTION_END);
	if (!srv->daemon) {
		log_warn("cannot listen on '%s'", cfg->listen);
		free(srv);
		return HK_EIO;
	}
	di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : 0;
	*out = srv;
	return 0;
}

bool http_is_tls(struct http_req *req)
{
	return req->srv->cfg.tls_cert != NULL;
}

bool http_client_cert_ok(struct http_req *req, const char **why)
{
	const union MHD_ConnectionInfo *ci;
	gnutls_session_t session;
	unsigned int status = 0, n = 0;

	*why = "no client certificate";
	if (!http_is_tls(req) || !req->srv->cfg.tls_client_ca) {
		*why = "this listener does not take client certificates (see --tls-client-ca)";
		return false;
	}
	ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	session = (gnutls_session_t)ci->tls_session;
	if (!gnutls_certificate_get_peers(session, &n) || n == 0)
		return false;
	if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0) {
		*why = "the client certificate does not verify against the client CA";
		return false;
	}
	return true;
}

unsigned http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_quiesce(struct http_server *srv)
{
	if (srv && srv->daemon) {
		MHD_socket s = MHD_quiesce_daemon(srv->daemon);
		if (s != MHD_INVALID_SOCKET)
			close(s);
	}
}

void http_server_stop(struct http_server *srv)
{
	if (!srv)
		return;
	/* MHD must not stop under a suspended connection: give waiters up to 10 s */
	for (int i = 0; i < 1000 && atomic_load(&srv->suspended) > 0; i++)
		usleep(10000);
	if (atomic_load(&srv->suspended) > 0)
		log_warnx("stopping with %d connections still waiting", atomic_load(&srv->suspended));
	if (srv->daemon)
		MHD_stop_daemon(srv->daemon);
	free(srv);
}

const char *http_header(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct each_ctx {
	void (*fn)(const char *, const char *, void *);
	void *arg;
};

static enum MHD_Result each_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct each_ctx *e = cls;
	(void)kind;
	e->fn(key, value ? value : "", e->arg);
	return MHD_YES;
}

void http_headers_each(struct http_req *req, void (*fn)(const char *, const char *, void *), void *arg)
{
	struct each_ctx e = {fn, arg};
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, each_cb, &e);
}

struct header_list {
	const char **kv; /* name, value, name, value, ... */
	size_t n, cap;
};

static enum MHD_Result collect_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_list *l = cls;
	(void)kind;
	if (l->n == l->cap)
		return MHD_NO;
	l->kv[2 * l->n] = key;
	l->kv[2 * l->n + 1] = value ? value : "";
	l->n++;
	return MHD_YES;
}

static bool redacted(const char *name, const char *const *redact)
{
	for (; redact && *redact; redact++)
		if (strcasecmp(name, *redact) == 0)
			return true;
	return false;
}

/* written straight into a buffer: the inbound journal does this for every event */
char *http_headers_json(struct http_req *req, const char *const *redact)
{
	int count = MHD_get_connection_values(req->conn, MHD_HEADER_KIND, NULL, NULL);
	struct header_list l = {NULL, 0, count > 0 ? (size_t)count : 0};
	struct buf b;
	char *out = NULL;
	size_t size = 2;
	int rc;

	buf_init(&b, HTTP_HEADERS_JSON_MAX);
	l.kv = calloc(2 * l.cap + 2, sizeof(*l.kv));
	if (!l.kv)
		goto out;
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_cb, &l);
	for (size_t i = 0; i < l.n; i++) {
		size_t nlen = strlen(l.kv[2 * i]), vlen = strlen(l.kv[2 * i + 1]);
		if (!json_utf8_ok(l.kv[2 * i], nlen) || !json_utf8_ok(l.kv[2 * i + 1], vlen))
			l.kv[2 * i] = NULL;
		else
			size += nlen + vlen + 6; /* quotes, colon, comma: escapes may still grow it */
	}
	rc = buf_reserve(&b, size);
	if (rc == 0)
		rc = buf_append(&b, "{", 1);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const char *name = l.kv[2 * i], *value = l.kv[2 * i + 1];
		bool later = false;
		if (!name)
			continue;
		for (size_t j = i + 1; j < l.n && !later; j++)
			later = l.kv[2 * j] && strcmp(l.kv[2 * j], name) == 0;
		if (later)
			continue;
		if (redacted(name, redact))
			value = "[redacted]";
		if (b.len > 1)
			rc = buf_append(&b, ",", 1);
		if (rc == 0)
			rc = json_buf_string(&b, name, strlen(name));
		if (rc == 0)
			rc = buf_append(&b, ":", 1);
		if (rc == 0)
			rc = json_buf_string(&b, value, strlen(value));
	}
	if (rc == 0)
		rc = buf_append(&b, "}", 1);
	if (rc == 0)
		out = buf_detach(&b, NULL);
out:
	buf_release(&b);
	free(l.kv);
	return out;
}

void http_query_each(struct http_req *req, void (*fn)(const char *, const char *, void *), void *arg)
{
	struct each_ctx e = {fn, arg};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_cb, &e);
}

void http_respond_take(struct http_req *req, int status, const char *type, char *body, size_t len)
{
	if (req->state == REQ_READY || req->state == REQ_SENT) {
		free(body);
		return;
	}
	free(req->resp_body);
	req->status = status;
	req->resp_type = type;
	req->resp_body = body;
	req->resp_len = len;
	if (req->state == REQ_HANDLING)
		set_state(req, REQ_READY);
}

void http_respond(struct http_req *req, int status, const char *type, const char *body, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy) {
		len = 0;
	} else {
		if (len)
			memcpy(copy, body, len);
		copy[len] = '\0';
	}
	http_respond_take(req, status, type, copy, len);
}

void http_add_header(struct http_req *req, const char *name, const char *value)
{
	if (req->nresp_headers >= HTTP_MAX_RESP_HEADERS)
		return;
	req->resp_headers[req->nresp_headers].name = strdup(name);
	req->resp_headers[req->nresp_headers].value = strdup(value);
	req->nresp_headers++;
}

void http_suspend(struct http_req *req)
{
	set_state(req, REQ_SUSPENDED);
	atomic_fetch_add(&req->srv->suspended, 1);
	MHD_suspend_connection(req->conn);
}

bool http_is_suspended(const struct http_req *req)
{
	return req->state == REQ_SUSPENDED;
}

void http_resume(struct http_req *req)
{
	struct http_server *srv = req->srv;
	struct MHD_Connection *conn = req->conn;

	set_state(req, REQ_READY);
	MHD_resume_connection(conn);
	atomic_fetch_sub(&srv->suspended, 1);
}
