/*
 * rule.c - the pure half of the polling bridge: reading a rule, walking a
 * path, identifying items and diffing an answer against what was seen
 * (rule.h). Everything the poller decides about "is this new?" is here, so
 * it is tested without a network or a store.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/codec.h"
#include "core/err.h"
#include "core/json.h"
#include "poll/rule.h"

/* ---- rules ---- */

static bool path_ok(const char *p)
{
	for (; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("._-$@:", *p))
			return false;
	}
	return true;
}

static int copy_path(const json_t *spec, const char *field, bool required, char *out, char *err,
		     size_t errlen)
{
	json_t *v = json_object_get(spec, field);

	out[0] = '\0';
	if (!v || json_is_null(v)) {
		if (required) {
			snprintf(err, errlen, "rule.%s is required", field);
			return HK_EINVAL;
		}
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) > POLL_PATH_MAX || !path_ok(json_string_value(v))) {
		snprintf(err, errlen, "rule.%s must be a path of at most %d letters, digits and '.'", field,
			 POLL_PATH_MAX);
		return HK_EINVAL;
	}
	if (required && (!json_string_length(v) || strcmp(json_string_value(v), ".") == 0)) {
		snprintf(err, errlen, "rule.%s must name a field", field);
		return HK_EINVAL;
	}
	snprintf(out, POLL_PATH_MAX + 1, "%s", json_string_value(v));
	return 0;
}

int poll_rule_parse(const json_t *spec, struct poll_rule *out, char *err, size_t errlen)
{
	const char *kind = json_str(spec, "kind");
	json_t *prev = json_object_get(spec, "includePrevious");

	memset(out, 0, sizeof(*out));
	if (!json_is_object(spec)) {
		snprintf(err, errlen, "rule must be an object");
		return HK_EINVAL;
	}
	if (!kind || (strcmp(kind, "items") != 0 && strcmp(kind, "document") != 0)) {
		snprintf(err, errlen, "rule.kind must be items or document");
		return HK_EINVAL;
	}
	out->kind = strcmp(kind, "items") == 0 ? POLL_ITEMS : POLL_DOCUMENT;
	if (copy_path(spec, "path", false, out->path, err, errlen) < 0)
		return HK_EINVAL;
	if (prev && !json_is_boolean(prev) && !json_is_null(prev)) {
		snprintf(err, errlen, "rule.includePrevious must be a boolean");
		return HK_EINVAL;
	}
	out->include_previous = json_is_true(prev);
	if (out->kind == POLL_DOCUMENT)
		return 0;
	if (copy_path(spec, "idField", true, out->id_field, err, errlen) < 0 ||
	    copy_path(spec, "updatedField", false, out->updated_field, err, errlen) < 0)
		return HK_EINVAL;
	return 0;
}

/* ---- values ---- */

json_t *poll_path_get(json_t *doc, const char *path)
{
	const char *p = path;

	while (doc && *p) {
		size_t n;
		char seg[POLL_PATH_MAX + 1];

		if (*p == '.') {
			p++;
			continue;
		}
		n = strcspn(p, ".");
		if (n > POLL_PATH_MAX)
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		p += n;
		if (json_is_array(doc) && strspn(seg, "0123456789") == n && n < 10)
			doc = json_array_get(doc, strtoul(seg, NULL, 10));
		else
			doc = json_object_get(doc, seg);
	}
	return doc;
}

int poll_value_hash(const json_t *v, char out[65])
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (!text)
		return HK_ENOMEM;
	sha256_hex(text, strlen(text), out);
	free(text);
	return 0;
}

/* scalar_text writes a string or a number as text; false for anything else */
static bool scalar_text(const json_t *v, bool allow_real, char *out, size_t cap)
{
	int n;

	if (json_is_string(v) && json_string_length(v) > 0)
		n = snprintf(out, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		n = snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (allow_real && json_is_real(v))
		n = snprintf(out, cap, "%.17g", json_real_value(v));
	else
		return false;
	return n > 0 && (size_t)n < cap;
}

int poll_item_key(const struct poll_rule *rule, json_t *item, char *id, size_t idcap, char *version,
		  size_t vcap)
{
	json_t *upd;
	char hash[65];

	if (!json_is_object(item) || !scalar_text(poll_path_get(item, rule->id_field), false, id, idcap))
		return HK_EINVAL;
	upd = rule->updated_field[0] ? poll_path_get(item, rule->updated_field) : NULL;
	if (vcap > 2 && upd && scalar_text(upd, true, version + 2, vcap - 2)) {
		memcpy(version, "u:", 2);
		return 0;
	}
	if (poll_value_hash(item, hash) < 0)
		return HK_ENOMEM;
	snprintf(version, vcap, "h:%.32s", hash);
	return 0;
}

/* ---- diff ---- */

int poll_items_diff(const struct poll_rule *rule, const json_t *items, const json_t *seen, size_t window,
		    json_t **changes, json_t **next_seen, size_t *skipped)
{
	json_t *ch = json_array(), *next = json_object(), *item, *v;
	const char *key;
	size_t i;
	char id[1024], version[1024];

	*changes = NULL;
	*next_seen = NULL;
	*skipped = 0;
	if (!ch || !next)
		goto nomem;
	json_array_foreach(items, i, item) {
		if (poll_item_key(rule, item, id, sizeof(id), version, sizeof(version)) < 0) {
			(*skipped)++;
			continue;
		}
		if (json_object_get(next, id))
			continue; /* the same id twice in one answer: the first wins */
		v = json_object_get(seen, id);
		if (!json_is_string(v) || strcmp(json_string_value(v), version) != 0) {
			if (json_array_append_new(ch, json_pack("{s:s,s:s,s:O}", "id", id, "version", version,
								"item", item)) < 0)
				goto nomem;
		}
		/* every item of the answer is remembered, however many: one left out would be "new" each time */
		if (json_object_set_new(next, id, json_string(version)) < 0)
			goto nomem;
	}
	/* older ids keep their place until the window is full */
	json_object_foreach((json_t *)seen, key, v) {
		if (json_object_size(next) >= window)
			break;
		if (!json_object_get(next, key) && json_object_set(next, key, v) < 0)
			goto nomem;
	}
	*changes = ch;
	*next_seen = next;
	return 0;
nomem:
	json_decref(ch);
	json_decref(next);
	return HK_ENOMEM;
}

/* ---- event ids ---- */

/*
 * event_id hashes the parts; callers make them unambiguous (the item id
 * carries its length, so an id holding '\n' cannot pass for another).
 * Parts longer than the buffer are cut, which only costs distinctness of
 * pathological 1 KiB ids.
 */
static void event_id(const char *source_id, const char *a, const char *b, char out[POLL_EVENT_ID_MAX])
{
	char text[2 * 1024 + 2 * 64], hash[65];
	int n = snprintf(text, sizeof(text), "%.60s\n%s\n%s", source_id, a, b);

	if (n < 0)
		n = 0;
	sha256_hex(text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1, hash);
	snprintf(out, POLL_EVENT_ID_MAX, "%.40s.%.32s", source_id, hash);
}

void poll_item_event_id(const char *source_id, const char *item_id, const char *version,
			char out[POLL_EVENT_ID_MAX])
{
	char idlen[24 + 1024];
	/* prefix the item id with its length: ids may hold the separator */
	snprintf(idlen, sizeof(idlen), "%zu:%s", strlen(item_id), item_id);
	event_id(source_id, idlen, version, out);
}

void poll_doc_event_id(const char *source_id, int64_t seq, const char *hash, char out[POLL_EVENT_ID_MAX])
{
	char n[32];
	snprintf(n, sizeof(n), "doc:%" PRId64, seq);
	event_id(source_id, n, hash, out);
}

/* ---- Link headers ---- */

int poll_link_next(const char *link, char *out, size_t cap)
{
	const char *p = link;

	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt, *end, *params;
		if (!lt)
			break;
		gt = strchr(lt, '>');
		if (!gt)
			break;
		/* this link's parameters run to the next top-level comma (values may be quoted) */
		params = gt + 1;
		end = params;
		for (bool quoted = false; *end && (quoted || *end != ','); end++) {
			if (*end == '"')
				quoted = !quoted;
		}
		for (const char *q = params; q < end; q++) {
			const char *rel;
			size_t n;
			if (strncasecmp(q, "rel", 3) != 0)
				continue;
			rel = q + 3;
			while (rel < end && *rel == ' ')
				rel++;
			if (rel >= end || *rel != '=')
				continue;
			rel++;
			while (rel < end && (*rel == ' ' || *rel == '"'))
				rel++;
			/* rel may hold several space-separated types: rel="next last" */
			while (rel < end && *rel != '"' && *rel != ';') {
				n = strcspn(rel, " \";,");
				if (n == 4 && strncasecmp(rel, "next", 4) == 0) {
					size_t len = (size_t)(gt - lt - 1);
					if (len == 0 || len >= cap)
						return HK_ENOTFOUND;
					memcpy(out, lt + 1, len);
					out[len] = '\0';
					return 0;
				}
				rel += n;
				while (rel < end && *rel == ' ')
					rel++;
			}
		}
		p = *end ? end + 1 : end;
	}
	return HK_ENOTFOUND;
}
