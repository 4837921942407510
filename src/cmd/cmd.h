/*
 * cmd.h - hookd's subcommands, one file each; main.c dispatches argv here.
 * Each returns the process exit code: 0 ok, 1 failure, 2 usage.
 */
#ifndef HK_CMD_H
#define HK_CMD_H

#include "core/cli.h"

#define HOOKD_VERSION "0.1.0"

int cmd_serve(int argc, char **argv);

/* the serve options, also used to generate docs/config.md */
extern const struct cli_opt cmd_serve_opts[];
extern const int cmd_serve_nopts;

#endif
