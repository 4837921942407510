/*
 * listen.c - `hookd listen`: a local webhook receiver for development.
 *
 * Every request that arrives is checked (Standard Webhooks with --secret, or
 * a provider's scheme with --provider), printed, answered with --status,
 * and optionally forwarded to a local URL whose answer is printed too.
 *
 * Requests run on the HTTP server's threads; one mutex keeps each request's
 * lines together on stdout, so concurrent deliveries never interleave. In
 * --json mode stdout carries only one JSON object per request, flushed at
 * once, and the banner goes to stderr, so the output can be piped into jq or
 * read line by line by a program.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/cmd.h"
#include "cmd/term.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "http/server.h"
#include "inbound/provider.h"
#include "sign/sign.h"

#define LISTEN_BODY_MAX (16u << 20)
#define LISTEN_SHOW_MAX (64u << 10)   /* longest non-JSON body printed for people */
#define LISTEN_FORWARD_MAX (64u << 10) /* longest forwarded answer kept */

static const struct cli_opt listen_opts[] = {
	{"port", "HOOKD_LISTEN_PORT", "9000", "N", CLI_VALUE, "port to listen on (0 picks a free one)"},
	{"host", NULL, "127.0.0.1", "ADDR", CLI_VALUE,
	 "address to listen on; 0.0.0.0 opens it to the network"},
	{"secret", "HOOKD_SECRET", NULL, "SECRET", CLI_VALUE,
	 "verify signatures: whsec_... (Standard Webhooks), or the provider's secret with --provider"},
	{"provider", NULL, NULL, "NAME", CLI_VALUE,
	 "verify and name events as this provider (github, stripe, slack, ...)"},
	{"forward", NULL, NULL, "URL", CLI_VALUE, "also send each request to this URL and print its answer"},
	{"status", NULL, "200", "N", CLI_VALUE, "HTTP status to answer with"},
	{"json", NULL, NULL, NULL, CLI_FLAG, "print one JSON object per request and line"},
};

const struct cmd_spec cmd_listen_spec = {
	"listen", "listen", "Receive webhooks locally: print and verify each one, optionally forward it.",
	listen_opts, sizeof(listen_opts) / sizeof(listen_opts[0]), 0, 0,
};

struct listener {
	const char *secret;
	const struct provider *provider;
	const char *forward;
	int status;
	bool json;
	const struct term_style *st;
	pthread_mutex_t out_lock;
};

/* what one request turned out to be */
struct arrival {
	char time[40];
	json_t *headers; /* lowercased name → value */
	json_t *body;    /* parsed JSON, or NULL */
	char webhook_id[256];
	char event_type[256];
	int verified; /* 1, 0, or -1 when nothing was checked */
	char reason[PROVIDER_REASON_MAX];
	/* the forwarded answer */
	long fwd_status;
	char fwd_error[CURL_ERROR_SIZE];
	struct buf fwd_body;
	int64_t fwd_ms;
};

/* ---- reading a request ---- */

static void add_header(const char *name, const char *value, void *arg)
{
	char lower[256];
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	lower[i] = '\0';
	json_object_set_new(arg, lower, json_string(value ? value : ""));
}

static const char *req_header(void *ctx, const char *name)
{
	return http_header(ctx, name);
}

static const char *std_header(struct http_req *req, const char *name)
{
	char h[64];
	const char *v;

	snprintf(h, sizeof(h), "webhook-%s", name);
	v = http_header(req, h);
	if (!v) {
		snprintf(h, sizeof(h), "svix-%s", name);
		v = http_header(req, h);
	}
	return v;
}

static void check_std(struct listener *l, struct http_req *req, struct arrival *a)
{
	const char *id = std_header(req, "id"), *ts = std_header(req, "timestamp");
	const char *sig = std_header(req, "signature"), *reason = NULL;

	if (!id || !ts || !sig) {
		a->verified = 0;
		snprintf(a->reason, sizeof(a->reason), "missing webhook-%s header",
			 !id ? "id" : !ts ? "timestamp" : "signature");
		return;
	}
	a->verified = sign_verify(&l->secret, 1, id, ts, sig, buf_cstr(&req->body), req->body.len,
				  clock_now_ms() / 1000, 0, &reason) == 0;
	if (!a->verified)
		snprintf(a->reason, sizeof(a->reason), "%s", reason ? reason : "no matching signature");
}

static void inspect(struct listener *l, struct http_req *req, struct arrival *a)
{
	struct provider_req preq = {0};
	struct provider_cfg cfg = {&l->secret, l->secret ? 1 : 0, 0, NULL};
	const char *id, *type = NULL;

	clock_format_ms(clock_now_ms(), a->time, sizeof(a->time));
	a->headers = json_object();
	http_headers_each(req, add_header, a->headers);
	a->verified = -1;
	if (req->body.len &&
	    json_parse_bounded(buf_cstr(&req->body), req->body.len, JSON_DEPTH_MAX, &a->body, NULL, 0) < 0)
		a->body = NULL;
	if (json_is_object(a->body)) {
		type = json_str(a->body, "type");
		if (!type)
			type = json_str(a->body, "eventType");
	}
	if (type)
		snprintf(a->event_type, sizeof(a->event_type), "%s", type);
	id = std_header(req, "id");
	if (id)
		snprintf(a->webhook_id, sizeof(a->webhook_id), "%s", id);

	if (!l->provider) {
		if (l->secret)
			check_std(l, req, a);
		return;
	}
	preq.method = req->method;
	preq.url = req->raw_uri;
	preq.header = req_header;
	preq.hctx = req;
	preq.body = (const unsigned char *)buf_cstr(&req->body);
	preq.body_len = req->body.len;
	preq.content_type = http_header(req, "content-type");
	preq.now = clock_now_ms() / 1000;
	if (l->secret) {
		a->verified = provider_verify(l->provider, &cfg, &preq, a->reason, sizeof(a->reason)) == 0;
		if (a->verified)
			a->reason[0] = '\0';
	}
	if (!a->event_type[0])
		provider_event_type(l->provider, &cfg, &preq, a->event_type, sizeof(a->event_type));
	if (!a->webhook_id[0] &&
	    provider_dedupe_key(l->provider, &cfg, &preq, a->webhook_id, sizeof(a->webhook_id)) < 0)
		a->webhook_id[0] = '\0';
}

/* ---- forwarding ---- */

static size_t on_forward_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t room = b->cap - 1 - b->len, take = size * n < room ? size * n : room;

	buf_append(b, p, take); /* the rest is dropped: only a preview is printed */
	return size * n;
}

static bool hop_by_hop(const char *name)
{
	static const char *const skip[] = {"host", "content-length", "connection", "transfer-encoding",
					   "expect", "keep-alive", "upgrade"};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcasecmp(name, skip[i]) == 0)
			return true;
	return false;
}

static void forward(struct listener *l, struct http_req *req, struct arrival *a)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	const char *name;
	json_t *value;
	int64_t t0 = clock_mono_us();
	CURLcode cc;

	if (!c) {
		snprintf(a->fwd_error, sizeof(a->fwd_error), "out of memory");
		return;
	}
	json_object_foreach(a->headers, name, value) {
		char line[PROVIDER_HEADER_MAX + 256];
		if (hop_by_hop(name))
			continue;
		snprintf(line, sizeof(line), "%s: %s", name, json_string_value(value));
		hdrs = curl_slist_append(hdrs, line);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, l->forward);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body.len || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
	    strcmp(req->method, "PATCH") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, buf_cstr(&req->body));
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_forward_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a->fwd_body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->fwd_error);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->fwd_status);
		a->fwd_error[0] = '\0';
	} else if (!a->fwd_error[0]) {
		snprintf(a->fwd_error, sizeof(a->fwd_error), "%s", curl_easy_strerror(cc));
	}
	a->fwd_ms = (clock_mono_us() - t0) / 1000;
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/* ---- printing ---- */

static void print_json(struct listener *l, struct http_req *req, struct arrival *a)
{
	json_t *o = json_object();
	char *line;

	json_object_set_new(o, "time", json_string(a->time));
	json_object_set_new(o, "method", json_string(req->method));
	json_object_set_new(o, "path", json_string(req->raw_uri ? req->raw_uri : req->path));
	json_object_set(o, "headers", a->headers);
	json_object_set_new(o, "body", a->body ? json_incref(a->body)
					       : json_stringn(buf_cstr(&req->body), req->body.len));
	json_object_set_new(o, "webhookId", a->webhook_id[0] ? json_string(a->webhook_id) : json_null());
	json_object_set_new(o, "eventType", a->event_type[0] ? json_string(a->event_type) : json_null());
	json_object_set_new(o, "verified", a->verified < 0 ? json_null() : json_boolean(a->verified));
	json_object_set_new(o, "reason", a->reason[0] ? json_string(a->reason) : json_null());
	if (l->forward)
		json_object_set_new(o, "forward",
				    json_pack("{s:s,s:I,s:s?,s:s%,s:I}", "url", l->forward, "status",
					      (json_int_t)a->fwd_status, "error",
					      a->fwd_error[0] ? a->fwd_error : NULL, "body",
					      buf_cstr(&a->fwd_body), a->fwd_body.len, "ms",
					      (json_int_t)a->fwd_ms));
	/* a body that is not UTF-8 cannot be a JSON string: show it escaped instead */
	if (!json_object_get(o, "body"))
		json_object_set_new(o, "body", json_null());
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line) {
		fputs(line, stdout);
		fputc('\n', stdout);
	}
	fflush(stdout);
	free(line);
	json_decref(o);
}

static void print_human(struct listener *l, struct http_req *req, struct arrival *a)
{
	const struct term_style *st = l->st;
	struct buf out;

	buf_init(&out, LISTEN_BODY_MAX * 4);
	buf_printf(&out, "%s%s%s  %s%s %s%s", st->dim, a->time, st->reset, st->bold, req->method,
		   req->raw_uri ? req->raw_uri : req->path, st->reset);
	if (a->event_type[0])
		buf_printf(&out, "  %s%s%s", st->cyan, a->event_type, st->reset);
	if (a->webhook_id[0])
		buf_printf(&out, "  id %s", a->webhook_id);
	buf_printf(&out, "  %zu bytes", req->body.len);
	if (a->verified == 1)
		buf_printf(&out, "  %sverified%s", st->green, st->reset);
	else if (a->verified == 0)
		buf_printf(&out, "  %snot verified: %s%s", st->red, a->reason, st->reset);
	else
		buf_printf(&out, "  %s(signature not checked)%s", st->dim, st->reset);
	buf_appends(&out, "\n");
	if (a->body) {
		term_json(&out, a->body, st);
		buf_appends(&out, "\n");
	} else if (req->body.len) {
		buf_printf(&out, "%.*s%s\n", (int)(req->body.len < LISTEN_SHOW_MAX ? req->body.len : LISTEN_SHOW_MAX),
			   buf_cstr(&req->body), req->body.len > LISTEN_SHOW_MAX ? "\n[...]" : "");
	}
	if (l->forward) {
		if (a->fwd_error[0])
			buf_printf(&out, "%s-> %s failed: %s%s\n", st->red, l->forward, a->fwd_error, st->reset);
		else
			buf_printf(&out, "%s-> %s answered %ld%s (%" PRId64 " ms)%s%s\n",
				   a->fwd_status >= 200 && a->fwd_status < 300 ? st->green : st->yellow,
				   l->forward, a->fwd_status, st->reset, a->fwd_ms,
				   a->fwd_body.len ? ": " : "", buf_cstr(&a->fwd_body));
	}
	buf_appends(&out, "\n");
	fwrite(buf_cstr(&out), 1, out.len, stdout);
	fflush(stdout);
	buf_release(&out);
}

static void handle(struct http_req *req, void *arg)
{
	struct listener *l = arg;
	struct arrival a;

	memset(&a, 0, sizeof(a));
	buf_init(&a.fwd_body, LISTEN_FORWARD_MAX);
	inspect(l, req, &a);
	if (l->forward)
		forward(l, req, &a);
	pthread_mutex_lock(&l->out_lock);
	if (l->json)
		print_json(l, req, &a);
	else
		print_human(l, req, &a);
	pthread_mutex_unlock(&l->out_lock);
	http_respond(req, l->status, "text/plain", "", 0);
	json_decref(a.headers);
	json_decref(a.body);
	buf_release(&a.fwd_body);
}

static int parse_uint(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return HK_EINVAL;
	*out = v;
	return 0;
}

int cmd_listen(int argc, char **argv)
{
	struct cli_vals v;
	struct listener l = {0};
	struct http_config hc = {0};
	struct http_server *srv = NULL;
	char addr[300];
	const char *host;
	long port, status;
	sigset_t sigs;
	int code, sig;

	code = cmd_args(&cmd_listen_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	if (parse_uint(cli_get(&v, "port"), 0, 65535, &port) < 0)
		return cmd_usage_error(&cmd_listen_spec, "--port needs a number from 0 to 65535");
	if (parse_uint(cli_get(&v, "status"), 100, 599, &status) < 0)
		return cmd_usage_error(&cmd_listen_spec, "--status needs an HTTP status from 100 to 599");
	l.secret = cli_get(&v, "secret");
	if (cli_get(&v, "provider")) {
		l.provider = provider_find(cli_get(&v, "provider"));
		if (!l.provider)
			return cmd_usage_error(&cmd_listen_spec, "unknown provider '%s'", cli_get(&v, "provider"));
	} else if (l.secret) {
		struct sign_secret parsed;
		if (sign_secret_parse(l.secret, &parsed) < 0)
			return cmd_usage_error(&cmd_listen_spec, "--secret is not a Standard Webhooks secret (whsec_...)");
	}
	l.forward = cli_get(&v, "forward");
	if (l.forward && strncmp(l.forward, "http://", 7) != 0 && strncmp(l.forward, "https://", 8) != 0)
		return cmd_usage_error(&cmd_listen_spec, "--forward needs an http:// or https:// URL");
	l.status = (int)status;
	l.json = cli_flag(&v, "json");
	l.st = term_style_get(!l.json && term_colour(stdout));
	pthread_mutex_init(&l.out_lock, NULL);

	host = cli_get(&v, "host");
	snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:%ld" : "%s:%ld", host, port);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	hc.listen = addr;
	hc.threads = 4;
	hc.body_limit = LISTEN_BODY_MAX;
	hc.handler = handle;
	hc.arg = &l;
	if (http_server_start(&hc, &srv) < 0) {
		code = cmd_fail(&cmd_listen_spec, "cannot listen on '%s'", addr);
		goto out;
	}
	{
		/* a wildcard address is reached locally through loopback */
		const char *shown = strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : strcmp(host, "::") == 0 ? "::1" : host;
		fprintf(stderr, "hookd listen: listening on http://%s%s%s:%u, %s%s%s%s%s\n",
			strchr(shown, ':') ? "[" : "", shown, strchr(shown, ':') ? "]" : "", http_server_port(srv),
			l.secret ? "verifying signatures" : "not verifying signatures (no --secret)",
			l.provider ? " as " : "", l.provider ? l.provider->name : "",
			l.forward ? ", forwarding to " : "", l.forward ? l.forward : "");
	}
	fflush(stderr);
	sigwait(&sigs, &sig);
	http_server_stop(srv);
	code = CMD_OK;
out:
	curl_global_cleanup();
	pthread_mutex_destroy(&l.out_lock);
	return code;
}
