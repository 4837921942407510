/*
 * fetch.c - one page of a poll as a libcurl easy handle on the poller's
 * multi handle.
 *
 * The same safety as deliveries (src/deliver/request.c): the resolved
 * address is checked at connect time against the operator's policy
 * (CURLOPT_OPENSOCKETFUNCTION, so DNS rebinding does not get through), no
 * redirects, no proxies from the environment, only http and https, a
 * whole-request timeout, and a hard cap on the body kept. A Link
 * rel="next" target is followed only on the source's own origin, because
 * the source's headers (usually credentials) go with every page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "deliver/addr.h"
#include "poll/poll_int.h"

/* ---- callbacks ---- */

static size_t write_cb(char *ptr, size_t size, size_t n, void *arg)
{
	struct pfetch *f = arg;
	size_t len = size * n;

	if (buf_append(&f->body, ptr, len) < 0) {
		f->too_big = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return len;
}

/* header_value copies a header's value (trimmed) if the line is that header */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *v;
	size_t vlen;

	if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return false;
	v = line + nl + 1;
	vlen = len - nl - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= cap)
		return true; /* too long to be honest: ignored */
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return true;
}

static size_t header_cb(char *ptr, size_t size, size_t n, void *arg)
{
	struct pfetch *f = arg;
	size_t len = size * n;
	char link[8192];

	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		/* a new response (after a 100 Continue): forget the last one's headers */
		f->h_etag[0] = f->h_last_modified[0] = f->h_retry_after[0] = f->h_next[0] = '\0';
		return len;
	}
	if (header_value(ptr, len, "etag", f->h_etag, sizeof(f->h_etag)) ||
	    header_value(ptr, len, "last-modified", f->h_last_modified, sizeof(f->h_last_modified)) ||
	    header_value(ptr, len, "retry-after", f->h_retry_after, sizeof(f->h_retry_after)))
		return len;
	link[0] = '\0';
	if (header_value(ptr, len, "link", link, sizeof(link)) && link[0] && !f->h_next[0])
		poll_link_next(link, f->h_next, sizeof(f->h_next));
	return len;
}

/* the socket callback needs the poller and the fetch; both ride in this pair */
struct sock_arg {
	struct poller *p;
	struct pfetch *f;
};

static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct sock_arg *sa = arg;
	(void)purpose;
	if (addr_policy_check(&sa->p->cfg.policy, &a->addr) < 0) {
		sa->f->denied = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- requests ---- */

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	char line[8192];
	struct curl_slist *n;

	if ((size_t)snprintf(line, sizeof(line), "%s: %s", name, value) >= sizeof(line))
		return HK_ETOOBIG;
	n = curl_slist_append(*list, line);
	if (!n)
		return HK_ENOMEM;
	*list = n;
	return 0;
}

static int build_headers(struct psrc *s, struct pfetch *f, bool conditional)
{
	json_t *hdrs = json_object_get(s->doc, "_headers"), *v;
	const char *name;
	int rc = add_header(&f->hdrs, "Accept", "application/json");

	json_object_foreach(hdrs, name, v) {
		if (rc == 0 && json_is_string(v))
			rc = add_header(&f->hdrs, name, json_string_value(v));
	}
	if (rc == 0 && conditional && json_str(s->state, "etag"))
		rc = add_header(&f->hdrs, "If-None-Match", json_str(s->state, "etag"));
	if (rc == 0 && conditional && json_str(s->state, "lastModified"))
		rc = add_header(&f->hdrs, "If-Modified-Since", json_str(s->state, "lastModified"));
	if (rc == 0 && json_object_get(s->doc, "body")) {
		rc = add_header(&f->hdrs, "Content-Type", "application/json");
		if (rc == 0) {
			struct curl_slist *n = curl_slist_append(f->hdrs, "Expect:");
			if (n)
				f->hdrs = n;
		}
	}
	return rc;
}

/* start_easy makes and queues the handle for f->url */
static int start_easy(struct poller *p, struct psrc *s, struct pfetch *f)
{
	struct sock_arg *sa;
	const char *method = json_str(s->doc, "method");
	json_t *body = json_object_get(s->doc, "body");
	CURL *e;
	int rc = build_headers(s, f, f->page == 1);

	if (rc < 0)
		return rc;
	e = curl_easy_init();
	sa = calloc(1, sizeof(*sa));
	if (!e || !sa) {
		if (e)
			curl_easy_cleanup(e);
		free(sa);
		return HK_ENOMEM;
	}
	sa->p = p;
	sa->f = f;
	f->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, f->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, p->cfg.user_agent);
	if (method && strcmp(method, "POST") == 0) {
		char *text = body ? json_dump_compact(body, NULL) : NULL;
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, text ? text : "");
		free(text);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	addr_curl_guard(e, (long)p->cfg.timeout_ms);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* the cap applies to the decoded body */
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_checked);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, sa);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
	f->errbuf[0] = '\0';
	if (curl_multi_add_handle(p->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		f->easy = NULL;
		free(sa);
		return HK_EIO;
	}
	f->sock_arg = sa;
	return 0;
}

/* fetch_reset ends the current page's handle, keeping what the poll gathered */
static void fetch_reset(struct poller *p, struct pfetch *f)
{
	if (f->easy) {
		curl_multi_remove_handle(p->multi, f->easy);
		curl_easy_cleanup(f->easy);
		f->easy = NULL;
	}
	free(f->sock_arg);
	f->sock_arg = NULL;
	curl_slist_free_all(f->hdrs);
	f->hdrs = NULL;
	buf_reset(&f->body);
	free(f->url);
	f->url = NULL;
	f->denied = f->too_big = false;
	f->h_etag[0] = f->h_last_modified[0] = f->h_retry_after[0] = f->h_next[0] = '\0';
}

int fetch_begin(struct poller *p, struct psrc *s)
{
	struct pfetch *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return HK_ENOMEM;
	buf_init(&f->body, p->cfg.body_max + 1);
	f->url = strdup(json_str(s->doc, "url"));
	f->page = 1;
	s->f = f;
	rc = f->url ? start_easy(p, s, f) : HK_ENOMEM;
	if (rc < 0)
		fetch_end(p, s);
	return rc;
}

int fetch_page(struct poller *p, struct psrc *s, const char *url)
{
	struct pfetch *f = s->f;
	int page = f->page + 1;

	fetch_reset(p, f);
	f->page = page;
	f->url = strdup(url);
	if (!f->url)
		return HK_ENOMEM;
	return start_easy(p, s, f);
}

void fetch_end(struct poller *p, struct psrc *s)
{
	struct pfetch *f = s->f;

	if (!f)
		return;
	fetch_reset(p, f);
	buf_release(&f->body);
	json_decref(f->items);
	json_decref(f->value);
	free(f);
	s->f = NULL;
}

char *fetch_next_url(const char *base, const char *next)
{
	CURLU *b = curl_url(), *u = curl_url();
	char *out = NULL, *bs = NULL, *bh = NULL, *bp = NULL, *us = NULL, *uh = NULL, *up = NULL;

	if (!b || !u || curl_url_set(b, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, next, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(b, CURLUPART_SCHEME, &bs, 0) != CURLUE_OK ||
	    curl_url_get(b, CURLUPART_HOST, &bh, 0) != CURLUE_OK ||
	    curl_url_get(b, CURLUPART_PORT, &bp, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &us, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &uh, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &up, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (strcasecmp(bs, us) != 0 || strcasecmp(bh, uh) != 0 || strcmp(bp, up) != 0)
		goto out;
	curl_url_get(u, CURLUPART_URL, &out, 0);
out:
	curl_free(bs);
	curl_free(bh);
	curl_free(bp);
	curl_free(us);
	curl_free(uh);
	curl_free(up);
	curl_url_cleanup(b);
	curl_url_cleanup(u);
	if (out) {
		char *copy = strdup(out);
		curl_free(out);
		return copy;
	}
	return NULL;
}
