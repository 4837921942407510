/* The clock: RFC 3339 formatting and parsing, monotonic deadlines. */
#include <errno.h>

#include "core/clock.h"
#include "core/err.h"
#include "test.h"

static void test_format(void **state)
{
	char out[40];
	(void)state;
	clock_format_ms(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	clock_format_ms(1614265330123LL, out, sizeof(out));
	assert_string_equal(out, "2021-02-25T15:02:10.123Z");
}

static void test_parse(void **state)
{
	int64_t ms;
	(void)state;
	assert_int_equal(clock_parse("2021-02-25T15:02:10.123Z", &ms), 0);
	assert_int_equal(ms, 1614265330123LL);
	assert_int_equal(clock_parse("2021-02-25T16:02:10+01:00", &ms), 0);
	assert_int_equal(ms, 1614265330000LL);
	assert_int_equal(clock_parse("2021-02-25", &ms), 0);
	assert_int_equal(ms, 1614211200000LL);
	assert_int_equal(clock_parse("2021-02-25T15:02:10.5Z", &ms), 0);
	assert_int_equal(ms % 1000, 500);
}

static void test_parse_rejects(void **state)
{
	int64_t ms;
	const char *bad[] = {"", "2021", "2021-13-01", "2021-02-25T25:00:00Z", "2021-02-25T15:02:10Zjunk",
			     "yesterday", "2021-02-25T15:02:10.Z"};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(clock_parse(bad[i], &ms), HK_EPARSE);
}

/* deadlines are monotonic, normalised, and a timed wait on clock_cond_init's kind ends at them */
static void test_deadline(void **state)
{
	struct timespec now, d = clock_deadline(1500);
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;
	int64_t t0;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &now);
	assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	int64_t ahead = (int64_t)(d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
	assert_true(ahead > 1400 && ahead <= 1500);
	clock_cond_init(&cv);
	t0 = clock_mono_us();
	d = clock_deadline(20);
	pthread_mutex_lock(&mu);
	assert_int_equal(pthread_cond_timedwait(&cv, &mu, &d), ETIMEDOUT);
	pthread_mutex_unlock(&mu);
	assert_true(clock_mono_us() - t0 >= 19000);
	pthread_cond_destroy(&cv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_deadline),
	};
	return RUN(tests);
}
