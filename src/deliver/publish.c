/*
 * publish.c - a message and one pending delivery per matching endpoint, in
 * the caller's store write; the dispatcher hears of them after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/metrics.h"
#include "deliver/publish.h"

struct publish_after {
	struct dispatch *d;
	char id[ID_MAX], app[ID_MAX];
	char *event_type, *payload, *headers;
	size_t len;
	char (*endpoints)[ID_MAX];
	size_t n;
	int64_t deliver_at;
};

void publish_then(void *arg)
{
	struct publish_after *p = arg;
	if (p) {
		char ts[40];
		metrics_published((unsigned)p->n);
		clock_format_ms(id_time_ms(p->id), ts, sizeof(ts));
		if (bus_active())
			bus_publish("message", p->app, NULL,
				    json_pack("{s:s,s:s,s:s,s:s,s:i}", "id", p->id, "app", p->app, "eventType",
					      p->event_type, "timestamp", ts, "endpoints", (int)p->n));
	}
	if (p && p->d)
		dispatch_publish(p->d, p->id, p->app, p->event_type, p->payload, p->len, p->headers,
				 (const char (*)[ID_MAX])p->endpoints, p->n, p->deliver_at);
}

void publish_free(void *arg)
{
	struct publish_after *p = arg;
	if (!p)
		return;
	free(p->event_type);
	free(p->payload);
	free(p->headers);
	free(p->endpoints);
	free(p);
}

/* match fills ids with the endpoints the message goes to */
static int match(struct fanout *f, const struct publish_in *in, char (**ids)[ID_MAX], size_t *n)
{
	json_t *eps = NULL, *ep;
	size_t i;
	int rc = fanout_endpoints(f, in->app_id, &eps);

	*ids = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	*ids = calloc(json_array_size(eps) + 1, ID_MAX);
	if (!*ids) {
		json_decref(eps);
		return HK_ENOMEM;
	}
	json_array_foreach(eps, i, ep) {
		const char *id = json_str(ep, "id");
		bool take = in->only_endpoint ? strcmp(id, in->only_endpoint) == 0
					      : fanout_match(ep, in->event_type, in->channels);
		if (take)
			snprintf((*ids)[(*n)++], ID_MAX, "%s", id);
	}
	json_decref(eps);
	return 0;
}

static char *dup_bytes(const char *p, size_t n)
{
	char *c = malloc(n + 1);
	if (c) {
		memcpy(c, p, n);
		c[n] = '\0';
	}
	return c;
}

int publish_prepare(const struct publish_in *in, struct fanout *f, struct dispatch *d,
		    struct store_write *w, struct publish_out *out, struct publish_after **afterp)
{
	struct store_op *op = store_write_add(w, SOP_MSG_INSERT);
	struct publish_after *after = calloc(1, sizeof(*after));
	struct store_msg *m;
	int rc = HK_ENOMEM;

	*afterp = NULL;
	if (!op || !after)
		goto fail;
	m = &op->u.msg;
	id_new("msg_", m->id);
	snprintf(m->app, sizeof(m->app), "%s", in->app_id);
	m->event_id = in->event_id ? strdup(in->event_id) : NULL;
	m->event_type = strdup(in->event_type);
	m->channels = in->channels ? json_incref(in->channels) : NULL;
	m->tags = in->tags ? json_incref(in->tags) : NULL;
	m->headers = in->headers && json_object_size(in->headers) ? json_incref(in->headers) : NULL;
	m->payload = dup_bytes(in->payload, in->len);
	m->payload_len = in->len;
	m->created = clock_now_ms();
	m->expires = m->created + (int64_t)in->retention_hours * 3600 * 1000;
	m->deliver_at = in->deliver_at;
	if (!m->event_type || !m->payload)
		goto fail;
	rc = match(f, in, &m->endpoints, &m->nendpoints);
	if (rc < 0)
		goto fail;
	after->d = d;
	memcpy(after->id, m->id, sizeof(after->id));
	memcpy(after->app, m->app, sizeof(after->app));
	after->event_type = strdup(in->event_type);
	after->payload = dup_bytes(in->payload, in->len);
	after->len = in->len;
	after->deliver_at = in->deliver_at;
	after->headers = m->headers ? json_dump_compact(m->headers, NULL) : NULL;
	after->endpoints = malloc((m->nendpoints + 1) * ID_MAX);
	rc = HK_ENOMEM;
	if (!after->event_type || !after->payload || !after->endpoints || (m->headers && !after->headers))
		goto fail;
	memcpy(after->endpoints, m->endpoints, m->nendpoints * ID_MAX);
	after->n = m->nendpoints;
	memcpy(out->id, m->id, sizeof(out->id));
	out->created = m->created;
	out->nendpoints = m->nendpoints;
	*afterp = after;
	return 0;
fail:
	publish_free(after);
	return rc;
}
