/*
 * xform.c - an endpoint's transformation, run on the dispatcher's loop just
 * before a request's body is built (see docs/internals/transform.md).
 *
 * The script sees what would be sent: the stored payload, the endpoint's
 * URL, POST, and the custom headers (the message's, then the endpoint's,
 * which win on a clash). What it returns is what this attempt sends and
 * signs; the next attempt runs the script again on the stored payload, so
 * a retry after an edit of the script uses the new version.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "deliver/dispatch_int.h"

/* input_headers gathers the custom headers a delivery would carry */
static json_t *input_headers(const struct dep *dep, const struct dmsg *m)
{
	json_t *h = json_object(), *v;
	const char *name;

	for (const struct curl_slist *l = m->headers; l && h; l = l->next) {
		const char *colon = strchr(l->data, ':');
		char key[257];
		size_t n = colon ? (size_t)(colon - l->data) : 0;
		if (!n || n >= sizeof(key))
			continue;
		memcpy(key, l->data, n);
		key[n] = '\0';
		colon++;
		while (*colon == ' ')
			colon++;
		json_object_set_new(h, key, json_string(colon));
	}
	json_object_foreach(json_object_get(dep->doc, "_headers"), name, v)
		json_object_set(h, name, v);
	return h;
}

int xform_apply(struct dispatch *d, struct dreq *rq, char *err, size_t errlen)
{
	struct dep *dep = rq->dep;
	struct dmsg *m = rq->job->msg;
	json_t *headers = input_headers(dep, m), *v;
	struct transform_in in = {.event_type = m->event_type, .payload = m->payload, .len = m->len,
				  .url = dep->url, .method = "POST", .headers = headers};
	const char *name;
	int rc;

	if (!headers) {
		snprintf(err, errlen, "transformation not run: out of memory");
		return HK_ENOMEM;
	}
	rc = transform_run(d->xf, NULL, dep->xf_key, dep->xf_code, &in, &rq->xf, err, errlen);
	json_decref(headers);
	if (rc < 0) {
		log_debug("transformation of '%s' for '%s' failed: %s", m->id, dep->id, err);
		return rc;
	}
	if (rq->xf.cancel) {
		rq->canceled = true;
		return 0;
	}
	rq->transformed = true;
	json_object_foreach(rq->xf.headers, name, v) {
		char line[8192 + 300];
		struct curl_slist *n;
		snprintf(line, sizeof(line), "%s: %s", name, json_string_value(v));
		n = curl_slist_append(rq->xf_headers, line);
		if (!n) {
			snprintf(err, errlen, "transformation not applied: out of memory");
			return HK_ENOMEM;
		}
		rq->xf_headers = n;
	}
	return 0;
}
