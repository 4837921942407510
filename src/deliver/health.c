/*
 * health.c - per-endpoint health snapshots (health.h). The success rate is
 * an exponentially weighted average over recent attempts (weight 1/20), so
 * it follows an endpoint's recovery without keeping a history.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/id.h"
#include "deliver/health.h"

struct health_rec {
	char endpoint[ID_MAX], app[ID_MAX];
	char url[512], last_error[256], circuit[16];
	int last_code;
	int64_t failures, attempts, last_attempt;
	double rate;
};

void health_init(struct health *h)
{
	pthread_mutex_init(&h->mu, NULL);
	map_init(&h->eps);
}

void health_release(struct health *h)
{
	map_release(&h->eps, free);
	pthread_mutex_destroy(&h->mu);
}

void health_record(struct health *h, const char *endpoint, const char *app, const char *url, bool ok,
		   int code, const char *error, const char *circuit, int64_t now)
{
	struct health_rec *r;

	pthread_mutex_lock(&h->mu);
	r = map_get(&h->eps, endpoint);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || map_put(&h->eps, endpoint, r, NULL) < 0) {
			free(r);
			pthread_mutex_unlock(&h->mu);
			return;
		}
		snprintf(r->endpoint, sizeof(r->endpoint), "%s", endpoint);
		r->rate = ok ? 1.0 : 0.0;
	}
	snprintf(r->app, sizeof(r->app), "%s", app);
	snprintf(r->url, sizeof(r->url), "%s", url ? url : "");
	snprintf(r->circuit, sizeof(r->circuit), "%s", circuit);
	r->attempts++;
	r->last_attempt = now;
	r->last_code = code;
	r->rate += ((ok ? 1.0 : 0.0) - r->rate) / 20.0;
	if (ok) {
		r->failures = 0;
	} else {
		r->failures++;
		if (error)
			snprintf(r->last_error, sizeof(r->last_error), "%s", error);
		else
			snprintf(r->last_error, sizeof(r->last_error), "HTTP %d", code);
	}
	pthread_mutex_unlock(&h->mu);
}

static json_t *rec_json(const struct health_rec *r)
{
	char ts[40];
	clock_format_ms(r->last_attempt, ts, sizeof(ts));
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s?,s:i,s:s,s:f,s:I}", "endpoint", r->endpoint, "app",
			 r->app, "url", r->url, "circuit", r->circuit, "consecutiveFailures",
			 (json_int_t)r->failures, "lastError", r->last_error[0] ? r->last_error : NULL,
			 "lastStatusCode", r->last_code, "lastAttempt", ts, "successRate", r->rate,
			 "attempts", (json_int_t)r->attempts);
}

json_t *health_json(struct health *h, const char *endpoint)
{
	struct health_rec *r;
	json_t *out = NULL;

	pthread_mutex_lock(&h->mu);
	r = map_get(&h->eps, endpoint);
	if (r)
		out = rec_json(r);
	pthread_mutex_unlock(&h->mu);
	return out;
}

struct failing {
	struct health_rec **items;
	size_t n, cap;
};

static void collect(const char *key, void *value, void *arg)
{
	struct failing *f = arg;
	struct health_rec *r = value;
	(void)key;
	if (r->failures == 0)
		return;
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 16;
		struct health_rec **p = realloc(f->items, ncap * sizeof(*p));
		if (!p)
			return;
		f->items = p;
		f->cap = ncap;
	}
	f->items[f->n++] = r;
}

static int by_failures(const void *a, const void *b)
{
	const struct health_rec *x = *(struct health_rec *const *)a, *y = *(struct health_rec *const *)b;
	return (y->failures > x->failures) - (y->failures < x->failures);
}

json_t *health_failing(struct health *h, size_t max)
{
	struct failing f = {0};
	json_t *out = json_array();

	pthread_mutex_lock(&h->mu);
	map_each(&h->eps, collect, &f);
	if (f.n > 1) /* qsort of an empty list would be passed NULL (undefined) */
		qsort(f.items, f.n, sizeof(*f.items), by_failures);
	for (size_t i = 0; i < f.n && i < max; i++) {
		json_t *j = rec_json(f.items[i]);
		json_object_set(j, "failures", json_object_get(j, "consecutiveFailures"));
		json_array_append_new(out, j);
	}
	pthread_mutex_unlock(&h->mu);
	free(f.items);
	return out;
}
