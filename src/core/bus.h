/*
 * bus.h - a process-wide event bus for live views (the /api/v1/stream
 * server-sent events that `hookd tail` and the dashboard follow).
 *
 * Producers call bus_publish() on their own threads; when no one listens it
 * costs one atomic load and the data is dropped unserialised. Subscribers'
 * callbacks run on the producer's thread, under the bus lock: they must
 * only copy the text into a buffer of their own and wake their reader.
 */
#ifndef HK_BUS_H
#define HK_BUS_H

#include <jansson.h>
#include <stdbool.h>

struct bus_sub;

/* kind: "message", "attempt", "inbound", "hook"; app and source may be NULL */
typedef void (*bus_fn)(void *arg, const char *kind, const char *app, const char *source,
		       const char *json);

struct bus_sub *bus_subscribe(bus_fn fn, void *arg);
/* bus_unsubscribe: after it returns, fn is never called again for sub */
void bus_unsubscribe(struct bus_sub *sub);
bool bus_active(void);
/* bus_publish takes the reference to data */
void bus_publish(const char *kind, const char *app, const char *source, json_t *data);

#endif
