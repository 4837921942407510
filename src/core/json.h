/*
 * json.h - bounded JSON parsing and small jansson helpers.
 *
 * json_parse_bounded refuses documents nested deeper than max_depth before
 * handing them to jansson, so a hostile "[[[[..." costs one linear scan and
 * no recursion.
 */
#ifndef HK_JSON_H
#define HK_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define JSON_DEPTH_MAX 64

/* json_depth_ok reports whether data nests at most max_depth levels. */
bool json_depth_ok(const char *data, size_t len, int max_depth);

/*
 * json_parse_bounded parses len bytes; HK_EPARSE with a reason in err on
 * malformed input or too much nesting. *out is a new reference.
 */
int json_parse_bounded(const char *data, size_t len, int max_depth, json_t **out, char *err,
		       size_t errlen);

/* json_dump_compact returns a malloc'd compact serialisation (NULL on ENOMEM). */
char *json_dump_compact(const json_t *v, size_t *len);

/* json_utf8_ok reports whether n bytes are well-formed UTF-8 (what jansson accepts in a string). */
bool json_utf8_ok(const char *s, size_t n);

/*
 * json_buf_string appends n bytes as a JSON string literal, quoted and
 * escaped as jansson's compact dump writes it. HK_EPARSE when s is not
 * UTF-8, HK_ETOOBIG past the buffer's cap; either way b is left as it was.
 */
int json_buf_string(struct buf *b, const char *s, size_t n);

/* json_strdup_field returns a copy of a string member or NULL. */
const char *json_str(const json_t *obj, const char *key);

/* json_strip_private returns a deep copy of obj without members whose names start with '_'. */
json_t *json_strip_private(const json_t *obj);

#endif
