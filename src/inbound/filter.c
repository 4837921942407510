/*
 * filter.c - route filters over headers and JSON bodies (see filter.h).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/re.h"
#include "inbound/filter.h"

static const char *const ops[] = {"equals", "in", "exists", "regex", "gt", "gte", "lt", "lte"};

const json_t *filter_path(const json_t *doc, const char *path)
{
	const json_t *cur = doc;
	char part[256];

	if (!doc || !path)
		return NULL;
	if (json_is_object(doc) && json_object_get(doc, path))
		return json_object_get(doc, path);
	while (*path && cur) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		if (json_is_object(cur)) {
			cur = json_object_get(cur, part);
		} else if (json_is_array(cur)) {
			char *end;
			long i = strtol(part, &end, 10);
			cur = *end || n == 0 || i < 0 ? NULL : json_array_get(cur, (size_t)i);
		} else {
			return NULL;
		}
		path += n;
		if (*path == '.')
			path++;
	}
	return cur;
}

static int check_cond(const json_t *f, char *err, size_t errlen)
{
	const char *op = NULL;
	int nops = 0;
	const json_t *v;

	if (!json_is_string(json_object_get(f, "header")) && !json_is_string(json_object_get(f, "field"))) {
		snprintf(err, errlen, "a condition needs \"header\" or \"field\"");
		return HK_EINVAL;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (json_object_get(f, ops[i])) {
			op = ops[i];
			nops++;
		}
	}
	if (nops != 1) {
		snprintf(err, errlen, "a condition needs exactly one of equals, in, exists, regex, gt, gte, lt, lte");
		return HK_EINVAL;
	}
	v = json_object_get(f, op);
	if (strcmp(op, "in") == 0 && !json_is_array(v)) {
		snprintf(err, errlen, "\"in\" needs a list");
		return HK_EINVAL;
	}
	if (strcmp(op, "exists") == 0 && !json_is_boolean(v)) {
		snprintf(err, errlen, "\"exists\" needs true or false");
		return HK_EINVAL;
	}
	if (op[0] == 'g' || op[0] == 'l') {
		if (!json_is_number(v)) {
			snprintf(err, errlen, "\"%s\" needs a number", op);
			return HK_EINVAL;
		}
	}
	if (strcmp(op, "regex") == 0) {
		regex_t re;
		char why[128];
		if (!json_is_string(v) ||
		    re_compile(&re, json_string_value(v), REG_EXTENDED | REG_NOSUB, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "\"regex\" is not a valid extended regular expression");
			return HK_EINVAL;
		}
		regfree(&re);
	}
	return 0;
}

static int check(const json_t *f, int depth, char *err, size_t errlen)
{
	const json_t *list = NULL, *item;
	size_t i;

	if (depth > FILTER_DEPTH_MAX) {
		snprintf(err, errlen, "filter nested deeper than %d levels", FILTER_DEPTH_MAX);
		return HK_EINVAL;
	}
	if (json_is_array(f))
		list = f;
	else if (json_is_object(f) && (json_object_get(f, "all") || json_object_get(f, "any")))
		list = json_object_get(f, "all") ? json_object_get(f, "all") : json_object_get(f, "any");
	else if (json_is_object(f) && json_object_get(f, "not"))
		return check(json_object_get(f, "not"), depth + 1, err, errlen);
	else if (json_is_object(f))
		return check_cond(f, err, errlen);
	else {
		snprintf(err, errlen, "a filter is an object or a list");
		return HK_EINVAL;
	}
	if (!json_is_array(list) || json_array_size(list) > 64) {
		snprintf(err, errlen, "\"all\" and \"any\" need a list of at most 64 filters");
		return HK_EINVAL;
	}
	json_array_foreach(list, i, item) {
		int rc = check(item, depth + 1, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int filter_check(const json_t *filter, char *err, size_t errlen)
{
	return check(filter, 0, err, errlen);
}

/* value_text renders a scalar for string comparison */
static bool same(const json_t *got, const json_t *want)
{
	if (json_is_string(got) && json_is_string(want))
		return strcmp(json_string_value(got), json_string_value(want)) == 0;
	if (json_is_number(got) && json_is_number(want))
		return json_number_value(got) == json_number_value(want);
	return json_equal((json_t *)got, (json_t *)want);
}

static bool eval_cond(const json_t *f, const char *(*header)(void *, const char *), void *hctx,
		      const json_t *body)
{
	const char *hname = json_string_value(json_object_get(f, "header"));
	json_t *hval = NULL;
	const json_t *got, *v;
	bool result = false;

	if (hname) {
		const char *h = header ? header(hctx, hname) : NULL;
		hval = h ? json_string(h) : NULL;
		got = hval;
	} else {
		got = filter_path(body, json_string_value(json_object_get(f, "field")));
	}
	if ((v = json_object_get(f, "exists"))) {
		result = json_is_true(v) == (got != NULL);
	} else if (!got) {
		result = false;
	} else if ((v = json_object_get(f, "equals"))) {
		result = same(got, v);
	} else if ((v = json_object_get(f, "in"))) {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			if (same(got, item)) {
				result = true;
				break;
			}
		}
	} else if ((v = json_object_get(f, "regex"))) {
		regex_t re;
		char why[128];
		if (json_is_string(got) &&
		    re_compile(&re, json_string_value(v), REG_EXTENDED | REG_NOSUB, why, sizeof(why)) == 0) {
			result = regexec(&re, json_string_value(got), 0, NULL, 0) == 0;
			regfree(&re);
		}
	} else if (json_is_number(got)) {
		double a = json_number_value(got);
		if ((v = json_object_get(f, "gt")))
			result = a > json_number_value(v);
		else if ((v = json_object_get(f, "gte")))
			result = a >= json_number_value(v);
		else if ((v = json_object_get(f, "lt")))
			result = a < json_number_value(v);
		else if ((v = json_object_get(f, "lte")))
			result = a <= json_number_value(v);
	}
	json_decref(hval);
	return result;
}

bool filter_match(const json_t *f, const char *(*header)(void *, const char *), void *hctx,
		  const json_t *body)
{
	const json_t *list, *item;
	size_t i;
	bool any;

	if (!f || json_is_null(f))
		return true;
	if (json_is_object(f) && json_object_get(f, "not"))
		return !filter_match(json_object_get(f, "not"), header, hctx, body);
	any = json_is_object(f) && json_object_get(f, "any");
	list = json_is_array(f) ? f : json_object_get(f, any ? "any" : "all");
	if (!list)
		return eval_cond(f, header, hctx, body);
	json_array_foreach(list, i, item) {
		bool ok = filter_match(item, header, hctx, body);
		if (any && ok)
			return true;
		if (!any && !ok)
			return false;
	}
	return !any;
}
