/*
 * tail.c - `hookd tail`: follow the server's event stream (GET
 * /api/v1/stream, server-sent events) and print one line per event.
 *
 * Kinds and their data:
 *
 *     message  {"id","app","eventType","timestamp"}
 *     attempt  {"id","msgId","endpointId","app","status","responseStatusCode","timestamp"}
 *     inbound  {"id","source","eventType","verified","timestamp"}
 *
 * A dropped stream is reconnected (after the server's "retry:" wait, else
 * two seconds) with Last-Event-ID, so a restart of the server only shows as
 * a note on stderr. An answer of 4xx ends the command: a wrong token or a
 * server without the stream will not fix itself. If the very first
 * connection cannot be made, the command fails at once rather than spin.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/sse.h"
#include "cmd/term.h"
#include "core/err.h"
#include "core/json.h"

#define TAIL_RETRY_MS 2000
#define TAIL_IDLE_S 120 /* no byte at all for this long: the connection is dead */

static const struct cli_opt tail_opts[] = {
	{"app", "HOOKD_APP", NULL, "APP", CLI_VALUE, "only this application's messages and attempts"},
	{"source", NULL, NULL, "SOURCE", CLI_VALUE, "only this inbound source's events"},
	{"json", NULL, NULL, NULL, CLI_FLAG, "print {\"event\",\"data\"} as one JSON object per line"},
	{"server", "HOOKD_URL", NULL, "URL",
	 CLI_VALUE, "server address (default: the config file's, else " CLIENT_DEFAULT_SERVER ")"},
	{"token", "HOOKD_TOKEN", NULL, "TOKEN", CLI_VALUE, "API token (default: the config file's)"},
};

const struct cmd_spec cmd_tail_spec = {
	"tail", "tail", "Follow messages, delivery attempts and inbound events as they happen.",
	tail_opts, sizeof(tail_opts) / sizeof(tail_opts[0]), 0, 0,
};

struct tail {
	bool json;
	const struct term_style *st;
	struct sse_parser sse;
	long status;     /* of the current answer */
	struct buf errbody; /* a non-2xx answer's body */
	bool got_bytes;
};

static const char *attempt_status(json_int_t s)
{
	switch (s) {
	case 0:
		return "success";
	case 1:
		return "pending";
	case 2:
		return "fail";
	case 3:
		return "sending";
	default:
		return "unknown";
	}
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_str(o, key);
	return s ? s : dflt;
}

static int on_event(const char *event, const char *data, size_t len, void *arg)
{
	struct tail *t = arg;
	const struct term_style *st = t->st;
	json_t *d = NULL;

	if (json_parse_bounded(data, len, JSON_DEPTH_MAX, &d, NULL, 0) < 0)
		d = NULL;
	if (t->json) {
		json_t *o = json_pack("{s:s,s:O}", "event", event, "data", d ? d : json_stringn(data, len));
		char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (line)
			printf("%s\n", line);
		free(line);
		json_decref(o);
	} else if (!json_is_object(d)) {
		printf("%-8s %.*s\n", event, (int)len, data);
	} else {
		const char *ts = str_or(d, "timestamp", "-");
		if (strcmp(event, "message") == 0) {
			printf("%s%s%s  %smessage%s  %s  app %s  %s\n", st->dim, ts, st->reset, st->blue,
			       st->reset, str_or(d, "id", "-"), str_or(d, "app", "-"),
			       str_or(d, "eventType", "-"));
		} else if (strcmp(event, "attempt") == 0) {
			json_int_t s = json_integer_value(json_object_get(d, "status"));
			json_t *code = json_object_get(d, "responseStatusCode");
			printf("%s%s%s  %sattempt%s  %s  app %s  %s -> %s  %s%s%s", st->dim, ts, st->reset,
			       st->magenta, st->reset, str_or(d, "id", "-"), str_or(d, "app", "-"),
			       str_or(d, "msgId", "-"), str_or(d, "endpointId", "-"),
			       s == 0 ? st->green : s == 2 ? st->red : st->yellow, attempt_status(s), st->reset);
			if (json_is_integer(code))
				printf(" %" JSON_INTEGER_FORMAT, json_integer_value(code));
			putchar('\n');
		} else if (strcmp(event, "inbound") == 0) {
			json_t *ver = json_object_get(d, "verified");
			printf("%s%s%s  %sinbound%s  %s  source %s  %s  %s%s%s\n", st->dim, ts, st->reset,
			       st->cyan, st->reset, str_or(d, "id", "-"), str_or(d, "source", "-"),
			       str_or(d, "eventType", "-"),
			       json_is_true(ver) ? st->green : json_is_false(ver) ? st->red : "",
			       json_is_true(ver) ? "verified" : json_is_false(ver) ? "unverified" : "-",
			       st->reset);
		} else {
			char *s = json_dumps(d, JSON_COMPACT);
			printf("%s%s%s  %s  %s\n", st->dim, ts, st->reset, event, s ? s : "");
			free(s);
		}
	}
	fflush(stdout);
	json_decref(d);
	return 0;
}

static size_t on_bytes(char *p, size_t size, size_t n, void *arg)
{
	struct tail *t = arg;
	size_t len = size * n;

	t->got_bytes = true;
	if (t->status < 200 || t->status > 299) {
		buf_append(&t->errbody, p, len); /* kept up to its cap, for the message */
		return len;
	}
	return sse_feed(&t->sse, p, len) < 0 ? 0 : len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct tail *t = arg;
	int code;

	/* a status line starts each answer (and each interim 1xx) */
	if (size * n > 12 && strncmp(p, "HTTP/", 5) == 0 && sscanf(p, "HTTP/%*s %d", &code) == 1)
		t->status = code;
	return size * n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* stream_once holds one connection; returns curl's result, t->status tells the answer */
static CURLcode stream_once(struct tail *t, const struct client_conf *conf, const char *url,
			    char *cerr)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char auth[CLIENT_TOKEN_MAX + 32], last[300];
	CURLcode cc;

	if (!c)
		return CURLE_OUT_OF_MEMORY;
	hdrs = curl_slist_append(hdrs, "Accept: text/event-stream");
	if (conf->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", conf->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (t->sse.last_id[0]) {
		snprintf(last, sizeof(last), "Last-Event-ID: %s", t->sse.last_id);
		hdrs = curl_slist_append(hdrs, last);
	}
	t->status = 0;
	t->got_bytes = false;
	buf_reset(&t->errbody);
	sse_reset(&t->sse);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hookd-cli");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_bytes);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)TAIL_IDLE_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cerr[0] = '\0';
	cc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return cc;
}

static int build_url(const struct cli_vals *v, const struct client_conf *conf, struct buf *url)
{
	const char *app = cli_get(v, "app"), *source = cli_get(v, "source");
	char *e;
	int rc = buf_printf(url, "%s/api/v1/stream", conf->server);
	char sep = '?';

	if (rc == 0 && app) {
		e = client_escape(app);
		rc = e ? buf_printf(url, "%capp=%s", sep, e) : HK_ENOMEM;
		free(e);
		sep = '&';
	}
	if (rc == 0 && source) {
		e = client_escape(source);
		rc = e ? buf_printf(url, "%csource=%s", sep, e) : HK_ENOMEM;
		free(e);
	}
	return rc;
}

int cmd_tail(int argc, char **argv)
{
	struct cli_vals v;
	struct client_conf conf;
	struct tail t = {0};
	struct buf url;
	char cerr[CURL_ERROR_SIZE];
	bool connected = false;
	int code;

	code = cmd_args(&cmd_tail_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	code = cmd_client(&cmd_tail_spec, &v, &conf);
	if (code >= 0)
		return code;
	t.json = cli_flag(&v, "json");
	t.st = term_style_get(!t.json && term_colour(stdout));
	sse_init(&t.sse, on_event, &t);
	buf_init(&t.errbody, 4096);
	buf_init(&url, CLIENT_URL_MAX * 2);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (build_url(&v, &conf, &url) < 0) {
		code = cmd_fail(&cmd_tail_spec, "out of memory");
		goto out;
	}
	for (;;) {
		CURLcode cc = stream_once(&t, &conf, buf_cstr(&url), cerr);
		long wait = t.sse.retry_ms ? t.sse.retry_ms : TAIL_RETRY_MS;

		if (t.status >= 400 && t.status < 500) {
			char detail[400];
			snprintf(detail, sizeof(detail), "%.*s", (int)t.errbody.len, buf_cstr(&t.errbody));
			detail[strcspn(detail, "\r\n")] = '\0';
			code = cmd_fail(&cmd_tail_spec, "server answered %ld%s%s", t.status,
					detail[0] ? ": " : "", detail);
			goto out;
		}
		if (t.status >= 200 && t.status < 300)
			connected = true;
		if (!connected) {
			code = cmd_fail(&cmd_tail_spec, "cannot follow '%s': %s", conf.server,
					cc != CURLE_OK ? (cerr[0] ? cerr : curl_easy_strerror(cc))
						       : "the server answered with an error");
			goto out;
		}
		fprintf(stderr, "hookd tail: stream ended (%s), reconnecting\n",
			cc != CURLE_OK ? (cerr[0] ? cerr : curl_easy_strerror(cc)) : "closed by the server");
		sleep_ms(wait);
	}
out:
	curl_global_cleanup();
	buf_release(&url);
	buf_release(&t.errbody);
	sse_release(&t.sse);
	return code;
}
