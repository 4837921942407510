/*
 * router_fuzz.c - request paths against the route patterns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

static const struct route routes[] = {
	{"GET", "/api/v1/app/{app}/endpoint/{ep}/secret"},
	{"POST", "/api/v1/app/{app}/msg/{msg}/endpoint/{ep}/resend"},
	{"GET", "/api/v1/app/{app}"},
	{NULL, "/in/{source}"},
	{"GET", "/"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1);
	const struct route *out;
	struct route_params p;

	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	if (router_match(routes, sizeof(routes) / sizeof(routes[0]), sizeof(routes[0]), "GET", path, &out,
			 &p) == ROUTE_FOUND) {
		route_param(&p, "app");
		route_param(&p, "ep");
	}
	free(path);
	return 0;
}
