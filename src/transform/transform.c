/*
 * transform.c - the sandbox, the script cache and one run (transform.h).
 *
 * A script owns a lua_State whose allocator counts bytes and refuses past
 * the memory cap, and whose count hook (every HOOK_STEP instructions)
 * stops the run once the instruction budget or the wall-clock backstop is
 * spent. A stop raises a Lua error; the sandbox's pcall and xpcall re-raise
 * it, so a script cannot swallow its own stop. Finalizers (__gc) are
 * refused because Lua runs them with hooks off.
 *
 * The state holds, built once: the compiled chunk, a read-only "base" of
 * allowed globals (libraries behind read-only proxies) and the metatable
 * that makes each run's fresh environment fall back on that base. A run:
 *
 *   fresh env -> set as the chunk's _ENV -> run the chunk (defines handler)
 *   -> build the webhook table -> handler(webhook) -> check and encode
 *
 * all inside one lua_pcall. Whatever C memory a run allocates hangs off
 * struct run, so an error unwinding through Lua leaks nothing.
 *
 * Lua's pattern functions run in C where no hook reaches; pattern_guard
 * refuses pattern and subject pairs whose backtracking could run far past
 * the budget (see docs/internals/transform.md).
 */
#include <ctype.h>
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "transform/transform.h"
#include "transform/transform_int.h"

#define HOOK_STEP 1000
#define LOGS_MAX 4096
#define CACHE_DEFAULT 64
#define GC_AFTER_BYTES ((size_t)1 << 20)
#define PATTERN_COST_MAX 1e9

enum kill { KILL_NONE, KILL_BUDGET, KILL_TIME, KILL_MEMORY };

struct sbox {
	size_t used, limit;
	uint64_t ticks, tick_max;
	int64_t deadline_us;
	enum kill killed;
	struct buf logs;
};

struct script {
	struct script *prev, *next; /* LRU: most recent first */
	char *key;
	char *code;
	lua_State *L;
	struct sbox sb;
	int chunk_ref, envmt_ref;
};

struct transform_cache {
	struct transform_limits lim;
	size_t max, n;
	struct script *head, *tail;
};

static struct transform_limits default_limits = {
	TRANSFORM_MEMORY_DEFAULT, TRANSFORM_INSTRUCTIONS_DEFAULT, TRANSFORM_WALL_MS_DEFAULT};

void transform_limits_default(struct transform_limits *l)
{
	*l = default_limits;
}

void transform_limits_set_default(const struct transform_limits *l)
{
	default_limits = *l;
}

void transform_out_release(struct transform_out *out)
{
	free(out->event_type);
	free(out->payload);
	free(out->url);
	free(out->method);
	json_decref(out->headers);
	free(out->logs);
	memset(out, 0, sizeof(*out));
}

/* ---- limits ---- */

static struct sbox *sbox_of(lua_State *L)
{
	return *(struct sbox **)lua_getextraspace(L);
}

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct sbox *sb = ud;
	void *p;

	if (!ptr)
		osize = 0; /* osize is then a type tag, not a size */
	if (nsize == 0) {
		free(ptr);
		sb->used -= osize;
		return NULL;
	}
	if (nsize > osize && sb->used + (nsize - osize) > sb->limit)
		return NULL;
	p = realloc(ptr, nsize);
	if (p)
		sb->used = sb->used - osize + nsize;
	return p;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	struct sbox *sb = sbox_of(L);
	(void)ar;

	sb->ticks++;
	if (sb->killed == KILL_NONE && sb->ticks > sb->tick_max)
		sb->killed = KILL_BUDGET;
	else if (sb->killed == KILL_NONE && clock_mono_us() > sb->deadline_us)
		sb->killed = KILL_TIME;
	if (sb->killed == KILL_BUDGET || sb->killed == KILL_TIME)
		luaL_error(L, "stopped");
}

/* ---- the sandbox's own base functions ---- */

/* after_pcall re-raises a stop, otherwise returns pcall's results */
static int after_pcall(lua_State *L, int status, int base)
{
	struct sbox *sb = sbox_of(L);

	if (status == LUA_ERRMEM)
		sb->killed = KILL_MEMORY;
	if (sb->killed != KILL_NONE)
		return lua_error(L);
	lua_pushboolean(L, status == LUA_OK);
	lua_insert(L, base);
	return lua_gettop(L) - base + 1;
}

static int sb_pcall(lua_State *L)
{
	luaL_checkany(L, 1);
	return after_pcall(L, lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0), 1);
}

/* xpcall_handler calls the script's message handler (upvalue 1), unless the run was stopped */
static int xpcall_handler(lua_State *L)
{
	if (sbox_of(L)->killed != KILL_NONE)
		return 1; /* the error as it is: no script runs after a stop */
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int sb_xpcall(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, xpcall_handler, 1);
	lua_replace(L, 2);
	lua_pushvalue(L, 1);
	lua_copy(L, 2, 1); /* 1: handler, 2: function */
	lua_replace(L, 2);
	return after_pcall(L, lua_pcall(L, n - 2, LUA_MULTRET, 1), 2);
}

static int sb_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "__gc metamethods are not allowed in transformations");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int sb_print(lua_State *L)
{
	struct sbox *sb = sbox_of(L);
	int n = lua_gettop(L);

	for (int i = 1; i <= n; i++) {
		size_t len;
		const char *s = luaL_tolstring(L, i, &len);
		if (i > 1)
			buf_append(&sb->logs, "\t", 1);
		if (sb->logs.len + len + 1 < LOGS_MAX)
			buf_append(&sb->logs, s, len);
		lua_pop(L, 1);
	}
	buf_append(&sb->logs, "\n", 1);
	return 0;
}

/*
 * pattern_guard runs string.find/match/gmatch/gsub (upvalue 1) unless the
 * pattern's quantified wide items ('.', %S, %W, ..., [^...]) could make
 * backtracking cost about (subject length)^(items + 1) steps past
 * PATTERN_COST_MAX. Items over narrow classes rarely overlap and are let be.
 */
static int pattern_guard(lua_State *L)
{
	size_t n, plen;
	const char *p;
	int wide = 0;
	bool anchored, plain = lua_toboolean(L, 4) && lua_tointeger(L, lua_upvalueindex(2)) == 1;

	luaL_checklstring(L, 1, &n);
	p = luaL_checklstring(L, 2, &plen);
	anchored = plen && p[0] == '^';
	for (size_t i = 0; i < plen && !plain; i++) {
		bool is_wide = false;
		size_t next = i + 1;
		if (p[i] == '%' && i + 1 < plen) {
			is_wide = isupper((unsigned char)p[i + 1]) != 0;
			next = i + 2;
		} else if (p[i] == '[') {
			size_t j = i + 1;
			is_wide = j < plen && p[j] == '^';
			if (j < plen && p[j] == '^')
				j++;
			if (j < plen && p[j] == ']')
				j++;
			while (j < plen && p[j] != ']')
				j += p[j] == '%' ? 2 : 1;
			next = j + 1;
		} else {
			is_wide = p[i] == '.';
		}
		if (next < plen && strchr("*+-", p[next]) && is_wide)
			wide++;
		i = next - 1;
	}
	if (wide && pow((double)n + 1, wide + (anchored ? 0 : 1)) > PATTERN_COST_MAX)
		return luaL_error(L, "pattern too costly for a subject of %d bytes (%d wide repetitions)",
				  (int)n, wide);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

static int readonly_newindex(lua_State *L)
{
	return luaL_error(L, "library tables are read-only");
}

/* proxy_pairs is a proxy's __pairs: walk the table behind it (upvalues: next, table) */
static int proxy_pairs(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, lua_upvalueindex(2));
	lua_pushnil(L);
	return 3;
}

/* sb_rep is string.rep without its one unbounded loop: empty pieces repeated */
static int sb_rep(lua_State *L)
{
	size_t l, lsep = 0;
	luaL_checklstring(L, 1, &l);
	luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &lsep);
	if (l + lsep == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* sb_move is table.move bounded: its C loop never sees the hook */
static int sb_move(lua_State *L)
{
	lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
	if (e >= f && (e - f > (1 << 20) || e - f < 0))
		return luaL_error(L, "table.move: too many elements to move");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/*
 * push_lib_copy pushes a copy of the library table at lib holding only the
 * names listed (NULL-terminated).
 */
static void push_lib_copy(lua_State *L, int lib, const char *const *names)
{
	lua_newtable(L);
	for (; *names; names++) {
		lua_getfield(L, lib, *names);
		lua_setfield(L, -2, *names);
	}
}

/* push_proxy turns the table on top into a read-only proxy of it */
static void push_proxy(lua_State *L)
{
	int t = lua_gettop(L);
	lua_newtable(L);          /* the proxy */
	lua_createtable(L, 0, 4); /* its metatable */
	lua_pushvalue(L, t);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, readonly_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_getglobal(L, "next");
	lua_pushvalue(L, t);
	lua_pushcclosure(L, proxy_pairs, 2);
	lua_setfield(L, -2, "__pairs");
	lua_setmetatable(L, -2);
	lua_replace(L, t);
}

static const char *const base_names[] = {
	"assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring", "type",
	"rawequal", "rawlen", "rawget", "getmetatable", "_VERSION", NULL,
};
static const char *const string_names[] = {
	"byte", "char", "format", "len", "lower", "rep", "reverse", "sub", "upper", "pack",
	"packsize", "unpack", NULL,
};
static const char *const pattern_names[] = {"find", "match", "gmatch", "gsub", NULL};
static const char *const table_names[] = {"concat", "insert", "move", "pack", "remove", "sort", "unpack", NULL};
static const char *const math_names[] = {
	"abs", "ceil", "cos", "deg", "exp", "floor", "fmod", "huge", "log", "max", "maxinteger",
	"min", "mininteger", "modf", "pi", "rad", "random", "sin", "sqrt", "tan", "tointeger", "type",
	"ult", "acos", "asin", "atan", NULL,
};
static const char *const utf8_names[] = {"char", "charpattern", "codes", "codepoint", "len", "offset", NULL};

/* open_lib loads a standard library and leaves it on the stack */
static void open_lib(lua_State *L, const char *name, lua_CFunction fn)
{
	luaL_requiref(L, name, fn, 0);
}

/*
 * build_base runs in protected mode: it opens the allowed libraries and
 * leaves in the registry the environment metatable (upvalue of every run).
 */
static int build_base(lua_State *L)
{
	int g, base, str, lib;

	open_lib(L, "_G", luaopen_base);
	g = lua_gettop(L);
	lua_createtable(L, 0, 32);
	base = lua_gettop(L);
	for (const char *const *n = base_names; *n; n++) {
		lua_getfield(L, g, *n);
		lua_setfield(L, base, *n);
	}
	lua_pushcfunction(L, sb_pcall);
	lua_setfield(L, base, "pcall");
	lua_pushcfunction(L, sb_xpcall);
	lua_setfield(L, base, "xpcall");
	lua_pushcfunction(L, sb_print);
	lua_setfield(L, base, "print");
	lua_getfield(L, g, "setmetatable");
	lua_pushcclosure(L, sb_setmetatable, 1);
	lua_setfield(L, base, "setmetatable");

	/* string: no dump; guarded patterns; strings' own metatable points at the copy */
	open_lib(L, LUA_STRLIBNAME, luaopen_string);
	lib = lua_gettop(L);
	push_lib_copy(L, lib, string_names);
	str = lua_gettop(L);
	for (const char *const *n = pattern_names; *n; n++) {
		lua_getfield(L, lib, *n);
		lua_pushinteger(L, strcmp(*n, "find") == 0); /* find's 4th argument is "plain" */
		lua_pushcclosure(L, pattern_guard, 2);
		lua_setfield(L, str, *n);
	}
	lua_getfield(L, lib, "rep");
	lua_pushcclosure(L, sb_rep, 1);
	lua_setfield(L, str, "rep");
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushvalue(L, str);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);
	lua_pushvalue(L, str);
	push_proxy(L);
	lua_setfield(L, base, "string");
	lua_pop(L, 2);

	open_lib(L, LUA_TABLIBNAME, luaopen_table);
	push_lib_copy(L, lua_gettop(L), table_names);
	lua_getfield(L, -2, "move");
	lua_pushcclosure(L, sb_move, 1);
	lua_setfield(L, -2, "move");
	push_proxy(L);
	lua_setfield(L, base, "table");
	lua_pop(L, 1);
	open_lib(L, LUA_MATHLIBNAME, luaopen_math);
	push_lib_copy(L, lua_gettop(L), math_names);
	push_proxy(L);
	lua_setfield(L, base, "math");
	lua_pop(L, 1);
	open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
	push_lib_copy(L, lua_gettop(L), utf8_names);
	push_proxy(L);
	lua_setfield(L, base, "utf8");
	lua_pop(L, 1);
	transform_json_open(L);
	push_proxy(L);
	lua_setfield(L, base, "json");

	/* each run's environment: {__index = base}, protected */
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, base);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	return 1;
}

/* ---- scripts ---- */

static void script_free(struct script *s)
{
	if (!s)
		return;
	if (s->L)
		lua_close(s->L);
	buf_release(&s->sb.logs);
	free(s->key);
	free(s->code);
	free(s);
}

/* script_new compiles code in a fresh sandbox */
static int script_new(const struct transform_limits *l, const char *key, const char *code,
		      struct script **out, char *err, size_t errlen)
{
	struct script *s = calloc(1, sizeof(*s));
	size_t len = code ? strlen(code) : 0;
	int st;

	*out = NULL;
	if (!s)
		return HK_ENOMEM;
	s->sb.limit = l->memory;
	buf_init(&s->sb.logs, LOGS_MAX + 16);
	s->key = strdup(key ? key : "");
	s->code = strdup(code ? code : "");
	s->L = lua_newstate(sb_alloc, &s->sb);
	if (!s->key || !s->code || !s->L) {
		script_free(s);
		snprintf(err, errlen, "cannot create a sandbox: out of memory");
		return HK_ENOMEM;
	}
	*(struct sbox **)lua_getextraspace(s->L) = &s->sb;
	lua_pushcfunction(s->L, build_base);
	st = lua_pcall(s->L, 0, 1, 0);
	if (st == LUA_OK) {
		s->envmt_ref = luaL_ref(s->L, LUA_REGISTRYINDEX);
		if (len > TRANSFORM_CODE_MAX) {
			script_free(s);
			snprintf(err, errlen, "the script is longer than %d bytes", TRANSFORM_CODE_MAX);
			return HK_EPARSE;
		}
		st = luaL_loadbufferx(s->L, code, len, "=transformation", "t");
		if (st != LUA_OK) {
			snprintf(err, errlen, "the script does not compile: %s",
				 lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : "out of memory");
			script_free(s);
			return HK_EPARSE;
		}
		s->chunk_ref = luaL_ref(s->L, LUA_REGISTRYINDEX);
	}
	if (st != LUA_OK) {
		script_free(s);
		snprintf(err, errlen, "cannot create a sandbox: out of memory");
		return HK_ENOMEM;
	}
	lua_sethook(s->L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
	*out = s;
	return 0;
}

/* ---- one run ---- */

struct run {
	struct script *s;
	const struct transform_in *in;
	json_t *tree;          /* the decoded payload, NULL when it is not JSON */
	struct transform_out *out;
	struct buf body;
	int rc;                /* a verdict on the output, set without raising */
	char err[512];
};

static int run_invalid(struct run *r, const char *fmt, ...) HK_PRINTF(2, 3);

static int run_invalid(struct run *r, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "the handler returned an invalid webhook: %s", msg);
	r->rc = HK_EINVAL;
	return 0;
}

static bool name_ok(const char *s, size_t n, size_t max, bool token)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = isalnum(c) || c == '.' || c == '_' || c == '-' ||
			  (token && strchr("!#$%&'*+^`|~", c) && c);
		if (!ok)
			return false;
	}
	return true;
}

static bool header_reserved(const char *name)
{
	static const char *const reserved[] = {
		"webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp",
		"svix-signature", "content-length", "host", "transfer-encoding", "connection", "expect",
		NULL,
	};
	for (const char *const *r = reserved; *r; r++) {
		if (strcasecmp(name, *r) == 0)
			return true;
	}
	return false;
}

/* field_string reads a string member of the table at idx ("" for absent), copying it */
static int field_string(lua_State *L, int idx, const char *name, char **dst, size_t *len)
{
	const char *s;
	lua_pushstring(L, name);
	if (lua_rawget(L, idx) == LUA_TNIL) {
		lua_pop(L, 1);
		return 1; /* absent */
	}
	if (lua_type(L, -1) != LUA_TSTRING) {
		lua_pop(L, 1);
		return -1;
	}
	s = lua_tolstring(L, -1, len);
	*dst = malloc(*len + 1);
	if (*dst) {
		memcpy(*dst, s, *len);
		(*dst)[*len] = '\0';
	}
	lua_pop(L, 1);
	return *dst ? 0 : -2;
}

static int check_headers(lua_State *L, struct run *r, int idx)
{
	json_t *h = json_object();
	int n = 0;

	r->out->headers = h;
	if (!h)
		return luaL_error(L, "not enough memory");
	lua_pushliteral(L, "headers");
	if (lua_rawget(L, idx) == LUA_TNIL)
		return 0;
	if (!lua_istable(L, -1))
		return run_invalid(r, "%s must be a table of name = value strings", "headers");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		size_t nlen, vlen;
		const char *name, *v;
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 3);
			return run_invalid(r, "%s must be a table of name = value strings", "headers");
		}
		name = lua_tolstring(L, -2, &nlen);
		v = lua_tolstring(L, -1, &vlen);
		if (!name_ok(name, nlen, 256, true) || header_reserved(name)) {
			lua_pop(L, 3);
			return run_invalid(r, "header '%.64s' is not a valid name or is set by hookd", name);
		}
		if (vlen > 8192 || strlen(v) != vlen || strpbrk(v, "\r\n") || ++n > 64) {
			lua_pop(L, 3);
			return run_invalid(r, "header '%.64s' has a value with CR, LF or NUL, is too long, or "
					      "there are too many headers", name);
		}
		json_object_set_new(h, name, json_stringn(v, vlen));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return 0;
}

/* check_output reads the handler's result (stack top) into r->out */
static int check_output(lua_State *L, struct run *r)
{
	int t = lua_gettop(L), rc;
	struct transform_out *out = r->out;
	size_t len;
	char err[360];

	if (!lua_istable(L, t))
		return run_invalid(r, "%s", "the handler must return the webhook table");
	lua_pushliteral(L, "cancel");
	lua_rawget(L, t);
	out->cancel = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (out->cancel)
		return 0;
	rc = field_string(L, t, "eventType", &out->event_type, &len);
	if (rc != 0 || !name_ok(out->event_type, len, 256, false))
		return run_invalid(r, "%s must be a name of letters, digits, '.', '_' or '-'", "eventType");
	rc = field_string(L, t, "method", &out->method, &len);
	if (rc != 0)
		return run_invalid(r, "%s must be a string", "method");
	for (char *p = out->method; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (strcmp(out->method, "POST") && strcmp(out->method, "PUT") && strcmp(out->method, "PATCH") &&
	    strcmp(out->method, "GET") && strcmp(out->method, "DELETE"))
		return run_invalid(r, "method '%.16s' is not GET, POST, PUT, PATCH or DELETE", out->method);
	rc = field_string(L, t, "url", &out->url, &len);
	if (rc == -1 || (rc == 1 && r->in->url) ||
	    (rc == 0 && (len > 65536 || strlen(out->url) != len ||
			 (strncasecmp(out->url, "http://", 7) && strncasecmp(out->url, "https://", 8)) ||
			 strpbrk(out->url, " \t\r\n"))))
		return run_invalid(r, "%s must be an http or https URL", "url");
	if (!r->in->headers_in_only && (check_headers(L, r, t) != 0 || r->rc))
		return 0;
	lua_settop(L, t);
	lua_pushliteral(L, "payload");
	if (lua_rawget(L, t) == LUA_TNIL)
		return run_invalid(r, "%s is missing", "payload");
	if (transform_json_encode(L, -1, &r->body, "payload", err, sizeof(err)) < 0)
		return run_invalid(r, "%s", err);
	return 0;
}

/* push_webhook builds the table the handler receives */
static void push_webhook(lua_State *L, struct run *r)
{
	const struct transform_in *in = r->in;
	const char *name;
	json_t *v;

	lua_createtable(L, 0, 6);
	lua_pushstring(L, in->event_type ? in->event_type : "");
	lua_setfield(L, -2, "eventType");
	if (r->tree)
		transform_json_push(L, r->tree);
	else
		lua_pushlstring(L, in->payload ? in->payload : "", in->payload ? in->len : 0);
	lua_setfield(L, -2, "payload");
	if (in->url) {
		lua_pushstring(L, in->url);
		lua_setfield(L, -2, "url");
	}
	lua_pushstring(L, in->method ? in->method : "POST");
	lua_setfield(L, -2, "method");
	lua_newtable(L);
	json_object_foreach((json_t *)in->headers, name, v) {
		if (json_is_string(v)) {
			lua_pushlstring(L, json_string_value(v), json_string_length(v));
			lua_setfield(L, -2, name);
		}
	}
	lua_setfield(L, -2, "headers");
}

/* run_main is the protected body of a run (and of transform_check when r->in is NULL) */
static int run_main(lua_State *L)
{
	struct run *r = lua_touserdata(L, 1);

	lua_settop(L, 0);
	lua_createtable(L, 0, 4); /* 1: env */
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->s->envmt_ref);
	lua_setmetatable(L, 1);
	lua_pushvalue(L, 1);
	lua_setfield(L, 1, "_G");
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->s->chunk_ref);
	lua_pushvalue(L, 1);
	lua_setupvalue(L, -2, 1); /* _ENV */
	lua_call(L, 0, 0);
	lua_pushliteral(L, "handler");
	if (lua_rawget(L, 1) != LUA_TFUNCTION)
		return luaL_error(L, "the script must define function handler(webhook)");
	if (!r->in)
		return 0;
	push_webhook(L, r);
	lua_call(L, 1, 1);
	return check_output(L, r);
}

/* classify turns a failed pcall into an error code and a readable message */
static int classify(struct script *s, const struct transform_limits *l, int status, char *err,
		    size_t errlen)
{
	lua_State *L = s->L;
	enum kill k = status == LUA_ERRMEM ? KILL_MEMORY : s->sb.killed;

	switch (k) {
	case KILL_BUDGET:
		snprintf(err, errlen, "transformation stopped: instruction budget exceeded (%llu instructions)",
			 (unsigned long long)l->instructions);
		return HK_ETIMEOUT;
	case KILL_TIME:
		snprintf(err, errlen, "transformation stopped: time limit exceeded (%lld ms)",
			 (long long)l->wall_ms);
		return HK_ETIMEOUT;
	case KILL_MEMORY:
		snprintf(err, errlen, "transformation stopped: memory limit exceeded (%zu KiB)",
			 l->memory / 1024);
		return HK_ENOMEM;
	default:
		snprintf(err, errlen, "transformation failed: %s",
			 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
							: "an error that is not a string was raised");
		return HK_EINVAL;
	}
}

static int script_run(struct script *s, const struct transform_limits *l, const struct transform_in *in,
		      struct transform_out *out, char *err, size_t errlen)
{
	struct run r = {.s = s, .in = in, .out = out};
	int64_t t0 = clock_mono_us();
	int status, rc = 0;
	char why[256];

	memset(out, 0, sizeof(*out));
	buf_init(&r.body, TRANSFORM_OUTPUT_MAX);
	if (in && in->payload && in->len &&
	    json_parse_bounded(in->payload, in->len, TRANSFORM_DEPTH_MAX, &r.tree, why, sizeof(why)) < 0)
		r.tree = NULL; /* not JSON: the handler gets the text */
	s->sb.limit = l->memory;
	s->sb.ticks = 0;
	s->sb.tick_max = l->instructions / HOOK_STEP ? l->instructions / HOOK_STEP : 1;
	s->sb.deadline_us = t0 + l->wall_ms * 1000;
	s->sb.killed = KILL_NONE;
	buf_reset(&s->sb.logs);

	lua_settop(s->L, 0);
	lua_pushcfunction(s->L, run_main);
	lua_pushlightuserdata(s->L, &r);
	status = lua_pcall(s->L, 1, 0, 0);
	if (status != LUA_OK) {
		rc = classify(s, l, status, err, errlen);
	} else if (r.rc) {
		rc = r.rc;
		snprintf(err, errlen, "%s", r.err);
	}
	if (rc == 0 && in && !out->cancel)
		out->payload = buf_detach(&r.body, &out->len);
	if (s->sb.logs.len)
		out->logs = strdup(buf_cstr(&s->sb.logs));
	lua_settop(s->L, 0);
	if (s->sb.killed != KILL_NONE || status == LUA_ERRMEM || s->sb.used > GC_AFTER_BYTES)
		lua_gc(s->L, LUA_GCCOLLECT);
	s->sb.killed = KILL_NONE;
	buf_release(&r.body);
	json_decref(r.tree);
	out->duration_us = clock_mono_us() - t0;
	if (rc < 0) {
		char *logs = out->logs;
		out->logs = NULL;
		transform_out_release(out);
		out->logs = logs;
	}
	return rc;
}

/* ---- the cache ---- */

int transform_cache_new(const struct transform_limits *l, size_t max_scripts, struct transform_cache **out)
{
	struct transform_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return HK_ENOMEM;
	if (l)
		c->lim = *l;
	else
		transform_limits_default(&c->lim);
	c->max = max_scripts ? max_scripts : CACHE_DEFAULT;
	*out = c;
	return 0;
}

static void unlink_script(struct transform_cache *c, struct script *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		c->tail = s->prev;
	s->prev = s->next = NULL;
	c->n--;
}

static void push_front(struct transform_cache *c, struct script *s)
{
	s->prev = NULL;
	s->next = c->head;
	if (c->head)
		c->head->prev = s;
	c->head = s;
	if (!c->tail)
		c->tail = s;
	c->n++;
}

void transform_cache_free(struct transform_cache *c)
{
	if (!c)
		return;
	while (c->head) {
		struct script *s = c->head;
		unlink_script(c, s);
		script_free(s);
	}
	free(c);
}

/* cache_get finds or compiles the script for key and code, most recent first */
static int cache_get(struct transform_cache *c, const char *key, const char *code, struct script **out,
		     char *err, size_t errlen)
{
	struct script *s;
	int rc;

	for (s = c->head; s; s = s->next) {
		if (strcmp(s->key, key) == 0)
			break;
	}
	if (s && strcmp(s->code, code) == 0) {
		if (s != c->head) {
			unlink_script(c, s);
			push_front(c, s);
		}
		*out = s;
		return 0;
	}
	if (s) {
		unlink_script(c, s);
		script_free(s);
	}
	rc = script_new(&c->lim, key, code, &s, err, errlen);
	if (rc < 0)
		return rc;
	while (c->n >= c->max && c->tail) {
		struct script *old = c->tail;
		unlink_script(c, old);
		script_free(old);
	}
	push_front(c, s);
	*out = s;
	return 0;
}

int transform_run(struct transform_cache *c, const struct transform_limits *l, const char *key,
		  const char *code, const struct transform_in *in, struct transform_out *out,
		  char *err, size_t errlen)
{
	struct transform_limits def;
	struct script *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!l && c)
		l = &c->lim;
	if (!l) {
		transform_limits_default(&def);
		l = &def;
	}
	rc = c ? cache_get(c, key ? key : "", code, &s, err, errlen)
	       : script_new(l, key, code, &s, err, errlen);
	if (rc < 0)
		return rc;
	rc = script_run(s, l, in, out, err, errlen);
	if (!c)
		script_free(s);
	return rc;
}

int transform_check(const char *code, char *err, size_t errlen)
{
	struct transform_limits l;
	struct transform_out out;

	int rc;

	transform_limits_default(&l);
	rc = transform_run(NULL, &l, "check", code, NULL, &out, err, errlen);
	transform_out_release(&out);
	return rc;
}
