/*
 * yamljson.c - YAML to jansson through libyaml's document loader.
 *
 * The loader gives a graph of nodes in which aliases are shared references;
 * convert() walks it recursively, so an alias is expanded each time it is
 * used. The depth cap bounds the recursion and the node budget bounds the
 * expansion.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/err.h"
#include "hooks/yamljson.h"

struct conv {
	yaml_document_t *doc;
	size_t nodes;
	char *err;
	size_t errlen;
};

static int fail(struct conv *c, int rc, const yaml_node_t *n, const char *why)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s at line %zu, column %zu", why,
			 n ? n->start_mark.line + 1 : 0, n ? n->start_mark.column + 1 : 0);
	return rc;
}

static bool is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++) {
		if (strcmp(s, *list) == 0)
			return true;
	}
	return false;
}

/* plain_scalar resolves an unquoted scalar as YAML 1.1 does. */
static json_t *plain_scalar(const char *s, size_t n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"y",  "Y",  "yes", "Yes", "YES", "true",
					    "True", "TRUE", "on", "On", "ON", NULL};
	static const char *const falses[] = {"n",  "N",  "no",  "No",  "NO",  "false",
					     "False", "FALSE", "off", "Off", "OFF", NULL};
	char *end;

	if (strlen(s) != n)
		return json_stringn_nocheck(s, n);
	if (is_one_of(s, nulls))
		return json_null();
	if (is_one_of(s, trues))
		return json_true();
	if (is_one_of(s, falses))
		return json_false();
	if (strcmp(s, ".inf") == 0 || strcmp(s, "+.inf") == 0 || strcmp(s, "-.inf") == 0 ||
	    strcmp(s, ".nan") == 0)
		return json_stringn_nocheck(s, n); /* JSON has no infinities */
	if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+') && s[1])) {
		long long v;
		double d;
		errno = 0;
		v = strtoll(s, &end, 0);
		if (*end == '\0' && errno == 0 && !(s[0] == '0' && s[1] && s[1] != 'x'))
			return json_integer(v);
		errno = 0;
		d = strtod(s, &end);
		if (*end == '\0' && errno == 0 && strpbrk(s, "xXnN") == NULL)
			return json_real(d);
	}
	return json_stringn_nocheck(s, n);
}

static int convert(struct conv *c, yaml_node_t *n, int depth, json_t **out);

static int convert_mapping(struct conv *c, yaml_node_t *n, int depth, json_t *obj)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		json_t *jv;
		int rc;

		if (!k || k->type != YAML_SCALAR_NODE)
			return fail(c, HK_EPARSE, k, "mapping keys must be scalars");
		if (!v)
			return fail(c, HK_EPARSE, n, "missing value");
		rc = convert(c, v, depth + 1, &jv);
		if (rc < 0)
			return rc;
		if (json_object_setn_new_nocheck(obj, (const char *)k->data.scalar.value,
						 k->data.scalar.length, jv) < 0)
			return HK_ENOMEM;
	}
	return 0;
}

static int convert_sequence(struct conv *c, yaml_node_t *n, int depth, json_t *arr)
{
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *v = yaml_document_get_node(c->doc, *i);
		json_t *jv;
		int rc;

		if (!v)
			return fail(c, HK_EPARSE, n, "missing item");
		rc = convert(c, v, depth + 1, &jv);
		if (rc < 0)
			return rc;
		if (json_array_append_new(arr, jv) < 0)
			return HK_ENOMEM;
	}
	return 0;
}

static int convert(struct conv *c, yaml_node_t *n, int depth, json_t **out)
{
	json_t *v;
	int rc = 0;

	if (depth > YAMLJSON_DEPTH_MAX)
		return fail(c, HK_ETOOBIG, n, "nesting too deep");
	if (++c->nodes > YAMLJSON_NODES_MAX)
		return fail(c, HK_ETOOBIG, n, "too many values");
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)n->data.scalar.value;
		size_t len = n->data.scalar.length;
		/* libyaml tags every untagged scalar !!str, so tags cannot guide this */
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			v = plain_scalar(s, len);
		else
			v = json_stringn_nocheck(s, len);
		break;
	}
	case YAML_MAPPING_NODE:
		v = json_object();
		if (v)
			rc = convert_mapping(c, n, depth, v);
		break;
	case YAML_SEQUENCE_NODE:
		v = json_array();
		if (v)
			rc = convert_sequence(c, n, depth, v);
		break;
	default:
		return fail(c, HK_EPARSE, n, "unexpected node");
	}
	if (!v)
		return HK_ENOMEM;
	if (rc < 0) {
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}

int yamljson_parse(const char *s, size_t n, json_t **out, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct conv c = {.doc = &doc, .err = err, .errlen = errlen};
	yaml_node_t *root;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!yaml_parser_initialize(&parser))
		return HK_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)s, n);
	if (!yaml_parser_load(&parser, &doc)) {
		if (err && errlen)
			snprintf(err, errlen, "%s at line %zu, column %zu",
				 parser.problem ? parser.problem : "syntax error",
				 parser.problem_mark.line + 1, parser.problem_mark.column + 1);
		yaml_parser_delete(&parser);
		return HK_EPARSE;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		*out = json_null();
		rc = 0;
	} else {
		rc = convert(&c, root, 1, out);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}
