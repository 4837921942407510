/*
 * login.c - `hookd login`: save the server address and token that the
 * client commands use by default, in the config file (mode 0600, see
 * client.h). The server is asked once with the token, so a typo shows now
 * rather than at the next command; the file is written either way, since a
 * server may well be down while someone sets up their machine.
 */
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "core/err.h"

static const struct cli_opt login_opts[] = {
	{"server", "HOOKD_URL", CLIENT_DEFAULT_SERVER, "URL", CLI_VALUE, "server address"},
	{"token", "HOOKD_TOKEN", NULL, "TOKEN", CLI_VALUE, "API token (hookd serve prints it); required"},
};

const struct cmd_spec cmd_login_spec = {
	"login", "login", "Save the server address and token for the other commands.",
	login_opts, sizeof(login_opts) / sizeof(login_opts[0]), 0, 0,
};

int cmd_login(int argc, char **argv)
{
	struct cli_vals v;
	struct client_conf conf = {{0}, {0}};
	char path[4096], err[512];
	const char *server, *token;
	long status = 0;
	int code;

	code = cmd_args(&cmd_login_spec, argc, argv, &v);
	if (code >= 0)
		return code;
	server = cli_get(&v, "server");
	token = cli_get(&v, "token");
	if (!token || !*token)
		return cmd_usage_error(&cmd_login_spec, "--token is required");
	if (strncmp(server, "http://", 7) != 0 && strncmp(server, "https://", 8) != 0)
		return cmd_usage_error(&cmd_login_spec, "--server needs an http:// or https:// URL");
	if (strlen(server) >= sizeof(conf.server) || strlen(token) >= sizeof(conf.token))
		return cmd_usage_error(&cmd_login_spec, "--server or --token is too long");
	snprintf(conf.server, sizeof(conf.server), "%s", server);
	while (conf.server[0] && conf.server[strlen(conf.server) - 1] == '/')
		conf.server[strlen(conf.server) - 1] = '\0';
	snprintf(conf.token, sizeof(conf.token), "%s", token);
	if (client_config_path(path, sizeof(path)) < 0)
		return cmd_fail(&cmd_login_spec, "cannot find the config folder: set HOME or XDG_CONFIG_HOME");
	if (client_config_write(path, &conf, err, sizeof(err)) < 0)
		return cmd_fail(&cmd_login_spec, "%s", err);
	printf("saved %s to %s\n", conf.server, path);
	if (client_call(&conf, "GET", "/api/v1/app?limit=1", NULL, &status, NULL, err, sizeof(err)) < 0)
		fprintf(stderr, "hookd login: warning: %s\n", err);
	return CMD_OK;
}
