/*
 * claim.c - the claim loop (see claim.h). One thread, one store connection
 * of its own for what it does (the store's cluster operations), so neither
 * the dispatcher's loop nor the writer ever waits on a claim.
 *
 * Each turn:
 *   renew this node's lease when a third of it has passed (and learn how
 *     many nodes are alive: in-flight caps are shared among them);
 *   answer the dispatcher's token requests (shared throttleRate);
 *   claim a batch of free pending work when it is time: at start, on a
 *     hookd_work notification, after a full batch, just after another
 *     node's lease would run out (learned from the heartbeat), or every poll_ms;
 *   sleep in store_wait until the next of these, a notification, or a
 *     token request (an eventfd written by claim_want_tokens).
 * Claiming pauses while the dispatcher already holds a large backlog (due,
 * waiting at endpoints or scheduled), and resumes as soon as it drains.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "deliver/claim.h"

#define CLAIM_BATCH 500
#define CLAIM_AFTER_EXPIRY_MS 50
#define CLAIM_BACKLOG_MAX 20000
#define CLAIM_BACKLOG_CHECK_MS 20 /* a paused claim looks at the dispatcher's backlog this often */
#define TOKEN_QUEUE_MAX 4096

struct token_req {
	struct token_req *next;
	char endpoint[ID_MAX];
	int rate, want;
};

struct claim {
	struct claim_config cfg;
	struct dispatch *d;
	pthread_t thread;
	bool started;
	int wake_fd;
	pthread_mutex_t mu; /* guards stopping and the token queue */
	bool stopping;
	struct token_req *reqs;
	int nreqs;
	int claimed;        /* deliveries claimed by this node since start */
};

static int64_t mono_ms(void)
{
	return clock_mono_us() / 1000;
}

static void wake(struct claim *c)
{
	uint64_t one = 1;
	if (write(c->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("cannot wake the claim loop");
}

void claim_want_tokens(void *arg, const char *endpoint, int rate, int want)
{
	struct claim *c = arg;
	struct token_req *r;

	pthread_mutex_lock(&c->mu);
	if (c->stopping || c->nreqs >= TOKEN_QUEUE_MAX) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (r) {
		snprintf(r->endpoint, sizeof(r->endpoint), "%s", endpoint);
		r->rate = rate;
		r->want = want;
		r->next = c->reqs;
		c->reqs = r;
		c->nreqs++;
	}
	pthread_mutex_unlock(&c->mu);
	wake(c);
}

/* serve_tokens asks the store for every queued token request */
static void serve_tokens(struct claim *c)
{
	struct token_req *r, *next;

	pthread_mutex_lock(&c->mu);
	r = c->reqs;
	c->reqs = NULL;
	c->nreqs = 0;
	pthread_mutex_unlock(&c->mu);
	for (; r; r = next) {
		int granted = 0;
		int64_t valid = 1000;
		next = r->next;
		if (store_take_tokens(c->cfg.store, r->endpoint, r->rate, r->want, &granted, &valid) < 0) {
			granted = 0;
			valid = 1000;
		}
		dispatch_grant(c->d, r->endpoint, granted, valid);
		free(r);
	}
}

static int claim_one(const struct store_due *d, void *arg)
{
	struct claim *c = arg;
	int rc = dispatch_queue_due(c->d, d);
	if (rc == 0)
		c->claimed++;
	else
		log_warnx("cannot queue claimed delivery of '%s' to '%s': %s", d->msg, d->endpoint,
			  hk_strerror(rc));
	return 0;
}

/* claim_batch claims once; returns when to claim next: now after a full batch (more may wait) */
static int64_t claim_batch(struct claim *c, int64_t now)
{
	struct dispatch_stats ds;
	int n;

	dispatch_get_stats(c->d, &ds);
	if (ds.queued + ds.scheduled > CLAIM_BACKLOG_MAX)
		return now + CLAIM_BACKLOG_CHECK_MS; /* enough in memory: claim more as it drains */
	n = store_claim(c->cfg.store, CLAIM_BATCH, clock_now_ms() + c->cfg.poll_ms, claim_one, c);
	if (n < 0) {
		log_warnx("claiming pending deliveries failed: %s", hk_strerror(n));
		return now + c->cfg.poll_ms;
	}
	if (n > 0)
		log_debug("claimed %d pending deliveries", n);
	return n == CLAIM_BATCH ? now : now + c->cfg.poll_ms;
}

static bool stopping(struct claim *c)
{
	bool s;
	pthread_mutex_lock(&c->mu);
	s = c->stopping;
	pthread_mutex_unlock(&c->mu);
	return s;
}

static void *claim_main(void *arg)
{
	struct claim *c = arg;
	bool deliver = c->d != NULL;
	int64_t renew_every = c->cfg.lease_ms / 3, next_renew = 0, next_claim = 0;
	int64_t renewed = mono_ms();

	pthread_setname_np(pthread_self(), "hk-claim");
	while (!stopping(c)) {
		int64_t now = mono_ms(), next;
		uint64_t drained;
		int64_t expiry_in = -1;
		int bits, live = 1;

		if (deliver && now >= next_renew) {
			if (store_node_renew(c->cfg.store, &live, &expiry_in) == 0) {
				renewed = now;
				dispatch_set_nodes(c->d, live);
				/* claim just after another node's lease would run out: if it died, its work is free */
				if (expiry_in >= 0 && now + expiry_in + CLAIM_AFTER_EXPIRY_MS < next_claim)
					next_claim = now + expiry_in + CLAIM_AFTER_EXPIRY_MS;
			} else if (now - renewed > c->cfg.lease_ms) {
				log_warnx("node '%s' could not renew its lease for %lld ms: other nodes may take"
					  " its deliveries", c->cfg.node, (long long)(now - renewed));
			}
			next_renew = now + renew_every;
		}
		if (deliver)
			serve_tokens(c);
		if (deliver && now >= next_claim)
			next_claim = claim_batch(c, now);
		next = deliver ? (next_renew < next_claim ? next_renew : next_claim) : now + c->cfg.poll_ms;
		pthread_mutex_lock(&c->mu);
		if (c->reqs || c->stopping)
			next = now;
		pthread_mutex_unlock(&c->mu);
		bits = store_wait(c->cfg.store, c->wake_fd, next > now ? (int)(next - now) : 0);
		if (read(c->wake_fd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
			log_warn("cannot read the claim loop's wake-up");
		if (bits > 0 && (bits & STORE_WAKE_WORK))
			next_claim = 0;
		if (bits > 0 && (bits & STORE_WAKE_CONFIG) && c->cfg.config_changed)
			c->cfg.config_changed(c->cfg.arg);
	}
	return NULL;
}

int claim_new(const struct claim_config *cfg, struct claim **out)
{
	struct claim *c = calloc(1, sizeof(*c));
	char err[256];
	int rc;

	if (!c)
		return HK_ENOMEM;
	c->cfg = *cfg;
	if (c->cfg.lease_ms <= 0)
		c->cfg.lease_ms = 30000;
	if (c->cfg.poll_ms <= 0)
		c->cfg.poll_ms = c->cfg.lease_ms / 2 < 5000 ? c->cfg.lease_ms / 2 : 5000;
	pthread_mutex_init(&c->mu, NULL);
	c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->wake_fd < 0) {
		rc = HK_EIO;
		goto fail;
	}
	if (c->cfg.deliver) {
		rc = store_node_start(c->cfg.store, c->cfg.node, c->cfg.lease_ms, err, sizeof(err));
		if (rc < 0) {
			log_error("%s", err);
			goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	claim_free(c);
	return rc;
}

int claim_run(struct claim *c, struct dispatch *d)
{
	c->d = c->cfg.deliver ? d : NULL;
	if (pthread_create(&c->thread, NULL, claim_main, c) != 0)
		return HK_ENOMEM;
	c->started = true;
	return 0;
}

void claim_stop(struct claim *c)
{
	if (!c || !c->started)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_mutex_unlock(&c->mu);
	wake(c);
	pthread_join(c->thread, NULL);
	c->started = false;
}

void claim_free(struct claim *c)
{
	if (!c)
		return;
	claim_stop(c);
	while (c->reqs) {
		struct token_req *r = c->reqs;
		c->reqs = r->next;
		free(r);
	}
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
