/*
 * stream.c - GET /api/v1/stream: server-sent events of new messages,
 * attempts and inbound events, for `hookd tail` and the dashboard.
 *
 * Each client subscribes to the bus with its filters (?app=, ?source=) and
 * gets a bounded buffer (STREAM_BUFFER_MAX); a client that falls that far
 * behind is disconnected (it reconnects with Last-Event-ID and reads the
 * rest from the list routes). A comment line every 15 s keeps proxies from
 * closing an idle stream and lets the server notice clients that left.
 * Browsers cannot set headers on EventSource, so this route also takes the
 * token as an access_token query parameter.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#define STREAM_BUFFER_MAX (1u << 20)
#define STREAM_PING_S 15

struct sse {
	pthread_mutex_t mu;
	struct http_stream *stream;
	struct bus_sub *sub;
	struct buf out;
	size_t off;
	bool closed;
	unsigned long seq;
	char app[ID_MAX], source[ID_MAX];
};

static long sse_read(void *arg, char *buf, size_t max)
{
	struct sse *c = arg;
	long n = 0;

	pthread_mutex_lock(&c->mu);
	if (c->off < c->out.len) {
		size_t left = c->out.len - c->off;
		n = (long)(left < max ? left : max);
		memcpy(buf, c->out.data + c->off, (size_t)n);
		c->off += (size_t)n;
		if (c->off == c->out.len) {
			buf_reset(&c->out);
			c->off = 0;
		}
	} else if (c->closed) {
		n = -1;
	}
	pthread_mutex_unlock(&c->mu);
	return n;
}

static void sse_event(void *arg, const char *kind, const char *app, const char *source, const char *json)
{
	struct sse *c = arg;
	bool wake = true;

	pthread_mutex_lock(&c->mu);
	if (strcmp(kind, "close") == 0) {
		c->closed = true;
	} else if (strcmp(kind, "ping") == 0) {
		buf_appends(&c->out, ":\n\n");
	} else if ((c->app[0] && (!app || strcmp(app, c->app) != 0)) ||
		   (c->source[0] && (!source || strcmp(source, c->source) != 0))) {
		wake = false;
	} else if (buf_printf(&c->out, "id: %lu\nevent: %s\ndata: %s\n\n", ++c->seq, kind, json) < 0) {
		c->closed = true; /* too far behind: end the stream, the client reconnects */
	}
	pthread_mutex_unlock(&c->mu);
	if (wake && c->stream)
		http_stream_wake(c->stream);
}

static void sse_free(void *arg)
{
	struct sse *c = arg;
	bus_unsubscribe(c->sub);
	buf_release(&c->out);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* resolve turns an id or uid query parameter into the document's id */
static bool resolve(struct api_req *r, const char *param, const char *kind, char out[ID_MAX])
{
	const char *key = http_query(r->http, param);
	json_t *doc = NULL;

	out[0] = '\0';
	if (!key || !*key)
		return true;
	if (store_doc_get(r->store, kind, "", key, &doc) < 0) {
		api_error(r, 404, "not_found", "%s '%s' not found", param, key);
		return false;
	}
	snprintf(out, ID_MAX, "%s", json_str(doc, "id"));
	json_decref(doc);
	return true;
}

static void stream(struct api_req *r)
{
	struct sse *c = calloc(1, sizeof(*c));

	if (!c) {
		api_fail(r, HK_ENOMEM, "stream");
		return;
	}
	pthread_mutex_init(&c->mu, NULL);
	buf_init(&c->out, STREAM_BUFFER_MAX);
	if (!resolve(r, "app", "app", c->app) || !resolve(r, "source", "source", c->source)) {
		sse_free(c);
		return;
	}
	if (r->scope == SCOPE_APP) {
		/* an app token sees its own app only, and no inbound sources */
		snprintf(c->app, sizeof(c->app), "%s", r->scope_app);
		snprintf(c->source, sizeof(c->source), "-");
	}
	buf_appends(&c->out, ": hookd stream\nretry: 2000\n\n");
	http_add_header(r->http, "Cache-Control", "no-cache");
	http_add_header(r->http, "X-Accel-Buffering", "no");
	c->sub = bus_subscribe(sse_event, c);
	/* the bus may call sse_event before the stream exists: it wakes nothing then */
	c->stream = http_respond_stream(r->http, 200, "text/event-stream", sse_read, c, sse_free);
	if (!c->stream) {
		sse_free(c);
		api_fail(r, HK_ENOMEM, "stream");
	}
}

/* ---- keep-alive ---- */

static pthread_t ping_thread;
static pthread_mutex_t ping_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ping_cv; /* monotonic: clock_cond_init at start */
static bool ping_stop, ping_started;

static void *ping_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "hk-sse-ping");

	pthread_mutex_lock(&ping_mu);
	while (!ping_stop) {
		struct timespec ts = clock_deadline(STREAM_PING_S * 1000);
		pthread_cond_timedwait(&ping_cv, &ping_mu, &ts);
		if (!ping_stop)
			bus_publish("ping", NULL, NULL, json_object());
	}
	pthread_mutex_unlock(&ping_mu);
	return NULL;
}

void api_stream_start(void)
{
	ping_stop = false;
	clock_cond_init(&ping_cv);
	ping_started = pthread_create(&ping_thread, NULL, ping_main, NULL) == 0;
}

void api_stream_stop(void)
{
	/* end every open stream so the server can stop */
	bus_publish("close", NULL, NULL, json_object());
	if (!ping_started)
		return;
	pthread_mutex_lock(&ping_mu);
	ping_stop = true;
	pthread_cond_signal(&ping_cv);
	pthread_mutex_unlock(&ping_mu);
	pthread_join(ping_thread, NULL);
	pthread_cond_destroy(&ping_cv);
	ping_started = false;
}

const struct api_route api_stream_routes[] = {
	{{"GET", "/api/v1/stream"}, stream, RF_QUERY_TOKEN | RF_APP_READ},
};
const size_t api_stream_nroutes = sizeof(api_stream_routes) / sizeof(api_stream_routes[0]);
