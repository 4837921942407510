/*
 * backup.c - `hookd backup PATH [--db URL]`: a consistent copy of the
 * embedded database, safe while the server runs (SQLite's online backup
 * from a read snapshot). The master key is not in the database: keep
 * hookd.key with the copy.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "store/store.h"

static const struct cli_opt backup_opts[] = {
	{"db", "HOOKD_DB", "sqlite:./hookd.db", "URL", CLI_VALUE, "the database to copy (sqlite:PATH)"},
};

const struct cmd_spec cmd_backup_spec = {
	"backup", "backup PATH", "Copy the database, consistently, while hookd runs.",
	backup_opts, sizeof(backup_opts) / sizeof(backup_opts[0]), 1, 1,
};

int cmd_backup(int argc, char **argv)
{
	struct cli_vals v;
	char err[512] = "";
	int code = cmd_args(&cmd_backup_spec, argc, argv, &v);

	if (code >= 0)
		return code;
	if (store_backup(cli_get(&v, "db"), v.args[0], err, sizeof(err)) < 0)
		return cmd_fail(&cmd_backup_spec, "%s", err);
	printf("backed up '%s' to '%s' (keep hookd.key with it: the master key is not in the copy)\n",
	       cli_get(&v, "db"), v.args[0]);
	return 0;
}
