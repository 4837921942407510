/*
 * metrics.h - what hookd counts about itself, for /metrics (Prometheus text)
 * and /api/v1/stats (the dashboard's charts).
 *
 * Counters and histograms are process-wide and lock-free to bump (atomics),
 * so the delivery hot path pays a few atomic adds. The dashboard series is a
 * ring of one-minute buckets covering the last 24 hours, each with its own
 * counts and latency histogram; it starts empty when the process starts
 * (on a cluster each node reports its own). Gauges that other modules own
 * (queue depth, in flight, circuit states) are read at scrape time through
 * a callback the server registers.
 */
#ifndef HK_METRICS_H
#define HK_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

enum metrics_outcome { OUTCOME_SUCCEEDED, OUTCOME_FAILED, OUTCOME_RETRYING, OUTCOME_CANCELED };
enum metrics_verdict { VERDICT_ACCEPTED, VERDICT_REJECTED, VERDICT_DUPLICATE, VERDICT_TOO_LARGE };

void metrics_published(unsigned deliveries);
/* metrics_attempt: code is the HTTP status (0: no answer); latency from publish, duration of the request */
void metrics_attempt(int code, enum metrics_outcome outcome, int64_t latency_ms, int64_t duration_ms);
/* metrics_inbound counts an inbound request for a source (id or uid as it came; NULL: unknown) */
void metrics_inbound(const char *source, enum metrics_verdict verdict);
void metrics_hook_run(const char *outcome);
void metrics_commit(unsigned batch, int64_t duration_us);
/* metrics_batch_rerun counts a batch run again with savepoints because a write in it failed */
void metrics_batch_rerun(void);
void metrics_http_request(int64_t duration_us);

struct metrics_gauges {
	int64_t due, scheduled, inflight;
	int64_t circuit_closed, circuit_open, circuit_half_open;
	int64_t endpoints_disabled;
	int64_t store_queue;
};

typedef void (*metrics_gauge_fn)(struct metrics_gauges *g, void *arg);
void metrics_set_gauges(metrics_gauge_fn fn, void *arg);

/* metrics_prometheus appends the exposition text */
int metrics_prometheus(struct buf *out);

/*
 * metrics_series returns {"bucketSeconds", "buckets": [...], "queue": {...}}
 * for [since, until) (ms) in buckets of bucket_s seconds (a multiple of 60).
 */
json_t *metrics_series(int64_t since, int64_t until, int bucket_s);

#endif
