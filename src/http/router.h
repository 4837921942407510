/*
 * router.h - match a method and a path against a table of patterns.
 *
 * Patterns are literal segments and {name} captures:
 *     "/api/v1/app/{app}/endpoint/{ep}"
 * Trailing slashes and repeated slashes in the path are ignored. A capture
 * matches one non-empty segment. Matching walks the table in order, so put
 * literal routes ("/msg/{msg}/content") before ones they shadow.
 */
#ifndef HK_ROUTER_H
#define HK_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTER_MAX_PARAMS 6
#define ROUTER_MAX_SEGMENTS 16

struct route_params {
	int n;
	const char *names[ROUTER_MAX_PARAMS];
	char values[ROUTER_MAX_PARAMS][257];
};

/*
 * struct route is a base: users embed it first in their own route struct
 * (with a handler of their own type) and pass the element size as stride.
 */
struct route {
	const char *method;  /* "GET", ... ; NULL matches any */
	const char *pattern;
};

enum router_result { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };

/*
 * router_match finds the route for method and path among n routes. On
 * ROUTE_FOUND *out points at the matching element and params holds the captures.
 * ROUTE_NO_METHOD means the path exists under another method.
 */
enum router_result router_match(const void *routes, size_t n, size_t stride, const char *method,
				const char *path, const struct route **out, struct route_params *params);

/*
 * A compiled router splits every pattern once, so matching a request costs
 * one split of its path and segment compares, however many routes there are.
 * It keeps pointers into routes, which must outlive it.
 */
struct router {
	const void *routes;
	size_t n, stride;
	struct router_segs *segs; /* one per route */
};

int router_init(struct router *rt, const void *routes, size_t n, size_t stride);
void router_release(struct router *rt);
enum router_result router_find(const struct router *rt, const char *method, const char *path,
			       const struct route **out, struct route_params *params);

/* route_param returns the capture called name, or NULL. */
const char *route_param(const struct route_params *p, const char *name);

#endif
