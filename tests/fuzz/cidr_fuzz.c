/*
 * cidr_fuzz.c - libFuzzer driver for addr_policy_add_cidr(): the input,
 * NUL-terminated, is one CIDR. An accepted CIDR must have a valid family and
 * prefix, and must allow its own network address.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "deliver/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct addr_policy *p)
{
	const struct addr_cidr *c = &p->cidrs[0];
	struct sockaddr_storage ss = {0};

	if (c->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		if (c->prefix < 0 || c->prefix > 32)
			abort();
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, c->net, 4);
	} else if (c->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		if (c->prefix < 0 || c->prefix > 128)
			abort();
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, c->net, 16);
	} else {
		abort();
	}
	if (addr_policy_check(p, (struct sockaddr *)&ss) != 0)
		abort();
	(void)addr_classify((struct sockaddr *)&ss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_policy p;
	char *text = malloc(size + 1);
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	addr_policy_init(&p, false);
	rc = addr_policy_add_cidr(&p, text);
	if (rc == 0) {
		if (p.n != 1)
			abort();
		check_accepted(&p);
	} else if (rc != HK_EINVAL || p.n != 0) {
		abort();
	}
	free(text);
	return 0;
}
