/*
 * poll.c - the poller thread: which source is due, one poll in flight per
 * source, and what an answer does to the schedule (poll.h).
 *
 * Design: one thread runs libcurl's multi interface with curl_multi_poll()
 * (no libuv loop: the only events are curl's sockets, the next due time and
 * a wake-up, which curl_multi_poll already waits on together). Every source
 * has at most one poll in flight, and polls of different sources run side by
 * side, so a slow API delays only itself. When a poll's answer is complete,
 * the thread diffs it and waits for its commits (store_run) before going
 * on: a commit takes milliseconds under group commit, the poll's state has
 * to be durable before that source polls again anyway, and the API threads
 * never wait on this thread. The cost, other sources' sockets unattended for
 * a few milliseconds, is nothing next to intervals of seconds.
 *
 * A source's poll, as states:
 *
 *   idle ──due──► fetching page 1 ──Link next (same origin, < max pages)──► fetching page n
 *     ▲               │ 304: nothing changed            │
 *     │               ▼                                 ▼
 *     └──schedule── answer complete: diff, publish, store state
 *
 *   schedule: success or 304 → interval (±10 % jitter); an error → interval ×
 *   2^failures (cap 1 h, ±10 %); 429/503 with Retry-After → at least that
 *   long (+0..10 %). The time of the next poll after an error is stored
 *   (backoffUntil), so a restart does not hammer a failing API.
 *
 * Sources reload when the API bumps the generation (poller_invalidate), and
 * every 30 s in case another node's API changed them: new
 * ones are polled soon, changed ones at once (an answer in flight for the
 * old version is dropped), deleted ones are freed when their poll ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "core/log.h"
#include "poll/poll_int.h"

#define POLL_TIMEOUT_DEFAULT_MS 30000
#define POLL_IDLE_WAIT_MS 5000
#define POLL_LIST_PAGE 250
#define POLL_RELOAD_MS 30000 /* re-read sources anyway: another node's API may have changed them */

/* ---- schedule ---- */

/* jitter scales ms by a random factor in [1 - down %, 1 + up %] */
static int64_t jitter(int64_t ms, int down, int up)
{
	uint32_t r;
	double f;

	rand_bytes(&r, sizeof(r));
	f = (double)r / 4294967296.0;
	return ms + (int64_t)((double)ms * ((double)-down + f * (double)(down + up)) / 100.0);
}

static bool disabled(const struct psrc *s)
{
	return json_is_true(json_object_get(s->doc, "disabled")) || !s->rule_ok;
}

static int64_t backoff_ms(const struct psrc *s, int failures)
{
	int64_t d = s->interval_ms;
	for (int i = 0; i < failures && d < POLL_BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < POLL_BACKOFF_MAX_MS ? d : POLL_BACKOFF_MAX_MS;
}

static void save(struct poller *p, struct psrc *s)
{
	int rc = state_save(p, s);
	if (rc < 0)
		log_error("poll '%s': cannot store its state: %s", s->id, hk_strerror(rc));
}

static void failed(struct poller *p, struct psrc *s, const char *why, int64_t retry_after_ms)
{
	int failures = (int)json_integer_value(json_object_get(s->state, "failures")) + 1;
	int64_t now = clock_now_ms(), delay;

	if (retry_after_ms >= 0)
		delay = jitter(retry_after_ms > s->interval_ms ? retry_after_ms : s->interval_ms, 0, 10);
	else
		delay = jitter(backoff_ms(s, failures), 10, 10);
	if (delay > POLL_BACKOFF_MAX_MS) /* the cap holds after the jitter too */
		delay = POLL_BACKOFF_MAX_MS;
	s->due = now + delay;
	json_object_set_new(s->state, "failures", json_integer(failures));
	json_object_set_new(s->state, "lastError", json_string(why));
	json_object_set_new(s->state, "lastErrorAt", json_integer(now));
	json_object_set_new(s->state, "backoffUntil", json_integer(s->due));
	log_warnx("poll '%s': %s; next poll in %lld ms", s->id, why, (long long)delay);
	save(p, s);
}

/* succeeded schedules the next poll and stores the state if the poll changed it */
static void succeeded(struct poller *p, struct psrc *s, const json_t *before)
{
	s->due = clock_now_ms() + jitter(s->interval_ms, 10, 10);
	if (json_integer_value(json_object_get(s->state, "failures"))) {
		json_object_set_new(s->state, "failures", json_integer(0));
		json_object_del(s->state, "backoffUntil");
	}
	if (!before || !json_equal((json_t *)before, s->state))
		save(p, s);
}

/* ---- answers ---- */

/*
 * take_page reads one page into the poll. Returns 0 when the answer is
 * complete, 1 when the next page was started, or an error with err set.
 */
static int take_page(struct poller *p, struct psrc *s, char *err, size_t errlen)
{
	struct pfetch *f = s->f;
	json_t *answer = NULL, *v;
	char jerr[256];
	int rc;

	if (f->page == 1) {
		snprintf(f->etag, sizeof(f->etag), "%s", f->h_etag);
		snprintf(f->last_modified, sizeof(f->last_modified), "%s", f->h_last_modified);
	}
	if (!f->body.len) {
		snprintf(err, errlen, "the answer is empty");
		return HK_EPARSE;
	}
	if (json_parse_bounded(f->body.data, f->body.len, JSON_DEPTH_MAX, &answer, jerr, sizeof(jerr)) < 0) {
		snprintf(err, errlen, "the answer is not JSON: %s", jerr);
		return HK_EPARSE;
	}
	v = poll_path_get(answer, s->rule.path);
	rc = HK_EPARSE;
	if (s->rule.kind == POLL_DOCUMENT) {
		if (v) {
			f->value = json_incref(v);
			rc = 0;
		} else {
			snprintf(err, errlen, "the answer has nothing at '%s'", s->rule.path);
		}
		goto out;
	}
	if (!json_is_array(v)) {
		snprintf(err, errlen, "the answer has no list at '%s'", s->rule.path);
		goto out;
	}
	if (!f->items)
		f->items = json_array();
	rc = f->items && json_array_extend(f->items, v) == 0 ? 0 : HK_ENOMEM;
	if (rc == 0 && f->h_next[0] && f->page < p->cfg.max_pages) {
		char *next = fetch_next_url(f->url, f->h_next);
		if (!next) {
			log_warnx("poll '%s': next page '%s' is not on the source's origin; not followed", s->id,
				 f->h_next);
		} else {
			rc = fetch_page(p, s, next);
			free(next);
			if (rc == 0)
				rc = 1;
			else
				snprintf(err, errlen, "cannot request the next page: %s", hk_strerror(rc));
		}
	}
out:
	json_decref(answer);
	return rc;
}

static void finished(struct poller *p, struct psrc *s, CURLcode res)
{
	struct pfetch *f = s->f;
	long code = 0;
	int64_t retry_ms = -1;
	char err[512] = "";
	int rc = HK_EIO;

	if (s->removed || s->stale) {
		/* the source changed under this poll: its answer is about the old version */
		fetch_end(p, s);
		s->stale = false;
		s->due = clock_now_ms();
		return;
	}
	if (res == CURLE_OK)
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
	if (res != CURLE_OK) {
		snprintf(err, sizeof(err), "%s",
			 f->denied    ? "address not allowed (private or reserved network)"
			 : f->too_big ? "the answer is larger than the limit"
			 : f->errbuf[0] ? f->errbuf
					: curl_easy_strerror(res));
	} else if (code == 304 && f->page == 1) {
		fetch_end(p, s);
		succeeded(p, s, NULL);
		return;
	} else if (code == 429 || code == 503) {
		snprintf(err, sizeof(err), "HTTP %ld from page %d", code, f->page);
		if (f->h_retry_after[0])
			retry_after_parse(f->h_retry_after, clock_now_ms(), &retry_ms);
	} else if (code < 200 || code > 299) {
		snprintf(err, sizeof(err), "HTTP %ld from page %d", code, f->page);
	} else {
		rc = take_page(p, s, err, sizeof(err));
		if (rc == 1)
			return; /* the next page is on its way */
	}
	if (rc == 0) {
		json_t *before = json_deep_copy(s->state);
		rc = apply_answer(p, s, err, sizeof(err));
		if (rc == 0)
			succeeded(p, s, before);
		json_decref(before);
	}
	if (rc < 0)
		failed(p, s, err[0] ? err : hk_strerror(rc), retry_ms);
	fetch_end(p, s);
}

/* ---- sources ---- */

static void psrc_free(struct psrc *s)
{
	if (!s)
		return;
	json_decref(s->doc);
	json_decref(s->state);
	free(s);
}

/* psrc_set takes a (new) version of the document */
static void psrc_set(struct psrc *s, json_t *doc)
{
	json_t *rule = json_object_get(doc, "rule");
	char err[256];

	json_decref(s->doc);
	s->doc = json_incref(doc);
	s->interval_ms = (int64_t)json_integer_value(json_object_get(doc, "intervalSeconds")) * 1000;
	if (s->interval_ms < 1000)
		s->interval_ms = 1000;
	s->rule_ok = poll_rule_parse(rule, &s->rule, err, sizeof(err)) == 0;
	if (!s->rule_ok)
		log_warnx("poll '%s': %s; not polled", s->id, err);
	poll_config_hash(doc, s->config_hash);
}

static struct psrc *psrc_new(struct poller *p, json_t *doc)
{
	struct psrc *s = calloc(1, sizeof(*s));
	int64_t now = clock_now_ms(), spread, until;

	if (!s)
		return NULL;
	snprintf(s->id, sizeof(s->id), "%s", json_str(doc, "id"));
	psrc_set(s, doc);
	if (store_doc_get(p->cfg.store, "poll_state", s->id, s->id, &s->state) == 0)
		s->state_stored = true;
	else
		s->state = json_object();
	/* spread the first polls of a start-up over up to a second, or the interval */
	spread = s->interval_ms < 1000 ? s->interval_ms : 1000;
	s->due = now + jitter(spread / 2, 100, 100);
	until = json_integer_value(json_object_get(s->state, "backoffUntil"));
	if (until > s->due)
		s->due = until;
	return s;
}

static int list_docs(struct poller *p, json_t **out)
{
	struct store_page pg = {NULL, POLL_LIST_PAGE, false};
	char cursor[ID_MAX + 200] = "";
	json_t *all = json_array();

	for (;;) {
		struct store_list l;
		int rc;
		pg.iterator = cursor[0] ? cursor : NULL;
		rc = store_doc_list(p->cfg.store, "poll", "", &pg, &l);
		if (rc < 0) {
			json_decref(all);
			return rc;
		}
		json_array_extend(all, l.items);
		memcpy(cursor, l.iterator, sizeof(cursor));
		store_list_release(&l);
		if (l.done || !cursor[0])
			break;
	}
	*out = all;
	return 0;
}

static void reload(struct poller *p)
{
	uint64_t gen = atomic_load(&p->gen);
	json_t *docs = NULL, *doc;
	struct psrc **pp, *s;
	size_t i;
	int rc = list_docs(p, &docs);

	if (rc < 0) {
		log_error("cannot read poll sources: %s", hk_strerror(rc));
		return; /* tried again on the next turn */
	}
	p->loaded_gen = gen;
	p->loaded_at = clock_now_ms();
	for (s = p->sources; s; s = s->next)
		s->removed = true;
	json_array_foreach(docs, i, doc) {
		const char *id = json_str(doc, "id");
		for (s = p->sources; s && strcmp(s->id, id) != 0; s = s->next)
			;
		if (!s) {
			s = psrc_new(p, doc);
			if (!s)
				continue;
			s->next = p->sources;
			p->sources = s;
		} else if (!json_equal(s->doc, doc)) {
			char before[65];
			json_t *old_headers = json_incref(json_object_get(s->doc, "_headers"));
			memcpy(before, s->config_hash, sizeof(before));
			psrc_set(s, doc);
			s->stale = s->f != NULL;
			s->due = clock_now_ms();
			if (strcmp(before, s->config_hash) != 0) {
				log_info("poll '%s': changed; its next poll records a new baseline", s->id);
			} else if (json_equal(old_headers, json_object_get(doc, "_headers")) ||
				   (!old_headers && !json_object_get(doc, "_headers"))) {
				/* the same request: a Retry-After or a backoff still holds */
				int64_t until = json_integer_value(json_object_get(s->state, "backoffUntil"));
				if (until > s->due)
					s->due = until;
			}
			json_decref(old_headers);
		}
		s->removed = false;
	}
	json_decref(docs);
	for (pp = &p->sources; *pp;) {
		s = *pp;
		if (s->removed && !s->f) {
			*pp = s->next;
			psrc_free(s);
		} else {
			pp = &s->next;
		}
	}
}

/* check_config starts over from a baseline when what is polled changed */
static void check_config(struct psrc *s)
{
	const char *had = json_str(s->state, "configHash");
	if (had && strcmp(had, s->config_hash) == 0)
		return;
	if (had || json_object_size(s->state)) {
		json_t *fresh = json_object();
		/* failures and backoff carry over: the API did not get healthier */
		json_object_set(fresh, "failures", json_object_get(s->state, "failures"));
		json_object_set(fresh, "published", json_object_get(s->state, "published"));
		/* emitInitial is about a new source, not a changed one */
		json_object_set_new(fresh, "quietBaseline", json_true());
		json_decref(s->state);
		s->state = fresh;
	}
	json_object_set_new(s->state, "configHash", json_string(s->config_hash));
}

/* ---- the thread ---- */

static void start_due(struct poller *p)
{
	int64_t now = clock_now_ms();
	char why[160];

	for (struct psrc *s = p->sources; s; s = s->next) {
		int rc;
		if (s->f || s->removed || disabled(s) || s->due > now)
			continue;
		check_config(s);
		rc = fetch_begin(p, s);
		if (rc < 0) {
			snprintf(why, sizeof(why), "cannot start the request: %s", hk_strerror(rc));
			failed(p, s, why, -1);
		}
	}
}

/* idle_wait is how long the thread may sleep before a source is due */
static int idle_wait(struct poller *p)
{
	int64_t now = clock_now_ms(), wait = POLL_IDLE_WAIT_MS;

	for (struct psrc *s = p->sources; s; s = s->next) {
		if (s->f || s->removed || disabled(s))
			continue;
		if (s->due - now < wait)
			wait = s->due - now;
	}
	return wait < 0 ? 0 : (int)wait;
}

static void reap(struct poller *p)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(p->multi, &left))) {
		struct psrc *s = NULL;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (s)
			finished(p, s, m->data.result);
	}
	for (struct psrc **pp = &p->sources; *pp;) {
		struct psrc *s = *pp;
		if (s->removed && !s->f) {
			*pp = s->next;
			psrc_free(s);
		} else {
			pp = &s->next;
		}
	}
}

static void *poller_main(void *arg)
{
	struct poller *p = arg;
	int running;

	pthread_setname_np(pthread_self(), "hk-poll");
	while (!atomic_load(&p->stopping)) {
		if (atomic_load(&p->gen) != p->loaded_gen || clock_now_ms() - p->loaded_at > POLL_RELOAD_MS)
			reload(p);
		start_due(p);
		curl_multi_perform(p->multi, &running);
		reap(p);
		curl_multi_poll(p->multi, NULL, 0, idle_wait(p), NULL);
	}
	return NULL;
}

int poller_start(const struct poller_config *cfg, struct poller **out)
{
	struct poller *p = calloc(1, sizeof(*p));

	if (!p)
		return HK_ENOMEM;
	p->cfg = *cfg;
	if (!p->cfg.timeout_ms)
		p->cfg.timeout_ms = POLL_TIMEOUT_DEFAULT_MS;
	if (!p->cfg.body_max)
		p->cfg.body_max = POLL_BODY_MAX;
	if (p->cfg.max_pages < 1)
		p->cfg.max_pages = POLL_PAGES_MAX;
	if (!p->cfg.user_agent)
		p->cfg.user_agent = "hookd";
	atomic_init(&p->gen, 1);
	atomic_init(&p->stopping, false);
	p->multi = curl_multi_init();
	if (!p->multi) {
		free(p);
		return HK_ENOMEM;
	}
	if (pthread_create(&p->thread, NULL, poller_main, p) != 0) {
		curl_multi_cleanup(p->multi);
		free(p);
		return HK_ENOMEM;
	}
	*out = p;
	return 0;
}

void poller_invalidate(struct poller *p)
{
	if (!p)
		return;
	atomic_fetch_add(&p->gen, 1);
	curl_multi_wakeup(p->multi);
}

void poller_stop(struct poller *p)
{
	if (!p)
		return;
	atomic_store(&p->stopping, true);
	curl_multi_wakeup(p->multi);
	pthread_join(p->thread, NULL);
	while (p->sources) {
		struct psrc *s = p->sources;
		p->sources = s->next;
		fetch_end(p, s);
		psrc_free(s);
	}
	curl_multi_cleanup(p->multi);
	free(p);
}
