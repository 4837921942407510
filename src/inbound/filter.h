/*
 * filter.h - the conditions an inbound route puts on an event.
 *
 * A filter is a condition or a combination:
 *     {"all": [F, ...]}   every one holds (an array [F, ...] means the same)
 *     {"any": [F, ...]}   at least one holds
 *     {"not": F}
 *     {"header": "X-GitHub-Event", "equals": "push"}
 *     {"field": "repository.full_name", "in": ["acme/api", "acme/web"]}
 *     {"field": "ref", "regex": "^refs/heads/(main|release/.*)$"}
 *     {"field": "pull_request", "exists": true}
 *     {"field": "amount", "gt": 100}      (also "gte", "lt", "lte")
 * "field" is a dot path into the JSON body ("commits.0.id"; a key that
 * itself contains dots is tried first). Header names are case-insensitive.
 * A condition on a missing value is false (except "exists": false).
 * Regexes are POSIX extended; each filter is checked when the source is
 * saved, so a bad one is refused with a reason, not discovered at run time.
 */
#ifndef HK_FILTER_H
#define HK_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define FILTER_DEPTH_MAX 8

/* filter_check validates a filter; HK_EINVAL with a reason in err */
int filter_check(const json_t *filter, char *err, size_t errlen);

/*
 * filter_match evaluates a (checked) filter; header() looks a request
 * header up by name, body is the parsed JSON body or NULL.
 */
bool filter_match(const json_t *filter, const char *(*header)(void *ctx, const char *name), void *hctx,
		  const json_t *body);

/* filter_path finds a dot path in a JSON document (borrowed), or NULL */
const json_t *filter_path(const json_t *doc, const char *path);

#endif
