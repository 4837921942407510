/*
 * hookdef.c - loading and validating hooks files.
 *
 * Both formats become one jansson tree (JSON directly, YAML through
 * yamljson), and one validator turns it into struct hookdef. Simple fields
 * are described by a table (key, type, offset) so that adding one is a line;
 * lists and the trigger rule have their own readers. Every reader writes its
 * reason into err and the per-hook loop prefixes the hook's id or index.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "hooks/hookdef.h"
#include "hooks/yamljson.h"

static int ferr(char *err, size_t errlen, const char *fmt, ...) HK_PRINTF(3, 4);
static int ferr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return HK_EINVAL;
}

/* ------------------------------------------------------------------ */
/* scalar fields                                                        */

enum ftype { F_STR, F_BOOL, F_STATUS, F_UINT, F_SIZE };

static const struct field {
	const char *key;
	enum ftype type;
	size_t off;
} fields[] = {
	{"execute-command", F_STR, offsetof(struct hookdef, execute_command)},
	{"command-working-directory", F_STR, offsetof(struct hookdef, command_working_directory)},
	{"response-message", F_STR, offsetof(struct hookdef, response_message)},
	{"incoming-payload-content-type", F_STR,
	 offsetof(struct hookdef, incoming_payload_content_type)},
	{"success-http-response-code", F_STATUS,
	 offsetof(struct hookdef, success_http_response_code)},
	{"trigger-rule-mismatch-http-response-code", F_STATUS,
	 offsetof(struct hookdef, trigger_rule_mismatch_http_response_code)},
	{"include-command-output-in-response", F_BOOL,
	 offsetof(struct hookdef, include_command_output_in_response)},
	{"include-command-output-in-response-on-error", F_BOOL,
	 offsetof(struct hookdef, include_command_output_in_response_on_error)},
	{"trigger-signature-soft-failures", F_BOOL,
	 offsetof(struct hookdef, trigger_signature_soft_failures)},
	{"concurrency", F_UINT, offsetof(struct hookdef, concurrency)},
	{"queue", F_UINT, offsetof(struct hookdef, queue)},
	{"timeout", F_UINT, offsetof(struct hookdef, timeout_s)},
	{"coalesce", F_BOOL, offsetof(struct hookdef, coalesce)},
	{"output-limit", F_SIZE, offsetof(struct hookdef, output_limit)},
};

/*
 * scalar_string copies a string; YAML-born numbers and booleans are taken
 * in their text form, as adnanh's YAML library does for string fields.
 */
static int scalar_string(const json_t *v, const char *key, char **out, char *err, size_t errlen)
{
	size_t len;

	if (!v || json_is_null(v))
		return (*out = strdup("")) ? 0 : HK_ENOMEM;
	if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v))
		return ferr(err, errlen, "'%s' must be a string", key);
	if (hookreq_render(v, out, &len) < 0)
		return HK_ENOMEM;
	if (strlen(*out) != len) {
		free(*out);
		*out = NULL;
		return ferr(err, errlen, "'%s' contains a NUL byte", key);
	}
	return 0;
}

static int read_field(struct hookdef *d, const struct field *f, const json_t *v, char *err,
		      size_t errlen)
{
	char *base = (char *)d + f->off;
	json_int_t i;

	switch (f->type) {
	case F_STR:
		free(*(char **)base);
		*(char **)base = NULL;
		return scalar_string(v, f->key, (char **)base, err, errlen);
	case F_BOOL:
		if (!json_is_boolean(v))
			return ferr(err, errlen, "'%s' must be true or false", f->key);
		*(bool *)base = json_is_true(v);
		return 0;
	default:
		break;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return ferr(err, errlen, "'%s' must be a non-negative integer", f->key);
	i = json_integer_value(v);
	if (f->type == F_STATUS) {
		if (i > 999)
			return ferr(err, errlen, "'%s' is not an HTTP status", f->key);
		*(int *)base = (int)i;
	} else if (f->type == F_UINT) {
		if (i > 1000000000)
			return ferr(err, errlen, "'%s' is too large", f->key);
		*(unsigned *)base = (unsigned)i;
	} else {
		if ((unsigned long long)i > (1ull << 40))
			return ferr(err, errlen, "'%s' is too large", f->key);
		*(size_t *)base = (size_t)i;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* lists                                                                */

static int read_arg(struct hookreq_arg *a, const json_t *j, bool file, char *err, size_t errlen)
{
	const json_t *src = json_object_get(j, "source"), *b64 = json_object_get(j, "base64decode");
	const json_t *env = json_object_get(j, "envname");
	int rc;

	if (!json_is_object(j))
		return ferr(err, errlen, "an entry must be an object");
	if (!json_is_string(src) || hookreq_source_parse(json_string_value(src), &a->source) < 0)
		return ferr(err, errlen, "unknown source '%s'",
			    json_is_string(src) ? json_string_value(src) : "");
	rc = scalar_string(json_object_get(j, "name"), "name", &a->name, err, errlen);
	if (rc < 0)
		return rc;
	if (a->source == HOOKREQ_SRC_REQUEST && strcasecmp(a->name, "method") != 0 &&
	    strcasecmp(a->name, "remote-addr") != 0)
		return ferr(err, errlen, "unsupported request key '%s'", a->name);
	if (env && !json_is_null(env)) {
		rc = scalar_string(env, "envname", &a->envname, err, errlen);
		if (rc < 0)
			return rc;
		if (strchr(a->envname, '='))
			return ferr(err, errlen, "envname '%s' contains '='", a->envname);
		if (!*a->envname) {
			free(a->envname);
			a->envname = NULL;
		}
	}
	if (b64 && !json_is_boolean(b64))
		return ferr(err, errlen, "'base64decode' must be true or false");
	a->base64decode = file && json_is_true(b64);
	return 0;
}

static int read_args(const json_t *v, const char *key, struct hookreq_arg **out, size_t *n,
		     char *err, size_t errlen)
{
	size_t cnt = json_array_size(v);

	if (!json_is_array(v))
		return ferr(err, errlen, "'%s' must be a list", key);
	*out = calloc(cnt ? cnt : 1, sizeof(**out));
	if (!*out)
		return HK_ENOMEM;
	*n = cnt;
	for (size_t i = 0; i < cnt; i++) {
		char sub[200];
		int rc = read_arg(&(*out)[i], json_array_get(v, i),
				  strcmp(key, "pass-file-to-command") == 0, sub, sizeof(sub));
		if (rc < 0)
			return rc == HK_EINVAL ? ferr(err, errlen, "%s.%zu: %s", key, i, sub) : rc;
	}
	return 0;
}

static int read_headers(struct hookdef *d, const json_t *v, char *err, size_t errlen)
{
	size_t cnt = json_array_size(v);

	if (!json_is_array(v))
		return ferr(err, errlen, "'response-headers' must be a list");
	d->response_headers = calloc(cnt ? cnt : 1, sizeof(*d->response_headers));
	if (!d->response_headers)
		return HK_ENOMEM;
	d->nresponse_headers = cnt;
	for (size_t i = 0; i < cnt; i++) {
		const json_t *h = json_array_get(v, i);
		struct hookdef_header *o = &d->response_headers[i];
		int rc;
		if (!json_is_object(h))
			return ferr(err, errlen, "response-headers.%zu: must be {name, value}", i);
		rc = scalar_string(json_object_get(h, "name"), "name", &o->name, err, errlen);
		if (rc == 0)
			rc = scalar_string(json_object_get(h, "value"), "value", &o->value, err, errlen);
		if (rc < 0)
			return rc;
		if (!*o->name || strpbrk(o->name, ": \t\r\n") || strpbrk(o->value, "\r\n"))
			return ferr(err, errlen, "response-headers.%zu: invalid header", i);
	}
	return 0;
}

static int read_methods(struct hookdef *d, const json_t *v, char *err, size_t errlen)
{
	size_t cnt = json_array_size(v);

	if (!json_is_array(v))
		return ferr(err, errlen, "'http-methods' must be a list");
	d->http_methods = calloc(cnt ? cnt : 1, sizeof(char *));
	if (!d->http_methods)
		return HK_ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const json_t *m = json_array_get(v, i);
		const char *s = json_string_value(m);
		size_t len;
		char *o;
		if (!json_is_string(m))
			return ferr(err, errlen, "http-methods.%zu: must be a string", i);
		while (isspace((unsigned char)*s))
			s++;
		len = strlen(s);
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		o = strndup(s, len);
		if (!o)
			return HK_ENOMEM;
		for (char *p = o; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		d->http_methods[d->nhttp_methods++] = o;
	}
	return 0;
}

static int read_exit_status(struct hookdef *d, const json_t *v, char *err, size_t errlen)
{
	const char *k;
	json_t *s;
	size_t i = 0;

	if (json_is_boolean(v)) {
		d->exit_code_status = json_is_true(v);
		return 0;
	}
	if (!json_is_object(v))
		return ferr(err, errlen, "'exit-code-status' must be true or an object");
	d->exit_code_status = true;
	d->exit_statuses = calloc(json_object_size(v) + 1, sizeof(*d->exit_statuses));
	if (!d->exit_statuses)
		return HK_ENOMEM;
	json_object_foreach ((json_t *)v, k, s) {
		char *end;
		long code = strtol(k, &end, 10);
		if (!*k || *end || code < 0 || code > 255)
			return ferr(err, errlen, "exit-code-status: '%s' is not an exit code", k);
		if (!json_is_integer(s) || json_integer_value(s) < 100 || json_integer_value(s) > 599)
			return ferr(err, errlen, "exit-code-status: '%s' must map to an HTTP status", k);
		d->exit_statuses[i].exit_code = (int)code;
		d->exit_statuses[i++].http_status = (int)json_integer_value(s);
	}
	d->nexit_statuses = i;
	return 0;
}

/* ------------------------------------------------------------------ */
/* one hook                                                             */

static void hook_release(struct hookdef *d)
{
	free(d->id);
	free(d->execute_command);
	free(d->command_working_directory);
	free(d->response_message);
	free(d->incoming_payload_content_type);
	for (size_t i = 0; i < d->nresponse_headers; i++) {
		free(d->response_headers[i].name);
		free(d->response_headers[i].value);
	}
	free(d->response_headers);
	for (size_t i = 0; i < d->nhttp_methods; i++)
		free(d->http_methods[i]);
	free(d->http_methods);
	for (size_t i = 0; i < d->npass_arguments; i++)
		hookreq_arg_release(&d->pass_arguments[i]);
	free(d->pass_arguments);
	for (size_t i = 0; i < d->npass_environment; i++)
		hookreq_arg_release(&d->pass_environment[i]);
	free(d->pass_environment);
	for (size_t i = 0; i < d->npass_files; i++)
		hookreq_arg_release(&d->pass_files[i]);
	free(d->pass_files);
	for (size_t i = 0; i < d->nparse_json; i++)
		hookreq_arg_release(&d->parse_json[i]);
	free(d->parse_json);
	rules_free(d->trigger_rule);
	free(d->exit_statuses);
	free(d->source);
}

static int hook_defaults(struct hookdef *d)
{
	d->concurrency = HOOKDEF_DEFAULT_CONCURRENCY;
	d->queue = HOOKDEF_DEFAULT_QUEUE;
	d->timeout_s = HOOKDEF_DEFAULT_TIMEOUT;
	d->output_limit = HOOKDEF_DEFAULT_OUTPUT_LIMIT;
	d->execute_command = strdup("");
	d->command_working_directory = strdup("");
	d->response_message = strdup("");
	d->incoming_payload_content_type = strdup("");
	if (!d->execute_command || !d->command_working_directory || !d->response_message ||
	    !d->incoming_payload_content_type)
		return HK_ENOMEM;
	return 0;
}

/* read_complex handles one non-table key; 1 when the key is not one of them. */
static int read_complex(struct hookdef *d, const char *k, const json_t *v, char *err,
			size_t errlen)
{
	if (strcmp(k, "response-headers") == 0)
		return read_headers(d, v, err, errlen);
	if (strcmp(k, "http-methods") == 0)
		return json_is_null(v) ? 0 : read_methods(d, v, err, errlen);
	if (strcmp(k, "pass-arguments-to-command") == 0)
		return read_args(v, k, &d->pass_arguments, &d->npass_arguments, err, errlen);
	if (strcmp(k, "pass-environment-to-command") == 0)
		return read_args(v, k, &d->pass_environment, &d->npass_environment, err, errlen);
	if (strcmp(k, "pass-file-to-command") == 0)
		return read_args(v, k, &d->pass_files, &d->npass_files, err, errlen);
	if (strcmp(k, "parse-parameters-as-json") == 0)
		return read_args(v, k, &d->parse_json, &d->nparse_json, err, errlen);
	if (strcmp(k, "exit-code-status") == 0)
		return read_exit_status(d, v, err, errlen);
	if (strcmp(k, "source") == 0)
		return json_is_null(v) ? 0 : scalar_string(v, k, &d->source, err, errlen);
	if (strcmp(k, "trigger-rule") == 0) {
		char sub[300];
		int rc;
		if (json_is_null(v))
			return 0;
		rc = rules_parse(v, &d->trigger_rule, sub, sizeof(sub));
		if (rc < 0 && rc != HK_ENOMEM)
			ferr(err, errlen, "trigger-rule: %s", sub);
		return rc;
	}
	return 1;
}

static int read_key(struct hookdef *d, const char *k, const json_t *v, char *err, size_t errlen)
{
	int rc;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(k, fields[i].key) == 0)
			return json_is_null(v) && fields[i].type != F_STR
				       ? 0
				       : read_field(d, &fields[i], v, err, errlen);
	}
	if (strcmp(k, "id") == 0)
		return 0;
	rc = read_complex(d, k, v, err, errlen);
	if (rc == 1) {
		log_warnx("hook '%s': ignoring unknown field '%s'", d->id, k);
		rc = 0;
	}
	return rc;
}

static int read_hook(struct hookdef *d, const json_t *j, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(j))
		return ferr(err, errlen, "must be an object");
	rc = hook_defaults(d);
	if (rc < 0)
		return rc;
	v = json_object_get(j, "id");
	if (!v || json_is_null(v))
		return ferr(err, errlen, "missing 'id'");
	rc = scalar_string(v, "id", &d->id, err, errlen);
	if (rc < 0)
		return rc;
	if (!*d->id)
		return ferr(err, errlen, "invalid id '%s'", d->id);
	json_object_foreach ((json_t *)j, k, v) {
		rc = read_key(d, k, v, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (!*d->execute_command)
		return ferr(err, errlen, "missing 'execute-command'");
	return 0;
}

/* ------------------------------------------------------------------ */
/* files                                                                */

int hookdef_load_json(const json_t *root, struct hookdef_set *set, char *err, size_t errlen)
{
	size_t n = json_array_size(root);
	int rc = 0;

	memset(set, 0, sizeof(*set));
	if (json_is_null(root))
		return 0; /* an empty file: no hooks */
	if (!json_is_array(root))
		return ferr(err, errlen, "a hooks file must be a list of hooks");
	set->hooks = calloc(n ? n : 1, sizeof(*set->hooks));
	if (!set->hooks)
		return HK_ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char sub[400];
		struct hookdef *d = &set->hooks[i];
		set->n = i + 1;
		rc = read_hook(d, json_array_get(root, i), sub, sizeof(sub));
		if (rc == 0 && hookdef_find(&(struct hookdef_set){set->hooks, i, false}, d->id))
			rc = ferr(sub, sizeof(sub), "duplicate id");
		if (rc < 0 && rc != HK_ENOMEM) {
			if (d->id && *d->id)
				ferr(err, errlen, "hook '%s': %s", d->id, sub);
			else
				ferr(err, errlen, "hook #%zu: %s", i, sub);
		}
	}
	if (rc < 0)
		hookdef_set_release(set);
	return rc;
}

static json_t *parse_tree(const char *data, size_t len, enum hookdef_format fmt, int *rc,
			  char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = NULL;
	char why[200];

	if (fmt == HOOKDEF_JSON) {
		root = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
		if (root)
			return root;
		/* adnanh reads JSON with a YAML parser: accept what it accepts */
		if (yamljson_parse(data, len, &root, why, sizeof(why)) == 0)
			return root;
		*rc = HK_EPARSE;
		ferr(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
		     jerr.text);
		return NULL;
	}
	*rc = yamljson_parse(data, len, &root, why, sizeof(why));
	if (*rc < 0) {
		ferr(err, errlen, "invalid YAML: %s", why);
		return NULL;
	}
	return root;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!isspace((unsigned char)s[i]))
			return false;
	}
	return true;
}

int hookdef_load_buf(const char *data, size_t len, enum hookdef_format fmt,
		     struct hookdef_set *set, char *err, size_t errlen)
{
	json_t *root;
	bool templated;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	if (len > HOOKDEF_FILE_MAX)
		return ferr(err, errlen, "hooks file larger than %u bytes", HOOKDEF_FILE_MAX),
		       HK_ETOOBIG;
	templated = memmem(data, len, "{{", 2) != NULL;
	if (blank(data, len))
		return 0;
	root = parse_tree(data, len, fmt, &rc, err, errlen);
	if (!root)
		return rc < 0 ? rc : HK_EPARSE;
	rc = hookdef_load_json(root, set, err, errlen);
	json_decref(root);
	set->templated = rc == 0 && templated;
	return rc;
}

/* read_file reads a whole file into b, refusing more than HOOKDEF_FILE_MAX. */
static int read_file(const char *path, struct buf *b, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f)
		return ferr(err, errlen, "cannot open '%s'", path), HK_EIO;
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(b, chunk, n);
	if (rc == 0 && ferror(f))
		rc = HK_EIO;
	fclose(f);
	if (rc == HK_ETOOBIG)
		ferr(err, errlen, "'%s' is larger than %u bytes", path, HOOKDEF_FILE_MAX);
	else if (rc < 0)
		ferr(err, errlen, "cannot read '%s'", path);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

int hookdef_load_file(const char *path, struct hookdef_set *set, char *err, size_t errlen)
{
	enum hookdef_format fmt = HOOKDEF_JSON;
	struct buf b;
	char sub[400];
	int rc;

	memset(set, 0, sizeof(*set));
	buf_init(&b, (size_t)HOOKDEF_FILE_MAX + 1);
	rc = read_file(path, &b, err, errlen);
	if (rc < 0)
		goto out;
	if (ends_with(path, ".yaml") || ends_with(path, ".yml"))
		fmt = HOOKDEF_YAML;
	rc = hookdef_load_buf(buf_cstr(&b), b.len, fmt, set, sub, sizeof(sub));
	if (rc < 0)
		ferr(err, errlen, "%s: %s", path, sub);
	else if (set->templated)
		log_warnx("'%s' contains '{{': go templates are not expanded, loaded as written",
			  path);
out:
	buf_release(&b);
	return rc;
}

void hookdef_set_release(struct hookdef_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		hook_release(&set->hooks[i]);
	free(set->hooks);
	memset(set, 0, sizeof(*set));
}

const struct hookdef *hookdef_find(const struct hookdef_set *set, const char *id)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->hooks[i].id && strcmp(set->hooks[i].id, id) == 0)
			return &set->hooks[i];
	}
	return NULL;
}
