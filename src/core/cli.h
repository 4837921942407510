/*
 * cli.h - command-line options described by one table.
 *
 * Each subcommand declares a table of struct cli_opt; the same table parses
 * argv (--name VALUE, --name=VALUE, and --flag), falls back to an
 * environment variable and then to the default, prints --help, and
 * generates the configuration reference (docs/config.md), so the three can
 * never drift apart.
 */
#ifndef HK_CLI_H
#define HK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#define CLI_MAX_REPEAT 16

enum cli_kind { CLI_VALUE, CLI_FLAG, CLI_LIST };

struct cli_opt {
	const char *name;    /* "listen" for --listen */
	const char *env;     /* "HOOKD_LISTEN" or NULL */
	const char *dflt;    /* default value or NULL */
	const char *metavar; /* "ADDR" */
	enum cli_kind kind;
	const char *help;
};

struct cli_vals {
	const struct cli_opt *opts;
	int nopts;
	const char *val[64];                   /* one per option; flags: "1" or NULL */
	const char *list[64][CLI_MAX_REPEAT]; /* CLI_LIST values */
	int nlist[64];
	const char *args[16];                  /* positional arguments */
	int nargs;
};

/*
 * cli_parse fills v from argv (after the subcommand) and the environment.
 * On a usage error it writes a one-line reason to err and returns HK_EINVAL;
 * "--help" returns 1.
 */
int cli_parse(const struct cli_opt *opts, int nopts, int argc, char **argv, struct cli_vals *v,
	      char *err, size_t errlen);
const char *cli_get(const struct cli_vals *v, const char *name);
bool cli_flag(const struct cli_vals *v, const char *name);
int cli_list(const struct cli_vals *v, const char *name, const char *const **items);
void cli_usage(FILE *out, const char *cmd, const char *summary, const struct cli_opt *opts, int nopts);
/* cli_markdown prints the table as a Markdown reference section */
void cli_markdown(FILE *out, const char *cmd, const char *summary, const struct cli_opt *opts, int nopts);

#endif
