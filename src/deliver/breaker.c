/*
 * breaker.c - the circuit breaker state machine (diagram in breaker.h).
 *
 * Transitions, and which function makes them:
 *     CLOSED    -> OPEN       breaker_failure(), the threshold-th failure in a row
 *     OPEN      -> HALF_OPEN  breaker_allow(), once open_until_ms has passed
 *     HALF_OPEN -> CLOSED     breaker_success()
 *     HALF_OPEN -> OPEN       breaker_failure(), cool-down doubled (capped)
 *     OPEN      -> CLOSED     breaker_success() of a request sent before the trip
 * The breaker only decides; the dispatcher holds deliveries back and wakes
 * them at breaker_retry_at().
 */
#include <stdio.h>

#include "core/log.h"
#include "deliver/breaker.h"

const char *breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_OPEN:
		return "open";
	case BREAKER_HALF_OPEN:
		return "half-open";
	}
	return "unknown";
}

/* set_state is the only place the state changes. */
static void set_state(struct breaker *b, enum breaker_state to, int64_t now_ms)
{
	enum breaker_state from = b->state;

	if (from == to)
		return;
	b->state = to;
	b->probing = false;
	if (to == BREAKER_OPEN) {
		b->open_until_ms = now_ms + b->cooldown_ms;
		log_info("circuit of endpoint '%s' %s -> %s after %d failures, retry in %lld ms",
		         b->endpoint_id, breaker_state_name(from), breaker_state_name(to),
		         b->failures, (long long)b->cooldown_ms);
	} else {
		log_info("circuit of endpoint '%s' %s -> %s", b->endpoint_id,
		         breaker_state_name(from), breaker_state_name(to));
	}
}

void breaker_init(struct breaker *b, const char *endpoint_id, const struct breaker_config *cfg)
{
	struct breaker_config c = {BREAKER_DEFAULT_THRESHOLD, BREAKER_DEFAULT_COOLDOWN_MIN_MS,
	                           BREAKER_DEFAULT_COOLDOWN_MAX_MS};

	if (cfg)
		c = *cfg;
	if (c.failure_threshold < 1)
		c.failure_threshold = 1;
	if (c.cooldown_min_ms < 1)
		c.cooldown_min_ms = 1;
	if (c.cooldown_max_ms < c.cooldown_min_ms)
		c.cooldown_max_ms = c.cooldown_min_ms;
	*b = (struct breaker){.state = BREAKER_CLOSED, .cfg = c, .cooldown_ms = c.cooldown_min_ms};
	snprintf(b->endpoint_id, sizeof b->endpoint_id, "%s", endpoint_id ? endpoint_id : "");
}

bool breaker_allow(struct breaker *b, int64_t now_ms)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return true;
	case BREAKER_OPEN:
		if (now_ms < b->open_until_ms)
			return false;
		set_state(b, BREAKER_HALF_OPEN, now_ms);
		break;
	case BREAKER_HALF_OPEN:
		if (b->probing)
			return false;
		break;
	}
	b->probing = true;
	b->probe_started_ms = now_ms;
	return true;
}

void breaker_success(struct breaker *b, int64_t now_ms)
{
	b->failures = 0;
	b->failing = false;
	b->cooldown_ms = b->cfg.cooldown_min_ms;
	set_state(b, BREAKER_CLOSED, now_ms);
}

void breaker_failure(struct breaker *b, int64_t now_ms)
{
	if (!b->failing) {
		b->failing = true;
		b->failing_since_ms = now_ms;
	}
	if (b->failures < b->cfg.failure_threshold)
		b->failures++;
	switch (b->state) {
	case BREAKER_CLOSED:
		if (b->failures >= b->cfg.failure_threshold)
			set_state(b, BREAKER_OPEN, now_ms);
		break;
	case BREAKER_OPEN:
		break; /* a request from before the trip: the streak goes on */
	case BREAKER_HALF_OPEN:
		b->cooldown_ms = b->cooldown_ms > b->cfg.cooldown_max_ms / 2
		                     ? b->cfg.cooldown_max_ms
		                     : b->cooldown_ms * 2;
		set_state(b, BREAKER_OPEN, now_ms);
		break;
	}
}

void breaker_release(struct breaker *b)
{
	if (b->state == BREAKER_HALF_OPEN)
		b->probing = false;
}

int64_t breaker_retry_at(const struct breaker *b)
{
	if (b->state == BREAKER_OPEN)
		return b->open_until_ms;
	if (b->state == BREAKER_HALF_OPEN && b->probing)
		return b->probe_started_ms + b->cfg.cooldown_min_ms;
	return 0;
}

int64_t breaker_failing_for(const struct breaker *b, int64_t now_ms)
{
	if (!b->failing || now_ms <= b->failing_since_ms)
		return 0;
	return now_ms - b->failing_since_ms;
}
