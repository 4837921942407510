/*
 * rules_regex.c - Go RE2 patterns for POSIX extended regcomp.
 *
 * hooks.json regexes are written for Go's regexp (RE2). hookd compiles them
 * with the C library's regcomp after translating the RE2 spellings that
 * POSIX lacks or reads differently, and refuses the ones it cannot express
 * rather than matching something else. Differences that remain: matching is
 * on bytes rather than UTF-8 characters, and leftmost-longest (POSIX) versus
 * leftmost-first (RE2) never matters because rules only ask whether a match
 * exists.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/re.h"
#include "hooks/rules.h"

#define REGEX_MAX 4096

static int bad(char *err, size_t errlen, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return HK_EINVAL;
}

/* class_escape gives the POSIX spelling of \d \s \w (and negations). */
static const char *class_escape(char c, bool in_bracket)
{
	switch (c) {
	case 'd':
		return in_bracket ? "0-9" : "[0-9]";
	case 'D':
		return in_bracket ? NULL : "[^0-9]";
	case 's':
		return in_bracket ? "[:space:]" : "[[:space:]]";
	case 'S':
		return in_bracket ? NULL : "[^[:space:]]";
	case 'w':
		return in_bracket ? "[:alnum:]_" : "[[:alnum:]_]";
	case 'W':
		return in_bracket ? NULL : "[^[:alnum:]_]";
	default:
		return NULL;
	}
}

static char control_escape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case 'r':
		return '\r';
	case 'f':
		return '\f';
	case 'v':
		return '\v';
	default:
		return 0;
	}
}

/*
 * bracket translates "[...]" starting at *pp (on the '['). An escaped ']'
 * moves first and an escaped '-' last, where POSIX reads them literally.
 */
static int bracket(const char **pp, struct buf *o, char *err, size_t errlen)
{
	const char *p = *pp + 1;
	bool neg = false, rbr = false, dash = false;
	struct buf body;
	int rc = 0;

	buf_init(&body, REGEX_MAX);
	if (*p == '^')
		neg = true, p++;
	if (*p == ']')
		rbr = true, p++;
	while (rc == 0 && *p && *p != ']') {
		if (p[0] == '[' && p[1] == ':') {
			const char *end = strstr(p + 2, ":]");
			if (!end) {
				rc = bad(err, errlen, "unterminated character class");
				break;
			}
			rc = buf_append(&body, p, (size_t)(end + 2 - p));
			p = end + 2;
		} else if (*p == '\\' && p[1]) {
			const char *cls = class_escape(p[1], true);
			char ctl = control_escape(p[1]);
			if (cls)
				rc = buf_appends(&body, cls);
			else if (ctl)
				rc = buf_append(&body, &ctl, 1);
			else if (p[1] == ']')
				rbr = true;
			else if (p[1] == '-')
				dash = true;
			else if ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z'))
				rc = bad(err, errlen, "unsupported escape in a bracket expression");
			else
				rc = buf_append(&body, p + 1, 1);
			p += 2;
		} else {
			rc = buf_append(&body, p++, 1);
		}
	}
	if (rc == 0 && *p != ']')
		rc = bad(err, errlen, "missing ']'");
	if (rc == 0) {
		rc = buf_printf(o, "[%s%s%s%s]", neg ? "^" : "", rbr ? "]" : "", buf_cstr(&body),
				dash ? "-" : "");
		*pp = p + 1;
	}
	buf_release(&body);
	return rc;
}

static int escape(const char **pp, struct buf *o, char *err, size_t errlen)
{
	const char *p = *pp;
	const char *cls = class_escape(p[1], false);
	char ctl = control_escape(p[1]);

	*pp = p + 2;
	if (!p[1])
		return bad(err, errlen, "trailing backslash");
	if (cls)
		return buf_appends(o, cls);
	if (ctl)
		return buf_append(o, &ctl, 1);
	if (p[1] == 'A')
		return buf_appends(o, "^");
	if (p[1] == 'z')
		return buf_appends(o, "$");
	if (p[1] == 'b' || p[1] == 'B')
		return buf_append(o, p, 2); /* GNU regcomp knows word boundaries */
	if ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ||
	    (p[1] >= '0' && p[1] <= '9'))
		return bad(err, errlen, "unsupported escape");
	if (strchr(".[]{}()\\*+?^$|", p[1]))
		return buf_append(o, p, 2);
	return buf_append(o, p + 1, 1); /* \/ \- \# ...: the character itself */
}

/*
 * translate rewrites the pattern into o. It also rejects what RE2 rejects
 * but glibc would take literally: a repetition with nothing to repeat and
 * unbalanced parentheses.
 */
static int translate(const char *re, struct buf *o, int *cflags, char *err, size_t errlen)
{
	const char *p = re;
	bool atom = false; /* something a quantifier could apply to precedes */
	int depth = 0, rc = 0;

	if (strncmp(p, "(?i)", 4) == 0) {
		*cflags |= REG_ICASE;
		p += 4;
	}
	while (rc == 0 && *p) {
		if (*p == '?' && p > re && strchr("*+?}", p[-1]) && !(p - 1 > re && p[-2] == '\\')) {
			p++; /* non-greedy: same match or no match as greedy */
			continue;
		}
		if (strchr("*+?", *p) && !atom)
			return bad(err, errlen, "missing argument to repetition operator");
		if (*p == '\\') {
			rc = escape(&p, o, err, errlen);
			atom = true;
		} else if (*p == '[') {
			rc = bracket(&p, o, err, errlen);
			atom = true;
		} else if (*p == '(') {
			if (p[1] == '?' && p[2] != ':')
				return bad(err, errlen, "unsupported group flags");
			rc = buf_append(o, "(", 1);
			p += p[1] == '?' ? 3 : 1;
			depth++;
			atom = false;
		} else if (*p == ')') {
			if (--depth < 0)
				return bad(err, errlen, "unexpected ')'");
			rc = buf_append(o, p++, 1);
			atom = true;
		} else {
			atom = *p != '|';
			rc = buf_append(o, p++, 1);
		}
	}
	if (rc == 0 && depth != 0)
		return bad(err, errlen, "missing ')'");
	return rc;
}

int rules_regex_compile(const char *pattern, regex_t *out, char *err, size_t errlen)
{
	struct buf o;
	int cflags = REG_EXTENDED | REG_NOSUB;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	buf_init(&o, REGEX_MAX * 4);
	rc = buf_append(&o, "", 0);
	if (rc == 0 && strlen(pattern) > REGEX_MAX)
		rc = bad(err, errlen, "pattern too long");
	if (rc == 0)
		rc = translate(pattern, &o, &cflags, err, errlen);
	if (rc == 0) {
		char msg[128];
		if (re_compile(out, buf_cstr(&o), cflags, msg, sizeof(msg)) < 0)
			rc = bad(err, errlen, msg);
	} else if (err && errlen && !err[0]) {
		snprintf(err, errlen, "%s", hk_strerror(rc));
	}
	buf_release(&o);
	return rc < 0 ? HK_EINVAL : 0;
}
