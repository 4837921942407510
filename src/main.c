/*
 * main.c - hookd's entry point: argv[1] names the subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: hookd COMMAND [options]\n\n"
		     "commands:\n"
		     "  serve     run the server (API, delivery, inbound gateway)\n"
		     "  version   print the version\n"
		     "  help      show this help\n\n"
		     "Run 'hookd COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("hookd %s\n", HOOKD_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "hookd: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
