#include "deliver/fanout.h"
#include "test.h"

static json_t *ep(const char *spec)
{
	return json_loads(spec, 0, NULL);
}

static void test_match(void **state)
{
	json_t *any = ep("{\"eventTypes\":null,\"channels\":null}");
	json_t *typed = ep("{\"eventTypes\":[\"a.b\",\"c\"],\"channels\":null}");
	json_t *chan = ep("{\"eventTypes\":null,\"channels\":[\"eu\",\"us\"]}");
	json_t *both = ep("{\"eventTypes\":[\"a.b\"],\"channels\":[\"eu\"]}");
	json_t *off = ep("{\"disabled\":true}");
	json_t *eu = json_pack("[s]", "eu"), *asia = json_pack("[s,s]", "asia", "x"), *none = NULL;
	(void)state;
	assert_true(fanout_match(any, "x.y", none));
	assert_true(fanout_match(any, "x.y", asia));
	assert_true(fanout_match(typed, "a.b", none));
	assert_false(fanout_match(typed, "a.c", none));
	assert_true(fanout_match(chan, "x", eu));
	assert_false(fanout_match(chan, "x", asia));
	assert_false(fanout_match(chan, "x", none));
	assert_true(fanout_match(both, "a.b", eu));
	assert_false(fanout_match(both, "a.b", asia));
	assert_false(fanout_match(both, "c", eu));
	assert_false(fanout_match(off, "x", none));
	json_decref(any);
	json_decref(typed);
	json_decref(chan);
	json_decref(both);
	json_decref(off);
	json_decref(eu);
	json_decref(asia);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_match)};
	return RUN(tests);
}
