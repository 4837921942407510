/*
 * query.c - the query builder of the SQL backends' filtered lists, and the
 * lists themselves, once for SQLite and PostgreSQL (query.h is the manual).
 *
 * Only fixed fragments of this file ever become SQL text; what a request
 * brings is a parameter. The two dialects differ in how a parameter is
 * spelt and in how a JSON array is searched, nothing else, so a filter
 * written here means the same on both databases. The rows' JSON shapes
 * are here too, read through each backend's column access, as they depend
 * on the column orders chosen here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/codec.h"
#include "core/json.h"
#include "store/query.h"

const struct query_dialect query_sqlite = {
	.name = "sqlite",
	.numbered = false,
	.channel_match = " AND EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ?)",
	.tag_match = " AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = ?)",
};

const struct query_dialect query_pg = {
	.name = "postgres",
	.numbered = true,
	.channel_match = " AND EXISTS (SELECT 1 FROM json_array_elements_text(m.channels::json) ch"
			 " WHERE ch = ?)",
	.tag_match = " AND EXISTS (SELECT 1 FROM json_array_elements_text(m.tags::json) t WHERE t = ?)",
};

/* ---- the builder ---- */

void query_init(struct query *q, const struct query_dialect *d, const char *base)
{
	q->d = d;
	q->n = 0;
	buf_init(&q->sql, 8192);
	buf_appends(&q->sql, base);
}

void query_release(struct query *q)
{
	buf_release(&q->sql);
}

void query_sql(struct query *q, const char *text)
{
	buf_appends(&q->sql, text);
}

const char *query_text(const struct query *q)
{
	return buf_cstr(&q->sql);
}

/* add appends frag with its '?' spelt for the dialect and takes the parameter; false when full */
static bool add(struct query *q, const char *frag, struct query_arg arg)
{
	const char *mark = strchr(frag, '?');

	if (q->n == QUERY_MAX_ARGS)
		return false;
	if (!mark || !q->d->numbered) {
		buf_appends(&q->sql, frag);
	} else {
		buf_append(&q->sql, frag, (size_t)(mark - frag));
		buf_printf(&q->sql, "$%d", q->n + 1);
		buf_appends(&q->sql, mark + 1);
	}
	q->args[q->n++] = arg;
	return true;
}

void query_s(struct query *q, const char *frag, const char *s)
{
	add(q, frag, (struct query_arg){.type = QUERY_TEXT, .s = s});
}

void query_i(struct query *q, const char *frag, int64_t i)
{
	add(q, frag, (struct query_arg){.type = QUERY_INT, .i = i});
}

void query_in(struct query *q, const char *col, json_t *names)
{
	size_t i;
	json_t *v;

	if (!json_array_size(names))
		return;
	buf_printf(&q->sql, " AND %s IN (", col);
	json_array_foreach(names, i, v) {
		/* keep room for the filters and the cursor that follow */
		if (i >= QUERY_MAX_IN || q->n >= QUERY_MAX_ARGS - 4)
			break;
		query_s(q, i ? ",?" : "?", json_string_value(v));
	}
	buf_appends(&q->sql, ")");
}

bool query_cursor(const struct store_page *pg, const char **after, bool *desc)
{
	const char *it = pg->iterator;
	bool back = it && it[0] == '-';

	if (back)
		it++;
	*after = it && *it ? it : NULL;
	*desc = pg->desc != back;
	return back;
}

bool query_page(struct query *q, const char *col, const struct store_page *pg)
{
	const char *after;
	bool desc, back = query_cursor(pg, &after, &desc);
	char frag[96];

	if (after) {
		snprintf(frag, sizeof(frag), " AND %s %s ?", col, desc ? "<" : ">");
		query_s(q, frag, after);
	}
	buf_printf(&q->sql, " ORDER BY %s %s LIMIT %d", col, desc ? "DESC" : "ASC", pg->limit + 1);
	return back;
}

void query_list_finish(struct store_list *out, bool back)
{
	if (back) {
		json_t *rev = json_array();
		for (size_t i = json_array_size(out->items); i > 0; i--)
			json_array_append(rev, json_array_get(out->items, i - 1));
		json_decref(out->items);
		out->items = rev;
	}
	store_list_set_iterators(out, back);
}

/* ---- messages, attempts, deliveries ---- */

/* msg_filter adds what every list filters messages m by: types, channel, tag, creation window */
static void msg_filter(struct query *q, json_t *event_types, const char *channel, const char *tag,
		       int64_t before, int64_t after)
{
	query_in(q, "m.event_type", event_types);
	if (channel)
		query_s(q, q->d->channel_match, channel);
	if (tag)
		query_s(q, q->d->tag_match, tag);
	if (before)
		query_i(q, " AND m.created < ?", before);
	if (after)
		query_i(q, " AND m.created > ?", after);
}

bool query_msg_list(struct query *q, const struct query_dialect *d, const struct store_msg_query *mq,
		    const struct store_page *pg)
{
	query_init(q, d, "SELECT " QUERY_MSG_COLS " FROM msg m WHERE");
	query_s(q, " m.app = ?", mq->app);
	msg_filter(q, mq->event_types, mq->channel, mq->tag, mq->before, mq->after);
	if (mq->missing_to)
		query_s(q, " AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.msg = m.id AND d.endpoint = ?)",
			mq->missing_to);
	return query_page(q, "m.id", pg);
}

void query_msg_get(struct query *q, const struct query_dialect *d, const char *app, const char *key)
{
	query_init(q, d, "SELECT " QUERY_MSG_COLS " FROM msg m WHERE");
	query_s(q, " m.app = ?", app);
	query_s(q, " AND (m.id = ?", key);
	query_s(q, " OR m.event_id = ?)", key);
	/* a key that is one message's id and another's eventId means the first */
	query_s(q, " ORDER BY (m.id = ?) DESC", key);
}

bool query_attempt_list(struct query *q, const struct query_dialect *d, const struct store_attempt_query *aq,
			const struct store_page *pg)
{
	query_init(q, d, "SELECT " QUERY_ATT_COLS " FROM attempt a WHERE");
	query_s(q, " a.app = ?", aq->app);
	if (aq->msg)
		query_s(q, " AND a.msg = ?", aq->msg);
	if (aq->endpoint)
		query_s(q, " AND a.endpoint = ?", aq->endpoint);
	if (aq->status >= 0)
		query_i(q, " AND a.status = ?", aq->status);
	if (aq->code_class == 0)
		query_sql(q, " AND a.code = 0");
	else if (aq->code_class > 0)
		query_i(q, " AND a.code / 100 = ?", aq->code_class / 100);
	if (json_array_size(aq->event_types) || aq->channel || aq->tag) {
		query_s(q, " AND a.msg IN (SELECT m.id FROM msg m WHERE m.app = ?", aq->app);
		msg_filter(q, aq->event_types, aq->channel, aq->tag, 0, 0);
		query_sql(q, ")");
	}
	if (aq->before)
		query_i(q, " AND a.created < ?", aq->before);
	if (aq->after)
		query_i(q, " AND a.created > ?", aq->after);
	return query_page(q, "a.id", pg);
}

void query_attempt_get(struct query *q, const struct query_dialect *d, const char *app, const char *msg,
		       const char *id)
{
	query_init(q, d, "SELECT " QUERY_ATT_COLS " FROM attempt a WHERE");
	query_s(q, " a.app = ?", app);
	query_s(q, " AND a.msg = ?", msg);
	query_s(q, " AND a.id = ?", id);
}

bool query_delivery_list(struct query *q, const struct query_dialect *d, const struct store_delivery_query *dq,
			 const struct store_page *pg)
{
	if (dq->msg) {
		query_init(q, d, "SELECT e.body, d.status, d.next_at, d.endpoint FROM delivery d"
				 " LEFT JOIN doc e ON e.kind = 'endpoint' AND e.id = d.endpoint WHERE");
		query_s(q, " d.app = ?", dq->app);
		query_s(q, " AND d.msg = ?", dq->msg);
		if (dq->status >= 0)
			query_i(q, " AND d.status = ?", dq->status);
		return query_page(q, "d.endpoint", pg);
	}
	query_init(q, d, "SELECT d.status, d.next_at, d.msg, " QUERY_MSG_COLS
			 " FROM delivery d JOIN msg m ON m.id = d.msg WHERE");
	query_s(q, " d.app = ?", dq->app);
	query_s(q, " AND d.endpoint = ?", dq->endpoint);
	if (dq->status >= 0)
		query_i(q, " AND d.status = ?", dq->status);
	msg_filter(q, dq->event_types, dq->channel, dq->tag, dq->before, dq->after);
	return query_page(q, "d.msg", pg);
}

void query_failed_scan(struct query *q, const struct query_dialect *d, const char *endpoint, int64_t since,
		       int64_t until)
{
	query_init(q, d, QUERY_DUE_COLS " WHERE d.status = 2");
	query_s(q, " AND d.endpoint = ?", endpoint);
	query_i(q, " AND d.updated >= ?", since);
	if (until)
		query_i(q, " AND d.updated <= ?", until);
}

/* ---- the inbound journal, command runs ---- */

bool query_inbound_list(struct query *q, const struct query_dialect *d, const char *source, int status,
			int64_t since, const struct store_page *pg)
{
	query_init(q, d, "SELECT " QUERY_IN_COLS " FROM inbound i WHERE");
	query_s(q, " i.source = ?", source);
	if (status >= 0)
		query_i(q, " AND i.status = ?", status);
	if (since)
		query_i(q, " AND i.created >= ?", since);
	return query_page(q, "i.id", pg);
}

void query_inbound_get(struct query *q, const struct query_dialect *d, const char *source, const char *id)
{
	query_init(q, d, "SELECT " QUERY_IN_COLS " FROM inbound i WHERE");
	query_s(q, " i.source = ?", source);
	query_s(q, " AND i.id = ?", id);
}

bool query_hook_run_list(struct query *q, const struct query_dialect *d, const char *hook,
			 const struct store_page *pg)
{
	query_init(q, d, "SELECT " QUERY_RUN_COLS " FROM hook_run WHERE");
	query_s(q, " hook = ?", hook);
	return query_page(q, "id", pg);
}

void query_hook_run_get(struct query *q, const struct query_dialect *d, const char *hook, const char *id)
{
	query_init(q, d, "SELECT " QUERY_RUN_COLS ", output FROM hook_run WHERE");
	query_s(q, " hook = ?", hook);
	query_s(q, " AND id = ?", id);
}

/* ---- rows ---- */

json_t *query_ts(int64_t ms)
{
	char ts[40];
	clock_format_ms(ms, ts, sizeof(ts));
	return json_string(ts);
}

static const char *text(const struct query_row *r, int col)
{
	return r->ops->text(r, col);
}

static int64_t num(const struct query_row *r, int col)
{
	return r->ops->num(r, col);
}

/* encoded_text is bytes as a JSON string, or their base64 when they are not UTF-8 (*b64 set) */
static json_t *encoded_text(const char *bytes, size_t n, bool *b64)
{
	json_t *t = json_stringn(bytes ? bytes : "", bytes ? n : 0);
	char *enc;

	*b64 = !t;
	if (t)
		return t;
	enc = malloc(base64_enc_len(n));
	if (enc) {
		base64_encode(bytes, n, enc);
		t = json_string(enc);
		free(enc);
	}
	return t;
}

/* MessageOut from QUERY_MSG_COLS at column base; payload parsed unless without content */
static json_t *msg_json(const struct query_row *r, int base, bool with_content)
{
	json_t *payload = NULL, *channels = r->ops->json(r, base + 3), *tags = r->ops->json(r, base + 6);

	if (with_content) {
		size_t len;
		char *bytes = r->ops->bytes(r, base + 4, &len);
		if (bytes)
			payload = json_loadb(bytes, len, JSON_DECODE_ANY, NULL);
		free(bytes);
	}
	return json_pack("{s:s,s:s?,s:s,s:o,s:o,s:o,s:o}", "id", text(r, base), "eventId", text(r, base + 1),
			 "eventType", text(r, base + 2), "payload", payload ? payload : json_object(),
			 "channels", channels ? channels : json_null(), "timestamp", query_ts(num(r, base + 5)),
			 "tags", tags ? tags : json_null());
}

json_t *query_msg_row(const struct query_row *r)
{
	return msg_json(r, 0, true);
}

json_t *query_msg_row_bare(const struct query_row *r)
{
	return msg_json(r, 0, false);
}

json_t *query_attempt_row(const struct query_row *r)
{
	int status = (int)num(r, 7);
	const char *resp = text(r, 4);

	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:i,s:s,s:i,s:o}", "id", text(r, 0), "msgId",
			 text(r, 1), "endpointId", text(r, 2), "url", text(r, 3), "response",
			 resp ? resp : "", "responseStatusCode", (int)num(r, 5), "responseDurationMs",
			 (json_int_t)num(r, 6), "status", status, "statusText", msg_status_text(status),
			 "triggerType", (int)num(r, 8), "timestamp", query_ts(num(r, 9)));
}

/* delivery_state adds a delivery's status and next attempt to out */
static void delivery_state(json_t *out, int status, int64_t next)
{
	json_object_set_new(out, "status", json_integer(status));
	json_object_set_new(out, "statusText", json_string(msg_status_text(status)));
	json_object_set_new(out, "nextAttempt", status == MSG_PENDING ? query_ts(next) : json_null());
}

json_t *query_destination_row(const struct query_row *r)
{
	json_t *ep = r->ops->json(r, 0), *out;

	if (!ep)
		ep = json_pack("{s:s}", "id", text(r, 3));
	out = json_strip_private(ep);
	json_decref(ep);
	delivery_state(out, (int)num(r, 1), num(r, 2));
	return out;
}

json_t *query_endpoint_msg_row(const struct query_row *r)
{
	json_t *out = msg_json(r, 3, false);

	delivery_state(out, (int)num(r, 0), num(r, 1));
	return out;
}

static const char *inbound_status(int s)
{
	static const char *const names[] = {"received", "routed", "route_failed"};
	return s >= 0 && s <= 2 ? names[s] : "unknown";
}

/* an inbound event from QUERY_IN_COLS; whole adds its headers and body */
static json_t *inbound_json(const struct query_row *r, bool whole)
{
	json_t *routed = r->ops->json(r, 10);
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s?,s:s?,s:s,s:o,s:o}", "id", text(r, 0),
			       "sourceId", text(r, 1), "method", text(r, 2), "path", text(r, 3), "query",
			       text(r, 4), "remoteAddr", text(r, 5), "verified", (int)num(r, 6), "reason",
			       text(r, 7), "eventType", text(r, 8), "status", inbound_status((int)num(r, 9)),
			       "routed", routed ? routed : json_array(), "timestamp", query_ts(num(r, 11)));

	if (ev && whole) {
		size_t n = 0;
		char *body = r->ops->bytes(r, 13, &n);
		json_t *headers = r->ops->json(r, 12);
		bool b64;
		json_t *t = encoded_text(body, n, &b64);

		json_object_set_new(ev, "headers", headers ? headers : json_object());
		json_object_set_new(ev, "bodyEncoding", json_string(b64 ? "base64" : "utf8"));
		json_object_set_new(ev, "body", t ? t : json_string(""));
		free(body);
	}
	return ev;
}

json_t *query_inbound_row(const struct query_row *r)
{
	return inbound_json(r, false);
}

json_t *query_inbound_row_whole(const struct query_row *r)
{
	return inbound_json(r, true);
}

static json_t *opt_ts(const struct query_row *r, int col)
{
	int64_t v = num(r, col);
	return v ? query_ts(v) : json_null();
}

json_t *query_run_row(const struct query_row *r)
{
	int status = (int)num(r, 6);
	bool ran = status == HOOK_RUN_SUCCEEDED || status == HOOK_RUN_FAILED || status == HOOK_RUN_TIMED_OUT;
	int code = (int)num(r, 7), sig = (int)num(r, 8);

	return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:s,s:o,s:o,s:o,s:b,s:s?,s:o,s:o,s:o}", "id", text(r, 0),
			 "hookId", text(r, 1), "eventId", text(r, 2), "trigger", text(r, 3), "retryOf",
			 text(r, 4), "coalescedInto", text(r, 5), "status", hook_run_status_text(status),
			 "exitCode", ran && code >= 0 ? json_integer(code) : json_null(), "signal",
			 sig ? json_integer(sig) : json_null(), "durationMs",
			 ran ? json_integer(num(r, 9)) : json_null(), "outputTruncated", (int)num(r, 10),
			 "error", text(r, 11), "createdAt", query_ts(num(r, 12)), "startedAt", opt_ts(r, 13),
			 "endedAt", opt_ts(r, 14));
}

json_t *query_run_row_whole(const struct query_row *r)
{
	json_t *run = query_run_row(r), *t;
	size_t n = 0;
	char *out;
	bool b64;

	if (!run)
		return NULL;
	out = r->ops->bytes(r, 15, &n);
	t = encoded_text(out, n, &b64);
	json_object_set_new(run, "outputEncoding", json_string(b64 ? "base64" : "utf8"));
	json_object_set_new(run, "output", t ? t : json_string(""));
	free(out);
	return run;
}
