/*
 * re.h - POSIX extended regular expressions from untrusted text, compiled
 * only when compiling them is bounded.
 *
 * The C library's regcomp expands bounded repetitions ("a{100}") and "+" by
 * copying the repeated tree, so "((a{255}){255}){255}" or "a+++...+" make it
 * allocate gigabytes. re_compile refuses patterns longer than RE_PATTERN_MAX,
 * groups nested deeper than RE_DEPTH_MAX, and patterns that would expand past
 * RE_EXPANSION_MAX atoms (an atom is one; a group the sum of its parts;
 * "x{m,n}" n copies of x and "x+" two, so sequential repeats add and nested
 * ones multiply), before regcomp sees them.
 */
#ifndef HK_RE_H
#define HK_RE_H

#include <regex.h>
#include <stddef.h>

#define RE_PATTERN_MAX 1024
#define RE_EXPANSION_MAX 4096
#define RE_DEPTH_MAX 64

/* re_check: 0 or HK_EINVAL with a reason (static text) */
int re_check(const char *pattern, const char **why);
/* re_compile: re_check, then regcomp with flags; 0, or HK_EINVAL with the reason in err */
int re_compile(regex_t *re, const char *pattern, int flags, char *err, size_t errlen);

#endif
