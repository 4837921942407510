#include <string.h>

#include "api/valid.h"
#include "test.h"

static void test_uid(void **state)
{
	const char *why = NULL;
	char big[300];
	(void)state;
	assert_true(valid_uid("my-app.v1_2", "app_", &why));
	assert_false(valid_uid("has space", "app_", &why));
	assert_false(valid_uid("", "app_", &why));
	assert_false(valid_uid("app_123", "app_", &why));
	assert_non_null(strstr(why, "prefix"));
	assert_true(valid_uid("app-123", "app_", &why));
	memset(big, 'a', 257);
	big[257] = '\0';
	assert_false(valid_uid(big, "app_", &why));
	big[256] = '\0';
	assert_true(valid_uid(big, "app_", &why));
}

static void test_url(void **state)
{
	const char *why;
	(void)state;
	assert_true(valid_url("https://example.com/hook", &why));
	assert_true(valid_url("http://127.0.0.1:9000", &why));
	assert_false(valid_url("ftp://example.com", &why));
	assert_false(valid_url("https://", &why));
	assert_false(valid_url("not a url", &why));
	assert_false(valid_url("https://exa mple.com", &why));
	assert_false(valid_url("https:///path", &why));
}

static void test_names(void **state)
{
	(void)state;
	assert_true(valid_name("user.created", 256));
	assert_false(valid_name("user created", 256));
	assert_false(valid_name("", 256));
}

static void test_headers(void **state)
{
	(void)state;
	assert_true(valid_header_name("X-Custom"));
	assert_false(valid_header_name("Bad Header"));
	assert_false(valid_header_name("a:b"));
	assert_true(valid_header_reserved("webhook-id"));
	assert_true(valid_header_reserved("Content-Length"));
	assert_false(valid_header_reserved("X-Custom"));
	assert_true(valid_header_sensitive("Authorization"));
	assert_false(valid_header_value("a\r\nb"));
	assert_true(valid_header_value("plain value"));
}

static void test_secret(void **state)
{
	const char *why;
	char out[VALID_SECRET_MAX];
	(void)state;
	assert_true(valid_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", out, &why));
	assert_string_equal(out, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	/* Svix takes the base64 alone too; it is stored with its prefix */
	assert_true(valid_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", out, &why));
	assert_string_equal(out, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	assert_false(valid_secret("whsec_", out, &why));
	assert_false(valid_secret("whsec_short", out, &why));
	assert_false(valid_secret("whsec_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", out, &why));
	/* the URL-safe alphabet would sign with bytes a receiver does not decode */
	assert_false(valid_secret("whsec_-_-_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE", out, &why));
	assert_false(valid_secret("nosuchprefix_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", out, &why));
	assert_true(valid_secret("whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==", out, &why));
	assert_int_equal(strncmp(out, "whsk_", 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uid), cmocka_unit_test(test_url), cmocka_unit_test(test_names),
		cmocka_unit_test(test_headers), cmocka_unit_test(test_secret),
	};
	return RUN(tests);
}
