/*
 * claim.h - the claim loop: one thread that keeps this node's lease alive,
 * claims pending deliveries no live node holds and hands them to the
 * dispatcher, fetches shared rate-limit tokens, and hears other nodes'
 * notifications (work to claim, endpoints changed).
 *
 * On SQLite (one node) the same loop runs: its first claims hand back what
 * a previous run left pending, then it finds nothing more; its lease and
 * tokens are no-ops. See docs/internals/store-pg.md.
 *
 *     claim_new(&cfg, &c);     // registers the node before the API accepts work
 *     dispatch_start(...)      // with want_tokens = claim_want_tokens, tokens_arg = c
 *     claim_run(c, d);         // the thread starts
 *     ...
 *     claim_stop(c);           // the thread ends; want_tokens becomes a no-op
 *     dispatch_stop(d);
 *     store_node_stop(st);     // give pending work back for other nodes
 *     claim_free(c);
 */
#ifndef HK_CLAIM_H
#define HK_CLAIM_H

#include <stdint.h>

#include "deliver/dispatch.h"
#include "store/store.h"

struct claim;

struct claim_config {
	struct store *store;
	bool deliver;              /* false: this node does not deliver; it only listens */
	const char *node;          /* this node's id (hostname-pid-random) */
	int64_t lease_ms;          /* default 30 s */
	int64_t poll_ms;           /* backstop poll for dead nodes' work; default min(5 s, lease / 2) */
	/* called on the claim thread when another node changed endpoints or applications */
	void (*config_changed)(void *arg);
	void *arg;
};

int claim_new(const struct claim_config *cfg, struct claim **out);
/* claim_run starts the thread; d is the dispatcher (NULL when the node does not deliver) */
int claim_run(struct claim *c, struct dispatch *d);
/* claim_want_tokens is the dispatcher's want_tokens callback (tokens_arg: the claim) */
void claim_want_tokens(void *arg, const char *endpoint, int rate, int want);
void claim_stop(struct claim *c);
void claim_free(struct claim *c);

#endif
