/*
 * sign_test.c - Standard Webhooks signing and verification against the
 * published test vectors, plus the cases a hostile sender would try.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "sign/sign.h"

#define A_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define A_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define A_TS 1614265330
#define A_TS_STR "1614265330"
#define A_BODY "{\"test\": 2432232314}"
#define A_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

#define B_SECRET "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
#define B_ID "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"
#define B_TS 1649367553
#define B_BODY "{\"email\":\"test@example.com\",\"username\":\"test_user\"}"
#define B_SIG "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="

#define C_SK                                                                                       \
	"whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kv" \
	"g=="
#define C_PK "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
#define C_SIG                                                                                      \
	"v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBA" \
	"g=="

static int verify1(const char *secret, const char *id, const char *ts, const char *hdr,
		   const char *body, int64_t now, const char **reason)
{
	const char *const s[] = {secret};
	return sign_verify(s, 1, id, ts, hdr, body, strlen(body), now, 0, reason);
}

static void test_vector_a(void **state)
{
	char out[SIGN_SIG_MAX];
	const char *reason = NULL;

	assert_int_equal(sign_payload(A_SECRET, A_ID, A_TS, A_BODY, strlen(A_BODY), out, sizeof(out)), 0);
	assert_string_equal(out, A_SIG);
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, A_SIG, A_BODY, A_TS, &reason), 0);
	/* the bare base64 secret works too */
	assert_int_equal(verify1(&A_SECRET[6], A_ID, A_TS_STR, A_SIG, A_BODY, A_TS, &reason), 0);
}

static void test_vector_b(void **state)
{
	char out[SIGN_SIG_MAX];

	assert_int_equal(sign_payload(B_SECRET, B_ID, B_TS, B_BODY, strlen(B_BODY), out, sizeof(out)), 0);
	assert_string_equal(out, B_SIG);
	assert_int_equal(verify1(B_SECRET, B_ID, "1649367553", B_SIG, B_BODY, B_TS + 10, NULL), 0);
}

static void test_vector_c(void **state)
{
	char out[SIGN_SIG_MAX];

	assert_int_equal(sign_payload(C_SK, A_ID, A_TS, A_BODY, strlen(A_BODY), out, sizeof(out)), 0);
	assert_string_equal(out, C_SIG);
	assert_int_equal(verify1(C_PK, A_ID, A_TS_STR, C_SIG, A_BODY, A_TS, NULL), 0);
	assert_int_equal(verify1(C_SK, A_ID, A_TS_STR, C_SIG, A_BODY, A_TS, NULL), 0);
	/* a public key cannot sign */
	assert_int_equal(sign_payload(C_PK, A_ID, A_TS, A_BODY, strlen(A_BODY), out, sizeof(out)),
			 HK_EINVAL);
	/* an HMAC candidate never matches an ed25519 key, nor the reverse */
	assert_int_equal(verify1(C_PK, A_ID, A_TS_STR, A_SIG, A_BODY, A_TS, NULL), HK_EVERIFY);
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, C_SIG, A_BODY, A_TS, NULL), HK_EVERIFY);
}

static void test_must_not_verify(void **state)
{
	const char *reason = NULL;

	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR,
				 "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", A_BODY, A_TS,
				 &reason),
			 HK_EVERIFY);
	assert_string_equal(reason, "no matching signature");
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, "v1,", A_BODY, A_TS, &reason), HK_EVERIFY);
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, "v1,dawfeoifkpqwoekfpqoekf", A_BODY, A_TS,
				 &reason),
			 HK_EVERIFY);
	assert_int_equal(verify1("whsec_", A_ID, A_TS_STR, A_SIG, A_BODY, A_TS, &reason), HK_EVERIFY);
	assert_string_equal(reason, "no valid secret");
}

static void test_tampered_and_wrong(void **state)
{
	const char *reason = NULL;

	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, A_SIG, "{\"test\": 2432232315}", A_TS,
				 &reason),
			 HK_EVERIFY);
	assert_string_equal(reason, "no matching signature");
	assert_int_equal(verify1(B_SECRET, A_ID, A_TS_STR, A_SIG, A_BODY, A_TS, NULL), HK_EVERIFY);
	assert_int_equal(verify1(A_SECRET, B_ID, A_TS_STR, A_SIG, A_BODY, A_TS, NULL), HK_EVERIFY);
	assert_int_equal(verify1(A_SECRET, A_ID, "1614265331", A_SIG, A_BODY, A_TS, NULL), HK_EVERIFY);
	assert_int_equal(verify1(C_PK, A_ID, A_TS_STR, C_SIG, "{\"test\": 2432232315}", A_TS, NULL),
			 HK_EVERIFY);
}

static void test_rotation(void **state)
{
	const char *const secrets[] = {B_SECRET, A_SECRET};
	const char *const signers[] = {A_SECRET, C_SK};
	char hdr[2 * SIGN_SIG_MAX];

	/* the second of two secrets matches */
	assert_int_equal(sign_verify(secrets, 2, A_ID, A_TS_STR, A_SIG, A_BODY, strlen(A_BODY), A_TS,
				     0, NULL),
			 0);
	/* several candidates, the matching one last, junk in between */
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, "v2,abc v1,AAAA  junk " A_SIG, A_BODY,
				 A_TS, NULL),
			 0);
	assert_int_equal(sign_header(signers, 2, A_ID, A_TS, A_BODY, strlen(A_BODY), hdr, sizeof(hdr)),
			 0);
	assert_string_equal(hdr, A_SIG " " C_SIG);
	assert_int_equal(verify1(C_PK, A_ID, A_TS_STR, hdr, A_BODY, A_TS, NULL), 0);
	assert_int_equal(sign_header(signers, 2, A_ID, A_TS, A_BODY, strlen(A_BODY), hdr, 60),
			 HK_ENOSPACE);
	assert_int_equal(sign_header(signers, 0, A_ID, A_TS, A_BODY, strlen(A_BODY), hdr, 60),
			 HK_EINVAL);
}

static void test_time_window(void **state)
{
	const char *const s[] = {A_SECRET};
	const char *reason = NULL;

	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, A_SIG, A_BODY, A_TS + 300, NULL), 0);
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, A_SIG, A_BODY, A_TS - 300, NULL), 0);
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, A_SIG, A_BODY, A_TS + 301, &reason),
			 HK_EVERIFY);
	assert_string_equal(reason, "timestamp too old");
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, A_SIG, A_BODY, A_TS - 301, &reason),
			 HK_EVERIFY);
	assert_string_equal(reason, "timestamp in the future");
	assert_int_equal(sign_verify(s, 1, A_ID, A_TS_STR, A_SIG, A_BODY, strlen(A_BODY), A_TS + 50,
				     10, &reason),
			 HK_EVERIFY);
	/* a negative tolerance turns the check off */
	assert_int_equal(sign_verify(s, 1, A_ID, A_TS_STR, A_SIG, A_BODY, strlen(A_BODY),
				     A_TS + 999999, -1, &reason),
			 0);
	assert_int_equal(verify1(A_SECRET, A_ID, "", A_SIG, A_BODY, A_TS, &reason), HK_EVERIFY);
	assert_string_equal(reason, "invalid timestamp");
	assert_int_equal(verify1(A_SECRET, A_ID, "16142653x0", A_SIG, A_BODY, A_TS, &reason),
			 HK_EVERIFY);
	assert_int_equal(verify1(A_SECRET, A_ID, "-1614265330", A_SIG, A_BODY, A_TS, &reason),
			 HK_EVERIFY);
	assert_int_equal(verify1(A_SECRET, A_ID, "99999999999999999999999", A_SIG, A_BODY, A_TS,
				 &reason),
			 HK_EVERIFY);
}

static void test_malformed_headers(void **state)
{
	static const char *const bad[] = {
		"", " ", "v1", "v1,", ",", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O",
		"v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1a,", "v1a,AAAA", "v1,!!!!",
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=x",
	};
	const char *reason = NULL;
	char *huge;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, bad[i], A_BODY, A_TS, &reason),
				 HK_EVERIFY);
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, "", A_BODY, A_TS, &reason), HK_EVERIFY);
	assert_string_equal(reason, "malformed signature header");
	assert_int_equal(sign_verify(NULL, 0, A_ID, A_TS_STR, NULL, NULL, 0, A_TS, 0, &reason),
			 HK_EVERIFY);
	assert_int_equal(verify1(A_SECRET, "", A_TS_STR, A_SIG, A_BODY, A_TS, &reason), HK_EVERIFY);
	assert_string_equal(reason, "missing message id");

	/* a 100 KB header, valid signature at the end: refused as a whole */
	huge = malloc(100 * 1024 + 1);
	assert_non_null(huge);
	memset(huge, 'v', 100 * 1024);
	memcpy(huge + 100 * 1024 - strlen(A_SIG), A_SIG, strlen(A_SIG));
	huge[100 * 1024 - strlen(A_SIG) - 1] = ' ';
	huge[100 * 1024] = '\0';
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, huge, A_BODY, A_TS, &reason), HK_EVERIFY);
	assert_string_equal(reason, "malformed signature header");
	/* a 100 KB candidate inside the cap of a smaller header: also refused */
	memset(huge, 'A', 100 * 1024);
	memcpy(huge, "v1,", 3);
	huge[SIGN_HEADER_MAX - 1] = '\0';
	assert_int_equal(verify1(A_SECRET, A_ID, A_TS_STR, huge, A_BODY, A_TS, &reason), HK_EVERIFY);
	free(huge);
}

static void test_secret_parse(void **state)
{
	struct sign_secret s;

	assert_int_equal(sign_secret_parse(A_SECRET, &s), 0);
	assert_int_equal(s.kind, SIGN_HMAC);
	assert_int_equal(s.key_len, 24);
	assert_int_equal(sign_secret_parse(C_SK, &s), 0);
	assert_int_equal(s.kind, SIGN_ED25519_SK);
	assert_int_equal(s.key_len, 64);
	assert_int_equal(sign_secret_parse(C_PK, &s), 0);
	assert_int_equal(s.kind, SIGN_ED25519_PK);
	assert_int_equal(sign_secret_parse("whsec_", &s), HK_EPARSE);
	assert_int_equal(sign_secret_parse("", &s), HK_EPARSE);
	assert_int_equal(sign_secret_parse("whsec_!!", &s), HK_EPARSE);
	assert_int_equal(sign_secret_parse("whpk_AAAA", &s), HK_EPARSE);
	assert_int_equal(sign_secret_parse("whsk_" "1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=", &s),
			 HK_EPARSE);
	assert_int_equal(sign_secret_parse(NULL, &s), HK_EPARSE);
}

static void test_round_trip(void **state)
{
	char hs[SIGN_SECRET_MAX], sk[SIGN_SECRET_MAX], pk[SIGN_SECRET_MAX], hs2[SIGN_SECRET_MAX];
	char sig[SIGN_SIG_MAX];
	const char *body = "{\"type\":\"user.created\"}";
	struct sign_secret s;

	assert_int_equal(sign_secret_new_hmac(hs, sizeof(hs)), 0);
	assert_int_equal(sign_secret_new_hmac(hs2, sizeof(hs2)), 0);
	assert_string_not_equal(hs, hs2);
	assert_int_equal(strlen(hs), 6 + 32);
	assert_int_equal(sign_secret_parse(hs, &s), 0);
	assert_int_equal(s.key_len, 24);
	assert_int_equal(sign_payload(hs, "msg_1", 1700000000, body, strlen(body), sig, sizeof(sig)), 0);
	assert_int_equal(verify1(hs, "msg_1", "1700000000", sig, body, 1700000000, NULL), 0);
	assert_int_equal(verify1(hs2, "msg_1", "1700000000", sig, body, 1700000000, NULL), HK_EVERIFY);

	assert_int_equal(sign_secret_new_ed25519(sk, sizeof(sk), pk, sizeof(pk)), 0);
	assert_true(strncmp(sk, "whsk_", 5) == 0);
	assert_true(strncmp(pk, "whpk_", 5) == 0);
	assert_int_equal(sign_payload(sk, "msg_1", 1700000000, body, strlen(body), sig, sizeof(sig)), 0);
	assert_true(strncmp(sig, "v1a,", 4) == 0);
	assert_int_equal(verify1(pk, "msg_1", "1700000000", sig, body, 1700000000, NULL), 0);
	assert_int_equal(verify1(C_PK, "msg_1", "1700000000", sig, body, 1700000000, NULL), HK_EVERIFY);
	assert_int_equal(sign_secret_new_hmac(hs, 10), HK_ENOSPACE);
	/* empty body */
	assert_int_equal(sign_payload(hs2, "msg_2", 1, "", 0, sig, sizeof(sig)), 0);
	assert_int_equal(verify1(hs2, "msg_2", "1", sig, "", 1, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_a),	  cmocka_unit_test(test_vector_b),
		cmocka_unit_test(test_vector_c),	  cmocka_unit_test(test_must_not_verify),
		cmocka_unit_test(test_tampered_and_wrong), cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_time_window),	  cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_secret_parse),	  cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
