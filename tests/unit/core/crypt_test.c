#include <stdlib.h>
#include <string.h>

#include "core/crypt.h"
#include "core/err.h"
#include "test.h"

static const char K1[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char K2[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

static void test_parse_key(void **state)
{
	unsigned char k[32];
	(void)state;
	assert_int_equal(crypt_parse_key(K1, k), 0);
	assert_int_equal(k[1], 0x11);
	assert_int_equal(crypt_parse_key("  00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", k), 0);
	assert_int_equal(crypt_parse_key("0011", k), HK_EINVAL);
	assert_int_equal(crypt_parse_key("zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", k), HK_EINVAL);
}

static void test_roundtrip_and_tamper(void **state)
{
	unsigned char k[32];
	char *sealed, *plain;
	size_t n;
	(void)state;
	crypt_parse_key(K1, k);
	crypt_set_keys(k, NULL);
	sealed = crypt_seal("whsec_secret", 12);
	assert_true(crypt_is_sealed(sealed));
	assert_null(strstr(sealed, "whsec_secret"));
	assert_int_equal(crypt_open(sealed, &plain, &n), 0);
	assert_string_equal(plain, "whsec_secret");
	free(plain);
	sealed[strlen(sealed) - 3] ^= 1;
	assert_int_not_equal(crypt_open(sealed, &plain, &n), 0);
	free(sealed);
	/* plain text from before encryption opens as itself */
	assert_int_equal(crypt_open("legacy", &plain, &n), 0);
	assert_string_equal(plain, "legacy");
	free(plain);
	crypt_clear_keys();
}

static void test_rotation(void **state)
{
	unsigned char k1[32], k2[32];
	char *old, *plain;
	size_t n;
	(void)state;
	crypt_parse_key(K1, k1);
	crypt_parse_key(K2, k2);
	crypt_set_keys(k1, NULL);
	old = crypt_seal("abc", 3);
	crypt_set_keys(k2, k1);
	assert_false(crypt_sealed_with_current(old));
	assert_int_equal(crypt_open(old, &plain, &n), 0);
	assert_string_equal(plain, "abc");
	free(plain);
	crypt_set_keys(k2, NULL);
	assert_int_equal(crypt_open(old, &plain, &n), HK_ENOTFOUND);
	free(old);
	crypt_clear_keys();
}

static void test_docs(void **state)
{
	unsigned char k[32];
	json_t *doc = json_loads("{\"url\":\"u\",\"_secrets\":[{\"key\":\"whsec_x\",\"expires\":0}],"
				 "\"_headers\":{\"Authorization\":\"Bearer t\"},\"_tls\":{\"clientKey\":\"PEM\"}}", 0, NULL);
	char *text;
	(void)state;
	crypt_parse_key(K1, k);
	crypt_set_keys(k, NULL);
	assert_int_equal(crypt_seal_doc(doc), 0);
	text = json_dumps(doc, 0);
	assert_null(strstr(text, "whsec_x"));
	assert_null(strstr(text, "Bearer t"));
	assert_null(strstr(text, "PEM"));
	assert_non_null(strstr(text, "\"url\": \"u\""));
	free(text);
	assert_int_equal(crypt_open_doc(doc), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "_secrets"), 0), "key")), "whsec_x");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "_headers"), "Authorization")), "Bearer t");
	json_decref(doc);
	crypt_clear_keys();
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse_key), cmocka_unit_test(test_roundtrip_and_tamper),
					   cmocka_unit_test(test_rotation), cmocka_unit_test(test_docs)};
	return RUN(tests);
}
