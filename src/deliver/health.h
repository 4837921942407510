/*
 * health.h - how each endpoint is doing, as the dispatcher last saw it:
 * circuit state, consecutive failures, last error, recent success rate.
 *
 * The dispatcher records every attempt (health_record, loop thread); the
 * API reads snapshots from any thread (endpoint pages, the dashboard's
 * failing-endpoints panel). Guarded by one mutex: a record is a few words.
 * Per node and since start: on a cluster each node reports what it saw.
 */
#ifndef HK_HEALTH_H
#define HK_HEALTH_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/map.h"

struct health {
	pthread_mutex_t mu;
	struct map eps; /* endpoint id -> struct health_rec */
};

void health_init(struct health *h);
void health_release(struct health *h);
/* health_record notes one attempt; error is NULL on success; circuit is a breaker state name */
void health_record(struct health *h, const char *endpoint, const char *app, const char *url, bool ok,
		   int code, const char *error, const char *circuit, int64_t now);
/* health_json returns {circuit, consecutiveFailures, lastError, lastAttempt, successRate, attempts} or NULL */
json_t *health_json(struct health *h, const char *endpoint);
/* health_failing lists endpoints now failing, most consecutive failures first */
json_t *health_failing(struct health *h, size_t max);

#endif
