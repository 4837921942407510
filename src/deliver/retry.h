/*
 * retry.h - when to try a failed delivery again.
 *
 * A schedule is the list of waits between attempts, written as on the command
 * line: `--retry-schedule 5s,5m,30m,2h,5h,10h,10h`. Items are a non-negative
 * integer with an optional unit (ms, s, m, h, d; no unit means seconds),
 * separated by commas; blanks around items are ignored. The first attempt is
 * immediate, so a schedule of n waits allows n + 1 attempts.
 *
 * Invariants:
 *   - A parsed schedule holds 1..RETRY_MAX_ENTRIES waits, each within
 *     0..RETRY_MAX_DELAY_MS; a failed parse leaves the schedule untouched.
 *   - Everything here is pure except retry_next_delay_rand(), which draws its
 *     random number from rand_bytes(). Times are int64 milliseconds, passed
 *     in by the caller so tests control them.
 *
 *     struct retry_schedule s;
 *     char why[128];
 *     if (retry_schedule_parse(&s, flag, why, sizeof why) < 0)
 *             log_error("bad retry schedule '%s': %s", flag, why);
 *     int64_t wait = retry_next_delay_rand(&s, attempt); // RETRY_EXHAUSTED: give up
 */
#ifndef HK_DELIVER_RETRY_H
#define HK_DELIVER_RETRY_H

#include <stddef.h>
#include <stdint.h>

#define RETRY_DEFAULT_SCHEDULE "5s,5m,30m,2h,5h,10h,10h"
#define RETRY_MAX_ENTRIES 50
#define RETRY_MAX_SPEC_LEN 1024                      /* longest schedule string accepted */
#define RETRY_MAX_DELAY_MS ((int64_t)365 * 86400000) /* one wait at most a year */
#define RETRY_JITTER_PERCENT 20                      /* each wait is drawn from +-20 % */
#define RETRY_AFTER_MAX_MS ((int64_t)3600 * 1000)    /* Retry-After is capped at an hour */
#define RETRY_AFTER_MAX_LEN 64                       /* longer Retry-After values are junk */
#define RETRY_EXHAUSTED ((int64_t)-1)

struct retry_schedule {
	int64_t delay_ms[RETRY_MAX_ENTRIES]; /* wait after attempt i + 1 failed */
	int n;                               /* waits in use */
};

/*
 * retry_schedule_parse fills s from spec. On failure it returns HK_EINVAL,
 * leaves s as it was and writes a lowercase reason into reason (if not NULL).
 */
int retry_schedule_parse(struct retry_schedule *s, const char *spec, char *reason,
                         size_t reason_cap);

/* retry_schedule_default fills s with RETRY_DEFAULT_SCHEDULE. */
void retry_schedule_default(struct retry_schedule *s);

/* retry_attempts is the number of attempts the schedule allows (waits + 1). */
int retry_attempts(const struct retry_schedule *s);

/*
 * retry_next_delay returns how long to wait after attempt number `attempt`
 * (1 = the first, immediate attempt) failed, with jitter: the scheduled wait
 * times a factor in [0.8, 1.2] chosen by random_fraction in [0, 1) (values
 * outside are clamped). Returns RETRY_EXHAUSTED when that was the last
 * attempt allowed, or when attempt < 1. Never returns another negative value.
 */
int64_t retry_next_delay(const struct retry_schedule *s, int attempt, double random_fraction);

/* retry_next_delay_rand is retry_next_delay with a fresh random fraction. */
int64_t retry_next_delay_rand(const struct retry_schedule *s, int attempt);

/*
 * retry_after_parse reads an HTTP Retry-After value: delta-seconds or an
 * HTTP-date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete
 * RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37
 * 1994" forms). Surrounding blanks are allowed. *delay_ms receives the wait
 * from now_ms, 0 for a date in the past, at most RETRY_AFTER_MAX_MS.
 * Returns 0, or HK_EPARSE (header NULL, too long or malformed; *delay_ms untouched).
 */
int retry_after_parse(const char *header, int64_t now_ms, int64_t *delay_ms);

#endif
