/*
 * outcome.h - what an attempt's result means for its delivery.
 *
 * Pure: given the HTTP status (0 for no answer), the Retry-After header,
 * the endpoint's options and the attempt number, it decides whether the
 * delivery succeeded, waits for another attempt (and until when), or has
 * failed for good, and whether the endpoint should be disabled.
 */
#ifndef HK_OUTCOME_H
#define HK_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

#include "deliver/retry.h"

struct outcome {
	int attempt_status;   /* MSG_SUCCESS or MSG_FAIL for the attempt itself */
	int delivery_status;  /* MSG_SUCCESS, MSG_PENDING (retry) or MSG_FAIL */
	int64_t next_at;      /* when MSG_PENDING */
	bool disable;         /* 410 Gone */
	bool counts_as_failure; /* for the circuit breaker */
};

/*
 * outcome_decide: code is the HTTP status or 0; attempt is 1-based (the one
 * just made); random_fraction in [0,1) for the jitter.
 */
void outcome_decide(int code, const char *retry_after, bool accept_3xx, int attempt,
		    const struct retry_schedule *s, int64_t now, double random_fraction,
		    struct outcome *out);

#endif
