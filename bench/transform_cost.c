/*
 * transform_cost.c - the cost of one run of a trivial transformation (cached script,
 * the bench payload), without HTTP around it. Built and run by bench/transform.sh.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "transform/transform.h"

int main(void)
{
	static const char payload[] = "{\"id\":\"ord_123\",\"amount\":4200,\"currency\":\"EUR\",\"customer\":"
				      "{\"id\":\"cus_9\",\"email\":\"a@example.com\"},\"items\":[{\"sku\":\"A\","
				      "\"qty\":2},{\"sku\":\"B\",\"qty\":1}]}";
	static const char code[] = "function handler(webhook) webhook.payload.seen = true return webhook end";
	json_t *headers = json_pack("{s:s}", "X-Team", "shop");
	struct transform_in in = {.event_type = "order.created", .payload = payload, .len = sizeof(payload) - 1,
				  .url = "https://example.com/hook", .method = "POST", .headers = headers};
	struct transform_cache *c;
	char err[512];
	int n = 100000;
	int64_t t0;

	if (transform_cache_new(NULL, 0, &c) < 0)
		return 1;
	t0 = clock_mono_us();
	for (int i = 0; i < n; i++) {
		struct transform_out out;
		if (transform_run(c, NULL, "bench", code, &in, &out, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		transform_out_release(&out);
	}
	printf("one run of the trivial script: %.2f us (%d runs)\n", (double)(clock_mono_us() - t0) / n, n);
	transform_cache_free(c);
	json_decref(headers);
	return 0;
}
