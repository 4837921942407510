/*
 * store.c - the store front-end: backend selection, the group-commit
 * writer thread, and the read wrappers.
 *
 * The writer loop:
 *   wait for writes -> take the whole queue (up to STORE_BATCH_MAX)
 *   -> BEGIN -> for each write: SAVEPOINT, apply its ops, RELEASE or ROLLBACK TO
 *   -> COMMIT -> call each write's done(rc) -> free it.
 * A failed COMMIT fails every write of the batch. Waiters are woken only
 * after the commit, so an answer built in done() is always durable.
 *
 * Writes that no one waits for (done == NULL: attempt results, counters)
 * linger up to STORE_LINGER_MS, or until STORE_LINGER_WRITES of them queue,
 * before the writer takes them, so that a stream of results shares a few
 * large commits instead of one small commit each. A write with a waiter ends
 * the lingering at once and takes the lingering writes into its commit,
 * except while the syncer still flushes the previous batch: that batch's
 * waiters are not answered before the flush ends anyway, so the writer lets
 * more writes join until then (bounded by the same limits). Under load this
 * makes batches, not commits, grow with the number of concurrent clients.
 * A batch nobody waits for is handed to the syncer only if no flush began in
 * the last STORE_FLUSH_MS; otherwise it is done once committed (it survives
 * the process) and the next flush, which syncs the whole log, covers it.
 *
 * A batch first runs without savepoints (STORE_CAP_OPTIMISTIC, both
 * backends): on PostgreSQL each costs a round trip (and without them the
 * batch can be pipelined), on SQLite a statement journal. Any write failing
 * there (a conflict, a duplicate, an error) rolls the whole transaction back
 * and runs the batch again the usual way, so each write still succeeds or
 * fails alone; the next STORE_GUARDED_AFTER batches then keep their savepoints.
 *
 * A batch that fails whole (the database out of reach: a dropped connection,
 * a restart, a full disk) fails the writes a client waits for; the others go
 * back to the head of the queue and run again after a pause of 50 ms that
 * doubles up to 2 s while batches keep failing (keep_unwaited).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypt.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "store/store.h"

#define STORE_BATCH_MAX 4096
#define STORE_QUEUE_MAX 100000
#define STORE_LINGER_MS 2
#define STORE_LINGER_WRITES 1024
#define STORE_FLUSH_MS 50
#define STORE_GUARDED_AFTER 16
#define STORE_RETRY_MIN_MS 50
#define STORE_RETRY_MAX_MS 2000
#define STORE_KEEP_MAX 150 /* about five minutes of failed batches at the longest pause */

/* ---- write objects ---- */

struct store_write *store_write_new(store_done_fn done, void *arg)
{
	struct store_write *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->done = done;
	w->arg = arg;
	w->failed_op = -1;
	return w;
}

struct store_op *store_write_add(struct store_write *w, enum store_op_kind kind)
{
	if (w->nops == w->cap) {
		/* most writes hold one op (an attempt, an inbound event): start small */
		size_t ncap = w->cap ? w->cap * 2 : 1;
		struct store_op *p = realloc(w->ops, ncap * sizeof(*p));
		if (!p)
			return NULL;
		w->ops = p;
		w->cap = ncap;
	}
	struct store_op *op = &w->ops[w->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

int store_write_doc(struct store_write *w, enum store_op_kind kind, const char *doc_kind,
		    const char *id, const char *parent, const char *uid, json_t *body,
		    int64_t created, int64_t updated)
{
	struct store_op *op = store_write_add(w, kind);
	if (!op)
		return HK_ENOMEM;
	snprintf(op->u.doc.kind, sizeof(op->u.doc.kind), "%s", doc_kind);
	snprintf(op->u.doc.id, sizeof(op->u.doc.id), "%s", id);
	snprintf(op->u.doc.parent, sizeof(op->u.doc.parent), "%s", parent ? parent : "");
	op->u.doc.uid = uid ? strdup(uid) : NULL;
	op->u.doc.body = body ? json_incref(body) : NULL;
	op->u.doc.created = created;
	op->u.doc.updated = updated;
	return 0;
}

static void op_release(struct store_op *op)
{
	switch (op->kind) {
	case SOP_DOC_INSERT:
	case SOP_DOC_UPDATE:
	case SOP_DOC_DELETE:
		free(op->u.doc.uid);
		json_decref(op->u.doc.body);
		break;
	case SOP_IDEM_PUT:
		free(op->u.idem.key);
		free(op->u.idem.body);
		break;
	case SOP_META_PUT:
		free(op->u.meta.key);
		free(op->u.meta.value);
		break;
	case SOP_MSG_INSERT:
		free(op->u.msg.event_id);
		free(op->u.msg.event_type);
		json_decref(op->u.msg.channels);
		json_decref(op->u.msg.tags);
		json_decref(op->u.msg.headers);
		free(op->u.msg.payload);
		free(op->u.msg.endpoints);
		break;
	case SOP_ATTEMPT:
		free(op->u.att.url);
		free(op->u.att.response);
		break;
	case SOP_INBOUND_INSERT:
		free(op->u.in.dedupe_key);
		free(op->u.in.path);
		free(op->u.in.query);
		free(op->u.in.headers);
		free(op->u.in.remote);
		free(op->u.in.reason);
		free(op->u.in.event_type);
		free(op->u.in.body);
		break;
	case SOP_INBOUND_ROUTED:
		free(op->u.routed.routed);
		break;
	case SOP_HOOK_RUN_INSERT:
	case SOP_HOOK_RUN_UPDATE:
		free(op->u.run.output);
		free(op->u.run.error);
		break;
	case SOP_SOURCE_COUNT:
	case SOP_RETAIN:
	case SOP_IDEM_PRUNE:
	case SOP_MSG_EXPUNGE:
	case SOP_ATTEMPT_EXPUNGE:
	case SOP_DELIVERY_SET:
	case SOP_DELIVERY_ADD:
		break;
	}
}

void store_write_free(struct store_write *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nops; i++)
		op_release(&w->ops[i]);
	free(w->ops);
	free(w);
}

/* ---- the writer ---- */

/* apply_write runs a write's ops, inside a savepoint when guarded */
static int apply_write(struct store *st, struct store_write *w, bool guarded)
{
	int rc = guarded ? st->ops->savepoint(st->be) : 0;
	if (rc < 0)
		return rc;
	w->failed_op = -1;
	for (size_t i = 0; i < w->nops; i++) {
		rc = st->ops->apply(st->be, &w->ops[i]);
		if (rc < 0) {
			w->failed_op = (int)i;
			if (guarded)
				st->ops->rollback_to(st->be);
			return rc;
		}
	}
	return guarded ? st->ops->release(st->be) : 0;
}

#define BATCH_TRIES 4

/*
 * run_writes runs a batch in one transaction up to its commit. Where several
 * nodes write (PostgreSQL), two batches can take the same keys in opposite
 * orders (one idempotency key or eventId sent to two nodes at once); the
 * server breaks the deadlock by failing a statement of one (HK_EBUSY). Then,
 * unless this is the last try, the whole transaction is rolled back and run
 * again (*again): with all of its locks gone the other batch commits, and
 * the retry meets its rows (HK_ECONFLICT) instead of waiting on them. Nothing
 * of a batch is visible before its commit, so running it again is safe.
 * Unguarded (no savepoints), any failed write asks for a guarded run (*again).
 */
static int run_writes(struct store *st, struct store_write *batch, bool guarded, bool last,
		      bool *again)
{
	int rc = st->ops->begin(st->be, guarded);
	struct store_write *w;

	*again = false;
	for (w = batch; w && rc == 0; w = w->next) {
		w->rc = apply_write(st, w, guarded);
		if (w->rc < 0 && !guarded) {
			rc = w->rc;
			break;
		}
		if (w->rc == HK_EBUSY && store_clustered(st) && !last) {
			*again = true;
			return HK_EBUSY;
		}
	}
	if (rc == 0)
		rc = st->ops->commit(st->be);
	if (rc < 0 && !guarded) { /* a failed write, or a pipelined statement's failure at the commit */
		*again = true;
		st->guarded = STORE_GUARDED_AFTER;
	}
	return rc;
}

static void finish_batch(struct store_write *batch, int rc);

/*
 * keep_unwaited puts the writes of a failed batch that no client waits for
 * back at the head of the queue, to run again after a pause that doubles up
 * to STORE_RETRY_MAX_MS: those without done() (attempt results, counters)
 * and those marked keep (an inbound event's routing, whose done() hands its
 * deliveries on once committed). A batch fails whole only when the database
 * cannot be reached or written (a dropped connection, a restart, a full
 * disk), and then nothing of it was committed (a commit whose answer was
 * lost is settled by the backend: store_pg.c); dropping an attempt's result
 * would leave its delivery pending although it was delivered. The other
 * writes fail at once: their callers answer with an error and their clients
 * retry. A write kept STORE_KEEP_MAX times fails too, so that none can hold
 * the queue forever. Returns the writes to finish now. While the store
 * stops, nothing is kept.
 */
static struct store_write *keep_unwaited(struct store *st, struct store_write *batch)
{
	struct store_write *keep = NULL, *klast = NULL, *rest = NULL, **rtail = &rest, *w, *next;
	size_t n = 0;

	pthread_mutex_lock(&st->mu);
	if (st->stopping) {
		pthread_mutex_unlock(&st->mu);
		return batch;
	}
	for (w = batch; w; w = next) {
		next = w->next;
		w->next = NULL;
		if ((w->done && !w->keep) || ++w->kept > STORE_KEEP_MAX) {
			*rtail = w;
			rtail = &w->next;
			continue;
		}
		if (w->done)
			st->waited++; /* taken off again when the writer takes it */
		w->rc = 0;
		w->failed_op = -1;
		if (klast)
			klast->next = w;
		else
			keep = w;
		klast = w;
		n++;
	}
	if (keep) {
		klast->next = st->head;
		if (!st->head)
			st->tail = klast;
		st->head = keep;
		st->queued += n;
		st->retry_ms = st->retry_ms ? st->retry_ms * 2 : STORE_RETRY_MIN_MS;
		if (st->retry_ms > STORE_RETRY_MAX_MS)
			st->retry_ms = STORE_RETRY_MAX_MS;
		st->retry_us = clock_mono_us() + (int64_t)st->retry_ms * 1000;
		log_warnx("%zu writes nobody waits for run again in %d ms", n, st->retry_ms);
	}
	pthread_mutex_unlock(&st->mu);
	return rest;
}

/* run_batch commits a batch of n writes, waited of which someone waits for */
static void run_batch(struct store *st, struct store_write *batch, size_t n, size_t waited)
{
	int64_t t0 = clock_mono_us();
	struct store_write *w;
	bool again = false;
	int rc;

	bool guarded = !(st->ops->caps & STORE_CAP_OPTIMISTIC) || st->guarded > 0;

	if (guarded && st->guarded > 0)
		st->guarded--;
	for (int tries = 1;; tries++) {
		rc = run_writes(st, batch, guarded, tries == BATCH_TRIES, &again);
		if (!again)
			break;
		st->ops->rollback(st->be);
		if (!guarded) {
			metrics_batch_rerun();
			guarded = true;
			tries = 0;
			continue;
		}
		log_debug("a batch of %zu writes deadlocked with another node's; running it again", n);
	}
	if (rc < 0) {
		st->ops->rollback(st->be);
		st->stats.failed_commits++;
		log_error("store commit of %zu writes failed: %s", n, hk_strerror(rc));
		batch = keep_unwaited(st, batch);
	} else {
		st->retry_ms = 0;
	}
	metrics_commit((unsigned)n, clock_mono_us() - t0);
	st->stats.commits++;
	st->stats.writes += n;
	if (n > st->stats.batch_max)
		st->stats.batch_max = n;
	if (!batch)
		return;
	for (w = batch; w; w = w->next)
		if (rc < 0)
			w->rc = rc;
	/* a batch nobody waits for is flushed at most every STORE_FLUSH_MS (see top) */
	if (st->syncer_started && (waited || clock_mono_us() - st->flushed_us >= STORE_FLUSH_MS * 1000)) {
		/* hand the batch to the syncer: its waiters wake once it is on disk */
		struct store_write *last = batch;
		while (last->next)
			last = last->next;
		pthread_mutex_lock(&st->mu);
		if (st->sync_tail)
			st->sync_tail->next = batch;
		else
			st->sync_head = batch;
		st->sync_tail = last;
		pthread_cond_signal(&st->sync_cv);
		pthread_mutex_unlock(&st->mu);
		return;
	}
	finish_batch(batch, 0);
}

/* finish_batch wakes each write's waiter and frees it; rc overrides on failure */
static void finish_batch(struct store_write *batch, int rc)
{
	struct store_write *w, *next;

	for (w = batch; w; w = next) {
		next = w->next;
		if (rc < 0 && w->rc == 0)
			w->rc = rc;
		if (w->done)
			w->done(w, w->rc, w->arg);
		store_write_free(w);
	}
}

/* syncer_main makes committed batches durable, one disk sync for all that wait */
static void *syncer_main(void *arg)
{
	struct store *st = arg;

	pthread_setname_np(pthread_self(), "hk-sync");
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (!st->sync_head && !st->sync_stopping)
			pthread_cond_wait(&st->sync_cv, &st->mu);
		if (!st->sync_head)
			break;
		struct store_write *batch = st->sync_head;
		st->sync_head = st->sync_tail = NULL;
		st->syncing = true;
		st->flushed_us = clock_mono_us(); /* what committed until now is in this flush */
		pthread_mutex_unlock(&st->mu);
		int rc = st->ops->sync(st->be);
		if (rc < 0)
			log_error("store sync failed: %s", hk_strerror(rc));
		finish_batch(batch, rc);
		pthread_mutex_lock(&st->mu);
		st->syncing = false;
		pthread_cond_broadcast(&st->idle);
		pthread_cond_signal(&st->cv); /* a lingering writer may go */
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* linger lets queued writes gather into a larger batch (see top); st->mu held */
static void linger(struct store *st)
{
	struct timespec until = clock_deadline(STORE_LINGER_MS);

	while (!st->stopping && st->queued < STORE_LINGER_WRITES) {
		/* someone waits: go now, unless the disk is still busy with the last batch */
		if (st->waited && !st->syncing && !st->sync_head)
			return;
		if (pthread_cond_timedwait(&st->cv, &st->mu, &until) != 0)
			return;
	}
}

static void *writer_main(void *arg)
{
	struct store *st = arg;

	pthread_setname_np(pthread_self(), "hk-writer");
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (!st->head && !st->stopping) {
			st->busy = false;
			pthread_cond_broadcast(&st->idle);
			pthread_cond_wait(&st->cv, &st->mu);
		}
		if (!st->head && st->stopping)
			break;
		/* after a failed batch, give the database a moment (keep_unwaited) */
		while (!st->stopping && clock_mono_us() < st->retry_us) {
			struct timespec until = clock_deadline((st->retry_us - clock_mono_us()) / 1000 + 1);
			pthread_cond_timedwait(&st->cv, &st->mu, &until);
		}
		linger(st);
		/* take up to STORE_BATCH_MAX writes */
		struct store_write *batch = st->head, *last = st->head;
		size_t n = 1, waited = batch->done != NULL;
		while (last->next && n < STORE_BATCH_MAX) {
			last = last->next;
			n++;
			waited += last->done != NULL;
		}
		st->waited -= waited;
		st->head = last->next;
		if (!st->head)
			st->tail = NULL;
		last->next = NULL;
		st->queued -= n;
		st->busy = true;
		pthread_mutex_unlock(&st->mu);
		run_batch(st, batch, n, waited);
		pthread_mutex_lock(&st->mu);
	}
	st->busy = false;
	pthread_cond_broadcast(&st->idle);
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/*
 * seal_write encrypts what a write would store in clear: the secret members
 * of documents (a sealed copy, so the caller's document is untouched) and
 * remembered API answers. A no-op without a master key.
 */
static int seal_write(struct store_write *w)
{
	if (!crypt_enabled())
		return 0;
	for (size_t i = 0; i < w->nops; i++) {
		struct store_op *op = &w->ops[i];
		if ((op->kind == SOP_DOC_INSERT || op->kind == SOP_DOC_UPDATE) && op->u.doc.body) {
			json_t *copy = json_deep_copy(op->u.doc.body);
			if (!copy || crypt_seal_doc(copy) < 0) {
				json_decref(copy);
				return HK_ENOMEM;
			}
			json_decref(op->u.doc.body);
			op->u.doc.body = copy;
		} else if (op->kind == SOP_IDEM_PUT && op->u.idem.body) {
			char *sealed = crypt_seal(op->u.idem.body, op->u.idem.len);
			if (!sealed)
				return HK_ENOMEM;
			free(op->u.idem.body);
			op->u.idem.body = sealed;
			op->u.idem.len = strlen(sealed);
		}
	}
	return 0;
}

int store_submit(struct store *st, struct store_write *w)
{
	int rc = seal_write(w);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&st->mu);
	if (st->stopping || st->queued >= st->max_queued) {
		int closed = st->stopping;
		pthread_mutex_unlock(&st->mu);
		return closed ? HK_ECLOSED : HK_EFULL;
	}
	w->next = NULL;
	if (st->tail)
		st->tail->next = w;
	else
		st->head = w;
	st->tail = w;
	st->queued++;
	if (w->done)
		st->waited++;
	/*
	 * a lingering writer wakes by itself; wake it early only when that is due:
	 * the first write of an empty queue, the first one someone waits for (more
	 * change nothing: the end of a flush wakes the writer too), a full linger
	 */
	if (st->queued == 1 || (w->done && st->waited == 1) || st->queued == STORE_LINGER_WRITES)
		pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

struct run_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool finished;
	int rc;
};

static void run_done(struct store_write *w, int rc, void *arg)
{
	struct run_wait *rw = arg;
	(void)w;
	pthread_mutex_lock(&rw->mu);
	rw->rc = rc;
	rw->finished = true;
	pthread_cond_signal(&rw->cv);
	pthread_mutex_unlock(&rw->mu);
}

int store_run(struct store *st, struct store_write *w)
{
	struct run_wait rw = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};
	int rc;

	w->done = run_done;
	w->arg = &rw;
	rc = store_submit(st, w);
	if (rc < 0) {
		store_write_free(w);
		return rc;
	}
	pthread_mutex_lock(&rw.mu);
	while (!rw.finished)
		pthread_cond_wait(&rw.cv, &rw.mu);
	pthread_mutex_unlock(&rw.mu);
	return rw.rc;
}

/* ---- open / close ---- */

int store_open(const char *url, struct store **out, char *err, size_t errlen)
{
	const struct store_ops *ops = &store_sqlite_ops;
	const char *location = url;
	struct store *st;
	int rc;

	if (strncmp(url, "sqlite:", 7) == 0) {
		location = url + 7;
	} else if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
		ops = &store_pg_ops;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return HK_ENOMEM;
	st->ops = ops;
	st->max_queued = STORE_QUEUE_MAX;
	pthread_mutex_init(&st->mu, NULL);
	clock_cond_init(&st->cv);
	pthread_cond_init(&st->idle, NULL);
	pthread_cond_init(&st->sync_cv, NULL);
	rc = ops->open(location, &st->be, err, errlen);
	if (rc < 0)
		goto fail;
	if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
		snprintf(err, errlen, "cannot start the store writer thread");
		rc = HK_ENOMEM;
		goto fail;
	}
	st->started = true;
	if (ops->sync && pthread_create(&st->syncer, NULL, syncer_main, st) == 0)
		st->syncer_started = true;
	*out = st;
	return 0;
fail:
	if (st->be)
		ops->close(st->be);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	pthread_cond_destroy(&st->idle);
	pthread_cond_destroy(&st->sync_cv);
	free(st);
	return rc;
}

size_t store_queued(struct store *st)
{
	size_t n;
	pthread_mutex_lock(&st->mu);
	n = st->queued;
	pthread_mutex_unlock(&st->mu);
	return n;
}

void store_drain(struct store *st)
{
	pthread_mutex_lock(&st->mu);
	while (st->head || st->busy || st->sync_head || st->syncing)
		pthread_cond_wait(&st->idle, &st->mu);
	pthread_mutex_unlock(&st->mu);
}

void store_set_queue_max(struct store *st, size_t n)
{
	pthread_mutex_lock(&st->mu);
	st->max_queued = n ? n : 1;
	pthread_mutex_unlock(&st->mu);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->started) {
		pthread_mutex_lock(&st->mu);
		st->stopping = true;
		pthread_cond_signal(&st->cv);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->writer, NULL);
	}
	if (st->syncer_started) {
		pthread_mutex_lock(&st->mu);
		st->sync_stopping = true;
		pthread_cond_signal(&st->sync_cv);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->syncer, NULL);
	}
	st->ops->close(st->be);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	pthread_cond_destroy(&st->idle);
	pthread_cond_destroy(&st->sync_cv);
	free(st);
}

/* ---- reads ---- */

int store_doc_get(struct store *st, const char *kind, const char *parent, const char *key, json_t **out)
{
	int rc;

	*out = NULL;
	if (!key || !*key)
		return HK_ENOTFOUND;
	rc = st->ops->doc_get(st->be, kind, parent ? parent : "", key, out);
	if (rc == 0 && crypt_open_doc(*out) < 0) {
		log_error("cannot decrypt the secrets of %s '%s': wrong master key?", kind, key);
		json_decref(*out);
		*out = NULL;
		rc = HK_EVERIFY;
	}
	return rc;
}

int store_doc_list(struct store *st, const char *kind, const char *parent, const struct store_page *pg,
		   struct store_list *out)
{
	size_t i;
	json_t *item;
	int rc;

	memset(out, 0, sizeof(*out));
	if (pg->limit < 1 || pg->limit > 250)
		return HK_EINVAL;
	rc = st->ops->doc_list(st->be, kind, parent ? parent : "", pg, out);
	json_array_foreach(rc == 0 ? out->items : NULL, i, item) {
		if (crypt_open_doc(item) < 0) {
			log_error("cannot decrypt the secrets of a %s: wrong master key?", kind);
			store_list_release(out);
			return HK_EVERIFY;
		}
	}
	return rc;
}

void store_list_release(struct store_list *l)
{
	json_decref(l->items);
	l->items = NULL;
}

static const char *item_key(json_t *item)
{
	const char *k = json_string_value(json_object_get(item, "id"));
	return k ? k : json_string_value(json_object_get(item, "name"));
}

void store_list_set_iterators(struct store_list *l, bool backwards)
{
	size_t n = json_array_size(l->items);
	const char *first = n ? item_key(json_array_get(l->items, 0)) : NULL;
	const char *last = n ? item_key(json_array_get(l->items, n - 1)) : NULL;

	(void)backwards;
	l->iterator[0] = l->prev_iterator[0] = '\0';
	if (last)
		snprintf(l->iterator, sizeof(l->iterator), "%s", last);
	if (first)
		snprintf(l->prev_iterator, sizeof(l->prev_iterator), "-%s", first);
}

int store_idem_get(struct store *st, const char *key, int *status, char **body, size_t *len)
{
	char *plain;
	int rc = st->ops->idem_get(st->be, key, clock_now_ms(), status, body, len);

	if (rc == 0 && crypt_is_sealed(*body)) {
		rc = crypt_open(*body, &plain, len);
		free(*body);
		*body = rc == 0 ? plain : NULL;
	}
	return rc;
}

int store_meta_get(struct store *st, const char *key, char **value)
{
	return st->ops->meta_get(st->be, key, value);
}

const char *msg_status_text(int status)
{
	static const char *const names[] = {"success", "pending", "fail", "sending", "canceled"};
	return status >= 0 && status <= 4 ? names[status] : "unknown";
}

int store_msg_get(struct store *st, const char *app, const char *key, bool with_content, json_t **out)
{
	*out = NULL;
	return st->ops->msg_get(st->be, app, key, with_content, out);
}

int store_msg_payload(struct store *st, const char *msg, char **payload, size_t *len, char **event_type,
		      char **headers)
{
	*headers = NULL;
	return st->ops->msg_payload(st->be, msg, payload, len, event_type, headers);
}

int store_msg_list(struct store *st, const struct store_msg_query *q, const struct store_page *pg,
		   struct store_list *out)
{
	memset(out, 0, sizeof(*out));
	return st->ops->msg_list(st->be, q, pg, out);
}

int store_attempt_list(struct store *st, const struct store_attempt_query *q,
		       const struct store_page *pg, struct store_list *out)
{
	memset(out, 0, sizeof(*out));
	return st->ops->attempt_list(st->be, q, pg, out);
}

int store_attempt_get(struct store *st, const char *app, const char *msg, const char *id, json_t **out)
{
	*out = NULL;
	return st->ops->attempt_get(st->be, app, msg, id, out);
}

int store_delivery_list(struct store *st, const struct store_delivery_query *dq, const struct store_page *pg,
			struct store_list *out)
{
	memset(out, 0, sizeof(*out));
	return st->ops->delivery_list(st->be, dq, pg, out);
}

int store_delivery_get(struct store *st, const char *msg, const char *endpoint, struct store_due *out)
{
	return st->ops->delivery_get(st->be, msg, endpoint, out);
}

int store_endpoint_stats(struct store *st, const char *endpoint, int64_t since, int64_t until,
			 struct store_ep_stats *out)
{
	memset(out, 0, sizeof(*out));
	return st->ops->endpoint_stats(st->be, endpoint, since, until, out);
}

int store_failed_scan(struct store *st, const char *endpoint, int64_t since, int64_t until,
		      store_due_fn fn, void *arg)
{
	return st->ops->failed_scan(st->be, endpoint, since, until, fn, arg);
}

void store_inbound_raw_release(struct store_inbound_raw *r)
{
	free(r->method);
	free(r->path);
	free(r->query);
	free(r->headers);
	free(r->event_type);
	free(r->body);
	free(r->remote);
	memset(r, 0, sizeof(*r));
}

int store_inbound_dedupe_get(struct store *st, const char *source, const char *key, char event[ID_MAX])
{
	return st->ops->inbound_dedupe_get(st->be, source, key, clock_now_ms(), event);
}

int store_inbound_list(struct store *st, const char *source, int status, int64_t since,
		       const struct store_page *pg, struct store_list *out)
{
	memset(out, 0, sizeof(*out));
	return st->ops->inbound_list(st->be, source, status, since, pg, out);
}

int store_inbound_get(struct store *st, const char *source, const char *id, json_t **out)
{
	*out = NULL;
	return st->ops->inbound_get(st->be, source, id, out);
}

int store_inbound_raw(struct store *st, const char *id, struct store_inbound_raw *out)
{
	memset(out, 0, sizeof(*out));
	return st->ops->inbound_raw(st->be, id, out);
}

int store_source_stats(struct store *st, const char *source, struct store_source_stats *out)
{
	memset(out, 0, sizeof(*out));
	return st->ops->source_stats(st->be, source, out);
}

int store_inbound_unrouted_scan(struct store *st, const char *after, int limit, store_inbound_fn fn,
				void *arg)
{
	return st->ops->inbound_unrouted_scan(st->be, after, limit, fn, arg);
}

/* ---- cluster ---- */

int store_node_start(struct store *st, const char *node, int64_t lease_ms, char *err, size_t errlen)
{
	int rc = st->ops->node_start(st->be, node, lease_ms, err, errlen);
	if (rc == 0)
		log_info("node '%s' holds leases for %lld ms on '%s'", node, (long long)lease_ms,
			 st->ops->name);
	return rc;
}

int store_node_renew(struct store *st, int *live_nodes, int64_t *expiry_in)
{
	*live_nodes = 1;
	*expiry_in = -1;
	return st->ops->node_renew(st->be, live_nodes, expiry_in);
}

int store_node_stop(struct store *st)
{
	return st->ops->node_stop(st->be);
}

int store_claim(struct store *st, int limit, int64_t horizon, store_due_fn fn, void *arg)
{
	return st->ops->claim(st->be, limit, horizon, fn, arg);
}

int store_wait(struct store *st, int wake_fd, int timeout_ms)
{
	return st->ops->wait(st->be, wake_fd, timeout_ms);
}

int store_take_tokens(struct store *st, const char *endpoint, int rate, int want, int *granted,
		      int64_t *valid_ms)
{
	*granted = 0;
	*valid_ms = 1000;
	if (rate <= 0 || want <= 0)
		return HK_EINVAL;
	return st->ops->take_tokens(st->be, endpoint, rate, want, granted, valid_ms);
}

int store_try_lock(struct store *st, int64_t key)
{
	return st->ops->try_lock(st->be, key);
}

void store_unlock(struct store *st, int64_t key)
{
	st->ops->unlock(st->be, key);
}

/* ---- command-hook runs ---- */

const char *hook_run_status_text(int status)
{
	static const char *const names[] = {"queued", "running", "succeeded", "failed",
					    "timed_out", "interrupted", "coalesced"};
	return status >= 0 && status <= 6 ? names[status] : "unknown";
}

int store_hook_run_list(struct store *st, const char *hook, const struct store_page *pg,
			struct store_list *out)
{
	memset(out, 0, sizeof(*out));
	if (pg->limit < 1 || pg->limit > 250)
		return HK_EINVAL;
	return st->ops->hook_run_list(st->be, hook, pg, out);
}

int store_hook_run_get(struct store *st, const char *hook, const char *id, json_t **out)
{
	*out = NULL;
	return st->ops->hook_run_get(st->be, hook, id, out);
}

int store_hook_run_open_scan(struct store *st, const char *after, int limit, store_hook_run_fn fn,
			     void *arg)
{
	return st->ops->hook_run_open_scan(st->be, after ? after : "", limit, fn, arg);
}

int store_backup(const char *url, const char *dest, char *err, size_t errlen)
{
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
		snprintf(err, errlen, "use pg_dump to back up a PostgreSQL database");
		return HK_EUNSUPPORTED;
	}
	return sqlite_backup(strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, dest, err, errlen);
}
