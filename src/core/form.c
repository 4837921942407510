/*
 * form.c - application/x-www-form-urlencoded and query strings, decoded the
 * way Go's url.ParseQuery does (adnanh/webhook compatibility): '+' is a
 * space, a bad escape skips its pair, ';' separators are refused, the first
 * value of a repeated name wins.
 */
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/err.h"
#include "core/form.h"

static int hexval(unsigned char c)
{
	unsigned char out;
	size_t n;
	char two[2] = {'0', (char)c};
	return hex_decode(two, 2, &out, &n) == 0 ? out : -1;
}

/* unescape decodes in place; returns the new length or -1 on a bad escape. */
static long unescape(char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			s[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	return (long)o;
}

/* add_pair decodes one "key=value" and stores it unless the key exists. */
static int add_pair(json_t *obj, const char *p, size_t n)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;
	char *tmp = malloc(n + 1);
	long kl, vl;
	int rc = 0;

	if (!tmp)
		return HK_ENOMEM;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	kl = unescape(tmp, klen);
	vl = eq ? unescape(tmp + klen + 1, n - klen - 1) : 0;
	if (kl < 0 || vl < 0) {
		rc = HK_EPARSE;
		goto out;
	}
	if (json_object_getn(obj, tmp, (size_t)kl))
		goto out;
	if (json_object_size(obj) >= FORM_PAIRS_MAX) {
		rc = HK_ETOOBIG;
		goto out;
	}
	if (json_object_setn_new_nocheck(obj, tmp, (size_t)kl,
					 json_stringn_nocheck(eq ? tmp + klen + 1 : "",
							      (size_t)vl)) < 0)
		rc = HK_ENOMEM;
out:
	free(tmp);
	return rc;
}

int form_parse(const char *s, size_t len, json_t *obj)
{
	int err = 0;
	size_t i = 0;

	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t n = amp ? (size_t)(amp - (s + i)) : len - i;
		int rc = 0;

		if (memchr(s + i, ';', n))
			rc = HK_EPARSE; /* Go rejects ';' separators */
		else if (n > 0)
			rc = add_pair(obj, s + i, n);
		if (rc == HK_ENOMEM || rc == HK_ETOOBIG)
			return rc;
		if (rc < 0 && err == 0)
			err = rc;
		i += n + (amp ? 1 : 0);
	}
	return err;
}

