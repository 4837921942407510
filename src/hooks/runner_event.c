/*
 * runner_event.c - runs made from stored events: an inbound event routed to
 * a hook, and runs re-queued at start-up. The command is rebuilt from the
 * journaled request (method, headers, query, body, remote address), so a
 * re-queued run sees exactly what the first attempt saw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "hooks/runner_int.h"

/* request_from_event turns a journaled request into the values hooks read */
static int request_from_event(const struct store_inbound_raw *ev, struct hookreq **out)
{
	struct hookreq *req = hookreq_new(ev->method, ev->remote);
	json_t *headers = json_loads(ev->headers, 0, NULL), *v;
	const char *name;
	int rc = req ? 0 : HK_ENOMEM;

	json_object_foreach(headers, name, v) {
		if (rc == 0 && json_is_string(v))
			rc = hookreq_add_header(req, name, json_string_value(v));
	}
	json_decref(headers);
	if (rc == 0)
		rc = hookreq_set_query(req, ev->query, strlen(ev->query));
	if (rc == 0)
		rc = hookreq_set_body(req, ev->body, ev->body_len);
	if (rc < 0) {
		hookreq_free(req);
		return rc;
	}
	*out = req;
	return 0;
}

int runner_event_argv(struct runner *r, const struct hookdef *def, const char *event_id,
		      bool check_rules, struct hookdef_argv *argv, char *err, size_t errlen)
{
	struct store_inbound_raw ev;
	struct hookreq *req = NULL;
	int rc = store_inbound_raw(r->store, event_id, &ev);

	if (rc < 0) {
		snprintf(err, errlen, "event '%s': %s", event_id, hk_strerror(rc));
		return rc;
	}
	rc = request_from_event(&ev, &req);
	if (rc == 0)
		rc = hookdef_prepare_request(def, req);
	if (rc < 0) {
		snprintf(err, errlen, "event '%s': cannot read its request: %s", event_id, hk_strerror(rc));
		goto out;
	}
	if (check_rules) {
		int status;
		const char *body;
		char reason[256] = "";
		enum rules_result res = hookdef_trigger(def, req, &status, &body, reason, sizeof(reason));
		if (res == RULES_NOMATCH) {
			snprintf(err, errlen, "trigger rules not satisfied");
			rc = HK_EINVAL;
			goto out;
		}
		if (res == RULES_ERROR) {
			snprintf(err, errlen, "trigger rules: %s", reason);
			rc = HK_EVERIFY;
			goto out;
		}
	}
	rc = hookdef_build_argv(def, req, argv, err, errlen);
out:
	hookreq_free(req);
	store_inbound_raw_release(&ev);
	return rc;
}

static void queued_done(struct store_write *w, int rc, void *arg)
{
	struct runner_job *job = arg;
	(void)w;

	if (rc == 0) {
		runner_job_commit(job);
		return;
	}
	if (rc == HK_ECONFLICT)
		log_info("run '%s' not queued: another node recovered that run first", runner_job_id(job));
	else
		log_error("cannot record run '%s': %s", runner_job_id(job), hk_strerror(rc));
	runner_job_abort(job);
}

/* queue_event adds the run to w (which may hold more ops) and submits it */
static int queue_event(struct runner *r, const char *hook_id, const char *event_id, const char *trigger,
		       const char *retry_of, bool check_rules, struct store_write *w, char *new_run)
{
	struct hookset *set = runner_hooks(r);
	const struct hookdef *def = hookset_find(set, hook_id);
	struct hookdef_argv argv;
	struct runner_job *job = NULL;
	char err[256] = "";
	int rc;

	if (!def) {
		log_warnx("hook '%s' for event '%s' is not loaded", hook_id, event_id);
		rc = HK_ENOTFOUND;
		goto fail;
	}
	rc = runner_event_argv(r, def, event_id, check_rules, &argv, err, sizeof(err));
	if (rc < 0) {
		log_info("hook '%s' not run for event '%s': %s", hook_id, event_id, err);
		goto fail;
	}
	rc = runner_job_new(r, set, def, event_id, trigger, retry_of, retry_of != NULL, &argv, w, &job);
	if (rc < 0) {
		log_warnx("hook '%s' cannot queue event '%s': %s", hook_id, event_id, hk_strerror(rc));
		goto fail;
	}
	if (new_run)
		snprintf(new_run, ID_MAX, "%s", runner_job_id(job));
	w->done = queued_done;
	w->arg = job;
	rc = store_submit(r->store, w);
	if (rc < 0) {
		w->done = NULL;
		runner_job_abort(job);
		goto fail;
	}
	hookset_release(set);
	return 0;
fail:
	store_write_free(w);
	hookset_release(set);
	return rc;
}

int runner_queue_event(struct runner *r, const char *hook_id, const char *event_id,
		       const char *trigger, const char *retry_of, char *new_run)
{
	struct store_write *w = store_write_new(NULL, NULL);

	if (!w)
		return HK_ENOMEM;
	return queue_event(r, hook_id, event_id, trigger, retry_of, strcmp(trigger, "route") == 0, w,
			   new_run);
}

int runner_route_hook(void *arg, const char *hook_id, const char *event_id)
{
	return runner_queue_event(arg, hook_id, event_id, "route", NULL, NULL);
}

/* ---- start-up ---- */

struct recover_ctx {
	struct runner *r;
	char last[ID_MAX];
	int requeued, seen;
	bool past_boot;
	bool owned_only; /* a rescan while running: only runs of nodes that held a lease and died */
};

/* interrupt_op marks an earlier run interrupted in w */
static int interrupt_op(struct store_write *w, const struct store_hook_run_ref *run, const char *why)
{
	struct store_op *op = store_write_add(w, SOP_HOOK_RUN_UPDATE);

	if (!op)
		return HK_ENOMEM;
	snprintf(op->u.run.id, sizeof(op->u.run.id), "%s", run->id);
	/* taken once: if another node recovered it first, this whole write is undone */
	op->u.run.only_open = true;
	op->u.run.status = HOOK_RUN_INTERRUPTED;
	op->u.run.exit_code = -1;
	op->u.run.error = strdup(why);
	return op->u.run.error ? 0 : HK_ENOMEM;
}

static int recover_one(const struct store_hook_run_ref *run, void *arg)
{
	struct recover_ctx *c = arg;
	struct store_write *w;
	int rc;

	snprintf(c->last, sizeof(c->last), "%s", run->id);
	/* alone on the database, the runs this process made are the newest; shared, the scan leaves them out */
	if (!store_clustered(c->r->store) && strcmp(run->id, c->r->boot_id) >= 0) {
		c->past_boot = true;
		return -1;
	}
	/* a run without an owner may be a live api-only node's: only a start-up takes those */
	if (c->owned_only && !run->owned)
		return 0;
	c->seen++;
	w = store_write_new(NULL, NULL);
	if (!w || interrupt_op(w, run, "hookd stopped before the run ended") < 0) {
		store_write_free(w);
		return 0;
	}
	rc = queue_event(c->r, run->hook, run->event, "requeue", run->id, false, w, NULL);
	if (rc == 0) {
		c->requeued++;
		return 0;
	}
	/* cannot run again (hook gone, event gone): still close the old record */
	w = store_write_new(NULL, NULL);
	if (!w || interrupt_op(w, run, "hookd stopped before the run ended; not re-queued") < 0 ||
	    store_submit(c->r->store, w) < 0)
		store_write_free(w);
	return 0;
}

static int recover(struct runner *r, bool owned_only)
{
	struct recover_ctx c = {r, "", 0, 0, false, owned_only};
	int got;

	do {
		got = store_hook_run_open_scan(r->store, c.last, 500, recover_one, &c);
	} while (got == 500 && !c.past_boot);
	if (c.seen)
		log_info("re-queued %d of %d command runs left unfinished by the last process", c.requeued,
			 c.seen);
	return got < 0 && !c.past_boot ? got : c.requeued;
}

int runner_recover(struct runner *r)
{
	return recover(r, false);
}

int runner_rescan(struct runner *r)
{
	return recover(r, true);
}
