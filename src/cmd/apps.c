/*
 * apps.c - `hookd apps`, `hookd endpoints APP` and `hookd replay`: small
 * views and actions over a running server's API, printed as aligned tables
 * (or as JSON with --json, for scripts).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/term.h"
#include "core/err.h"
#include "core/json.h"

#define SERVER_OPTS                                                                                \
	{"server", "HOOKD_URL", NULL, "URL", CLI_VALUE,                                            \
	 "server address (default: the config file's, else " CLIENT_DEFAULT_SERVER ")"},          \
	{                                                                                          \
		"token", "HOOKD_TOKEN", NULL, "TOKEN", CLI_VALUE,                                  \
		    "API token (default: the config file's)"                                       \
	}

static const struct cli_opt apps_opts[] = {
	{"json", NULL, NULL, NULL, CLI_FLAG, "print the applications as a JSON array"},
	SERVER_OPTS,
};

const struct cmd_spec cmd_apps_spec = {
	"apps", "apps", "List the applications.", apps_opts, sizeof(apps_opts) / sizeof(apps_opts[0]),
	0, 0,
};

static const struct cli_opt endpoints_opts[] = {
	{"json", NULL, NULL, NULL, CLI_FLAG, "print the endpoints as a JSON array"},
	SERVER_OPTS,
};

const struct cmd_spec cmd_endpoints_spec = {
	"endpoints", "endpoints APP", "List an application's endpoints.", endpoints_opts,
	sizeof(endpoints_opts) / sizeof(endpoints_opts[0]), 1, 1,
};

static const struct cli_opt replay_opts[] = {
	{"app", "HOOKD_APP", NULL, "APP", CLI_VALUE, "application id or uid; required"},
	{"endpoint", NULL, NULL, "EP", CLI_VALUE, "resend to this endpoint only (default: every endpoint of the message)"},
	SERVER_OPTS,
};

const struct cmd_spec cmd_replay_spec = {
	"replay", "replay MSG_ID", "Resend a message to one endpoint or to every endpoint it went to.",
	replay_opts, sizeof(replay_opts) / sizeof(replay_opts[0]), 1, 1,
};

/* print_table writes a finished table to stdout and releases it */
static int print_table(struct table *t)
{
	struct buf out;
	int rc;

	buf_init(&out, CLIENT_RESP_MAX * 2);
	rc = table_format(t, &out, term_style_get(term_colour(stdout)));
	fwrite(buf_cstr(&out), 1, out.len, stdout);
	buf_release(&out);
	table_release(t);
	return rc;
}

static void print_json_array(const json_t *items)
{
	char *s = json_dumps(items, JSON_INDENT(2));
	if (s)
		printf("%s\n", s);
	free(s);
}

/* list fetches every item of a list route into *items; exit code on failure, else -1 */
static int list(const struct cmd_spec *spec, const struct cli_vals *v, const char *path,
		json_t **items)
{
	struct client_conf conf;
	char err[512];

	int code = cmd_client(spec, v, &conf);

	if (code >= 0)
		return code;
	if (client_list_all(&conf, path, items, err, sizeof(err)) < 0)
		return cmd_fail(spec, "%s", err);
	return -1;
}

int cmd_apps(int argc, char **argv)
{
	static const char *const header[] = {"ID", "UID", "NAME", "CREATED"};
	struct cli_vals v;
	struct table t;
	json_t *items = NULL, *it;
	size_t i;
	int code, rc;

	code = cmd_args(&cmd_apps_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	code = list(&cmd_apps_spec, &v, "/api/v1/app", &items);
	if (code >= 0)
		return code;
	if (cli_flag(&v, "json")) {
		print_json_array(items);
		json_decref(items);
		return CMD_OK;
	}
	rc = table_init(&t, 4, header);
	json_array_foreach(items, i, it) {
		const char *row[4] = {json_str(it, "id"), json_str(it, "uid"), json_str(it, "name"),
				      json_str(it, "createdAt")};
		if (rc == 0)
			rc = table_add(&t, row);
	}
	json_decref(items);
	if (rc == 0)
		rc = print_table(&t);
	else
		table_release(&t);
	return rc < 0 ? cmd_fail(&cmd_apps_spec, "%s", hk_strerror(rc)) : CMD_OK;
}

/* join_names writes a JSON array of strings as "a,b", or dflt when it is null or empty */
static void join_names(const json_t *arr, const char *dflt, char *out, size_t cap)
{
	size_t i, used = 0;
	json_t *s;

	out[0] = '\0';
	json_array_foreach(arr, i, s) {
		int n = snprintf(out + used, cap - used, "%s%s", i ? "," : "", json_string_value(s));
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
	if (!out[0])
		snprintf(out, cap, "%s", dflt);
}

int cmd_endpoints(int argc, char **argv)
{
	static const char *const header[] = {"ID", "URL", "STATE", "EVENT TYPES", "CHANNELS"};
	struct cli_vals v;
	struct table t;
	json_t *items = NULL, *it;
	char path[CLIENT_URL_MAX], *app;
	size_t i;
	int code, rc;

	code = cmd_args(&cmd_endpoints_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	app = client_escape(v.args[0]);
	if (!app)
		return cmd_fail(&cmd_endpoints_spec, "out of memory");
	snprintf(path, sizeof(path), "/api/v1/app/%s/endpoint", app);
	free(app);
	code = list(&cmd_endpoints_spec, &v, path, &items);
	if (code >= 0)
		return code;
	if (cli_flag(&v, "json")) {
		print_json_array(items);
		json_decref(items);
		return CMD_OK;
	}
	rc = table_init(&t, 5, header);
	json_array_foreach(items, i, it) {
		char types[512], channels[512];
		const char *row[5] = {json_str(it, "id"), json_str(it, "url"),
				      json_is_true(json_object_get(it, "disabled")) ? "disabled" : "enabled",
				      types, channels};
		join_names(json_object_get(it, "filterTypes"), "all", types, sizeof(types));
		join_names(json_object_get(it, "channels"), "all", channels, sizeof(channels));
		if (rc == 0)
			rc = table_add(&t, row);
	}
	json_decref(items);
	if (rc == 0)
		rc = print_table(&t);
	else
		table_release(&t);
	return rc < 0 ? cmd_fail(&cmd_endpoints_spec, "%s", hk_strerror(rc)) : CMD_OK;
}

/* ---- replay ---- */

static int resend_each(const struct client_conf *conf, const char *app, const char *msg,
		       const json_t *endpoints, struct table *t)
{
	size_t i;
	json_t *ep;
	int failed = 0, rc = 0;

	json_array_foreach(endpoints, i, ep) {
		const char *id = json_is_string(ep) ? json_string_value(ep) : json_str(ep, "id");
		char path[CLIENT_URL_MAX * 2], err[512] = "";
		char *eid = id ? client_escape(id) : NULL;
		const char *row[2] = {id, "resent"};

		if (!eid)
			return HK_ENOMEM;
		snprintf(path, sizeof(path), "/api/v1/app/%s/msg/%s/endpoint/%s/resend", app, msg, eid);
		free(eid);
		if (client_call(conf, "POST", path, NULL, NULL, NULL, err, sizeof(err)) < 0) {
			row[1] = err;
			failed++;
		}
		if (rc == 0)
			rc = table_add(t, row);
	}
	return rc < 0 ? rc : failed;
}

int cmd_replay(int argc, char **argv)
{
	static const char *const header[] = {"ENDPOINT", "RESULT"};
	struct cli_vals v;
	struct client_conf conf;
	struct table t = {0};
	json_t *endpoints = NULL;
	char err[512], path[CLIENT_URL_MAX * 2];
	char *app = NULL, *msg = NULL;
	int code, failed;

	code = cmd_args(&cmd_replay_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	if (!cli_get(&v, "app"))
		return cmd_usage_error(&cmd_replay_spec, "--app is required");
	code = cmd_client(&cmd_replay_spec, &v, &conf);
	if (code >= 0)
		return code;
	app = client_escape(cli_get(&v, "app"));
	msg = client_escape(v.args[0]);
	if (!app || !msg || table_init(&t, 2, header) < 0) {
		code = cmd_fail(&cmd_replay_spec, "out of memory");
		goto out;
	}
	if (cli_get(&v, "endpoint")) {
		endpoints = json_pack("[s]", cli_get(&v, "endpoint"));
	} else {
		snprintf(path, sizeof(path), "/api/v1/app/%s/msg/%s/endpoint", app, msg);
		if (client_list_all(&conf, path, &endpoints, err, sizeof(err)) < 0) {
			code = cmd_fail(&cmd_replay_spec, "%s", err);
			goto out;
		}
		if (json_array_size(endpoints) == 0) {
			code = cmd_fail(&cmd_replay_spec, "message '%s' went to no endpoint", v.args[0]);
			goto out;
		}
	}
	failed = resend_each(&conf, app, msg, endpoints, &t);
	if (failed < 0) {
		code = cmd_fail(&cmd_replay_spec, "%s", hk_strerror(failed));
		goto out;
	}
	print_table(&t);
	code = failed ? CMD_FAIL : CMD_OK;
out:
	table_release(&t);
	json_decref(endpoints);
	free(app);
	free(msg);
	return code;
}
