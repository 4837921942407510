#include <string.h>

#include "core/codec.h"
#include "core/err.h"
#include "test.h"

static void test_base64_roundtrip(void **state)
{
	const char *cases[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	(void)state;
	for (size_t i = 0; i < 7; i++) {
		char enc[32];
		unsigned char dec[32];
		size_t n;
		base64_encode(cases[i], strlen(cases[i]), enc);
		assert_string_equal(enc, want[i]);
		assert_int_equal(base64_decode(enc, strlen(enc), dec, &n), 0);
		assert_int_equal(n, strlen(cases[i]));
		assert_memory_equal(dec, cases[i], n);
	}
}

static void test_base64_urlsafe_and_unpadded(void **state)
{
	unsigned char dec[8];
	size_t n;
	(void)state;
	assert_int_equal(base64_decode("-_8", 3, dec, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dec[0], 0xfb);
	assert_int_equal(dec[1], 0xff);
}

static void test_base64_rejects_junk(void **state)
{
	unsigned char dec[16];
	size_t n;
	(void)state;
	assert_int_equal(base64_decode("ab!d", 4, dec, &n), HK_EPARSE);
	assert_int_equal(base64_decode("a", 1, dec, &n), HK_EPARSE);
	assert_int_equal(base64_decode("ab cd", 5, dec, &n), HK_EPARSE);
}

static void test_hex(void **state)
{
	unsigned char raw[4] = {0xde, 0xad, 0xbe, 0xef}, back[4];
	char out[9];
	size_t n;
	(void)state;
	hex_encode(raw, 4, out);
	assert_string_equal(out, "deadbeef");
	assert_int_equal(hex_decode("DEADbeef", 8, back, &n), 0);
	assert_memory_equal(back, raw, 4);
	assert_int_equal(hex_decode("abc", 3, back, &n), HK_EPARSE);
	assert_int_equal(hex_decode("zz", 2, back, &n), HK_EPARSE);
}

static void test_ct_equal(void **state)
{
	(void)state;
	assert_true(ct_equal("abc", 3, "abc", 3));
	assert_false(ct_equal("abc", 3, "abd", 3));
	assert_false(ct_equal("abc", 3, "abcd", 4));
	assert_true(ct_equal("", 0, "", 0));
}

static void test_sha256(void **state)
{
	char out[65];
	(void)state;
	sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_roundtrip), cmocka_unit_test(test_base64_urlsafe_and_unpadded),
		cmocka_unit_test(test_base64_rejects_junk), cmocka_unit_test(test_hex),
		cmocka_unit_test(test_ct_equal), cmocka_unit_test(test_sha256),
	};
	return RUN(tests);
}
