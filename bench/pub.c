/*
 * pub.c - publishes messages to a running hookd, either at a fixed rate or
 * flat out, over a bounded number of keep-alive connections (libcurl multi).
 *
 * It counts answers by kind (202 accepted, 503 shed, anything else) and the
 * publish round trip, and with --ids writes "msg_id sent_us" for each
 * accepted message, sent_us being the wall-clock time the request was handed
 * to libcurl: joined with the sink's arrival records it gives the
 * publish-to-receipt latency of every message.
 *
 * Pacing: message k is due at start + k / rate. A message that finds every
 * connection busy waits for one and is counted as late, so a "late" count
 * above zero means the rate was not held (the figures say so).
 *
 * Usage: pub BASE_URL --token T --app APP [--rate R] [--seconds S | --count N]
 *            [--connections C] [--ids FILE]
 * BASE_URL is hookd's address (http://127.0.0.1:PORT). --rate 0 (the
 * default) publishes flat out. Exits 1 if any publish was not a 202.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PUB_MAX_CONN 256
#define PUB_RESP_MAX 4096 /* bytes of an answer kept: enough for its id */
#define PUB_LAT_MAX (1u << 22)

struct pub_slot {
	CURL *easy;
	int64_t sent_us;
	size_t rlen;
	char resp[PUB_RESP_MAX];
	char body[256];
};

struct pub_stats {
	uint64_t sent, accepted, shed, other, late;
	uint32_t *lat_us; /* publish round trips */
	size_t nlat;
};

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t keep_resp(char *p, size_t size, size_t n, void *arg)
{
	struct pub_slot *s = arg;
	size_t len = size * n;
	size_t room = sizeof(s->resp) - 1 - s->rlen;
	size_t take = len < room ? len : room;

	memcpy(s->resp + s->rlen, p, take);
	s->rlen += take;
	s->resp[s->rlen] = '\0';
	return len;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t pct(const uint32_t *v, size_t n, double p)
{
	size_t i;
	if (!n)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

/* record notes one finished publish; writes its id when it was accepted */
static void record(struct pub_stats *st, struct pub_slot *s, CURLcode res, long code, FILE *ids)
{
	int64_t took = wall_us() - s->sent_us;

	if (res == CURLE_OK && code == 202) {
		const char *id = strstr(s->resp, "\"id\":\"");
		st->accepted++;
		if (ids && id) {
			const char *e = strchr(id + 6, '"');
			if (e)
				fprintf(ids, "%.*s %" PRId64 "\n", (int)(e - id - 6), id + 6, s->sent_us);
		}
		if (st->nlat < PUB_LAT_MAX)
			st->lat_us[st->nlat++] = (uint32_t)(took > 0 ? took : 0);
	} else if (res == CURLE_OK && code == 503) {
		st->shed++;
	} else {
		st->other++;
		if (st->other <= 3)
			fprintf(stderr, "pub: answer %ld (%s): %.200s\n", code, curl_easy_strerror(res), s->resp);
	}
}

static void launch(CURLM *multi, struct pub_slot *s, uint64_t seq)
{
	int n;

	s->sent_us = wall_us();
	s->rlen = 0;
	s->resp[0] = '\0';
	n = snprintf(s->body, sizeof(s->body),
		     "{\"eventType\":\"bench.event\",\"payload\":{\"seq\":%" PRIu64 ",\"sentUs\":%" PRId64
		     ",\"note\":\"hookd benchmark\"}}",
		     seq, s->sent_us);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)n);
	curl_multi_add_handle(multi, s->easy);
}

int main(int argc, char **argv)
{
	const char *base = NULL, *token = NULL, *app = NULL, *ids_path = NULL;
	double rate = 0, seconds = 0;
	long conns = 32;
	uint64_t count = 0;
	struct pub_slot *slots = NULL;
	struct pub_slot *freel[PUB_MAX_CONN];
	size_t nfree = 0;
	struct pub_stats st = {0};
	struct curl_slist *hdrs = NULL;
	CURLM *multi = NULL;
	FILE *ids = NULL;
	char url[1024], auth[512];
	int64_t start, stop_at;
	int running = 0, rc = 1;
	bool bad = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-' && !base) {
			base = a;
			continue;
		}
		if (!v) {
			bad = true;
			break;
		}
		i++;
		if (strcmp(a, "--token") == 0)
			token = v;
		else if (strcmp(a, "--app") == 0)
			app = v;
		else if (strcmp(a, "--rate") == 0)
			rate = strtod(v, NULL);
		else if (strcmp(a, "--seconds") == 0)
			seconds = strtod(v, NULL);
		else if (strcmp(a, "--count") == 0)
			count = strtoull(v, NULL, 10);
		else if (strcmp(a, "--connections") == 0)
			conns = strtol(v, NULL, 10);
		else if (strcmp(a, "--ids") == 0)
			ids_path = v;
		else
			bad = true;
	}
	if (bad || !base || !token || !app || rate < 0 || conns < 1 || conns > PUB_MAX_CONN ||
	    (seconds <= 0) == (count == 0)) {
		fprintf(stderr, "usage: pub BASE_URL --token T --app APP [--rate R] [--seconds S | --count N]\n"
				"           [--connections 1..%d] [--ids FILE]\n",
			PUB_MAX_CONN);
		return 2;
	}
	snprintf(url, sizeof(url), "%s/api/v1/app/%s/msg", base, app);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	st.lat_us = malloc(PUB_LAT_MAX * sizeof(*st.lat_us));
	slots = calloc((size_t)conns, sizeof(*slots));
	multi = curl_multi_init();
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	hdrs = hdrs ? curl_slist_append(hdrs, auth) : NULL;
	hdrs = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
	if (ids_path)
		ids = fopen(ids_path, "w");
	if (!st.lat_us || !slots || !multi || !hdrs || (ids_path && !ids)) {
		fprintf(stderr, "pub: cannot start\n");
		goto out;
	}
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, conns);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
	for (long i = 0; i < conns; i++) {
		CURL *e = curl_easy_init();
		if (!e)
			goto out;
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_resp);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &slots[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, &slots[i]);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(e, CURLOPT_PROXY, "");
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
		slots[i].easy = e;
		freel[nfree++] = &slots[i];
	}

	start = wall_us();
	stop_at = seconds > 0 ? start + (int64_t)(seconds * 1e6) : INT64_MAX;
	for (;;) {
		int64_t now = wall_us(), due;
		CURLMsg *m;
		int left, wait_ms;
		bool more = count ? st.sent < count : now < stop_at;

		/* launch what is due (everything, flat out) while a connection is free */
		while (more && nfree) {
			due = rate > 0 ? start + (int64_t)((double)st.sent * 1e6 / rate) : now;
			if (due > now)
				break;
			if (rate > 0 && now - due > 1000)
				st.late++;
			launch(multi, freel[--nfree], st.sent);
			st.sent++;
			more = count ? st.sent < count : now < stop_at;
		}
		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left))) {
			struct pub_slot *s = NULL;
			long code = 0;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			record(&st, s, m->data.result, code, ids);
			curl_multi_remove_handle(multi, m->easy_handle);
			freel[nfree++] = s;
		}
		if (!more && nfree == (size_t)conns)
			break;
		wait_ms = 100;
		if (more && nfree && rate > 0) {
			due = start + (int64_t)((double)st.sent * 1e6 / rate);
			wait_ms = due > now ? (int)((due - now) / 1000) : 0;
		} else if (more && nfree) {
			wait_ms = 0;
		}
		if (wait_ms > 0 || nfree == 0 || !more)
			curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
	}
	{
		double el = (double)(wall_us() - start) / 1e6;
		qsort(st.lat_us, st.nlat, sizeof(*st.lat_us), cmp_u32);
		printf("pub: %.0f msg/s accepted=%" PRIu64 " shed503=%" PRIu64 " other=%" PRIu64 " late=%" PRIu64
		       " seconds=%.2f publish_p50_us=%u publish_p99_us=%u\n",
		       (double)st.accepted / el, st.accepted, st.shed, st.other, st.late, el,
		       pct(st.lat_us, st.nlat, 0.50), pct(st.lat_us, st.nlat, 0.99));
	}
	rc = st.accepted == st.sent ? 0 : 1;
out:
	if (ids)
		fclose(ids);
	for (long i = 0; slots && i < conns; i++)
		curl_easy_cleanup(slots[i].easy);
	curl_slist_free_all(hdrs);
	if (multi)
		curl_multi_cleanup(multi);
	free(slots);
	free(st.lat_us);
	curl_global_cleanup();
	return rc;
}
