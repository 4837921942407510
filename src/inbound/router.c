/*
 * router.c - routing accepted inbound events into applications (router.h).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/form.h"
#include "core/json.h"
#include "core/log.h"
#include "deliver/publish.h"
#include "inbound/filter.h"
#include "inbound/router.h"
#include "transform/transform.h"

#define ROUTER_QUEUE_MAX 100000
#define ROUTES_MAX 32
/*
 * An idle router looks for events left "received" every ROUTER_RESCAN_MS:
 * those its queue had no room for, and on a shared database those of a node
 * that died before routing them. Only events older than ROUTER_RESCAN_AGE_MS
 * are taken, so work still on its way through a live node's queue is left to
 * it; should two passes still meet, the conditional status change in the
 * routing commit lets one win and undoes the other whole.
 */
#define ROUTER_RESCAN_MS 30000
#define ROUTER_RESCAN_AGE_MS 10000
/* an event whose reads fail is tried again after 100 ms, doubling up to 5 s, 10 times */
#define ROUTER_RETRY_MS 100
#define ROUTER_RETRY_MAX_MS 5000
#define ROUTER_TRIES_MAX 10

struct rjob {
	struct rjob *next;
	char id[ID_MAX];
	bool replay;
	int tries;   /* passes that found the store out of reach */
};

struct inbound_router {
	struct router_config cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rjob *head, *tail;
	size_t n;
	bool stopping, started;
	struct transform_cache *xf; /* routes' scripts, router thread only */
};

/* ---- one event ---- */

static const char *raw_header(void *ctx, const char *name)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)ctx, key, v) {
		if (strcasecmp(key, name) == 0)
			return json_string_value(v);
	}
	return NULL;
}

/* pass_headers copies the route's chosen original headers */
static json_t *pass_headers(const json_t *route, json_t *headers)
{
	json_t *names = json_object_get(route, "passHeaders"), *name, *out = NULL;
	size_t i;

	json_array_foreach(names, i, name) {
		const char *v = raw_header(headers, json_string_value(name));
		if (!v)
			continue;
		if (!out)
			out = json_object();
		json_object_set_new(out, json_string_value(name), json_string(v));
	}
	return out;
}

struct routed_ctx {
	struct publish_after *afters[ROUTES_MAX];
	int n;
};

static void routed_done(struct store_write *w, int rc, void *arg)
{
	struct routed_ctx *c = arg;
	(void)w;
	for (int i = 0; i < c->n; i++) {
		if (rc == 0)
			publish_then(c->afters[i]);
		publish_free(c->afters[i]);
	}
	if (rc == HK_ECONFLICT)
		log_debug("an inbound event was routed already (by another node or an earlier pass)");
	else if (rc < 0)
		log_error("cannot record routing: %s", hk_strerror(rc));
	free(c);
}

/*
 * route_transform runs a route's "transform" script on the event before
 * fan-out: its payload and eventType become the message's. 1 when the
 * script cancelled the route, 0 when it ran, or a negative code (logged).
 */
static int route_transform(struct inbound_router *r, const json_t *route, size_t index,
			   const struct store_inbound_raw *ev, json_t *headers, struct publish_in *in,
			   struct transform_out *xo, json_t *log)
{
	json_t *lower = json_object(), *v;
	struct transform_in ti = {in->event_type, ev->body, ev->body_len, NULL, ev->method, lower, true};
	char key[ID_MAX + 24], err[640];
	const char *name;
	int rc;

	json_object_foreach(headers, name, v) { /* names in lower case: one spelling for scripts */
		char low[257];
		size_t n = strlen(name);
		if (n >= sizeof(low))
			continue;
		for (size_t k = 0; k <= n; k++)
			low[k] = (char)tolower((unsigned char)name[k]);
		json_object_set(lower, low, v);
	}
	snprintf(key, sizeof(key), "%s#%zu", ev->source, index);
	rc = transform_run(r->xf, NULL, key, json_str(route, "transform"), &ti, xo, err, sizeof(err));
	json_decref(lower);
	if (rc < 0) {
		json_array_append_new(log, json_pack("{s:s,s:s}", "app", json_str(route, "app"), "error", err));
		return rc;
	}
	if (xo->cancel) {
		json_array_append_new(log, json_pack("{s:s,s:b}", "app", json_str(route, "app"), "canceled", 1));
		return 1;
	}
	in->event_type = xo->event_type;
	in->payload = xo->payload;
	in->len = xo->len;
	return 0;
}

/* out_of_reach: the store could not be read or written (or memory ran out): worth trying later */
static bool out_of_reach(int rc)
{
	return rc == HK_EDB || rc == HK_EIO || rc == HK_EBUSY || rc == HK_ENOMEM;
}

/* route_to_app adds one route's message to w; returns 0, why not, or HK_EBUSY (out_of_reach) */
static int route_to_app(struct inbound_router *r, const json_t *route, size_t index,
			const struct store_inbound_raw *ev, json_t *headers, struct store_write *w,
			struct routed_ctx *c, json_t *log)
{
	const char *app_key = json_str(route, "app");
	const char *type = json_str(route, "eventType");
	json_t *app = NULL, *extra;
	struct publish_in in = {0};
	struct publish_out out;
	struct transform_out xo = {0};
	int rc = store_doc_get(r->cfg.store, "app", "", app_key, &app);

	if (out_of_reach(rc))
		return HK_EBUSY; /* the whole event is tried again */
	if (rc < 0) {
		json_array_append_new(log, json_pack("{s:s,s:s}", "app", app_key, "error", "application not found"));
		return rc;
	}
	in.app_id = json_str(app, "id");
	in.event_type = type ? type : ev->event_type ? ev->event_type : "inbound.event";
	in.payload = ev->body;
	in.len = ev->body_len;
	in.retention_hours = 90 * 24;
	if (json_str(route, "transform")) {
		rc = route_transform(r, route, index, ev, headers, &in, &xo, log);
		if (rc != 0) {
			transform_out_release(&xo);
			json_decref(app);
			return rc > 0 ? 0 : rc;
		}
	}
	extra = pass_headers(route, headers);
	in.headers = extra;
	rc = publish_prepare(&in, r->cfg.fanout, r->cfg.dispatch, w, &out, &c->afters[c->n]);
	if (out_of_reach(rc))
		rc = HK_EBUSY; /* the app's endpoints could not be read */
	if (rc == 0) {
		c->n++;
		json_array_append_new(log, json_pack("{s:s,s:s,s:s}", "app", in.app_id, "msg", out.id,
						     "eventType", in.event_type));
	}
	json_decref(extra);
	json_decref(app);
	transform_out_release(&xo);
	return rc;
}

/* query_as_body makes a GET's query string its event: a JSON object of its parameters */
static void query_as_body(struct store_inbound_raw *ev)
{
	json_t *q = json_object();
	size_t len;
	char *text;

	form_parse(ev->query, strlen(ev->query), q);
	text = json_dump_compact(q, &len);
	json_decref(q);
	if (text) {
		free(ev->body);
		ev->body = text;
		ev->body_len = len;
	}
}

/*
 * route_one routes one event: its messages and its "routed" mark go in one
 * write, which a failed batch keeps rather than drops (store_write.keep).
 * HK_EBUSY when the store could not be read before anything was done: the
 * caller tries the event again later.
 */
static int route_one(struct inbound_router *r, const struct rjob *job)
{
	struct store_inbound_raw ev;
	json_t *source = NULL, *headers = NULL, *body = NULL, *routes, *route, *log = json_array();
	struct store_write *w = NULL;
	struct routed_ctx *c = calloc(1, sizeof(*c));
	struct store_op *op;
	bool failed = false, hooked = false;
	size_t i;
	int rc = store_inbound_raw(r->cfg.store, job->id, &ev), again = 0, src_rc;

	if (out_of_reach(rc))
		again = HK_EBUSY;
	if (rc < 0 || !c || (!job->replay && ev.status != INBOUND_RECEIVED))
		goto out;
	if (ev.body_len == 0 && strcmp(ev.method, "GET") == 0)
		query_as_body(&ev);
	headers = json_loads(ev.headers, 0, NULL);
	body = json_loadb(ev.body, ev.body_len, 0, NULL);
	w = store_write_new(routed_done, c);
	if (!w)
		goto out;
	w->keep = true;
	src_rc = store_doc_get(r->cfg.store, "source", "", ev.source, &source);
	if (out_of_reach(src_rc)) {
		again = HK_EBUSY;
		goto out;
	}
	routes = json_object_get(source, "routes");
	json_array_foreach(routes, i, route) {
		if (i >= ROUTES_MAX ||
		    !filter_match(json_object_get(route, "filter"), raw_header, headers, body))
			continue;
		if (json_str(route, "hook")) {
			int hrc = r->cfg.run_hook ? r->cfg.run_hook(r->cfg.hook_arg, json_str(route, "hook"), ev.id)
						  : HK_EUNSUPPORTED;
			json_array_append_new(log, json_pack("{s:s,s:s}", "hook", json_str(route, "hook"),
							     "status", hrc == 0 ? "queued" : hk_strerror(hrc)));
			failed |= hrc < 0;
			hooked |= hrc == 0;
		}
		if (json_str(route, "app")) {
			int arc = route_to_app(r, route, i, &ev, headers, w, c, log);
			if (arc == HK_EBUSY && !hooked) { /* nothing done yet: all of it again later */
				again = HK_EBUSY;
				goto out;
			}
			if (arc == HK_EBUSY)
				json_array_append_new(log, json_pack("{s:s,s:s}", "app", json_str(route, "app"),
								     "error", "the store could not be read"));
			failed |= arc < 0;
		}
	}
	op = store_write_add(w, SOP_INBOUND_ROUTED);
	if (!op)
		goto out;
	snprintf(op->u.routed.id, sizeof(op->u.routed.id), "%s", ev.id);
	op->u.routed.status = failed ? INBOUND_ROUTE_FAILED : INBOUND_ROUTED;
	/* routed once: if another pass or node committed first, this whole write is undone */
	op->u.routed.expect = job->replay ? -1 : INBOUND_RECEIVED;
	op->u.routed.routed = json_dump_compact(log, NULL);
	if (store_submit(r->cfg.store, w) == 0) {
		w = NULL;
		c = NULL; /* routed_done owns it now */
	}
out:
	if (c) {
		for (int k = 0; k < c->n; k++)
			publish_free(c->afters[k]);
		free(c);
	}
	if (w) {
		w->done = NULL;
		store_write_free(w);
	}
	if (rc == 0)
		store_inbound_raw_release(&ev);
	json_decref(log);
	json_decref(source);
	json_decref(headers);
	json_decref(body);
	return again;
}

/* ---- the thread ---- */

static int recover_before(struct inbound_router *r, int64_t before_ms);

static void *router_main(void *arg)
{
	struct inbound_router *r = arg;

	pthread_setname_np(pthread_self(), "hk-router");
	struct timespec rescan = clock_deadline(ROUTER_RESCAN_MS);

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->head && !r->stopping)
			if (pthread_cond_timedwait(&r->cv, &r->mu, &rescan) != 0)
				break;
		if (r->stopping)
			break;
		if (!r->head) { /* idle for a while: look for events left behind */
			pthread_mutex_unlock(&r->mu);
			recover_before(r, clock_now_ms() - ROUTER_RESCAN_AGE_MS);
			rescan = clock_deadline(ROUTER_RESCAN_MS);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		struct rjob *job = r->head;
		r->head = job->next;
		if (!r->head)
			r->tail = NULL;
		r->n--;
		pthread_mutex_unlock(&r->mu);
		int rc = route_one(r, job);
		pthread_mutex_lock(&r->mu);
		if (rc == HK_EBUSY && ++job->tries < ROUTER_TRIES_MAX && !r->stopping) {
			/* the store is out of reach: wait, then this event first again */
			int64_t ms = (int64_t)ROUTER_RETRY_MS << (job->tries - 1);
			struct timespec until = clock_deadline(ms < ROUTER_RETRY_MAX_MS ? ms : ROUTER_RETRY_MAX_MS);
			while (!r->stopping && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
				;
			job->next = r->head;
			r->head = job;
			if (!r->tail)
				r->tail = job;
			r->n++;
			continue;
		}
		free(job); /* routed, or given up on: then "received" still, for the next rescan */
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int router_route(struct inbound_router *r, const char *event_id, bool replay)
{
	struct rjob *job;

	if (!r)
		return HK_EUNSUPPORTED;
	job = calloc(1, sizeof(*job));
	if (!job)
		return HK_ENOMEM;
	snprintf(job->id, sizeof(job->id), "%s", event_id);
	job->replay = replay;
	pthread_mutex_lock(&r->mu);
	if (r->n >= ROUTER_QUEUE_MAX || r->stopping) {
		/* stays "received" in the journal: routed by the next recovery */
		pthread_mutex_unlock(&r->mu);
		free(job);
		return HK_EFULL;
	}
	if (r->tail)
		r->tail->next = job;
	else
		r->head = job;
	r->tail = job;
	r->n++;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

struct recover_ctx {
	struct inbound_router *r;
	char last[ID_MAX];
	int64_t before_ms; /* only events received before this time, or 0: all */
	int n;
};

static int recover_one(const char *id, void *arg)
{
	struct recover_ctx *c = arg;
	snprintf(c->last, sizeof(c->last), "%s", id);
	if (c->before_ms && id_time_ms(id) >= c->before_ms)
		return 0;
	if (router_route(c->r, id, false) == 0)
		c->n++;
	return 0;
}

static int recover_before(struct inbound_router *r, int64_t before_ms)
{
	struct recover_ctx c = {r, "", before_ms, 0};
	int got;

	do {
		got = store_inbound_unrouted_scan(r->cfg.store, c.last, 1000, recover_one, &c);
	} while (got == 1000);
	if (c.n)
		log_info("routing %d inbound events left unrouted", c.n);
	return got < 0 ? got : c.n;
}

int router_recover(struct inbound_router *r)
{
	return recover_before(r, 0);
}

int router_start(const struct router_config *cfg, struct inbound_router **out)
{
	struct inbound_router *r = calloc(1, sizeof(*r));
	if (!r)
		return HK_ENOMEM;
	r->cfg = *cfg;
	if (transform_cache_new(NULL, 0, &r->xf) < 0) {
		free(r);
		return HK_ENOMEM;
	}
	pthread_mutex_init(&r->mu, NULL);
	clock_cond_init(&r->cv);
	if (pthread_create(&r->thread, NULL, router_main, r) != 0) {
		transform_cache_free(r->xf);
		free(r);
		return HK_ENOMEM;
	}
	r->started = true;
	*out = r;
	return 0;
}

void router_stop(struct inbound_router *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	while (r->head) {
		struct rjob *j = r->head;
		r->head = j->next;
		free(j);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	transform_cache_free(r->xf);
	free(r);
}
