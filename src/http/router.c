/*
 * router.c - segment-wise pattern matching; no allocation, bounded by
 * ROUTER_MAX_SEGMENTS and the 256-byte capture size (ids and uids fit).
 */
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

struct segs {
	int n;
	const char *s[ROUTER_MAX_SEGMENTS];
	size_t len[ROUTER_MAX_SEGMENTS];
};

struct router_segs {
	struct segs s;
	bool ok;
};

/* split fills segs; returns false when there are too many segments. */
static bool split(const char *path, struct segs *out)
{
	out->n = 0;
	while (*path) {
		while (*path == '/')
			path++;
		if (!*path)
			break;
		const char *end = strchr(path, '/');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		if (out->n == ROUTER_MAX_SEGMENTS)
			return false;
		out->s[out->n] = path;
		out->len[out->n] = len;
		out->n++;
		path += len;
	}
	return true;
}

static bool match_one(const struct segs *pat, const struct segs *path, struct route_params *params)
{
	if (pat->n != path->n)
		return false;
	params->n = 0;
	for (int i = 0; i < pat->n; i++) {
		const char *p = pat->s[i];
		size_t plen = pat->len[i];
		if (p[0] == '{' && p[plen - 1] == '}') {
			if (path->len[i] > 256 || params->n == ROUTER_MAX_PARAMS)
				return false;
			params->names[params->n] = p;
			memcpy(params->values[params->n], path->s[i], path->len[i]);
			params->values[params->n][path->len[i]] = '\0';
			params->n++;
		} else if (plen != path->len[i] || memcmp(p, path->s[i], plen) != 0) {
			return false;
		}
	}
	return true;
}

/* find walks the routes in order; pattern(i) gives route i's segments */
static enum router_result find(const void *routes, size_t n, size_t stride, const struct router_segs *pre,
			       const char *method, const char *path, const struct route **out,
			       struct route_params *params)
{
	struct segs want, pat;
	bool path_seen = false;

	if (!split(path, &want))
		return ROUTE_NO_PATH;
	for (size_t i = 0; i < n; i++) {
		const struct route *rt = (const void *)((const char *)routes + i * stride);
		const struct segs *ps = &pat;
		if (pre) {
			if (!pre[i].ok)
				continue;
			ps = &pre[i].s;
		} else if (!split(rt->pattern, &pat)) {
			continue;
		}
		if (!match_one(ps, &want, params))
			continue;
		if (rt->method && strcmp(rt->method, method) != 0) {
			path_seen = true;
			continue;
		}
		*out = rt;
		return ROUTE_FOUND;
	}
	return path_seen ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}

int router_init(struct router *rt, const void *routes, size_t n, size_t stride)
{
	rt->routes = routes;
	rt->n = n;
	rt->stride = stride;
	rt->segs = calloc(n ? n : 1, sizeof(*rt->segs));
	if (!rt->segs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct route *r = (const void *)((const char *)routes + i * stride);
		rt->segs[i].ok = split(r->pattern, &rt->segs[i].s);
	}
	return 0;
}

void router_release(struct router *rt)
{
	free(rt->segs);
	rt->segs = NULL;
}

enum router_result router_find(const struct router *rt, const char *method, const char *path,
			       const struct route **out, struct route_params *params)
{
	return find(rt->routes, rt->n, rt->stride, rt->segs, method, path, out, params);
}

enum router_result router_match(const void *routes, size_t n, size_t stride, const char *method,
				const char *path, const struct route **out, struct route_params *params)
{
	return find(routes, n, stride, NULL, method, path, out, params);
}

const char *route_param(const struct route_params *p, const char *name)
{
	size_t len = strlen(name);
	for (int i = 0; i < p->n; i++) {
		/* names[i] points at "{name}" inside the pattern */
		if (strncmp(p->names[i] + 1, name, len) == 0 && p->names[i][len + 1] == '}')
			return p->values[i];
	}
	return NULL;
}
