/*
 * hooks_rules_fuzz.c - libFuzzer target: a fixed hook with every match type,
 * fed a fuzzed request. The input is split on the first two NUL bytes into
 * headers ("Name: value" lines), a query string and the body; the body is
 * parsed as JSON, as a form, as XML and as multipart in turn, and for each
 * the rules are evaluated and the argv built.
 *
 *   clang -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Isrc \
 *       tests/fuzz/hooks_rules_fuzz.c $(ls src/core/[a-z]*.c src/hooks/[a-z]*.c) \
 *       $(pkg-config --cflags --libs jansson yaml-0.1 openssl)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "hooks/hookdef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char hooks_json[] =
	"[{\"id\":\"f\",\"execute-command\":\"/bin/true\","
	"\"trigger-signature-soft-failures\":true,"
	"\"parse-parameters-as-json\":[{\"source\":\"payload\",\"name\":\"payload\"},"
	"{\"source\":\"header\",\"name\":\"X-Json\"}],"
	"\"pass-arguments-to-command\":[{\"source\":\"payload\",\"name\":\"a.0.b\"},"
	"{\"source\":\"entire-payload\"},{\"source\":\"entire-headers\"},"
	"{\"source\":\"entire-query\"},{\"source\":\"url\",\"name\":\"q\"}],"
	"\"pass-environment-to-command\":[{\"source\":\"header\",\"name\":\"X-Env\"}],"
	"\"pass-file-to-command\":[{\"source\":\"payload\",\"name\":\"file\","
	"\"base64decode\":true}],"
	"\"trigger-rule\":{\"or\":["
	"{\"match\":{\"type\":\"payload-hmac-sha256\",\"secret\":\"s\","
	"\"parameter\":{\"source\":\"header\",\"name\":\"X-Sig\"}}},"
	"{\"match\":{\"type\":\"payload-hash-sha1\",\"secret\":\"s\","
	"\"parameter\":{\"source\":\"header\",\"name\":\"X-Sig1\"}}},"
	"{\"match\":{\"type\":\"payload-hmac-sha512\",\"secret\":\"s\","
	"\"parameter\":{\"source\":\"url\",\"name\":\"sig\"}}},"
	"{\"match\":{\"type\":\"scalr-signature\",\"secret\":\"k\"}},"
	"{\"and\":[{\"match\":{\"type\":\"regex\",\"regex\":\"(?i)^v[\\\\d.]+\","
	"\"parameter\":{\"source\":\"payload\",\"name\":\"ref\"}}},"
	"{\"not\":{\"match\":{\"type\":\"value\",\"value\":\"x\","
	"\"parameter\":{\"source\":\"payload\",\"name\":\"payload.commits.0.id\"}}}},"
	"{\"match\":{\"type\":\"ip-whitelist\",\"ip-range\":\"10.0.0.0/8 ::1/128\"}}]}]}}]";

static const char *const ctypes[] = {
	"application/json", "application/x-www-form-urlencoded", "application/xml",
	"multipart/form-data; boundary=b",
};

static void add_headers(struct hookreq *r, const char *s, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t len = nl ? (size_t)(nl - s) : n;
		const char *colon = memchr(s, ':', len);
		if (colon) {
			char *name = strndup(s, (size_t)(colon - s));
			char *value = strndup(colon + 1, len - (size_t)(colon - s) - 1);
			if (name && value)
				hookreq_add_header(r, name, value);
			free(name);
			free(value);
		}
		s += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
}

static void run(const struct hookdef *d, const char *ct, const char *hdr, size_t hn,
		const char *qs, size_t qn, const char *body, size_t bn)
{
	struct hookreq *r = hookreq_new("POST", "10.1.2.3:99");
	struct hookdef_argv a;
	const char *msg;
	int status;
	char err[128];

	if (!r)
		return;
	r->now_ms = 1504765804000LL;
	add_headers(r, hdr, hn);
	hookreq_set_query(r, qs, qn);
	hookreq_set_body(r, body, bn);
	if (hookreq_parse_body(r, ct, d->parse_json, d->nparse_json) == 0) {
		hookreq_parse_json_args(r, d->parse_json, d->nparse_json);
		hookdef_trigger(d, r, &status, &msg, err, sizeof(err));
		if (hookdef_build_argv(d, r, &a, err, sizeof(err)) == 0)
			hookdef_argv_release(&a);
	}
	hookreq_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hookdef_set set;
	static int ready;
	const char *s = (const char *)data, *z1, *z2;
	size_t hn, qn;
	char err[256];

	if (!ready) {
		log_init(LOG_TEXT, LOG_ERROR);
		if (hookdef_load_buf(hooks_json, sizeof(hooks_json) - 1, HOOKDEF_JSON, &set, err,
				     sizeof(err)) < 0)
			abort();
		ready = 1;
	}
	z1 = memchr(s, '\0', size);
	hn = z1 ? (size_t)(z1 - s) : 0;
	z2 = z1 ? memchr(z1 + 1, '\0', size - hn - 1) : NULL;
	qn = z2 ? (size_t)(z2 - z1 - 1) : 0;
	{
		const char *body = z2 ? z2 + 1 : s;
		size_t bn = size - (size_t)(body - s);
		for (size_t i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++)
			run(&set.hooks[0], ctypes[i], s, hn, z1 ? z1 + 1 : "", qn, body, bn);
	}
	return 0;
}
