/*
 * transform.h - sandboxed Lua transformations: a small script reshapes a
 * webhook (payload, URL, method, headers) or cancels it.
 *
 *     function handler(webhook)
 *       webhook.payload = { text = "New order " .. webhook.payload.id }
 *       return webhook
 *     end
 *
 * Invariants:
 *   - A script sees only base functions that cannot reach the host (no io,
 *     os, package, require, load, dofile, debug, string.dump, collectgarbage,
 *     rawset, coroutine), plus string, table, math, utf8 and json.
 *   - Each run has a memory cap (a counting allocator refuses past it) and an
 *     instruction budget (a count hook), plus a wall-clock backstop; pcall
 *     inside the script cannot catch either. Past a limit the run fails with
 *     a readable message; the caller's thread never stalls on a script.
 *   - A script is compiled once and kept in a cache (one lua_State per
 *     script), keyed by the caller's key and checked against the code. Each
 *     run gets a fresh global environment and re-runs the chunk, so nothing
 *     a run leaves behind (globals, upvalues) is seen by the next.
 *   - A cache belongs to one thread. It never touches the dispatcher or the
 *     store: callers pass plain bytes in and get plain bytes out.
 *
 * JSON and Lua (json_lua.c): objects become tables, arrays become tables
 * marked as arrays (so [] and {} survive a round trip), integers stay
 * integers (lua_Integer), floats stay floats, strings keep every byte
 * (embedded NULs too) and null is the sentinel json.null.
 */
#ifndef HK_TRANSFORM_H
#define HK_TRANSFORM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRANSFORM_CODE_MAX (64 * 1024)
#define TRANSFORM_MEMORY_DEFAULT ((size_t)8 << 20)
#define TRANSFORM_INSTRUCTIONS_DEFAULT ((uint64_t)4000000) /* about 10 ms of plain Lua */
#define TRANSFORM_WALL_MS_DEFAULT 100                         /* backstop for slow C calls */
#define TRANSFORM_OUTPUT_MAX ((size_t)16 << 20)

struct transform_limits {
	size_t memory;         /* bytes a script's state may hold */
	uint64_t instructions; /* VM instructions per run */
	int64_t wall_ms;       /* wall-clock time per run */
};

/* transform_limits_default gives the limits runs get when no others are passed */
void transform_limits_default(struct transform_limits *l);
/* transform_limits_set_default replaces them (at start-up, before any run: `hookd serve` flags) */
void transform_limits_set_default(const struct transform_limits *l);

/* what a script receives (every pointer borrowed for the call) */
struct transform_in {
	const char *event_type;
	const char *payload;   /* JSON text; text that is not JSON arrives as a string */
	size_t len;
	const char *url;       /* NULL: none (inbound routes) */
	const char *method;    /* NULL: "POST" */
	const json_t *headers; /* object of strings, or NULL */
	bool headers_in_only;  /* the headers are information: not checked nor returned */
};

/* what a script made of it (every member owned, see transform_out_release) */
struct transform_out {
	bool cancel;
	char *event_type;
	char *payload;         /* compact JSON text, NUL-terminated */
	size_t len;
	char *url;             /* NULL when the input had none and the script set none */
	char *method;          /* upper case */
	json_t *headers;       /* object of strings */
	char *logs;            /* what print() wrote (capped), NULL when nothing */
	int64_t duration_us;
};

void transform_out_release(struct transform_out *out);

struct transform_cache;

/* transform_cache_new makes a cache of at most max_scripts compiled scripts (0: 64) */
int transform_cache_new(const struct transform_limits *l, size_t max_scripts, struct transform_cache **out);
void transform_cache_free(struct transform_cache *c);

/*
 * transform_run runs code's handler on in. key names the script in the
 * cache (an endpoint id and version, say); a cached script whose code
 * differs is compiled again. c may be NULL: compile, run once, close.
 * Returns 0 (out filled; out->cancel may be set) or a negative HK_E* code
 * with a readable message in err: HK_EPARSE the script does not compile,
 * HK_ETIMEOUT the instruction budget or time ran out, HK_ENOMEM the memory
 * cap was hit, HK_EINVAL the script failed or returned something invalid.
 * On failure out holds nothing to release, except out->logs.
 */
int transform_run(struct transform_cache *c, const struct transform_limits *l, const char *key,
		  const char *code, const struct transform_in *in, struct transform_out *out,
		  char *err, size_t errlen);

/* transform_check compiles code and runs its top level: 0, or why not in err */
int transform_check(const char *code, char *err, size_t errlen);

#endif
