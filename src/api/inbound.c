/*
 * inbound.c - POST|GET /in/{source}: where providers send their webhooks.
 *
 * The order is the contract: size limit (413, before anything is read
 * into memory past the cap), signature (401, counted, never stored),
 * provider challenge (answered, not stored), duplicate (200 with the first
 * event's id), then the raw request is journaled through the group-commit
 * writer and only after that commit does the provider get its 200; routing
 * happens afterwards on the router thread. A full writer queue answers 503
 * with Retry-After rather than accept what it could not store.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "deliver/fanout.h"
#include "inbound/provider.h"
#include "inbound/router.h"

#define INBOUND_REASON_MAX 160

static const char *req_header(void *ctx, const char *name)
{
	return http_header(ctx, name);
}

/* the journal keeps every header except credentials, which it redacts */
static const char *const secret_headers[] = {"Authorization", "Proxy-Authorization", "Cookie",
					     "X-Gitlab-Token", "X-Api-Key", NULL};

/* count adds to a source's rejected or duplicate counter, without waiting */
static void count(struct api_req *r, const char *source, int rejected, int duplicates)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = w ? store_write_add(w, SOP_SOURCE_COUNT) : NULL;

	if (op) {
		snprintf(op->u.count.source, sizeof(op->u.count.source), "%s", source);
		op->u.count.rejected = rejected;
		op->u.count.duplicates = duplicates;
		if (store_submit(r->store, w) == 0)
			return;
	}
	store_write_free(w);
}

static void answer_duplicate(struct api_req *r, const char *source, const char *event)
{
	metrics_inbound(source, VERDICT_DUPLICATE);
	count(r, source, 0, 1);
	api_json(r, 200, json_pack("{s:s,s:b}", "id", event, "duplicate", 1));
}

struct journal_ctx {
	struct api_req *r;
	char id[ID_MAX], source[ID_MAX];
	char *dedupe_key;
	char *event_type;
	bool verified;
	bool route;     /* the source has routes: hand the event to the router */
};

static void journal_done(struct store_write *w, int rc, void *arg)
{
	struct journal_ctx *c = arg;
	char first[ID_MAX];
	(void)w;

	if (rc == 0) {
		metrics_inbound(c->source, VERDICT_ACCEPTED);
		if (c->route)
			router_route(api_router(c->r), c->id, false);
		if (bus_active()) {
			char ts[40];
			clock_format_ms(clock_now_ms(), ts, sizeof(ts));
			bus_publish("inbound", NULL, c->source,
				    json_pack("{s:s,s:s,s:s?,s:b,s:s}", "id", c->id, "source", c->source,
					      "eventType", c->event_type, "verified", c->verified, "timestamp", ts));
		}
		api_json(c->r, 200, json_pack("{s:s}", "id", c->id));
	} else if (rc == HK_ECONFLICT &&
		   store_inbound_dedupe_get(c->r->store, c->source, c->dedupe_key, first) == 0) {
		answer_duplicate(c->r, c->source, first);
	} else {
		api_fail(c->r, rc, "event");
	}
	free(c->dedupe_key);
	free(c->event_type);
	free(c);
}

/*
 * full_url is what the sender signed for URL-signing providers (Twilio): the
 * source's publicUrl (behind a proxy), else the address as hookd was called,
 * https when hookd itself serves TLS
 */
static char *full_url(struct api_req *r, const json_t *src)
{
	const char *pub = json_str(src, "publicUrl"), *q = strchr(r->http->raw_uri, '?');
	const char *host = http_header(r->http, "Host");
	struct buf b;

	buf_init(&b, 70000);
	if (pub)
		buf_printf(&b, "%s%s", pub, q ? q : "");
	else
		buf_printf(&b, "%s://%s%s", http_is_tls(r->http) ? "https" : "http", host ? host : "localhost",
			   r->http->raw_uri);
	return buf_detach(&b, NULL);
}

static int journal(struct api_req *r, const json_t *src, const struct provider *p,
		   const struct provider_cfg *pc, const struct provider_req *pr, const char *dedupe_key,
		   const char *reason)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = w ? store_write_add(w, SOP_INBOUND_INSERT) : NULL;
	struct journal_ctx *c = calloc(1, sizeof(*c));
	struct store_inbound *in;
	const char *q = strchr(r->http->raw_uri, '?');
	char type[256], first[ID_MAX];
	int rc = HK_ENOMEM;

	if (!op || !c)
		goto fail;
	in = &op->u.in;
	id_new("evt_", in->id);
	snprintf(in->source, sizeof(in->source), "%s", json_str(src, "id"));
	snprintf(in->method, sizeof(in->method), "%s", r->http->method);
	in->dedupe_key = strdup(dedupe_key);
	in->path = strdup(r->http->path);
	in->query = strdup(q ? q + 1 : "");
	in->headers = http_headers_json(r->http, secret_headers);
	in->remote = strdup(r->http->remote_addr);
	in->reason = reason ? strdup(reason) : NULL;
	in->event_type = provider_event_type(p, pc, pr, type, sizeof(type)) == 0 ? strdup(type) : NULL;
	in->body = malloc(r->http->body.len + 1);
	if (!in->dedupe_key || !in->path || !in->query || !in->headers || !in->remote || !in->body)
		goto fail;
	memcpy(in->body, buf_cstr(&r->http->body), r->http->body.len);
	in->body_len = r->http->body.len;
	in->verified = reason == NULL;
	/* a source without routes has nothing to do after the journal */
	c->route = json_array_size(json_object_get(src, "routes")) > 0;
	in->status = c->route ? INBOUND_RECEIVED : INBOUND_ROUTED;
	in->created = clock_now_ms();
	in->dedupe_expires = in->created + json_integer_value(json_object_get(src, "dedupeWindowSeconds")) * 1000;
	c->r = r;
	memcpy(c->id, in->id, sizeof(c->id));
	memcpy(c->source, in->source, sizeof(c->source));
	c->dedupe_key = strdup(dedupe_key);
	c->event_type = in->event_type ? strdup(in->event_type) : NULL;
	c->verified = in->verified;
	if (!c->dedupe_key)
		goto fail;
	w->done = journal_done;
	w->arg = c;
	http_suspend(r->http);
	rc = store_submit(r->store, w);
	if (rc == 0)
		return 0;
	w->done = NULL;
	store_write_free(w);
	/* a full queue refuses new events, not duplicates: those are answered as ever */
	if (rc == HK_EFULL && store_inbound_dedupe_get(r->store, c->source, c->dedupe_key, first) == 0)
		answer_duplicate(r, c->source, first);
	else
		api_fail(r, rc, "event");
	free(c->dedupe_key);
	free(c->event_type);
	free(c);
	return rc;
fail:
	store_write_free(w);
	if (c) {
		free(c->dedupe_key);
		free(c->event_type);
	}
	free(c);
	api_fail(r, rc, "event");
	return rc;
}

static void receive(struct api_req *r)
{
	json_t *src = NULL, *answer = NULL, *secrets;
	const struct provider *p;
	const char *list[16];
	struct provider_cfg pc = {0};
	struct provider_req pr = {0};
	char reason[INBOUND_REASON_MAX] = "", key[512], *url = NULL;
	size_t n = 0, i;
	json_t *s;

	if (fanout_doc_shared(api_fanout(r), "source", api_param(r, "source"), &src) < 0 ||
	    json_is_true(json_object_get(src, "disabled"))) {
		api_error(r, 404, "not_found", "no such source");
		goto out;
	}
	if (json_is_true(json_object_get(src, "requireClientCert"))) {
		const char *why;
		if (!http_client_cert_ok(r->http, &why)) {
			metrics_inbound(json_str(src, "id"), VERDICT_REJECTED);
			count(r, json_str(src, "id"), 1, 0);
			api_error(r, 403, "client_certificate_required", "%s", why);
			goto out;
		}
	}
	p = provider_find(json_str(src, "provider"));
	if (!p) {
		api_error(r, 500, "internal", "the source's provider is unknown");
		goto out;
	}
	secrets = json_object_get(src, "_secrets");
	json_array_foreach(secrets, i, s) {
		if (n < 16)
			list[n++] = json_string_value(s);
	}
	pc.secrets = list;
	pc.nsecrets = n;
	pc.tolerance_seconds = (int)json_integer_value(json_object_get(src, "toleranceSeconds"));
	pc.config = json_object_get(src, "config");
	url = full_url(r, src);
	pr.method = r->http->method;
	pr.url = url;
	pr.header = req_header;
	pr.hctx = r->http;
	pr.body = (const unsigned char *)buf_cstr(&r->http->body);
	pr.body_len = r->http->body.len;
	pr.content_type = http_header(r->http, "Content-Type");
	pr.now = clock_now_ms() / 1000;

	if (provider_verify(p, &pc, &pr, reason, sizeof(reason)) < 0) {
		metrics_inbound(json_str(src, "id"), VERDICT_REJECTED);
		count(r, json_str(src, "id"), 1, 0);
		log_info("inbound '%s' rejected: %s", json_str(src, "id"), reason);
		api_error(r, 401, "verification_failed", "%s", reason[0] ? reason : "signature verification failed");
		goto out;
	}
	if (provider_challenge(p, &pc, &pr, &answer) == 0) {
		api_json(r, 200, answer);
		goto out;
	}
	if (provider_dedupe_key(p, &pc, &pr, key, sizeof(key)) < 0) {
		char hex[65];
		sha256_hex(pr.body, pr.body_len, hex);
		snprintf(key, sizeof(key), "sha256:%s", hex);
	}
	/* no read for duplicates here: the journal's claim on the key finds them in the same commit */
	journal(r, src, p, &pc, &pr, key, strcmp(p->name, "none") == 0 ? "unverified" : NULL);
out:
	free(url);
	json_decref(src);
}

const struct api_route api_inbound_routes[] = {
	{{"POST", "/in/{source}"}, receive, RF_PUBLIC | RF_RAW},
	{{"GET", "/in/{source}"}, receive, RF_PUBLIC | RF_RAW},
	{{"PUT", "/in/{source}"}, receive, RF_PUBLIC | RF_RAW},
};
const size_t api_inbound_nroutes = sizeof(api_inbound_routes) / sizeof(api_inbound_routes[0]);
