#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/sse.h"
#include "core/err.h"
#include "test.h"

struct seen {
	int n;
	char event[8][64];
	char data[8][256];
};

static int record(const char *event, const char *data, size_t len, void *arg)
{
	struct seen *s = arg;
	if (s->n == 8)
		return HK_EFULL;
	snprintf(s->event[s->n], sizeof(s->event[0]), "%s", event);
	snprintf(s->data[s->n], sizeof(s->data[0]), "%.*s", (int)len, data);
	assert_int_equal(strlen(data), len);
	s->n++;
	return 0;
}

static const char stream[] = ": keep-alive\n\n"
			     "event: message\ndata: {\"id\":\"msg_1\"}\n\n"
			     "event: attempt\r\ndata: {\"a\":\r\ndata:1}\r\n\r\n"
			     "id: 7\rretry: 1500\rdata: plain\r\r"
			     "event: ignored-without-data\n\n"
			     "data\n\n";

static void check(const struct seen *s, const struct sse_parser *p)
{
	assert_int_equal(s->n, 4);
	assert_string_equal(s->event[0], "message");
	assert_string_equal(s->data[0], "{\"id\":\"msg_1\"}");
	assert_string_equal(s->event[1], "attempt");
	assert_string_equal(s->data[1], "{\"a\":\n1}");
	assert_string_equal(s->event[2], "message"); /* the default name */
	assert_string_equal(s->data[2], "plain");
	assert_string_equal(s->data[3], ""); /* a bare "data" line is an empty data line */
	assert_string_equal(p->last_id, "7");
	assert_int_equal(p->retry_ms, 1500);
}

static void test_whole(void **state)
{
	struct seen s = {0};
	struct sse_parser p;
	(void)state;
	sse_init(&p, record, &s);
	assert_int_equal(sse_feed(&p, stream, strlen(stream)), 0);
	check(&s, &p);
	sse_release(&p);
}

/* every split point, including between '\r' and '\n', gives the same events */
static void test_byte_by_byte(void **state)
{
	(void)state;
	for (size_t cut = 1; cut < strlen(stream); cut++) {
		struct seen s = {0};
		struct sse_parser p;
		sse_init(&p, record, &s);
		assert_int_equal(sse_feed(&p, stream, cut), 0);
		assert_int_equal(sse_feed(&p, stream + cut, strlen(stream) - cut), 0);
		check(&s, &p);
		sse_release(&p);
	}
	{
		struct seen s = {0};
		struct sse_parser p;
		sse_init(&p, record, &s);
		for (size_t i = 0; i < strlen(stream); i++)
			assert_int_equal(sse_feed(&p, stream + i, 1), 0);
		check(&s, &p);
		sse_release(&p);
	}
}

static void test_reset_and_errors(void **state)
{
	struct seen s = {0};
	struct sse_parser p;
	char *big;
	(void)state;
	sse_init(&p, record, &s);
	/* a partial event before a reconnect is forgotten */
	assert_int_equal(sse_feed(&p, "event: x\ndata: half", 19), 0);
	sse_reset(&p);
	assert_int_equal(sse_feed(&p, "data: whole\n\n", 13), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.event[0], "message");
	assert_string_equal(s.data[0], "whole");
	/* a line past its cap is an error */
	big = malloc(SSE_LINE_MAX + 1);
	memset(big, 'a', SSE_LINE_MAX + 1);
	assert_int_equal(sse_feed(&p, big, SSE_LINE_MAX + 1), HK_ETOOBIG);
	free(big);
	/* the callback's error comes back */
	sse_reset(&p);
	s.n = 8;
	assert_int_equal(sse_feed(&p, "data: x\n\n", 9), HK_EFULL);
	sse_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_reset_and_errors),
	};
	return RUN(tests);
}
