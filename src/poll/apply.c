/*
 * apply.c - what a complete answer does: diff it against the source's state
 * (rule.c), publish each change as a message (publish.h, exactly as inbound
 * routes do), and store the new state.
 *
 * Order makes a crash harmless: messages commit first, one write each, then
 * the state. A crash in between leaves the old state, so the next poll sees
 * the same changes again and derives the same eventIds; the store refuses
 * those duplicates (HK_ECONFLICT), which counts as "already published".
 * A message that fails for another reason (queue full, database error)
 * stops the poll: its item and the ones after it stay unseen and are tried
 * again by the next poll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "deliver/publish.h"
#include "poll/poll_int.h"

#define POLL_RETENTION_DAYS 90
#define POLL_TYPE_DEFAULT "poll.changed"

void poll_config_hash(const json_t *doc, char out[65])
{
	json_t *key = json_pack("{s:O?,s:O?,s:O?,s:O?}", "url", json_object_get(doc, "url"), "method",
				json_object_get(doc, "method"), "body", json_object_get(doc, "body"), "rule",
				json_object_get(doc, "rule"));

	if (!key || poll_value_hash(key, out) < 0)
		snprintf(out, 65, "%s", "");
	json_decref(key);
}

int state_save(struct poller *p, struct psrc *s)
{
	int64_t now = clock_now_ms();
	int rc;

	for (int tries = 0; tries < 2; tries++) {
		struct store_write *w = store_write_new(NULL, NULL);
		enum store_op_kind kind = s->state_stored ? SOP_DOC_UPDATE : SOP_DOC_INSERT;

		if (!w || store_write_doc(w, kind, "poll_state", s->id, s->id, NULL, s->state, now, now) < 0) {
			store_write_free(w);
			return HK_ENOMEM;
		}
		rc = store_run(p->cfg.store, w);
		if (rc == 0)
			s->state_stored = true;
		if (rc == HK_ECONFLICT && !s->state_stored) {
			s->state_stored = true; /* someone made it first: update it */
			continue;
		}
		if (rc == HK_ENOTFOUND)
			rc = 0; /* the source was deleted with its state: nothing to keep */
		break;
	}
	return rc;
}

/* publish_one commits one message; an eventId already there counts as published */
static int publish_one(struct poller *p, const char *app_id, const char *type, const char *event_id,
		       const json_t *payload, int *fresh)
{
	struct publish_in in = {0};
	struct publish_out out;
	struct publish_after *after = NULL;
	struct store_write *w = store_write_new(NULL, NULL);
	size_t len = 0;
	char *text = json_dump_compact(payload, &len);
	int rc = HK_ENOMEM;

	if (!w || !text)
		goto out;
	in.app_id = app_id;
	in.event_type = type;
	in.event_id = event_id;
	in.payload = text;
	in.len = len;
	in.retention_hours = POLL_RETENTION_DAYS * 24;
	rc = publish_prepare(&in, p->cfg.fanout, p->cfg.dispatch, w, &out, &after);
	if (rc < 0)
		goto out;
	rc = store_run(p->cfg.store, w); /* takes w */
	w = NULL;
	if (rc == 0) {
		publish_then(after);
		(*fresh)++;
	}
	if (rc == HK_ECONFLICT)
		rc = 0;
out:
	publish_free(after);
	store_write_free(w);
	free(text);
	return rc;
}

/* restore_seen puts back what changes [from..] had in the old seen set, so they are tried again */
static void restore_seen(json_t *next, const json_t *old, const json_t *changes, size_t from)
{
	for (size_t i = from; i < json_array_size(changes); i++) {
		const char *id = json_str(json_array_get(changes, i), "id");
		json_t *v = json_object_get(old, id);
		if (v)
			json_object_set(next, id, v);
		else
			json_object_del(next, id);
	}
}

static int apply_items(struct poller *p, struct psrc *s, const char *app_id, const char *type,
		       bool publish, int *fresh, char *err, size_t errlen)
{
	json_t *seen = json_object_get(s->state, "seen"), *changes = NULL, *next = NULL, *c;
	size_t skipped, i;
	int rc = poll_items_diff(&s->rule, s->f->items, seen, POLL_WINDOW_DEFAULT, &changes, &next, &skipped);

	if (rc < 0)
		return rc;
	if (skipped)
		log_warnx("poll '%s': %zu items without a usable '%s' skipped", s->id, skipped, s->rule.id_field);
	json_array_foreach(changes, i, c) {
		char event_id[POLL_EVENT_ID_MAX];
		if (!publish)
			break;
		poll_item_event_id(s->id, json_str(c, "id"), json_str(c, "version"), event_id);
		rc = publish_one(p, app_id, type, event_id, json_object_get(c, "item"), fresh);
		if (rc < 0) {
			snprintf(err, errlen, "cannot publish: %s", hk_strerror(rc));
			restore_seen(next, seen, changes, i);
			break;
		}
	}
	json_object_set_new(s->state, "seen", next);
	json_decref(changes);
	return rc;
}

static int apply_document(struct poller *p, struct psrc *s, const char *app_id, const char *type,
			  bool publish, int *fresh, char *err, size_t errlen)
{
	json_t *value = s->f->value, *payload;
	const char *old = json_str(s->state, "hash");
	json_int_t seq = json_integer_value(json_object_get(s->state, "seq"));
	char hash[65], event_id[POLL_EVENT_ID_MAX];
	int rc = poll_value_hash(value, hash);

	if (rc < 0)
		return rc;
	if (old && strcmp(old, hash) == 0)
		return 0;
	if (publish) {
		if (s->rule.include_previous)
			payload = json_pack("{s:O,s:O}", "current", value, "previous",
					    old ? json_object_get(s->state, "value") : json_null());
		else
			payload = json_incref(value);
		poll_doc_event_id(s->id, seq + 1, hash, event_id);
		rc = payload ? publish_one(p, app_id, type, event_id, payload, fresh) : HK_ENOMEM;
		json_decref(payload);
		if (rc < 0) {
			snprintf(err, errlen, "cannot publish: %s", hk_strerror(rc));
			return rc;
		}
	}
	json_object_set_new(s->state, "hash", json_string(hash));
	json_object_set_new(s->state, "seq", json_integer(seq + 1));
	if (s->rule.include_previous)
		json_object_set(s->state, "value", value);
	return 0;
}

int apply_answer(struct poller *p, struct psrc *s, char *err, size_t errlen)
{
	const char *app_key = json_str(s->doc, "app"), *type = json_str(s->doc, "eventType");
	bool baseline = json_is_true(json_object_get(s->state, "baseline"));
	bool publish = baseline || (json_is_true(json_object_get(s->doc, "emitInitial")) &&
				    !json_is_true(json_object_get(s->state, "quietBaseline")));
	json_t *app = NULL;
	int fresh = 0, rc;

	if (!app_key || store_doc_get(p->cfg.store, "app", "", app_key, &app) < 0) {
		snprintf(err, errlen, "application '%s' not found", app_key ? app_key : "");
		return HK_ENOTFOUND;
	}
	if (!type)
		type = POLL_TYPE_DEFAULT;
	if (s->rule.kind == POLL_ITEMS)
		rc = apply_items(p, s, json_str(app, "id"), type, publish, &fresh, err, errlen);
	else
		rc = apply_document(p, s, json_str(app, "id"), type, publish, &fresh, err, errlen);
	json_decref(app);
	if (rc == 0) {
		json_object_set_new(s->state, "baseline", json_true());
		json_object_del(s->state, "quietBaseline");
		/* page 1's validators say nothing of later pages: only a one-page answer is conditional */
		bool one = s->f->page == 1;
		json_object_set_new(s->state, "etag", one && s->f->etag[0] ? json_string(s->f->etag) : json_null());
		json_object_set_new(s->state, "lastModified", one && s->f->last_modified[0]
									? json_string(s->f->last_modified)
									: json_null());
	}
	if (fresh) {
		json_int_t total = json_integer_value(json_object_get(s->state, "published"));
		json_object_set_new(s->state, "published", json_integer(total + fresh));
		json_object_set_new(s->state, "lastChangeAt", json_integer(clock_now_ms()));
		log_info("poll '%s': published %d message%s", s->id, fresh, fresh == 1 ? "" : "s");
	}
	return rc;
}
