/*
 * fanout.h - which endpoints a message goes to, and a cache of each
 * application's endpoints so a publish does not read them from the store.
 *
 * An endpoint matches a message when it is enabled, its eventTypes is empty
 * (null) or holds the message's type, and its channels are empty or share
 * one with the message's channels; a message without channels does not
 * match an endpoint that has some.
 *
 * The cache is invalidated as a whole by fanout_invalidate(), which the API
 * calls after any endpoint, application or source write commits; entries are then
 * reloaded on their next use. Thread-safe.
 */
#ifndef HK_FANOUT_H
#define HK_FANOUT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/map.h"
#include "store/store.h"

bool fanout_match(const json_t *endpoint, const char *event_type, const json_t *channels);

struct fanout {
	struct store *store;
	pthread_mutex_t mu;
	struct map apps;        /* app id -> struct fanout_entry */
	struct map app_docs;    /* "kind/id-or-uid" -> struct fanout_entry holding the document */
	atomic_uint_fast64_t gen;
};

void fanout_init(struct fanout *f, struct store *store);
void fanout_release(struct fanout *f);
void fanout_invalidate(struct fanout *f);
/*
 * fanout_endpoints returns (a new reference to) the array of the app's
 * endpoint documents, from the cache or the store.
 */
int fanout_endpoints(struct fanout *f, const char *app_id, json_t **out);

/*
 * fanout_doc_shared finds a top-level document ("app", "source") by id or
 * uid through the same cache and gives the cached document itself (one more
 * reference, no copy): callers only read it and must never change it, since
 * other threads read the same one. A publish reads its application and an
 * inbound post its source on every call.
 */
int fanout_doc_shared(struct fanout *f, const char *kind, const char *key, json_t **out);

#endif
