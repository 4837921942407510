#include "deliver/outcome.h"
#include "store/store.h"
#include "test.h"

static void test_success_and_3xx(void **state)
{
	struct retry_schedule s;
	struct outcome o;
	(void)state;
	retry_schedule_default(&s);
	outcome_decide(204, NULL, false, 1, &s, 1000, 0.5, &o);
	assert_int_equal(o.delivery_status, MSG_SUCCESS);
	assert_false(o.counts_as_failure);
	outcome_decide(302, NULL, false, 1, &s, 1000, 0.5, &o);
	assert_int_equal(o.delivery_status, MSG_PENDING);
	assert_int_equal(o.attempt_status, MSG_FAIL);
	outcome_decide(302, NULL, true, 1, &s, 1000, 0.5, &o);
	assert_int_equal(o.delivery_status, MSG_SUCCESS);
}

static void test_retry_then_exhausted(void **state)
{
	struct retry_schedule s;
	struct outcome o;
	(void)state;
	retry_schedule_parse(&s, "1s,2s", NULL, 0);
	outcome_decide(500, NULL, false, 1, &s, 1000, 0.5, &o);
	assert_int_equal(o.delivery_status, MSG_PENDING);
	assert_in_range(o.next_at, 1000 + 800, 1000 + 1200);
	outcome_decide(0, NULL, false, 2, &s, 1000, 0.5, &o);
	assert_int_equal(o.delivery_status, MSG_PENDING);
	assert_in_range(o.next_at, 1000 + 1600, 1000 + 2400);
	outcome_decide(500, NULL, false, 3, &s, 1000, 0.5, &o);
	assert_int_equal(o.delivery_status, MSG_FAIL);
}

static void test_gone_and_retry_after(void **state)
{
	struct retry_schedule s;
	struct outcome o;
	(void)state;
	retry_schedule_parse(&s, "1s,1s,1s", NULL, 0);
	outcome_decide(410, NULL, false, 1, &s, 0, 0.5, &o);
	assert_true(o.disable);
	assert_int_equal(o.delivery_status, MSG_FAIL);
	outcome_decide(429, "120", false, 1, &s, 0, 0.5, &o);
	assert_int_equal(o.next_at, 120000);
	outcome_decide(503, "99999", false, 1, &s, 0, 0.5, &o);
	assert_int_equal(o.next_at, 3600000);
	outcome_decide(500, "120", false, 1, &s, 0, 0.5, &o);
	assert_true(o.next_at < 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_and_3xx),
		cmocka_unit_test(test_retry_then_exhausted),
		cmocka_unit_test(test_gone_and_retry_after),
	};
	return RUN(tests);
}
