/*
 * re.c - bounded regcomp (re.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/re.h"

/* bound reads "{m}", "{m,}" or "{m,n}" at p and returns its largest count, or -1 */
static long bound(const char *p, const char **end)
{
	long m = 0, n = -1;
	const char *q = p + 1;

	if (!isdigit((unsigned char)*q))
		return -1;
	while (isdigit((unsigned char)*q) && m < 100000)
		m = m * 10 + (*q++ - '0');
	if (*q == ',') {
		q++;
		if (isdigit((unsigned char)*q)) {
			n = 0;
			while (isdigit((unsigned char)*q) && n < 100000)
				n = n * 10 + (*q++ - '0');
		}
	}
	if (*q != '}')
		return -1;
	*end = q;
	return n > m ? n : m;
}

int re_check(const char *pattern, const char **why)
{
	long product = 1;

	if (strlen(pattern) > RE_PATTERN_MAX) {
		*why = "regular expression too long";
		return HK_EINVAL;
	}
	for (const char *p = pattern; *p; p++) {
		const char *end;
		long b;
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '+') {
			b = 2; /* "x+" is compiled as "xx*" */
			end = p;
		} else if (*p == '{') {
			b = bound(p, &end);
			if (b < 0)
				continue;
		} else {
			continue;
		}
		product *= b > 1 ? b : 1;
		if (product > RE_EXPANSION_MAX) {
			*why = "the regular expression repeats too much (its repetitions multiply past 1024)";
			return HK_EINVAL;
		}
		p = end;
	}
	return 0;
}

int re_compile(regex_t *re, const char *pattern, int flags, char *err, size_t errlen)
{
	const char *why = NULL;
	int e;

	if (re_check(pattern, &why) < 0) {
		snprintf(err, errlen, "%s", why);
		return HK_EINVAL;
	}
	e = regcomp(re, pattern, flags);
	if (e != 0) {
		regerror(e, NULL, err, errlen);
		return HK_EINVAL;
	}
	return 0;
}
