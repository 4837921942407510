#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/client.h"
#include "core/err.h"
#include "test.h"

static void test_parse(void **state)
{
	struct client_conf c = {{0}, {0}};
	int line = 0;
	(void)state;
	assert_int_equal(client_config_parse("# comment\n\n  server =  http://h:1/// \r\ntoken=abc\nother = x\n",
					     &c, &line), 0);
	assert_string_equal(c.server, "http://h:1");
	assert_string_equal(c.token, "abc");
	/* fields not named keep their value; no trailing newline is fine */
	assert_int_equal(client_config_parse("token = t2", &c, &line), 0);
	assert_string_equal(c.server, "http://h:1");
	assert_string_equal(c.token, "t2");
	/* a value may hold '=' */
	assert_int_equal(client_config_parse("token = a=b=\n", &c, NULL), 0);
	assert_string_equal(c.token, "a=b=");
	assert_int_equal(client_config_parse("server = x\njunk\n", &c, &line), HK_EPARSE);
	assert_int_equal(line, 2);
}

static void test_format_roundtrip(void **state)
{
	struct client_conf c = {{0}, {0}}, back = {{0}, {0}};
	struct buf b;
	(void)state;
	snprintf(c.server, sizeof(c.server), "https://hooks.example.com");
	snprintf(c.token, sizeof(c.token), "hk_123");
	buf_init(&b, 4096);
	assert_int_equal(client_config_format(&c, &b), 0);
	assert_int_equal(client_config_parse(buf_cstr(&b), &back, NULL), 0);
	assert_string_equal(back.server, c.server);
	assert_string_equal(back.token, c.token);
	buf_release(&b);
}

static void test_path(void **state)
{
	char p[256];
	(void)state;
	setenv("HOME", "/home/ana", 1);
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	assert_int_equal(client_config_path(p, sizeof(p)), 0);
	assert_string_equal(p, "/xdg/hookd/config");
	setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored, as the spec says */
	assert_int_equal(client_config_path(p, sizeof(p)), 0);
	assert_string_equal(p, "/home/ana/.config/hookd/config");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(client_config_path(p, 10), HK_ENOSPACE);
	unsetenv("HOME");
	assert_int_equal(client_config_path(p, sizeof(p)), HK_ENOTFOUND);
}

static void test_resolve_and_write(void **state)
{
	char dir[] = "/tmp/hookd-client-test-XXXXXX", path[512], err[256];
	struct client_conf c = {{0}, {0}}, r;
	struct stat sb;
	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("XDG_CONFIG_HOME", dir, 1);

	/* nothing anywhere: the default server, no token */
	assert_int_equal(client_resolve(NULL, NULL, &r, err, sizeof(err)), 0);
	assert_string_equal(r.server, CLIENT_DEFAULT_SERVER);
	assert_string_equal(r.token, "");

	snprintf(c.server, sizeof(c.server), "http://saved:1");
	snprintf(c.token, sizeof(c.token), "saved-token");
	assert_int_equal(client_config_path(path, sizeof(path)), 0);
	assert_int_equal(client_config_write(path, &c, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(client_resolve(NULL, NULL, &r, err, sizeof(err)), 0);
	assert_string_equal(r.server, "http://saved:1");
	assert_string_equal(r.token, "saved-token");
	/* a flag wins; the saved token follows only its own server */
	assert_int_equal(client_resolve("http://saved:1/", "flag", &r, err, sizeof(err)), 0);
	assert_string_equal(r.server, "http://saved:1");
	assert_string_equal(r.token, "flag");
	assert_int_equal(client_resolve("http://other:2", NULL, &r, err, sizeof(err)), 0);
	assert_string_equal(r.server, "http://other:2");
	assert_string_equal(r.token, "");

	/* an existing file is tightened to 0600 when rewritten */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(client_config_write(path, &c, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	unlink(path);
	snprintf(path, sizeof(path), "%s/hookd", dir);
	rmdir(path);
	rmdir(dir);
	unsetenv("XDG_CONFIG_HOME");
}

static void test_escape(void **state)
{
	char *e;
	(void)state;
	e = client_escape("a b/c?d");
	assert_string_equal(e, "a%20b%2Fc%3Fd");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_resolve_and_write),
		cmocka_unit_test(test_escape),
	};
	return RUN(tests);
}
