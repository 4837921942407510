/*
 * prov_test.h - what the provider tests share: a request built from a
 * header table, verification in one call, and the malformed-header sweep
 * every provider goes through.
 */
#ifndef HK_PROV_TEST_H
#define HK_PROV_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "core/err.h"
#include "inbound/provider.h"

struct hdr {
	const char *name, *value;
};

static char why[PROVIDER_REASON_MAX];

static inline const char *hget(void *ctx, const char *name)
{
	for (const struct hdr *h = ctx; h && h->name; h++)
		if (!strcasecmp(h->name, name))
			return h->value;
	return NULL;
}

struct tcase {
	const char *provider;
	const char *secrets[3];
	struct hdr *h;
	const char *body;
	int64_t now;
	const char *url, *content_type;
	int tolerance;
	json_t *config;
};

#define TC(prov, secret, hdrs, b, t)                                                               \
	(struct tcase) { .provider = (prov), .secrets = {(secret)}, .h = (hdrs), .body = (b), .now = (t) }

static inline struct provider_req treq(const struct tcase *t)
{
	struct provider_req r = {
		.method = "POST",
		.url = t->url,
		.header = hget,
		.hctx = t->h,
		.body = (const unsigned char *)t->body,
		.body_len = t->body ? strlen(t->body) : 0,
		.content_type = t->content_type,
		.now = t->now,
	};
	return r;
}

static inline struct provider_cfg tcfg(const struct tcase *t)
{
	size_t n = 0;
	while (n < 3 && t->secrets[n])
		n++;
	struct provider_cfg c = {t->secrets, n, t->tolerance, t->config};
	return c;
}

static inline int tverify(const struct tcase *t)
{
	const struct provider *p = provider_find(t->provider);
	struct provider_req r = treq(t);
	struct provider_cfg c = tcfg(t);

	assert_non_null(p);
	why[0] = '\0';
	return provider_verify(p, &c, &r, why, sizeof(why));
}

/* the same case with a body, secrets or clock changed */
static inline int tverify_body(struct tcase t, const char *body)
{
	t.body = body;
	return tverify(&t);
}

static inline int tverify_secret(struct tcase t, const char *s1, const char *s2)
{
	t.secrets[0] = s1;
	t.secrets[1] = s2;
	t.secrets[2] = NULL;
	return tverify(&t);
}

static inline int tverify_now(struct tcase t, int64_t now)
{
	t.now = now;
	return tverify(&t);
}

/*
 * tmalformed replaces header h[idx] by hostile values (and removes it):
 * every one must fail to verify, none may crash. good is the valid value,
 * used to build a truncated and a re-prefixed copy.
 */
static inline void tmalformed(struct tcase t, size_t idx)
{
	const char *good = t.h[idx].value;
	size_t glen = strlen(good);
	char *trunc = strdup(good), *wrong = malloc(glen + 8), *huge = malloc(100 * 1024 + 1);
	const char *vals[] = {"", " ", ",", ";", "=", "sha256=", "v0=", "v1,", "t=", "ts=;h1=",
			      "garbage", "zz", NULL, NULL, NULL};
	const char *saved_name = t.h[idx].name;

	assert_non_null(trunc);
	assert_non_null(wrong);
	assert_non_null(huge);
	trunc[glen > 4 ? glen - 4 : 0] = '\0';
	memcpy(wrong, "xx", 2);
	memcpy(wrong + 2, good + (glen > 3 ? 3 : 0), glen - (glen > 3 ? 3 : 0) + 1);
	memset(huge, 'a', 100 * 1024);
	huge[100 * 1024] = '\0';
	vals[12] = trunc;
	vals[13] = wrong;
	vals[14] = huge;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		t.h[idx].value = vals[i];
		if (tverify(&t) == 0)
			print_error("verified with '%.40s'\n", vals[i]);
		assert_int_not_equal(tverify(&t), 0);
		assert_true(why[0] != '\0');
	}
	/* the valid value preceded by 100 KB of junk */
	memcpy(huge + 100 * 1024 - glen, good, glen);
	t.h[idx].value = huge;
	assert_int_not_equal(tverify(&t), 0);
	/* absent */
	t.h[idx].name = "x-absent";
	assert_int_not_equal(tverify(&t), 0);
	t.h[idx].name = saved_name;
	t.h[idx].value = good;
	free(trunc);
	free(wrong);
	free(huge);
}

#endif
