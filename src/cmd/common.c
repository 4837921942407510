/*
 * common.c - what every subcommand shares: argv parsing with --help and
 * usage errors, the exit-code conventions, and reading a body from a stream.
 */
#include <stdarg.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/err.h"

static void usage(FILE *out, const struct cmd_spec *spec)
{
	cli_usage(out, spec->synopsis, spec->summary, spec->opts, spec->nopts);
}

int cmd_usage_error(const struct cmd_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hookd %s: ", spec->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr, spec);
	return CMD_USAGE;
}

int cmd_fail(const struct cmd_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hookd %s: ", spec->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CMD_FAIL;
}

int cmd_args(const struct cmd_spec *spec, int argc, char **argv, struct cli_vals *v)
{
	char err[256];
	int rc = cli_parse(spec->opts, spec->nopts, argc, argv, v, err, sizeof(err));

	if (rc == 1) {
		usage(stdout, spec);
		return CMD_OK;
	}
	if (rc < 0)
		return cmd_usage_error(spec, "%s", err);
	if (v->nargs < spec->min_args)
		return cmd_usage_error(spec, "missing argument");
	if (v->nargs > spec->max_args)
		return cmd_usage_error(spec, "unexpected argument '%s'", v->args[spec->max_args]);
	return -1;
}

int cmd_read_all(FILE *f, struct buf *out)
{
	char chunk[16384];
	size_t n;
	int rc = 0;

	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(out, chunk, n);
	if (rc == 0 && ferror(f))
		rc = HK_EIO;
	return rc;
}

void cmd_usage(FILE *out)
{
	fprintf(out,
		"usage: hookd COMMAND [options]\n\n"
		"server:\n"
		"  serve       run the server (API, delivery, inbound gateway)\n\n"
		"local tools:\n"
		"  listen      receive webhooks locally: print, verify, forward\n"
		"  sign        print Standard Webhooks headers for a body on stdin\n"
		"  verify      check a body's signature (Standard Webhooks or a provider's)\n\n"
		"client of a running server:\n"
		"  login       save the server address and token\n"
		"  send        publish a message\n"
		"  tail        follow messages, attempts and inbound events as they happen\n"
		"  apps        list applications\n"
		"  endpoints   list an application's endpoints\n"
		"  replay      resend a message to one or every endpoint\n\n"
		"  version     print the version\n"
		"  help        show this help\n\n"
		"Run 'hookd COMMAND --help' for a command's options.\n"
		"Exit status: 0 ok, 1 failure, 2 usage error.\n");
}
