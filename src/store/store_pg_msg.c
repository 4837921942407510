/*
 * store_pg_msg.c - messages, deliveries and attempts in PostgreSQL.
 *
 * The same rows as the SQLite backend's, with one addition: a delivery's
 * owner, the node whose dispatcher holds it (store_pg_node.c). A publish
 * inserts the message and all its deliveries in one statement (the
 * endpoints travel as one array parameter), leased to this node when it
 * delivers; an attempt and its delivery's update are one statement too, so
 * a write is one statement, sent with the rest of its batch in libpq's
 * pipeline mode (store_pg.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "store/store_pg.h"

/* ---- writes ---- */

/* endpoints_array makes a text[] literal of ids: {"ep_1","ep_2"} */
static char *endpoints_array(const struct store_msg *m)
{
	struct buf b;

	buf_init(&b, 64 + m->nendpoints * (ID_MAX + 3));
	buf_appends(&b, "{");
	for (size_t i = 0; i < m->nendpoints; i++) {
		buf_appends(&b, i ? ",\"" : "\"");
		for (const char *c = m->endpoints[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_append(&b, "\\", 1);
			buf_append(&b, c, 1);
		}
		buf_appends(&b, "\"");
	}
	if (buf_appends(&b, "}") < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static const char *owner(struct pg_be *be)
{
	return be->node[0] ? be->node : NULL;
}

/*
 * wexec_work runs a statement that leaves pending deliveries (pending: it
 * does) leased to owner(be); a node that does not deliver leaves them to
 * whichever node claims first, and wakes the claim loops (hookd_work).
 */
static int wexec_work(struct pg_be *be, enum pg_wstmt which, const struct pgp *p, bool pending)
{
	int rc = pg_wexec(be, which, p, NULL);
	if (rc == 0 && pending && !owner(be))
		rc = pg_wexec(be, PW_NOTIFY_WORK, NULL, NULL);
	return rc;
}

static int msg_insert(struct pg_be *be, const struct store_msg *m)
{
	char *channels = m->channels ? json_dumps(m->channels, JSON_COMPACT) : NULL;
	char *headers = m->headers ? json_dumps(m->headers, JSON_COMPACT) : NULL;
	char *tags = m->tags ? json_dumps(m->tags, JSON_COMPACT) : NULL;
	char *eps = endpoints_array(m);
	struct pgp p = {0};
	int rc = HK_ENOMEM;

	if (!eps || (m->channels && !channels) || (m->headers && !headers) || (m->tags && !tags))
		goto out;
	pgp_s(&p, m->id);
	pgp_s(&p, m->app);
	pgp_s(&p, m->event_id);
	pgp_s(&p, m->event_type);
	pgp_s(&p, channels);
	pgp_b(&p, m->payload, m->payload_len);
	pgp_i(&p, m->created);
	pgp_i(&p, m->expires);
	pgp_s(&p, headers);
	pgp_s(&p, eps);
	pgp_s(&p, owner(be));
	pgp_i(&p, m->deliver_at ? m->deliver_at : m->created);
	pgp_s(&p, tags);
	rc = wexec_work(be, PW_MSG_INSERT, &p, m->nendpoints > 0);
out:
	free(channels);
	free(headers);
	free(tags);
	free(eps);
	return rc;
}

static int attempt_insert(struct pg_be *be, const struct store_attempt *a)
{
	struct pgp p = {0};

	pgp_s(&p, a->id);
	pgp_s(&p, a->msg);
	pgp_s(&p, a->endpoint);
	pgp_s(&p, a->app);
	pgp_s(&p, a->url ? a->url : "");
	pgp_i(&p, a->status);
	pgp_i(&p, a->code);
	pgp_s(&p, a->response);
	pgp_i(&p, a->duration_ms);
	pgp_i(&p, a->trigger);
	pgp_i(&p, a->created);
	pgp_i(&p, a->delivery_status);
	pgp_i(&p, a->attempts);
	pgp_i(&p, a->next_at);
	return pg_wexec(be, PW_ATTEMPT, &p, NULL);
}

static int delivery_add(struct pg_be *be, const struct store_delivery_set *d)
{
	struct pgp p = {0};

	pgp_s(&p, d->msg);
	pgp_s(&p, d->endpoint);
	pgp_s(&p, d->app);
	pgp_i(&p, d->next_at);
	pgp_s(&p, owner(be));
	return wexec_work(be, PW_DELIVERY_ADD, &p, true);
}

static int delivery_set(struct pg_be *be, const struct store_delivery_set *d)
{
	struct pgp p = {0};

	pgp_s(&p, d->msg);
	pgp_s(&p, d->endpoint);
	pgp_i(&p, d->status);
	pgp_i(&p, d->next_at);
	pgp_i(&p, clock_now_ms());
	pgp_s(&p, owner(be));
	return wexec_work(be, d->reset_attempts ? PW_DELIVERY_SET_RESET : PW_DELIVERY_SET, &p,
			  d->status == MSG_PENDING);
}

int pg_msg_apply(struct pg_be *be, const struct store_op *op)
{
	struct pgp p = {0};

	switch (op->kind) {
	case SOP_MSG_INSERT:
		return msg_insert(be, &op->u.msg);
	case SOP_ATTEMPT:
		return attempt_insert(be, &op->u.att);
	case SOP_MSG_EXPUNGE:
		pgp_s(&p, op->u.msg.id);
		return pg_wexec(be, PW_MSG_EXPUNGE, &p, NULL);
	case SOP_ATTEMPT_EXPUNGE: {
		int changes = 0, rc;
		pgp_s(&p, op->u.att.id);
		pgp_s(&p, op->u.att.msg);
		rc = pg_wexec(be, PW_ATTEMPT_EXPUNGE, &p, &changes);
		return rc < 0 ? rc : changes ? 0 : HK_ENOTFOUND;
	}
	case SOP_DELIVERY_SET:
		return delivery_set(be, &op->u.dset);
	case SOP_DELIVERY_ADD:
		return delivery_add(be, &op->u.dset);
	default:
		return HK_EINVAL;
	}
}

/* ---- reads ---- */

int pg_msg_get(void *arg, const char *app, const char *key, bool with_content, json_t **out)
{
	struct query q;

	query_msg_get(&q, &query_pg, app, key);
	return pg_single(arg, &q, with_content ? query_msg_row : query_msg_row_bare, out);
}

int pg_msg_payload(void *arg, const char *msg, char **payload, size_t *len, char **event_type,
		   char **headers)
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	*payload = NULL;
	*event_type = NULL;
	pgp_s(&p, msg);
	res = pg_read1(arg, PR_MSG_PAYLOAD, &p, &rc);
	if (!res)
		return rc;
	rc = HK_ENOTFOUND;
	if (PQntuples(res) == 1) {
		*payload = pg_bytes(res, 0, 0, len);
		*event_type = strdup(pg_text(res, 0, 1));
		if (pg_text(res, 0, 2))
			*headers = strdup(pg_text(res, 0, 2));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

int pg_msg_list(void *arg, const struct store_msg_query *mq, const struct store_page *pg,
		struct store_list *out)
{
	struct query q;
	bool back = query_msg_list(&q, &query_pg, mq, pg);

	return pg_run_list(arg, &q, pg, back, mq->with_content ? query_msg_row : query_msg_row_bare, out);
}

int pg_attempt_list(void *arg, const struct store_attempt_query *aq, const struct store_page *pg,
		    struct store_list *out)
{
	struct query q;
	bool back = query_attempt_list(&q, &query_pg, aq, pg);

	return pg_run_list(arg, &q, pg, back, query_attempt_row, out);
}

int pg_attempt_get(void *arg, const char *app, const char *msg, const char *id, json_t **out)
{
	struct query q;

	query_attempt_get(&q, &query_pg, app, msg, id);
	return pg_single(arg, &q, query_attempt_row, out);
}

int pg_delivery_list(void *arg, const struct store_delivery_query *dq, const struct store_page *pg,
		     struct store_list *out)
{
	struct query q;
	bool back = query_delivery_list(&q, &query_pg, dq, pg);

	return pg_run_list(arg, &q, pg, back, dq->msg ? query_destination_row : query_endpoint_msg_row, out);
}

int pg_delivery_get(void *arg, const char *msg, const char *endpoint, struct store_due *out)
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, msg);
	pgp_s(&p, endpoint);
	res = pg_read1(arg, PR_DELIVERY_GET, &p, &rc);
	if (!res)
		return rc;
	rc = HK_ENOTFOUND;
	if (PQntuples(res) == 1) {
		pg_due_from_row(res, 0, out);
		rc = 0;
	}
	PQclear(res);
	return rc;
}

int pg_failed_scan(void *arg, const char *endpoint, int64_t since, int64_t until, store_due_fn fn,
		   void *fnarg)
{
	struct query q;

	query_failed_scan(&q, &query_pg, endpoint, since, until);
	return pg_scan(arg, &q, fn, fnarg);
}

int pg_endpoint_stats(void *arg, const char *endpoint, int64_t since, int64_t until,
		      struct store_ep_stats *out)
{
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, endpoint);
	pgp_i(&p, since);
	pgp_i(&p, until ? until : INT64_MAX);
	res = pg_read1(arg, PR_EP_STATS, &p, &rc);
	if (!res)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t n = pg_int(res, i, 1);
		switch ((int)pg_int(res, i, 0)) {
		case MSG_SUCCESS: out->success = n; break;
		case MSG_PENDING: out->pending = n; break;
		case MSG_FAIL: out->fail = n; break;
		case MSG_SENDING: out->sending = n; break;
		case MSG_CANCELED: out->canceled = n; break;
		}
	}
	PQclear(res);
	return 0;
}
