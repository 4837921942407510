/*
 * runner.c - the command runner: hooks sets, per-hook queues, the run state
 * machine and its records, and the loop thread (runner.h says how a run
 * travels; runner_proc.c spawns and watches the processes).
 *
 * States of a run (enum hook_run_status), changed only by set_state(),
 * which checks the move, logs it and writes it through the store writer:
 *
 *                 +-----------> coalesced      (a newer trigger of a coalescing
 *                 |                             hook started instead)
 *     queued -----+
 *                 |                 +--> succeeded   (exit status 0)
 *                 +--> running -----+--> failed      (non-zero, a signal, or
 *                                   |                 it could not start)
 *                                   +--> timed_out   (past `timeout`: SIGTERM
 *                                                     to its process group,
 *                                                     SIGKILL after a grace)
 *
 *     queued | running --> interrupted   only in the store, by runner_recover
 *                                        at the next start, which queues a new
 *                                        run for the same event; on a shared
 *                                        database also every RUNNER_RESCAN_MS
 *                                        for runs of nodes that died, each
 *                                        taken by one node only (the change
 *                                        to interrupted is conditional)
 *
 * Invariants:
 *   - A job is queued in memory only after its "queued" record committed
 *     (runner_job_commit), so every run the runner knows is durable.
 *   - hs->queued + hs->reserved <= def->queue, except for re-queued runs at
 *     start-up (force): an accepted trigger is never dropped.
 *   - Queues and counters are guarded by r->mu; processes, pipes and timers
 *     belong to the loop thread alone. Waiters run on the loop thread, once.
 *   - Stopping drops jobs without a state change: their records stay
 *     queued or running, and the next start re-queues them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "hooks/runner_int.h"

/* ------------------------------------------------------------------ */
/* hooks sets                                                           */

void hookset_release(struct hookset *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (size_t i = 0; i < s->nsets; i++)
		hookdef_set_release(&s->sets[i]);
	free(s->sets);
	free(s);
}

const struct hookdef *hookset_find(const struct hookset *s, const char *id)
{
	for (size_t i = 0; s && i < s->nsets; i++) {
		const struct hookdef *d = hookdef_find(&s->sets[i], id);
		if (d)
			return d;
	}
	return NULL;
}

void hookset_each(const struct hookset *s, void (*fn)(const struct hookdef *def, void *arg), void *arg)
{
	for (size_t i = 0; s && i < s->nsets; i++) {
		for (size_t k = 0; k < s->sets[i].n; k++)
			fn(&s->sets[i].hooks[k], arg);
	}
}

/* hookset_load reads every file; ids must be unique across files */
static int hookset_load(char **files, size_t n, struct hookset **out, char *err, size_t errlen)
{
	struct hookset *s = calloc(1, sizeof(*s));
	char why[512];
	int rc = 0;

	if (!s || !(s->sets = calloc(n ? n : 1, sizeof(*s->sets)))) {
		free(s);
		return HK_ENOMEM;
	}
	atomic_init(&s->refs, 1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = hookdef_load_file(files[i], &s->sets[i], why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "'%s': %s", files[i], why);
			break;
		}
		s->nsets++;
		if (s->sets[i].templated)
			log_warnx("'%s' contains '{{': Go templates (-template) are not supported, the text is "
				  "used as written", files[i]);
		for (size_t k = 0; k < s->sets[i].n && rc == 0; k++) {
			const char *id = s->sets[i].hooks[k].id;
			for (size_t j = 0; j < i && rc == 0; j++) {
				if (hookdef_find(&s->sets[j], id)) {
					snprintf(err, errlen, "'%s': hook '%s' is already defined in '%s'", files[i],
						 id, files[j]);
					rc = HK_EINVAL;
				}
			}
		}
	}
	if (rc < 0) {
		hookset_release(s);
		return rc;
	}
	*out = s;
	return 0;
}

struct hookset *runner_hooks(struct runner *r)
{
	struct hookset *s;

	pthread_mutex_lock(&r->mu);
	s = r->set;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&r->mu);
	return s;
}

int runner_reload(struct runner *r, char *err, size_t errlen)
{
	struct hookset *s = NULL, *old;
	int rc = hookset_load(r->files, r->cfg.nfiles, &s, err, errlen);
	size_t n = 0;

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < s->nsets; i++)
		n += s->sets[i].n;
	pthread_mutex_lock(&r->mu);
	old = r->set;
	r->set = s;
	pthread_mutex_unlock(&r->mu);
	hookset_release(old);
	log_info("loaded %zu hooks from %zu files", n, r->cfg.nfiles);
	return 0;
}

/* hstate_get finds or makes a hook's queue; r->mu held */
static struct hstate *hstate_get(struct runner *r, const char *id)
{
	struct hstate *hs = map_get(&r->hooks, id);

	if (hs)
		return hs;
	hs = calloc(1, sizeof(*hs));
	if (!hs || !(hs->id = strdup(id)) || map_put(&r->hooks, id, hs, NULL) < 0) {
		if (hs)
			free(hs->id);
		free(hs);
		return NULL;
	}
	return hs;
}

json_t *runner_hook_state(struct runner *r, const char *hook_id)
{
	struct hstate *hs;
	json_t *doc;

	pthread_mutex_lock(&r->mu);
	hs = map_get(&r->hooks, hook_id);
	doc = json_pack("{s:i,s:i,s:i,s:I,s:I}", "queued", hs ? hs->queued : 0, "running",
			hs ? hs->running : 0, "reserved", hs ? hs->reserved : 0, "started",
			(json_int_t)(hs ? hs->started : 0), "coalesced",
			(json_int_t)(hs ? hs->coalesced : 0));
	pthread_mutex_unlock(&r->mu);
	return doc;
}

/* ------------------------------------------------------------------ */
/* records and states                                                   */

/* run_op fills the common part of a run record */
static struct store_op *run_op(struct store_write *w, enum store_op_kind kind, const struct runner_job *j)
{
	struct store_op *op = store_write_add(w, kind);

	if (!op)
		return NULL;
	snprintf(op->u.run.id, sizeof(op->u.run.id), "%s", j->id);
	snprintf(op->u.run.hook, sizeof(op->u.run.hook), "%s", j->def->id);
	snprintf(op->u.run.event, sizeof(op->u.run.event), "%s", j->event);
	op->u.run.status = j->state;
	op->u.run.exit_code = -1;
	op->u.run.created = j->created;
	return op;
}

/* record writes a job's state change, fire and forget: the writer keeps order */
static void record(struct runner_job *j, const char *coalesced_into)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = w ? run_op(w, SOP_HOOK_RUN_UPDATE, j) : NULL;
	struct store_hook_run *h;
	int rc = HK_ENOMEM;

	if (!op)
		goto fail;
	h = &op->u.run;
	h->started = j->started;
	h->ended = j->ended;
	if (coalesced_into)
		snprintf(h->coalesced_into, sizeof(h->coalesced_into), "%s", coalesced_into);
	if (j->ended) {
		h->duration_ms = j->ended - j->started;
		h->exit_code = j->exited && !j->term_signal ? (int)j->exit_status : -1;
		h->signal = j->term_signal;
		h->truncated = j->truncated;
		h->output = malloc(j->output.len + 1);
		if (!h->output)
			goto fail;
		memcpy(h->output, buf_cstr(&j->output), j->output.len);
		h->output_len = j->output.len;
		if (j->error[0] && !(h->error = strdup(j->error)))
			goto fail;
	}
	rc = store_submit(j->r->store, w);
	if (rc == 0)
		return;
fail:
	store_write_free(w);
	log_error("cannot record run '%s' as %s: %s", j->id, hook_run_status_text(j->state),
		  hk_strerror(rc));
}

static bool move_allowed(int from, int to)
{
	switch (from) {
	case HOOK_RUN_QUEUED:
		return to == HOOK_RUN_RUNNING || to == HOOK_RUN_COALESCED;
	case HOOK_RUN_RUNNING:
		return to == HOOK_RUN_SUCCEEDED || to == HOOK_RUN_FAILED || to == HOOK_RUN_TIMED_OUT;
	default:
		return false;
	}
}

/* set_state is the one place a run changes state */
static void set_state(struct runner_job *j, int to, const char *coalesced_into)
{
	if (!move_allowed(j->state, to)) {
		log_error("run '%s' of hook '%s': no move from %s to %s", j->id, j->def->id,
			  hook_run_status_text(j->state), hook_run_status_text(to));
		return;
	}
	log_debug("run '%s' of hook '%s': %s -> %s", j->id, j->def->id, hook_run_status_text(j->state),
		  hook_run_status_text(to));
	j->state = to;
	if (to == HOOK_RUN_SUCCEEDED || to == HOOK_RUN_FAILED || to == HOOK_RUN_TIMED_OUT)
		metrics_hook_run(hook_run_status_text(to));
	record(j, coalesced_into);
}

/* ------------------------------------------------------------------ */
/* jobs                                                                 */

static void job_free(struct runner_job *j)
{
	struct waiter *wt;

	if (!j)
		return;
	while ((wt = j->waiters)) {
		j->waiters = wt->next;
		free(wt);
	}
	hookdef_argv_release(&j->argv);
	for (size_t i = 0; i < j->ntmp; i++) {
		if (unlink(j->tmpfiles[i]) < 0 && errno != ENOENT)
			log_warn("cannot remove '%s'", j->tmpfiles[i]);
		free(j->tmpfiles[i]);
	}
	free(j->tmpfiles);
	buf_release(&j->output);
	hookset_release(j->set);
	free(j);
}

/* answer calls every waiter once and forgets them */
static void answer(struct runner_job *j, int status)
{
	struct runner_result res = {j->id, status, -1, j->spawned, buf_cstr(&j->output), j->output.len};
	struct waiter *wt;

	if (j->exited && !j->term_signal)
		res.exit_code = (int)j->exit_status;
	while ((wt = j->waiters)) {
		j->waiters = wt->next;
		wt->fn(wt->arg, &res);
		free(wt);
	}
}

int runner_job_new(struct runner *r, struct hookset *set, const struct hookdef *def,
		   const char *event_id, const char *trigger, const char *retry_of, bool force,
		   struct hookdef_argv *argv, struct store_write *w, struct runner_job **out)
{
	struct runner_job *j = calloc(1, sizeof(*j));
	struct store_op *op;
	struct hstate *hs;
	int rc = 0;

	if (!j) {
		hookdef_argv_release(argv);
		return HK_ENOMEM;
	}
	j->argv = *argv;
	memset(argv, 0, sizeof(*argv));
	j->r = r;
	j->def = def;
	j->set = set;
	atomic_fetch_add(&set->refs, 1);
	j->state = HOOK_RUN_QUEUED;
	j->created = clock_now_ms();
	id_new("run_", j->id);
	snprintf(j->event, sizeof(j->event), "%s", event_id);
	buf_init(&j->output, def->output_limit + 1);

	pthread_mutex_lock(&r->mu);
	hs = r->stopping ? NULL : hstate_get(r, def->id);
	if (r->stopping)
		rc = HK_ECLOSED;
	else if (!hs)
		rc = HK_ENOMEM;
	else if (!force && hs->queued + hs->reserved >= def->queue)
		rc = HK_EFULL;
	else
		hs->reserved++;
	pthread_mutex_unlock(&r->mu);
	if (rc < 0) {
		job_free(j);
		return rc;
	}
	j->hs = hs;
	op = run_op(w, SOP_HOOK_RUN_INSERT, j);
	if (!op) {
		runner_job_abort(j);
		return HK_ENOMEM;
	}
	snprintf(op->u.run.trigger, sizeof(op->u.run.trigger), "%s", trigger);
	if (retry_of)
		snprintf(op->u.run.retry_of, sizeof(op->u.run.retry_of), "%s", retry_of);
	*out = j;
	return 0;
}

const char *runner_job_id(const struct runner_job *job)
{
	return job->id;
}

int runner_job_wait(struct runner_job *job, runner_answer_fn fn, void *arg)
{
	struct waiter *wt = calloc(1, sizeof(*wt));

	if (!wt)
		return HK_ENOMEM;
	wt->fn = fn;
	wt->arg = arg;
	wt->next = job->waiters;
	job->waiters = wt;
	return 0;
}

void runner_job_abort(struct runner_job *job)
{
	struct runner *r = job->r;

	pthread_mutex_lock(&r->mu);
	job->hs->reserved--;
	pthread_mutex_unlock(&r->mu);
	job_free(job);
}

void runner_job_commit(struct runner_job *job)
{
	struct runner *r = job->r;
	struct hstate *hs = job->hs;
	bool stopping;

	pthread_mutex_lock(&r->mu);
	hs->reserved--;
	stopping = r->stopping;
	if (!stopping) {
		if (hs->tail)
			hs->tail->next = job;
		else
			hs->head = job;
		hs->tail = job;
		hs->queued++;
	}
	pthread_mutex_unlock(&r->mu);
	if (stopping) {
		/* stays queued in the store: the next start runs it */
		answer(job, HOOK_RUN_INTERRUPTED);
		job_free(job);
		return;
	}
	uv_async_send(&r->wake);
}

/* ------------------------------------------------------------------ */
/* the loop: scheduling                                                 */

/*
 * take_next pops the job to start for a hook, r->mu held. For a coalescing
 * hook that is the newest; the older ones are coalesced into it (their
 * waiters wait for it) and freed by the caller through *dropped.
 */
static struct runner_job *take_next(struct hstate *hs, struct runner_job **dropped)
{
	struct runner_job *j = hs->head, *last = hs->tail;

	if (!j)
		return NULL;
	if (!last->def->coalesce || j == last) {
		hs->head = j->next;
		if (!hs->head)
			hs->tail = NULL;
		hs->queued--;
		j->next = NULL;
		return j;
	}
	/* everything before last collapses into it */
	for (struct runner_job *k = hs->head; k != last; k = k->next) {
		struct waiter **wp = &k->waiters;
		while (*wp)
			wp = &(*wp)->next;
		*wp = last->waiters;
		last->waiters = k->waiters;
		k->waiters = NULL;
		hs->coalesced++;
	}
	*dropped = hs->head;
	for (struct runner_job *k = hs->head; k; k = k->next) {
		if (k->next == last)
			k->next = NULL;
	}
	hs->head = hs->tail = NULL;
	hs->queued = 0;
	return last;
}

static void live_add(struct runner *r, struct runner_job *j)
{
	if (r->nlive == r->caplive) {
		size_t ncap = r->caplive ? r->caplive * 2 : 16;
		struct runner_job **p = realloc(r->live, ncap * sizeof(*p));
		if (!p)
			return; /* only shutdown scans use it; the job still runs */
		r->live = p;
		r->caplive = ncap;
	}
	r->live[r->nlive++] = j;
}

static void live_del(struct runner *r, struct runner_job *j)
{
	for (size_t i = 0; i < r->nlive; i++) {
		if (r->live[i] == j) {
			r->live[i] = r->live[--r->nlive];
			return;
		}
	}
}

struct sched_ctx {
	struct runner *r;
	struct runner_job *start, *drop;
};

static void sched_one(const char *key, void *value, void *arg)
{
	struct sched_ctx *c = arg;
	struct hstate *hs = value;
	const struct hookdef *cur = hookset_find(c->r->set, key);
	(void)key;

	while (hs->head) {
		unsigned limit = cur ? cur->concurrency : hs->head->def->concurrency;
		struct runner_job *dropped = NULL, *j;
		if (hs->running >= (limit ? limit : 1))
			break;
		j = take_next(hs, &dropped);
		hs->running++;
		hs->started++;
		j->next = c->start;
		c->start = j;
		while (dropped) {
			struct runner_job *k = dropped;
			dropped = k->next;
			k->next = c->drop;
			c->drop = k;
			memcpy(k->into, j->id, sizeof(k->into));
		}
	}
}

/* schedule starts what may start now; loop thread */
static void schedule(struct runner *r)
{
	struct sched_ctx c = {r, NULL, NULL};

	pthread_mutex_lock(&r->mu);
	if (!r->stopping)
		map_each(&r->hooks, sched_one, &c);
	pthread_mutex_unlock(&r->mu);
	while (c.drop) {
		struct runner_job *k = c.drop;
		c.drop = k->next;
		set_state(k, HOOK_RUN_COALESCED, k->into);
		job_free(k);
	}
	while (c.start) {
		struct runner_job *j = c.start;
		c.start = j->next;
		j->next = NULL;
		j->started = clock_now_ms();
		set_state(j, HOOK_RUN_RUNNING, NULL);
		r->nrunning++;
		live_add(r, j);
		if (proc_start(j) < 0) {
			/* nothing was started: no handle to wait for */
			runner_job_finished(j);
		}
	}
}

static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void stop_check(struct runner *r)
{
	if (r->nrunning == 0)
		uv_walk(&r->loop, walk_close, NULL);
}

/* runner_job_finished records the result, answers the waiters and frees the job */
void runner_job_finished(struct runner_job *j)
{
	struct runner *r = j->r;
	bool stopping, shutting;
	int to;

	j->ended = clock_now_ms();
	if (j->timed_out)
		to = HOOK_RUN_TIMED_OUT;
	else if (j->spawned && j->exited && !j->term_signal && j->exit_status == 0)
		to = HOOK_RUN_SUCCEEDED;
	else
		to = HOOK_RUN_FAILED;
	if (!j->error[0] && j->term_signal)
		snprintf(j->error, sizeof(j->error), "killed by signal %d", j->term_signal);
	pthread_mutex_lock(&r->mu);
	shutting = r->stopping;
	stopping = shutting && j->killed && !j->timed_out;
	j->hs->running--;
	pthread_mutex_unlock(&r->mu);
	r->nrunning--;
	live_del(r, j);
	if (stopping) {
		/* ended by the shutdown: stays "running" in the store, re-queued at the next start */
		answer(j, HOOK_RUN_INTERRUPTED);
	} else {
		set_state(j, to, NULL);
		log_info("run '%s' of hook '%s' %s (exit %d, %lld ms, %zu bytes of output)", j->id,
			 j->def->id, hook_run_status_text(to),
			 j->exited && !j->term_signal ? (int)j->exit_status : -1,
			 (long long)(j->ended - j->started), j->output.len);
		answer(j, to);
	}
	job_free(j);
	if (shutting)
		stop_check(r);
	else
		schedule(r);
}

/* ------------------------------------------------------------------ */
/* the loop thread                                                      */

static void stop_timer_cb(uv_timer_t *t)
{
	struct runner *r = t->data;

	for (size_t i = 0; i < r->nlive; i++)
		proc_kill(r->live[i], SIGKILL);
}

static void wake_cb(uv_async_t *a)
{
	struct runner *r = a->data;
	bool stopping;

	pthread_mutex_lock(&r->mu);
	stopping = r->stopping;
	pthread_mutex_unlock(&r->mu);
	if (!stopping) {
		schedule(r);
		return;
	}
	uv_timer_stop(&r->rescan);
	if (uv_is_active((uv_handle_t *)&r->stop_timer) || uv_is_closing((uv_handle_t *)&r->wake))
		return;
	for (size_t i = 0; i < r->nlive; i++)
		proc_kill(r->live[i], SIGTERM);
	uv_timer_start(&r->stop_timer, stop_timer_cb, (uint64_t)r->cfg.kill_grace_ms, 0);
	stop_check(r);
}

/* on a shared database, runs of a node that died while they waited or ran are taken over */
static void rescan_cb(uv_timer_t *t)
{
	runner_rescan(t->data);
}

static void *loop_main(void *arg)
{
	struct runner *r = arg;

	pthread_setname_np(pthread_self(), "hk-hooks");
	while (uv_run(&r->loop, UV_RUN_DEFAULT) != 0) {
		pthread_mutex_lock(&r->mu);
		bool stopping = r->stopping;
		pthread_mutex_unlock(&r->mu);
		if (stopping && r->nrunning == 0)
			uv_walk(&r->loop, walk_close, NULL);
	}
	return NULL;
}

int runner_start(const struct runner_config *cfg, struct runner **out, char *err, size_t errlen)
{
	struct runner *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return HK_ENOMEM;
	r->cfg = *cfg;
	if (!r->cfg.kill_grace_ms)
		r->cfg.kill_grace_ms = RUNNER_KILL_GRACE_MS;
	r->store = cfg->store;
	pthread_mutex_init(&r->mu, NULL);
	map_init(&r->hooks);
	id_new("run_", r->boot_id);
	r->files = calloc(cfg->nfiles + 1, sizeof(char *));
	if (!r->files) {
		runner_free(r);
		return HK_ENOMEM;
	}
	for (size_t i = 0; i < cfg->nfiles; i++) {
		r->files[i] = strdup(cfg->files[i]);
		if (!r->files[i]) {
			runner_free(r);
			return HK_ENOMEM;
		}
	}
	rc = hookset_load(r->files, cfg->nfiles, &r->set, err, errlen);
	if (rc < 0) {
		runner_free(r);
		return rc;
	}
	uv_loop_init(&r->loop);
	uv_async_init(&r->loop, &r->wake, wake_cb);
	r->wake.data = r;
	uv_timer_init(&r->loop, &r->stop_timer);
	r->stop_timer.data = r;
	uv_timer_init(&r->loop, &r->rescan);
	r->rescan.data = r;
	/* a node restarted after a crash finds its old runs still leased: the first rescan follows the lease */
	if (store_clustered(r->store))
		uv_timer_start(&r->rescan, rescan_cb, (uint64_t)r->cfg.lease_ms + 1000, RUNNER_RESCAN_MS);
	if (pthread_create(&r->thread, NULL, loop_main, r) != 0) {
		uv_close((uv_handle_t *)&r->wake, NULL);
		uv_close((uv_handle_t *)&r->stop_timer, NULL);
		uv_close((uv_handle_t *)&r->rescan, NULL);
		uv_run(&r->loop, UV_RUN_DEFAULT);
		uv_loop_close(&r->loop);
		runner_free(r);
		snprintf(err, errlen, "cannot start the runner thread");
		return HK_ENOMEM;
	}
	r->started = true;
	*out = r;
	return 0;
}

struct drop_ctx {
	struct runner_job *list;
};

static void drop_queue(const char *key, void *value, void *arg)
{
	struct hstate *hs = value;
	struct drop_ctx *c = arg;
	(void)key;

	while (hs->head) {
		struct runner_job *j = hs->head;
		hs->head = j->next;
		j->next = c->list;
		c->list = j;
	}
	hs->tail = NULL;
	hs->queued = 0;
}

void runner_stop(struct runner *r)
{
	struct drop_ctx c = {NULL};

	if (!r || !r->started)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	map_each(&r->hooks, drop_queue, &c);
	pthread_mutex_unlock(&r->mu);
	while (c.list) {
		struct runner_job *j = c.list;
		c.list = j->next;
		answer(j, HOOK_RUN_INTERRUPTED);
		job_free(j);
	}
	uv_async_send(&r->wake);
	pthread_join(r->thread, NULL);
	uv_loop_close(&r->loop);
	r->started = false;
}

static void hstate_free(void *p)
{
	struct hstate *hs = p;
	free(hs->id);
	free(hs);
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	runner_stop(r);
	hookset_release(r->set);
	map_release(&r->hooks, hstate_free);
	for (size_t i = 0; r->files && i < r->cfg.nfiles; i++)
		free(r->files[i]);
	free(r->files);
	free(r->live);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
