/*
 * format.h - the other wire formats an endpoint may ask for.
 *
 *   query: GET with the payload's top-level members as a query string
 *          (strings as they are, numbers and booleans printed, objects and
 *          arrays as compact JSON, null as an empty value);
 *   xml:   POST of a <webhook> document: object members become elements
 *          named after their keys (characters not allowed in XML names
 *          become '_'), array items become <item> elements, text is escaped.
 * Both write into a bounded buffer and fail with HK_ETOOBIG past its cap.
 */
#ifndef HK_FORMAT_H
#define HK_FORMAT_H

#include <jansson.h>

#include "core/buf.h"

enum format_kind { FORMAT_JSON, FORMAT_QUERY, FORMAT_XML };

/* format_parse maps "json", "query" (or "get"), "xml"; -1 for anything else */
int format_parse(const char *s);
int format_query_url(const char *url, const json_t *payload, struct buf *out);
int format_xml(const json_t *payload, struct buf *out);

#endif
