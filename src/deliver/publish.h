/*
 * publish.h - turning an event into a stored message with its deliveries,
 * for every producer of messages: the publish API, send-example, inbound
 * routes and the polling bridge.
 *
 *     struct publish_after *after;
 *     publish_prepare(&in, fanout, dispatch, w, &out, &after);   // adds SOP_MSG_INSERT to w
 *     ... submit w with publish_then(after) as its post-commit step ...
 *
 * publish_then hands the deliveries to the dispatcher (call it only after
 * the commit); publish_free releases after either way.
 */
#ifndef HK_PUBLISH_H
#define HK_PUBLISH_H

#include <jansson.h>

#include "core/id.h"
#include "deliver/dispatch.h"
#include "deliver/fanout.h"
#include "store/store.h"

struct publish_in {
	const char *app_id;
	const char *event_type;
	const char *event_id;      /* NULL: none */
	const char *payload;       /* bytes delivered as they are */
	size_t len;
	json_t *channels;          /* NULL: none */
	json_t *tags;              /* NULL: none */
	int retention_hours;       /* how long the payload is kept */
	const char *only_endpoint; /* deliver to this endpoint only (send-example) */
	json_t *headers;           /* extra request headers for every delivery, or NULL */
	int64_t deliver_at;        /* when to deliver (ms), 0: at once */
};

struct publish_out {
	char id[ID_MAX];
	int64_t created;
	size_t nendpoints;
};

struct publish_after;

int publish_prepare(const struct publish_in *in, struct fanout *f, struct dispatch *d,
		    struct store_write *w, struct publish_out *out, struct publish_after **after);
void publish_then(void *after);
void publish_free(void *after);

#endif
