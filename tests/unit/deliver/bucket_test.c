/*
 * bucket_test.c - admission counts over simulated time, rate changes, gaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deliver/bucket.h"

/* admit_over takes as often as allowed, every step_ms, for duration_ms. */
static int admit_over(struct bucket *b, int64_t start, int64_t duration_ms, int64_t step_ms)
{
	int n = 0;
	for (int64_t t = start; t < start + duration_ms; t += step_ms)
		while (bucket_take(b, t))
			n++;
	return n;
}

static void test_rate_over_ten_seconds(void **state)
{
	struct bucket b;
	int64_t steps[] = {1, 3, 7, 20, 333};

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		bucket_init(&b, 50, 1000);
		int n = admit_over(&b, 1000, 10000, steps[i]);
		assert_true(n <= 50 * 10 + 50);
		assert_true(n >= 50 * 10 - (int)(50 * steps[i] / 1000) - 1);
	}
	/* stepping by 1 ms must reach the full 10 s worth */
	bucket_init(&b, 50, 0);
	int n = admit_over(&b, 0, 10001, 1);
	assert_true(n >= 500);
	assert_true(n <= 550);
}

static void test_burst_then_steady(void **state)
{
	struct bucket b;

	bucket_init(&b, 10, 0);
	for (int i = 0; i < 10; i++)
		assert_true(bucket_take(&b, 0));
	assert_false(bucket_take(&b, 0));
	assert_int_equal(bucket_wait_ms(&b, 0), 100);
	assert_int_equal(bucket_wait_ms(&b, 40), 60);
	assert_false(bucket_take(&b, 99));
	assert_true(bucket_take(&b, 100));
	assert_false(bucket_take(&b, 100));
	/* odd rates round the wait up, never down */
	bucket_init(&b, 3, 0);
	for (int i = 0; i < 3; i++)
		assert_true(bucket_take(&b, 0));
	assert_int_equal(bucket_wait_ms(&b, 0), 334);
	assert_false(bucket_take(&b, 333));
	assert_true(bucket_take(&b, 334));
}

static void test_unlimited(void **state)
{
	struct bucket b;

	bucket_init(&b, 0, 0);
	for (int i = 0; i < 100000; i++)
		assert_true(bucket_take(&b, 0));
	assert_int_equal(bucket_wait_ms(&b, 0), 0);
}

static void test_change_rate(void **state)
{
	struct bucket b;

	bucket_init(&b, 100, 0);
	for (int i = 0; i < 100; i++)
		assert_true(bucket_take(&b, 0));
	/* slow down: the new rate applies from now */
	bucket_set_rate(&b, 2, 0);
	assert_false(bucket_take(&b, 0));
	assert_int_equal(bucket_wait_ms(&b, 0), 500);
	assert_true(bucket_take(&b, 500));
	/* a full bucket shrinks to the new, smaller burst */
	bucket_init(&b, 100, 0);
	bucket_set_rate(&b, 5, 0);
	assert_int_equal(admit_over(&b, 0, 1, 1), 5);
	/* speeding up keeps what was earned and refills faster */
	bucket_set_rate(&b, 1000, 0);
	assert_int_equal(bucket_wait_ms(&b, 0), 1);
	assert_int_equal(admit_over(&b, 0, 1000, 1), 999);
	/* limited to unlimited and back: starts full */
	bucket_set_rate(&b, 0, 2000);
	assert_true(bucket_take(&b, 2000));
	bucket_set_rate(&b, 4, 2000);
	assert_int_equal(admit_over(&b, 2000, 1, 1), 4);
}

static void test_large_gaps(void **state)
{
	struct bucket b;

	bucket_init(&b, 50, 0);
	assert_int_equal(admit_over(&b, 0, 1, 1), 50);
	/* a year idle still gives one second's worth */
	int64_t later = (int64_t)365 * 86400 * 1000;
	assert_int_equal(admit_over(&b, later, 1, 1), 50);
	/* and the largest rate over the largest gap does not overflow */
	bucket_init(&b, UINT32_MAX, 0);
	assert_int_equal(b.rate, BUCKET_MAX_RATE);
	assert_true(bucket_take(&b, INT64_MAX / 2));
	assert_true(b.milli <= (int64_t)BUCKET_MAX_RATE * 1000);
	/* time going backwards earns nothing */
	bucket_init(&b, 1, 10000);
	assert_true(bucket_take(&b, 10000));
	assert_false(bucket_take(&b, 0));
	assert_false(bucket_take(&b, 10999));
	assert_true(bucket_take(&b, 11000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rate_over_ten_seconds),
	    cmocka_unit_test(test_burst_then_steady),
	    cmocka_unit_test(test_unlimited),
	    cmocka_unit_test(test_change_rate),
	    cmocka_unit_test(test_large_gaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
