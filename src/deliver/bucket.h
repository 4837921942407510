/*
 * bucket.h - a token bucket enforcing an endpoint's throttleRate.
 *
 * The rate is in messages per second; the bucket holds at most one second's
 * worth of tokens (burst = rate) and starts full. A rate of 0 means unlimited.
 *
 * Invariants:
 *   - Tokens are counted in milli-tokens with integer arithmetic: a rate of r
 *     per second adds exactly r milli-tokens per millisecond, so there is no
 *     rounding drift however long the bucket lives.
 *   - 0 <= milli <= rate * 1000 at all times; a long idle gap refills to the
 *     burst and no further (no overflow).
 *   - Time is passed in (int64 ms) and never goes backwards for the bucket: an
 *     earlier now_ms than the last one seen adds nothing.
 *   - No locks: a bucket belongs to the thread that owns its endpoint.
 *
 *     struct bucket b;
 *     bucket_init(&b, 50, now);
 *     if (!bucket_take(&b, now))
 *             timer_in(bucket_wait_ms(&b, now));
 */
#ifndef HK_DELIVER_BUCKET_H
#define HK_DELIVER_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

#define BUCKET_MAX_RATE 1000000u /* messages per second; higher rates are clamped */

struct bucket {
	uint32_t rate;   /* tokens per second, 0 = unlimited */
	int64_t milli;   /* milli-tokens available, 0..rate*1000 */
	int64_t last_ms; /* when milli was last brought up to date */
};

/* bucket_init starts a full bucket for rate_per_sec (0 = unlimited). */
void bucket_init(struct bucket *b, uint32_t rate_per_sec, int64_t now_ms);

/*
 * bucket_set_rate changes the rate, keeping the tokens earned so far (cut to
 * the new burst). Leaving "unlimited" starts with a full bucket.
 */
void bucket_set_rate(struct bucket *b, uint32_t rate_per_sec, int64_t now_ms);

/* bucket_take spends one token and returns true, or returns false if none is left. */
bool bucket_take(struct bucket *b, int64_t now_ms);

/* bucket_wait_ms is how long until bucket_take can succeed (0 = now). */
int64_t bucket_wait_ms(struct bucket *b, int64_t now_ms);

#endif
