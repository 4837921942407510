/*
 * query.c - the query builder of the SQL backends' filtered lists, and the
 * lists themselves, once for SQLite and PostgreSQL (query.h is the manual).
 *
 * Only fixed fragments of this file ever become SQL text; what a request
 * brings is a parameter. The two dialects differ in how a parameter is
 * spelt and in how a JSON array is searched, nothing else, so a filter
 * written here means the same on both databases.
 */
#include <stdio.h>
#include <string.h>

#include "store/query.h"

const struct query_dialect query_sqlite = {
	.name = "sqlite",
	.numbered = false,
	.channel_match = " AND EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ?)",
};

const struct query_dialect query_pg = {
	.name = "postgres",
	.numbered = true,
	.channel_match = " AND EXISTS (SELECT 1 FROM json_array_elements_text(m.channels::json) ch"
			 " WHERE ch = ?)",
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

bool query_msg_list(struct query *q, const struct query_dialect *d, const struct store_msg_query *mq,
		    const struct store_page *pg)
{
	query_init(q, d, "SELECT " QUERY_MSG_COLS " FROM msg m WHERE");
	query_s(q, " m.app = ?", mq->app);
	query_in(q, "m.event_type", mq->event_types);
	if (mq->channel)
		query_s(q, d->channel_match, mq->channel);
	if (mq->before)
		query_i(q, " AND m.created < ?", mq->before);
	if (mq->after)
		query_i(q, " AND m.created > ?", mq->after);
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
	if (json_array_size(aq->event_types)) {
		query_sql(q, " AND a.msg IN (SELECT id FROM msg WHERE true");
		query_in(q, "event_type", aq->event_types);
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

bool query_delivery_list(struct query *q, const struct query_dialect *d, const char *app, const char *msg,
			 const char *endpoint, const struct store_page *pg)
{
	if (msg) {
		query_init(q, d, "SELECT e.body, d.status, d.next_at, d.endpoint FROM delivery d"
				 " LEFT JOIN doc e ON e.kind = 'endpoint' AND e.id = d.endpoint WHERE");
		query_s(q, " d.app = ?", app);
		query_s(q, " AND d.msg = ?", msg);
		return query_page(q, "d.endpoint", pg);
	}
	query_init(q, d, "SELECT d.status, d.next_at, d.msg, " QUERY_MSG_COLS
			 " FROM delivery d JOIN msg m ON m.id = d.msg WHERE");
	query_s(q, " d.app = ?", app);
	query_s(q, " AND d.endpoint = ?", endpoint);
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
