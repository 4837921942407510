/*
 * opsevent.h - operational webhooks: hookd telling its operator about
 * itself, through its own delivery engine.
 *
 * The operator's endpoints live in an ordinary application (uid
 * "hookd-operational" unless --operational-app says otherwise; made at start
 * when --operational-webhook-url is given). Events use Svix's names:
 * endpoint.created, endpoint.updated, endpoint.deleted, endpoint.disabled,
 * message.attempt.exhausted, message.attempt.failing (after the 4th failed
 * attempt), message.attempt.recovered (a success after that). Payloads are
 * {"type": ..., "timestamp": ..., "data": {...}}. Nothing is emitted about
 * the operational application itself, so there are no loops. Without that
 * application every call is a cheap no-op.
 */
#ifndef HK_OPSEVENT_H
#define HK_OPSEVENT_H

#include <jansson.h>
#include <stdbool.h>

#include "deliver/dispatch.h"
#include "deliver/fanout.h"
#include "store/store.h"

#define OPSEVENT_FAILING_AFTER 4

void opsevent_init(struct store *st, struct fanout *f, struct dispatch *d, const char *app_uid);
void opsevent_shutdown(void);
/* opsevent_ensure makes the operational app and an endpoint for url (at start) */
int opsevent_ensure(const char *url);
/* opsevent_app_uid names the operational application; opsevent_app_new makes its document (not stored) */
const char *opsevent_app_uid(void);
json_t *opsevent_app_new(void);
/* opsevent_type_known: whether name is one of the event types above (endpoints may filter by them) */
bool opsevent_type_known(const char *name);
/* opsevent_emit publishes type with data (taken); about_app is the app the event concerns */
void opsevent_emit(const char *type, const char *about_app, json_t *data);

#endif
