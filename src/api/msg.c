/*
 * msg.c - publishing and reading messages: POST|GET /app/{app}/msg,
 * GET /app/{app}/msg/{msg}, DELETE /app/{app}/msg/{msg}/content,
 * POST /app/{app}/msg/precheck/active (would a message go anywhere?) and
 * POST /app/{app}/msg/bulk-expunge (drop the payloads of listed messages).
 *
 * A publish writes the message and one pending delivery per matching
 * endpoint in one commit (with the idempotency answer); only after that
 * commit are the deliveries handed to the dispatcher in memory, so a 202
 * always means the message survives a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/msg.h"
#include "api/valid.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "deliver/dispatch.h"
#include "deliver/fanout.h"
#include "deliver/publish.h"

#define MSG_CHANNELS_MAX 5
#define MSG_TAGS_MAX 5
#define MSG_BULK_EXPUNGE_MAX 250
#define MSG_DELIVER_AT_MAX_MS (86400LL * 1000)
#define MSG_RETENTION_DEFAULT_DAYS 90
/* an answer's room beyond its payload: ids, names, channels, all escaped */
#define MSG_ANSWER_EXTRA (64u << 10)

/* json_field appends a member: ,"name": (no comma after the opening brace) and a string value, or null */
static int json_field(struct buf *b, const char *name, const char *value)
{
	int rc = b->len > 1 ? buf_append(b, ",", 1) : 0;
	if (rc == 0)
		rc = json_buf_string(b, name, strlen(name));
	if (rc == 0)
		rc = buf_append(b, ":", 1);
	if (rc == 0)
		rc = value ? json_buf_string(b, value, strlen(value)) : buf_appends(b, "null");
	return rc;
}

/*
 * publish_answer writes the message as the API shows it around the payload
 * text made for the store, rather than building and dumping a second
 * document that holds the payload again.
 */
static char *publish_answer(const struct publish_out *out, const struct publish_in *in, bool with_content,
			    size_t *len)
{
	char ts[40], at[40], *channels = in->channels ? json_dump_compact(in->channels, NULL) : NULL;
	char *tags = in->tags ? json_dump_compact(in->tags, NULL) : NULL;
	struct buf b;
	int rc;

	clock_format_ms(out->created, ts, sizeof(ts));
	if (in->deliver_at)
		clock_format_ms(in->deliver_at, at, sizeof(at));
	buf_init(&b, in->len + MSG_ANSWER_EXTRA);
	rc = buf_reserve(&b, in->len + 512);
	if (rc == 0)
		rc = buf_appends(&b, "{");
	if (rc == 0)
		rc = json_field(&b, "id", out->id);
	if (rc == 0)
		rc = json_field(&b, "eventId", in->event_id);
	if (rc == 0)
		rc = json_field(&b, "eventType", in->event_type);
	if (rc == 0)
		rc = buf_appends(&b, ",\"payload\":");
	if (rc == 0)
		rc = with_content ? buf_append(&b, in->payload, in->len) : buf_appends(&b, "{}");
	if (rc == 0)
		rc = buf_appends(&b, ",\"channels\":");
	if (rc == 0)
		rc = buf_appends(&b, channels ? channels : "null");
	if (rc == 0)
		rc = json_field(&b, "timestamp", ts);
	if (rc == 0)
		rc = buf_appends(&b, ",\"tags\":");
	if (rc == 0)
		rc = buf_appends(&b, tags ? tags : "null");
	if (rc == 0 && in->deliver_at)
		rc = json_field(&b, "deliverAt", at);
	if (rc == 0)
		rc = buf_appends(&b, "}");
	free(channels);
	free(tags);
	if ((in->channels && !channels) || (in->tags && !tags))
		rc = HK_ENOMEM;
	if (rc < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, len);
}

int msg_publish(struct api_req *r, struct publish_in *in, json_t *payload, json_t *new_app, int status)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct publish_out out;
	struct publish_after *after = NULL;
	char *bytes = json_dump_compact(payload, &in->len), *answer = NULL;
	int64_t now = clock_now_ms();
	size_t len = 0;
	int rc = HK_ENOMEM;

	in->payload = bytes;
	if (w && bytes)
		rc = new_app ? store_write_doc(w, SOP_DOC_INSERT, "app", json_str(new_app, "id"), "",
					       json_str(new_app, "uid"), new_app, now, now)
			     : 0;
	if (rc == 0)
		rc = publish_prepare(in, api_fanout(r), api_dispatch(r), w, &out, &after);
	if (rc == 0) {
		answer = publish_answer(&out, in, api_query_bool(r, "with_content", true), &len);
		if (!answer) {
			publish_free(after);
			rc = HK_ENOMEM;
		}
	}
	free(bytes);
	if (rc < 0) {
		store_write_free(w);
		api_fail(r, rc, "message");
		return rc;
	}
	api_commit_text(r, w, status, answer, len, publish_then, after, publish_free);
	return 0;
}

/*
 * publish_app finds the path's application for a publish. When there is
 * none and the body holds an `application` (ApplicationIn), an admin's
 * publish makes it in the same commit as the message (*new_app; its uid is
 * the path's unless the body names one); Svix's SDK sends it to create an
 * application on first use. NULL when answered (404, 422).
 */
static json_t *publish_app(struct api_req *r, json_t **new_app)
{
	json_t *in = json_object_get(r->body, "application"), *app = NULL;
	int rc;

	*new_app = NULL;
	if (!json_is_object(in) || r->scope != SCOPE_ADMIN)
		return api_load_app(r);
	rc = store_doc_get(r->store, "app", "", api_param(r, "app"), &app);
	if (rc != HK_ENOTFOUND) {
		if (rc < 0)
			api_fail(r, rc, "application");
		return rc < 0 ? NULL : app;
	}
	*new_app = api_app_from(r, in, api_param(r, "app"));
	if (!*new_app && !json_array_size(r->errors))
		api_fail(r, HK_ENOMEM, "application");
	return *new_app ? json_incref(*new_app) : NULL;
}

/* msg_when reads deliverAt: at most a day ahead; a time already past means at once */
static int64_t msg_when(struct api_req *r)
{
	const char *s = api_in_str(r, "deliverAt", false, 64);
	int64_t at = 0, now = clock_now_ms();

	if (s && clock_parse(s, &at) < 0)
		api_field_error(r, "body", "deliverAt", "must be an RFC 3339 date-time");
	else if (at > now + MSG_DELIVER_AT_MAX_MS)
		api_field_error(r, "body", "deliverAt", "must be at most 24 hours ahead");
	return at > now ? at : 0;
}

/* msg_retention_hours reads payloadRetentionPeriod (days) or payloadRetentionHours, not both */
static int msg_retention_hours(struct api_req *r)
{
	long long days = api_in_int(r, "payloadRetentionPeriod", 0, 1, 365 * 5);
	long long hours = api_in_int(r, "payloadRetentionHours", 0, 1, 365 * 5 * 24);

	if (days && hours)
		api_field_error(r, "body", "payloadRetentionHours",
				"give payloadRetentionPeriod or payloadRetentionHours, not both");
	return (int)(hours ? hours : (days ? days : MSG_RETENTION_DEFAULT_DAYS) * 24);
}

static void msg_create(struct api_req *r)
{
	json_t *new_app = NULL, *app = publish_app(r, &new_app), *payload, *channels;
	const char *event_type, *event_id, *why;
	struct publish_in in = {0};

	if (!app) {
		if (json_array_size(r->errors))
			api_invalid(r);
		return;
	}
	event_type = api_in_str(r, "eventType", true, 256);
	if (event_type && !valid_name(event_type, 256))
		api_field_error(r, "body", "eventType", "event type names may only contain letters, digits and . _ - : / *");
	payload = json_object_get(r->body, "payload");
	if (!json_is_object(payload))
		api_field_error(r, "body", "payload", payload ? "must be an object" : "field required");
	event_id = api_in_str(r, "eventId", false, 256);
	if (event_id && !valid_uid(event_id, "msg_", &why))
		api_field_error(r, "body", "eventId", why);
	channels = api_in_names(r, "channels", MSG_CHANNELS_MAX, false);
	in.tags = api_in_names(r, "tags", MSG_TAGS_MAX, false);
	in.retention_hours = msg_retention_hours(r);
	in.deliver_at = msg_when(r);
	if (json_array_size(r->errors)) {
		api_invalid(r);
	} else {
		in.app_id = json_str(app, "id");
		in.event_type = event_type;
		in.event_id = event_id;
		in.channels = channels;
		msg_publish(r, &in, payload, new_app, 202);
	}
	json_decref(new_app);
	json_decref(app);
}

static void msg_list(struct api_req *r)
{
	json_t *app = api_load_app(r);
	struct store_msg_query q = {0};
	struct store_page pg;
	struct store_list l;
	int rc;

	if (!app)
		return;
	api_page(r, &pg, true);
	q.app = json_str(app, "id");
	q.event_types = api_query_names(r, "event_types");
	q.channel = http_query(r->http, "channel");
	q.tag = http_query(r->http, "tag");
	q.before = api_query_time(r, "before");
	q.after = api_query_time(r, "after");
	q.with_content = api_query_bool(r, "with_content", true);
	if (json_array_size(r->errors)) {
		api_invalid(r);
	} else {
		rc = store_msg_list(r->store, &q, &pg, &l);
		if (rc < 0)
			api_fail(r, rc, "messages");
		else
			api_list(r, &l);
	}
	json_decref(q.event_types);
	json_decref(app);
}

static void msg_get(struct api_req *r)
{
	json_t *app = api_load_app(r), *msg = NULL;
	int rc;

	if (!app)
		return;
	rc = store_msg_get(r->store, json_str(app, "id"), api_param(r, "msg"),
			   api_query_bool(r, "with_content", true), &msg);
	json_decref(app);
	if (rc < 0)
		api_fail(r, rc, "message");
	else
		api_json(r, 200, msg);
}

/*
 * content_expunge drops stored content of {msg}: its payload (DELETE
 * .../msg/{msg}/content) or, with {atmpt}, that attempt's response body
 * (DELETE .../msg/{msg}/attempt/{atmpt}/content; it reads "EXPUNGED" from
 * then on, and an attempt of another message is not found by the write). 204.
 */
static void content_expunge(struct api_req *r)
{
	const char *atmpt = api_param(r, "atmpt");
	json_t *app = api_load_app(r), *msg = NULL;
	struct store_write *w = NULL;
	struct store_op *op;
	int rc;

	if (!app)
		return;
	rc = store_msg_get(r->store, json_str(app, "id"), api_param(r, "msg"), false, &msg);
	json_decref(app);
	if (rc < 0)
		goto out;
	w = store_write_new(NULL, NULL);
	op = w ? store_write_add(w, atmpt ? SOP_ATTEMPT_EXPUNGE : SOP_MSG_EXPUNGE) : NULL;
	if (!op) {
		rc = HK_ENOMEM;
		goto out;
	}
	if (atmpt) {
		snprintf(op->u.att.id, sizeof(op->u.att.id), "%s", atmpt);
		snprintf(op->u.att.msg, sizeof(op->u.att.msg), "%s", json_str(msg, "id"));
	} else {
		snprintf(op->u.msg.id, sizeof(op->u.msg.id), "%s", json_str(msg, "id"));
	}
	api_commit(r, w, 204, NULL);
	w = NULL;
out:
	if (rc < 0)
		api_fail(r, rc, atmpt ? "attempt" : "message");
	store_write_free(w);
	json_decref(msg);
}

/*
 * precheck answers {active}: whether a message of eventType (and channels)
 * published now would go to any endpoint, by the same match as a publish.
 */
static void precheck(struct api_req *r)
{
	json_t *app = api_load_app(r), *eps = NULL, *ep, *channels;
	const char *event_type;
	bool active = false;
	size_t i;
	int rc;

	if (!app)
		return;
	event_type = api_in_str(r, "eventType", true, 256);
	channels = api_in_names(r, "channels", MSG_CHANNELS_MAX, false);
	if (json_array_size(r->errors)) {
		api_invalid(r);
		goto out;
	}
	rc = api_fanout(r) ? fanout_endpoints(api_fanout(r), json_str(app, "id"), &eps) : HK_EUNSUPPORTED;
	if (rc < 0) {
		api_fail(r, rc, "endpoints");
		goto out;
	}
	json_array_foreach(eps, i, ep) {
		if (fanout_match(ep, event_type, channels)) {
			active = true;
			break;
		}
	}
	api_json(r, 200, json_pack("{s:b}", "active", active));
out:
	json_decref(eps);
	json_decref(app);
}

/*
 * bulk_expunge drops the payloads of the messages listed in ids (ids or
 * eventIds, at most MSG_BULK_EXPUNGE_MAX) in one commit and answers
 * {results: {key: "expunged" | "not-found"}}, keyed as the caller named them.
 */
static void bulk_expunge(struct api_req *r)
{
	json_t *app = api_load_app(r), *ids = json_object_get(r->body, "ids"), *results = NULL, *key, *msg;
	struct store_write *w = NULL;
	struct store_op *op;
	size_t i;
	int rc = 0;

	if (!app)
		return;
	if (ids && !json_is_null(ids) && !json_is_array(ids))
		api_field_error(r, "body", "ids", "must be an array of message ids");
	else if (json_array_size(ids) > MSG_BULK_EXPUNGE_MAX)
		api_field_error(r, "body", "ids", "at most 250 ids at a time");
	json_array_foreach(json_is_array(ids) ? ids : NULL, i, key)
		if (!json_is_string(key) || json_string_length(key) == 0 || json_string_length(key) > 256)
			api_field_error(r, "body", "ids", "each id must be a string of 1 to 256 characters");
	if (json_array_size(r->errors)) {
		api_invalid(r);
		goto out;
	}
	results = json_object();
	w = store_write_new(NULL, NULL);
	if (!results || !w) {
		rc = HK_ENOMEM;
		goto out;
	}
	json_array_foreach(json_is_array(ids) ? ids : NULL, i, key) {
		rc = store_msg_get(r->store, json_str(app, "id"), json_string_value(key), false, &msg);
		if (rc == HK_ENOTFOUND) {
			json_object_set_new(results, json_string_value(key), json_string("not-found"));
			rc = 0;
			continue;
		}
		if (rc < 0)
			goto out;
		op = store_write_add(w, SOP_MSG_EXPUNGE);
		if (op)
			snprintf(op->u.msg.id, sizeof(op->u.msg.id), "%s", json_str(msg, "id"));
		json_decref(msg);
		if (!op) {
			rc = HK_ENOMEM;
			goto out;
		}
		json_object_set_new(results, json_string_value(key), json_string("expunged"));
	}
	if (w->nops) {
		api_commit(r, w, 200, json_pack("{s:o}", "results", results));
		w = NULL;
	} else {
		api_json(r, 200, json_pack("{s:o}", "results", results));
	}
	results = NULL;
out:
	if (rc < 0)
		api_fail(r, rc, "messages");
	store_write_free(w);
	json_decref(results);
	json_decref(app);
}

const struct api_route api_msg_routes[] = {
	{{"POST", "/api/v1/app/{app}/msg/precheck/active"}, precheck, 0},
	{{"POST", "/api/v1/app/{app}/msg/bulk-expunge"}, bulk_expunge, 0},
	{{"POST", "/api/v1/app/{app}/msg"}, msg_create, 0},
	{{"GET", "/api/v1/app/{app}/msg"}, msg_list, 0},
	{{"GET", "/api/v1/app/{app}/msg/{msg}"}, msg_get, 0},
	{{"DELETE", "/api/v1/app/{app}/msg/{msg}/content"}, content_expunge, 0},
	{{"DELETE", "/api/v1/app/{app}/msg/{msg}/attempt/{atmpt}/content"}, content_expunge, 0},
};
const size_t api_msg_nroutes = sizeof(api_msg_routes) / sizeof(api_msg_routes[0]);
