/*
 * cli.c - table-driven option parsing; see cli.h.
 */
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/err.h"

static int find(const struct cli_opt *opts, int nopts, const char *name, size_t len)
{
	for (int i = 0; i < nopts; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return i;
	return -1;
}

static void set(struct cli_vals *v, int i, const char *value)
{
	if (v->opts[i].kind == CLI_LIST) {
		if (v->nlist[i] < CLI_MAX_REPEAT)
			v->list[i][v->nlist[i]++] = value;
	} else {
		v->val[i] = value;
	}
}

int cli_parse(const struct cli_opt *opts, int nopts, int argc, char **argv, struct cli_vals *v,
	      char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->opts = opts;
	v->nopts = nopts < 64 ? nopts : 64;
	for (int a = 0; a < argc; a++) {
		const char *arg = argv[a], *eq;
		int i;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			return 1;
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			if (v->nargs == 16) {
				snprintf(err, errlen, "too many arguments");
				return HK_EINVAL;
			}
			v->args[v->nargs++] = arg;
			continue;
		}
		eq = strchr(arg + 2, '=');
		i = find(opts, v->nopts, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
		if (i < 0) {
			snprintf(err, errlen, "unknown option '%.*s'",
				 eq ? (int)(eq - arg) : (int)strlen(arg), arg);
			return HK_EINVAL;
		}
		if (opts[i].kind == CLI_FLAG) {
			if (eq) {
				snprintf(err, errlen, "option '--%s' takes no value", opts[i].name);
				return HK_EINVAL;
			}
			v->val[i] = "1";
			continue;
		}
		if (eq) {
			set(v, i, eq + 1);
		} else if (a + 1 < argc) {
			set(v, i, argv[++a]);
		} else {
			snprintf(err, errlen, "option '--%s' needs a value", opts[i].name);
			return HK_EINVAL;
		}
	}
	for (int i = 0; i < v->nopts; i++) {
		const char *env = opts[i].env ? getenv(opts[i].env) : NULL;
		bool unset = opts[i].kind == CLI_LIST ? v->nlist[i] == 0 : v->val[i] == NULL;
		if (unset && env && *env)
			set(v, i, opts[i].kind == CLI_FLAG ? (strcmp(env, "0") ? "1" : NULL) : env);
		else if (unset && opts[i].dflt)
			set(v, i, opts[i].dflt);
	}
	return 0;
}

static int index_of(const struct cli_vals *v, const char *name)
{
	return find(v->opts, v->nopts, name, strlen(name));
}

const char *cli_get(const struct cli_vals *v, const char *name)
{
	int i = index_of(v, name);
	return i < 0 ? NULL : v->val[i];
}

bool cli_flag(const struct cli_vals *v, const char *name)
{
	int i = index_of(v, name);
	return i >= 0 && v->val[i] != NULL;
}

int cli_list(const struct cli_vals *v, const char *name, const char *const **items)
{
	int i = index_of(v, name);
	if (i < 0)
		return 0;
	*items = v->list[i];
	return v->nlist[i];
}

void cli_usage(FILE *out, const char *cmd, const char *summary, const struct cli_opt *opts, int nopts)
{
	fprintf(out, "usage: hookd %s [options]\n%s\n\noptions:\n", cmd, summary);
	for (int i = 0; i < nopts; i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
			 opts[i].metavar ? opts[i].metavar : "");
		fprintf(out, "  %-28s %s", left, opts[i].help);
		if (opts[i].dflt)
			fprintf(out, " (default: %s)", opts[i].dflt);
		if (opts[i].env)
			fprintf(out, " [$%s]", opts[i].env);
		fputc('\n', out);
	}
	fprintf(out, "  %-28s %s\n", "--help", "show this help");
}

/* md_cell writes s into a Markdown table cell: a '|' would end the cell */
static void md_cell(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

void cli_markdown(FILE *out, const char *cmd, const char *summary, const struct cli_opt *opts, int nopts)
{
	fprintf(out, "## hookd %s\n\n%s\n\n| option | environment | default | meaning |\n|---|---|---|---|\n",
		cmd, summary);
	for (int i = 0; i < nopts; i++) {
		fprintf(out, "| `--%s%s", opts[i].name, opts[i].metavar ? " " : "");
		md_cell(out, opts[i].metavar);
		fprintf(out, "` | %s%s%s | ", opts[i].env ? "`" : "", opts[i].env ? opts[i].env : "",
			opts[i].env ? "`" : "");
		if (opts[i].dflt) {
			fputc('`', out);
			md_cell(out, opts[i].dflt);
			fputc('`', out);
		}
		fputs(" | ", out);
		md_cell(out, opts[i].help);
		fputs(" |\n", out);
	}
	fputc('\n', out);
}
