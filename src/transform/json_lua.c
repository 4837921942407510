/*
 * json_lua.c - JSON values to Lua values and back, without losing what
 * JSON distinguishes and Lua does not.
 *
 *   JSON            Lua
 *   object          table with the object marker metatable
 *   array           table with the array marker metatable (1-based)
 *   integer         lua_Integer (int64: up to 2^63-1)
 *   real            lua_Number (a float, even when integral: 1.0)
 *   string          string (any bytes, NULs included; UTF-8 on the way out)
 *   true/false      boolean
 *   null            json.null (a light userdata; nil would lose the key)
 *
 * Going back, a table with a marker keeps its kind; an unmarked table is an
 * array when its keys are exactly 1..n (n > 0), otherwise an object (string
 * keys, integer keys written in decimal), so {} is an object and a script
 * says json.array() for an empty array. The markers' metatables are
 * protected (__metatable) so a script can neither read nor change them.
 *
 * Decoding goes through jansson (bounded depth); encoding writes straight
 * into a capped buffer.
 */
#include <float.h>
#include <inttypes.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "transform/transform.h"
#include "transform/transform_int.h"

static const char array_key = 'a';
static const char object_key = 'o';
static const char null_tag = 'n';

int transform_json_is_null(lua_State *L, int idx)
{
	return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == (void *)&null_tag;
}

/* ---- JSON to Lua ---- */

static void set_marker(lua_State *L, const char *key)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, key);
	lua_setmetatable(L, -2);
}

static void push_value(lua_State *L, const json_t *v, int depth)
{
	const char *k;
	json_t *item;
	size_t i;

	if (depth > TRANSFORM_DEPTH_MAX)
		luaL_error(L, "json nested deeper than %d levels", TRANSFORM_DEPTH_MAX);
	luaL_checkstack(L, 4, "json nested too deep");
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		lua_createtable(L, 0, (int)json_object_size(v));
		json_object_foreach((json_t *)v, k, item) {
			lua_pushstring(L, k);
			push_value(L, item, depth + 1);
			lua_rawset(L, -3);
		}
		set_marker(L, &object_key);
		break;
	case JSON_ARRAY:
		lua_createtable(L, (int)json_array_size(v), 0);
		json_array_foreach(v, i, item) {
			push_value(L, item, depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		set_marker(L, &array_key);
		break;
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	default:
		lua_pushlightuserdata(L, (void *)&null_tag);
	}
}

void transform_json_push(lua_State *L, const json_t *v)
{
	push_value(L, v, 0);
}

/* ---- Lua to JSON ---- */

/* where the encoder is, kept cheaply and spelled out only for an error message */
struct enc_seg {
	const char *key; /* NULL: an array index */
	lua_Integer index;
};

struct enc {
	lua_State *L;
	struct buf *b;
	char *err;
	size_t errlen;
	const char *where;
	int depth;
	struct enc_seg seg[TRANSFORM_DEPTH_MAX + 1];
};

static int enc_fail(struct enc *e, const char *what)
{
	char path[256];
	size_t n = (size_t)snprintf(path, sizeof(path), "%s", e->where);

	for (int i = 0; i < e->depth && n < sizeof(path); i++) {
		if (e->seg[i].key)
			n += (size_t)snprintf(path + n, sizeof(path) - n, ".%.64s", e->seg[i].key);
		else
			n += (size_t)snprintf(path + n, sizeof(path) - n, "[%lld]", (long long)e->seg[i].index);
	}
	snprintf(e->err, e->errlen, "%s: %s", path, what);
	return HK_EINVAL;
}

/* utf8_ok checks s is well-formed UTF-8: no overlongs, surrogates or code points past U+10FFFF */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static int enc_string(struct enc *e, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	int rc;

	if (!utf8_ok((const unsigned char *)s, n))
		return enc_fail(e, "string is not valid UTF-8");
	rc = buf_append(e->b, "\"", 1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = "\\u00";
		size_t elen = 2;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = buf_append(e->b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if (rc == 0)
			rc = buf_append(e->b, esc, elen);
	}
	if (rc == 0)
		rc = buf_append(e->b, s + run, n - run);
	if (rc == 0)
		rc = buf_append(e->b, "\"", 1);
	return rc < 0 ? enc_fail(e, "output too large") : 0;
}

static int enc_number(struct enc *e, int idx)
{
	char tmp[40];
	int rc;

	if (lua_isinteger(e->L, idx)) {
		/* digits by hand: this runs for every number of every payload */
		lua_Integer v = lua_tointeger(e->L, idx);
		uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
		char *p = tmp + sizeof(tmp);
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (v < 0)
			*--p = '-';
		rc = buf_append(e->b, p, (size_t)(tmp + sizeof(tmp) - p));
		return rc < 0 ? enc_fail(e, "output too large") : 0;
	}
	double d = lua_tonumber(e->L, idx);
	if (!isfinite(d))
		return enc_fail(e, "JSON cannot hold NaN or infinity");
	/* the shortest of %.15g..%.17g that reads back the same double */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (!strpbrk(tmp, ".eEn")) {
		size_t l = strlen(tmp);
		memcpy(tmp + l, ".0", 3); /* stays a float when read back */
	}
	return buf_appends(e->b, tmp) < 0 ? enc_fail(e, "output too large") : 0;
}

static int enc_value(struct enc *e, int idx, int depth);

/* path_push records that the encoder enters key or [i] (depth is bounded by the caller) */
static void path_push(struct enc *e, const char *key, lua_Integer i)
{
	e->seg[e->depth].key = key;
	e->seg[e->depth].index = i;
	e->depth++;
}

/*
 * table_kind decides array (1), object (0) or neither (-1: keys JSON
 * cannot name); *n gets the array length.
 */
static int table_kind(struct enc *e, int idx, lua_Integer *n)
{
	lua_State *L = e->L;
	int marker = 0; /* 1 array, 2 object */
	lua_Integer count = 0, max = 0;
	bool all_int = true, bad_key = false;

	if (lua_getmetatable(L, idx)) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &array_key);
		lua_rawgetp(L, LUA_REGISTRYINDEX, &object_key);
		marker = lua_rawequal(L, -3, -2) ? 1 : lua_rawequal(L, -3, -1) ? 2 : 0;
		lua_pop(L, 3);
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		count++;
		if (lua_isinteger(L, -1)) {
			lua_Integer k = lua_tointeger(L, -1);
			if (k < 1)
				all_int = false;
			else if (k > max)
				max = k;
		} else {
			all_int = false;
			if (lua_type(L, -1) != LUA_TSTRING)
				bad_key = true;
		}
	}
	*n = count;
	if (marker == 1) {
		if (!all_int || max != count)
			return -1;
		return 1;
	}
	if (bad_key)
		return -1;
	if (marker == 2 || count == 0)
		return 0;
	return all_int && max == count ? 1 : 0;
}

static int enc_table(struct enc *e, int idx, int depth)
{
	lua_State *L = e->L;
	lua_Integer n;
	int kind, rc = 0;
	bool first = true;

	if (depth >= TRANSFORM_DEPTH_MAX)
		return enc_fail(e, "nested deeper than 64 levels (a table that contains itself?)");
	if (!lua_checkstack(L, 6))
		return enc_fail(e, "nested too deep");
	kind = table_kind(e, idx, &n);
	if (kind < 0)
		return enc_fail(e, "a table with keys JSON cannot hold (arrays need keys 1..n, objects "
				   "string keys)");
	if (kind == 1) {
		rc = buf_append(e->b, "[", 1);
		for (lua_Integer i = 1; i <= n && rc == 0; i++) {
			path_push(e, NULL, i - 1);
			if (i > 1)
				rc = buf_append(e->b, ",", 1);
			lua_rawgeti(L, idx, i);
			if (rc == 0)
				rc = enc_value(e, lua_gettop(L), depth + 1);
			lua_pop(L, 1);
			if (rc == 0)
				e->depth--;
		}
		if (rc == 0 && buf_append(e->b, "]", 1) < 0)
			rc = enc_fail(e, "output too large");
		return rc < 0 && !e->err[0] ? enc_fail(e, "output too large") : rc;
	}
	rc = buf_append(e->b, "{", 1);
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, idx)) {
		char num[24];
		const char *k;
		size_t klen;
		if (lua_type(L, -2) == LUA_TSTRING) {
			k = lua_tolstring(L, -2, &klen); /* a string key: no conversion in place */
		} else {
			snprintf(num, sizeof(num), "%lld", (long long)lua_tointeger(L, -2));
			k = num;
			klen = strlen(num);
		}
		path_push(e, lua_type(L, -2) == LUA_TSTRING ? k : NULL, lua_tointeger(L, -2));
		if (!first)
			rc = buf_append(e->b, ",", 1);
		first = false;
		if (rc == 0)
			rc = enc_string(e, k, klen);
		if (rc == 0 && buf_append(e->b, ":", 1) < 0)
			rc = enc_fail(e, "output too large");
		if (rc == 0)
			rc = enc_value(e, lua_gettop(L), depth + 1);
		lua_pop(L, 1);
		if (rc == 0)
			e->depth--;
	}
	if (rc != 0) {
		lua_pop(L, 1); /* the key lua_next left */
		return e->err[0] ? rc : enc_fail(e, "output too large");
	}
	if (buf_append(e->b, "}", 1) < 0)
		return enc_fail(e, "output too large");
	return 0;
}

static int enc_value(struct enc *e, int idx, int depth)
{
	lua_State *L = e->L;
	int rc;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		rc = buf_appends(e->b, "null");
		break;
	case LUA_TBOOLEAN:
		rc = buf_appends(e->b, lua_toboolean(L, idx) ? "true" : "false");
		break;
	case LUA_TNUMBER:
		return enc_number(e, idx);
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		return enc_string(e, s, n);
	}
	case LUA_TTABLE:
		return enc_table(e, idx, depth);
	case LUA_TLIGHTUSERDATA:
		if (transform_json_is_null(L, idx)) {
			rc = buf_appends(e->b, "null");
			break;
		}
		/* fallthrough */
	default: {
		char what[64];
		snprintf(what, sizeof(what), "JSON cannot hold a %s", luaL_typename(L, idx));
		return enc_fail(e, what);
	}
	}
	return rc < 0 ? enc_fail(e, "output too large") : 0;
}

int transform_json_encode(lua_State *L, int idx, struct buf *b, const char *where, char *err,
			  size_t errlen)
{
	struct enc e = {.L = L, .b = b, .err = err, .errlen = errlen, .where = where ? where : "value"};
	int top = lua_gettop(L), rc;

	err[0] = '\0';
	rc = enc_value(&e, lua_absindex(L, idx), 0);
	lua_settop(L, top);
	return rc;
}

/* ---- the json library for scripts ---- */

static int mark(lua_State *L, const char *key, const char *name)
{
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	if (lua_getmetatable(L, 1)) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &array_key);
		lua_rawgetp(L, LUA_REGISTRYINDEX, &object_key);
		if (!lua_rawequal(L, -3, -2) && !lua_rawequal(L, -3, -1))
			return luaL_error(L, "json.%s: the table already has a metatable", name);
		lua_pop(L, 3);
	}
	set_marker(L, key);
	return 1;
}

static int l_array(lua_State *L)
{
	return mark(L, &array_key, "array");
}

static int l_object(lua_State *L)
{
	return mark(L, &object_key, "object");
}

static int push_buf(lua_State *L)
{
	struct buf *b = lua_touserdata(L, 1);
	lua_pushlstring(L, b->data ? b->data : "", b->len);
	return 1;
}

static int l_encode(lua_State *L)
{
	struct buf b;
	char err[320];
	int rc;

	luaL_checkany(L, 1);
	lua_settop(L, 1);
	buf_init(&b, TRANSFORM_OUTPUT_MAX);
	if (transform_json_encode(L, 1, &b, "json.encode", err, sizeof(err)) < 0) {
		buf_release(&b);
		return luaL_error(L, "%s", err);
	}
	/* push in protected mode so a memory error cannot leak the buffer */
	lua_pushcfunction(L, push_buf);
	lua_pushlightuserdata(L, &b);
	rc = lua_pcall(L, 1, 1, 0);
	buf_release(&b);
	if (rc != LUA_OK)
		return lua_error(L);
	return 1;
}

static int push_tree(lua_State *L)
{
	transform_json_push(L, lua_touserdata(L, 1));
	return 1;
}

static int l_decode(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	char err[256];
	json_t *v = NULL;
	int rc;

	if (json_parse_bounded(s, n, TRANSFORM_DEPTH_MAX, &v, err, sizeof(err)) < 0)
		return luaL_error(L, "json.decode: %s", err);
	lua_pushcfunction(L, push_tree);
	lua_pushlightuserdata(L, v);
	rc = lua_pcall(L, 1, 1, 0);
	json_decref(v);
	if (rc != LUA_OK)
		return lua_error(L);
	return 1;
}

static void new_marker(lua_State *L, const char *key, const char *name)
{
	lua_createtable(L, 0, 1);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "__metatable"); /* getmetatable() sees only the name */
	lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void transform_json_open(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"array", l_array}, {"object", l_object}, {"encode", l_encode}, {"decode", l_decode},
		{NULL, NULL},
	};

	new_marker(L, &array_key, "json.array");
	new_marker(L, &object_key, "json.object");
	luaL_newlib(L, fns);
	lua_pushlightuserdata(L, (void *)&null_tag);
	lua_setfield(L, -2, "null");
}
