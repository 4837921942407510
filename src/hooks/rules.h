/*
 * rules.h - trigger rules of command hooks (adnanh/webhook 2.8 compatible).
 *
 * A trigger-rule is a tree of and / or / not / match nodes parsed once from
 * the hooks file (rules_parse) and evaluated per request (rules_eval).
 *
 * Match types: value (constant-time compare), regex, payload-hmac-sha1/
 * sha256/sha512 and their deprecated aliases payload-hash-*, ip-whitelist,
 * scalr-signature.
 *
 * Evaluation follows adnanh exactly. Every node yields (bool, error) where
 * the error is one of: parameter not found, signature failure, other.
 *   - and: the first error stops it and is passed up; a false stops it.
 *   - or: a "parameter not found" error is ignored; with soft signature
 *     failures (trigger-signature-soft-failures) a signature failure is
 *     ignored too (the child counts as whatever it returned, false); any
 *     other error stops it and is passed up.
 *   - not: negates the child's bool and passes its error up unchanged.
 *   - at the top: "parameter not found" is not an error (the bool stands),
 *     anything else is RULES_ERROR (500 "Error occurred while evaluating hook
 *     rules."). So soft failures only soften signatures inside an or.
 *   - an empty rule object ({}) is false.
 *
 * Signature checks: hex HMAC of the raw body; the signature may carry a
 * "sha1=" / "sha256=" / "sha512=" prefix; when it contains a comma it is a
 * list and only entries with the prefix are tried; the comparison is
 * constant-time and case-sensitive (lowercase hex). scalr-signature needs
 * the X-Signature and Date headers (false without them), checks HMAC-SHA1 of
 * body then Date, and a Date ("Mon 02 Jan 2006 15:04:05 MST", zone taken as
 * UTC) within 5 minutes of now.
 *
 * Regex: Go's RE2 syntax is translated to POSIX extended regcomp: \d \D \s
 * \S \w \W, (?:...), a leading (?i), non-greedy quantifiers (same match/no
 * match outcome), \n \t \r, escaped punctuation. Not supported (load error):
 * other (?flags), \p{..} classes, \Q..\E, named groups. Matching is bytewise
 * (no UTF-8 awareness) and unanchored, like regexp.MatchString.
 *
 * Stricter than adnanh at load time (clear errors instead of a 500 or a
 * silent false at run time): unknown match types, unknown sources, invalid
 * regexes, invalid ip-range entries, missing secrets.
 *
 * Ownership: rules_parse returns a tree the caller frees with rules_free;
 * evaluation does not modify it, so one tree may be evaluated from several
 * threads at once.
 */
#ifndef HK_RULES_H
#define HK_RULES_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "hooks/hookreq.h"

#define RULES_DEPTH_MAX 32
#define RULES_MAC_HEX_MAX 129 /* sha512 in hex plus NUL */

enum rule_kind { RULE_EMPTY, RULE_AND, RULE_OR, RULE_NOT, RULE_MATCH };

enum rule_match {
	RULE_MATCH_VALUE,
	RULE_MATCH_REGEX,
	RULE_MATCH_HMAC_SHA1,
	RULE_MATCH_HMAC_SHA256,
	RULE_MATCH_HMAC_SHA512,
	RULE_MATCH_IP_WHITELIST,
	RULE_MATCH_SCALR,
};

struct rule {
	enum rule_kind kind;
	struct rule *kids; /* owned array: and/or children, or not's one child */
	size_t nkids;
	/* match only */
	enum rule_match type;
	bool deprecated;         /* written as payload-hash-* */
	struct hookreq_arg param;
	char *value;             /* owned, "" when absent */
	char *secret;            /* owned, "" when absent */
	char *ip_range;          /* owned, "" when absent */
	char *regex;             /* owned source text, or NULL */
	regex_t *re;             /* owned compiled regex, or NULL */
};

enum rules_result { RULES_NOMATCH = 0, RULES_MATCH = 1, RULES_ERROR = 2 };

/*
 * rules_parse builds a rule tree from a trigger-rule JSON value. On failure
 * err gets the reason ("unknown match type 'foo'", "and.1.match: regex:
 * ...") and HK_EINVAL or HK_ETOOBIG (deeper than RULES_DEPTH_MAX) returns.
 */
int rules_parse(const json_t *j, struct rule **out, char *err, size_t errlen);
void rules_free(struct rule *r);

/*
 * rules_eval evaluates a tree against a request. soft_signatures is the
 * hook's trigger-signature-soft-failures. On RULES_ERROR, reason (may be
 * NULL) says why; it never contains the expected MAC.
 */
enum rules_result rules_eval(const struct rule *r, const struct hookreq *req,
			     bool soft_signatures, char *reason, size_t reasonlen);

/* rules_match_name returns "value", "payload-hmac-sha256", ... */
const char *rules_match_name(enum rule_match type);

/*
 * rules_check_hmac verifies signature (prefix and list rules above) against
 * the HMAC of payload; mac_hex (may be NULL, RULES_MAC_HEX_MAX bytes) gets
 * the computed MAC. 0 when one entry matches, HK_EVERIFY when none does,
 * HK_EINVAL for an empty secret or a type that is not an HMAC.
 */
int rules_check_hmac(enum rule_match type, const void *payload, size_t n, const char *secret,
		     const char *signature, char *mac_hex);

/*
 * rules_check_ip tells whether remote_addr ("ip:port", "[v6]:port") lies in
 * one of the whitespace-separated ranges (CIDR or single address, a single
 * address meaning /32 as in adnanh). 1 yes, 0 no, HK_EINVAL for an invalid
 * address or range.
 */
int rules_check_ip(const char *remote_addr, const char *ip_range);

/*
 * rules_check_scalr verifies a Scalr request signature. 1 valid, 0 when the
 * X-Signature or Date header is missing, HK_EVERIFY for a wrong signature or
 * a date more than 300 s from now_ms (skipped when check_date is false),
 * HK_EINVAL for an empty key, HK_EPARSE for an unreadable date.
 */
int rules_check_scalr(const struct hookreq *req, const char *key, bool check_date,
		      int64_t now_ms);

/*
 * rules_regex_compile translates an RE2 pattern (see above) and compiles it
 * with REG_EXTENDED | REG_NOSUB. On failure err gets the reason.
 */
int rules_regex_compile(const char *pattern, regex_t *out, char *err, size_t errlen);

#endif
