/*
 * rules_eval.c - evaluating a trigger-rule tree against a request.
 *
 * Each node returns a struct outcome: adnanh's (bool, error) pair with the
 * error reduced to the kind that decides how it travels (rules.h). The
 * reason of the last fault is kept for the log (faults that travel up do so
 * at once, so it is theirs); it never holds a MAC.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/err.h"
#include "core/log.h"
#include "hooks/rules.h"

enum fault { FAULT_NONE, FAULT_PARAM, FAULT_SIGNATURE, FAULT_OTHER };

struct outcome {
	bool ok;
	enum fault fault;
};

struct ectx {
	const struct hookreq *req;
	bool soft;
	char *reason;
	size_t reasonlen;
};

static struct outcome fault(const struct ectx *c, enum fault f, const char *fmt, ...)
	HK_PRINTF(3, 4);
static struct outcome fault(const struct ectx *c, enum fault f, const char *fmt, ...)
{
	va_list ap;

	if (c->reason && c->reasonlen) { /* the last fault is the one that travels up */
		va_start(ap, fmt);
		vsnprintf(c->reason, c->reasonlen, fmt, ap);
		va_end(ap);
	}
	return (struct outcome){false, f};
}

static struct outcome from_rc(const struct ectx *c, int rc, const char *what)
{
	if (rc == HK_EVERIFY)
		return fault(c, FAULT_SIGNATURE, "%s: invalid signature", what);
	if (rc == HK_ENOTFOUND)
		return fault(c, FAULT_PARAM, "%s: parameter node not found", what);
	return fault(c, FAULT_OTHER, "%s: %s", what, hk_strerror(rc));
}

static struct outcome eval_match(const struct rule *r, const struct ectx *c)
{
	const char *tn = rules_match_name(r->type);
	struct outcome o = {false, FAULT_NONE};
	char *arg = NULL;
	size_t len = 0;
	int rc;

	if (r->type == RULE_MATCH_IP_WHITELIST) {
		rc = rules_check_ip(c->req->remote_addr, r->ip_range);
		return rc < 0 ? fault(c, FAULT_OTHER, "ip-whitelist: invalid remote address '%s'",
				      c->req->remote_addr)
			      : (struct outcome){rc == 1, FAULT_NONE};
	}
	if (r->type == RULE_MATCH_SCALR) {
		rc = rules_check_scalr(c->req, r->secret, true, c->req->now_ms);
		return rc < 0 ? from_rc(c, rc, tn) : (struct outcome){rc == 1, FAULT_NONE};
	}
	rc = hookreq_value(c->req, r->param.source, r->param.name, &arg, &len);
	if (rc < 0) {
		o = rc == HK_ENOTFOUND
			    ? fault(c, FAULT_PARAM, "parameter node not found: %s", r->param.name)
			    : from_rc(c, rc, tn);
		goto out;
	}
	switch (r->type) {
	case RULE_MATCH_VALUE:
		o.ok = ct_equal(arg, len, r->value, strlen(r->value));
		break;
	case RULE_MATCH_REGEX: {
		regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)len};
		o.ok = regexec(r->re, arg, 1, &m, REG_STARTEND) == 0;
		break;
	}
	default:
		if (memchr(arg, '\0', len)) {
			o = fault(c, FAULT_SIGNATURE, "%s: invalid signature", tn);
			break;
		}
		rc = rules_check_hmac(r->type, c->req->body, c->req->body_len, r->secret, arg,
				      NULL);
		o = rc < 0 ? from_rc(c, rc, tn) : (struct outcome){true, FAULT_NONE};
		break;
	}
out:
	free(arg);
	return o;
}

static struct outcome eval_node(const struct rule *r, const struct ectx *c)
{
	struct outcome o = {false, FAULT_NONE};

	switch (r->kind) {
	case RULE_EMPTY:
		return o;
	case RULE_MATCH:
		return eval_match(r, c);
	case RULE_NOT:
		o = eval_node(r->kids, c);
		o.ok = !o.ok;
		return o;
	case RULE_AND:
		for (size_t i = 0; i < r->nkids; i++) {
			o = eval_node(&r->kids[i], c);
			if (o.fault != FAULT_NONE)
				return (struct outcome){false, o.fault};
			if (!o.ok)
				return o;
		}
		return (struct outcome){true, FAULT_NONE};
	case RULE_OR:
		for (size_t i = 0; i < r->nkids; i++) {
			o = eval_node(&r->kids[i], c);
			if (o.fault == FAULT_OTHER ||
			    (o.fault == FAULT_SIGNATURE && !c->soft))
				return (struct outcome){false, o.fault};
			if (o.ok)
				return (struct outcome){true, FAULT_NONE};
		}
		return (struct outcome){false, FAULT_NONE};
	}
	return o;
}

enum rules_result rules_eval(const struct rule *r, const struct hookreq *req,
			     bool soft_signatures, char *reason, size_t reasonlen)
{
	struct ectx c = {req, soft_signatures, reason, reasonlen};
	struct outcome o;

	if (reason && reasonlen)
		reason[0] = '\0';
	if (!r)
		return RULES_MATCH;
	o = eval_node(r, &c);
	if (o.fault == FAULT_SIGNATURE || o.fault == FAULT_OTHER)
		return RULES_ERROR;
	return o.ok ? RULES_MATCH : RULES_NOMATCH;
}
