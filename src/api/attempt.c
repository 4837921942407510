/*
 * attempt.c - delivery attempts and the operations on deliveries: attempt
 * lists, resend, send-example, recover, replay-missing and per-endpoint stats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/msg.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "deliver/dispatch.h"
#include "deliver/fanout.h"
#include "deliver/publish.h"

/* ---- lists ---- */

static int query_int(struct api_req *r, const char *name, int dflt, int min, int max)
{
	const char *s = http_query(r->http, name);
	char *end;
	long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		api_field_error(r, "query", name, "out of range");
		return dflt;
	}
	return (int)v;
}

static void attempt_list(struct api_req *r, bool by_msg)
{
	json_t *app = api_load_app(r), *target = NULL;
	struct store_attempt_query q = {0};
	struct store_page pg;
	struct store_list l;
	int rc;

	if (!app)
		return;
	if (by_msg)
		rc = store_msg_get(r->store, json_str(app, "id"), api_param(r, "msg"), false, &target);
	else
		rc = store_doc_get(r->store, "endpoint", json_str(app, "id"), api_param(r, "ep"), &target);
	if (rc < 0) {
		json_decref(app);
		api_fail(r, rc, by_msg ? "message" : "endpoint");
		return;
	}
	api_page(r, &pg, true);
	q.app = json_str(app, "id");
	q.msg = by_msg ? json_str(target, "id") : NULL;
	q.endpoint = by_msg ? http_query(r->http, "endpoint_id") : json_str(target, "id");
	q.status = query_int(r, "status", -1, 0, 4);
	q.code_class = query_int(r, "status_code_class", -1, 0, 599);
	q.event_types = api_query_names(r, "event_types");
	q.channel = http_query(r->http, "channel");
	q.tag = http_query(r->http, "tag");
	q.before = api_query_time(r, "before");
	q.after = api_query_time(r, "after");
	if (json_array_size(r->errors)) {
		api_invalid(r);
	} else {
		rc = store_attempt_list(r->store, &q, &pg, &l);
		if (rc < 0)
			api_fail(r, rc, "attempts");
		else
			api_list(r, &l);
	}
	json_decref(q.event_types);
	json_decref(target);
	json_decref(app);
}

static void attempt_by_msg(struct api_req *r)
{
	attempt_list(r, true);
}

static void attempt_by_endpoint(struct api_req *r)
{
	attempt_list(r, false);
}

static void attempt_get(struct api_req *r)
{
	json_t *app = api_load_app(r), *msg = NULL, *att = NULL;
	int rc;

	if (!app)
		return;
	rc = store_msg_get(r->store, json_str(app, "id"), api_param(r, "msg"), false, &msg);
	if (rc == 0)
		rc = store_attempt_get(r->store, json_str(app, "id"), json_str(msg, "id"),
				       api_param(r, "atmpt"), &att);
	json_decref(msg);
	json_decref(app);
	if (rc < 0)
		api_fail(r, rc, "attempt");
	else
		api_json(r, 200, att);
}

/*
 * delivery_list serves a message's destinations and an endpoint's messages
 * (filters status and, for an endpoint's messages, event_types, channel,
 * tag, before and after)
 */
static void delivery_list(struct api_req *r, bool by_msg)
{
	json_t *app = api_load_app(r), *target = NULL;
	struct store_delivery_query q = {.status = query_int(r, "status", -1, 0, 4)};
	struct store_page pg;
	struct store_list l;
	int rc;

	if (!app)
		return;
	if (by_msg)
		rc = store_msg_get(r->store, json_str(app, "id"), api_param(r, "msg"), false, &target);
	else
		rc = store_doc_get(r->store, "endpoint", json_str(app, "id"), api_param(r, "ep"), &target);
	api_page(r, &pg, !by_msg);
	q.app = json_str(app, "id");
	q.msg = by_msg ? json_str(target, "id") : NULL;
	q.endpoint = by_msg ? NULL : json_str(target, "id");
	if (!by_msg) {
		q.event_types = api_query_names(r, "event_types");
		q.channel = http_query(r->http, "channel");
		q.tag = http_query(r->http, "tag");
		q.before = api_query_time(r, "before");
		q.after = api_query_time(r, "after");
	}
	if (rc < 0) {
		api_fail(r, rc, by_msg ? "message" : "endpoint");
	} else if (json_array_size(r->errors)) {
		api_invalid(r);
	} else {
		rc = store_delivery_list(r->store, &q, &pg, &l);
		if (rc < 0)
			api_fail(r, rc, "deliveries");
		else
			api_list(r, &l);
	}
	json_decref(q.event_types);
	json_decref(target);
	json_decref(app);
}

static void msg_destinations(struct api_req *r)
{
	delivery_list(r, true);
}

static void endpoint_msgs(struct api_req *r)
{
	delivery_list(r, false);
}

/* ---- requeueing ---- */

struct requeue {
	struct dispatch *d;
	char app[ID_MAX];
	size_t n, cap;
	struct store_due *items;
};

static void requeue_then(void *arg)
{
	struct requeue *q = arg;
	for (size_t i = 0; q->d && i < q->n; i++)
		dispatch_requeue(q->d, q->items[i].msg, q->app, q->items[i].endpoint, 0, clock_now_ms(), 1);
}

static void requeue_free(void *arg)
{
	struct requeue *q = arg;
	if (q) {
		free(q->items);
		free(q);
	}
}

/*
 * requeue_add adds to w a delivery of msg to ep, due now: SOP_DELIVERY_SET
 * requeues an existing one with its attempts reset, SOP_DELIVERY_ADD makes a
 * new one (q->app set first); q remembers it for the dispatcher.
 */
static int requeue_add(struct requeue *q, struct store_write *w, const char *msg, const char *ep,
		       enum store_op_kind kind)
{
	struct store_op *op;

	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 8;
		struct store_due *p = realloc(q->items, ncap * sizeof(*p));
		if (!p)
			return HK_ENOMEM;
		q->items = p;
		q->cap = ncap;
	}
	op = store_write_add(w, kind);
	if (!op)
		return HK_ENOMEM;
	snprintf(op->u.dset.msg, sizeof(op->u.dset.msg), "%s", msg);
	snprintf(op->u.dset.endpoint, sizeof(op->u.dset.endpoint), "%s", ep);
	snprintf(op->u.dset.app, sizeof(op->u.dset.app), "%s", q->app);
	op->u.dset.status = MSG_PENDING;
	op->u.dset.next_at = clock_now_ms();
	op->u.dset.reset_attempts = true;
	memset(&q->items[q->n], 0, sizeof(q->items[q->n]));
	snprintf(q->items[q->n].msg, ID_MAX, "%s", msg);
	snprintf(q->items[q->n].endpoint, ID_MAX, "%s", ep);
	q->n++;
	return 0;
}

static void resend(struct api_req *r)
{
	json_t *app = api_load_app(r), *msg = NULL, *ep = NULL;
	struct store_due due;
	struct store_write *w = NULL;
	struct requeue *q = NULL;
	int rc;

	if (!app)
		return;
	rc = store_msg_get(r->store, json_str(app, "id"), api_param(r, "msg"), false, &msg);
	if (rc < 0) {
		api_fail(r, rc, "message");
		goto out;
	}
	ep = api_load_endpoint(r, app);
	if (!ep)
		goto out;
	rc = store_delivery_get(r->store, json_str(msg, "id"), json_str(ep, "id"), &due);
	if (rc < 0) {
		api_fail(r, rc, "delivery of this message to this endpoint");
		goto out;
	}
	w = store_write_new(NULL, NULL);
	q = calloc(1, sizeof(*q));
	if (q)
		snprintf(q->app, sizeof(q->app), "%s", json_str(app, "id"));
	if (!w || !q || requeue_add(q, w, json_str(msg, "id"), json_str(ep, "id"), SOP_DELIVERY_SET) < 0) {
		store_write_free(w);
		requeue_free(q);
		api_fail(r, HK_ENOMEM, "resend");
		goto out;
	}
	q->d = api_dispatch(r);
	api_commit_then(r, w, 202, json_object(), requeue_then, q, requeue_free);
out:
	json_decref(ep);
	json_decref(msg);
	json_decref(app);
}

struct recover_scan {
	struct requeue *q;
	struct store_write *w;
	int rc;
	struct store_delivery_query *dq; /* bulk-replay's filters */
};

static int recover_one(const struct store_due *d, void *arg)
{
	struct recover_scan *s = arg;
	s->rc = requeue_add(s->q, s->w, d->msg, d->endpoint, SOP_DELIVERY_SET);
	return s->rc;
}

/* scan_failed: the endpoint's deliveries that failed in the window go again (recover) */
static int scan_failed(struct api_req *r, const json_t *app, const json_t *ep, int64_t since, int64_t until,
		       struct recover_scan *s)
{
	(void)app;
	return store_failed_scan(r->store, json_str(ep, "id"), since, until, recover_one, s);
}

#define REPLAY_SCAN_MAX 100000 /* messages one replay-missing looks at */

/*
 * scan_missing: messages of the app made in the window that match the
 * endpoint (its event types and channels, as at publish) and have no
 * delivery to it, because they came before it or before it matched, get one
 * (replay-missing). Pages through the app's messages without a delivery to
 * the endpoint (the store leaves the others out), oldest first.
 */
static int scan_missing(struct api_req *r, const json_t *app, const json_t *ep, int64_t since, int64_t until,
			struct recover_scan *s)
{
	struct store_msg_query mq = {
		.app = json_str(app, "id"), .after = since, .before = until, .missing_to = json_str(ep, "id")};
	struct store_page pg = {.limit = 250};
	struct store_list l = {0};
	char next[sizeof(l.iterator)] = "";
	size_t seen = 0;
	int rc;

	do {
		size_t i;
		json_t *m;

		pg.iterator = next[0] ? next : NULL;
		rc = store_msg_list(r->store, &mq, &pg, &l);
		if (rc < 0)
			return rc;
		json_array_foreach(l.items, i, m) {
			if (rc == 0 && fanout_match(ep, json_str(m, "eventType"), json_object_get(m, "channels")))
				rc = requeue_add(s->q, s->w, json_str(m, "id"), json_str(ep, "id"), SOP_DELIVERY_ADD);
		}
		seen += json_array_size(l.items);
		snprintf(next, sizeof(next), "%s", l.iterator);
		store_list_release(&l);
	} while (rc >= 0 && !l.done && seen < REPLAY_SCAN_MAX);
	return rc < 0 ? rc : 0;
}

#define BULK_REPLAY_MAX 100000 /* deliveries one bulk replay sends again */

/*
 * scan_bulk: the endpoint's deliveries of messages made in the window (and
 * of the types, channel, tag and delivery status asked for) go again, each
 * like a resend (bulk-replay). Pages through the endpoint's messages.
 */
static int scan_bulk(struct api_req *r, const json_t *app, const json_t *ep, int64_t since, int64_t until,
		     struct recover_scan *s)
{
	struct store_page pg = {.limit = 250};
	struct store_list l = {0};
	char next[sizeof(l.iterator)] = "";
	size_t i;
	json_t *m;
	int rc;

	s->dq->app = json_str(app, "id");
	s->dq->endpoint = json_str(ep, "id");
	s->dq->after = since;
	s->dq->before = until;
	do {
		pg.iterator = next[0] ? next : NULL;
		rc = store_delivery_list(r->store, s->dq, &pg, &l);
		if (rc < 0)
			return rc;
		json_array_foreach(l.items, i, m) {
			if (rc == 0)
				rc = requeue_add(s->q, s->w, json_str(m, "id"), json_str(ep, "id"), SOP_DELIVERY_SET);
		}
		snprintf(next, sizeof(next), "%s", l.iterator);
		store_list_release(&l);
	} while (rc >= 0 && !l.done && s->q->n < BULK_REPLAY_MAX);
	return rc < 0 ? rc : 0;
}

/*
 * endpoint_task serves recover, replay-missing and bulk-replay: {since, until?} pick a
 * window, scan adds what goes to the endpoint again, and the answer is
 * Svix's background task, finished, since the deliveries are queued by the
 * time it is sent.
 */
static void endpoint_task(struct api_req *r, const char *task,
			  int (*scan)(struct api_req *r, const json_t *app, const json_t *ep, int64_t since,
				      int64_t until, struct recover_scan *s),
			  struct store_delivery_query *dq)
{
	json_t *app = api_load_app(r), *ep = NULL;
	const char *since_s = api_in_str(r, "since", true, 64), *until_s = api_in_str(r, "until", false, 64);
	int64_t since = 0, until = 0;
	struct recover_scan s = {.dq = dq};
	json_t *answer;
	int rc;

	if (!app)
		return;
	if (since_s && clock_parse(since_s, &since) < 0)
		api_field_error(r, "body", "since", "must be an RFC 3339 date-time");
	if (until_s && clock_parse(until_s, &until) < 0)
		api_field_error(r, "body", "until", "must be an RFC 3339 date-time");
	ep = json_array_size(r->errors) ? NULL : api_load_endpoint(r, app);
	if (json_array_size(r->errors)) {
		api_invalid(r);
		goto out;
	}
	if (!ep)
		goto out;
	s.q = calloc(1, sizeof(*s.q));
	s.w = store_write_new(NULL, NULL);
	if (s.q)
		snprintf(s.q->app, sizeof(s.q->app), "%s", json_str(app, "id"));
	rc = s.q && s.w ? scan(r, app, ep, since, until, &s) : HK_ENOMEM;
	answer = rc < 0 ? NULL
			: api_task_add(s.w, task,
				       json_pack("{s:s,s:s,s:I}", "appId", json_str(app, "id"), "endpointId",
						 json_str(ep, "id"), "queued", (json_int_t)s.q->n));
	if (!answer) {
		store_write_free(s.w);
		requeue_free(s.q);
		api_fail(r, rc < 0 ? rc : HK_ENOMEM, task);
		goto out;
	}
	s.q->d = api_dispatch(r);
	api_commit_then(r, s.w, 202, answer, requeue_then, s.q, requeue_free);
out:
	json_decref(ep);
	json_decref(app);
}

static void recover(struct api_req *r)
{
	endpoint_task(r, "endpoint.recover", scan_failed, NULL);
}

static void replay_missing(struct api_req *r)
{
	endpoint_task(r, "endpoint.replay", scan_missing, NULL);
}

/*
 * bulk_replay sends the endpoint again what it was sent in a window: body
 * {since, until?, eventTypes?, channel?, tag?, status?}. statusCodeClass
 * (which answer the last attempt got) is not kept per delivery: 422.
 */
static void bulk_replay(struct api_req *r)
{
	struct store_delivery_query dq = {.status = (int)api_in_int(r, "status", -1, 0, 4)};

	dq.event_types = api_in_names(r, "eventTypes", 64, false);
	dq.channel = api_in_str(r, "channel", false, 256);
	dq.tag = api_in_str(r, "tag", false, 256);
	if (json_object_get(r->body, "statusCodeClass") && !json_is_null(json_object_get(r->body, "statusCodeClass")))
		api_field_error(r, "body", "statusCodeClass", "not supported: filter by status instead");
	endpoint_task(r, "endpoint.bulk-replay", scan_bulk, &dq);
}

static void send_example(struct api_req *r)
{
	json_t *app = api_load_app(r), *ep = NULL, *et = NULL, *payload = NULL;
	const char *type = api_in_str(r, "eventType", true, 256);
	struct publish_in in = {.retention_hours = 90 * 24};

	if (!app)
		return;
	ep = api_load_endpoint(r, app);
	if (!ep)
		goto out;
	if (type && strcmp(type, "hookd.ping") == 0) {
		payload = json_pack("{s:b}", "success", 1);
	} else if (type && store_doc_get(r->store, "event_type", "", type, &et) == 0) {
		payload = json_deep_copy(json_object_get(et, "_example"));
		if (!json_is_object(payload)) {
			json_decref(payload);
			payload = json_pack("{s:s}", "eventType", type);
		}
	} else if (type) {
		api_field_error(r, "body", "eventType", "unknown event type");
	}
	if (json_array_size(r->errors)) {
		api_invalid(r);
		goto out;
	}
	in.app_id = json_str(app, "id");
	in.event_type = type;
	in.only_endpoint = json_str(ep, "id");
	msg_publish(r, &in, payload, NULL, 200);
out:
	json_decref(payload);
	json_decref(et);
	json_decref(ep);
	json_decref(app);
}

static void endpoint_stats(struct api_req *r)
{
	json_t *app = api_load_app(r), *ep = NULL;
	struct store_ep_stats st;
	int64_t since = api_query_time(r, "since"), until = api_query_time(r, "until");
	int rc;

	if (!app)
		return;
	ep = api_load_endpoint(r, app);
	if (ep && json_array_size(r->errors)) {
		api_invalid(r);
	} else if (ep) {
		rc = store_endpoint_stats(r->store, json_str(ep, "id"), since, until, &st);
		if (rc < 0)
			api_fail(r, rc, "stats");
		else
			api_json(r, 200, json_pack("{s:I,s:I,s:I,s:I}", "success", (json_int_t)st.success,
						   "pending", (json_int_t)st.pending, "sending",
						   (json_int_t)st.sending, "fail", (json_int_t)st.fail));
	}
	json_decref(ep);
	json_decref(app);
}

const struct api_route api_attempt_routes[] = {
	{{"GET", "/api/v1/app/{app}/attempt/msg/{msg}"}, attempt_by_msg, 0},
	{{"GET", "/api/v1/app/{app}/attempt/endpoint/{ep}"}, attempt_by_endpoint, 0},
	{{"GET", "/api/v1/app/{app}/msg/{msg}/attempt/{atmpt}"}, attempt_get, 0},
	{{"GET", "/api/v1/app/{app}/msg/{msg}/endpoint"}, msg_destinations, 0},
	{{"GET", "/api/v1/app/{app}/endpoint/{ep}/msg"}, endpoint_msgs, 0},
	{{"POST", "/api/v1/app/{app}/msg/{msg}/endpoint/{ep}/resend"}, resend, 0},
	{{"POST", "/api/v1/app/{app}/endpoint/{ep}/send-example"}, send_example, 0},
	{{"POST", "/api/v1/app/{app}/endpoint/{ep}/recover"}, recover, 0},
	{{"POST", "/api/v1/app/{app}/endpoint/{ep}/replay-missing"}, replay_missing, 0},
	{{"POST", "/api/v1/app/{app}/endpoint/{ep}/bulk-replay"}, bulk_replay, 0},
	{{"GET", "/api/v1/app/{app}/endpoint/{ep}/stats"}, endpoint_stats, 0},
};
const size_t api_attempt_nroutes = sizeof(api_attempt_routes) / sizeof(api_attempt_routes[0]);
