/*
 * blast.c - the fastest a libcurl sender goes on this machine: N easy
 * handles on one multi handle, each re-added as soon as its POST completes,
 * for T seconds; prints requests per second.
 *
 * It is the ceiling hookd's delivery engine is compared with: hookd sends
 * through libcurl's multi interface too, so whatever hookd spends above this
 * is hookd's own work (signing, bookkeeping, recording attempts). To stay a
 * ceiling it does nothing per request but what libcurl needs: the handles and
 * their header lists are made once and reused, so connections stay open.
 *
 * Usage: blast URL [--connections N] [--seconds T]
 * Output: one line "blast: R requests/s (N requests, E errors, C connections, T s)".
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLAST_MAX_CONN 1024

static const char body[] = "{\"eventType\":\"bench.blast\",\"payload\":{\"n\":1,\"s\":\"hello\"}}";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *easy_new(const char *url, struct curl_slist *hdrs)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(sizeof(body) - 1));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	return e;
}

int main(int argc, char **argv)
{
	const char *url = NULL;
	long conns = 32;
	double seconds = 10, start, end, elapsed;
	CURL *easy[BLAST_MAX_CONN] = {0};
	CURLM *multi = NULL;
	struct curl_slist *hdrs = NULL;
	unsigned long long done = 0, errors = 0;
	int running = 0, rc = 1, bad = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
			conns = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (!url && argv[i][0] != '-')
			url = argv[i];
		else
			bad = 1;
	}
	if (bad || !url || conns < 1 || conns > BLAST_MAX_CONN || seconds <= 0) {
		fprintf(stderr, "usage: blast URL [--connections 1..%d] [--seconds T]\n", BLAST_MAX_CONN);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (!multi || !hdrs)
		goto out;
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, conns);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
	for (long i = 0; i < conns; i++) {
		easy[i] = easy_new(url, hdrs);
		if (!easy[i] || curl_multi_add_handle(multi, easy[i]) != CURLM_OK)
			goto out;
	}
	start = now_s();
	end = start + seconds;
	for (;;) {
		CURLMsg *m;
		int left;

		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left))) {
			long code = 0;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			if (m->data.result == CURLE_OK && code >= 200 && code < 300)
				done++;
			else
				errors++;
			curl_multi_remove_handle(multi, m->easy_handle);
			if (now_s() < end)
				curl_multi_add_handle(multi, m->easy_handle);
		}
		if (!running && now_s() >= end)
			break;
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	elapsed = now_s() - start;
	printf("blast: %.0f requests/s (%llu requests, %llu errors, %ld connections, %.1f s)\n",
	       (double)done / elapsed, done, errors, conns, elapsed);
	rc = errors ? 1 : 0;
out:
	for (long i = 0; i < conns; i++) {
		if (easy[i]) {
			curl_multi_remove_handle(multi, easy[i]);
			curl_easy_cleanup(easy[i]);
		}
	}
	curl_slist_free_all(hdrs);
	if (multi)
		curl_multi_cleanup(multi);
	curl_global_cleanup();
	return rc;
}
