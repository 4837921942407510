#include <string.h>

#include "core/clock.h"
#include "core/id.h"
#include "test.h"

static void test_shape(void **state)
{
	char id[ID_MAX];
	(void)state;
	id_new("msg_", id);
	assert_int_equal(strlen(id), 4 + ID_KSUID_LEN);
	assert_true(id_is("msg_", id));
	assert_false(id_is("app_", id));
	assert_false(id_is("msg_", "msg_short"));
	assert_false(id_is("msg_", "msg_!!!!!!!!!!!!!!!!!!!!!!!!!!!"));
}

static void test_sorted_in_creation_order(void **state)
{
	char prev[ID_MAX], cur[ID_MAX];
	(void)state;
	id_new("x_", prev);
	for (int i = 0; i < 10000; i++) {
		id_new("x_", cur);
		assert_true(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof(cur));
	}
}

static void test_time_roundtrip(void **state)
{
	char id[ID_MAX];
	int64_t t = 1700000000123LL;
	(void)state;
	id_new_at("app_", t, id);
	assert_int_equal(id_time_ms(id), t);
	assert_true(id_time_ms(id) / 1000 == t / 1000);
	/* the KSUID epoch, a millisecond before a second ends, the last second a KSUID holds */
	static const int64_t times[] = {1400000000000LL, 1400000000999LL, 1767225599999LL,
					(4294967295LL + 1400000000LL) * 1000 + 500};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		id_new_at("msg_", times[i], id);
		assert_int_equal(id_time_ms(id), times[i]);
	}
	/* the reference's example: 0x0669F7EF seconds, then bytes 0xB5A1 */
	assert_int_equal(id_time_ms("x_0ujtsYcgvSTl8PAuAdqWYSMnLOv"), (0x0669F7EFLL + 1400000000LL) * 1000 + 0xB5A1);
	assert_int_equal(id_time_ms("msg_short"), 0);
	assert_true(id_is("msg_", "msg_0ujtsYcgvSTl8PAuAdqWYSMnLOv"));
	assert_false(id_is("msg_", "msg_0ujtsYcgvSTl8PAuAdqWYSMnLO-"));
	assert_false(id_is("msg_", "app_0ujtsYcgvSTl8PAuAdqWYSMnLOv"));
}

static void test_unique(void **state)
{
	char a[ID_MAX], b[ID_MAX];
	(void)state;
	id_new("a_", a);
	id_new("a_", b);
	assert_string_not_equal(a, b);
}

/* the KSUID reference's examples: the smallest, the largest, and one from its documentation */
static void test_ksuid_vectors(void **state)
{
	unsigned char raw[ID_KSUID_BYTES] = {0};
	static const unsigned char doc[ID_KSUID_BYTES] = {0x06, 0x69, 0xF7, 0xEF, 0xB5, 0xA1, 0xCD, 0x34, 0xB5, 0xF9,
							  0x9D, 0x11, 0x54, 0xFB, 0x68, 0x53, 0x34, 0x5C, 0x97, 0x35};
	char out[ID_KSUID_LEN + 1];
	(void)state;
	id_ksuid_encode(raw, out);
	assert_string_equal(out, "000000000000000000000000000");
	memset(raw, 0xff, sizeof(raw));
	id_ksuid_encode(raw, out);
	assert_string_equal(out, "aWgEPTl1tmebfsQzFP4bxwgy80V");
	id_ksuid_encode(doc, out);
	assert_string_equal(out, "0ujtsYcgvSTl8PAuAdqWYSMnLOv");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape), cmocka_unit_test(test_ksuid_vectors),
		cmocka_unit_test(test_sorted_in_creation_order),
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_unique),
	};
	return RUN(tests);
}
