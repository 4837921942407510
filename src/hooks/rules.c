/*
 * rules.c - parsing and evaluating trigger-rule trees.
 *
 * Evaluation mirrors adnanh/webhook's Go code node for node, because the
 * observable result (trigger, "rules were not satisfied", or 500) depends on
 * how errors travel: every node returns a bool and an error kind, and only
 * or-nodes and the top level swallow some kinds (see rules.h). The checks
 * themselves live in rules_check.c and rules_regex.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/codec.h"
#include "core/err.h"
#include "core/log.h"
#include "hooks/rules.h"

static const struct {
	const char *name;
	enum rule_match type;
	bool deprecated;
} match_types[] = {
	{"value", RULE_MATCH_VALUE, false},
	{"regex", RULE_MATCH_REGEX, false},
	{"payload-hmac-sha1", RULE_MATCH_HMAC_SHA1, false},
	{"payload-hmac-sha256", RULE_MATCH_HMAC_SHA256, false},
	{"payload-hmac-sha512", RULE_MATCH_HMAC_SHA512, false},
	{"payload-hash-sha1", RULE_MATCH_HMAC_SHA1, true},
	{"payload-hash-sha256", RULE_MATCH_HMAC_SHA256, true},
	{"payload-hash-sha512", RULE_MATCH_HMAC_SHA512, true},
	{"ip-whitelist", RULE_MATCH_IP_WHITELIST, false},
	{"scalr-signature", RULE_MATCH_SCALR, false},
};

const char *rules_match_name(enum rule_match type)
{
	for (size_t i = 0; i < sizeof(match_types) / sizeof(match_types[0]); i++) {
		if (match_types[i].type == type && !match_types[i].deprecated)
			return match_types[i].name;
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* parsing                                                              */

static int perr(char *err, size_t errlen, const char *fmt, ...) HK_PRINTF(3, 4);
static int perr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return HK_EINVAL;
}

/* opt_string copies an optional string member ("" when absent). */
static int opt_string(const json_t *obj, const char *key, char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	if (v && !json_is_string(v) && !json_is_null(v))
		return perr(err, errlen, "'%s' must be a string", key);
	*out = strdup(json_is_string(v) ? json_string_value(v) : "");
	return *out ? 0 : HK_ENOMEM;
}

static int parse_param(const json_t *j, struct hookreq_arg *a, char *err, size_t errlen)
{
	const json_t *src = json_object_get(j, "source");
	int rc;

	if (!json_is_object(j))
		return perr(err, errlen, "'parameter' must be an object");
	if (!json_is_string(src))
		return perr(err, errlen, "parameter: missing 'source'");
	if (hookreq_source_parse(json_string_value(src), &a->source) < 0)
		return perr(err, errlen, "parameter: unknown source '%s'", json_string_value(src));
	rc = opt_string(j, "name", &a->name, err, errlen);
	if (rc < 0)
		return rc;
	if (a->source == HOOKREQ_SRC_REQUEST && strcasecmp(a->name, "method") != 0 &&
	    strcasecmp(a->name, "remote-addr") != 0)
		return perr(err, errlen, "parameter: unsupported request key '%s'", a->name);
	return 0;
}

/* check_ranges tries every entry of an ip-range so a bad one fails at load. */
static int check_ranges(const char *ranges, char *err, size_t errlen)
{
	const char *p = ranges;

	while (*p) {
		char one[128];
		size_t len;
		p += strspn(p, " \t\n\r\v\f");
		len = strcspn(p, " \t\n\r\v\f");
		if (len == 0)
			break;
		if (len >= sizeof(one))
			return perr(err, errlen, "ip-whitelist: invalid range '%.*s'", (int)len, p);
		memcpy(one, p, len);
		one[len] = '\0';
		if (rules_check_ip("127.0.0.1:1", one) < 0)
			return perr(err, errlen, "ip-whitelist: invalid range '%s'", one);
		p += len;
	}
	return 0;
}

static int check_match(struct rule *r, const json_t *j, char *err, size_t errlen)
{
	const char *tn = rules_match_name(r->type);
	int rc = 0;

	switch (r->type) {
	case RULE_MATCH_REGEX:
		if (!json_is_string(json_object_get(j, "regex")))
			return perr(err, errlen, "regex: missing 'regex'");
		r->regex = strdup(json_string_value(json_object_get(j, "regex")));
		r->re = malloc(sizeof(*r->re));
		if (!r->regex || !r->re)
			return HK_ENOMEM;
		{
			char why[160];
			rc = rules_regex_compile(r->regex, r->re, why, sizeof(why));
			if (rc < 0) {
				free(r->re);
				r->re = NULL;
				return perr(err, errlen, "regex '%s': %s", r->regex, why);
			}
		}
		break;
	case RULE_MATCH_HMAC_SHA1:
	case RULE_MATCH_HMAC_SHA256:
	case RULE_MATCH_HMAC_SHA512:
	case RULE_MATCH_SCALR:
		if (!*r->secret)
			return perr(err, errlen, "%s: empty 'secret'", tn);
		break;
	case RULE_MATCH_IP_WHITELIST:
		if (!*r->ip_range)
			return perr(err, errlen, "ip-whitelist: empty 'ip-range'");
		return check_ranges(r->ip_range, err, errlen);
	default:
		break;
	}
	return 0;
}

static int parse_match(struct rule *r, const json_t *j, char *err, size_t errlen)
{
	const json_t *type = json_object_get(j, "type");
	const json_t *param = json_object_get(j, "parameter");
	const char *tn;
	size_t i;
	int rc;

	if (!json_is_object(j))
		return perr(err, errlen, "'match' must be an object");
	if (!json_is_string(type))
		return perr(err, errlen, "match: missing 'type'");
	tn = json_string_value(type);
	for (i = 0; i < sizeof(match_types) / sizeof(match_types[0]); i++) {
		if (strcmp(tn, match_types[i].name) == 0)
			break;
	}
	if (i == sizeof(match_types) / sizeof(match_types[0]))
		return perr(err, errlen, "unknown match type '%s'", tn);
	r->type = match_types[i].type;
	r->deprecated = match_types[i].deprecated;
	if (r->deprecated)
		log_warnx("match type '%s' is deprecated, use '%s'", tn, rules_match_name(r->type));
	if ((rc = opt_string(j, "value", &r->value, err, errlen)) < 0 ||
	    (rc = opt_string(j, "secret", &r->secret, err, errlen)) < 0 ||
	    (rc = opt_string(j, "ip-range", &r->ip_range, err, errlen)) < 0)
		return rc;
	if (r->type != RULE_MATCH_IP_WHITELIST && r->type != RULE_MATCH_SCALR) {
		if (!param)
			return perr(err, errlen, "%s: missing 'parameter'", tn);
		rc = parse_param(param, &r->param, err, errlen);
		if (rc < 0)
			return rc;
	}
	return check_match(r, j, err, errlen);
}

static int parse_node(struct rule *r, const json_t *j, int depth, char *err, size_t errlen);

static int parse_list(struct rule *r, const json_t *arr, const char *what, int depth, char *err,
		      size_t errlen)
{
	size_t n = json_array_size(arr);

	if (!json_is_array(arr))
		return perr(err, errlen, "'%s' must be a list of rules", what);
	r->kids = calloc(n ? n : 1, sizeof(*r->kids));
	if (!r->kids)
		return HK_ENOMEM;
	r->nkids = n;
	for (size_t i = 0; i < n; i++) {
		char sub[200];
		int rc = parse_node(&r->kids[i], json_array_get(arr, i), depth + 1, sub, sizeof(sub));
		if (rc < 0) {
			perr(err, errlen, "%s.%zu: %s", what, i, sub);
			return rc;
		}
	}
	return 0;
}

static int parse_node(struct rule *r, const json_t *j, int depth, char *err, size_t errlen)
{
	static const char *kinds[] = {"and", "or", "not", "match"};
	const char *key = NULL;
	size_t found = 0;

	if (depth > RULES_DEPTH_MAX) {
		perr(err, errlen, "rules nested deeper than %d", RULES_DEPTH_MAX);
		return HK_ETOOBIG;
	}
	if (!json_is_object(j))
		return perr(err, errlen, "a rule must be an object");
	for (size_t i = 0; i < 4; i++) {
		if (json_object_get(j, kinds[i])) {
			key = kinds[i];
			found++;
		}
	}
	if (found > 1)
		return perr(err, errlen, "a rule takes exactly one of and, or, not, match");
	if (found == 0) {
		if (json_object_size(j) > 0)
			return perr(err, errlen, "a rule takes exactly one of and, or, not, match");
		r->kind = RULE_EMPTY; /* {} evaluates to false, as in adnanh */
		return 0;
	}
	if (strcmp(key, "match") == 0) {
		r->kind = RULE_MATCH;
		return parse_match(r, json_object_get(j, key), err, errlen);
	}
	if (strcmp(key, "not") == 0) {
		char sub[200];
		int rc;
		r->kind = RULE_NOT;
		r->kids = calloc(1, sizeof(*r->kids));
		if (!r->kids)
			return HK_ENOMEM;
		r->nkids = 1;
		rc = parse_node(r->kids, json_object_get(j, key), depth + 1, sub, sizeof(sub));
		if (rc < 0)
			perr(err, errlen, "not: %s", sub);
		return rc;
	}
	r->kind = strcmp(key, "and") == 0 ? RULE_AND : RULE_OR;
	return parse_list(r, json_object_get(j, key), key, depth, err, errlen);
}

static void rule_release(struct rule *r)
{
	for (size_t i = 0; i < r->nkids; i++)
		rule_release(&r->kids[i]);
	free(r->kids);
	hookreq_arg_release(&r->param);
	free(r->value);
	free(r->secret);
	free(r->ip_range);
	free(r->regex);
	if (r->re) {
		regfree(r->re);
		free(r->re);
	}
}

int rules_parse(const json_t *j, struct rule **out, char *err, size_t errlen)
{
	struct rule *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return HK_ENOMEM;
	rc = parse_node(r, j, 1, err, errlen);
	if (rc < 0) {
		rules_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void rules_free(struct rule *r)
{
	if (!r)
		return;
	rule_release(r);
	free(r);
}
