/*
 * breaker_test.c - every transition, one probe at a time, cool-down growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"
#include "deliver/breaker.h"

static const struct breaker_config cfg = {3, 5000, 600000};

/* trip opens a fresh breaker at now with cfg's threshold of failures. */
static void trip(struct breaker *b, int64_t now)
{
	breaker_init(b, "ep_test", &cfg);
	for (int i = 0; i < cfg.failure_threshold; i++) {
		assert_int_equal(breaker_state(b), BREAKER_CLOSED);
		assert_true(breaker_allow(b, now));
		breaker_failure(b, now);
	}
	assert_int_equal(breaker_state(b), BREAKER_OPEN);
}

static void test_defaults(void **state)
{
	struct breaker b;

	breaker_init(&b, "ep_default", NULL);
	assert_string_equal(b.endpoint_id, "ep_default");
	assert_int_equal(b.cfg.failure_threshold, 5);
	for (int i = 0; i < 4; i++) {
		breaker_failure(&b, i);
		assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	}
	breaker_failure(&b, 4);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(breaker_retry_at(&b), 4 + 5000);
	assert_string_equal(breaker_state_name(BREAKER_CLOSED), "closed");
	assert_string_equal(breaker_state_name(BREAKER_OPEN), "open");
	assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
}

static void test_success_resets_streak(void **state)
{
	struct breaker b;

	breaker_init(&b, "ep", &cfg);
	breaker_failure(&b, 0);
	breaker_failure(&b, 1);
	breaker_success(&b, 2);
	breaker_failure(&b, 3);
	breaker_failure(&b, 4);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	assert_int_equal(breaker_retry_at(&b), 0);
	breaker_failure(&b, 5);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
}

static void test_open_half_open_closed(void **state)
{
	struct breaker b;

	trip(&b, 1000);
	assert_false(breaker_allow(&b, 1000));
	assert_false(breaker_allow(&b, 5999));
	assert_int_equal(breaker_retry_at(&b), 6000);
	/* the cool-down is over: exactly one probe goes */
	assert_true(breaker_allow(&b, 6000));
	assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
	for (int i = 0; i < 100; i++)
		assert_false(breaker_allow(&b, 6000 + i * 1000));
	assert_int_equal(breaker_retry_at(&b), 6000 + 5000);
	breaker_success(&b, 7000);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	assert_true(breaker_allow(&b, 7000));
	assert_true(breaker_allow(&b, 7000));
	assert_int_equal(breaker_failing_for(&b, 8000), 0);
}

static void test_probe_failure_reopens(void **state)
{
	struct breaker b;

	trip(&b, 0);
	assert_true(breaker_allow(&b, 5000));
	breaker_failure(&b, 5100);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(breaker_retry_at(&b), 5100 + 10000);
	assert_false(breaker_allow(&b, 15099));
	assert_true(breaker_allow(&b, 15100));
	assert_false(breaker_allow(&b, 15100));
}

static void test_release_probe(void **state)
{
	struct breaker b;

	trip(&b, 0);
	assert_true(breaker_allow(&b, 5000));
	assert_false(breaker_allow(&b, 5000));
	breaker_release(&b);
	assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
	assert_int_equal(breaker_retry_at(&b), 0);
	assert_true(breaker_allow(&b, 5001));
	assert_false(breaker_allow(&b, 5001));
}

static void test_backoff_growth_and_cap(void **state)
{
	struct breaker b;
	int64_t now = 0, expect = 5000;

	trip(&b, now);
	for (int i = 0; i < 20; i++) {
		now = breaker_retry_at(&b);
		assert_true(breaker_allow(&b, now));
		breaker_failure(&b, now);
		expect = expect * 2 > 600000 ? 600000 : expect * 2;
		assert_int_equal(breaker_retry_at(&b) - now, expect);
	}
	assert_int_equal(b.cooldown_ms, 600000);
	/* success resets the cool-down for the next trip */
	now = breaker_retry_at(&b);
	assert_true(breaker_allow(&b, now));
	breaker_success(&b, now);
	for (int i = 0; i < 3; i++)
		breaker_failure(&b, now);
	assert_int_equal(breaker_retry_at(&b) - now, 5000);
}

static void test_stale_results_while_open(void **state)
{
	struct breaker b;

	trip(&b, 0);
	/* failures of requests sent before the trip do not extend the cool-down */
	breaker_failure(&b, 10);
	breaker_failure(&b, 20);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(breaker_retry_at(&b), 5000);
	/* a success of one of them proves the endpoint answers */
	breaker_success(&b, 30);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	assert_true(breaker_allow(&b, 30));
}

static void test_failing_for(void **state)
{
	struct breaker b;
	int64_t day = 86400000;

	breaker_init(&b, "ep", &cfg);
	assert_int_equal(breaker_failing_for(&b, 100), 0);
	breaker_failure(&b, 100);
	assert_int_equal(breaker_failing_for(&b, 100), 0);
	assert_int_equal(breaker_failing_for(&b, 600), 500);
	/* the streak keeps its start through trips and failed probes */
	for (int64_t t = 1000; t < 6 * day; t += 3600000) {
		if (breaker_allow(&b, t))
			breaker_failure(&b, t);
	}
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_true(breaker_failing_for(&b, 6 * day) > 5 * day);
	assert_int_equal(breaker_failing_for(&b, 6 * day), 6 * day - 100);
	/* one success ends it; the next failure starts a new streak */
	int64_t t = breaker_retry_at(&b);
	assert_true(breaker_allow(&b, t));
	breaker_success(&b, t);
	assert_int_equal(breaker_failing_for(&b, t + 1), 0);
	breaker_failure(&b, t + 10);
	assert_int_equal(breaker_failing_for(&b, t + 60), 50);
}

static void test_config_corrected(void **state)
{
	struct breaker b;
	struct breaker_config bad = {0, -5, -10};
	char long_id[200];

	memset(long_id, 'x', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = '\0';
	breaker_init(&b, long_id, &bad);
	assert_int_equal(b.cfg.failure_threshold, 1);
	assert_true(b.cfg.cooldown_min_ms >= 1);
	assert_true(b.cfg.cooldown_max_ms >= b.cfg.cooldown_min_ms);
	assert_int_equal(strlen(b.endpoint_id), ID_MAX - 1);
	breaker_failure(&b, 0);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	breaker_init(&b, NULL, NULL);
	assert_string_equal(b.endpoint_id, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_success_resets_streak),
	    cmocka_unit_test(test_open_half_open_closed),
	    cmocka_unit_test(test_probe_failure_reopens),
	    cmocka_unit_test(test_release_probe),
	    cmocka_unit_test(test_backoff_growth_and_cap),
	    cmocka_unit_test(test_stale_results_while_open),
	    cmocka_unit_test(test_failing_for),
	    cmocka_unit_test(test_config_corrected),
	};
	log_init(LOG_TEXT, LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
