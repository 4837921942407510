/*
 * runner_int.h - what runner.c (queues, states, records) and runner_proc.c
 * (spawning, output, timeouts) share. Not for use outside src/hooks/.
 */
#ifndef HK_RUNNER_INT_H
#define HK_RUNNER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "core/buf.h"
#include "core/map.h"
#include "hooks/runner.h"

struct hookset {
	atomic_int refs;
	struct hookdef_set *sets; /* one per file */
	size_t nsets;
};

struct waiter {
	struct waiter *next;
	runner_answer_fn fn;
	void *arg;
};

/* a hook's queue; found by hook id in runner.hooks, kept across reloads */
struct hstate {
	char *id;
	struct runner_job *head, *tail; /* committed, waiting to start */
	unsigned queued, reserved, running;
	unsigned long long started, coalesced;
};

struct runner_job {
	struct runner_job *next;   /* queue link */
	struct runner *r;
	struct hstate *hs;
	struct hookset *set;       /* a reference: def lives in it */
	const struct hookdef *def;
	char id[ID_MAX], event[ID_MAX];
	int state;                 /* enum hook_run_status */
	struct hookdef_argv argv;
	struct waiter *waiters;
	int64_t created, started, ended;

	/* the process, on the loop thread only */
	uv_process_t proc;
	uv_pipe_t out;             /* stdout and stderr: one pipe, as they interleave */
	uv_timer_t timer;          /* timeout, then the kill grace */
	int open;                  /* handles not yet closed */
	bool exited, eof, timed_out, killed, spawned;
	int64_t exit_status;
	int term_signal;
	struct buf output;
	bool truncated;
	char **tmpfiles;           /* pass-file-to-command files, removed after the run */
	size_t ntmp;
	char error[256];
	char into[ID_MAX];         /* the run it was coalesced into */
	char rbuf[16384];
};

struct runner {
	struct runner_config cfg;
	char **files;
	struct store *store;
	char boot_id[ID_MAX];      /* runs with a smaller id were made by an earlier process */
	uv_timer_t rescan;         /* shared database: looks for dead nodes' runs (loop thread) */

	pthread_mutex_t mu;        /* guards everything below, and the queues */
	struct hookset *set;
	struct map hooks;          /* hook id -> struct hstate */
	bool stopping;

	uv_loop_t loop;
	uv_async_t wake;
	uv_timer_t stop_timer;
	pthread_t thread;
	bool started;
	int nrunning;              /* loop thread only */
	struct runner_job **live;  /* loop thread only: started jobs */
	size_t nlive, caplive;
};

/* runner_proc.c, loop thread only */
int proc_start(struct runner_job *j);
void proc_kill(struct runner_job *j, int sig);
/* runner.c: called by runner_proc.c when every handle of a started job has closed */
void runner_job_finished(struct runner_job *j);

#endif
