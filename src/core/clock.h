/*
 * clock.h - wall and monotonic time, RFC 3339 formatting and parsing.
 *
 * Times in hookd are int64 milliseconds since the Unix epoch (UTC). The API
 * prints them as RFC 3339 with milliseconds and a Z ("2026-11-28T21:14:55.123Z").
 */
#ifndef HK_CLOCK_H
#define HK_CLOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

int64_t clock_now_ms(void);
/* clock_mono_us is a monotonic clock for durations, in microseconds. */
int64_t clock_mono_us(void);

/* clock_format_ms writes RFC 3339 UTC into out (at least 32 bytes). */
void clock_format_ms(int64_t ms, char *out, size_t cap);

/*
 * clock_parse accepts RFC 3339 / ISO 8601 date-times ("2026-01-02T03:04:05Z",
 * fractions, "+01:00" offsets, a date alone) and stores epoch milliseconds.
 * Returns 0 or HK_EPARSE.
 */
int clock_parse(const char *s, int64_t *ms);

/*
 * Timed waits on the monotonic clock (a wall-clock step cannot stretch them):
 * clock_cond_init makes a condition variable whose pthread_cond_timedwait
 * takes clock_deadline(ms), the monotonic time ms milliseconds from now.
 */
void clock_cond_init(pthread_cond_t *cv);
struct timespec clock_deadline(int64_t ms);

/* clock_days_from_civil counts days from 1970-01-01 to a proleptic Gregorian date. */
int64_t clock_days_from_civil(int y, int m, int d);

#endif
