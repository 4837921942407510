/*
 * sse.h - a push parser for server-sent events (the text/event-stream
 * format), as `hookd tail` reads it.
 *
 * Bytes go in as they arrive, in chunks of any size; each complete event
 * (a blank line after one or more data lines) comes out through the
 * callback with its name ("message" when the stream names none) and its data
 * lines joined by '\n'. Comment lines (":" keep-alives) are skipped. Lines
 * end with "\n", "\r\n" or "\r". A line or an event longer than its cap is
 * HK_ETOOBIG and the parser should be dropped with the connection.
 */
#ifndef HK_CMD_SSE_H
#define HK_CMD_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define SSE_LINE_MAX (1u << 20)
#define SSE_DATA_MAX (4u << 20)

/* sse_event_fn returns 0 to go on, or a negative code that sse_feed passes back */
typedef int (*sse_event_fn)(const char *event, const char *data, size_t len, void *arg);

struct sse_parser {
	sse_event_fn fn;
	void *arg;
	struct buf line;
	struct buf data;
	char event[128];
	char last_id[256]; /* the last "id:" seen, for a reconnect's Last-Event-ID */
	long retry_ms;     /* the last "retry:" seen, 0 when none */
	bool has_data;
	bool skip_lf; /* the previous chunk ended with '\r' */
};

void sse_init(struct sse_parser *p, sse_event_fn fn, void *arg);
void sse_release(struct sse_parser *p);
/* sse_reset forgets a partial event (after a reconnect); last_id and retry_ms stay. */
void sse_reset(struct sse_parser *p);
int sse_feed(struct sse_parser *p, const char *bytes, size_t n);

#endif
