/*
 * hookdef_test.c - loading hooks files (JSON and YAML), load errors, the
 * trigger decision and argv / env / file building.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "hooks/hookdef.h"
#include "hooks/yamljson.h"

static char fixture_dir[512];

static const char *fixture(const char *name)
{
	static char path[1024];
	snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
	return path;
}

static void load(const char *name, struct hookdef_set *set)
{
	char err[512] = "";
	if (hookdef_load_file(fixture(name), set, err, sizeof(err)) < 0)
		fail_msg("loading '%s': %s", name, err);
}

static void check_fixture_set(const struct hookdef_set *set)
{
	const struct hookdef *gh = hookdef_find(set, "github");
	const struct hookdef *bb = hookdef_find(set, "bitbucket");
	const struct hookdef *cap = hookdef_find(set, "capture-on-error");
	const struct hookdef *dep = hookdef_find(set, "deploy");

	assert_int_equal(set->n, 6);
	assert_true(set->templated);
	assert_non_null(gh);
	assert_string_equal(gh->execute_command, "{{ .Hookecho }}");
	assert_string_equal(gh->command_working_directory, "/");
	assert_int_equal(gh->nhttp_methods, 1);
	assert_string_equal(gh->http_methods[0], "POST");
	assert_true(hookdef_method_allowed(gh, "POST"));
	assert_false(hookdef_method_allowed(gh, "GET"));
	assert_true(gh->include_command_output_in_response);
	assert_int_equal(gh->trigger_rule_mismatch_http_response_code, 400);
	assert_int_equal(gh->npass_arguments, 2);
	assert_int_equal(gh->pass_arguments[1].source, HOOKREQ_SRC_PAYLOAD);
	assert_string_equal(gh->pass_arguments[1].name, "head_commit.author.email");
	assert_int_equal(gh->npass_environment, 1);
	assert_non_null(gh->trigger_rule);
	assert_int_equal(gh->trigger_rule->kind, RULE_AND);
	assert_int_equal(gh->trigger_rule->kids[0].type, RULE_MATCH_HMAC_SHA1);
	assert_string_equal(gh->trigger_rule->kids[0].secret, "mysecret");
	/* defaults */
	assert_int_equal(gh->concurrency, 1);
	assert_int_equal(gh->queue, 1000);
	assert_int_equal(gh->timeout_s, 600);
	assert_int_equal(gh->output_limit, 65536);
	assert_false(gh->coalesce);
	assert_null(gh->source);
	assert_string_equal(gh->response_message, "");

	assert_int_equal(bb->trigger_rule_mismatch_http_response_code, 999);
	assert_int_equal(bb->nparse_json, 1);
	assert_true(hookdef_method_allowed(bb, "GET"));
	assert_true(cap->include_command_output_in_response_on_error);
	assert_int_equal(cap->nresponse_headers, 1);
	assert_string_equal(cap->response_headers[0].name, "Access-Control-Allow-Origin");
	assert_string_equal(cap->response_headers[0].value, "*");

	assert_int_equal(dep->npass_files, 2);
	assert_true(dep->pass_files[0].base64decode);
	assert_string_equal(dep->pass_files[1].envname, "PAYLOAD_FILE");
	assert_int_equal(dep->success_http_response_code, 202);
	assert_true(dep->trigger_signature_soft_failures);
	assert_int_equal(dep->concurrency, 2);
	assert_int_equal(dep->queue, 10);
	assert_int_equal(dep->timeout_s, 0);
	assert_true(dep->coalesce);
	assert_true(dep->exit_code_status);
	assert_int_equal(hookdef_exit_http_status(dep, 0), 200);
	assert_int_equal(hookdef_exit_http_status(dep, 3), 409);
	assert_int_equal(hookdef_exit_http_status(dep, 1), 500);
	assert_int_equal(hookdef_exit_http_status(gh, 0), 200);
	assert_int_equal(dep->output_limit, 4096);
	assert_string_equal(dep->source, "github-main");
}

static void test_load_json_and_yaml(void **state)
{
	struct hookdef_set j, y;
	(void)state;

	load("hooks.json", &j);
	load("hooks.yaml", &y);
	check_fixture_set(&j);
	check_fixture_set(&y);
	hookdef_set_release(&j);
	hookdef_set_release(&y);
}

static void test_load_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"[{\"execute-command\":\"/bin/true\"}]", "hook #0: missing 'id'"},
		{"[{\"id\":\"a\"}]", "hook 'a': missing 'execute-command'"},
		{"[{\"id\":\"a\",\"execute-command\":\"x\",\"concurrency\":\"two\"}]",
		 "hook 'a': 'concurrency' must be a non-negative integer"},
		{"[{\"id\":\"a\",\"execute-command\":\"x\",\"coalesce\":\"yes\"}]",
		 "hook 'a': 'coalesce' must be true or false"},
		{"[{\"id\":\"a\",\"execute-command\":\"x\",\"pass-arguments-to-command\":"
		 "[{\"source\":\"cookie\",\"name\":\"x\"}]}]",
		 "hook 'a': pass-arguments-to-command.0: unknown source 'cookie'"},
		{"[{\"id\":\"a\",\"execute-command\":\"x\",\"trigger-rule\":{\"match\":{\"type\":\"foo\"}}}]",
		 "hook 'a': trigger-rule: unknown match type 'foo'"},
		{"[{\"id\":\"a\",\"execute-command\":\"x\",\"exit-code-status\":{\"300\":200}}]",
		 "hook 'a': exit-code-status: '300' is not an exit code"},
		{"[{\"id\":\"a\",\"execute-command\":\"x\"},{\"id\":\"a\",\"execute-command\":\"y\"}]",
		 "hook 'a': duplicate id"},
		{"{\"id\":\"a\"}", "a hooks file must be a list of hooks"},
		{"[{\"id\":", "invalid JSON at line"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hookdef_set set;
		char err[512] = "";
		int rc = hookdef_load_buf(cases[i].text, strlen(cases[i].text), HOOKDEF_JSON, &set,
					  err, sizeof(err));
		assert_true(rc < 0);
		assert_int_equal(set.n, 0);
		if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].msg);
	}
}

static void test_load_files_errors(void **state)
{
	struct hookdef_set set;
	char err[512];
	char *big;
	(void)state;

	assert_int_equal(hookdef_load_file(fixture("duplicate.yml"), &set, err, sizeof(err)),
			 HK_EINVAL);
	assert_non_null(strstr(err, "hook 'same': duplicate id"));
	assert_int_equal(hookdef_load_file(fixture("bad-match.json"), &set, err, sizeof(err)),
			 HK_EINVAL);
	assert_non_null(strstr(err, "hook 'deploy': trigger-rule: or.0: unknown match type 'foo'"));
	assert_int_equal(hookdef_load_file(fixture("missing.json"), &set, err, sizeof(err)), HK_EIO);

	big = malloc(HOOKDEF_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', HOOKDEF_FILE_MAX + 1);
	assert_int_equal(hookdef_load_buf(big, HOOKDEF_FILE_MAX + 1, HOOKDEF_JSON, &set, err,
					  sizeof(err)),
			 HK_ETOOBIG);
	free(big);
	/* an empty file holds no hooks */
	assert_int_equal(hookdef_load_buf("\n", 1, HOOKDEF_YAML, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n, 0);
	hookdef_set_release(&set);
}

static void test_yaml_bounds(void **state)
{
	static const char laughs[] =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
	json_t *v = NULL;
	char err[200];
	(void)state;

	assert_int_equal(yamljson_parse(laughs, sizeof(laughs) - 1, &v, err, sizeof(err)),
			 HK_ETOOBIG);
	assert_int_equal(yamljson_parse("a: [1, 2", 8, &v, err, sizeof(err)), HK_EPARSE);
	assert_non_null(strstr(err, "line"));
	{
		static const char doc[] = "a: yes\nb: '1'\nc: 0x10\nd: ~\ne: 1.5\n";
		assert_int_equal(yamljson_parse(doc, sizeof(doc) - 1, &v, err, sizeof(err)), 0);
	}
	assert_true(json_is_true(json_object_get(v, "a")));
	assert_string_equal(json_string_value(json_object_get(v, "b")), "1");
	assert_int_equal(json_integer_value(json_object_get(v, "c")), 16);
	assert_true(json_is_null(json_object_get(v, "d")));
	assert_true(json_is_real(json_object_get(v, "e")));
	json_decref(v);
}

/* ------------------------------------------------------------------ */

static const char gh_body[] = "{\"ref\":\"refs/heads/master\",\"head_commit\":{\"id\":\"f00\","
			      "\"timestamp\":\"2026-01-02T03:04:05Z\",\"author\":{\"email\":"
			      "\"dev@example.com\"}}}";

static struct hookreq *github_req(const char *body, bool good_sig)
{
	struct hookreq *r = hookreq_new("POST", "10.0.0.1:4000");
	char mac[RULES_MAC_HEX_MAX], sig[RULES_MAC_HEX_MAX + 8];

	rules_check_hmac(RULE_MATCH_HMAC_SHA1, body, strlen(body), "mysecret", "", mac);
	snprintf(sig, sizeof(sig), "sha1=%s", good_sig ? mac : "00");
	hookreq_add_header(r, "content-type", "application/json");
	hookreq_add_header(r, "x-hub-signature", sig);
	hookreq_set_body(r, body, strlen(body));
	return r;
}

static void test_github_flow(void **state)
{
	struct hookdef_set set;
	const struct hookdef *gh;
	struct hookreq *r;
	struct hookdef_argv a;
	const char *body = NULL;
	int status = 0;
	char reason[200], err[200];
	(void)state;

	load("hooks.json", &set);
	gh = hookdef_find(&set, "github");

	r = github_req(gh_body, true);
	assert_int_equal(hookdef_prepare_request(gh, r), 0);
	assert_int_equal(hookdef_trigger(gh, r, &status, &body, reason, sizeof(reason)), RULES_MATCH);
	assert_int_equal(hookdef_build_argv(gh, r, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[0], "{{ .Hookecho }}");
	assert_string_equal(a.argv[1], "f00");
	assert_string_equal(a.argv[2], "dev@example.com");
	assert_null(a.argv[3]);
	assert_int_equal(a.nenv, 1);
	assert_string_equal(a.env[0], "HOOK_head_commit.timestamp=2026-01-02T03:04:05Z");
	assert_null(a.env[1]);
	hookdef_argv_release(&a);
	hookreq_free(r);

	r = github_req("{\"ref\":\"refs/heads/dev\"}", true);
	assert_int_equal(hookdef_prepare_request(gh, r), 0);
	assert_int_equal(hookdef_trigger(gh, r, &status, &body, reason, sizeof(reason)),
			 RULES_NOMATCH);
	assert_int_equal(status, 400);
	assert_string_equal(body, "Hook rules were not satisfied.");
	hookreq_free(r);

	r = github_req(gh_body, false);
	assert_int_equal(hookdef_prepare_request(gh, r), 0);
	assert_int_equal(hookdef_trigger(gh, r, &status, &body, reason, sizeof(reason)), RULES_ERROR);
	assert_int_equal(status, 500);
	assert_string_equal(body, "Error occurred while evaluating hook rules.");
	assert_null(strstr(reason, "sha1="));
	hookreq_free(r);
	hookdef_set_release(&set);
}

static void test_payload_kinds(void **state)
{
	static const struct {
		const char *hook, *ctype, *body;
	} cases[] = {
		{"bitbucket", "application/x-www-form-urlencoded",
		 "payload=%7B%22canon_url%22%3A%22https%3A%2F%2Fbitbucket.org%22%2C%22commits%22%3A"
		 "%5B%7B%22branch%22%3A%22master%22%7D%5D%7D"},
		{"xml", "application/xml",
		 "<app><users><user id=\"1\" name=\"Jeff\"/><user id=\"2\" name=\"Sally\"/></users>"
		 "<messages><message id=\"1\">Hello!!</message></messages></app>"},
		{"sendgrid", "application/json", "[{\"event\":\"processed\"}]"},
	};
	struct hookdef_set set;
	(void)state;

	load("hooks.yaml", &set);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hookdef *d = hookdef_find(&set, cases[i].hook);
		struct hookreq *r = hookreq_new("POST", "1.2.3.4:5");
		const char *body = NULL;
		int status = 0;
		hookreq_add_header(r, "Content-Type", cases[i].ctype);
		hookreq_set_body(r, cases[i].body, strlen(cases[i].body));
		assert_int_equal(hookdef_prepare_request(d, r), 0);
		assert_int_equal(hookdef_trigger(d, r, &status, &body, NULL, 0), RULES_MATCH);
		hookreq_free(r);
	}
	hookdef_set_release(&set);
}

static void test_files_and_failures(void **state)
{
	static const char body[] = "{\"bundle\":\"aGVsbG8=\"}";
	struct hookdef_set set;
	const struct hookdef *dep;
	struct hookreq *r;
	struct hookdef_argv a;
	char err[200];
	(void)state;

	load("hooks.json", &set);
	dep = hookdef_find(&set, "deploy");
	r = hookreq_new("POST", "1.2.3.4:5");
	hookreq_add_header(r, "Content-Type", "application/json");
	hookreq_set_body(r, body, sizeof(body) - 1);
	assert_int_equal(hookdef_prepare_request(dep, r), 0);
	assert_int_equal(hookdef_build_argv(dep, r, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, 1);
	assert_int_equal(a.nenv, 0);
	assert_non_null(a.env);
	assert_null(a.env[0]);
	assert_int_equal(a.nfiles, 2);
	assert_string_equal(a.files[0].envname, "HOOK_BUNDLE");
	assert_int_equal(a.files[0].len, 5);
	assert_memory_equal(a.files[0].data, "hello", 5);
	assert_string_equal(a.files[1].envname, "PAYLOAD_FILE");
	assert_memory_equal(a.files[1].data, body, sizeof(body) - 1);
	hookdef_argv_release(&a);
	hookreq_free(r);
	hookdef_set_release(&set);
}

static void test_argv_rules(void **state)
{
	static const char defs[] =
		"[{\"id\":\"test\",\"execute-command\":\"test\","
		"\"pass-arguments-to-command\":[{\"source\":\"header\",\"name\":\"a\"}],"
		"\"pass-environment-to-command\":[{\"source\":\"header\",\"name\":\"a\"},"
		"{\"source\":\"header\",\"name\":\"a\",\"envname\":\"MYKEY\"}]},"
		"{\"id\":\"fail\",\"execute-command\":\"fail\","
		"\"pass-arguments-to-command\":[{\"source\":\"payload\",\"name\":\"a\"}],"
		"\"pass-environment-to-command\":[{\"source\":\"payload\",\"name\":\"a\"}],"
		"\"pass-file-to-command\":[{\"source\":\"payload\",\"name\":\"a\"}]},"
		"{\"id\":\"nul\",\"execute-command\":\"nul\","
		"\"pass-arguments-to-command\":[{\"source\":\"raw-request-body\"}]},"
		"{\"id\":\"nulenv\",\"execute-command\":\"nul\","
		"\"pass-environment-to-command\":[{\"source\":\"payload\",\"name\":\"s\"}]}]";
	struct hookdef_set set;
	struct hookreq *r = hookreq_new("POST", "1.2.3.4:5");
	struct hookdef_argv a;
	char err[200];
	(void)state;

	assert_int_equal(hookdef_load_buf(defs, sizeof(defs) - 1, HOOKDEF_JSON, &set, err,
					  sizeof(err)),
			 0);
	hookreq_add_header(r, "A", "z");
	assert_int_equal(hookdef_build_argv(hookdef_find(&set, "test"), r, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[1], "z");
	assert_int_equal(a.nenv, 2);
	assert_string_equal(a.env[0], "HOOK_a=z");
	assert_string_equal(a.env[1], "MYKEY=z");
	hookdef_argv_release(&a);

	/* an unresolved value: "" in argv, nothing in env and files */
	assert_int_equal(hookdef_build_argv(hookdef_find(&set, "fail"), r, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[0], "fail");
	assert_string_equal(a.argv[1], "");
	assert_int_equal(a.nenv, 0);
	assert_int_equal(a.nfiles, 0);
	hookdef_argv_release(&a);

	hookreq_set_body(r, "a\0b", 3);
	assert_int_equal(hookdef_build_argv(hookdef_find(&set, "nul"), r, &a, err, sizeof(err)),
			 HK_EINVAL);
	assert_string_equal(err, "argument contains a NUL byte");
	assert_null(a.argv);

	r->payload = json_loads("{\"s\":\"x\\u0000y\"}", JSON_ALLOW_NUL, NULL);
	assert_non_null(r->payload);
	assert_int_equal(hookdef_build_argv(hookdef_find(&set, "nulenv"), r, &a, err, sizeof(err)),
			 HK_EINVAL);
	hookreq_free(r);
	hookdef_set_release(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_json_and_yaml), cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_files_errors),  cmocka_unit_test(test_yaml_bounds),
		cmocka_unit_test(test_github_flow),        cmocka_unit_test(test_payload_kinds),
		cmocka_unit_test(test_files_and_failures), cmocka_unit_test(test_argv_rules),
	};
	const char *slash = strrchr(__FILE__, '/');
	const char *env = getenv("HOOKD_FIXTURES");

	if (env)
		snprintf(fixture_dir, sizeof(fixture_dir), "%s", env);
	else
		snprintf(fixture_dir, sizeof(fixture_dir), "%.*s/fixtures",
			 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
