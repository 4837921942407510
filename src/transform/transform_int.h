/*
 * transform_int.h - what transform.c and json_lua.c share. Private to
 * src/transform/ (and its unit tests).
 */
#ifndef HK_TRANSFORM_INT_H
#define HK_TRANSFORM_INT_H

#include <jansson.h>
#include <lua.h>

#include "core/buf.h"

#define TRANSFORM_DEPTH_MAX 64

/*
 * transform_json_open pushes the "json" library table (null, array,
 * object, encode, decode) and registers the array and object markers.
 */
void transform_json_open(lua_State *L);

/*
 * transform_json_push pushes v as a Lua value. It may raise a Lua error
 * (memory), so call it in protected mode with v owned by someone who frees
 * it whatever happens.
 */
void transform_json_push(lua_State *L, const json_t *v);

/*
 * transform_json_encode appends the value at idx as compact JSON to b. It
 * raises nothing: on a value JSON cannot hold (a function, NaN, a string
 * that is not UTF-8, a cycle, mixed keys) it returns HK_EINVAL with why in
 * err, naming where ("payload.items[2]").
 */
int transform_json_encode(lua_State *L, int idx, struct buf *b, const char *where, char *err,
			  size_t errlen);

/* transform_json_is_null reports whether the value at idx is json.null */
int transform_json_is_null(lua_State *L, int idx);

#endif
