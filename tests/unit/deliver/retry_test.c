/*
 * retry_test.c - schedules, jitter bounds and Retry-After forms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "deliver/retry.h"

/* 1994-11-06T08:49:37Z, the date RFC 9110 uses in its examples */
#define RFC_DATE_MS ((int64_t)784111777 * 1000)

static void test_default_schedule(void **state)
{
	struct retry_schedule s;

	retry_schedule_default(&s);
	assert_int_equal(s.n, 7);
	assert_int_equal(retry_attempts(&s), 8);
	assert_int_equal(s.delay_ms[0], 5000);
	assert_int_equal(s.delay_ms[1], 5 * 60000);
	assert_int_equal(s.delay_ms[2], 30 * 60000);
	assert_int_equal(s.delay_ms[3], 2 * 3600000);
	assert_int_equal(s.delay_ms[6], 10 * 3600000);
}

static void test_units_and_blanks(void **state)
{
	struct retry_schedule s;
	char why[128];

	assert_int_equal(retry_schedule_parse(&s, " 250ms , 3 ,2s,\t4 m,1h ,2d", why, sizeof why),
	                 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.delay_ms[0], 250);
	assert_int_equal(s.delay_ms[1], 3000);
	assert_int_equal(s.delay_ms[2], 2000);
	assert_int_equal(s.delay_ms[3], 240000);
	assert_int_equal(s.delay_ms[4], 3600000);
	assert_int_equal(s.delay_ms[5], 2 * 86400000LL);
	assert_int_equal(retry_schedule_parse(&s, "0", why, sizeof why), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.delay_ms[0], 0);
}

static void test_schedule_rejects(void **state)
{
	static const char *bad[] = {
	    "",
	    " ",
	    "5s,",
	    ",5s",
	    "5s,,5m",
	    "-5s",
	    "5x",
	    "5 sec",
	    "s",
	    "1.5s",
	    "+5",
	    "5s 5m",
	    "0x10",
	    "366d",
	    "99999999999999999999999999",
	    "9223372036854775807ms,1s",
	};
	struct retry_schedule s;
	char why[128];

	retry_schedule_default(&s);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		assert_int_equal(retry_schedule_parse(&s, bad[i], why, sizeof why), HK_EINVAL);
		assert_true(strlen(why) > 0);
	}
	assert_int_equal(retry_schedule_parse(&s, NULL, NULL, 0), HK_EINVAL);
	assert_int_equal(s.n, 7); /* untouched */
	assert_int_equal(retry_schedule_parse(&s, "-1", why, sizeof why), HK_EINVAL);
	assert_non_null(strstr(why, "negative"));
}

static void test_schedule_length_limit(void **state)
{
	struct retry_schedule s;
	char spec[256] = "", why[128];

	for (int i = 0; i < RETRY_MAX_ENTRIES; i++)
		strncat(spec, i ? ",1" : "1", sizeof spec - strlen(spec) - 1);
	assert_int_equal(retry_schedule_parse(&s, spec, why, sizeof why), 0);
	assert_int_equal(retry_attempts(&s), RETRY_MAX_ENTRIES + 1);
	strncat(spec, ",1", sizeof spec - strlen(spec) - 1);
	assert_int_equal(retry_schedule_parse(&s, spec, why, sizeof why), HK_EINVAL);
	assert_non_null(strstr(why, "more than"));
}

static void test_next_delay_pure(void **state)
{
	struct retry_schedule s;

	retry_schedule_default(&s);
	assert_int_equal(retry_next_delay(&s, 1, 0.5), 5000);
	assert_int_equal(retry_next_delay(&s, 1, 0.0), 4000);
	assert_true(retry_next_delay(&s, 1, 0.9999999) <= 6000);
	assert_true(retry_next_delay(&s, 1, 0.9999999) >= 5999);
	assert_int_equal(retry_next_delay(&s, 2, 0.5), 300000);
	assert_int_equal(retry_next_delay(&s, 7, 0.5), 36000000);
	assert_int_equal(retry_next_delay(&s, 8, 0.5), RETRY_EXHAUSTED);
	assert_int_equal(retry_next_delay(&s, 0, 0.5), RETRY_EXHAUSTED);
	assert_int_equal(retry_next_delay(&s, -3, 0.5), RETRY_EXHAUSTED);
	/* out-of-range fractions are clamped */
	assert_int_equal(retry_next_delay(&s, 1, -1.0), 4000);
	assert_true(retry_next_delay(&s, 1, 7.0) <= 6000);
}

static void test_jitter_bounds(void **state)
{
	struct retry_schedule s;

	retry_schedule_default(&s);
	for (int i = 0; i < 10000; i++) {
		int attempt = 1 + i % s.n;
		int64_t base = s.delay_ms[attempt - 1];
		int64_t d = retry_next_delay_rand(&s, attempt);
		assert_true(d >= 0);
		assert_true(d >= base * 8 / 10);
		assert_true(d <= base * 12 / 10);
	}
}

static void test_retry_after_seconds(void **state)
{
	int64_t d = -1;

	assert_int_equal(retry_after_parse("120", 0, &d), 0);
	assert_int_equal(d, 120000);
	assert_int_equal(retry_after_parse("  0 ", 0, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(retry_after_parse("3600", 0, &d), 0);
	assert_int_equal(d, RETRY_AFTER_MAX_MS);
	assert_int_equal(retry_after_parse("86400", 0, &d), 0);
	assert_int_equal(d, RETRY_AFTER_MAX_MS);
	assert_int_equal(retry_after_parse("999999999999999999999999999999", 0, &d), 0);
	assert_int_equal(d, RETRY_AFTER_MAX_MS);
}

static void test_retry_after_dates(void **state)
{
	int64_t d = -1;

	assert_int_equal(
	    retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_MS - 30000, &d), 0);
	assert_int_equal(d, 30000);
	assert_int_equal(
	    retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", RFC_DATE_MS - 45000, &d), 0);
	assert_int_equal(d, 45000);
	assert_int_equal(retry_after_parse("Sun Nov  6 08:49:37 1994", RFC_DATE_MS - 1000, &d), 0);
	assert_int_equal(d, 1000);
	/* a date in the past means now; one far ahead is capped */
	assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_MS + 5, &d),
	                 0);
	assert_int_equal(d, 0);
	assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 0, &d), 0);
	assert_int_equal(d, RETRY_AFTER_MAX_MS);
	/* asctime with a two-digit day, and a leap day */
	assert_int_equal(retry_after_parse("Thu Feb 29 00:00:00 2024", 1709164800000 - 10, &d), 0);
	assert_int_equal(d, 10);
	assert_int_equal(retry_after_parse("Thu, 29 Feb 2024 00:00:00 GMT", 1709164800000, &d), 0);
	assert_int_equal(d, 0);
}

static void test_retry_after_rfc850_century(void **state)
{
	int64_t d = -1;
	int64_t now = 1767225600000; /* 2026-01-01T00:00:00Z */

	/* "30" is 2030, within 50 years ahead: capped at an hour */
	assert_int_equal(retry_after_parse("Monday, 01-Jan-30 00:00:00 GMT", now, &d), 0);
	assert_int_equal(d, RETRY_AFTER_MAX_MS);
	/* "94" would be 2094, more than 50 years ahead, so 1994: in the past */
	assert_int_equal(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", now, &d), 0);
	assert_int_equal(d, 0);
}

static void test_retry_after_junk(void **state)
{
	static const char *junk[] = {
	    "",
	    "   ",
	    "-5",
	    "+5",
	    "1.5",
	    "5s",
	    "0x10",
	    "soon",
	    "Sun, 06 Nov 1994 08:49:37",
	    "Sun, 06 Nov 1994 08:49:37 UTC",
	    "sun, 06 nov 1994 08:49:37 GMT",
	    "Sun, 6 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nov 94 08:49:37 GMT",
	    "Sun, 31 Nov 1994 08:49:37 GMT",
	    "Sun, 29 Feb 2023 08:49:37 GMT",
	    "Sun, 06 Nov 1994 24:49:37 GMT",
	    "Sun, 06 Nov 1994 08:60:37 GMT",
	    "Sun, 06 Foo 1994 08:49:37 GMT",
	    "Sunday, 06-Nov-1994 08:49:37 GMT",
	    "Sun Nov 6 08:49:37 1994",
	    "Sun Nov  6 08:49:37 1994 GMT",
	    "Sun, 06 Nov 1994 08:49:37 GMT trailing",
	    "12 34",
	    "Sun, 06 Nov 1994 08:49:37 GMT                                                   ",
	};
	int64_t d = 777;

	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		assert_int_equal(retry_after_parse(junk[i], 0, &d), HK_EPARSE);
	assert_int_equal(retry_after_parse(NULL, 0, &d), HK_EPARSE);
	assert_int_equal(retry_after_parse("Sun, 06 Nov 0000 08:49:37 GMT", 0, &d), HK_EPARSE);
	/* a two-digit year next to an absurd clock must not overflow */
	assert_int_equal(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", INT64_MAX, &d),
	                 HK_EPARSE);
	assert_int_equal(d, 777);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_schedule),
	    cmocka_unit_test(test_units_and_blanks),
	    cmocka_unit_test(test_schedule_rejects),
	    cmocka_unit_test(test_schedule_length_limit),
	    cmocka_unit_test(test_next_delay_pure),
	    cmocka_unit_test(test_jitter_bounds),
	    cmocka_unit_test(test_retry_after_seconds),
	    cmocka_unit_test(test_retry_after_dates),
	    cmocka_unit_test(test_retry_after_rfc850_century),
	    cmocka_unit_test(test_retry_after_junk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
