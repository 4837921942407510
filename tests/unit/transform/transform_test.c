/*
 * transform_test.c - the sandbox refuses escapes, limits stop runs cleanly,
 * runs do not leak into each other, outputs are checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "transform/transform.h"
#include "test.h"

static int run(struct transform_cache *c, const char *code, struct transform_out *out, char *err,
	       size_t errlen)
{
	static json_t *headers;
	struct transform_in in = {.event_type = "order.created", .payload = "{\"id\":7}", .len = 8,
				  .url = "http://example.com/h"};
	if (!headers)
		headers = json_pack("{s:s}", "X-Kind", "test");
	in.headers = headers;
	return transform_run(c, NULL, "k", code, &in, out, err, errlen);
}

static void test_reshape(void **state)
{
	struct transform_out out;
	char err[512];
	(void)state;
	assert_int_equal(run(NULL,
			     "function handler(webhook)\n"
			     "  webhook.payload = { text = 'New order ' .. webhook.payload.id }\n"
			     "  webhook.url = webhook.url .. '?kind=' .. webhook.headers['X-Kind']\n"
			     "  webhook.method = 'put'\n"
			     "  webhook.headers['X-Extra'] = 'yes'\n"
			     "  print('made', webhook.payload.text)\n"
			     "  return webhook\n"
			     "end",
			     &out, err, sizeof(err)),
			 0);
	assert_false(out.cancel);
	assert_string_equal(out.payload, "{\"text\":\"New order 7\"}");
	assert_string_equal(out.url, "http://example.com/h?kind=test");
	assert_string_equal(out.method, "PUT");
	assert_string_equal(out.event_type, "order.created");
	assert_string_equal(json_string_value(json_object_get(out.headers, "X-Extra")), "yes");
	assert_string_equal(out.logs, "made\tNew order 7\n");
	transform_out_release(&out);
}

static void test_cancel(void **state)
{
	struct transform_out out;
	char err[512];
	(void)state;
	assert_int_equal(run(NULL, "function handler(w) w.cancel = w.payload.id == 7 return w end", &out,
			     err, sizeof(err)),
			 0);
	assert_true(out.cancel);
	transform_out_release(&out);
}

/* expect_fail runs code and checks it fails with rc and a message containing what */
static void expect_fail(struct transform_cache *c, const char *code, int rc, const char *what)
{
	struct transform_out out;
	char err[512] = "";
	int got = run(c, code, &out, err, sizeof(err));
	if (got != rc || !strstr(err, what))
		fail_msg("%s\n  got %d (%s) want %d with '%s'", code, got, err, rc, what);
	transform_out_release(&out);
}

static void test_escapes_refused(void **state)
{
	static const char *const escapes[] = {
		"function handler(w) io.write('x') return w end",
		"function handler(w) os.execute('touch /tmp/hookd-escaped') return w end",
		"function handler(w) require('os') return w end",
		"function handler(w) load(string.dump(function() end)) return w end",
		"function handler(w) load('\\27Lua') return w end",
		"function handler(w) loadstring('return 1') return w end",
		"function handler(w) dofile('/etc/passwd') return w end",
		"function handler(w) debug.getinfo(1) return w end",
		"function handler(w) string.dump(handler) return w end",
		"function handler(w) local d = ('x').dump; d(handler) return w end",
		"function handler(w) getmetatable('').__index.dump(handler) return w end",
		"function handler(w) collectgarbage('stop') return w end",
		"function handler(w) rawset(string, 'x', 1) return w end",
		"function handler(w) string.upper = nil return w end",
		"function handler(w) setmetatable(string, {}) return w end",
		"function handler(w) setmetatable({}, {__gc = function() while true do end end}) return w end",
		"function handler(w) package.loaded.os.exit() return w end",
		"function handler(w) coroutine.wrap(function() end)() return w end",
		"function handler(w) _G._G.io.open('/etc/passwd') return w end",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++)
		expect_fail(NULL, escapes[i], HK_EINVAL, "transformation failed");
}

static void test_limits(void **state)
{
	struct transform_cache *c;
	struct transform_out out;
	char err[512];
	int64_t t0;
	(void)state;

	assert_int_equal(transform_cache_new(NULL, 4, &c), 0);
	t0 = clock_mono_us();
	expect_fail(c, "function handler(w) while true do end end", HK_ETIMEOUT, "instruction budget");
	assert_true(clock_mono_us() - t0 < 500000);
	expect_fail(c, "function handler(w) while true do pcall(function() while true do end end) end end",
		    HK_ETIMEOUT, "instruction budget");
	expect_fail(c, "function handler(w) xpcall(function() while true do end end, function() while true do end end) return w end",
		    HK_ETIMEOUT, "instruction budget");
	expect_fail(c, "while true do end function handler(w) return w end", HK_ETIMEOUT, "instruction budget");
	expect_fail(c, "function handler(w) local t = {} while true do t[#t + 1] = string.rep('x', 1000) .. #t end end",
		    HK_ENOMEM, "memory limit");
	expect_fail(c, "function handler(w) local t = {} while true do pcall(function() t[#t + 1] = {1, 2, 3, 4} end) end end",
		    HK_ENOMEM, "memory limit");
	expect_fail(c, "function handler(w) local s = string.rep('x', 1 << 30) return w end", HK_ENOMEM, "memory limit");
	expect_fail(c, "function handler(w) local s = string.rep('a', 5000) s:find('.-.-.-.-b') return w end",
		    HK_EINVAL, "pattern too costly");
	expect_fail(c, "function handler(w) table.move({}, 1, math.maxinteger, 2) return w end", HK_EINVAL,
		    "too many elements");
	/* a state that hit a limit keeps working, and cheap C loops stay cheap */
	assert_int_equal(run(c, "function handler(w) local s = string.rep('', 1 << 50) .. ('a b'):match('^(%S+)%s+(.*)$') w.payload = s return w end",
			     &out, err, sizeof(err)),
			 0);
	assert_string_equal(out.payload, "\"a\"");
	transform_out_release(&out);
	transform_cache_free(c);
}

static void test_runs_do_not_leak(void **state)
{
	static const char code[] =
		"counter = (counter or 0) + 1\n"
		"local n = 0\n"
		"function handler(w)\n"
		"  n = n + 1; seen = (seen or 0) + 1\n"
		"  w.payload = {counter = counter, n = n, seen = seen, len = #w.payload}\n"
		"  string.custom = 1\n" /* refused, and the refusal is caught */
		"  return w\n"
		"end\n";
	struct transform_cache *c;
	char err[512];
	(void)state;

	assert_int_equal(transform_cache_new(NULL, 2, &c), 0);
	for (int i = 0; i < 3; i++) {
		struct transform_out out;
		const char *wrapped = "local ok = pcall(function() string.custom = 1 end) assert(not ok)\n"
				      "function handler(w) counter = (counter or 0) + 1 w.payload = {c = counter} return w end";
		assert_int_equal(run(c, wrapped, &out, err, sizeof(err)), 0);
		assert_string_equal(out.payload, "{\"c\":1}");
		transform_out_release(&out);
	}
	expect_fail(c, code, HK_EINVAL, "read-only");
	transform_cache_free(c);
}

static void test_invalid_outputs(void **state)
{
	(void)state;
	expect_fail(NULL, "function handler(w) return 5 end", HK_EINVAL, "must return the webhook table");
	expect_fail(NULL, "function handler(w) end", HK_EINVAL, "must return the webhook table");
	expect_fail(NULL, "function handler(w) w.url = 'ftp://x' return w end", HK_EINVAL, "url");
	expect_fail(NULL, "function handler(w) w.url = nil return w end", HK_EINVAL, "url");
	expect_fail(NULL, "function handler(w) w.method = 'TRACE' return w end", HK_EINVAL, "method");
	expect_fail(NULL, "function handler(w) w.payload = nil return w end", HK_EINVAL, "payload is missing");
	expect_fail(NULL, "function handler(w) w.eventType = 'a b' return w end", HK_EINVAL, "eventType");
	expect_fail(NULL, "function handler(w) w.headers['webhook-signature'] = 'v1,x' return w end", HK_EINVAL,
		    "set by hookd");
	expect_fail(NULL, "function handler(w) w.headers['X-A'] = 'a\\r\\nB: c' return w end", HK_EINVAL, "CR, LF");
	expect_fail(NULL, "function handler(w) error({}) end", HK_EINVAL, "not a string");
	expect_fail(NULL, "function handler(w) error('boom') end", HK_EINVAL, "transformation:1: boom");
}

static void test_check(void **state)
{
	char err[512];
	(void)state;
	assert_int_equal(transform_check("function handler(w) return w end", err, sizeof(err)), 0);
	assert_int_equal(transform_check("function handler(w) return w", err, sizeof(err)), HK_EPARSE);
	assert_non_null(strstr(err, "does not compile"));
	assert_int_equal(transform_check("local x = 1", err, sizeof(err)), HK_EINVAL);
	assert_non_null(strstr(err, "handler"));
	assert_int_equal(transform_check("\27Lua", err, sizeof(err)), HK_EPARSE);
}

/* the default budget is about 10 ms of plain Lua on this machine (printed, not asserted) */
static void test_budget_duration(void **state)
{
	struct transform_out out;
	char err[512];
	int64_t t0 = clock_mono_us();
	(void)state;
	run(NULL, "function handler(w) local x = 0 while true do x = x + 1 end end", &out, err, sizeof(err));
	printf("default instruction budget took %.1f ms\n", (double)(clock_mono_us() - t0) / 1000.0);
	transform_out_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reshape),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_escapes_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_runs_do_not_leak),
		cmocka_unit_test(test_invalid_outputs),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_budget_duration),
	};
	return RUN(tests);
}
