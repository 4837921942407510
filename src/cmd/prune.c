/*
 * prune.c - `hookd prune --before DATE [--db URL]`: a one-off clean of what
 * is older than DATE (attempts, settled messages, inbound events, finished
 * hook runs) and of expired payloads, idempotency answers and de-duplication
 * keys, in the same small batches as the periodic retention job. Safe while
 * the server runs on PostgreSQL; on SQLite the server holds the file, so
 * stop it first (or leave it to --retention-days).
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

static const struct cli_opt prune_opts[] = {
	{"before", NULL, NULL, "DATE", CLI_VALUE, "remove what was created before this RFC 3339 date"},
	{"db", "HOOKD_DB", "sqlite:./hookd.db", "URL", CLI_VALUE, "the database (sqlite:PATH or postgres://...)"},
};

const struct cmd_spec cmd_prune_spec = {
	"prune", "prune --before DATE", "Remove old messages, attempts and events now.",
	prune_opts, sizeof(prune_opts) / sizeof(prune_opts[0]), 0, 0,
};

int cmd_prune(int argc, char **argv)
{
	struct cli_vals v;
	struct store *st = NULL;
	char err[512] = "";
	int64_t before, now = clock_now_ms(), removed;
	int code = cmd_args(&cmd_prune_spec, argc, argv, &v);

	if (code >= 0)
		return code;
	if (!cli_get(&v, "before") || clock_parse(cli_get(&v, "before"), &before) < 0)
		return cmd_usage_error(&cmd_prune_spec, "--before needs an RFC 3339 date such as 2026-01-31");
	if (before > now)
		return cmd_usage_error(&cmd_prune_spec, "--before is in the future");
	if (store_open(cli_get(&v, "db"), &st, err, sizeof(err)) < 0)
		return cmd_fail(&cmd_prune_spec, "%s", err);
	removed = store_retention_before(st, before);
	store_close(st);
	if (removed < 0)
		return cmd_fail(&cmd_prune_spec, "pruning stopped: %s", hk_strerror((int)removed));
	printf("removed %lld rows older than %s\n", (long long)removed, cli_get(&v, "before"));
	return 0;
}
