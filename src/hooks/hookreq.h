/*
 * hookreq.h - the request values a command hook can reference.
 *
 * A struct hookreq is an incoming request given as plain data (the HTTP
 * server fills it; nothing here knows about sockets): method, remote address,
 * headers, query string, raw body, and the payload parsed from the body.
 * Hook definitions refer to its values through a source and a name, the way
 * adnanh/webhook 2.8 does ("source": "payload", "name": "commits.0.id").
 *
 * Representation (mirrors adnanh/webhook so lookups behave the same):
 *   - headers: a JSON object, canonical MIME names ("X-Hub-Signature") to the
 *     first value received; lookup canonicalises the asked name, so it is
 *     case-insensitive.
 *   - query: a JSON object, each name to its first value.
 *   - payload: a JSON object or NULL when the body was not parsed. A JSON
 *     body that is an array is stored as {"root": [...]}.
 *
 * Lookup (hookreq_json / hookreq_value) for header, url/query and payload
 * walks dot paths: at every object level a literal key equal to the rest of
 * the name wins ("a.b" finds {"a.b": 1} before {"a": {"b": 1}}); array
 * elements are addressed by decimal index ("commits.0.id"). A name that does
 * not resolve gives HK_ENOTFOUND: adnanh's "parameter node not found", which
 * the rule evaluator treats specially.
 *
 * Rendering (hookreq_value): strings as they are, integers in decimal, reals
 * in the shortest form that reads back the same, booleans as true/false, null
 * as "<nil>" (what adnanh prints), objects and arrays as compact JSON with
 * sorted keys and <, >, & escaped as \u003c, \u003e, \u0026 (Go's encoder).
 * Known difference: adnanh keeps a number's source text ("1.0" stays "1.0");
 * hookd reformats it ("1").
 *
 * Bounds: the body is capped at HOOKREQ_BODY_MAX, headers at
 * HOOKREQ_HEADERS_MAX, query and form pairs at HOOKREQ_PAIRS_MAX, multipart
 * parts at HOOKREQ_PARTS_MAX, XML depth at XMLJSON_DEPTH_MAX.
 *
 * Ownership: a hookreq owns every string and JSON tree in it. hookreq_json
 * returns a borrowed reference valid until the request is modified or freed;
 * hookreq_value returns a malloc'd string the caller frees. Not thread-safe:
 * one request is handled by one thread at a time.
 */
#ifndef HK_HOOKREQ_H
#define HK_HOOKREQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOOKREQ_BODY_MAX (32u << 20)
#define HOOKREQ_HEADERS_MAX 256
#define HOOKREQ_PAIRS_MAX 4096
#define HOOKREQ_PARTS_MAX 256

/* Where a hook argument takes its value from ("source" in hooks.json). */
enum hookreq_source {
	HOOKREQ_SRC_HEADER,         /* "header" */
	HOOKREQ_SRC_URL,            /* "url", alias "query" */
	HOOKREQ_SRC_PAYLOAD,        /* "payload" */
	HOOKREQ_SRC_RAW_BODY,       /* "raw-request-body" */
	HOOKREQ_SRC_REQUEST,        /* "request": name is method or remote-addr */
	HOOKREQ_SRC_STRING,         /* "string": the name itself */
	HOOKREQ_SRC_ENTIRE_PAYLOAD, /* "entire-payload" as JSON */
	HOOKREQ_SRC_ENTIRE_HEADERS, /* "entire-headers" as JSON */
	HOOKREQ_SRC_ENTIRE_QUERY,   /* "entire-query" as JSON */
};

/* One referenced value: an entry of pass-arguments-to-command and friends. */
struct hookreq_arg {
	enum hookreq_source source;
	char *name;        /* owned; "" when absent */
	char *envname;     /* owned; NULL when absent */
	bool base64decode; /* pass-file-to-command only */
};

struct hookreq {
	char *method;       /* owned, as received ("POST") */
	char *remote_addr;  /* owned, "ip:port" or "[ipv6]:port" */
	char *content_type; /* owned; the effective type, "" when none */
	char *body;         /* owned, NUL-terminated copy of the raw body */
	size_t body_len;
	json_t *headers;    /* owned object */
	json_t *query;      /* owned object */
	json_t *payload;    /* owned object, or NULL */
	int64_t now_ms;     /* 0: use the wall clock; tests pin it */
};

/* hookreq_source_parse maps "header", "url", "query", ... to the enum. */
int hookreq_source_parse(const char *s, enum hookreq_source *out);
const char *hookreq_source_name(enum hookreq_source src);

/* hookreq_new returns an empty request, or NULL when out of memory. */
struct hookreq *hookreq_new(const char *method, const char *remote_addr);
void hookreq_free(struct hookreq *r);

/*
 * hookreq_add_header records a header; a repeated name keeps its first value.
 * "Content-Type" also sets r->content_type. HK_ETOOBIG past
 * HOOKREQ_HEADERS_MAX distinct names.
 */
int hookreq_add_header(struct hookreq *r, const char *name, const char *value);
/* hookreq_header returns a header's value (any case of name) or NULL. */
const char *hookreq_header(const struct hookreq *r, const char *name);

/*
 * hookreq_set_query parses a raw query string ("a=1&b=x+y", without '?') as
 * Go's url.ParseQuery does: '+' is a space, %XX is decoded, a pair with a bad
 * escape or a ';' is skipped, the first value of a name wins.
 */
int hookreq_set_query(struct hookreq *r, const char *qs, size_t len);

/*
 * hookreq_parse_form adds the pairs of a query string or form body to obj
 * (url.ParseQuery rules above). Returns HK_EPARSE when a pair was skipped,
 * HK_ETOOBIG past HOOKREQ_PAIRS_MAX names, HK_ENOMEM.
 */
int hookreq_parse_form(const char *s, size_t len, json_t *obj);

/* hookreq_set_body copies the raw body; HK_ETOOBIG past HOOKREQ_BODY_MAX. */
int hookreq_set_body(struct hookreq *r, const void *body, size_t len);

/*
 * hookreq_parse_body parses r->body into r->payload according to the
 * content type: content_type_override when non-empty (a hook's
 * incoming-payload-content-type), else the Content-Type header. Like adnanh:
 * a type containing "json" is JSON, "x-www-form-urlencoded" a form, "xml"
 * XML, a "multipart/form-data;" prefix multipart (value parts become strings,
 * parts typed application/json or named by a payload entry of json_args are
 * parsed as JSON, other file parts are skipped). A malformed JSON, form or
 * XML body is logged and leaves the payload NULL (0 is returned: the rules
 * decide); a malformed multipart body returns HK_EPARSE (the caller answers
 * 500, as adnanh does).
 */
int hookreq_parse_body(struct hookreq *r, const char *content_type_override,
		       const struct hookreq_arg *json_args, size_t njson);

/*
 * hookreq_parse_json_args applies parse-parameters-as-json: each named header,
 * url or payload value holding a JSON object in a string is replaced by that
 * object. Every failure (missing value, not an object, other source) is
 * logged and the rest still applied; the return is HK_EPARSE if any failed.
 */
int hookreq_parse_json_args(struct hookreq *r, const struct hookreq_arg *args, size_t n);

/*
 * hookreq_json finds the JSON node a header, url or payload name refers to
 * (borrowed). HK_ENOTFOUND when it does not resolve, HK_EINVAL for the other
 * sources.
 */
int hookreq_json(const struct hookreq *r, enum hookreq_source src, const char *name,
		 json_t **out);

/*
 * hookreq_value renders the value a source and name refer to as a string
 * (malloc'd, NUL-terminated; *len gets its length, which may include NUL
 * bytes from the body or decoded JSON). HK_ENOTFOUND for an unresolved name,
 * HK_EINVAL for a request key other than method and remote-addr.
 */
int hookreq_value(const struct hookreq *r, enum hookreq_source src, const char *name,
		  char **out, size_t *len);

/* hookreq_render formats one JSON node as hookreq_value does (malloc'd). */
int hookreq_render(const json_t *v, char **out, size_t *len);

/*
 * hookreq_canonical_header returns Go's canonical form of a header name
 * ("x-hub-signature" -> "X-Hub-Signature"; a name with bytes outside the
 * token set stays as it is), malloc'd, or NULL when out of memory.
 */
char *hookreq_canonical_header(const char *name);

/* hookreq_arg_release frees an argument's strings. */
void hookreq_arg_release(struct hookreq_arg *a);

#endif
