/*
 * hookdef_run.c - applying a loaded hook to one request: allowed methods,
 * body parsing, the trigger decision, and the argv / environment / files of
 * the command to run.
 *
 * Nothing here spawns or writes anything: the runner receives plain data
 * (struct hookdef_argv) and does the side effects. Value failures follow
 * adnanh (logged, then "" in argv or left out of env and files); only a NUL
 * byte fails the build, since it cannot travel through execve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/codec.h"
#include "core/err.h"
#include "core/log.h"
#include "hooks/hookdef.h"

bool hookdef_method_allowed(const struct hookdef *def, const char *method)
{
	if (def->nhttp_methods == 0)
		return true;
	for (size_t i = 0; i < def->nhttp_methods; i++) {
		if (strcmp(def->http_methods[i], method) == 0)
			return true;
	}
	return false;
}

int hookdef_exit_http_status(const struct hookdef *def, int exit_code)
{
	for (size_t i = 0; i < def->nexit_statuses; i++) {
		if (def->exit_statuses[i].exit_code == exit_code)
			return def->exit_statuses[i].http_status;
	}
	if (exit_code != 0)
		return 500;
	return def->success_http_response_code ? def->success_http_response_code : 200;
}

int hookdef_prepare_request(const struct hookdef *def, struct hookreq *req)
{
	int rc = hookreq_parse_body(req, def->incoming_payload_content_type, def->parse_json,
				    def->nparse_json);

	if (rc < 0)
		return rc;
	rc = hookreq_parse_json_args(req, def->parse_json, def->nparse_json);
	return rc == HK_ENOMEM ? rc : 0; /* failures are logged, as adnanh does */
}

enum rules_result hookdef_trigger(const struct hookdef *def, const struct hookreq *req,
				  int *status, const char **body, char *reason, size_t reasonlen)
{
	enum rules_result res = rules_eval(def->trigger_rule, req,
					   def->trigger_signature_soft_failures, reason, reasonlen);

	if (res == RULES_NOMATCH) {
		*status = def->trigger_rule_mismatch_http_response_code
				  ? def->trigger_rule_mismatch_http_response_code
				  : 200;
		*body = "Hook rules were not satisfied.";
	} else if (res == RULES_ERROR) {
		*status = 500;
		*body = "Error occurred while evaluating hook rules.";
	}
	return res;
}

/* ------------------------------------------------------------------ */
/* argv, env, files                                                     */

static int push(char ***v, size_t *n, char *s)
{
	char **nv;

	if (!s)
		return HK_ENOMEM;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return HK_ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* terminate makes an empty list a valid NULL-terminated array. */
static int terminate(char ***v)
{
	if (!*v)
		*v = calloc(1, sizeof(char *));
	return *v ? 0 : HK_ENOMEM;
}

static int nul_error(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "argument contains a NUL byte");
	return HK_EINVAL;
}

/* value fetches one argument; 1 when it does not resolve (logged). */
static int value(const struct hookdef *def, const struct hookreq *req,
		 const struct hookreq_arg *a, char **out, size_t *len)
{
	int rc = hookreq_value(req, a->source, a->name, out, len);

	if (rc == HK_ENOMEM)
		return rc;
	if (rc < 0) {
		log_warnx("hook '%s': cannot resolve %s '%s': %s", def->id,
			  hookreq_source_name(a->source), a->name, hk_strerror(rc));
		*out = NULL;
		return 1;
	}
	return 0;
}

static int build_args(const struct hookdef *def, const struct hookreq *req,
		      struct hookdef_argv *o, char *err, size_t errlen)
{
	int rc = push(&o->argv, &o->argc, strdup(def->execute_command));

	for (size_t i = 0; rc == 0 && i < def->npass_arguments; i++) {
		char *v;
		size_t len;
		rc = value(def, req, &def->pass_arguments[i], &v, &len);
		if (rc == 1) {
			rc = push(&o->argv, &o->argc, strdup(""));
		} else if (rc == 0 && strlen(v) != len) {
			free(v);
			rc = nul_error(err, errlen);
		} else if (rc == 0) {
			rc = push(&o->argv, &o->argc, v);
		}
	}
	return rc;
}

static int build_env(const struct hookdef *def, const struct hookreq *req,
		     struct hookdef_argv *o, char *err, size_t errlen)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < def->npass_environment; i++) {
		const struct hookreq_arg *a = &def->pass_environment[i];
		char *v, *entry;
		size_t len, need;
		rc = value(def, req, a, &v, &len);
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		if (strlen(v) != len) {
			free(v);
			return nul_error(err, errlen);
		}
		need = (a->envname ? strlen(a->envname) : 5 + strlen(a->name)) + len + 2;
		entry = malloc(need);
		if (entry)
			snprintf(entry, need, "%s%s=%s", a->envname ? "" : "HOOK_",
				 a->envname ? a->envname : a->name, v);
		free(v);
		rc = push(&o->env, &o->nenv, entry);
	}
	return rc;
}

static char *file_envname(const struct hookreq_arg *a)
{
	char *s;

	if (a->envname)
		return strdup(a->envname);
	s = malloc(strlen(a->name) + 6);
	if (!s)
		return NULL;
	memcpy(s, "HOOK_", 5);
	for (size_t i = 0; i <= strlen(a->name); i++) {
		char c = a->name[i];
		s[5 + i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	return s;
}

static int add_file(const struct hookdef *def, struct hookdef_argv *o,
		    const struct hookreq_arg *a, char *v, size_t len)
{
	struct hookdef_file *nf = realloc(o->files, (o->nfiles + 1) * sizeof(*nf));
	struct hookdef_file *f;

	if (!nf) {
		free(v);
		return HK_ENOMEM;
	}
	o->files = nf;
	f = &o->files[o->nfiles];
	f->envname = file_envname(a);
	f->data = (unsigned char *)v;
	f->len = len;
	if (a->base64decode) {
		unsigned char *dec = malloc(base64_dec_len(len));
		size_t dlen = 0;
		if (!dec || base64_decode(v, len, dec, &dlen) < 0) {
			log_warnx("hook '%s': cannot decode base64 of '%s', writing an empty file",
				  def->id, a->name);
			dlen = 0;
		}
		free(v);
		f->data = dec;
		f->len = dlen;
	}
	if (!f->envname || !f->data) {
		free(f->envname);
		free(f->data);
		return HK_ENOMEM;
	}
	o->nfiles++;
	return 0;
}

static int build_files(const struct hookdef *def, const struct hookreq *req,
		       struct hookdef_argv *o)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < def->npass_files; i++) {
		char *v;
		size_t len;
		rc = value(def, req, &def->pass_files[i], &v, &len);
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc == 0)
			rc = add_file(def, o, &def->pass_files[i], v, len);
	}
	return rc;
}

int hookdef_build_argv(const struct hookdef *def, const struct hookreq *req,
		       struct hookdef_argv *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	rc = build_args(def, req, out, err, errlen);
	if (rc == 0)
		rc = build_env(def, req, out, err, errlen);
	if (rc == 0)
		rc = terminate(&out->env);
	if (rc == 0)
		rc = build_files(def, req, out);
	if (rc < 0)
		hookdef_argv_release(out);
	return rc;
}

void hookdef_argv_release(struct hookdef_argv *a)
{
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	for (size_t i = 0; i < a->nenv; i++)
		free(a->env[i]);
	free(a->env);
	for (size_t i = 0; i < a->nfiles; i++) {
		free(a->files[i].envname);
		free(a->files[i].data);
	}
	free(a->files);
	memset(a, 0, sizeof(*a));
}
