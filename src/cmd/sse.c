/*
 * sse.c - server-sent events parsing; see sse.h. Follows the field rules of
 * the HTML living standard's event-stream interpretation: "field: value"
 * with one optional space after the colon, unknown fields ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/sse.h"
#include "core/err.h"

void sse_init(struct sse_parser *p, sse_event_fn fn, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->arg = arg;
	buf_init(&p->line, SSE_LINE_MAX);
	buf_init(&p->data, SSE_DATA_MAX);
}

void sse_release(struct sse_parser *p)
{
	buf_release(&p->line);
	buf_release(&p->data);
}

void sse_reset(struct sse_parser *p)
{
	buf_reset(&p->line);
	buf_reset(&p->data);
	p->event[0] = '\0';
	p->has_data = false;
	p->skip_lf = false;
}

static int dispatch(struct sse_parser *p)
{
	int rc = 0;

	if (p->has_data)
		rc = p->fn(p->event[0] ? p->event : "message", buf_cstr(&p->data), p->data.len, p->arg);
	buf_reset(&p->data);
	p->event[0] = '\0';
	p->has_data = false;
	return rc;
}

static int field(struct sse_parser *p, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t nlen = colon ? (size_t)(colon - line) : n;
	const char *val = colon ? colon + 1 : line + n;
	size_t vlen = (size_t)(line + n - val);

	if (vlen && *val == ' ') {
		val++;
		vlen--;
	}
	if (nlen == 4 && memcmp(line, "data", 4) == 0) {
		int rc = p->has_data ? buf_append(&p->data, "\n", 1) : 0;
		p->has_data = true;
		return rc ? rc : buf_append(&p->data, val, vlen);
	}
	if (nlen == 5 && memcmp(line, "event", 5) == 0) {
		snprintf(p->event, sizeof(p->event), "%.*s", (int)vlen, val);
	} else if (nlen == 2 && memcmp(line, "id", 2) == 0) {
		if (!memchr(val, '\0', vlen))
			snprintf(p->last_id, sizeof(p->last_id), "%.*s", (int)vlen, val);
	} else if (nlen == 5 && memcmp(line, "retry", 5) == 0) {
		long ms = 0;
		size_t i;
		for (i = 0; i < vlen && val[i] >= '0' && val[i] <= '9' && ms < 86400000L; i++)
			ms = ms * 10 + (val[i] - '0');
		if (i == vlen && vlen)
			p->retry_ms = ms;
	}
	return 0;
}

static int end_line(struct sse_parser *p)
{
	const char *line = buf_cstr(&p->line);
	size_t n = p->line.len;
	int rc;

	if (n == 0)
		rc = dispatch(p);
	else if (line[0] == ':')
		rc = 0; /* a comment: keep-alive */
	else
		rc = field(p, line, n);
	buf_reset(&p->line);
	return rc;
}

int sse_feed(struct sse_parser *p, const char *bytes, size_t n)
{
	size_t i = 0;
	int rc = 0;

	if (p->skip_lf && n && bytes[0] == '\n')
		i = 1;
	p->skip_lf = false;
	while (rc == 0 && i < n) {
		size_t start = i;
		while (i < n && bytes[i] != '\n' && bytes[i] != '\r')
			i++;
		rc = buf_append(&p->line, bytes + start, i - start);
		if (rc < 0 || i == n)
			break;
		if (bytes[i] == '\r') {
			if (i + 1 < n && bytes[i + 1] == '\n')
				i++;
			else if (i + 1 == n)
				p->skip_lf = true;
		}
		i++;
		rc = end_line(p);
	}
	return rc;
}
