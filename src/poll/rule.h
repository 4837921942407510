/*
 * rule.h - the change rules of poll sources: what in an API's answer is new
 * or changed since the last poll. Pure functions (no I/O, no clock), so they
 * are unit-tested alone (tests/unit/poll/rule_test.c).
 *
 * A rule is the "rule" member of a poll document:
 *
 *   {"kind": "items", "path": ".data", "idField": "id", "updatedField": "updated_at"}
 *   {"kind": "document", "path": ".status", "includePrevious": true}
 *
 * Paths are dot-separated member names; a segment of digits indexes an
 * array; "" and "." mean the whole answer.
 *
 * items: each item's identity is its idField (a string or an integer); its
 * version is "u:" + its updatedField (string or number) when it has one,
 * else "h:" + a hash of the item (keys sorted, so member order does not
 * matter). An item is a change when its id was not seen or was seen with
 * another version. The seen set is a JSON object id -> version: every id of
 * the current answer (in answer order), then older ones not in the answer
 * until the set holds window ids.
 *
 * document: the value at path is hashed (keys sorted); a different hash is
 * a change.
 *
 * Event ids: every message a poll publishes carries an eventId derived from
 * the source, the item and its version (or, for documents, the change
 * number and the new hash), so a message published before a crash is found
 * again (the store refuses a second message with the same eventId in an
 * application) instead of being announced twice.
 */
#ifndef HK_POLL_RULE_H
#define HK_POLL_RULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLL_PATH_MAX 256
#define POLL_WINDOW_DEFAULT 10000
#define POLL_EVENT_ID_MAX 80

enum poll_kind { POLL_ITEMS, POLL_DOCUMENT };

struct poll_rule {
	enum poll_kind kind;
	char path[POLL_PATH_MAX + 1];
	char id_field[POLL_PATH_MAX + 1];      /* items only */
	char updated_field[POLL_PATH_MAX + 1]; /* items only, "" when none */
	bool include_previous;                 /* document only */
};

/*
 * poll_rule_parse reads and checks a rule object. On failure it returns
 * HK_EINVAL with a lowercase reason in err.
 */
int poll_rule_parse(const json_t *spec, struct poll_rule *out, char *err, size_t errlen);

/* poll_path_get returns the value at path within doc (borrowed), or NULL. */
json_t *poll_path_get(json_t *doc, const char *path);

/* poll_value_hash writes the hex SHA-256 of v's canonical (sorted keys) form. */
int poll_value_hash(const json_t *v, char out[65]);

/*
 * poll_item_key writes an item's id and version. Returns HK_EINVAL when the
 * item has no usable id (not an object, or its id is missing, empty, or
 * neither a string nor an integer).
 */
int poll_item_key(const struct poll_rule *rule, json_t *item, char *id, size_t idcap, char *version,
		  size_t vcap);

/*
 * poll_items_diff compares an answer's items (an array) with the seen set.
 * *changes gets a new array of {"id", "version", "item"} in answer order
 * (item is a reference to the answer's item); *next_seen gets the new seen
 * set (older ids up to window); *skipped counts items without a usable id.
 * Duplicate ids in one answer count once (the first wins).
 */
int poll_items_diff(const struct poll_rule *rule, const json_t *items, const json_t *seen, size_t window,
		    json_t **changes, json_t **next_seen, size_t *skipped);

/*
 * poll_item_event_id and poll_doc_event_id write an eventId of the form
 * "<source id>.<32 hex digits>" (at most POLL_EVENT_ID_MAX bytes with NUL).
 */
void poll_item_event_id(const char *source_id, const char *item_id, const char *version,
			char out[POLL_EVENT_ID_MAX]);
void poll_doc_event_id(const char *source_id, int64_t seq, const char *hash, char out[POLL_EVENT_ID_MAX]);

/*
 * poll_link_next finds the rel="next" target in an HTTP Link header value
 * ("<https://x/?page=2>; rel=\"next\", <...>; rel=\"last\""). Returns 0 and
 * the target (as written: possibly relative) or HK_ENOTFOUND.
 */
int poll_link_next(const char *link, char *out, size_t cap);

#endif
