/*
 * provider_test.c - forges, payment platforms and chat platforms: the
 * published examples, and vectors produced by the providers' own libraries
 * (@octokit/webhooks-methods, stripe) or by node's crypto following each
 * provider's documented scheme.
 */
#include "prov_test.h"

#define GH_BODY "{\"action\":\"opened\",\"number\":1}"

static void test_github_doc(void **state)
{
	struct hdr h[] = {
		{"X-Hub-Signature-256",
		 "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
		{"X-GitHub-Event", "push"},
		{"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{"X-GitHub-Hook-ID", "292430182"},
		{NULL, NULL},
	};
	struct tcase t = TC("github", "It's a Secret to Everybody", h, "Hello, World!", 1);
	const struct provider *p = provider_find("github");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[128];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "Hello, World?"), HK_EVERIFY);
	assert_string_equal(why, "no matching signature");
	assert_int_equal(tverify_secret(t, "It's a secret to everybody", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "other", "It's a Secret to Everybody"), 0);
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "292430182:72d3162e-cc78-11e3-81ab-4c9367dc0958");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, 20), HK_ETOOBIG);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "github.push");
	tmalformed(t, 0);
}

static void test_github_sha1(void **state)
{
	/* legacy header only: HMAC-SHA1 of "Hello, World!" */
	struct hdr h[] = {
		{"X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"},
		{NULL, NULL},
	};
	struct tcase t = TC("github", "It's a Secret to Everybody", h, "Hello, World!", 1);
	json_t *conf = json_pack("{s:b}", "allow_sha1", 0);

	assert_int_equal(tverify(&t), 0);
	t.config = conf;
	assert_int_equal(tverify(&t), HK_EVERIFY);
	assert_string_equal(why, "missing header 'x-hub-signature-256'");
	json_decref(conf);
	/* a wrong sha256 signature does not fall back to a right sha1 one */
	struct hdr h2[] = {
		{"X-Hub-Signature-256", "sha256=00"},
		{"X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"},
		{NULL, NULL},
	};
	t.h = h2;
	t.config = NULL;
	assert_int_equal(tverify(&t), HK_EVERIFY);
}

static void test_github_vector(void **state)
{
	struct hdr h[] = {
		{"x-hub-signature-256",
		 "sha256=edda432d7db8ba7a6ff81ad90652d6c5fccbff5e0d8d044873c8684654ef1b42"},
		{"x-github-delivery", "d1"},
		{NULL, NULL},
	};
	struct tcase t = TC("github", "gh-secret", h, GH_BODY, 1);
	const struct provider *p = provider_find("github");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "d1");
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), HK_ENOTFOUND);
	assert_int_equal(tverify_secret(t, "", NULL), HK_EVERIFY);
	assert_string_equal(why, "no secret configured");
}

#define GITEA_SIG "6508b1f1f158529e1e6e55c49bf8fc4e5e61e67b16bedddafb09d8fd3105220e"

static void test_gitea_forgejo_gogs(void **state)
{
	struct hdr h[] = {
		{"X-Gitea-Signature", GITEA_SIG},
		{"X-Gitea-Event", "pull_request"},
		{"X-Gitea-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473"},
		{NULL, NULL},
	};
	struct tcase t = TC("gitea", "gitea-secret", h, GH_BODY, 1);
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, GH_BODY " "), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "gitea-secreT", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "a", "gitea-secret"), 0);
	assert_int_equal(provider_event_type(provider_find("gitea"), &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "gitea.pull_request");
	assert_int_equal(provider_dedupe_key(provider_find("gitea"), &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "f6266f16-1bf3-46a5-9ea4-602e06ead473");
	tmalformed(t, 0);

	/* forgejo accepts its own header and gitea's; upper-case hex too */
	t.provider = "forgejo";
	assert_int_equal(tverify(&t), 0);
	assert_int_equal(provider_event_type(provider_find("forgejo"), &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "forgejo.pull_request");
	h[0].name = "X-Forgejo-Signature";
	h[0].value = "6508B1F1F158529E1E6E55C49BF8FC4E5E61E67B16BEDDDAFB09D8FD3105220E";
	assert_int_equal(tverify(&t), 0);
	tmalformed(t, 0);

	t.provider = "gogs";
	assert_int_equal(tverify(&t), HK_EVERIFY);
	h[0].name = "X-Gogs-Signature";
	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{}"), HK_EVERIFY);
	tmalformed(t, 0);

	/* the GitHub-style copy alone */
	struct hdr h2[] = {{"X-Hub-Signature-256", "sha256=" GITEA_SIG}, {NULL, NULL}};
	t.provider = "gitea";
	t.h = h2;
	assert_int_equal(tverify(&t), 0);
}

static void test_gitlab(void **state)
{
	struct hdr h[] = {
		{"X-Gitlab-Token", "glpat-token-1"},
		{"X-Gitlab-Event", "Merge Request Hook"},
		{"X-Gitlab-Event-UUID", "uuid-1"},
		{NULL, NULL},
		{NULL, NULL},
	};
	struct tcase t = TC("gitlab", "glpat-token-1", h, "{\"object_kind\":\"merge_request\"}", 1);
	const struct provider *p = provider_find("gitlab");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "anything"), 0); /* the token does not cover the body */
	assert_int_equal(tverify_secret(t, "glpat-token-2", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "glpat-token-", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "glpat-token-2", "glpat-token-1"), 0);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "gitlab.merge_request");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "uuid-1");
	h[3] = (struct hdr){"Idempotency-Key", "idem-1"};
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "idem-1");
	h[1].name = "x-other";
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "gitlab.merge_request");
	tmalformed(t, 0);
}

static void test_bitbucket(void **state)
{
	struct hdr h[] = {
		{"X-Hub-Signature",
		 "sha256=cd922049676b61dac44e6eb809f5b54cbf38623c491cf9cadb395e30d992e826"},
		{"X-Event-Key", "repo:push"},
		{"X-Request-UUID", "bb-uuid"},
		{NULL, NULL},
	};
	struct tcase t = TC("bitbucket", "bb-secret", h, GH_BODY, 1);
	const struct provider *p = provider_find("bitbucket");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, ""), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "gh-secret", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "gh-secret", "bb-secret"), 0);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "bitbucket.repo.push");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "bb-uuid");
	tmalformed(t, 0);
}

#define STRIPE_BODY "{\"id\":\"evt_1\",\"type\":\"charge.succeeded\"}"
#define STRIPE_V1 "v1=9121a0312a32819ed9d44a107cfe9091a74a017705544473a2112a0be64f5f73"

static void test_stripe(void **state)
{
	struct hdr h[] = {{"Stripe-Signature", "t=1700000000," STRIPE_V1}, {NULL, NULL}};
	struct tcase t = TC("stripe", "whsec_stripetest", h, STRIPE_BODY, 1700000000);
	const struct provider *p = provider_find("stripe");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{\"id\":\"evt_2\",\"type\":\"charge.succeeded\"}"),
			 HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "stripetest", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "whsec_new", "whsec_stripetest"), 0);
	assert_int_equal(tverify_now(t, 1700000300), 0);
	assert_int_equal(tverify_now(t, 1700000301), HK_EVERIFY);
	assert_string_equal(why, "timestamp too old");
	assert_int_equal(tverify_now(t, 1699999699), HK_EVERIFY);
	assert_string_equal(why, "timestamp in the future");
	t.tolerance = -1;
	assert_int_equal(tverify_now(t, 1800000000), 0);
	t.tolerance = 0;
	/* several v1 (and a v0) entries, the good one last */
	h[0].value = "t=1700000000,v0=abcd,v1=00ff," STRIPE_V1;
	assert_int_equal(tverify(&t), 0);
	/* the timestamp is signed */
	h[0].value = "t=1700000001," STRIPE_V1;
	assert_int_equal(tverify(&t), HK_EVERIFY);
	h[0].value = STRIPE_V1 ",t=1700000000";
	assert_int_equal(tverify(&t), 0);
	h[0].value = "t=1700000000," STRIPE_V1;
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "evt_1");
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "stripe.charge.succeeded");
	tmalformed(t, 0);
}

#define PADDLE_BODY "{\"event_id\":\"evt_01h\",\"event_type\":\"transaction.completed\"}"

static void test_paddle(void **state)
{
	struct hdr h[] = {
		{"Paddle-Signature", "ts=1700000000;h1=3952900c11b21cd3073b2ac01e9395f18375e091452cc2"
				     "b4e10a2777de7acbda"},
		{NULL, NULL},
	};
	struct tcase t = TC("paddle", "pdl_ntfset_secret", h, PADDLE_BODY, 1700000003);
	const struct provider *p = provider_find("paddle");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{}"), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "pdl_ntfset_other", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "pdl_ntfset_other", "pdl_ntfset_secret"), 0);
	assert_int_equal(tverify_now(t, 1700000005), 0);
	assert_int_equal(tverify_now(t, 1700000006), HK_EVERIFY);
	assert_int_equal(tverify_now(t, 1699999994), HK_EVERIFY);
	t.tolerance = 60;
	assert_int_equal(tverify_now(t, 1700000060), 0);
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "evt_01h");
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "paddle.transaction.completed");
	t.tolerance = 0;
	tmalformed(t, 0);
}

#define SHOP_BODY "{\"id\":820982911946154508,\"email\":\"jon@example.com\"}"

static void test_shopify(void **state)
{
	struct hdr h[] = {
		{"X-Shopify-Hmac-Sha256", "vo+n5h/cLxNKGlgJ0Fd1aDzU0aOaajK8Hs9m0hPqWiQ="},
		{"X-Shopify-Topic", "orders/create"},
		{"X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"},
		{NULL, NULL},
	};
	struct tcase t = TC("shopify", "shpss_secret", h, SHOP_BODY, 1);
	const struct provider *p = provider_find("shopify");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{\"id\":820982911946154509,\"email\":\"jon@example.com\"}"),
			 HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "shpss_other", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "shpss_other", "shpss_secret"), 0);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "shopify.orders.create");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
	tmalformed(t, 0);
}

#define SLACK_BODY                                                                                 \
	"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="     \
	"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%"           \
	"2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%"           \
	"2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015."           \
	"47445629121.803a0bc887a14d10d2c447fce8b6703c"

static void test_slack_doc(void **state)
{
	struct hdr h[] = {
		{"X-Slack-Signature",
		 "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
		{"X-Slack-Request-Timestamp", "1531420618"},
		{NULL, NULL},
	};
	struct tcase t = TC("slack", "8f742231b10e8888abcd99yyyzzz85a5", h, SLACK_BODY, 1531420618);
	const struct provider *p = provider_find("slack");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	json_t *answer = NULL;
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, SLACK_BODY "x"), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "8f742231b10e8888abcd99yyyzzz85a6", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "x", "8f742231b10e8888abcd99yyyzzz85a5"), 0);
	assert_int_equal(tverify_now(t, 1531420618 + 301), HK_EVERIFY);
	assert_string_equal(why, "timestamp too old");
	assert_int_equal(tverify_now(t, 1531420618 - 301), HK_EVERIFY);
	assert_string_equal(why, "timestamp in the future");
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "slack.command");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), HK_ENOTFOUND);
	assert_int_equal(provider_challenge(p, &c, &r, &answer), HK_ENOTFOUND);
	assert_null(answer);
	tmalformed(t, 0);
	tmalformed(t, 1);
}

#define SLACK_CH                                                                                   \
	"{\"token\":\"Jhj5dZrVaK7ZwHHjRyZWjbDl\",\"challenge\":"                                   \
	"\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}"

static void test_slack_challenge(void **state)
{
	struct hdr h[] = {
		{"X-Slack-Signature",
		 "v0=8db4f003dcafcd5c5babbccc185d36dd46491fd12b0fe7d784acd3d179f53951"},
		{"X-Slack-Request-Timestamp", "1700000000"},
		{NULL, NULL},
	};
	struct tcase t = TC("slack", "slack-secret", h, SLACK_CH, 1700000000);
	const struct provider *p = provider_find("slack");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	json_t *answer = NULL;
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(provider_challenge(p, &c, &r, &answer), 0);
	assert_string_equal(json_string_value(json_object_get(answer, "challenge")),
			    "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
	json_decref(answer);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "slack.url_verification");

	t.body = "{\"type\":\"event_callback\",\"event_id\":\"Ev1\",\"event\":{\"type\":\"app_mention\"}}";
	r = treq(&t);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "slack.app_mention");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "Ev1");
	assert_int_equal(provider_challenge(p, &c, &r, &answer), HK_ENOTFOUND);
}

#define ZOOM_BODY                                                                                  \
	"{\"event\":\"meeting.started\",\"event_ts\":1700000000000,\"payload\":{\"account_id\":"   \
	"\"a\"}}"
#define ZOOM_CH                                                                                    \
	"{\"payload\":{\"plainToken\":\"qgg8vlvZRS6UYooatFL8Aw\"},\"event_ts\":1654503849680,"      \
	"\"event\":\"endpoint.url_validation\"}"

static void test_zoom(void **state)
{
	struct hdr h[] = {
		{"x-zm-signature",
		 "v0=79335a78def34137d94ecca20e441100d548b288c8b7bdcf61c994cf365c0ef6"},
		{"x-zm-request-timestamp", "1700000000"},
		{NULL, NULL},
	};
	struct tcase t = TC("zoom", "zoom-secret", h, ZOOM_BODY, 1700000000);
	const struct provider *p = provider_find("zoom");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	json_t *answer = NULL;
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{}"), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "zoom-secreu", NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, "zoom-old", "zoom-secret"), 0);
	/* no window by default, one when configured */
	assert_int_equal(tverify_now(t, 1800000000), 0);
	t.tolerance = 300;
	assert_int_equal(tverify_now(t, 1700000301), HK_EVERIFY);
	t.tolerance = 0;
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "zoom.meeting.started");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "meeting.started:1700000000000");
	assert_int_equal(provider_challenge(p, &c, &r, &answer), HK_ENOTFOUND);
	tmalformed(t, 0);

	/* url validation, signed like any event; the answer uses the secret that signed it */
	h[0].value = "v0=cb5961a589eb366df1b97d5af400c3ff28c174b72c96050fab8cc21ed003dcfe";
	t.body = ZOOM_CH;
	t.secrets[0] = "zoom-old";
	t.secrets[1] = "zoom-secret";
	assert_int_equal(tverify(&t), 0);
	r = treq(&t);
	c = tcfg(&t);
	assert_int_equal(provider_challenge(p, &c, &r, &answer), 0);
	assert_string_equal(json_string_value(json_object_get(answer, "plainToken")),
			    "qgg8vlvZRS6UYooatFL8Aw");
	assert_string_equal(json_string_value(json_object_get(answer, "encryptedToken")),
			    "b17f0320a1322a509340a1a835b3d9edbc491f0b0790ed2d20d0604d39dfe922");
	json_decref(answer);
}

#define DISCORD_PUB "b33c10f555028168b64b8943d320b4fdebb5f040edb77a04e3de38f050399194"
#define DISCORD_PUB2 "7c4adf43a695e88c0d3b2a2c230fb189a734a951b4aa4a5187d0cb31477b6e8f"
#define DISCORD_SIG                                                                                \
	"1e6700f933a2c046497ffb8dee6015a3a88bafae24d6efe7dff2b3f8f48d8cd97c91869b71c179bd7d7c890ac" \
	"7db52f2008763572bcb2342fc48564c5b443f02"
#define DISCORD_BODY "{\"id\":\"1234\",\"type\":1,\"application_id\":\"99\"}"

static void test_discord(void **state)
{
	struct hdr h[] = {
		{"X-Signature-Ed25519", DISCORD_SIG},
		{"X-Signature-Timestamp", "1700000000"},
		{NULL, NULL},
	};
	struct tcase t = TC("discord", DISCORD_PUB, h, DISCORD_BODY, 1700000000);
	const struct provider *p = provider_find("discord");
	struct provider_req r = treq(&t);
	struct provider_cfg c = tcfg(&t);
	json_t *answer = NULL;
	char out[64];

	assert_int_equal(tverify(&t), 0);
	assert_int_equal(tverify_body(t, "{\"id\":\"1234\",\"type\":2,\"application_id\":\"99\"}"),
			 HK_EVERIFY);
	assert_int_equal(tverify_secret(t, DISCORD_PUB2, NULL), HK_EVERIFY);
	assert_int_equal(tverify_secret(t, DISCORD_PUB2, DISCORD_PUB), 0);
	assert_int_equal(tverify_secret(t, "not hex", NULL), HK_EVERIFY);
	h[1].value = "1700000001";
	assert_int_equal(tverify(&t), HK_EVERIFY);
	h[1].value = "1700000000";
	t.tolerance = 60;
	assert_int_equal(tverify_now(t, 1700000061), HK_EVERIFY);
	t.tolerance = 0;
	assert_int_equal(provider_challenge(p, &c, &r, &answer), 0);
	assert_int_equal(json_integer_value(json_object_get(answer, "type")), 1);
	json_decref(answer);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "discord.ping");
	assert_int_equal(provider_dedupe_key(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "1234");
	tmalformed(t, 0);
	tmalformed(t, 1);

	t.body = "{\"version\":1,\"type\":1,\"event\":{\"type\":\"APPLICATION_AUTHORIZED\"}}";
	r = treq(&t);
	assert_int_equal(provider_challenge(p, &c, &r, &answer), HK_ENOTFOUND);
	assert_int_equal(provider_event_type(p, &c, &r, out, sizeof(out)), 0);
	assert_string_equal(out, "discord.application_authorized");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github_doc),	   cmocka_unit_test(test_github_sha1),
		cmocka_unit_test(test_github_vector),	   cmocka_unit_test(test_gitea_forgejo_gogs),
		cmocka_unit_test(test_gitlab),		   cmocka_unit_test(test_bitbucket),
		cmocka_unit_test(test_stripe),		   cmocka_unit_test(test_paddle),
		cmocka_unit_test(test_shopify),		   cmocka_unit_test(test_slack_doc),
		cmocka_unit_test(test_slack_challenge),	   cmocka_unit_test(test_zoom),
		cmocka_unit_test(test_discord),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
