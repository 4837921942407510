/*
 * metrics.c - counters, histograms and the per-minute series (metrics.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/map.h"
#include "core/metrics.h"

/* latency histogram bounds in milliseconds (Prometheus "le" buckets) */
static const double le_ms[] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};
#define NLE (sizeof(le_ms) / sizeof(le_ms[0]))

struct histo {
	atomic_uint_fast64_t bucket[NLE + 1]; /* the last is +Inf */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
};

#define MINUTES (24 * 60)

struct minute {
	atomic_int_fast64_t start; /* epoch minute this slot holds */
	atomic_uint_fast64_t succeeded, failed, retrying, inbound;
	struct histo latency;
};

static struct {
	atomic_uint_fast64_t published, deliveries;
	atomic_uint_fast64_t outcome[4];
	atomic_uint_fast64_t status_class[6]; /* 0 (no answer), 1xx .. 5xx */
	atomic_uint_fast64_t verdict[4];
	atomic_uint_fast64_t hook_ok, hook_failed, hook_timeout, hook_other;
	atomic_uint_fast64_t commits, commit_writes, batch_reruns;
	struct histo latency, duration, commit, http;
	struct minute minutes[MINUTES];
	metrics_gauge_fn gauges;
	void *gauges_arg;
} M;

static void histo_add(struct histo *h, int64_t us)
{
	double ms = (double)us / 1000.0;
	size_t i = 0;
	while (i < NLE && ms > le_ms[i])
		i++;
	atomic_fetch_add(&h->bucket[i], 1);
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum_us, (uint_fast64_t)(us > 0 ? us : 0));
}

static struct minute *minute_now(void)
{
	int64_t m = clock_now_ms() / 60000;
	struct minute *slot = &M.minutes[m % MINUTES];
	int_fast64_t seen = atomic_load(&slot->start);

	if (seen != m && atomic_compare_exchange_strong(&slot->start, &seen, m)) {
		/* a new minute reuses the slot: clear what the old one counted */
		atomic_store(&slot->succeeded, 0);
		atomic_store(&slot->failed, 0);
		atomic_store(&slot->retrying, 0);
		atomic_store(&slot->inbound, 0);
		for (size_t i = 0; i <= NLE; i++)
			atomic_store(&slot->latency.bucket[i], 0);
		atomic_store(&slot->latency.count, 0);
		atomic_store(&slot->latency.sum_us, 0);
	}
	return slot;
}

void metrics_published(unsigned deliveries)
{
	atomic_fetch_add(&M.published, 1);
	atomic_fetch_add(&M.deliveries, deliveries);
}

void metrics_attempt(int code, enum metrics_outcome outcome, int64_t latency_ms, int64_t duration_ms)
{
	struct minute *slot = minute_now();
	int cls = code >= 100 && code < 600 ? code / 100 : 0;

	atomic_fetch_add(&M.outcome[outcome], 1);
	atomic_fetch_add(&M.status_class[cls], 1);
	histo_add(&M.duration, duration_ms * 1000);
	if (outcome == OUTCOME_SUCCEEDED) {
		histo_add(&M.latency, latency_ms * 1000);
		histo_add(&slot->latency, latency_ms * 1000);
		atomic_fetch_add(&slot->succeeded, 1);
	} else if (outcome == OUTCOME_RETRYING) {
		atomic_fetch_add(&slot->retrying, 1);
	} else if (outcome == OUTCOME_FAILED) {
		atomic_fetch_add(&slot->failed, 1);
	}
}

#define SOURCES_MAX 1000 /* past this many sources, the rest count as "other" */

struct source_count {
	uint64_t verdict[4];
};

static pthread_mutex_t sources_mu = PTHREAD_MUTEX_INITIALIZER;
static struct map sources;

void metrics_inbound(const char *source, enum metrics_verdict verdict)
{
	char key[80];
	struct source_count *c;

	/* label values are kept to ids and uids: [A-Za-z0-9._-], bounded */
	snprintf(key, sizeof(key), "%s", source && *source ? source : "unknown");
	for (char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			*p = '_';
	pthread_mutex_lock(&sources_mu);
	c = map_get(&sources, key);
	if (!c && sources.len >= SOURCES_MAX)
		c = map_get(&sources, "other");
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (c && map_put(&sources, sources.len >= SOURCES_MAX ? "other" : key, c, NULL) < 0) {
			free(c);
			c = NULL;
		}
	}
	if (c)
		c->verdict[verdict]++;
	pthread_mutex_unlock(&sources_mu);
	atomic_fetch_add(&M.verdict[verdict], 1);
	if (verdict == VERDICT_ACCEPTED)
		atomic_fetch_add(&minute_now()->inbound, 1);
}

void metrics_hook_run(const char *outcome)
{
	if (strcmp(outcome, "succeeded") == 0)
		atomic_fetch_add(&M.hook_ok, 1);
	else if (strcmp(outcome, "failed") == 0)
		atomic_fetch_add(&M.hook_failed, 1);
	else if (strcmp(outcome, "timed_out") == 0)
		atomic_fetch_add(&M.hook_timeout, 1);
	else
		atomic_fetch_add(&M.hook_other, 1);
}

void metrics_batch_rerun(void)
{
	atomic_fetch_add(&M.batch_reruns, 1);
}

void metrics_commit(unsigned batch, int64_t duration_us)
{
	atomic_fetch_add(&M.commits, 1);
	atomic_fetch_add(&M.commit_writes, batch);
	histo_add(&M.commit, duration_us);
}

void metrics_http_request(int64_t duration_us)
{
	histo_add(&M.http, duration_us);
}

void metrics_set_gauges(metrics_gauge_fn fn, void *arg)
{
	M.gauges = fn;
	M.gauges_arg = arg;
}

/* ---- Prometheus ---- */

static void prom_histo(struct buf *out, const char *name, const char *help, const struct histo *h)
{
	uint_fast64_t cum = 0;
	buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < NLE; i++) {
		cum += atomic_load(&h->bucket[i]);
		buf_printf(out, "%s_bucket{le=\"%g\"} %lu\n", name, le_ms[i] / 1000.0, (unsigned long)cum);
	}
	cum += atomic_load(&h->bucket[NLE]);
	buf_printf(out, "%s_bucket{le=\"+Inf\"} %lu\n%s_sum %.6f\n%s_count %lu\n", name, (unsigned long)cum,
		   name, (double)atomic_load(&h->sum_us) / 1e6, name, (unsigned long)atomic_load(&h->count));
}

static void prom_counter(struct buf *out, const char *name, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

static void prom_gauge(struct buf *out, const char *name, const char *help, int64_t v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, (long long)v);
}

static int64_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int64_t n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static int64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return (int64_t)rss * sysconf(_SC_PAGESIZE);
}

static void prom_source(const char *key, void *value, void *arg)
{
	static const char *const verdicts[] = {"accepted", "rejected", "duplicate", "too_large"};
	const struct source_count *c = value;
	for (int i = 0; i < 4; i++)
		buf_printf(arg, "hookd_inbound_events_total{source=\"%s\",verdict=\"%s\"} %lu\n", key,
			   verdicts[i], (unsigned long)c->verdict[i]);
}

int metrics_prometheus(struct buf *out)
{
	static const char *const outcomes[] = {"succeeded", "failed", "retrying", "canceled"};
	static const char *const classes[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
	struct metrics_gauges g = {0};

	if (M.gauges)
		M.gauges(&g, M.gauges_arg);
	prom_counter(out, "hookd_messages_published_total", "Messages published");
	buf_printf(out, "hookd_messages_published_total %lu\n", (unsigned long)atomic_load(&M.published));
	prom_counter(out, "hookd_deliveries_created_total", "Deliveries created by publishes");
	buf_printf(out, "hookd_deliveries_created_total %lu\n", (unsigned long)atomic_load(&M.deliveries));
	prom_counter(out, "hookd_deliveries_total", "Delivery attempts by what they meant for the delivery");
	for (int i = 0; i < 4; i++)
		buf_printf(out, "hookd_deliveries_total{outcome=\"%s\"} %lu\n", outcomes[i],
			   (unsigned long)atomic_load(&M.outcome[i]));
	prom_counter(out, "hookd_attempts_total", "Delivery attempts by response status class");
	for (int i = 0; i < 6; i++)
		buf_printf(out, "hookd_attempts_total{status_class=\"%s\"} %lu\n", classes[i],
			   (unsigned long)atomic_load(&M.status_class[i]));
	prom_histo(out, "hookd_delivery_latency_seconds", "From publish to successful delivery", &M.latency);
	prom_histo(out, "hookd_attempt_duration_seconds", "Duration of one delivery request", &M.duration);
	prom_histo(out, "hookd_http_request_duration_seconds", "API request handling time", &M.http);
	prom_counter(out, "hookd_inbound_events_total", "Inbound requests by source and verdict");
	pthread_mutex_lock(&sources_mu);
	map_each(&sources, prom_source, out);
	pthread_mutex_unlock(&sources_mu);
	prom_counter(out, "hookd_hook_runs_total", "Command hook runs by outcome");
	buf_printf(out, "hookd_hook_runs_total{outcome=\"succeeded\"} %lu\n", (unsigned long)atomic_load(&M.hook_ok));
	buf_printf(out, "hookd_hook_runs_total{outcome=\"failed\"} %lu\n", (unsigned long)atomic_load(&M.hook_failed));
	buf_printf(out, "hookd_hook_runs_total{outcome=\"timed_out\"} %lu\n", (unsigned long)atomic_load(&M.hook_timeout));
	buf_printf(out, "hookd_hook_runs_total{outcome=\"other\"} %lu\n", (unsigned long)atomic_load(&M.hook_other));
	prom_counter(out, "hookd_store_commits_total", "Store transactions committed");
	buf_printf(out, "hookd_store_commits_total %lu\n", (unsigned long)atomic_load(&M.commits));
	prom_counter(out, "hookd_store_writes_total", "Writes committed (a commit carries a batch of them)");
	buf_printf(out, "hookd_store_writes_total %lu\n", (unsigned long)atomic_load(&M.commit_writes));
	prom_histo(out, "hookd_store_commit_seconds", "Duration of one group commit", &M.commit);
	prom_counter(out, "hookd_store_batch_reruns_total",
		     "Batches run again with a savepoint per write because one of their writes failed");
	buf_printf(out, "hookd_store_batch_reruns_total %lu\n", (unsigned long)atomic_load(&M.batch_reruns));
	prom_gauge(out, "hookd_queue_due", "Deliveries ready and waiting for their endpoint", g.due);
	prom_gauge(out, "hookd_queue_scheduled", "Deliveries waiting for a retry time", g.scheduled);
	prom_gauge(out, "hookd_inflight_requests", "Delivery requests in flight", g.inflight);
	prom_gauge(out, "hookd_store_queue", "Writes waiting for the store writer", g.store_queue);
	buf_printf(out, "# HELP hookd_endpoints Endpoints known to the dispatcher by circuit state\n"
			"# TYPE hookd_endpoints gauge\n"
			"hookd_endpoints{circuit=\"closed\"} %lld\nhookd_endpoints{circuit=\"open\"} %lld\n"
			"hookd_endpoints{circuit=\"half_open\"} %lld\n",
		   (long long)g.circuit_closed, (long long)g.circuit_open, (long long)g.circuit_half_open);
	prom_gauge(out, "hookd_endpoints_disabled", "Endpoints the dispatcher saw disabled", g.endpoints_disabled);
	prom_gauge(out, "hookd_process_resident_memory_bytes", "Resident memory", rss_bytes());
	return prom_gauge(out, "hookd_process_open_fds", "Open file descriptors", open_fds()), 0;
}

/* ---- the dashboard series ---- */

static double percentile(const uint64_t *bucket, uint64_t count, double q)
{
	uint64_t want = (uint64_t)((double)count * q + 0.5), cum = 0;
	if (!count)
		return 0;
	if (want < 1)
		want = 1;
	for (size_t i = 0; i <= NLE; i++) {
		cum += bucket[i];
		if (cum >= want)
			return i < NLE ? le_ms[i] : le_ms[NLE - 1];
	}
	return le_ms[NLE - 1];
}

json_t *metrics_series(int64_t since, int64_t until, int bucket_s)
{
	json_t *buckets = json_array(), *queue;
	int per = bucket_s / 60 > 0 ? bucket_s / 60 : 1;
	int64_t now_min = clock_now_ms() / 60000;
	int64_t from = since / 60000, to = (until + 59999) / 60000;
	struct metrics_gauges g = {0};

	if (to > now_min + 1)
		to = now_min + 1;
	if (from < now_min - MINUTES + 1)
		from = now_min - MINUTES + 1;
	from -= ((from % per) + per) % per;
	for (int64_t m = from; m < to; m += per) {
		uint64_t hist[NLE + 1] = {0}, count = 0, s = 0, f = 0, r = 0, in = 0;
		char ts[40];
		for (int64_t k = m; k < m + per && k <= now_min; k++) {
			struct minute *slot = &M.minutes[k % MINUTES];
			if (atomic_load(&slot->start) != k)
				continue;
			s += atomic_load(&slot->succeeded);
			f += atomic_load(&slot->failed);
			r += atomic_load(&slot->retrying);
			in += atomic_load(&slot->inbound);
			for (size_t i = 0; i <= NLE; i++)
				hist[i] += atomic_load(&slot->latency.bucket[i]);
			count += atomic_load(&slot->latency.count);
		}
		clock_format_ms(m * 60000, ts, sizeof(ts));
		json_array_append_new(buckets,
				      json_pack("{s:s,s:I,s:I,s:I,s:I,s:f,s:f}", "start", ts, "succeeded",
						(json_int_t)s, "failed", (json_int_t)f, "retrying", (json_int_t)r,
						"inbound", (json_int_t)in, "p50Ms", percentile(hist, count, 0.5),
						"p99Ms", percentile(hist, count, 0.99)));
	}
	if (M.gauges)
		M.gauges(&g, M.gauges_arg);
	queue = json_pack("{s:I,s:I,s:I}", "due", (json_int_t)g.due, "scheduled", (json_int_t)g.scheduled,
			  "inflight", (json_int_t)g.inflight);
	return json_pack("{s:i,s:o,s:o}", "bucketSeconds", per * 60, "buckets", buckets, "queue", queue);
}
