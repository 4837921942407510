/*
 * store_pg_node.c - what lets several hookd nodes share one PostgreSQL
 * database: node heartbeats and delivery leases, claiming work that no live
 * node holds, wake-ups by LISTEN/NOTIFY, shared per-endpoint rate windows,
 * advisory locks for singleton jobs, and retention batches.
 *
 * Leases: a delivery's owner column names the node whose dispatcher holds
 * it; the node's row in `node` says until when it is alive (alive_until,
 * on the database's clock). A node renews that one row every third of the
 * lease, so keeping a lease costs one single-row UPDATE per interval
 * however many deliveries the node holds (renewing each delivery row would
 * rewrite, and leave dead tuples for, every pending row several times a
 * minute). A delivery is free to claim when its owner is NULL (published
 * by a node that does not deliver, or given back at a clean stop) or its
 * owner's row has expired. Claiming is one statement, in a transaction of
 * its own (pg_claim):
 *
 *   rows pending, due before the horizon, owner NULL or dead
 *     --FOR UPDATE SKIP LOCKED LIMIT n--> owner := me --> RETURNING them
 *
 * so nodes claiming together take disjoint rows and never wait on each
 * other. A dead node's row is deleted once none of its pending work is left.
 *
 * All of this runs on the claim loop's own connection (be->lease); it
 * LISTENs on hookd_work (work to claim) and hookd_config (endpoints or
 * applications changed). Advisory locks live on another connection
 * (be->lockc) so a long retention pass never holds the claim loop.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store_pg.h"

/* lease_conn opens the claim loop's connection and starts listening */
static int lease_conn(struct pg_be *be, char *err, size_t errlen)
{
	if (be->lease && PQstatus(be->lease) != CONNECTION_OK) {
		PQreset(be->lease);
		be->listening = false;
	}
	if (!be->lease) {
		be->lease = pg_connect(be->url, err, errlen);
		if (!be->lease)
			return HK_EDB;
	}
	if (!be->listening) {
		int rc = pg_cmd(be->lease, "LISTEN hookd_work; LISTEN hookd_config");
		if (rc < 0)
			return rc;
		be->listening = true;
	}
	return 0;
}

/* lease_exec runs one statement with parameters on the claim loop's connection */
static PGresult *lease_exec(struct pg_be *be, const char *sql, const struct pgp *p, int *rc)
{
	PGresult *res;
	ExecStatusType s;

	*rc = lease_conn(be, NULL, 0);
	if (*rc < 0)
		return NULL;
	res = PQexecParams(be->lease, sql, p ? p->n : 0, NULL, p ? p->v : NULL, p ? p->len : NULL,
			   p ? p->fmt : NULL, 0);
	s = PQresultStatus(res);
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		*rc = pg_err(be->lease, res, sql);
		PQclear(res);
		return NULL;
	}
	return res;
}

int pg_node_start(void *arg, const char *node, int64_t lease_ms, char *err, size_t errlen)
{
	struct pg_be *be = arg;
	struct pgp p = {0};
	PGresult *res;
	int rc = lease_conn(be, err, errlen);

	if (rc < 0)
		return rc;
	pgp_s(&p, node);
	pgp_i(&p, lease_ms);
	res = lease_exec(be, "INSERT INTO node(id, started, alive_until) VALUES($1, hookd_now_ms(),"
			     " hookd_now_ms() + $2) ON CONFLICT (id) DO UPDATE SET alive_until = excluded.alive_until",
			 &p, &rc);
	if (!res) {
		snprintf(err, errlen, "cannot register node '%s'", node);
		return rc;
	}
	PQclear(res);
	snprintf(be->node, sizeof(be->node), "%s", node);
	be->lease_ms = lease_ms;
	return 0;
}

/*
 * pg_node_renew extends this node's lease and counts the live nodes. A row
 * gone missing (this node was taken for dead and cleaned away) is put back:
 * its old work may have been claimed by others, which is at-least-once.
 * Dead nodes with no pending work left are forgotten here too.
 */
int pg_node_renew(void *arg, int *live_nodes, int64_t *expiry_in)
{
	struct pg_be *be = arg;
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, be->node);
	pgp_i(&p, be->lease_ms);
	res = lease_exec(be,
			 "WITH me AS (INSERT INTO node(id, started, alive_until) VALUES($1, hookd_now_ms(),"
			 " hookd_now_ms() + $2) ON CONFLICT (id) DO UPDATE SET alive_until = excluded.alive_until"
			 " RETURNING (xmax = 0) AS fresh),"
			 " gone AS (DELETE FROM node n WHERE n.id <> $1 AND n.alive_until < hookd_now_ms() - 10 * $2"
			 " AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.owner = n.id AND d.status = 1))"
			 " SELECT (SELECT fresh FROM me),"
			 " (SELECT count(*) FROM node WHERE id <> $1 AND alive_until >= hookd_now_ms()) + 1,"
			 " (SELECT min(alive_until) - hookd_now_ms() FROM node WHERE id <> $1"
			 " AND alive_until >= hookd_now_ms())",
			 &p, &rc);
	if (!res)
		return rc;
	if (PQntuples(res) == 1) {
		const char *fresh = pg_text(res, 0, 0);
		if (fresh && fresh[0] == 't')
			log_warnx("node '%s' had been taken for dead; its earlier work may be delivered twice",
				  be->node);
		*live_nodes = (int)pg_int(res, 0, 1);
		*expiry_in = pg_text(res, 0, 2) ? pg_int(res, 0, 2) : -1;
	}
	PQclear(res);
	return 0;
}

/* pg_node_stop gives this node's pending work back and wakes the others to claim it */
int pg_node_stop(void *arg)
{
	struct pg_be *be = arg;
	struct pgp p = {0};
	PGresult *res;
	int rc;

	if (!be->node[0])
		return 0;
	pgp_s(&p, be->node);
	res = lease_exec(be,
			 "WITH r AS (UPDATE delivery SET owner = NULL WHERE owner = $1 AND status = 1 RETURNING 1),"
			 " n AS (DELETE FROM node WHERE id = $1)"
			 " SELECT (SELECT count(*) FROM r), pg_notify('hookd_work', '')",
			 &p, &rc);
	if (!res)
		return rc;
	if (PQntuples(res) == 1 && pg_int(res, 0, 0) > 0)
		log_info("gave back %lld pending deliveries for other nodes", (long long)pg_int(res, 0, 0));
	PQclear(res);
	be->node[0] = '\0';
	return 0;
}

/*
 * claim_again takes the rows of a claim whose COMMIT answer was lost once
 * more, on a new connection: whether or not that commit landed, they are
 * this node's afterwards, unless another node took them in between (then
 * both deliver them, which at least once allows).
 */
static void claim_again(struct pg_be *be, PGresult *claimed)
{
	struct buf msgs = {0}, eps = {0};
	struct pgp p = {0};
	PGresult *res;
	int rc, n = PQntuples(claimed);

	for (int i = 0; i < n; i++) { /* ids are base62 and '_': array elements need no quoting */
		buf_printf(&msgs, "%s%s", i ? "," : "{", PQgetvalue(claimed, i, 0));
		buf_printf(&eps, "%s%s", i ? "," : "{", PQgetvalue(claimed, i, 1));
	}
	buf_appends(&msgs, "}");
	buf_appends(&eps, "}");
	pgp_s(&p, be->node);
	pgp_s(&p, buf_cstr(&msgs));
	pgp_s(&p, buf_cstr(&eps));
	res = lease_exec(be,
			 "UPDATE delivery d SET owner = $1 FROM unnest($2::text[], $3::text[]) AS k(msg, endpoint)"
			 " WHERE d.msg = k.msg AND d.endpoint = k.endpoint AND d.status = 1"
			 " AND (d.owner IS NULL OR d.owner = $1 OR d.owner IN"
			 " (SELECT id FROM node WHERE alive_until < hookd_now_ms()))",
			 &p, &rc);
	if (res)
		log_warnx("the answer to a claim's commit was lost: took its %d deliveries again", n);
	else
		log_error("the answer to a claim's commit was lost, and its %d deliveries could not be"
			  " taken again: another node may deliver them too", n);
	PQclear(res);
	buf_release(&msgs);
	buf_release(&eps);
}

/*
 * A claim is a transaction of its own, committed once its rows are read: as
 * one autocommit statement the server commits after sending the rows, and a
 * connection lost in between would leave rows leased to this node that its
 * dispatcher never got, pending until the node dies. This way a claim whose
 * rows did not arrive did not commit, and one whose COMMIT answer was lost
 * is made certain by claim_again.
 */
int pg_claim(void *arg, int limit, int64_t horizon, store_due_fn fn, void *fnarg)
{
	struct pg_be *be = arg;
	struct pgp p = {0};
	struct store_due d;
	PGresult *res;
	int rc, n;

	rc = lease_conn(be, NULL, 0);
	if (rc == 0)
		rc = pg_cmd(be->lease, "BEGIN");
	if (rc < 0)
		return rc;
	pgp_s(&p, be->node);
	pgp_i(&p, horizon);
	pgp_i(&p, limit);
	res = lease_exec(be,
			 "WITH c AS (SELECT d.msg, d.endpoint FROM delivery d WHERE d.status = 1"
			 " AND d.next_at <= $2 AND (d.owner IS NULL OR d.owner IN"
			 " (SELECT id FROM node WHERE alive_until < hookd_now_ms()))"
			 " LIMIT $3 FOR UPDATE SKIP LOCKED)"
			 ", u AS (UPDATE delivery d SET owner = $1 FROM c WHERE d.msg = c.msg"
			 " AND d.endpoint = c.endpoint"
			 " RETURNING d.msg, d.endpoint, d.app, d.attempts, d.next_at, d.status)"
			 " SELECT u.*, m.event_type, m.payload, m.headers FROM u JOIN msg m ON m.id = u.msg",
			 &p, &rc);
	if (res && PQntuples(res) == 0) {
		PQclear(res);
		pg_cmd(be->lease, "ROLLBACK");
		return 0;
	}
	if (res)
		rc = pg_cmd(be->lease, "COMMIT");
	if (rc < 0 && res && PQstatus(be->lease) == CONNECTION_BAD) {
		claim_again(be, res);
		rc = 0;
	}
	if (rc < 0) {
		if (PQstatus(be->lease) == CONNECTION_OK && PQtransactionStatus(be->lease) != PQTRANS_IDLE)
			pg_cmd(be->lease, "ROLLBACK");
		PQclear(res);
		return rc;
	}
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		char *payload;
		pg_due_from_row(res, i, &d);
		payload = pg_bytes(res, i, 7, &d.len);
		d.event_type = pg_text(res, i, 6);
		d.payload = payload;
		d.headers = pg_text(res, i, 8);
		fn(&d, fnarg);
		free(payload);
	}
	PQclear(res);
	return n;
}

/* pg_wait polls the claim loop's connection (notifications) and wake_fd */
int pg_wait(void *arg, int wake_fd, int timeout_ms)
{
	struct pg_be *be = arg;
	struct pollfd p[2];
	PGnotify *nf;
	int bits = 0, rc = lease_conn(be, NULL, 0);

	if (rc < 0) {
		/* the server is away: wait out the timeout, then try again */
		struct pollfd w = {.fd = wake_fd, .events = POLLIN};
		poll(&w, wake_fd >= 0 ? 1 : 0, timeout_ms);
		return 0;
	}
	PQconsumeInput(be->lease);
	while ((nf = PQnotifies(be->lease))) {
		bits |= strcmp(nf->relname, "hookd_config") == 0 ? STORE_WAKE_CONFIG : STORE_WAKE_WORK;
		PQfreemem(nf);
	}
	if (bits)
		return bits;
	p[0].fd = PQsocket(be->lease);
	p[0].events = POLLIN;
	p[1].fd = wake_fd;
	p[1].events = POLLIN;
	if (poll(p, wake_fd >= 0 ? 2 : 1, timeout_ms) < 0 && errno != EINTR)
		return HK_EIO;
	if (p[0].revents) {
		if (!PQconsumeInput(be->lease))
			log_warnx("the PostgreSQL lease connection broke: %s", PQerrorMessage(be->lease));
		while ((nf = PQnotifies(be->lease))) {
			bits |= strcmp(nf->relname, "hookd_config") == 0 ? STORE_WAKE_CONFIG : STORE_WAKE_WORK;
			PQfreemem(nf);
		}
	}
	return bits;
}

int pg_take_tokens(void *arg, const char *endpoint, int rate, int want, int *granted, int64_t *valid_ms)
{
	struct pg_be *be = arg;
	struct pgp p = {0};
	PGresult *res;
	int rc;

	pgp_s(&p, endpoint);
	pgp_i(&p, rate);
	pgp_i(&p, want);
	res = lease_exec(be, "SELECT granted, valid_ms FROM hookd_take_tokens($1, $2, $3)", &p, &rc);
	if (!res)
		return rc;
	if (PQntuples(res) == 1) {
		*granted = (int)pg_int(res, 0, 0);
		*valid_ms = pg_int(res, 0, 1);
	}
	PQclear(res);
	return 0;
}

/* ---- advisory locks for singleton jobs ---- */

static int lock_cmd(struct pg_be *be, const char *fn, int64_t key, bool *got)
{
	char sql[96];
	PGresult *res;
	int rc = 0;

	if (be->lockc && PQstatus(be->lockc) != CONNECTION_OK)
		PQreset(be->lockc);
	if (!be->lockc)
		be->lockc = pg_connect(be->url, NULL, 0);
	if (!be->lockc)
		return HK_EDB;
	snprintf(sql, sizeof(sql), "SELECT %s(%lld)", fn, (long long)key);
	res = PQexec(be->lockc, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_err(be->lockc, res, sql);
	else if (got)
		*got = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return rc;
}

int pg_try_lock(void *arg, int64_t key)
{
	struct pg_be *be = arg;
	bool got = false;
	int rc;

	pthread_mutex_lock(&be->lock_mu);
	rc = lock_cmd(be, "pg_try_advisory_lock", key, &got);
	pthread_mutex_unlock(&be->lock_mu);
	return rc < 0 ? rc : got ? 0 : HK_EBUSY;
}

void pg_unlock(void *arg, int64_t key)
{
	struct pg_be *be = arg;

	pthread_mutex_lock(&be->lock_mu);
	lock_cmd(be, "pg_advisory_unlock", key, NULL);
	pthread_mutex_unlock(&be->lock_mu);
}

void pg_node_close(struct pg_be *be)
{
	PQfinish(be->lease);
	be->lease = NULL;
	PQfinish(be->lockc);
	be->lockc = NULL;
}

/* ---- retention, on the writer's connection inside its transaction ---- */

struct retain_step {
	const char *sql;
	const char *params; /* which values, in order: a attempt id, m msg id, e event id, r run id, t task id,
			     * n now, l limit */
};

static const struct retain_step retain_steps[] = {
	{"DELETE FROM attempt WHERE id IN (SELECT id FROM attempt WHERE id < $1 ORDER BY id LIMIT $2)", "al"},
	{"WITH m AS (SELECT m.id FROM msg m WHERE m.id < $1 AND NOT EXISTS (SELECT 1 FROM delivery d"
	 " WHERE d.msg = m.id AND d.status IN (1, 3)) ORDER BY m.id LIMIT $2),"
	 " d AS (DELETE FROM delivery WHERE msg IN (SELECT id FROM m))"
	 " DELETE FROM msg WHERE id IN (SELECT id FROM m)", "ml"},
	{"DELETE FROM inbound WHERE id IN (SELECT id FROM inbound WHERE id < $1 AND status <> 0"
	 " ORDER BY id LIMIT $2)", "el"},
	{"UPDATE msg SET payload = NULL WHERE id IN (SELECT id FROM msg WHERE payload IS NOT NULL"
	 " AND expires > 0 AND expires < $1 LIMIT $2)", "nl"},
	{"DELETE FROM idem WHERE key IN (SELECT key FROM idem WHERE expires < $1 LIMIT $2)", "nl"},
	{"DELETE FROM inbound_dedupe WHERE (source, key) IN (SELECT source, key FROM inbound_dedupe"
	 " WHERE expires < $1 LIMIT $2)", "nl"},
	{"DELETE FROM hook_run WHERE id IN (SELECT id FROM hook_run WHERE id < $1 AND status NOT IN (0, 1)"
	 " ORDER BY id LIMIT $2)", "rl"},
	{"DELETE FROM doc WHERE kind = 'task' AND id IN (SELECT id FROM doc WHERE kind = 'task' AND id < $1"
	 " ORDER BY id LIMIT $2)", "tl"},
};

int pg_retain(struct pg_be *be, const struct store_retain *rt)
{
	char att[ID_MAX], msg[ID_MAX], evt[ID_MAX], run[ID_MAX], task[ID_MAX];

	id_new_at("atmpt_", rt->before, att);
	id_new_at("msg_", rt->before, msg);
	id_new_at("evt_", rt->before, evt);
	id_new_at("run_", rt->before, run);
	id_new_at("qtask_", rt->before, task);
	for (size_t i = 0; i < sizeof(retain_steps) / sizeof(retain_steps[0]); i++) {
		struct pgp p = {0};
		PGresult *res;
		int changes;

		for (const char *c = retain_steps[i].params; *c; c++) {
			switch (*c) {
			case 'a': pgp_s(&p, att); break;
			case 'm': pgp_s(&p, msg); break;
			case 'e': pgp_s(&p, evt); break;
			case 'r': pgp_s(&p, run); break;
			case 't': pgp_s(&p, task); break;
			case 'n': pgp_i(&p, rt->now); break;
			default: pgp_i(&p, rt->limit); break;
			}
		}
		res = PQexecParams(be->w, retain_steps[i].sql, p.n, NULL, p.v, p.len, p.fmt, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			int rc = pg_err(be->w, res, "retention");
			PQclear(res);
			return rc;
		}
		changes = (int)strtol(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		*rt->removed += changes;
		if (changes >= rt->limit)
			*rt->more = true;
	}
	return 0;
}
