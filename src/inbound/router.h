/*
 * router.h - what happens to an accepted inbound event after its 200: each
 * of its source's routes whose filter matches turns it into a message in an
 * application (then delivered by the delivery engine, signed by hookd), with
 * the original body bytes as the payload.
 *
 * Routing runs on its own thread from a queue of event ids. Each event's
 * messages and its new status are written in one commit, and that commit
 * changes the status only if the event is still "received" (else the whole
 * commit is undone), so an event is routed once even across a crash and
 * across nodes sharing a database: events still "received" are routed at
 * start-up (router_recover) and, when older than a few seconds, by an idle
 * router's periodic rescan (a full queue, a node that died first).
 */
#ifndef HK_ROUTER_INBOUND_H
#define HK_ROUTER_INBOUND_H

#include <stdbool.h>

#include "deliver/dispatch.h"
#include "deliver/fanout.h"
#include "store/store.h"

struct inbound_router;

/* a command hook runner, called for routes with "hook" (may be NULL) */
typedef int (*router_hook_fn)(void *arg, const char *hook_id, const char *event_id);

struct router_config {
	struct store *store;
	struct fanout *fanout;
	struct dispatch *dispatch;   /* NULL on a node that does not deliver */
	router_hook_fn run_hook;
	void *hook_arg;
};

int router_start(const struct router_config *cfg, struct inbound_router **out);
void router_stop(struct inbound_router *r);
/* router_route queues an event; replay=true routes it again even if it was routed */
int router_route(struct inbound_router *r, const char *event_id, bool replay);
/* router_recover queues every event left unrouted; returns how many */
int router_recover(struct inbound_router *r);

#endif
