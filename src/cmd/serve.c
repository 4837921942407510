/*
 * serve.c - `hookd serve`: open the store, settle the admin token, start the
 * API, and run until SIGINT or SIGTERM (SIGHUP reloads the hooks files).
 *
 * Shutdown order: stop accepting connections, let the store writer answer
 * every queued write (which resumes the requests waiting on it), stop the
 * HTTP server (finishing in-flight answers), close the store.
 */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/crypt.h"
#include "core/json.h"
#include "core/err.h"
#include "core/id.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/notify.h"
#include "deliver/claim.h"
#include "deliver/dispatch.h"
#include "deliver/fanout.h"
#include "deliver/opsevent.h"
#include "deliver/retry.h"
#include "hooks/runner.h"
#include "inbound/router.h"
#include "http/server.h"
#include "poll/poll.h"
#include "store/store.h"
#include "transform/transform.h"

const struct cli_opt cmd_serve_opts[] = {
	{"listen", "HOOKD_LISTEN", "127.0.0.1:8071", "ADDR", CLI_VALUE,
	 "address and port for the API (port 0 picks a free one)"},
	{"db", "HOOKD_DB", "sqlite:./hookd.db", "URL", CLI_VALUE,
	 "database: sqlite:PATH, or postgres://user:pass@host:port/db for several nodes on one database"},
	{"lease-seconds", "HOOKD_LEASE_SECONDS", "30", "SECONDS", CLI_VALUE,
	 "PostgreSQL: how long a node's deliveries stay its own after its last heartbeat"},
	{"retention-days", "HOOKD_RETENTION_DAYS", "30", "DAYS", CLI_VALUE,
	 "delete attempts, settled messages and inbound events older than this (0: keep all)"},
	{"token", "HOOKD_TOKEN", NULL, "TOKEN", CLI_VALUE,
	 "admin bearer token; without one hookd generates one on first start into hookd.token"},
	{"log-format", "HOOKD_LOG_FORMAT", "text", "text|json", CLI_VALUE, "log line format"},
	{"log-level", "HOOKD_LOG_LEVEL", "info", "LEVEL", CLI_VALUE, "debug, info, warn or error"},
	{"threads", "HOOKD_THREADS", "0", "N", CLI_VALUE, "HTTP server threads (0: one per core)"},
	{"max-body", "HOOKD_MAX_BODY", "1048576", "BYTES", CLI_VALUE, "request body limit for the API"},
	{"write-queue", "HOOKD_WRITE_QUEUE", "100000", "N", CLI_VALUE,
	 "writes that may wait for the store; beyond, requests that write answer 503"},
	{"role", "HOOKD_ROLE", "all", "api|worker|all", CLI_VALUE,
	 "api accepts and stores, worker delivers, all does both"},
	{"retry-schedule", "HOOKD_RETRY_SCHEDULE", RETRY_DEFAULT_SCHEDULE, "LIST", CLI_VALUE,
	 "waits before each retry (ms, s, m, h, d); its length + 1 is the number of attempts"},
	{"request-timeout", "HOOKD_REQUEST_TIMEOUT", "15", "SECONDS", CLI_VALUE,
	 "timeout of one delivery attempt (at most 30)"},
	{"max-in-flight", "HOOKD_MAX_IN_FLIGHT", "32", "N", CLI_VALUE,
	 "requests in flight per endpoint, unless the endpoint sets maxInFlight"},
	{"disable-after", "HOOKD_DISABLE_AFTER", "5d", "DURATION", CLI_VALUE,
	 "disable an endpoint that has failed continuously this long"},
	{"circuit-failures", "HOOKD_CIRCUIT_FAILURES", "5", "N", CLI_VALUE,
	 "consecutive failures that open an endpoint's circuit"},
	{"circuit-cooldown", "HOOKD_CIRCUIT_COOLDOWN", "5s", "DURATION", CLI_VALUE,
	 "first wait before probing an open circuit; it doubles while probes fail, up to 10m"},
	{"allow-private", "HOOKD_ALLOW_PRIVATE", NULL, NULL, CLI_FLAG,
	 "allow endpoints on loopback, private and other non-public addresses"},
	{"allow-cidr", "HOOKD_ALLOW_CIDR", NULL, "CIDR", CLI_LIST,
	 "allow endpoints in this network even though it is not public (repeatable)"},
	{"hooks", "HOOKD_HOOKS", NULL, "FILE", CLI_LIST,
	 "command hooks file in adnanh/webhook's format, .json, .yaml or .yml (repeatable; SIGHUP reloads)"},
	{"urlprefix", "HOOKD_URLPREFIX", "hooks", "PREFIX", CLI_VALUE,
	 "serve command hooks at /PREFIX/{id}"},
	{"hooks-requeue", "HOOKD_HOOKS_REQUEUE", "on", "on|off", CLI_VALUE,
	 "at start, run again the command runs a previous process left queued or running"},
	{"hooks-max-body", "HOOKD_HOOKS_MAX_BODY", "10485760", "BYTES", CLI_VALUE,
	 "request body limit for command hooks"},
	{"transform-memory", "HOOKD_TRANSFORM_MEMORY", "8388608", "BYTES", CLI_VALUE,
	 "memory one transformation script may hold (64 KiB to 1 GiB)"},
	{"transform-instructions", "HOOKD_TRANSFORM_INSTRUCTIONS", "4000000", "N", CLI_VALUE,
	 "Lua instructions one transformation run may execute (1000 to 10000000000)"},
	{"transform-timeout", "HOOKD_TRANSFORM_TIMEOUT", "100ms", "DURATION", CLI_VALUE,
	 "wall-clock backstop of one transformation run (1ms to 10s)"},
	{"metrics-listen", "HOOKD_METRICS_LISTEN", NULL, "ADDR", CLI_VALUE,
	 "also serve /metrics without a token on this address"},
	{"operational-app", "HOOKD_OPERATIONAL_APP", "hookd-operational", "UID", CLI_VALUE,
	 "the application whose endpoints receive hookd's operational webhooks"},
	{"operational-webhook-url", "HOOKD_OPERATIONAL_WEBHOOK_URL", NULL, "URL", CLI_VALUE,
	 "make that application and an endpoint for this URL at start"},
	{"tls-cert", "HOOKD_TLS_CERT", NULL, "PATH", CLI_VALUE, "serve HTTPS with this certificate (PEM)"},
	{"tls-key", "HOOKD_TLS_KEY", NULL, "PATH", CLI_VALUE, "the certificate's private key (PEM)"},
	{"tls-client-ca", "HOOKD_TLS_CLIENT_CA", NULL, "PATH", CLI_VALUE,
	 "ask clients for certificates signed by this CA (sources with requireClientCert need one)"},
	{"tls-require-client-cert", "HOOKD_TLS_REQUIRE_CLIENT_CERT", NULL, NULL, CLI_FLAG,
	 "refuse every request without a verified client certificate (mTLS for the whole listener)"},
	{"master-key-file", "HOOKD_MASTER_KEY_FILE", NULL, "PATH", CLI_VALUE,
	 "file holding the master key (64 hex characters, as `openssl rand -hex 32` prints); "
	 "without it (and without $HOOKD_MASTER_KEY) hookd makes hookd.key beside the SQLite database;"
	 " required with PostgreSQL"},
	{"previous-master-key-file", "HOOKD_PREVIOUS_MASTER_KEY_FILE", NULL, "PATH", CLI_VALUE,
	 "the key being rotated out: secrets sealed under it are re-encrypted under the master key at start"},
};
const int cmd_serve_nopts = (int)(sizeof(cmd_serve_opts) / sizeof(cmd_serve_opts[0]));

#define RETENTION_INTERVAL_MS (10LL * 60 * 1000)

const char cmd_serve_summary[] = "Run the hookd server: API, delivery and inbound gateway.";

static bool is_postgres(const char *db)
{
	return strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0;
}

/* db_dir returns the folder of a sqlite: URL's file, or "." for a server (malloc'd). */
static char *db_dir(const char *db)
{
	const char *path = strncmp(db, "sqlite:", 7) == 0 ? db + 7 : db;
	char *copy, *dir;

	if (is_postgres(db))
		return strdup(".");
	copy = strdup(path);
	if (!copy)
		return NULL;
	dir = strdup(dirname(copy));
	free(copy);
	return dir;
}

/* db_shown copies a database URL for logs, with a password replaced by "***" */
static void db_shown(const char *db, char *out, size_t len)
{
	const char *scheme = strstr(db, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *colon = scheme ? memchr(scheme + 3, ':', at ? (size_t)(at - scheme - 3) : 0) : NULL;

	if (!colon) {
		snprintf(out, len, "%s", db);
		return;
	}
	snprintf(out, len, "%.*s:***%s", (int)(colon - db), db, at);
}

/*
 * master_key_present checks that a master key is configured: a readable,
 * non-empty --master-key-file, or HOOKD_MASTER_KEY (settle_master_key then
 * checks its form). On PostgreSQL the key is required: several nodes must
 * share one, and none may invent its own hookd.key.
 */
static int master_key_present(const char *file, char *err, size_t errlen)
{
	const char *env = getenv("HOOKD_MASTER_KEY");
	FILE *f;
	char c;

	if (!file) {
		if (env && *env)
			return 0;
		snprintf(err, errlen, "a PostgreSQL database needs a master key:"
				      " --master-key-file PATH or HOOKD_MASTER_KEY");
		return HK_EINVAL;
	}
	f = fopen(file, "r");
	if (!f || fread(&c, 1, 1, f) != 1) {
		snprintf(err, errlen, "cannot read the master key from '%s'", file);
		if (f)
			fclose(f);
		return HK_EINVAL;
	}
	fclose(f);
	return 0;
}

static int write_token_file(const char *path, const char *token)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(token);
	int rc = 0;

	if (fd < 0)
		return HK_EIO;
	if (write(fd, token, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		rc = HK_EIO;
	if (close(fd) < 0)
		rc = HK_EIO;
	return rc;
}

static int put_meta(struct store *st, const char *key, const char *value)
{
	struct store_write *w = store_write_new(NULL, NULL);
	struct store_op *op = w ? store_write_add(w, SOP_META_PUT) : NULL;
	if (!op) {
		store_write_free(w);
		return HK_ENOMEM;
	}
	op->u.meta.key = strdup(key);
	op->u.meta.value = strdup(value);
	return store_run(st, w);
}

/*
 * settle_token makes sure the store holds the admin token's hash, and
 * returns the token to print (from --token, a new one, or hookd.token).
 */
static int settle_token(struct store *st, const char *given, const char *dir, char *hash,
			char *shown, size_t shownlen)
{
	char path[4096], *stored = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/hookd.token", dir);
	if (given) {
		sha256_hex(given, strlen(given), hash);
		snprintf(shown, shownlen, "%s", given);
		return put_meta(st, "admin_token_sha256", hash);
	}
	rc = store_meta_get(st, "admin_token_sha256", &stored);
	if (rc == 0) {
		FILE *f = fopen(path, "r");
		snprintf(hash, 65, "%s", stored);
		free(stored);
		shown[0] = '\0';
		if (f) {
			if (fgets(shown, (int)shownlen, f))
				shown[strcspn(shown, "\r\n")] = '\0';
			fclose(f);
		}
		if (!shown[0])
			snprintf(shown, shownlen, "(kept only as a hash; hookd.token is missing)");
		return 0;
	}
	if (rc != HK_ENOTFOUND)
		return rc;
	{
		unsigned char raw[24];
		char hex[49];
		rand_bytes(raw, sizeof(raw));
		hex_encode(raw, sizeof(raw), hex);
		snprintf(shown, shownlen, "hk_%s", hex);
	}
	sha256_hex(shown, strlen(shown), hash);
	rc = write_token_file(path, shown);
	if (rc < 0) {
		log_warn("cannot write '%s'", path);
		return rc;
	}
	return put_meta(st, "admin_token_sha256", hash);
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s)
		return HK_EINVAL;
	*out = (size_t)v;
	return 0;
}

/* slurp reads a whole (small) file; NULL and a log line when it cannot */
static char *slurp(const char *path)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f) {
		log_warn("cannot open '%s'", path);
		return NULL;
	}
	buf_init(&b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			log_warnx("'%s' is too large", path);
			fclose(f);
			buf_release(&b);
			return NULL;
		}
	}
	fclose(f);
	return buf_detach(&b, NULL);
}

/* read_key_file reads a 64-hex-character key */
static int read_key_file(const char *path, unsigned char key[CRYPT_KEY_LEN])
{
	char text[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		log_warn("cannot open '%s'", path);
		return HK_EIO;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (crypt_parse_key(text, key) < 0) {
		log_error("'%s' does not hold a 64-hex-character key", path);
		return HK_EINVAL;
	}
	return 0;
}

/*
 * settle_master_key installs the key that seals secrets at rest: from
 * --master-key-file, $HOOKD_MASTER_KEY, or hookd.key beside the database
 * (made on first start, mode 0600).
 */
static int settle_master_key(const struct cli_vals *v, const char *dir, bool *rotating)
{
	unsigned char key[CRYPT_KEY_LEN], prev[CRYPT_KEY_LEN];
	const char *file = cli_get(v, "master-key-file"), *env = getenv("HOOKD_MASTER_KEY");
	const char *prev_file = cli_get(v, "previous-master-key-file");
	char path[4096];
	int rc;

	if (file) {
		rc = read_key_file(file, key);
	} else if (env && *env) {
		rc = crypt_parse_key(env, key);
		if (rc < 0)
			log_error("$HOOKD_MASTER_KEY is not 64 hex characters");
	} else {
		snprintf(path, sizeof(path), "%s/hookd.key", dir);
		if (access(path, F_OK) == 0) {
			rc = read_key_file(path, key);
		} else {
			char hex[2 * CRYPT_KEY_LEN + 1];
			rand_bytes(key, sizeof(key));
			hex_encode(key, sizeof(key), hex);
			rc = write_token_file(path, hex);
			if (rc < 0)
				log_warn("cannot write '%s'", path);
			else
				log_info("made a new master key in '%s': keep it with your backups", path);
		}
	}
	if (rc < 0)
		return rc;
	*rotating = prev_file != NULL;
	if (prev_file && read_key_file(prev_file, prev) < 0)
		return HK_EINVAL;
	crypt_set_keys(key, prev_file ? prev : NULL);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(prev, sizeof(prev));
	return 0;
}

/* reseal rewrites every document of a kind (under parent) so its secrets use the current key */
static int reseal_kind(struct store *st, const char *kind, const char *parent, json_t *parents_out)
{
	struct store_page pg = {NULL, 250, false};
	char cursor[ID_MAX + 200] = "";
	int n = 0;

	for (;;) {
		struct store_list l;
		json_t *doc;
		size_t i;
		int rc;

		pg.iterator = cursor[0] ? cursor : NULL;
		rc = store_doc_list(st, kind, parent, &pg, &l);
		if (rc < 0)
			return rc;
		json_array_foreach(l.items, i, doc) {
			struct store_write *w = store_write_new(NULL, NULL);
			if (parents_out)
				json_array_append(parents_out, json_object_get(doc, "id"));
			if (w && store_write_doc(w, SOP_DOC_UPDATE, kind, json_str(doc, "id"), parent,
						 json_str(doc, "uid"), doc, 0, clock_now_ms()) == 0 &&
			    store_run(st, w) == 0)
				n++;
		}
		snprintf(cursor, sizeof(cursor), "%s", l.iterator);
		store_list_release(&l);
		if (l.done || !cursor[0])
			break;
	}
	return n;
}

static int reseal_all(struct store *st)
{
	json_t *apps = json_array(), *app;
	size_t i;
	int n = 0;

	reseal_kind(st, "app", "", apps);
	json_array_foreach(apps, i, app)
		n += reseal_kind(st, "endpoint", json_string_value(app), NULL);
	n += reseal_kind(st, "source", "", NULL);
	n += reseal_kind(st, "poll", "", NULL);
	json_decref(apps);
	log_info("re-encrypted the secrets of %d documents under the new master key", n);
	return 0;
}

/* parse_duration_ms reads "90", "15s", "5m", "2h" or "5d" (a bare number is seconds) */
static int parse_duration_ms(const char *s, int64_t *out)
{
	struct retry_schedule one;
	if (retry_schedule_parse(&one, s, NULL, 0) < 0 || one.n != 1)
		return HK_EINVAL;
	*out = one.delay_ms[0];
	return 0;
}

/* transform_config sets the limits of every transformation run from the flags */
static int transform_config(const struct cli_vals *v, char *err, size_t errlen)
{
	struct transform_limits l;
	size_t memory = 0, instructions = 0;
	int64_t wall = 0;

	if (parse_size(cli_get(v, "transform-memory"), &memory) < 0 || memory < 65536 ||
	    memory > ((size_t)1 << 30)) {
		snprintf(err, errlen, "--transform-memory must be between 65536 and 1073741824 bytes");
		return HK_EINVAL;
	}
	if (parse_size(cli_get(v, "transform-instructions"), &instructions) < 0 || instructions < 1000 ||
	    instructions > 10000000000ULL) {
		snprintf(err, errlen, "--transform-instructions must be between 1000 and 10000000000");
		return HK_EINVAL;
	}
	if (parse_duration_ms(cli_get(v, "transform-timeout"), &wall) < 0 || wall < 1 || wall > 10000) {
		snprintf(err, errlen, "--transform-timeout must be between 1ms and 10s");
		return HK_EINVAL;
	}
	l.memory = memory;
	l.instructions = instructions;
	l.wall_ms = wall;
	transform_limits_set_default(&l);
	return 0;
}

/* delivery_config reads the delivery flags; err gets the reason of a bad one */
static int delivery_config(const struct cli_vals *v, struct dispatch_config *dc, char *err, size_t errlen)
{
	const char *const *cidrs;
	int64_t timeout_s = 0;
	size_t inflight = 0;
	int n;

	if (retry_schedule_parse(&dc->schedule, cli_get(v, "retry-schedule"), err, errlen) < 0)
		return HK_EINVAL;
	if (parse_duration_ms(cli_get(v, "request-timeout"), &timeout_s) < 0 || timeout_s < 1000 ||
	    timeout_s > 30000) {
		snprintf(err, errlen, "--request-timeout must be between 1 and 30 seconds");
		return HK_EINVAL;
	}
	dc->timeout_ms = timeout_s;
	if (parse_duration_ms(cli_get(v, "disable-after"), &dc->disable_after_ms) < 0) {
		snprintf(err, errlen, "--disable-after needs a duration such as 5d");
		return HK_EINVAL;
	}
	if (parse_size(cli_get(v, "max-in-flight"), &inflight) < 0 || inflight < 1 || inflight > 10000) {
		snprintf(err, errlen, "--max-in-flight must be between 1 and 10000");
		return HK_EINVAL;
	}
	dc->max_inflight = (int)inflight;
	{
		size_t failures = 0;
		int64_t cooldown = 0;
		if (parse_size(cli_get(v, "circuit-failures"), &failures) < 0 || failures < 1 || failures > 1000 ||
		    parse_duration_ms(cli_get(v, "circuit-cooldown"), &cooldown) < 0 || cooldown < 1 ||
		    cooldown > 600000) {
			snprintf(err, errlen, "--circuit-failures must be 1..1000 and --circuit-cooldown at most 10m");
			return HK_EINVAL;
		}
		dc->breaker.failure_threshold = (int)failures;
		dc->breaker.cooldown_min_ms = cooldown;
		dc->breaker.cooldown_max_ms = 600000;
	}
	addr_policy_init(&dc->policy, cli_flag(v, "allow-private"));
	n = cli_list(v, "allow-cidr", &cidrs);
	for (int i = 0; i < n; i++) {
		if (addr_policy_add_cidr(&dc->policy, cidrs[i]) < 0) {
			snprintf(err, errlen, "--allow-cidr: cannot parse '%s'", cidrs[i]);
			return HK_EINVAL;
		}
	}
	return 0;
}

/*
 * recovery routes what a previous run left unrouted, off the start-up path;
 * pending deliveries come back through the claim loop.
 */
struct recovery {
	pthread_t thread;
	struct inbound_router *router;
	struct runner *runner;         /* re-queue unfinished command runs, or NULL */
	bool started;
};

static void *recovery_main(void *arg)
{
	struct recovery *rec = arg;

	pthread_setname_np(pthread_self(), "hk-recover");
	if (rec->runner)
		runner_recover(rec->runner);
	if (rec->router)
		router_recover(rec->router);
	return NULL;
}

/* wait_signals serves until SIGINT or SIGTERM, reloading the hooks on SIGHUP */
static int wait_signals(const sigset_t *sigs, struct runner *runner)
{
	char err[1024];
	int sig = 0;

	for (;;) {
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			return sig;
		if (runner_reload(runner, err, sizeof(err)) < 0)
			log_error("cannot reload the hooks, keeping the previous ones: %s", err);
	}
}

struct gauge_src {
	struct dispatch *d;
	struct store *st;
};

static void read_gauges(struct metrics_gauges *g, void *arg)
{
	struct gauge_src *s = arg;
	struct dispatch_stats ds = {0};

	if (s->d)
		dispatch_get_stats(s->d, &ds);
	g->due = ds.queued;
	g->scheduled = ds.scheduled;
	g->inflight = ds.inflight;
	g->circuit_closed = ds.circuit_closed;
	g->circuit_open = ds.circuit_open;
	g->circuit_half_open = ds.circuit_half_open;
	g->endpoints_disabled = ds.disabled;
	g->store_queue = (int64_t)store_queued(s->st);
}

/* metrics_only serves /metrics without a token on --metrics-listen */
static void metrics_only(struct http_req *req, void *arg)
{
	(void)arg;
	if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/metrics") == 0) {
		struct api_req r = {.http = req};
		api_metrics(&r);
		return;
	}
	http_respond(req, 404, "application/json", "{\"code\":\"not_found\",\"detail\":\"only /metrics here\"}", 46);
}

static void fanout_changed(void *arg)
{
	fanout_invalidate(arg);
}

/* what another node changed reaches this node's caches (claim loop thread) */
struct caches {
	struct fanout *fan;
	struct dispatch *d;
};

static void caches_changed(void *arg)
{
	struct caches *c = arg;
	fanout_invalidate(c->fan);
	if (c->d)
		dispatch_config_changed(c->d);
}

/* node_id names this process among the nodes sharing a database: host-pid-random */
static void node_id(char *out, size_t len)
{
	char host[64] = "host";
	unsigned char raw[4];
	char hex[9];

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	rand_bytes(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), hex);
	snprintf(out, len, "%s-%ld-%s", host, (long)getpid(), hex);
}

/* cluster_config reads --lease-seconds and --retention-days */
static int cluster_config(const struct cli_vals *v, int64_t *lease_ms, int *retention_days, char *err,
			  size_t errlen)
{
	size_t lease = 0, days = 0;

	if (parse_size(cli_get(v, "lease-seconds"), &lease) < 0 || lease < 1 || lease > 3600) {
		snprintf(err, errlen, "--lease-seconds must be between 1 and 3600");
		return HK_EINVAL;
	}
	if (parse_size(cli_get(v, "retention-days"), &days) < 0 || days > 36500) {
		snprintf(err, errlen, "--retention-days must be a number of days (0: keep everything)");
		return HK_EINVAL;
	}
	*lease_ms = (int64_t)lease * 1000;
	*retention_days = (int)days;
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct cli_vals v;
	char err[512], hash[65] = "", token[256] = "";
	struct store *st = NULL;
	struct api *api = NULL;
	struct http_server *srv = NULL, *msrv = NULL;
	struct gauge_src gsrc = {0};
	struct http_config hc = {0};
	struct api_config ac = {0};
	struct dispatch_config dc = {0};
	struct dispatch *disp = NULL;
	struct fanout fan;
	struct recovery rec = {0};
	struct claim *claim = NULL;
	struct claim_config cc = {0};
	struct caches caches = {0};
	struct store_retention *retention = NULL;
	char node[160];
	int64_t lease_ms = 0;
	int retention_days = 0;
	struct inbound_router *router = NULL;
	struct router_config rc_cfg = {0};
	struct poller_config pc = {0};
	struct poller *poller = NULL;
	struct runner_config run_cfg = {0};
	struct runner *runner = NULL;
	const char *const *hook_files = NULL;
	size_t hooks_body = 0;
	bool fan_ready = false, deliver;
	const char *role;
	char *dir = NULL, *tls_cert = NULL, *tls_key = NULL, *tls_ca = NULL;
	sigset_t sigs;
	size_t threads = 0, write_queue = 0;
	int rc, sig = 0, code = 1;

	rc = cli_parse(cmd_serve_opts, cmd_serve_nopts, argc, argv, &v, err, sizeof(err));
	if (rc == 1) {
		cli_usage(stdout, "serve", cmd_serve_summary, cmd_serve_opts, cmd_serve_nopts);
		return 0;
	}
	if (rc < 0 || parse_size(cli_get(&v, "max-body"), &ac.body_limit) < 0 ||
	    parse_size(cli_get(&v, "threads"), &threads) < 0 ||
	    parse_size(cli_get(&v, "write-queue"), &write_queue) < 0 || write_queue < 1 ||
	    parse_size(cli_get(&v, "hooks-max-body"), &hooks_body) < 0) {
		fprintf(stderr, "hookd serve: %s\n", rc < 0 ? err : "bad number");
		cli_usage(stderr, "serve", cmd_serve_summary, cmd_serve_opts, cmd_serve_nopts);
		return 2;
	}
	role = cli_get(&v, "role");
	if (strcmp(role, "api") != 0 && strcmp(role, "worker") != 0 && strcmp(role, "all") != 0) {
		fprintf(stderr, "hookd serve: --role must be api, worker or all\n");
		return 2;
	}
	deliver = strcmp(role, "api") != 0;
	if (strcmp(cli_get(&v, "hooks-requeue"), "on") != 0 && strcmp(cli_get(&v, "hooks-requeue"), "off") != 0) {
		fprintf(stderr, "hookd serve: --hooks-requeue must be on or off\n");
		return 2;
	}
	if (!cli_get(&v, "urlprefix")[0] || strchr(cli_get(&v, "urlprefix"), '/')) {
		fprintf(stderr, "hookd serve: --urlprefix must be one path segment\n");
		return 2;
	}
	if (delivery_config(&v, &dc, err, sizeof(err)) < 0 || transform_config(&v, err, sizeof(err)) < 0 ||
	    cluster_config(&v, &lease_ms, &retention_days, err, sizeof(err)) < 0) {
		fprintf(stderr, "hookd serve: %s\n", err);
		return 2;
	}
	if (is_postgres(cli_get(&v, "db")) && master_key_present(cli_get(&v, "master-key-file"), err, sizeof(err)) < 0) {
		fprintf(stderr, "hookd serve: %s\n", err);
		return 2;
	}
	{
		static const char *const levels[] = {"debug", "info", "warn", "error"};
		const char *fmt = cli_get(&v, "log-format"), *lvl = cli_get(&v, "log-level");
		int level = -1;
		for (int i = 0; i < 4; i++)
			if (strcmp(lvl, levels[i]) == 0)
				level = i;
		if (level < 0 || (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0)) {
			fprintf(stderr, "hookd serve: --log-format is text or json, --log-level debug, info, warn or error\n");
			return 2;
		}
		log_init(strcmp(fmt, "json") == 0 ? LOG_JSON : LOG_TEXT, (enum log_level)level);
	}

	/* signals are taken synchronously by this thread; every thread started below inherits the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit is a failed write (answered 503), not death */

	rc = store_open(cli_get(&v, "db"), &st, err, sizeof(err));
	if (rc < 0) {
		log_error("%s", err);
		goto out;
	}
	store_set_queue_max(st, write_queue);
	dir = db_dir(cli_get(&v, "db"));
	{
		bool rotating = false;
		rc = settle_master_key(&v, dir ? dir : ".", &rotating);
		if (rc < 0)
			goto out;
		if (rotating)
			reseal_all(st);
	}
	rc = settle_token(st, cli_get(&v, "token"), dir ? dir : ".", hash, token, sizeof(token));
	if (rc < 0) {
		log_error("cannot set up the admin token: %s", hk_strerror(rc));
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fanout_init(&fan, st);
	fan_ready = true;
	/* the claim loop: leases, recovery of pending work, shared limits, other nodes' changes */
	if (deliver || store_clustered(st)) {
		node_id(node, sizeof(node));
		cc.store = st;
		cc.deliver = deliver;
		cc.node = node;
		cc.lease_ms = lease_ms;
		cc.config_changed = caches_changed;
		cc.arg = &caches;
		rc = claim_new(&cc, &claim);
		if (rc < 0) {
			log_error("cannot start the claim loop: %s", hk_strerror(rc));
			goto out;
		}
	}
	if (deliver) {
		dc.store = st;
		dc.user_agent = "hookd/" HOOKD_VERSION;
		dc.endpoint_changed = fanout_changed;
		dc.arg = &fan;
		if (store_clustered(st)) {
			dc.want_tokens = claim_want_tokens;
			dc.tokens_arg = claim;
		}
		rc = dispatch_start(&dc, &disp);
		if (rc < 0) {
			log_error("cannot start the dispatcher: %s", hk_strerror(rc));
			goto out;
		}
	}
	caches.fan = &fan;
	caches.d = disp;
	rc = claim ? claim_run(claim, disp) : 0;
	if (rc < 0) {
		log_error("cannot start the claim loop: %s", hk_strerror(rc));
		goto out;
	}
	if (retention_days > 0 &&
	    store_retention_start(st, retention_days, RETENTION_INTERVAL_MS, &retention) < 0)
		log_warnx("cannot start the retention job");
	run_cfg.store = st;
	run_cfg.lease_ms = lease_ms;
	run_cfg.nfiles = (size_t)cli_list(&v, "hooks", &hook_files);
	run_cfg.files = hook_files;
	rc = runner_start(&run_cfg, &runner, err, sizeof(err));
	if (rc < 0) {
		log_error("cannot load the hooks: %s", err);
		goto out;
	}
	rc_cfg.store = st;
	rc_cfg.fanout = &fan;
	rc_cfg.dispatch = disp;
	rc_cfg.run_hook = runner_route_hook;
	rc_cfg.hook_arg = runner;
	rc = router_start(&rc_cfg, &router);
	if (rc < 0) {
		log_error("cannot start the inbound router: %s", hk_strerror(rc));
		goto out;
	}
	if (deliver) {
		/* poll sources become messages: polled where deliveries run, with their SSRF guard */
		pc.store = st;
		pc.fanout = &fan;
		pc.dispatch = disp;
		pc.policy = dc.policy;
		pc.user_agent = "hookd/" HOOKD_VERSION;
		rc = poller_start(&pc, &poller);
		if (rc < 0) {
			log_error("cannot start the poller: %s", hk_strerror(rc));
			goto out;
		}
	}
	rec.router = router;
	rec.runner = strcmp(cli_get(&v, "hooks-requeue"), "on") == 0 ? runner : NULL;
	rec.started = pthread_create(&rec.thread, NULL, recovery_main, &rec) == 0;
	opsevent_init(st, &fan, disp, cli_get(&v, "operational-app"));
	if (cli_get(&v, "operational-webhook-url") && opsevent_ensure(cli_get(&v, "operational-webhook-url")) < 0) {
		log_error("cannot set up the operational webhook endpoint");
		goto out;
	}
	ac.store = st;
	ac.dispatch = disp;
	ac.fanout = &fan;
	ac.router = router;
	ac.poller = poller;
	ac.admin_token_hash = hash;
	ac.require_client_cert = cli_flag(&v, "tls-require-client-cert");
	ac.runner = runner;
	ac.hooks_prefix = cli_get(&v, "urlprefix");
	ac.hooks_body_limit = hooks_body;
	rc = api_new(&ac, &api);
	if (rc < 0)
		goto out;
	if (cli_get(&v, "tls-cert") || cli_get(&v, "tls-key")) {
		tls_cert = cli_get(&v, "tls-cert") ? slurp(cli_get(&v, "tls-cert")) : NULL;
		tls_key = cli_get(&v, "tls-key") ? slurp(cli_get(&v, "tls-key")) : NULL;
		if (!tls_cert || !tls_key) {
			log_error("HTTPS needs both --tls-cert and --tls-key");
			goto out;
		}
	}
	if (cli_get(&v, "tls-client-ca")) {
		tls_ca = slurp(cli_get(&v, "tls-client-ca"));
		if (!tls_ca || !tls_cert) {
			log_error("--tls-client-ca needs a readable file and an HTTPS listener (--tls-cert)");
			goto out;
		}
	}
	hc.tls_cert = tls_cert;
	hc.tls_key = tls_key;
	hc.tls_client_ca = tls_ca;
	hc.listen = cli_get(&v, "listen");
	hc.threads = (unsigned)threads;
	hc.body_limit = ac.body_limit;
	hc.handler = api_handle;
	hc.body_limit_for = api_body_limit;
	hc.arg = api;
	rc = http_server_start(&hc, &srv);
	if (rc < 0)
		goto out;
	api_stream_start();
	gsrc.d = disp;
	gsrc.st = st;
	metrics_set_gauges(read_gauges, &gsrc);
	if (cli_get(&v, "metrics-listen")) {
		struct http_config mc = {.listen = cli_get(&v, "metrics-listen"), .threads = 1,
					 .body_limit = 4096, .handler = metrics_only};
		rc = http_server_start(&mc, &msrv);
		if (rc < 0)
			goto out;
	}
	{
		char host[256];
		const char *colon = strrchr(hc.listen, ':');
		snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - hc.listen) : 0, hc.listen);
		if (!host[0] || strcmp(host, "0.0.0.0") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		const char *scheme = tls_cert ? "https" : "http";
		printf("hookd %s listening on %s://%s:%u\n", HOOKD_VERSION, scheme, host,
		       http_server_port(srv));
		printf("  API:         %s://%s:%u/api/v1\n", scheme, host, http_server_port(srv));
		printf("  dashboard:   %s://%s:%u/\n", scheme, host, http_server_port(srv));
		printf("  admin token: %s\n", token);
		if (msrv)
			printf("  metrics:     %s (port %u, no token)\n", cli_get(&v, "metrics-listen"),
			       http_server_port(msrv));
		fflush(stdout);
	}
	{
		char shown[512];
		db_shown(cli_get(&v, "db"), shown, sizeof(shown));
		log_info("started, role '%s', database '%s'", role, shown);
	}
	notify_send("READY=1");
	sig = wait_signals(&sigs, runner);
	log_info("stopping on signal %d", sig);
	notify_send("STOPPING=1");
	http_server_quiesce(srv);
	code = 0;
out:
	/* the store writer answers what is queued before it stops; then no request waits */
	if (srv && st)
		store_drain(st);
	if (rec.started)
		pthread_join(rec.thread, NULL);
	store_retention_stop(retention);
	claim_stop(claim);   /* no more claims or grants reach the dispatcher */
	poller_stop(poller); /* a poll in flight is dropped: its state is as before it */
	opsevent_shutdown();
	router_stop(router); /* what it had queued is still "received": routed at the next start */
	runner_stop(runner); /* unfinished runs stay queued / running: re-queued at the next start */
	dispatch_stop(disp);
	if (st)
		store_drain(st); /* attempt records the dispatcher queued */
	if (st && disp && store_node_stop(st) < 0) /* what is still pending goes to other nodes now */
		log_warnx("cannot give pending deliveries back; other nodes take them when the lease ends");
	claim_free(claim);
	if (srv)
		api_stream_stop();
	http_server_stop(msrv);
	http_server_stop(srv);
	metrics_set_gauges(NULL, NULL);
	store_close(st);
	runner_free(runner);
	api_free(api);
	if (fan_ready)
		fanout_release(&fan);
	free(dir);
	free(tls_cert);
	if (tls_key)
		OPENSSL_cleanse(tls_key, strlen(tls_key));
	free(tls_key);
	free(tls_ca);
	crypt_clear_keys();
	if (code == 0)
		log_info("stopped");
	return code;
}
