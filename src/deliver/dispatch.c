/*
 * dispatch.c - the delivery loop: incoming work, per-endpoint admission,
 * retry timers and the result of each attempt. See dispatch.h for the life
 * of a job; request.c turns a job into an HTTP request.
 *
 * Threads: everything below "loop side" runs on the loop thread only.
 * Other threads touch the incoming queue (under d->mu) and then wake the
 * loop with uv_async_send.
 *
 * Admission (pump) for an endpoint takes waiting jobs in order while:
 *   the endpoint has fewer than max_inflight requests out,
 *   its token bucket has a token (throttleRate), and
 *   its circuit breaker allows a request (closed, or the one half-open probe).
 * A throttled or broken endpoint re-arms its own timer; its jobs keep their
 * place and use up no attempt. A slow endpoint holds only its own slots,
 * never a healthy endpoint's.
 *
 * Several nodes on one database (cfg.want_tokens set) change two things,
 * and only those: a throttled endpoint spends tokens the database granted
 * this node (asked for through the claim loop, which does the SQL off this
 * thread, and handed back by dispatch_grant) instead of its own bucket, so
 * the rate holds across nodes; and the in-flight cap is divided by the
 * number of live nodes (dispatch_set_nodes), rounded up.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "deliver/dispatch_int.h"
#include "deliver/format.h"
#include "deliver/opsevent.h"
#include "deliver/outcome.h"

/* ---- messages and jobs ---- */

/* headers_slist turns a JSON object text into "Name: value" lines */
static struct curl_slist *headers_slist(const char *headers)
{
	json_t *obj = headers ? json_loads(headers, 0, NULL) : NULL, *v;
	struct curl_slist *list = NULL;
	const char *name;

	json_object_foreach(obj, name, v) {
		char line[8192];
		struct curl_slist *n;
		if (!json_is_string(v))
			continue;
		snprintf(line, sizeof(line), "%s: %s", name, json_string_value(v));
		n = curl_slist_append(list, line);
		if (n)
			list = n;
	}
	json_decref(obj);
	return list;
}

static struct dmsg *dmsg_new(const char *id, const char *app, const char *event_type,
			     const char *payload, size_t len, const char *headers)
{
	struct dmsg *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(m->app, sizeof(m->app), "%s", app);
	m->event_type = strdup(event_type ? event_type : "");
	if (payload) {
		m->payload = malloc(len + 1);
		if (m->payload) {
			memcpy(m->payload, payload, len);
			m->payload[len] = '\0';
		}
		m->len = len;
	}
	m->headers = headers_slist(headers);
	if (!m->event_type || (payload && !m->payload)) {
		dmsg_unref(m);
		return NULL;
	}
	return m;
}

void dmsg_unref(struct dmsg *m)
{
	if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
		free(m->event_type);
		free(m->payload);
		curl_slist_free_all(m->headers);
		free(m);
	}
}

static struct djob *job_new(struct dmsg *m, const char *endpoint, int attempts, int64_t due, int trigger)
{
	struct djob *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	atomic_fetch_add(&m->refs, 1);
	j->msg = m;
	snprintf(j->endpoint, sizeof(j->endpoint), "%s", endpoint);
	j->attempts = attempts;
	j->due = due;
	j->trigger = trigger;
	j->heap_pos = HEAP_NONE;
	return j;
}

static void job_free(struct djob *j)
{
	if (j) {
		dmsg_unref(j->msg);
		free(j);
	}
}

/* enqueue hands a list of jobs to the loop (any thread) */
static void enqueue(struct dispatch *d, struct djob *head, struct djob *tail, size_t n)
{
	pthread_mutex_lock(&d->mu);
	if (d->in_tail)
		d->in_tail->next = head;
	else
		d->in_head = head;
	d->in_tail = tail;
	d->nin += n;
	pthread_mutex_unlock(&d->mu);
	atomic_fetch_add(&d->queued, (int_fast64_t)n);
	uv_async_send(&d->wake);
}

int dispatch_publish(struct dispatch *d, const char *msg_id, const char *app,
		     const char *event_type, const char *payload, size_t len, const char *headers,
		     const char (*endpoints)[ID_MAX], size_t n, int64_t due)
{
	struct djob *head = NULL, *tail = NULL;
	struct dmsg *m;
	int64_t now = clock_now_ms();

	if (!n)
		return 0;
	m = dmsg_new(msg_id, app, event_type, payload, len, headers);
	if (!m)
		return HK_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct djob *j = job_new(m, endpoints[i], 0, due > now ? due : now, 0);
		if (!j)
			break; /* still pending in the store: recovered after a restart */
		if (tail)
			tail->next = j;
		else
			head = j;
		tail = j;
	}
	dmsg_unref(m);
	if (head)
		enqueue(d, head, tail, n);
	return 0;
}

/* queue_one hands the loop one job for a message read back from the store */
static int queue_one(struct dispatch *d, const char *msg_id, const char *app, const char *event_type,
		     const char *payload, size_t len, const char *headers, const char *endpoint,
		     int attempts, int64_t due, int trigger)
{
	struct dmsg *m = dmsg_new(msg_id, app, event_type, payload, len, headers);
	struct djob *j;

	if (!m)
		return HK_ENOMEM;
	j = job_new(m, endpoint, attempts, due, trigger);
	dmsg_unref(m);
	if (!j)
		return HK_ENOMEM;
	enqueue(d, j, j, 1);
	return 0;
}

int dispatch_requeue(struct dispatch *d, const char *msg_id, const char *app, const char *endpoint,
		     int attempts, int64_t due, int trigger)
{
	char *payload = NULL, *event_type = NULL, *headers = NULL;
	size_t len = 0;
	int rc = store_msg_payload(d->cfg.store, msg_id, &payload, &len, &event_type, &headers);

	if (rc == 0)
		rc = queue_one(d, msg_id, app, event_type, payload, len, headers, endpoint, attempts, due,
			       trigger);
	free(payload);
	free(event_type);
	free(headers);
	return rc;
}

int dispatch_queue_due(struct dispatch *d, const struct store_due *due)
{
	if (!due->event_type) /* the claim did not join the message */
		return dispatch_requeue(d, due->msg, due->app, due->endpoint, due->attempts, due->next_at, 0);
	return queue_one(d, due->msg, due->app, due->event_type, due->payload, due->len, due->headers,
			 due->endpoint, due->attempts, due->next_at, 0);
}

void dispatch_grant(struct dispatch *d, const char *endpoint, int n, int64_t valid_ms)
{
	struct dgrant *g = calloc(1, sizeof(*g));

	if (!g)
		return; /* the endpoint stays asking: its pump timer asks again */
	snprintf(g->endpoint, sizeof(g->endpoint), "%s", endpoint);
	g->n = n;
	g->valid_ms = valid_ms;
	pthread_mutex_lock(&d->mu);
	g->next = d->grants;
	d->grants = g;
	pthread_mutex_unlock(&d->mu);
	uv_async_send(&d->wake);
}

void dispatch_set_nodes(struct dispatch *d, int nodes)
{
	atomic_store(&d->nodes, nodes > 0 ? nodes : 1);
}

void dispatch_config_changed(struct dispatch *d)
{
	atomic_fetch_add(&d->gen, 1);
}

struct health *dispatch_health(struct dispatch *d)
{
	return &d->health;
}

void dispatch_get_stats(struct dispatch *d, struct dispatch_stats *out)
{
	out->attempts = atomic_load(&d->attempts);
	out->succeeded = atomic_load(&d->succeeded);
	out->failed = atomic_load(&d->failed);
	out->retried = atomic_load(&d->retried);
	out->inflight = atomic_load(&d->inflight);
	out->queued = atomic_load(&d->queued) + atomic_load(&d->waiting);
	out->scheduled = atomic_load(&d->scheduled);
	out->circuit_closed = atomic_load(&d->circuit[BREAKER_CLOSED]);
	out->circuit_open = atomic_load(&d->circuit[BREAKER_OPEN]);
	out->circuit_half_open = atomic_load(&d->circuit[BREAKER_HALF_OPEN]);
	out->disabled = atomic_load(&d->disabled);
}

/* ---- loop side: endpoints ---- */

/* dhdrs_new makes an endpoint's header lines from its "_headers" object */
static struct dhdrs *dhdrs_new(json_t *headers)
{
	struct dhdrs *h = calloc(1, sizeof(*h));
	const char *name;
	json_t *v;

	if (!h)
		return NULL;
	h->refs = 1;
	json_object_foreach(headers, name, v) {
		char line[8192];
		snprintf(line, sizeof(line), "%s: %s", name, json_string_value(v));
		struct curl_slist *n = curl_slist_append(h->list, line);
		if (n)
			h->list = n;
	}
	/* "Expect:" keeps libcurl from waiting for a 100 Continue */
	struct curl_slist *n = curl_slist_append(h->list, "Expect:");
	if (n)
		h->list = n;
	return h;
}

void dhdrs_release(struct dhdrs *h)
{
	if (h && --h->refs == 0) {
		curl_slist_free_all(h->list);
		free(h);
	}
}

static void dep_unload(struct dep *dep)
{
	json_decref(dep->doc);
	dep->doc = NULL;
	dep->url = NULL;
	dep->nsecrets = 0;
	dhdrs_release(dep->headers);
	dep->headers = NULL;
	dep->xf_code = NULL;
}

/* dep_load reads the endpoint's document into dep (on a cache miss or after a change) */
static void dep_load(struct dispatch *d, struct dep *dep)
{
	json_t *doc = NULL, *k, *xf;
	size_t i;
	int64_t now = clock_now_ms();
	int rc = store_doc_get(d->cfg.store, "endpoint", dep->app, dep->id, &doc);

	bool was_disabled = dep->disabled;

	dep_unload(dep);
	dep->gen = atomic_load(&d->gen);
	dep->gone = rc < 0;
	if (rc < 0)
		return;
	dep->doc = doc;
	dep->url = json_str(doc, "url");
	dep->disabled = json_is_true(json_object_get(doc, "disabled"));
	if (dep->disabled != was_disabled)
		atomic_fetch_add(&d->disabled, dep->disabled ? 1 : -1);
	json_array_foreach(json_object_get(doc, "_secrets"), i, k) {
		json_int_t exp = json_integer_value(json_object_get(k, "expires"));
		if ((exp == 0 || exp > now) && dep->nsecrets < 12)
			dep->secrets[dep->nsecrets++] = json_str(k, "key");
	}
	dep->headers = dhdrs_new(json_object_get(doc, "_headers"));
	xf = json_object_get(doc, "_transformation");
	if (json_is_true(json_object_get(xf, "enabled")) && json_str(xf, "code")) {
		dep->xf_code = json_str(xf, "code");
		snprintf(dep->xf_key, sizeof(dep->xf_key), "%s#%lld", dep->id,
			 (long long)json_integer_value(json_object_get(xf, "version")));
	}
	dep->format = format_parse(json_str(doc, "format"));
	if (dep->format < 0)
		dep->format = FORMAT_JSON;
	dep->svix_headers = json_str(doc, "signatureHeaders") &&
			    strcmp(json_str(doc, "signatureHeaders"), "svix") == 0;
	dep->accept_3xx = json_is_true(json_object_get(doc, "successOn3xx"));
	dep->max_inflight = (int)json_integer_value(json_object_get(doc, "maxInFlight"));
	if (dep->max_inflight <= 0)
		dep->max_inflight = d->cfg.max_inflight;
	bucket_set_rate(&dep->bucket, (uint32_t)json_integer_value(json_object_get(doc, "throttleRate")),
			now);
}

static void pump_cb(uv_timer_t *t);

static struct dep *dep_get(struct dispatch *d, const char *endpoint, const char *app)
{
	struct dep *dep = map_get(&d->deps, endpoint);

	if (!dep) {
		dep = calloc(1, sizeof(*dep));
		if (!dep)
			return NULL;
		dep->d = d;
		snprintf(dep->id, sizeof(dep->id), "%s", endpoint);
		snprintf(dep->app, sizeof(dep->app), "%s", app);
		bucket_init(&dep->bucket, 0, clock_now_ms());
		breaker_init(&dep->breaker, endpoint, d->cfg.breaker.failure_threshold ? &d->cfg.breaker : NULL);
		atomic_fetch_add(&d->circuit[BREAKER_CLOSED], 1);
		uv_timer_init(&d->loop, &dep->pump);
		dep->pump.data = dep;
		if (map_put(&d->deps, endpoint, dep, NULL) < 0) {
			free(dep);
			return NULL;
		}
		dep->gen = 0;
	}
	if (dep->gen != atomic_load(&d->gen))
		dep_load(d, dep);
	return dep;
}

/* ---- loop side: settling ---- */

/* settle_without_attempt closes a delivery that cannot be attempted */
static void settle_without_attempt(struct dispatch *d, struct djob *j, const char *why)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = w ? store_write_add(w, SOP_DELIVERY_SET) : NULL;

	log_debug("delivery of '%s' to '%s' not attempted: %s", j->msg->id, j->endpoint, why);
	if (op) {
		snprintf(op->u.dset.msg, sizeof(op->u.dset.msg), "%s", j->msg->id);
		snprintf(op->u.dset.endpoint, sizeof(op->u.dset.endpoint), "%s", j->endpoint);
		op->u.dset.status = MSG_FAIL;
		if (store_submit(d->cfg.store, w) == 0)
			w = NULL;
	}
	store_write_free(w);
	atomic_fetch_add(&d->failed, 1);
	job_free(j);
}

static void schedule(struct dispatch *d, struct djob *j);

/* disable_endpoint turns an endpoint off in the store (410 Gone, or failing too long) */
static void disable_endpoint(struct dispatch *d, struct dep *dep, const char *why)
{
	json_t *doc = json_deep_copy(dep->doc);
	struct store_write *w;
	char now[40];

	if (!doc || dep->disabled) {
		json_decref(doc);
		return;
	}
	log_warnx("endpoint '%s' disabled: %s", dep->id, why);
	opsevent_emit("endpoint.disabled", dep->app,
		      json_pack("{s:s,s:s,s:s?,s:s}", "appId", dep->app, "endpointId", dep->id,
				"endpointUid", json_str(dep->doc, "uid"), "reason", why));
	dep->disabled = true;
	clock_format_ms(clock_now_ms(), now, sizeof(now));
	json_object_set_new(doc, "disabled", json_true());
	json_object_set_new(doc, "updatedAt", json_string(now));
	w = store_write_new(NULL, NULL);
	if (w && store_write_doc(w, SOP_DOC_UPDATE, "endpoint", dep->id, dep->app, json_str(doc, "uid"),
				 doc, 0, clock_now_ms()) == 0 &&
	    store_submit(d->cfg.store, w) == 0)
		w = NULL;
	store_write_free(w);
	json_decref(doc);
	atomic_fetch_add(&d->gen, 1);
	if (d->cfg.endpoint_changed)
		d->cfg.endpoint_changed(d->cfg.arg);
}

static void record_attempt(struct dispatch *d, struct dreq *rq, int code, const char *error,
			   const struct outcome *o, int64_t now)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = w ? store_write_add(w, SOP_ATTEMPT) : NULL;
	struct store_attempt *a;

	if (!op) {
		store_write_free(w);
		log_error("cannot record an attempt: out of memory");
		return;
	}
	a = &op->u.att;
	snprintf(a->id, sizeof(a->id), "%s", rq->attempt_id);
	snprintf(a->msg, sizeof(a->msg), "%s", rq->job->msg->id);
	snprintf(a->endpoint, sizeof(a->endpoint), "%s", rq->job->endpoint);
	snprintf(a->app, sizeof(a->app), "%s", rq->job->msg->app);
	a->url = strdup(rq->xf.url ? rq->xf.url : rq->dep->url ? rq->dep->url : "");
	a->response = error ? strdup(error) : buf_detach(&rq->resp, NULL);
	a->status = o->attempt_status;
	a->code = code;
	a->duration_ms = (clock_mono_us() - rq->start_us) / 1000;
	a->trigger = rq->job->trigger;
	a->created = now;
	a->delivery_status = o->delivery_status;
	a->attempts = rq->job->attempts;
	a->next_at = o->next_at;
	if (store_submit(d->cfg.store, w) < 0) {
		log_error("cannot record the attempt of '%s' to '%s': the store queue is full", a->msg,
			  a->endpoint);
		store_write_free(w);
	}
}

static void pump(struct dispatch *d, struct dep *dep);

/*
 * announce sends the operational webhooks an attempt calls for: failing
 * after the OPSEVENT_FAILING_AFTER-th failure, exhausted when no attempt is
 * left, recovered on a success after failing was announced.
 */
static void announce(struct dispatch *d, struct dreq *rq, const struct outcome *o, int64_t now)
{
	const struct djob *j = rq->job;
	const char *type = NULL;
	char ts[40];
	(void)d;

	if (o->delivery_status == MSG_FAIL)
		type = "message.attempt.exhausted";
	else if (o->delivery_status == MSG_PENDING && j->attempts == OPSEVENT_FAILING_AFTER)
		type = "message.attempt.failing";
	else if (o->delivery_status == MSG_SUCCESS && j->attempts > OPSEVENT_FAILING_AFTER)
		type = "message.attempt.recovered";
	if (!type)
		return;
	clock_format_ms(now, ts, sizeof(ts));
	opsevent_emit(type, j->msg->app,
		      json_pack("{s:s,s:s,s:s,s:{s:s,s:i,s:s,s:s}}", "appId", j->msg->app, "msgId",
				j->msg->id, "endpointId", j->endpoint, "lastAttempt", "id", rq->attempt_id,
				"responseStatusCode", rq->last_code, "timestamp", ts, "url",
				rq->dep->url ? rq->dep->url : ""));
}

void dispatch_finished(struct dispatch *d, struct dreq *rq, int code, const char *error)
{
	struct djob *j = rq->job;
	struct dep *dep = rq->dep;
	struct outcome o;
	int64_t now = clock_now_ms();
	double r = (double)(rand() % 10000) / 10000.0;

	j->attempts++;
	rq->last_code = code;
	outcome_decide(code, rq->retry_after[0] ? rq->retry_after : NULL, dep->accept_3xx, j->attempts,
		       &d->cfg.schedule, now, r, &o);
	if (rq->canceled) /* the transformation said not to send: settled, not failed */
		o = (struct outcome){.attempt_status = MSG_CANCELED, .delivery_status = MSG_CANCELED};
	record_attempt(d, rq, code, error, &o, now);
	if (bus_active()) {
		char ts[40];
		clock_format_ms(now, ts, sizeof(ts));
		bus_publish("attempt", j->msg->app, NULL,
			    json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:i,s:s?,s:s}", "id", rq->attempt_id, "msgId",
				      j->msg->id, "endpointId", j->endpoint, "app", j->msg->app, "status",
				      o.attempt_status, "statusText", msg_status_text(o.attempt_status),
				      "responseStatusCode", code, "error", error, "timestamp", ts));
	}
	atomic_fetch_add(&d->attempts, 1);
	/* every request pump admitted took a slot, sent or not */
	dep->inflight--;
	atomic_fetch_sub(&d->inflight, 1);
	enum breaker_state before = breaker_state(&dep->breaker);
	if (!rq->easy)
		breaker_release(&dep->breaker); /* never sent: says nothing about the endpoint */
	else if (o.counts_as_failure)
		breaker_failure(&dep->breaker, now);
	else
		breaker_success(&dep->breaker, now);
	if (breaker_state(&dep->breaker) != before) {
		atomic_fetch_sub(&d->circuit[before], 1);
		atomic_fetch_add(&d->circuit[breaker_state(&dep->breaker)], 1);
	}
	if (rq->easy)
		health_record(&d->health, dep->id, dep->app, dep->url, !o.counts_as_failure, code, error,
			      breaker_state_name(breaker_state(&dep->breaker)), now);
	metrics_attempt(code,
			o.delivery_status == MSG_SUCCESS ? OUTCOME_SUCCEEDED
			: o.delivery_status == MSG_PENDING  ? OUTCOME_RETRYING
			: o.delivery_status == MSG_CANCELED ? OUTCOME_CANCELED
							    : OUTCOME_FAILED,
			now - id_time_ms(j->msg->id), (clock_mono_us() - rq->start_us) / 1000);
	if (o.disable)
		disable_endpoint(d, dep, "the endpoint answered 410 Gone");
	else if (rq->easy && o.counts_as_failure &&
		 breaker_failing_for(&dep->breaker, now) > d->cfg.disable_after_ms)
		disable_endpoint(d, dep, "failing continuously past the disable period");
	announce(d, rq, &o, now);
	req_free(rq);
	if (o.delivery_status == MSG_PENDING) {
		atomic_fetch_add(&d->retried, 1);
		j->due = o.next_at;
		schedule(d, j);
	} else {
		if (o.delivery_status != MSG_CANCELED)
			atomic_fetch_add(o.delivery_status == MSG_SUCCESS ? &d->succeeded : &d->failed, 1);
		job_free(j);
	}
	pump(d, dep);
}

/* ---- loop side: admission ---- */

static void arm_pump(struct dep *dep, int64_t at)
{
	int64_t wait = at - clock_now_ms();
	uv_timer_start(&dep->pump, pump_cb, wait > 0 ? (uint64_t)wait : 1, 0);
	dep->pump_armed = true;
}

/* inflight_cap is this node's share of the endpoint's in-flight cap */
static int inflight_cap(struct dispatch *d, const struct dep *dep)
{
	int nodes = atomic_load(&d->nodes);
	return nodes > 1 ? (dep->max_inflight + nodes - 1) / nodes : dep->max_inflight;
}

/*
 * shared_wait reports whether a shared-throttle endpoint must wait for
 * tokens; it asks for a batch (a tenth of a second's worth, at least one)
 * when none are left. The grant's arrival pumps the endpoint again.
 */
static bool shared_wait(struct dispatch *d, struct dep *dep, int64_t now)
{
	int rate = (int)dep->bucket.rate, want;

	if (dep->granted > 0 && now >= dep->grant_until)
		dep->granted = 0;
	if (dep->granted > 0)
		return false;
	if (!dep->asking) {
		want = (rate + 9) / 10;
		if ((size_t)want > dep->nwait)
			want = (int)dep->nwait;
		dep->asking = true;
		d->cfg.want_tokens(d->cfg.tokens_arg, dep->id, rate, want > 0 ? want : 1);
	}
	return true;
}

/* wait_take takes the first job off an endpoint's wait list */
static struct djob *wait_take(struct dispatch *d, struct dep *dep)
{
	struct djob *j = dep->wait_head;

	dep->wait_head = j->next;
	if (!dep->wait_head)
		dep->wait_tail = NULL;
	dep->nwait--;
	atomic_fetch_sub(&d->waiting, 1);
	j->next = NULL;
	return j;
}

static void pump(struct dispatch *d, struct dep *dep)
{
	int64_t now = clock_now_ms();
	bool shared;

	if (dep->gen != atomic_load(&d->gen))
		dep_load(d, dep);
	while (dep->wait_head && !d->stopping) {
		struct djob *j = dep->wait_head;
		int64_t wait;

		if (dep->gone || dep->disabled || !dep->url || !dep->nsecrets) {
			settle_without_attempt(d, wait_take(d, dep),
					       dep->gone ? "endpoint deleted" : "endpoint disabled");
			continue;
		}
		if (dep->inflight >= inflight_cap(d, dep))
			return; /* a completion pumps again */
		shared = d->cfg.want_tokens && dep->bucket.rate;
		if (shared && shared_wait(d, dep, now))
			return; /* a grant pumps again */
		wait = shared ? 0 : bucket_wait_ms(&dep->bucket, now);
		if (wait > 0) {
			arm_pump(dep, now + wait);
			return;
		}
		if (!breaker_allow(&dep->breaker, now)) {
			int64_t at = breaker_retry_at(&dep->breaker);
			arm_pump(dep, at > now ? at : now + 1000);
			return;
		}
		if (shared)
			dep->granted--;
		else
			bucket_take(&dep->bucket, now);
		wait_take(d, dep);
		dep->inflight++;
		atomic_fetch_add(&d->inflight, 1);
		req_start(d, dep, j);
	}
}

static void pump_cb(uv_timer_t *t)
{
	struct dep *dep = t->data;
	dep->pump_armed = false;
	pump(dep->d, dep);
}

/* ready puts a due job at the end of its endpoint's line */
static void ready(struct dispatch *d, struct djob *j)
{
	struct dep *dep = dep_get(d, j->endpoint, j->msg->app);

	if (!dep) {
		log_error("cannot track endpoint '%s': out of memory", j->endpoint);
		job_free(j);
		return;
	}
	j->next = NULL;
	if (dep->wait_tail)
		dep->wait_tail->next = j;
	else
		dep->wait_head = j;
	dep->wait_tail = j;
	dep->nwait++;
	atomic_fetch_add(&d->waiting, 1);
	if (!dep->pump_armed)
		pump(d, dep);
}

static void retry_timer_cb(uv_timer_t *t);

static void arm_retry_timer(struct dispatch *d)
{
	struct djob *top = heap_peek(&d->retries);
	int64_t wait;

	if (!top) {
		uv_timer_stop(&d->retry_timer);
		return;
	}
	wait = top->due - clock_now_ms();
	uv_timer_start(&d->retry_timer, retry_timer_cb, wait > 0 ? (uint64_t)wait : 0, 0);
}

static void schedule(struct dispatch *d, struct djob *j)
{
	if (j->due <= clock_now_ms()) {
		ready(d, j);
		return;
	}
	if (heap_push(&d->retries, j) < 0) {
		log_error("cannot schedule a retry: out of memory");
		job_free(j);
		return;
	}
	atomic_fetch_add(&d->scheduled, 1);
	arm_retry_timer(d);
}

static void retry_timer_cb(uv_timer_t *t)
{
	struct dispatch *d = t->data;
	int64_t now = clock_now_ms();
	struct djob *j;

	while ((j = heap_peek(&d->retries)) && j->due <= now) {
		heap_pop(&d->retries);
		atomic_fetch_sub(&d->scheduled, 1);
		ready(d, j);
	}
	arm_retry_timer(d);
}

/* apply_grant gives an endpoint the tokens the claim loop got for it */
static void apply_grant(struct dispatch *d, struct dgrant *g)
{
	struct dep *dep = map_get(&d->deps, g->endpoint);
	int64_t now = clock_now_ms();

	if (!dep)
		return;
	dep->asking = false;
	dep->granted = g->n;
	dep->grant_until = now + g->valid_ms;
	if (g->n > 0)
		pump(d, dep);
	else
		arm_pump(dep, now + (g->valid_ms > 5 ? g->valid_ms : 5));
}

static void wake_cb(uv_async_t *a)
{
	struct dispatch *d = a->data;
	struct djob *j, *next;
	struct dgrant *g, *gnext;
	size_t n;

	pthread_mutex_lock(&d->mu);
	j = d->in_head;
	n = d->nin;
	d->in_head = d->in_tail = NULL;
	d->nin = 0;
	g = d->grants;
	d->grants = NULL;
	pthread_mutex_unlock(&d->mu);
	for (; g; g = gnext) {
		gnext = g->next;
		if (!d->stopping)
			apply_grant(d, g);
		free(g);
	}
	atomic_fetch_sub(&d->queued, (int_fast64_t)n);
	if (d->stopping) {
		for (; j; j = next) {
			next = j->next;
			job_free(j);
		}
		uv_stop(&d->loop);
		return;
	}
	for (; j; j = next) {
		next = j->next;
		schedule(d, j);
	}
}

/* ---- lifecycle ---- */

static void *loop_main(void *arg)
{
	struct dispatch *d = arg;

	pthread_setname_np(pthread_self(), "hk-deliver");
	uv_run(&d->loop, UV_RUN_DEFAULT);
	return NULL;
}

int dispatch_start(const struct dispatch_config *cfg, struct dispatch **out)
{
	struct dispatch *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return HK_ENOMEM;
	d->cfg = *cfg;
	if (d->cfg.timeout_ms <= 0)
		d->cfg.timeout_ms = 15000;
	if (d->cfg.timeout_ms > 30000)
		d->cfg.timeout_ms = 30000;
	if (d->cfg.max_inflight <= 0)
		d->cfg.max_inflight = 32;
	if (d->cfg.disable_after_ms <= 0)
		d->cfg.disable_after_ms = 5LL * 86400 * 1000;
	if (!d->cfg.response_max)
		d->cfg.response_max = 20 * 1024;
	if (!d->cfg.user_agent)
		d->cfg.user_agent = "hookd";
	snprintf(d->ua_line, sizeof(d->ua_line), "User-Agent: %s", d->cfg.user_agent);
	pthread_mutex_init(&d->mu, NULL);
	heap_init(&d->retries, offsetof(struct djob, due), offsetof(struct djob, heap_pos));
	health_init(&d->health);
	map_init(&d->deps);
	atomic_init(&d->gen, 1);
	atomic_init(&d->nodes, 1);
	uv_loop_init(&d->loop);
	uv_async_init(&d->loop, &d->wake, wake_cb);
	d->wake.data = d;
	uv_timer_init(&d->loop, &d->retry_timer);
	d->retry_timer.data = d;
	rc = req_multi_init(d);
	if (rc == 0)
		rc = transform_cache_new(NULL, 0, &d->xf);
	if (rc == 0 && pthread_create(&d->thread, NULL, loop_main, d) != 0)
		rc = HK_ENOMEM;
	if (rc < 0) {
		req_multi_release(d);
		transform_cache_free(d->xf);
		uv_loop_close(&d->loop);
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void dep_free(void *p)
{
	struct dep *dep = p;
	struct djob *j, *next;
	for (j = dep->wait_head; j; j = next) {
		next = j->next;
		job_free(j);
	}
	dep_unload(dep);
	free(dep);
}

void dispatch_stop(struct dispatch *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_mutex_unlock(&d->mu);
	uv_async_send(&d->wake);
	pthread_join(d->thread, NULL);
	/* abandon requests in flight: their deliveries stay pending in the store */
	req_multi_release(d);
	uv_walk(&d->loop, close_walk, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	uv_loop_close(&d->loop);
	while (heap_len(&d->retries))
		job_free(heap_pop(&d->retries));
	heap_release(&d->retries);
	map_release(&d->deps, dep_free);
	while (d->grants) {
		struct dgrant *g = d->grants;
		d->grants = g->next;
		free(g);
	}
	health_release(&d->health);
	transform_cache_free(d->xf);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
