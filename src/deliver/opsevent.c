/*
 * opsevent.c - operational webhooks (opsevent.h). Process-wide: set up once
 * by serve; emitters on any thread publish with a fire-and-forget write
 * whose post-commit step hands the deliveries to the dispatcher.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "deliver/epdoc.h"
#include "deliver/opsevent.h"
#include "deliver/publish.h"

static struct {
	struct store *st;
	struct fanout *fanout;
	struct dispatch *d;
	char uid[257];
} O;

void opsevent_init(struct store *st, struct fanout *f, struct dispatch *d, const char *app_uid)
{
	O.st = st;
	O.fanout = f;
	O.d = d;
	snprintf(O.uid, sizeof(O.uid), "%s", app_uid ? app_uid : "hookd-operational");
}

void opsevent_shutdown(void)
{
	O.st = NULL;
}

static void emitted(struct store_write *w, int rc, void *arg)
{
	(void)w;
	if (rc == 0)
		publish_then(arg);
	publish_free(arg);
}

void opsevent_emit(const char *type, const char *about_app, json_t *data)
{
	json_t *app = NULL, *body = NULL;
	struct publish_in in = {0};
	struct publish_out out;
	struct publish_after *after = NULL;
	struct store_write *w = NULL;
	char ts[40], *bytes = NULL;

	if (!O.st || store_doc_get(O.st, "app", "", O.uid, &app) < 0)
		goto out;
	if (about_app && strcmp(about_app, json_str(app, "id")) == 0)
		goto out; /* never about itself */
	clock_format_ms(clock_now_ms(), ts, sizeof(ts));
	body = json_pack("{s:s,s:s,s:O}", "type", type, "timestamp", ts, "data", data);
	bytes = body ? json_dump_compact(body, &in.len) : NULL;
	w = store_write_new(emitted, NULL);
	if (!bytes || !w)
		goto out;
	in.app_id = json_str(app, "id");
	in.event_type = type;
	in.payload = bytes;
	in.retention_hours = 30 * 24;
	if (publish_prepare(&in, O.fanout, O.d, w, &out, &after) < 0)
		goto out;
	w->arg = after;
	if (store_submit(O.st, w) == 0)
		w = NULL;
	else
		log_warnx("operational webhook '%s' dropped: the store queue is full", type);
out:
	if (w) {
		w->done = NULL;
		store_write_free(w);
		publish_free(after);
	}
	free(bytes);
	json_decref(body);
	json_decref(data);
	json_decref(app);
}

const char *opsevent_app_uid(void)
{
	return O.uid;
}

json_t *opsevent_app_new(void)
{
	char id[ID_MAX], ts[40];

	id_new("app_", id);
	clock_format_ms(clock_now_ms(), ts, sizeof(ts));
	return json_pack("{s:s,s:s,s:s,s:{},s:n,s:s,s:s}", "id", id, "uid", O.uid, "name", "hookd operational webhooks",
			 "metadata", "throttleRate", "createdAt", ts, "updatedAt", ts);
}

bool opsevent_type_known(const char *name)
{
	static const char *const types[] = {"endpoint.created",          "endpoint.updated",
					    "endpoint.deleted",          "endpoint.disabled",
					    "message.attempt.exhausted", "message.attempt.failing",
					    "message.attempt.recovered"};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(name, types[i]) == 0)
			return true;
	return false;
}

int opsevent_ensure(const char *url)
{
	json_t *app = NULL, *eps = NULL, *ep;
	struct store_write *w;
	int64_t now = clock_now_ms();
	size_t i;
	int rc;

	if (store_doc_get(O.st, "app", "", O.uid, &app) < 0) {
		app = opsevent_app_new();
		w = app ? store_write_new(NULL, NULL) : NULL;
		if (!w || store_write_doc(w, SOP_DOC_INSERT, "app", json_str(app, "id"), "", O.uid, app, now, now) < 0 ||
		    store_run(O.st, w) < 0) {
			json_decref(app);
			return HK_EIO;
		}
	}
	rc = fanout_endpoints(O.fanout, json_str(app, "id"), &eps);
	json_array_foreach(rc == 0 ? eps : NULL, i, ep) {
		if (strcmp(json_str(ep, "url"), url) == 0) {
			json_decref(eps);
			json_decref(app);
			return 0;
		}
	}
	json_decref(eps);
	ep = epdoc_new(json_str(app, "id"), url);
	json_object_set_new(ep, "uid", json_string("operator"));
	json_object_set_new(ep, "description", json_string("operational webhooks"));
	w = store_write_new(NULL, NULL);
	rc = w && store_write_doc(w, SOP_DOC_INSERT, "endpoint", json_str(ep, "id"), json_str(app, "id"), "operator", ep,
				  now, now) == 0
		     ? store_run(O.st, w)
		     : HK_ENOMEM;
	json_decref(ep);
	json_decref(app);
	fanout_invalidate(O.fanout);
	if (rc == 0)
		log_info("operational webhooks go to '%s' (app '%s')", url, O.uid);
	return rc;
}
