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

/* skip_bracket returns the ']' that closes the bracket expression opening at p, or NULL */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++; /* a leading ']' is a member */
	for (; *p && *p != ']'; p++) {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *close = strchr(p + 2, p[1]);
			if (close && close[1] == ']')
				p = close + 1;
		}
	}
	return *p ? p : NULL;
}

/*
 * re_check estimates how many atoms regcomp makes of pattern: each atom is
 * one, a group the sum of what it holds, and a bounded repeat copies its
 * atom (so sequential repeats add and nested ones multiply). Repetition
 * operators stacked on one atom ("a??", "a+?" are fine; "a???" is not) are
 * refused: each adds a layer of empty paths that regcomp explores
 * exhaustively.
 */
int re_check(const char *pattern, const char **why)
{
	long outer[RE_DEPTH_MAX], sum = 0, last = 0, b;
	int depth = 0, stacked = 0;
	const char *end;

	if (strlen(pattern) > RE_PATTERN_MAX) {
		*why = "regular expression too long";
		return HK_EINVAL;
	}
	for (const char *p = pattern; *p; p++) {
		switch (*p) {
		case '\\':
			if (p[1])
				p++;
			last = 1;
			break;
		case '[':
			end = skip_bracket(p);
			if (end)
				p = end;
			last = 1;
			break;
		case '(':
			if (depth == RE_DEPTH_MAX) {
				*why = "the regular expression nests too deep";
				return HK_EINVAL;
			}
			outer[depth++] = sum;
			sum = last = 0;
			stacked = 0;
			continue;
		case ')':
			if (depth > 0) {
				last = sum;
				sum = outer[--depth];
			} else {
				last = 1;
			}
			break;
		case '{':
			b = bound(p, &end);
			if (b < 0) {
				last = 1;
				break;
			}
			sum += last * (b > 1 ? b - 1 : 0);
			last *= b > 1 ? b : 1;
			p = end;
			goto repeat;
		case '+':
			sum += last; /* "x+" is compiled as "xx*" */
			last *= 2;
			goto repeat;
		case '*':
		case '?':
			goto repeat;
		case '|':
			last = 0;
			stacked = 0;
			continue;
		default:
			last = 1;
			break;
		}
		sum += last;
		stacked = 0;
		goto check;
	repeat:
		if (++stacked > 2) {
			*why = "the regular expression stacks repetition operators";
			return HK_EINVAL;
		}
	check:
		if (sum > RE_EXPANSION_MAX || last > RE_EXPANSION_MAX) {
			*why = "the regular expression repeats too much (its copies of repeated parts pass 4096)";
			return HK_EINVAL;
		}
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
