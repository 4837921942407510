/*
 * xmljson.h - a small, bounded XML to JSON conversion for hook payloads.
 *
 * It produces the tree adnanh/webhook gets from mxj, so that payload names
 * like "app.users.user.0.-name" resolve the same way:
 *   - the result is an object with one key, the root element's name;
 *   - an element with neither attributes nor child elements is a string (its
 *     text, surrounding whitespace trimmed; "" when empty);
 *   - otherwise an object: attributes as "-name": "value", child elements by
 *     name (repeated names become an array in document order), and non-blank
 *     text as "#text";
 *   - names lose their namespace prefix ("x:item" -> "item");
 *   - comments, processing instructions and a DOCTYPE are skipped, CDATA is
 *     text, the five predefined entities and numeric references are decoded;
 *     anything after the root element is ignored. Values are never cast:
 *     "1" stays a string.
 *
 * Bounds: nesting deeper than XMLJSON_DEPTH_MAX elements or more than
 * XMLJSON_NODES_MAX elements and attributes fail with HK_ETOOBIG; malformed
 * input (unclosed or mismatched tags, unknown entities) with HK_EPARSE.
 */
#ifndef HK_XMLJSON_H
#define HK_XMLJSON_H

#include <jansson.h>
#include <stddef.h>

#define XMLJSON_DEPTH_MAX 64
#define XMLJSON_NODES_MAX 100000

/*
 * xmljson_parse converts n bytes of XML; *out gets a new reference the caller
 * json_decref()s. err (may be NULL) receives a short reason on failure.
 */
int xmljson_parse(const char *s, size_t n, json_t **out, char *err, size_t errlen);

#endif
