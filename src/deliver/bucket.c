/*
 * bucket.c - token bucket in milli-tokens.
 *
 * A rate of r tokens per second is r milli-tokens per millisecond, so
 * refilling is one multiplication and no division: exact for any rate and any
 * gap. Gaps of a second or more simply fill the bucket, which also keeps the
 * multiplication far from overflowing.
 */
#include "deliver/bucket.h"

#define MILLI 1000

static int64_t burst(const struct bucket *b)
{
	return (int64_t)b->rate * MILLI;
}

/* refill adds what was earned since last_ms, up to the burst. */
static void refill(struct bucket *b, int64_t now_ms)
{
	int64_t gap;

	if (now_ms <= b->last_ms)
		return;
	gap = now_ms - b->last_ms;
	b->last_ms = now_ms;
	if (gap >= MILLI) {
		b->milli = burst(b);
		return;
	}
	b->milli += gap * b->rate;
	if (b->milli > burst(b))
		b->milli = burst(b);
}

static uint32_t clamp_rate(uint32_t rate)
{
	return rate > BUCKET_MAX_RATE ? BUCKET_MAX_RATE : rate;
}

void bucket_init(struct bucket *b, uint32_t rate_per_sec, int64_t now_ms)
{
	b->rate = clamp_rate(rate_per_sec);
	b->milli = burst(b);
	b->last_ms = now_ms;
}

void bucket_set_rate(struct bucket *b, uint32_t rate_per_sec, int64_t now_ms)
{
	if (b->rate == 0) {
		bucket_init(b, rate_per_sec, now_ms);
		return;
	}
	refill(b, now_ms);
	b->rate = clamp_rate(rate_per_sec);
	if (b->milli > burst(b))
		b->milli = burst(b);
}

bool bucket_take(struct bucket *b, int64_t now_ms)
{
	if (b->rate == 0)
		return true;
	refill(b, now_ms);
	if (b->milli < MILLI)
		return false;
	b->milli -= MILLI;
	return true;
}

int64_t bucket_wait_ms(struct bucket *b, int64_t now_ms)
{
	int64_t missing;

	if (b->rate == 0)
		return 0;
	refill(b, now_ms);
	if (b->milli >= MILLI)
		return 0;
	missing = MILLI - b->milli;
	return (missing + b->rate - 1) / b->rate;
}
