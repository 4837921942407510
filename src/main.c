/*
 * main.c - hookd's entry point: argv[1] names the subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"serve", cmd_serve},   {"listen", cmd_listen},       {"send", cmd_send},
	{"tail", cmd_tail},     {"sign", cmd_sign},           {"verify", cmd_verify},
	{"replay", cmd_replay}, {"endpoints", cmd_endpoints}, {"apps", cmd_apps},
	{"login", cmd_login},   {"backup", cmd_backup},
	{"prune", cmd_prune},
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].run(argc - 2, argv + 2);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("hookd %s\n", HOOKD_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		/* the configuration reference, docs/config.md (make docs) */
		if (argc > 2 && strcmp(argv[2], "--markdown") == 0) {
			cmd_markdown(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		}
		/* "hookd help send" is "hookd send --help" */
		if (argc > 2) {
			for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
				if (strcmp(argv[2], commands[i].name) == 0) {
					char *help[] = {(char *)"--help", NULL};
					return commands[i].run(1, help);
				}
			fprintf(stderr, "hookd: unknown command '%s'\n", argv[2]);
			cmd_usage(stderr);
			return 2;
		}
		cmd_usage(stdout);
		return 0;
	}
	fprintf(stderr, "hookd: unknown command '%s'\n", cmd);
	cmd_usage(stderr);
	return 2;
}
