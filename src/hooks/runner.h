/*
 * runner.h - runs the commands of command hooks: per-hook queues, a
 * concurrency limit, coalescing of bursts, timeouts, capped output, and a
 * durable record of every run.
 *
 * Life of a run (the state machine is in runner.c's top comment):
 *
 *   1. A trigger arrives (an HTTP request to /hooks/{id}, an inbound event
 *      routed to a hook, a rerun, a run found unfinished at start-up). The
 *      caller builds the command (hookdef_build_argv) and asks for a job:
 *      runner_job_new reserves a place in the hook's queue (HK_EFULL past the
 *      hook's `queue`) and adds the run's insert to the caller's store write.
 *   2. The caller submits that write. When it has committed, the caller
 *      hands the job over with runner_job_commit; if it failed, it drops the
 *      job with runner_job_abort. So a run is durable before it is queued,
 *      and a queued run is never only in memory.
 *   3. The runner's loop thread starts queued jobs up to the hook's
 *      concurrency, in arrival order. A coalescing hook starts only its
 *      newest queued job; the older ones become "coalesced" into it.
 *   4. When the command ends, the run's result is written and every waiter
 *      (runner_job_wait) is called once, on the loop thread.
 *
 * Hooks files are loaded into a refcounted struct hookset; runner_reload
 * swaps in a new set only when every file loads, so a broken edit keeps the
 * previous hooks. Jobs keep a reference to the set they were made from, so
 * their definitions outlive a reload. Queue state is kept per hook id and
 * survives reloads.
 *
 * Threads: every function may be called from any thread except where noted;
 * waiters run on the loop thread and must not block.
 */
#ifndef HK_RUNNER_H
#define HK_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hooks/hookdef.h"
#include "store/store.h"

#define RUNNER_KILL_GRACE_MS 5000 /* SIGTERM, then SIGKILL this much later */
#define RUNNER_RESCAN_MS 30000    /* shared database: how often to look for dead nodes' runs */
#define RUNNER_SOURCE_PREFIX "hook:" /* journal source of requests to /hooks/{id} */

struct runner;
struct runner_job;
struct hookset;

struct runner_config {
	struct store *store;
	const char *const *files; /* hooks files (.json, .yaml, .yml), in order */
	size_t nfiles;
	int kill_grace_ms;        /* 0: RUNNER_KILL_GRACE_MS */
	int64_t lease_ms;         /* shared database: a node's lease; the first rescan follows it */
};

/*
 * runner_start loads the hooks files and starts the loop thread. A file that
 * fails to load fails the start, with err saying which and why.
 */
int runner_start(const struct runner_config *cfg, struct runner **out, char *err, size_t errlen);

/*
 * runner_stop stops starting runs, ends the running ones (SIGTERM to their
 * process groups, SIGKILL after the grace period) and stops the loop thread.
 * Runs it ends or never started keep their stored state (queued or running),
 * so the next start re-queues them; their waiters get HOOK_RUN_INTERRUPTED.
 * Afterwards runner_job_new answers HK_ECLOSED. runner_free releases the rest
 * once no other thread can call in.
 */
void runner_stop(struct runner *r);
void runner_free(struct runner *r);

/* runner_reload reads the files again; on failure the previous hooks stay and err says why. */
int runner_reload(struct runner *r, char *err, size_t errlen);

/*
 * runner_recover marks every run left queued or running by an earlier
 * process as interrupted and queues a new run (trigger "requeue", retry_of
 * the old one) for the same event, past the queue limit if need be. Runs
 * created by this process, and on a shared database runs of live nodes, are
 * left alone; when two nodes take the same run, one wins and the other's
 * write is undone. Returns how many were re-queued. Blocks on reads: at
 * start-up it runs on a start-up thread; the periodic rescan of a shared
 * database (a short, usually empty scan) runs it on the loop.
 */
int runner_recover(struct runner *r);
/* runner_rescan is the periodic pass of a shared database: only runs of dead nodes with a lease */
int runner_rescan(struct runner *r);

/* ---- hooks ---- */

/* runner_hooks returns the current hooks with a new reference. */
struct hookset *runner_hooks(struct runner *r);
void hookset_release(struct hookset *s);
const struct hookdef *hookset_find(const struct hookset *s, const char *id);
/* hookset_each calls fn for every hook, in file order. */
void hookset_each(const struct hookset *s, void (*fn)(const struct hookdef *def, void *arg), void *arg);

/* runner_hook_state describes a hook's queue: {queued, running, reserved}. */
json_t *runner_hook_state(struct runner *r, const char *hook_id);

/* ---- jobs ---- */

struct runner_result {
	const char *run_id;
	int status;          /* HOOK_RUN_SUCCEEDED, _FAILED, _TIMED_OUT or _INTERRUPTED (shutdown) */
	int exit_code;       /* -1 unless the command exited by itself */
	bool started;        /* false when the command could not be started */
	const char *output;  /* stdout and stderr as they interleaved, capped */
	size_t output_len;
};

typedef void (*runner_answer_fn)(void *arg, const struct runner_result *res);

/*
 * runner_job_new prepares a run of def (from set, which the job references)
 * for a stored event: it reserves a queue place (HK_EFULL when the hook's
 * queue is full, unless force), makes the run id and appends its
 * SOP_HOOK_RUN_INSERT to w. It takes argv's contents (argv is left empty)
 * whatever it returns. trigger: "http", "route", "rerun" or "requeue";
 * retry_of may be NULL. HK_ECLOSED once the runner is stopping.
 */
int runner_job_new(struct runner *r, struct hookset *set, const struct hookdef *def,
		   const char *event_id, const char *trigger, const char *retry_of, bool force,
		   struct hookdef_argv *argv, struct store_write *w, struct runner_job **out);
/* runner_job_id is the run's id ("run_..."), valid until the job is committed or aborted. */
const char *runner_job_id(const struct runner_job *job);
/* runner_job_wait adds a waiter, called once when the run (or the run it is coalesced into) ends. */
int runner_job_wait(struct runner_job *job, runner_answer_fn fn, void *arg);
/* runner_job_commit queues a job whose write has committed; the runner owns it from then on. */
void runner_job_commit(struct runner_job *job);
/* runner_job_abort drops a job whose write failed; its waiters are not called. */
void runner_job_abort(struct runner_job *job);

/*
 * runner_event_argv rebuilds a hook's command from a stored event (method,
 * headers, query, body and remote address as journaled). With check_rules
 * the hook's trigger rule must match: HK_EINVAL "trigger rules not
 * satisfied", HK_EVERIFY when it cannot be evaluated. HK_ENOTFOUND when the
 * event is gone. err says why.
 */
int runner_event_argv(struct runner *r, const struct hookdef *def, const char *event_id,
		      bool check_rules, struct hookdef_argv *argv, char *err, size_t errlen);

/*
 * runner_queue_event does it all for a stored event: build, new job, write,
 * commit. For the inbound router (router_hook_fn: arg is the runner) and
 * reruns. new_run (may be NULL) gets the run id.
 */
int runner_queue_event(struct runner *r, const char *hook_id, const char *event_id,
		       const char *trigger, const char *retry_of, char *new_run);
int runner_route_hook(void *arg, const char *hook_id, const char *event_id);

#endif
