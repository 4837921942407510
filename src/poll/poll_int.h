/*
 * poll_int.h - what the poller's files share: the source and fetch structs.
 * Everything here is touched only by the poller thread.
 */
#ifndef HK_POLL_INT_H
#define HK_POLL_INT_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/buf.h"
#include "deliver/retry.h"
#include "poll/poll.h"
#include "poll/rule.h"

/* one request of a poll (a poll is one to max_pages requests) */
struct pfetch {
	CURL *easy;
	struct curl_slist *hdrs;
	struct buf body;
	char *url;                /* owned: this page's URL */
	int page;                 /* 1-based */
	json_t *items;            /* items kind: items gathered from earlier pages */
	json_t *value;            /* document kind: the value watched */
	char etag[512];           /* of the first page */
	char last_modified[128];  /* of the first page */
	/* this response's headers */
	char h_etag[512], h_last_modified[128], h_retry_after[RETRY_AFTER_MAX_LEN + 1];
	char h_next[4096];
	bool denied;              /* the SSRF guard refused the address */
	bool too_big;             /* the body passed its cap */
	char errbuf[CURL_ERROR_SIZE];
	void *sock_arg;           /* owned: what the connect-time check needs */
};

struct psrc {
	struct psrc *next;
	char id[ID_MAX];
	json_t *doc;              /* the poll document */
	json_t *state;            /* the poll_state body */
	bool state_stored;        /* a poll_state document exists (update, not insert) */
	char config_hash[65];     /* of what decides the baseline: url, method, body, rule */
	struct poll_rule rule;
	bool rule_ok;
	int64_t interval_ms;
	int64_t due;              /* wall clock ms of the next poll */
	bool stale;               /* the document changed while a poll was in flight */
	bool removed;             /* the document is gone; free once the poll ends */
	struct pfetch *f;         /* non-NULL while a poll is in flight */
};

struct poller {
	struct poller_config cfg;
	pthread_t thread;
	CURLM *multi;
	atomic_uint_fast64_t gen; /* bumped by poller_invalidate */
	uint64_t loaded_gen;
	int64_t loaded_at;        /* wall clock ms of the last reload */
	atomic_bool stopping;
	struct psrc *sources;
};

/* ---- fetch.c ---- */
/* fetch_begin starts page 1 of a poll of s (s->f must be NULL) */
int fetch_begin(struct poller *p, struct psrc *s);
/* fetch_page starts the next page at url (resolved already) on s->f */
int fetch_page(struct poller *p, struct psrc *s, const char *url);
/* fetch_end removes and frees s->f */
void fetch_end(struct poller *p, struct psrc *s);
/*
 * fetch_next_url resolves a Link rel="next" target against base and checks
 * that it stays on the same scheme, host and port (the source's headers,
 * often credentials, are sent with it). Returns a malloc'd URL or NULL.
 */
char *fetch_next_url(const char *base, const char *next);

/* ---- apply.c ---- */
/* poll_config_hash hashes what decides a baseline */
void poll_config_hash(const json_t *doc, char out[65]);
/* apply_answer diffs a complete answer and publishes; 0 or an error with a reason in err */
int apply_answer(struct poller *p, struct psrc *s, char *err, size_t errlen);
/* state_save writes s->state (insert or update) */
int state_save(struct poller *p, struct psrc *s);

#endif
