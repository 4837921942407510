/*
 * dispatch_int.h - structures shared by dispatch.c (jobs, endpoints,
 * scheduling) and request.c (libcurl on libuv). Private to src/deliver/.
 */
#ifndef HK_DISPATCH_INT_H
#define HK_DISPATCH_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "core/buf.h"
#include "core/heap.h"
#include "core/map.h"
#include "deliver/breaker.h"
#include "deliver/bucket.h"
#include "deliver/dispatch.h"
#include "deliver/health.h"
#include "sign/sign.h"
#include "transform/transform.h"

/* a message's bytes, shared by its deliveries */
struct dmsg {
	atomic_int refs;
	char id[ID_MAX];
	char app[ID_MAX];
	char *event_type;
	char *payload; /* NULL once expunged */
	size_t len;
	struct curl_slist *headers; /* extra headers ("Name: value"), or NULL */
};

struct djob {
	struct djob *next; /* in the incoming queue or an endpoint's wait list */
	struct dmsg *msg;
	char endpoint[ID_MAX];
	int attempts;      /* made so far */
	int trigger;
	int64_t due;       /* heap key */
	size_t heap_pos;
};

/*
 * An endpoint's header lines: its custom headers ("Name: value"), then
 * "Expect:". Each request links its own lines to these, so a request in
 * flight holds a reference while a reload of the endpoint makes a new list.
 * Loop thread only.
 */
struct dhdrs {
	int refs;
	struct curl_slist *list;
};

/* an endpoint as the loop knows it: configuration snapshot and limits */
struct dep {
	struct dispatch *d;
	char id[ID_MAX];
	char app[ID_MAX];
	uint_fast64_t gen;      /* configuration generation loaded */
	bool gone, disabled;
	json_t *doc;            /* the endpoint document */
	const char *url;        /* inside doc */
	const char *secrets[12];
	int nsecrets;
	struct dhdrs *headers;  /* custom headers, then "Expect:"; requests in flight share it */
	const char *xf_code;    /* the enabled transformation (inside doc), or NULL */
	char xf_key[ID_MAX + 24]; /* "<endpoint id>#<version>": its cache key */
	int format;
	bool svix_headers, accept_3xx;
	int max_inflight;
	struct bucket bucket;
	struct breaker breaker;
	int inflight;
	struct djob *wait_head, *wait_tail;
	size_t nwait;
	uv_timer_t pump;        /* wakes the endpoint when a throttle or circuit wait ends */
	bool pump_armed;
	/* shared throttle (cfg.want_tokens): tokens granted to this node, until when, asked yet */
	int granted;
	int64_t grant_until;
	bool asking;
};

/* a grant of shared tokens on its way to the loop */
struct dgrant {
	struct dgrant *next;
	char endpoint[ID_MAX];
	int n;
	int64_t valid_ms;
};

/* the headers every request starts with, in struct dreq: no allocation per request */
enum { HDR_TYPE, HDR_AGENT, HDR_ID, HDR_TIMESTAMP, HDR_SIGNATURE, HDR__COUNT };

struct dreq {
	CURL *easy;
	struct djob *job;
	struct dep *dep;
	struct curl_slist *hdrs;        /* &hnodes[0]: the list libcurl sends */
	struct curl_slist hnodes[HDR__COUNT];
	struct curl_slist *hcopy;       /* owned: links to the message's extra headers */
	struct dhdrs *ep_headers;       /* the endpoint's lines this request links to */
	char h_id[ID_MAX + 16], h_ts[40], h_sig[SIGN_SIG_MAX * 12 + 48];
	struct buf resp;
	char retry_after[80];
	char *body;             /* owned when the format rewrote the payload */
	char *url;              /* owned when the format rewrote the URL */
	char attempt_id[ID_MAX];
	int64_t start_us;
	int last_code;          /* the HTTP status this attempt got (0: none) */
	struct transform_out xf;        /* what the transformation made of the job */
	struct curl_slist *xf_headers;  /* its headers, replacing the message's and endpoint's */
	bool transformed, canceled;
	bool denied;
	bool easy_dirty;        /* set options a plain request does not: reset before reuse */
	char errbuf[CURL_ERROR_SIZE];
};

struct dispatch {
	struct dispatch_config cfg;
	pthread_t thread;
	uv_loop_t loop;
	uv_async_t wake;
	uv_timer_t retry_timer;
	uv_timer_t curl_timer;
	CURLM *multi;
	CURL *easy_pool[256];      /* finished handles, set up for a plain request (request.c) */
	int neasy;
	char ua_line[160];         /* "User-Agent: ..." */
	struct sock_ctx **socks;   /* by descriptor: watches of sockets hookd opened (request.c) */
	size_t nsocks;
	bool stopping;

	pthread_mutex_t mu;        /* guards incoming and grants */
	struct djob *in_head, *in_tail;
	size_t nin;
	struct dgrant *grants;
	atomic_int nodes;          /* live nodes sharing in-flight caps (1 alone) */

	struct heap retries;       /* jobs waiting for their due time */
	struct health health;      /* what the API shows of each endpoint */
	struct map deps;           /* endpoint id -> struct dep */
	struct transform_cache *xf; /* compiled transformations, loop thread only */
	atomic_uint_fast64_t gen;  /* endpoint configuration generation */

	atomic_uint_fast64_t attempts, succeeded, failed, retried;
	atomic_int_fast64_t circuit[3];   /* endpoints by breaker state */
	atomic_int_fast64_t disabled;     /* endpoints seen disabled */
	atomic_int_fast64_t inflight, queued, scheduled;
	atomic_int_fast64_t waiting;   /* jobs in endpoints' wait lists (loop side adds and takes) */
};

/* dhdrs_release drops one reference to an endpoint's header lines (NULL is fine) */
void dhdrs_release(struct dhdrs *h);

/* request.c */
int req_multi_init(struct dispatch *d);
void req_multi_release(struct dispatch *d);
/* req_start sends job to dep's URL; on a setup failure it reports through req_finished */
void req_start(struct dispatch *d, struct dep *dep, struct djob *job);
/* req_free releases a finished request (not its job) */
void req_free(struct dreq *rq);

/*
 * xform.c: xform_apply runs the endpoint's transformation on rq's job
 * (before its body is built), filling rq->xf and setting rq->transformed,
 * or rq->canceled; 0, or a negative code with the reason in err.
 */
int xform_apply(struct dispatch *d, struct dreq *rq, char *err, size_t errlen);

/* dispatch.c: request.c reports a finished request here (code 0: no answer) */
void dispatch_finished(struct dispatch *d, struct dreq *rq, int code, const char *error);

void dmsg_unref(struct dmsg *m);

#endif
