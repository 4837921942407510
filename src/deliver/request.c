/*
 * request.c - one delivery attempt as a libcurl request, and libcurl's
 * multi interface driven by the dispatcher's libuv loop (socket events and
 * a timer, never a blocking call).
 *
 * Safety lives here: the connect-time address check (CURLOPT_OPENSOCKETFUNCTION
 * sees the address after DNS resolution, so a DNS answer cannot smuggle in a
 * private address), no redirects, no proxies from the environment, only
 * http and https, a whole-request timeout and a cap on the body kept.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "deliver/addr.h"
#include "deliver/dispatch_int.h"
#include "deliver/format.h"
#include "sign/sign.h"

/*
 * One watched socket. A connection outlives its requests: when a transfer
 * ends libcurl stops watching the socket (CURL_POLL_REMOVE) and the next
 * request on the kept-alive connection watches it again. For sockets hookd
 * opened, the watch is parked instead of torn down, so reusing a connection
 * costs no epoll_ctl; it ends when libcurl closes the socket (close_cb).
 */
struct sock_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	struct dispatch *d;
	int events;  /* what uv_poll watches now */
	bool ours;   /* opened by opensocket_cb: closed through close_cb */
	bool parked; /* libcurl is not watching it: an idle kept-alive connection */
};

/* ---- multi on libuv ---- */

static void check_done(struct dispatch *d)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(d->multi, &left))) {
		struct dreq *rq = NULL;
		long code = 0;
		const char *err = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&rq);
		if (m->data.result == CURLE_OK) {
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		} else {
			err = rq->denied ? "address not allowed (private or reserved network)"
			      : rq->errbuf[0] ? rq->errbuf
					      : curl_easy_strerror(m->data.result);
		}
		curl_multi_remove_handle(d->multi, m->easy_handle);
		dispatch_finished(d, rq, (int)code, err);
	}
}

static void sock_watch(struct sock_ctx *c, int events);

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct sock_ctx *c = h->data;
	int flags = 0, running;

	if (c->parked) { /* an idle connection spoke or closed: libcurl finds out on reuse */
		sock_watch(c, 0);
		return;
	}
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(c->d->multi, c->fd, flags, &running);
	check_done(c->d);
}

static void sock_watch(struct sock_ctx *c, int events)
{
	if (events == c->events) /* an unchanged interest costs no epoll_ctl */
		return;
	c->events = events;
	if (events)
		uv_poll_start(&c->poll, events, poll_cb);
	else
		uv_poll_stop(&c->poll);
}

static void sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static struct sock_ctx *sock_new(struct dispatch *d, curl_socket_t s, bool ours)
{
	struct sock_ctx *c;

	if (s < 0)
		return NULL;
	if (ours && (size_t)s >= d->nsocks) {
		size_t n = d->nsocks ? d->nsocks : 64;
		while (n <= (size_t)s)
			n *= 2;
		struct sock_ctx **p = realloc(d->socks, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + d->nsocks, 0, (n - d->nsocks) * sizeof(*p));
		d->socks = p;
		d->nsocks = n;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = s;
	c->d = d;
	c->ours = ours;
	if (uv_poll_init_socket(&d->loop, &c->poll, s) < 0) {
		free(c);
		return NULL;
	}
	c->poll.data = c;
	if (ours)
		d->socks[s] = c;
	return c;
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct dispatch *d = userp;
	struct sock_ctx *c = socketp;
	int events = 0;
	(void)e;

	if (what == CURL_POLL_REMOVE) {
		if (c && c->ours) {
			c->parked = true; /* keep watching: a reuse needs no new watch */
		} else if (c) {
			uv_close((uv_handle_t *)&c->poll, sock_closed);
		}
		return 0;
	}
	if (!c) {
		c = s >= 0 && (size_t)s < d->nsocks ? d->socks[s] : NULL;
		if (!c && !(c = sock_new(d, s, false)))
			return -1;
		c->parked = false;
		curl_multi_assign(d->multi, s, c);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	sock_watch(c, events);
	return 0;
}

/* close_cb ends the watch of a socket hookd opened before libcurl closes it */
static int close_cb(void *arg, curl_socket_t s)
{
	struct dispatch *d = arg;

	if (s >= 0 && (size_t)s < d->nsocks && d->socks[s]) {
		uv_close((uv_handle_t *)&d->socks[s]->poll, sock_closed);
		d->socks[s] = NULL;
	}
	return close(s);
}

static void curl_timeout_cb(uv_timer_t *t)
{
	struct dispatch *d = t->data;
	int running;
	curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(d);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct dispatch *d = userp;
	(void)m;
	if (timeout_ms < 0)
		uv_timer_stop(&d->curl_timer);
	else
		uv_timer_start(&d->curl_timer, curl_timeout_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

int req_multi_init(struct dispatch *d)
{
	d->multi = curl_multi_init();
	if (!d->multi)
		return HK_ENOMEM;
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
	curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, 4096L);
	curl_multi_setopt(d->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	uv_timer_init(&d->loop, &d->curl_timer);
	d->curl_timer.data = d;
	return 0;
}

void req_multi_release(struct dispatch *d)
{
	while (d->neasy > 0)
		curl_easy_cleanup(d->easy_pool[--d->neasy]);
	if (d->multi)
		curl_multi_cleanup(d->multi); /* closes every connection through close_cb */
	d->multi = NULL;
	free(d->socks);
	d->socks = NULL;
	d->nsocks = 0;
}

/* ---- one request ---- */

static size_t write_cb(char *p, size_t size, size_t n, void *arg);
static size_t header_cb(char *p, size_t size, size_t n, void *arg);
static curl_socket_t opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a);

/* easy_setup sets what every request shares; req_start sets the rest */
static void easy_setup(struct dispatch *d, CURL *e)
{
	addr_curl_guard(e, (long)d->cfg.timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, d);
}

/*
 * easy_get hands out a handle set up by easy_setup. Pooled handles keep
 * their options between requests (a reset and a fresh setup cost more than
 * the request's own options): every option a plain request needs is set by
 * req_start each time, and a request that sets any other (a client
 * certificate, a CA bundle, GET, another method) marks its handle to be
 * reset before it returns to the pool.
 */
static CURL *easy_get(struct dispatch *d)
{
	CURL *e;

	if (d->neasy > 0)
		return d->easy_pool[--d->neasy];
	e = curl_easy_init();
	if (e)
		easy_setup(d, e);
	return e;
}

static void easy_put(struct dispatch *d, CURL *e, bool dirty)
{
	if (d->neasy >= (int)(sizeof(d->easy_pool) / sizeof(d->easy_pool[0]))) {
		curl_easy_cleanup(e);
		return;
	}
	if (dirty) {
		curl_easy_reset(e);
		easy_setup(d, e);
	}
	d->easy_pool[d->neasy++] = e;
}

static size_t write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct dreq *rq = arg;
	size_t len = size * n;
	if (!rq->resp.cap || rq->resp.len + len < rq->resp.cap)
		buf_append(&rq->resp, p, len);
	else if (rq->resp.len + 1 < rq->resp.cap)
		buf_append(&rq->resp, p, rq->resp.cap - rq->resp.len - 1);
	return len; /* read and drop the rest */
}

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct dreq *rq = arg;
	size_t len = size * n;
	if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		size_t vlen = len - 12;
		const char *v = p + 12;
		while (vlen && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		if (vlen < sizeof(rq->retry_after)) {
			memcpy(rq->retry_after, v, vlen);
			rq->retry_after[vlen] = '\0';
		}
	}
	return len;
}

static curl_socket_t opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct dreq *rq = arg;
	(void)purpose;
	if (addr_policy_check(&rq->dep->d->cfg.policy, &a->addr) < 0) {
		rq->denied = true;
		return CURL_SOCKET_BAD;
	}
	curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (s >= 0 && !sock_new(rq->dep->d, s, true)) {
		close(s);
		return CURL_SOCKET_BAD;
	}
	return s;
}

/* build_body applies the endpoint's format; sets what to send and sign */
static int build_body(struct dreq *rq, const char **url, const char **body, size_t *len, bool *get)
{
	struct dep *dep = rq->dep;
	struct dmsg *m = rq->job->msg;
	json_t *payload;
	struct buf b;
	int rc;

	*url = rq->transformed ? rq->xf.url : dep->url;
	*body = rq->transformed ? rq->xf.payload : m->payload;
	*len = rq->transformed ? rq->xf.len : m->len;
	*get = false;
	if (dep->format == FORMAT_JSON)
		return 0;
	payload = json_loadb(*body, *len, 0, NULL);
	if (!payload)
		return HK_EPARSE;
	buf_init(&b, 4u << 20);
	rc = dep->format == FORMAT_XML ? format_xml(payload, &b) : format_query_url(*url, payload, &b);
	json_decref(payload);
	if (rc < 0) {
		buf_release(&b);
		return rc;
	}
	if (dep->format == FORMAT_XML) {
		rq->body = buf_detach(&b, len);
		*body = rq->body;
	} else {
		rq->url = buf_detach(&b, NULL);
		*url = rq->url;
		*get = true;
	}
	return 0;
}

/*
 * build_headers links the request's header list: its own lines (type, agent,
 * webhook-id, -timestamp, -signature) kept in rq, then the message's extra
 * headers, then the endpoint's, which end with "Expect:". A transformation's
 * headers replace the message's and the endpoint's.
 */
static int build_headers(struct dreq *rq, const char *body, size_t len, bool xml)
{
	struct dep *dep = rq->dep;
	const struct dmsg *m = rq->job->msg;
	char sig[SIGN_SIG_MAX * 12 + 16];
	int64_t now = clock_now_ms() / 1000;
	const char *pre = dep->svix_headers ? "svix-" : "webhook-";
	struct curl_slist *rest = NULL;
	size_t n = 0;
	int rc;

	rc = sign_header(dep->secrets, (size_t)dep->nsecrets, m->id, now, body, len, sig, sizeof(sig));
	if (rc < 0)
		return rc;
	snprintf(rq->h_id, sizeof(rq->h_id), "%sid: %s", pre, m->id);
	snprintf(rq->h_ts, sizeof(rq->h_ts), "%stimestamp: %" PRId64, pre, now);
	snprintf(rq->h_sig, sizeof(rq->h_sig), "%ssignature: %s", pre, sig);
	/* libcurl only reads the lines */
	rq->hnodes[HDR_TYPE].data = (char *)(xml ? "Content-Type: application/xml" : "Content-Type: application/json");
	rq->hnodes[HDR_AGENT].data = dep->d->ua_line;
	rq->hnodes[HDR_ID].data = rq->h_id;
	rq->hnodes[HDR_TIMESTAMP].data = rq->h_ts;
	rq->hnodes[HDR_SIGNATURE].data = rq->h_sig;
	if (rq->transformed) {
		struct curl_slist *e = curl_slist_append(rq->xf_headers, "Expect:");
		if (!e)
			return HK_ENOMEM;
		rq->xf_headers = e;
		rest = e;
	} else {
		if (dep->headers) { /* held until the request ends: a reload makes new ones */
			rq->ep_headers = dep->headers;
			rq->ep_headers->refs++;
			rest = rq->ep_headers->list;
		}
		for (const struct curl_slist *h = m->headers; h; h = h->next)
			n++;
		if (n) { /* the message's extra headers come first, linked in place */
			rq->hcopy = calloc(n, sizeof(*rq->hcopy));
			if (!rq->hcopy)
				return HK_ENOMEM;
			n = 0;
			for (const struct curl_slist *h = m->headers; h; h = h->next, n++) {
				rq->hcopy[n].data = h->data;
				rq->hcopy[n].next = h->next ? &rq->hcopy[n + 1] : rest;
			}
			rest = rq->hcopy;
		}
	}
	for (int i = 0; i < HDR__COUNT; i++)
		rq->hnodes[i].next = i + 1 < HDR__COUNT ? &rq->hnodes[i + 1] : rest;
	rq->hdrs = rq->hnodes;
	return 0;
}

/* set_tls sets an endpoint's client certificate and CA bundle; true if it set any */
static bool set_tls(CURL *e, json_t *tls)
{
	const char *cert = json_string_value(json_object_get(tls, "clientCert"));
	const char *key = json_string_value(json_object_get(tls, "clientKey"));
	const char *ca = json_string_value(json_object_get(tls, "caBundle"));
	struct curl_blob blob;

	if (cert && key) {
		blob = (struct curl_blob){(void *)cert, strlen(cert), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		blob = (struct curl_blob){(void *)key, strlen(key), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (ca) {
		blob = (struct curl_blob){(void *)ca, strlen(ca), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	return (cert && key) || ca;
}

void req_start(struct dispatch *d, struct dep *dep, struct djob *job)
{
	struct dreq *rq = calloc(1, sizeof(*rq));
	const char *url, *body;
	size_t len;
	bool get;
	int rc = HK_ENOMEM;

	if (!rq) {
		log_error("cannot start a request: out of memory");
		return;
	}
	rq->job = job;
	rq->dep = dep;
	rq->start_us = clock_mono_us();
	id_new("atmpt_", rq->attempt_id);
	buf_init(&rq->resp, d->cfg.response_max + 1);
	if (!job->msg->payload) {
		dispatch_finished(d, rq, 0, "the message's payload was expunged");
		return;
	}
	if (dep->xf_code) {
		char err[640];
		rc = xform_apply(d, rq, err, sizeof(err));
		if (rc < 0 || rq->canceled) {
			dispatch_finished(d, rq, 0, rc < 0 ? err : "canceled by the transformation");
			return;
		}
	}
	rc = build_body(rq, &url, &body, &len, &get);
	if (rc == 0)
		rc = build_headers(rq, body, len, dep->format == FORMAT_XML);
	rq->easy = rc == 0 ? easy_get(d) : NULL;
	if (!rq->easy) {
		dispatch_finished(d, rq, 0, rc < 0 ? hk_strerror(rc) : "cannot create a request");
		return;
	}
	/* a plain request: every option easy_setup leaves to it */
	CURL *e = rq->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, rq);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, rq->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, rq);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, rq);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, rq);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, rq->errbuf);
	if (get) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		rq->easy_dirty = true;
	} else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		if (rq->transformed && strcmp(rq->xf.method, "POST") != 0) {
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->xf.method);
			rq->easy_dirty = true;
		}
	}
	if (set_tls(e, json_object_get(dep->doc, "_tls")))
		rq->easy_dirty = true;
	if (curl_multi_add_handle(d->multi, e) != CURLM_OK)
		dispatch_finished(d, rq, 0, "cannot queue the request");
}

void req_free(struct dreq *rq)
{
	if (!rq)
		return;
	if (rq->easy)
		easy_put(rq->dep->d, rq->easy, rq->easy_dirty);
	free(rq->hcopy);
	dhdrs_release(rq->ep_headers);
	buf_release(&rq->resp);
	transform_out_release(&rq->xf);
	curl_slist_free_all(rq->xf_headers);
	free(rq->body);
	free(rq->url);
	free(rq);
}
