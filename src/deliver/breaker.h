/*
 * breaker.h - an endpoint's circuit breaker: stop hammering what is down.
 *
 *              failure_threshold consecutive failures
 *     CLOSED ─────────────────────────────────────────► OPEN
 *       ▲                                               │  ▲
 *       │ probe succeeds                     cool-down   │  │ probe fails
 *       │ (any success)                      elapsed,    │  │ (cool-down doubles,
 *       │                                    allow()     ▼  │  up to cooldown_max_ms)
 *       └──────────────────────────────────────────── HALF_OPEN
 *                                          one probe request at a time
 *
 * Invariants:
 *   - The state changes only in breaker.c's set_state(), which logs the
 *     transition with the endpoint id.
 *   - OPEN lasts `cooldown_ms`: cooldown_min_ms on the first trip, doubled on
 *     each failed probe, never above cooldown_max_ms; a success resets it.
 *   - In HALF_OPEN at most one request (the probe) is outstanding.
 *   - Every request that breaker_allow() let through must be reported once:
 *     breaker_success(), breaker_failure(), or breaker_release() if it was
 *     never sent. Results of requests that were already in flight when the
 *     circuit opened count too: a success closes it, a failure in OPEN only
 *     extends the failing streak.
 *   - Pure: no clock, no I/O, no locks; now_ms is passed in, and the breaker
 *     belongs to the thread that owns its endpoint.
 *
 *     struct breaker br;
 *     breaker_init(&br, "ep_2Q9...", NULL);          // defaults
 *     if (!breaker_allow(&br, now)) hold_until(breaker_retry_at(&br));
 *     ... breaker_success(&br, now) / breaker_failure(&br, now);
 *     if (breaker_failing_for(&br, now) > disable_after_ms) disable_endpoint();
 */
#ifndef HK_DELIVER_BREAKER_H
#define HK_DELIVER_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"

enum breaker_state {
	BREAKER_CLOSED,    /* requests flow */
	BREAKER_OPEN,      /* requests held back until open_until_ms */
	BREAKER_HALF_OPEN, /* one probe at a time decides */
};

struct breaker_config {
	int failure_threshold;   /* consecutive failures that open the circuit, >= 1 */
	int64_t cooldown_min_ms; /* first cool-down */
	int64_t cooldown_max_ms; /* cool-down cap */
};

#define BREAKER_DEFAULT_THRESHOLD 5
#define BREAKER_DEFAULT_COOLDOWN_MIN_MS ((int64_t)5000)
#define BREAKER_DEFAULT_COOLDOWN_MAX_MS ((int64_t)600000)

struct breaker {
	enum breaker_state state;
	struct breaker_config cfg;
	char endpoint_id[ID_MAX]; /* subject of log lines, NUL-terminated, may be truncated */
	int failures;             /* consecutive failures in the current streak */
	int64_t cooldown_ms;      /* length of the current or next OPEN period */
	int64_t open_until_ms;    /* OPEN: when a probe may go */
	bool probing;             /* HALF_OPEN: the probe is outstanding */
	int64_t probe_started_ms;
	bool failing;             /* a failure streak is under way */
	int64_t failing_since_ms; /* first failure of the current streak */
};

/*
 * breaker_init starts CLOSED. cfg NULL means the defaults; out-of-range
 * values are corrected (threshold at least 1, min at least 1 ms, max >= min).
 * endpoint_id is copied.
 */
void breaker_init(struct breaker *b, const char *endpoint_id, const struct breaker_config *cfg);

/*
 * breaker_allow reports whether a request may start now. In OPEN, once the
 * cool-down has elapsed, it moves to HALF_OPEN and lets this one request go
 * as the probe; in HALF_OPEN it refuses while the probe is outstanding.
 */
bool breaker_allow(struct breaker *b, int64_t now_ms);

/* breaker_success records a 2xx (or otherwise accepted) answer: CLOSED, streak over. */
void breaker_success(struct breaker *b, int64_t now_ms);

/* breaker_failure records a failed attempt (network error, timeout, 5xx, ...). */
void breaker_failure(struct breaker *b, int64_t now_ms);

/* breaker_release gives back a request allow() let through but that was never sent. */
void breaker_release(struct breaker *b);

/*
 * breaker_retry_at is when a delivery that allow() held back should ask
 * again; a time at or before now means now. OPEN: the end of the cool-down;
 * HALF_OPEN with the probe out: probe start + cooldown_min_ms (the probe's
 * result normally arrives first and should wake held-back deliveries);
 * otherwise 0.
 */
int64_t breaker_retry_at(const struct breaker *b);

/* breaker_failing_for is how long the current failure streak has lasted (0 if none). */
int64_t breaker_failing_for(const struct breaker *b, int64_t now_ms);

static inline enum breaker_state breaker_state(const struct breaker *b)
{
	return b->state;
}

/* breaker_state_name: "closed", "open", "half-open". */
const char *breaker_state_name(enum breaker_state s);

#endif
