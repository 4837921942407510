/*
 * provider_more_test.c - Twilio (the published example and the JSON body
 * form), Linear, Standard Webhooks and Svix, the generic providers, and the
 * front-end's own rules.
 */
#include "prov_test.h"

#define TW_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define TW_FORM                                                                                    \
	"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%"     \
	"2B18005551212"

static void test_twilio_doc(void **state)
{
	struct hdr h[] = {{"X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, {NULL, NULL}};
	struct tcase t = TC("twilio", "12345", h, TW_FORM, 1);
	const struct provider *p = provider_find("twilio");
	struct provider_req r;
	struct provider_cfg c = tcfg(&t);
	char out[64];

	t.url = TW_URL;
	t.content_type = "application/x-www-form-urlencoded";
	assert_int_equal(tverify(&t), 0);
	/* parameter order on the wire does not matter */
	assert_int_equal(tverify_body(t, "To=%2B18005551212&From=%2B12349013030&Digits=1234&"
					 "Caller=%2B12349013030&CallSid=CA1234567890ABCDE"),
			 0);
	assert_int_equal(tverify_body(t, TW_FORM "&Extra=1"), HK_EVERIFY);
	assert_int_equal(tverify_body(t, "CallSid=CA1234567890ABCDE"), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "12346", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "secondary", "12345"), 0);
	/* the URL is signed; the default port may be added by a proxy */
	t.url = "https://mycompany.com/myapp.php?foo=1&bar=3";
	assert_int_equal(tverify(&t), HK_EVERIFY);
	t.url = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
	assert_int_equal(tverify(&t), 0);
	t.url = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
	assert_int_equal(tverify(&t), HK_EVERIFY);
	t.url = NULL;
	assert_int_equal(tverify(&t), HK_EVERIFY);
	assert_string_equal(why, "missing request url");
	t.url = TW_URL;
	/* a JSON body without bodySHA256 is not covered */
	t.content_type = "application/json";
	assert_int_equal(tverify(&t), HK_EVERIFY);
	t.content_type = "application/x-www-form-urlencoded";
	r = treq(&t);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "twilio.call");
	tmalformed(t, 0);
}

#define TW_JSON "{\"property\":\"value\",\"boolField\":true}"
#define TW_JSON_URL                                                                                \
	"https://example.com/in/tw?bodySHA256="                                                    \
	"0af4dcd74a67e29fa95297dc04411b46ec1b567aec1584c0d623db233c57882a"

static void test_twilio_json_and_form(void **state)
{
	struct hdr h[] = {{"X-Twilio-Signature", "zDfQIm9+IkSggUaZ/t93ToBBTI8="}, {NULL, NULL}};
	struct tcase t = TC("twilio", "authtoken", h, TW_JSON, 1);
	const struct provider *p;
	struct provider_req r;
	struct provider_cfg c;
	char out[64];

	t.url = TW_JSON_URL;
	t.content_type = "application/json";
	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{\"property\":\"value\",\"boolField\":false}"), HK_EVERIFY);
	assert_string_equal(why, "body does not match bodySHA256");
	assert_int_equal(tverify_secret(t, "other", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "other", "authtoken"), 0);
	t.url = "https://example.com/in/tw?bodySHA256=0af4";
	assert_int_equal(tverify(&t), HK_EVERIFY);

	/* form values are url-decoded ('+' is a space) before signing */
	h[0].value = "dL8sjGhIMM92K2jaRJ2nQbfprQY=";
	t.url = "https://example.com/in/tw";
	t.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	t.body = "MessageSid=SM1&Body=hello+world+%26+more&From=%2B1+555";
	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "MessageSid=SM1&Body=hello+world+%26+mor&From=%2B1+555"),
			 HK_EVERIFY);
	p = provider_find("twilio");
	r = treq(&t);
	c = tcfg(&t);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "twilio.message");
	/* hostile forms do not crash */
	assert_int_equal(tverify_body(t, "&&&==%%%&%zz=%4&="), HK_EVERIFY);
	assert_int_equal(tverify_body(t, "%"), HK_EVERIFY);
}

#define LIN_BODY                                                                                   \
	"{\"action\":\"create\",\"type\":\"Issue\",\"webhookTimestamp\":1700000000123,\"data\":{"  \
	"\"id\":\"x\"}}"

static void test_linear(void **state)
{
	struct hdr h[] = {
		{"Linear-Signature", "1706d5e42c01069057710c335439a8a7b45e76dc92c7d36691d9fc200f8b1820"},
		{"Linear-Delivery", "234d1a4e-b617-4388-90fe-adc3633d6b72"},
		{"Linear-Event", "Issue"},
		{NULL, NULL},
	};
	struct tcase t = TC("linear", "lin_wh_secret", h, LIN_BODY, 1700000000);
	const struct provider *p = provider_find("linear");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{\"action\":\"remove\",\"type\":\"Issue\","
					 "\"webhookTimestamp\":1700000000123}"),
			 HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "lin_wh_other", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "lin_wh_other", "lin_wh_secret"), 0);
	assert_int_equal(tverify_now(t, 1700000060), 0);
	assert_int_equal(tverify_now(t, 1700000061), HK_EVERIFY);
	assert_string_equal(why, "timestamp too old");
	assert_int_equal(tverify_now(t, 1699999940), HK_EVERIFY);
	assert_string_equal(why, "timestamp in the future");
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "linear.issue.create");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "234d1a4e-b617-4388-90fe-adc3633d6b72");
	assert_int_equal(provider_event_type(p, &c, &r, out, 15), HK_ETOOBIG);
	tmalformed(t, 0);
}

#define SW_BODY "{\"type\":\"user.created\",\"data\":{\"id\":1}}"

static void test_standard_webhooks(void **state)
{
	struct hdr h[] = {
		{"webhook-signature", "v1,i+jrHRxXkSmHJLf5gyHG4pQ2NNnCgajCWrYYdKAFQkw="},
		{"webhook-id", "msg_abc"},
		{"webhook-timestamp", "1700000000"},
		{NULL, NULL},
	};
	struct tcase t = TC("standard-webhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h,
			    SW_BODY, 1700000000);
	const struct provider *p = provider_find("standard-webhooks");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{}"), HK_EVERIFY);
	assert_string_equal(why, "no matching signature");
	assert_int_equal(tverify_secret(t, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", NULL),
			 HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
					"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
			 0);
	assert_int_equal(tverify_now(t, 1700000301), HK_EVERIFY);
	assert_string_equal(why, "timestamp too old");
	assert_int_equal(tverify_now(t, 1699999699), HK_EVERIFY);
	assert_string_equal(why, "timestamp in the future");
	t.tolerance = -1;
	assert_int_equal(tverify_now(t, 1800000000), 0);
	t.tolerance = 0;
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "msg_abc");
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "user.created");
	tmalformed(t, 0);
	tmalformed(t, 1);
	tmalformed(t, 2);
	/* the same request under svix-* names verifies with both providers */
	h[0].name = "svix-signature";
	h[1].name = "svix-id";
	h[2].name = "svix-timestamp";
	assert_int_equal(tverify(&t), 0);
	t.provider = "svix";
	assert_int_equal(tverify(&t), 0);
}

static void test_svix(void **state)
{
	struct hdr h[] = {
		{"svix-signature", "v1,MIPR0BsV0LEO0p9iWpTZL/93IIVjZimh2ymjXmgaIsA="},
		{"svix-id", "msg_def"},
		{"svix-timestamp", "1700000000"},
		{NULL, NULL},
	};
	struct tcase t = TC("svix", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", h, SW_BODY,
			    1700000100);
	const struct provider *p = provider_find("svix");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, SW_BODY " "), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL),
			 HK_EVERIFY);
	assert_int_equal(tverify_now(t, 1700000400), HK_EVERIFY);
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "msg_def");
	tmalformed(t, 0);
}

#define GEN_BODY "{\"type\":\"build.done\",\"id\":7}"

static void test_hmac_generic(void **state)
{
	struct hdr h[] = {
		{"X-Sig", "sha512=FYK3y7PrVhP4uvIRbshFSTYDKApD+4h3nKooHSJgrORol+skmS4EDzmNQGJCQ/XR0TG4cGV"
			  "in1TKfj+kynfoxw=="},
		{"X-Delivery", "del-7"},
		{NULL, NULL},
	};
	struct tcase t = TC("hmac", "generic-secret", h, GEN_BODY, 1);
	json_t *conf = json_pack("{s:s,s:s,s:s,s:s,s:s}", "header", "X-Sig", "algorithm", "sha512",
				 "encoding", "base64", "prefix", "sha512=", "dedupe_header",
				 "x-delivery");
	const struct provider *p = provider_find("hmac");
	struct provider_req r;
	struct provider_cfg c;
	char out[64];

	t.config = conf;
	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{\"type\":\"build.done\",\"id\":8}"), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "generic-secreT", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "x", "generic-secret"), 0);
	r = treq(&t);
	c = tcfg(&t);
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "del-7");
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "build.done");
	tmalformed(t, 0);
	/* the prefix is required when configured */
	h[0].value = "FYK3y7PrVhP4uvIRbshFSTYDKApD+4h3nKooHSJgrORol+skmS4EDzmNQGJCQ/XR0TG4cGVin1TKfj+"
		     "kynfoxw==";
	assert_int_equal(tverify(&t), HK_EVERIFY);
	json_decref(conf);

	/* defaults: x-signature, sha256, hex; here sha1 hex */
	conf = json_pack("{s:s}", "algorithm", "sha1");
	struct hdr h2[] = {{"X-Signature", "7004d915763069a1c72b3a3eee2125cdf5212929"}, {NULL, NULL}};
	t.h = h2;
	t.config = conf;
	assert_int_equal(tverify(&t), 0);
	json_decref(conf);
	conf = json_pack("{s:s}", "algorithm", "md5");
	t.config = conf;
	assert_int_equal(tverify(&t), HK_EVERIFY);
	assert_string_equal(why, "unknown algorithm 'md5'");
	json_decref(conf);
	conf = json_pack("{s:s}", "encoding", "base32");
	t.config = conf;
	assert_int_equal(tverify(&t), HK_EVERIFY);
	json_decref(conf);
	t.config = NULL;
	assert_int_equal(tverify(&t), HK_EVERIFY); /* sha256 by default */
}

static void test_basic_bearer_none(void **state)
{
	struct hdr h[] = {{"Authorization", "Basic YWxpY2U6czNjcmV0"}, {NULL, NULL}};
	struct tcase t = TC("basic", "alice:s3cret", h, GEN_BODY, 1);
	const struct provider *p;
	struct provider_req r;
	struct provider_cfg c;
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "anything"), 0);
	assert_int_equal(tverify_secret(t, "alice:s3creT", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "bob:x", "alice:s3cret"), 0);
	h[0].value = "basic YWxpY2U6czNjcmV0";
	assert_int_equal(tverify(&t), 0);
	h[0].value = "Bearer alice:s3cret";
	assert_int_equal(tverify(&t), HK_EVERIFY);
	h[0].value = "Basic YWxpY2U6czNjcmV0";
	tmalformed(t, 0);

	h[0].value = "Bearer tok_123";
	t.provider = "bearer";
	t.secrets[0] = "tok_123";
	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_secret(t, "tok_124", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "tok_12", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "old", "tok_123"), 0);
	h[0].value = "Basic tok_123";
	assert_int_equal(tverify(&t), HK_EVERIFY);
	h[0].value = "Bearer tok_123";
	tmalformed(t, 0);

	t.provider = "none";
	t.secrets[0] = NULL;
	t.h = NULL;
	assert_int_equal(tverify(&t), 0);
	assert_string_equal(why, "unverified");
	p = provider_find("none");
	r = treq(&t);
	c = tcfg(&t);
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), HK_ENOTFOUND);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "build.done");
}

static void test_front_end(void **state)
{
	static const char *const names[] = {
		"github",  "gitea", "forgejo", "gogs",   "gitlab", "bitbucket", "stripe",
		"paddle",  "shopify", "slack", "zoom",   "discord", "twilio",  "linear",
		"standard-webhooks", "svix", "hmac", "basic", "bearer", "none",
	};
	const struct provider *const *all = provider_list();
	struct tcase t = TC("github", "s", NULL, NULL, 0);
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	json_t *answer = (json_t *)1;
	size_t n = 0;
	char out[8];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(provider_find(names[i]));
	while (all[n])
		n++;
	assert_int_equal(n, sizeof(names) / sizeof(names[0]));
	assert_null(provider_find("GitHub"));
	assert_null(provider_find(""));
	assert_null(provider_find(NULL));
	/* every provider copes with no headers and no body */
	for (size_t i = 0; all[i]; i++) {
		const struct provider *p = all[i];
		int rc = provider_verify(p, &c, &r, why, sizeof(why));
		assert_true(rc == HK_EVERIFY || (rc == 0 && !strcmp(p->name, "none")));
		assert_true(why[0] != '\0');
		rc = provider_dedupe_key(p, &c, &r, out, sizeof(out));
		assert_int_equal(rc, HK_ENOTFOUND);
		rc = provider_event_type(p, &c, &r, out, sizeof(out));
		assert_int_equal(rc, HK_ENOTFOUND);
		answer = (json_t *)1;
		assert_int_equal(provider_challenge(p, &c, &r, &answer), HK_ENOTFOUND);
		assert_null(answer);
	}
	assert_int_equal(provider_verify(NULL, &c, &r, why, sizeof(why)), HK_EVERIFY);
	assert_int_equal(provider_verify(all[0], &c, &r, NULL, 0), HK_EVERIFY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twilio_doc),	    cmocka_unit_test(test_twilio_json_and_form),
		cmocka_unit_test(test_linear),		    cmocka_unit_test(test_standard_webhooks),
		cmocka_unit_test(test_svix),		    cmocka_unit_test(test_hmac_generic),
		cmocka_unit_test(test_basic_bearer_none), cmocka_unit_test(test_front_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
