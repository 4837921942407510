/*
 * yamljson.h - read a YAML document into a jansson tree (libyaml).
 *
 * hooks.yaml is converted to the same JSON tree hooks.json gives, the way
 * adnanh/webhook's YAML library does, so one loader handles both. Plain
 * scalars are resolved as YAML 1.1 (what go-yaml v2 does): null/~/empty ->
 * null, true/false/yes/no/on/off/y/n in their usual cases -> booleans,
 * decimal and 0x integers -> integers, decimal floats and .inf/.nan -> reals,
 * anything else a string. Quoted and block scalars are strings (explicit
 * tags such as !!str are not honoured: quote instead). Mapping keys must be scalars and are taken as strings. Only
 * the first document is read.
 *
 * Bounds: nesting beyond YAMLJSON_DEPTH_MAX and more than YAMLJSON_NODES_MAX
 * produced values (aliases are expanded, so this also stops "billion laughs"
 * documents) fail with HK_ETOOBIG; syntax errors with HK_EPARSE and a
 * message with the line and column.
 */
#ifndef HK_YAMLJSON_H
#define HK_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>

#define YAMLJSON_DEPTH_MAX 64
#define YAMLJSON_NODES_MAX 200000

/* yamljson_parse converts n bytes; *out is a new reference (null if empty). */
int yamljson_parse(const char *s, size_t n, json_t **out, char *err, size_t errlen);

#endif
