/*
 * send.c - `hookd send`: publish one message through a running server and,
 * with --wait, follow its deliveries until each endpoint has succeeded or
 * failed for good.
 *
 * The payload comes from --data, --file (- is stdin) or stdin, and must be
 * JSON. The message id goes to stdout alone on its line, so scripts can
 * capture it; progress goes to stderr, and only on a terminal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/term.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#define SEND_BODY_MAX (16u << 20)
#define SEND_POLL_MS 250

/* delivery status codes of GET .../msg/{id}/endpoint */
enum { DELIVERY_SUCCESS = 0, DELIVERY_PENDING = 1, DELIVERY_FAIL = 2 };

static const struct cli_opt send_opts[] = {
	{"app", "HOOKD_APP", NULL, "APP", CLI_VALUE, "application id or uid; required"},
	{"type", NULL, NULL, "TYPE", CLI_VALUE, "event type, e.g. order.created; required"},
	{"data", NULL, NULL, "JSON", CLI_VALUE, "the payload (default: --file, else stdin)"},
	{"file", NULL, NULL, "FILE", CLI_VALUE, "read the payload from FILE (- for stdin)"},
	{"channel", NULL, NULL, "CHANNEL", CLI_LIST, "deliver only to endpoints on this channel (repeatable)"},
	{"event-id", NULL, NULL, "ID", CLI_VALUE, "idempotency id: a second send with it is not delivered again"},
	{"wait", NULL, NULL, NULL, CLI_FLAG, "wait until every endpoint has succeeded or failed"},
	{"timeout", NULL, "120", "SECONDS", CLI_VALUE, "give up waiting after this long"},
	{"server", "HOOKD_URL", NULL, "URL",
	 CLI_VALUE, "server address (default: the config file's, else " CLIENT_DEFAULT_SERVER ")"},
	{"token", "HOOKD_TOKEN", NULL, "TOKEN", CLI_VALUE, "API token (default: the config file's)"},
};

const struct cmd_spec cmd_send_spec = {
	"send", "send", "Publish a message through a running hookd and print its id.",
	send_opts, sizeof(send_opts) / sizeof(send_opts[0]), 0, 0,
};

static int read_payload(const struct cli_vals *v, json_t **payload)
{
	const char *data = cli_get(v, "data"), *file = cli_get(v, "file");
	struct buf text;
	char err[200];
	FILE *f = NULL;
	int rc = 0;

	if (data && file)
		return cmd_usage_error(&cmd_send_spec, "give --data or --file, not both");
	buf_init(&text, SEND_BODY_MAX);
	if (data) {
		rc = buf_appends(&text, data);
	} else {
		if (!file && isatty(STDIN_FILENO)) {
			buf_release(&text);
			return cmd_usage_error(&cmd_send_spec, "give the payload with --data, --file or on stdin");
		}
		f = !file || strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
		if (!f) {
			buf_release(&text);
			return cmd_fail(&cmd_send_spec, "cannot open '%s': %s", file, strerror(errno));
		}
		rc = cmd_read_all(f, &text);
		if (f != stdin)
			fclose(f);
		if (rc < 0) {
			buf_release(&text);
			return cmd_fail(&cmd_send_spec, "cannot read the payload: %s", hk_strerror(rc));
		}
	}
	rc = rc < 0 ? rc : json_parse_bounded(buf_cstr(&text), text.len, JSON_DEPTH_MAX, payload, err, sizeof(err));
	buf_release(&text);
	if (rc < 0)
		return data ? cmd_usage_error(&cmd_send_spec, "--data is not JSON: %s", err)
			    : cmd_fail(&cmd_send_spec, "the payload is not JSON: %s", err);
	return -1;
}

/* progress counts the deliveries of a message by status */
struct progress {
	size_t total, ok, failed, pending;
};

static void count(const json_t *items, struct progress *p)
{
	size_t i;
	json_t *it;

	memset(p, 0, sizeof(*p));
	json_array_foreach(items, i, it) {
		json_int_t s = json_integer_value(json_object_get(it, "status"));
		p->total++;
		if (s == DELIVERY_SUCCESS)
			p->ok++;
		else if (s == DELIVERY_FAIL)
			p->failed++;
		else
			p->pending++;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int print_destinations(const json_t *items)
{
	static const char *const header[] = {"ENDPOINT", "URL", "STATUS"};
	const struct term_style *st = term_style_get(term_colour(stdout));
	struct table t;
	struct buf out;
	size_t i;
	json_t *it;
	int rc;

	rc = table_init(&t, 3, header);
	json_array_foreach(items, i, it) {
		const char *row[3] = {json_str(it, "id"), json_str(it, "url"), json_str(it, "statusText")};
		if (rc == 0)
			rc = table_add(&t, row);
	}
	buf_init(&out, CLIENT_RESP_MAX);
	if (rc == 0)
		rc = table_format(&t, &out, st);
	fwrite(buf_cstr(&out), 1, out.len, stdout);
	buf_release(&out);
	table_release(&t);
	return rc;
}

static int wait_deliveries(const struct client_conf *conf, const char *app, const char *msg,
			   long timeout_s)
{
	bool tty = isatty(STDERR_FILENO); /* a progress line is no colour: NO_COLOR does not hide it */
	int64_t deadline = clock_now_ms() + timeout_s * 1000;
	char *eapp = client_escape(app), *emsg = client_escape(msg), path[CLIENT_URL_MAX], err[512];
	json_t *items = NULL;
	struct progress p = {0};
	int code = CMD_FAIL;

	if (!eapp || !emsg)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/app/%s/msg/%s/endpoint", eapp, emsg);
	for (;;) {
		json_decref(items);
		items = NULL;
		if (client_list_all(conf, path, &items, err, sizeof(err)) < 0) {
			if (tty)
				fputs("\r\033[K", stderr);
			cmd_fail(&cmd_send_spec, "%s", err);
			goto out;
		}
		count(items, &p);
		if (tty) {
			fprintf(stderr, "\r\033[Kdelivering: %zu of %zu succeeded, %zu failed, %zu pending",
				p.ok, p.total, p.failed, p.pending);
			fflush(stderr);
		}
		if (p.pending == 0 || clock_now_ms() >= deadline)
			break;
		sleep_ms(SEND_POLL_MS);
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (p.total == 0) {
		fprintf(stderr, "hookd send: no endpoint is subscribed to this message\n");
		code = CMD_OK;
		goto out;
	}
	print_destinations(items);
	if (p.pending)
		cmd_fail(&cmd_send_spec, "timed out with %zu of %zu deliveries pending", p.pending, p.total);
	else if (p.failed)
		cmd_fail(&cmd_send_spec, "%zu of %zu deliveries failed", p.failed, p.total);
	else
		code = CMD_OK;
out:
	json_decref(items);
	free(eapp);
	free(emsg);
	return code;
}

int cmd_send(int argc, char **argv)
{
	struct cli_vals v;
	struct client_conf conf;
	json_t *payload = NULL, *body = NULL, *answer = NULL;
	const char *const *channels;
	char err[512], path[CLIENT_URL_MAX], *eapp = NULL;
	long timeout = 0;
	int code, nch;

	code = cmd_args(&cmd_send_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	if (!cli_get(&v, "app") || !cli_get(&v, "type"))
		return cmd_usage_error(&cmd_send_spec, "--%s is required", cli_get(&v, "app") ? "type" : "app");
	{
		char *end;
		errno = 0;
		timeout = strtol(cli_get(&v, "timeout"), &end, 10);
		if (errno || *end || timeout < 1)
			return cmd_usage_error(&cmd_send_spec, "--timeout needs a number of seconds");
	}
	code = read_payload(&v, &payload);
	if (code >= 0)
		return code;
	code = cmd_client(&cmd_send_spec, &v, &conf);
	if (code >= 0)
		goto out;
	body = json_pack("{s:s,s:O}", "eventType", cli_get(&v, "type"), "payload", payload);
	nch = cli_list(&v, "channel", &channels);
	if (nch) {
		json_t *arr = json_array();
		for (int i = 0; i < nch; i++)
			json_array_append_new(arr, json_string(channels[i]));
		json_object_set_new(body, "channels", arr);
	}
	if (cli_get(&v, "event-id"))
		json_object_set_new(body, "eventId", json_string(cli_get(&v, "event-id")));
	eapp = client_escape(cli_get(&v, "app"));
	if (!body || !eapp) {
		code = cmd_fail(&cmd_send_spec, "out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/app/%s/msg", eapp);
	if (client_call(&conf, "POST", path, body, NULL, &answer, err, sizeof(err)) < 0) {
		code = cmd_fail(&cmd_send_spec, "%s", err);
		goto out;
	}
	if (!json_str(answer, "id")) {
		code = cmd_fail(&cmd_send_spec, "the server's answer has no message id");
		goto out;
	}
	printf("%s\n", json_str(answer, "id"));
	fflush(stdout);
	code = CMD_OK;
	if (cli_flag(&v, "wait"))
		code = wait_deliveries(&conf, cli_get(&v, "app"), json_str(answer, "id"), timeout);
out:
	free(eapp);
	json_decref(answer);
	json_decref(body);
	json_decref(payload);
	return code;
}
