/*
 * retain.c - the retention job: attempts, settled messages (with their
 * deliveries), inbound events, finished command runs and background tasks
 * older than --retention-days go, and so do
 * expired payloads, idempotency answers and de-duplication keys.
 *
 * It runs on a thread of its own every interval. Where several nodes share
 * the database, one at a time does it: the pass runs only while this node
 * holds a cluster-wide lock (store_try_lock; on PostgreSQL an advisory
 * lock), and others skip their turn. Rows go in small batches (SOP_RETAIN,
 * RETAIN_BATCH rows of each kind) through the ordinary writer, so a pass
 * never holds the group commit for long and deliveries keep flowing.
 */
#include <pthread.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#define RETAIN_BATCH 500
#define RETAIN_BATCHES_MAX 100000

struct store_retention {
	struct store *st;
	int days;
	int64_t interval_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
};

/* retain_batch runs one SOP_RETAIN; returns rows removed, or an error */
static int64_t retain_batch(struct store *st, int64_t before, int64_t now, bool *more)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = w ? store_write_add(w, SOP_RETAIN) : NULL;
	int64_t removed = 0;
	int rc;

	*more = false;
	if (!op) {
		store_write_free(w);
		return HK_ENOMEM;
	}
	op->u.retain.before = before;
	op->u.retain.now = now;
	op->u.retain.limit = RETAIN_BATCH;
	op->u.retain.removed = &removed;
	op->u.retain.more = more;
	rc = store_run(st, w);
	return rc < 0 ? rc : removed;
}

int64_t store_retention_run(struct store *st, int days)
{
	return store_retention_before(st, clock_now_ms() - (int64_t)days * 86400 * 1000);
}

int64_t store_retention_before(struct store *st, int64_t before)
{
	int64_t now = clock_now_ms(), total = 0;
	bool more = true;

	for (int i = 0; more && i < RETAIN_BATCHES_MAX; i++) {
		int64_t n = retain_batch(st, before, now, &more);
		if (n < 0) {
			log_error("retention stopped: %s", hk_strerror((int)n));
			return n;
		}
		total += n;
	}
	return total;
}

static void *retention_main(void *arg)
{
	struct store_retention *r = arg;

	pthread_setname_np(pthread_self(), "hk-retain");
	pthread_mutex_lock(&r->mu);
	while (!r->stopping) {
		struct timespec until = clock_deadline(r->interval_ms);
		pthread_cond_timedwait(&r->cv, &r->mu, &until);
		if (r->stopping)
			break;
		pthread_mutex_unlock(&r->mu);
		if (store_try_lock(r->st, STORE_LOCK_RETENTION) == 0) {
			int64_t n = store_retention_run(r->st, r->days);
			store_unlock(r->st, STORE_LOCK_RETENTION);
			if (n > 0)
				log_info("retention removed %lld rows older than %d days", (long long)n, r->days);
		}
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int store_retention_start(struct store *st, int days, int64_t interval_ms, struct store_retention **out)
{
	struct store_retention *r = calloc(1, sizeof(*r));

	if (!r)
		return HK_ENOMEM;
	r->st = st;
	r->days = days;
	r->interval_ms = interval_ms;
	pthread_mutex_init(&r->mu, NULL);
	clock_cond_init(&r->cv);
	if (pthread_create(&r->thread, NULL, retention_main, r) != 0) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		return HK_ENOMEM;
	}
	*out = r;
	return 0;
}

void store_retention_stop(struct store_retention *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
