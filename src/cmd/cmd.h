/*
 * cmd.h - hookd's subcommands, one file each; main.c dispatches argv here.
 * Each returns the process exit code: 0 ok, 1 failure, 2 usage.
 */
#ifndef HK_CMD_H
#define HK_CMD_H

#include <stdio.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/log.h"

#define HOOKD_VERSION "0.1.0"

enum { CMD_OK = 0, CMD_FAIL = 1, CMD_USAGE = 2 };

int cmd_serve(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_endpoints(int argc, char **argv);
int cmd_apps(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_prune(int argc, char **argv);

/* the serve options, also used to generate docs/config.md */
extern const struct cli_opt cmd_serve_opts[];
extern const int cmd_serve_nopts;
extern const char cmd_serve_summary[];

/* what a subcommand tells the shared parsing and usage helpers */
struct cmd_spec {
	const char *name;     /* "endpoints" */
	const char *synopsis; /* "endpoints APP": shown after "usage: hookd " */
	const char *summary;  /* one sentence */
	const struct cli_opt *opts;
	int nopts;
	int min_args, max_args; /* positional arguments accepted */
};

/*
 * cmd_args parses a subcommand's argv into v. It returns -1 when the command
 * should go on, else the exit code to return at once: 0 after printing
 * --help to stdout, 2 after printing a one-line error and the usage to stderr.
 */
int cmd_args(const struct cmd_spec *spec, int argc, char **argv, struct cli_vals *v);

/* cmd_usage_error prints "hookd NAME: <reason>" and the usage to stderr; returns 2. */
int cmd_usage_error(const struct cmd_spec *spec, const char *fmt, ...) HK_PRINTF(2, 3);

/* cmd_fail prints "hookd NAME: <reason>" to stderr; returns 1. */
int cmd_fail(const struct cmd_spec *spec, const char *fmt, ...) HK_PRINTF(2, 3);

struct client_conf;
/*
 * cmd_client finds the server and token for spec's command (--server,
 * --token, the environment, the config file: client_resolve): -1 when conf is
 * ready, else the exit code, after saying why (2 for a --server that is not
 * an http:// or https:// URL).
 */
int cmd_client(const struct cmd_spec *spec, const struct cli_vals *v, struct client_conf *conf);

/* cmd_read_all reads f to its end into out (whose cap bounds it). */
int cmd_read_all(FILE *f, struct buf *out);

/* cmd_usage prints the command list (hookd --help). */
void cmd_usage(FILE *out);

/* every subcommand's table but serve's (each defined beside its command) */
extern const struct cmd_spec cmd_listen_spec, cmd_sign_spec, cmd_verify_spec, cmd_login_spec,
	cmd_send_spec, cmd_tail_spec, cmd_apps_spec, cmd_endpoints_spec, cmd_replay_spec,
	cmd_backup_spec, cmd_prune_spec;

/*
 * cmd_markdown prints the configuration reference (docs/config.md) from the
 * same option tables the parser reads (`hookd help --markdown`).
 */
void cmd_markdown(FILE *out);

#endif
