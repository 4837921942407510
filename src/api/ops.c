/*
 * ops.c - what operators and the dashboard read about the server itself:
 * GET /metrics (Prometheus text) and GET /api/v1/stats (chart series).
 */
#include <stdlib.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "deliver/dispatch.h"
#include "deliver/health.h"

void api_metrics(struct api_req *r)
{
	struct buf b;
	size_t len;
	char *text;

	buf_init(&b, 4u << 20);
	metrics_prometheus(&b);
	text = buf_detach(&b, &len);
	http_respond_take(r->http, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static void stats(struct api_req *r)
{
	int64_t now = clock_now_ms();
	int64_t since = api_query_time(r, "since"), until = api_query_time(r, "until");
	const char *b = http_query(r->http, "bucket");
	long bucket = b ? strtol(b, NULL, 10) : 60;

	if (bucket < 60 || bucket > 86400 || bucket % 60)
		api_field_error(r, "query", "bucket", "bucket must be a multiple of 60 seconds, at most 86400");
	if (json_array_size(r->errors)) {
		api_invalid(r);
		return;
	}
	if (!until)
		until = now;
	if (!since)
		since = until - 3600 * 1000;
	json_t *out = metrics_series(since, until, (int)bucket);
	if (api_dispatch(r))
		json_object_set_new(out, "failingEndpoints", health_failing(dispatch_health(api_dispatch(r)), 20));
	else
		json_object_set_new(out, "failingEndpoints", json_array());
	api_json(r, 200, out);
}

const struct api_route api_ops_routes[] = {
	{{"GET", "/metrics"}, api_metrics, 0},
	{{"GET", "/api/v1/stats"}, stats, 0},
};
const size_t api_ops_nroutes = sizeof(api_ops_routes) / sizeof(api_ops_routes[0]);
