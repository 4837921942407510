/*
 * hookdef.h - command hook definitions, loaded from an adnanh/webhook 2.8
 * hooks file (hooks.json, hooks.yaml, hooks.yml).
 *
 * A hooks file is a list of hook objects. Every field of adnanh/webhook 2.8
 * is read, with its meaning and default:
 *   id (required, unique), execute-command (required),
 *   command-working-directory, response-message, response-headers
 *   ([{name, value}]), success-http-response-code, incoming-payload-
 *   content-type, http-methods (trimmed and upper-cased; none = any),
 *   include-command-output-in-response, include-command-output-in-response-
 *   on-error, pass-arguments-to-command, pass-environment-to-command
 *   ({source, name, envname}), pass-file-to-command ({source, name,
 *   envname, base64decode}), parse-parameters-as-json, trigger-rule,
 *   trigger-rule-mismatch-http-response-code, trigger-signature-soft-
 *   failures.
 * hookd's additions:
 *   concurrency (runs at once, default 1), queue (waiting runs, default
 *   1000), timeout (seconds, default 600, 0 = none), coalesce (bool: a burst
 *   waiting in the queue runs once), exit-code-status (true, or an object
 *   {"<exit code>": <HTTP status>}), output-limit (bytes of output kept,
 *   default 65536), source (an inbound source id whose provider verification
 *   must pass first).
 * HTTP status fields are kept as written (0 when absent); like adnanh, the
 * server should answer 200 for a code it does not know (the fixtures use
 * 999).
 *
 * Formats: .yaml and .yml files are read as YAML; anything else as JSON,
 * falling back to the YAML reader when strict JSON fails, because adnanh
 * reads every file with a YAML parser and hooks.json files in the wild rely
 * on it (trailing commas, tabs). Unknown fields are ignored with a warning,
 * as adnanh ignores them.
 *
 * Templates: adnanh's -template flag (Go text/template over the file) is not
 * supported. A file containing "{{" is loaded verbatim, the braces kept in
 * the strings, and hookdef_set.templated is set so the caller can warn.
 *
 * Bounds: files over HOOKDEF_FILE_MAX bytes are refused (HK_ETOOBIG), JSON
 * nesting is capped by jansson, YAML by yamljson, rules by RULES_DEPTH_MAX.
 *
 * Errors name the hook ("hook 'deploy': trigger-rule: unknown match type
 * 'foo'", or "hook #3: missing 'id'" by zero-based index) and return
 * HK_EINVAL (HK_EPARSE for a syntax error, HK_EIO when the file cannot be
 * read). Duplicate ids are an error.
 *
 * Ownership: a hookdef_set owns its hooks and everything in them; release it
 * with hookdef_set_release. Loaded definitions are read-only afterwards, so
 * threads may share them.
 */
#ifndef HK_HOOKDEF_H
#define HK_HOOKDEF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hooks/hookreq.h"
#include "hooks/rules.h"

#define HOOKDEF_FILE_MAX (4u << 20)
#define HOOKDEF_DEFAULT_CONCURRENCY 1
#define HOOKDEF_DEFAULT_QUEUE 1000
#define HOOKDEF_DEFAULT_TIMEOUT 600
#define HOOKDEF_DEFAULT_OUTPUT_LIMIT 65536

struct hookdef_header {
	char *name;  /* owned */
	char *value; /* owned */
};

struct hookdef_exit_status {
	int exit_code; /* 0..255 */
	int http_status;
};

struct hookdef {
	char *id;
	char *execute_command;
	char *command_working_directory;     /* "" when absent */
	char *response_message;              /* "" when absent */
	struct hookdef_header *response_headers;
	size_t nresponse_headers;
	int success_http_response_code;      /* 0: 200 */
	char *incoming_payload_content_type; /* "" when absent */
	char **http_methods;                 /* upper-case; none = any */
	size_t nhttp_methods;
	bool include_command_output_in_response;
	bool include_command_output_in_response_on_error;
	struct hookreq_arg *pass_arguments;
	size_t npass_arguments;
	struct hookreq_arg *pass_environment;
	size_t npass_environment;
	struct hookreq_arg *pass_files;
	size_t npass_files;
	struct hookreq_arg *parse_json;
	size_t nparse_json;
	struct rule *trigger_rule;           /* NULL: always triggered */
	int trigger_rule_mismatch_http_response_code; /* 0: 200 */
	bool trigger_signature_soft_failures;
	/* hookd's additions */
	unsigned concurrency;
	unsigned queue;
	unsigned timeout_s;                  /* 0: no timeout */
	bool coalesce;
	bool exit_code_status;
	struct hookdef_exit_status *exit_statuses;
	size_t nexit_statuses;
	size_t output_limit;
	char *source;                        /* NULL when absent */
};

struct hookdef_set {
	struct hookdef *hooks; /* owned array */
	size_t n;
	bool templated;        /* the file contains "{{" (not expanded) */
};

enum hookdef_format { HOOKDEF_JSON, HOOKDEF_YAML };

/*
 * hookdef_load_file reads and validates a hooks file into set (which it
 * initialises); on failure set is left empty and err says why.
 */
int hookdef_load_file(const char *path, struct hookdef_set *set, char *err, size_t errlen);

/* hookdef_load_buf does the same for bytes already in memory. */
int hookdef_load_buf(const char *data, size_t len, enum hookdef_format fmt,
		     struct hookdef_set *set, char *err, size_t errlen);

/* hookdef_load_json validates an already parsed tree (a list of hooks). */
int hookdef_load_json(const json_t *root, struct hookdef_set *set, char *err, size_t errlen);

void hookdef_set_release(struct hookdef_set *set);

/* hookdef_find returns the hook with this id, or NULL. */
const struct hookdef *hookdef_find(const struct hookdef_set *set, const char *id);

/* hookdef_method_allowed applies http-methods (405 when false). */
bool hookdef_method_allowed(const struct hookdef *def, const char *method);

/*
 * hookdef_exit_http_status maps a command's exit code to the HTTP status to
 * answer when include-command-output-in-response waits for it: the
 * exit-code-status entry for the code if any; else 0 -> the success code
 * (200 by default) and anything else -> 500.
 */
int hookdef_exit_http_status(const struct hookdef *def, int exit_code);

/*
 * hookdef_prepare_request parses the request body for this hook
 * (incoming-payload-content-type, then parse-parameters-as-json). Returns
 * HK_EPARSE only for a malformed multipart body (answer 500 "Error occurred
 * while parsing multipart form.").
 */
int hookdef_prepare_request(const struct hookdef *def, struct hookreq *req);

/*
 * hookdef_trigger evaluates the hook's trigger rule and says how to answer
 * when the command must not run: on RULES_NOMATCH *status is the mismatch
 * code (or 200) and *body "Hook rules were not satisfied."; on RULES_ERROR
 * 500 and "Error occurred while evaluating hook rules.", reason saying why.
 * On RULES_MATCH *status and *body are left alone.
 */
enum rules_result hookdef_trigger(const struct hookdef *def, const struct hookreq *req,
				  int *status, const char **body, char *reason, size_t reasonlen);

/* A file for pass-file-to-command: the runner writes data to a temporary
 * file and sets envname to its path. */
struct hookdef_file {
	char *envname;       /* owned */
	unsigned char *data; /* owned; may hold any bytes */
	size_t len;
};

/* What to run: argv[0] is execute-command; env holds "NAME=value" entries
 * to add to the inherited environment. */
struct hookdef_argv {
	char **argv;  /* owned, NULL-terminated */
	size_t argc;
	char **env;   /* owned, NULL-terminated */
	size_t nenv;
	struct hookdef_file *files; /* owned */
	size_t nfiles;
};

/*
 * hookdef_build_argv resolves pass-arguments-to-command, pass-environment-
 * to-command and pass-file-to-command against a request. As in adnanh, a
 * value that cannot be resolved becomes "" in argv and is left out of env
 * and files (each logged). A value containing a NUL byte (argv or env) fails
 * the whole build with HK_EINVAL and err "argument contains a NUL byte"
 * (answer 400). Env names are envname, else HOOK_<name>; file env names are
 * envname, else HOOK_<NAME> upper-cased. base64decode contents that fail to
 * decode are logged and written empty, as adnanh does.
 */
int hookdef_build_argv(const struct hookdef *def, const struct hookreq *req,
		       struct hookdef_argv *out, char *err, size_t errlen);
void hookdef_argv_release(struct hookdef_argv *a);

#endif
