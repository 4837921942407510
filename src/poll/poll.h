/*
 * poll.h - the polling bridge: poll sources (documents of kind "poll") turn
 * an HTTP API that only offers polling into webhooks. A poller thread
 * fetches each enabled source on its interval, diffs the answer against the
 * source's stored state (rule.h) and publishes every new or changed item
 * (or the changed document) as a message of the source's application.
 *
 *     struct poller *p;
 *     poller_start(&cfg, &p);      // one thread; sources load from the store
 *     poller_invalidate(p);        // after a poll document was written (any thread)
 *     poller_stop(p);              // requests in flight are abandoned
 *
 * State (seen ids, ETag / Last-Modified, document hash, failures) lives in a
 * document of kind "poll_state" whose id and parent are the source's id, so
 * it goes away with its source and every store backend keeps it unchanged.
 */
#ifndef HK_POLL_H
#define HK_POLL_H

#include <stddef.h>
#include <stdint.h>

#include "deliver/addr.h"
#include "deliver/dispatch.h"
#include "deliver/fanout.h"
#include "store/store.h"

#define POLL_BODY_MAX ((size_t)8 << 20) /* one page of an answer */
#define POLL_PAGES_MAX 10               /* Link rel="next" pages followed per poll */
#define POLL_BACKOFF_MAX_MS ((int64_t)3600 * 1000)

struct poller_config {
	struct store *store;
	struct fanout *fanout;
	struct dispatch *dispatch; /* may be NULL: messages stay pending for a worker */
	struct addr_policy policy; /* the same SSRF guard as deliveries */
	const char *user_agent;
	int64_t timeout_ms;        /* one request; default 30000 */
	size_t body_max;           /* default POLL_BODY_MAX */
	int max_pages;             /* default POLL_PAGES_MAX */
};

struct poller;

int poller_start(const struct poller_config *cfg, struct poller **out);
/* poller_stop ends the thread and frees p; poller_stop(NULL) is a no-op */
void poller_stop(struct poller *p);
/* poller_invalidate makes the thread re-read poll documents soon; NULL is a no-op */
void poller_invalidate(struct poller *p);

#endif
