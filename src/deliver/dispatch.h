/*
 * dispatch.h - the delivery engine: one event-loop thread (libuv) driving
 * libcurl's multi interface, with per-endpoint limits and retry timers.
 *
 * Work arrives in memory: after a publish commits, the store writer hands
 * the new deliveries to dispatch_publish(); resends, recovery after a
 * restart and re-queued failures come through dispatch_requeue(). The
 * database is read only for recovery and for an endpoint's configuration
 * when it changes. Results are written back through the store writer as
 * SOP_ATTEMPT operations (batched by its group commit).
 *
 * A delivery (job) moves through:
 *
 *   queued --> waiting on its endpoint --(admitted)--> in flight --> settled
 *      ^            |  (in-flight cap, throttle,            |
 *      |            |   open circuit: waits, no attempt)    |
 *      +-- retry timer (heap) <------(failed, attempts left)+
 *
 * Every function here may be called from any thread unless it says so.
 */
#ifndef HK_DISPATCH_H
#define HK_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"
#include "deliver/addr.h"
#include "deliver/breaker.h"
#include "deliver/retry.h"
#include "store/store.h"

struct dispatch;

struct dispatch_config {
	struct store *store;
	struct retry_schedule schedule;
	struct addr_policy policy;
	int64_t timeout_ms;       /* per request; default 15000, at most 30000 */
	int max_inflight;         /* per endpoint unless the endpoint says; default 32 */
	int64_t disable_after_ms; /* failing continuously this long disables an endpoint; default 5 days */
	size_t response_max;      /* bytes of a response body kept; default 20 KiB */
	const char *user_agent;   /* "hookd/<version>" */
	struct breaker_config breaker; /* zeros: the breaker's defaults */
	/* called (on the loop thread) after the dispatcher changes an endpoint document */
	void (*endpoint_changed)(void *arg);
	void *arg;
	/*
	 * Limits shared by several nodes (PostgreSQL). When want_tokens is set,
	 * an endpoint with a throttleRate sends only with tokens granted through
	 * dispatch_grant instead of from its own bucket; want_tokens is called
	 * on the loop thread, must not block, and asks for `want` tokens once
	 * until the grant arrives. NULL: each node's own bucket (one node).
	 */
	void (*want_tokens)(void *arg, const char *endpoint, int rate, int want);
	void *tokens_arg;
};

int dispatch_start(const struct dispatch_config *cfg, struct dispatch **out);
/* dispatch_stop ends the loop; requests in flight are abandoned and stay pending in the store */
void dispatch_stop(struct dispatch *d);

/*
 * dispatch_publish hands a committed message's deliveries to the loop, due
 * at `due` (ms; 0: at once). It copies what it needs; headers (JSON object
 * text or NULL) are extra request headers for every delivery. Called by the
 * store writer after the commit.
 */
int dispatch_publish(struct dispatch *d, const char *msg_id, const char *app,
		     const char *event_type, const char *payload, size_t len, const char *headers,
		     const char (*endpoints)[ID_MAX], size_t n, int64_t due);

/*
 * dispatch_requeue queues one stored delivery (recovery, resend, recover),
 * reading its payload from the store on the calling thread. due is when
 * it should be attempted; trigger is 0 scheduled or 1 manual.
 */
int dispatch_requeue(struct dispatch *d, const char *msg_id, const char *app, const char *endpoint,
		     int attempts, int64_t due, int trigger);

/*
 * dispatch_queue_due queues a claimed delivery as scheduled, at due->next_at;
 * it reads the message from the store only when the claim did not join it.
 */
int dispatch_queue_due(struct dispatch *d, const struct store_due *due);

/*
 * dispatch_grant hands an endpoint n tokens good for valid_ms; with n = 0 the
 * endpoint asks again after valid_ms (its share of this second is spent).
 */
void dispatch_grant(struct dispatch *d, const char *endpoint, int n, int64_t valid_ms);

/* dispatch_set_nodes shares each endpoint's in-flight cap among this many live nodes */
void dispatch_set_nodes(struct dispatch *d, int nodes);

/* dispatch_config_changed tells the loop to re-read endpoint documents on next use */
void dispatch_config_changed(struct dispatch *d);

struct dispatch_stats {
	uint64_t attempts, succeeded, failed, retried;
	int64_t inflight;
	int64_t queued;    /* due now: handed in and not yet sent (incoming and endpoints' wait lists) */
	int64_t scheduled; /* waiting for a later time (retries) */
	int64_t circuit_closed, circuit_open, circuit_half_open, disabled;
};
void dispatch_get_stats(struct dispatch *d, struct dispatch_stats *out);

/* dispatch_health is the endpoint health this node has seen (see health.h) */
struct health *dispatch_health(struct dispatch *d);

#endif
