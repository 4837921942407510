#include <regex.h>

#include "core/err.h"
#include "core/re.h"
#include "test.h"

static void test_bounded(void **state)
{
	regex_t re;
	char err[128];
	const char *why;
	(void)state;
	assert_int_equal(re_compile(&re, "^refs/heads/(main|dev)$", REG_EXTENDED | REG_NOSUB, err, sizeof(err)), 0);
	assert_int_equal(regexec(&re, "refs/heads/main", 0, NULL, 0), 0);
	regfree(&re);
	assert_int_equal(re_compile(&re, "a{16}b{16}", REG_EXTENDED, err, sizeof(err)), 0);
	regfree(&re);
	/* repetition bounds that multiply past the cap never reach regcomp */
	assert_int_equal(re_check("((a{255}){255}){255}", &why), HK_EINVAL);
	assert_int_equal(re_check("a{2000}", &why), HK_EINVAL);
	assert_int_equal(re_check("a{3,}b{2,1000}", &why), HK_EINVAL);
	assert_int_equal(re_check("e++++++++++++++++++++++++", &why), HK_EINVAL);
	assert_int_equal(re_check("^[a-z]+-[0-9]+\\.[a-z]+$", &why), 0);
	assert_int_equal(re_check("\\{999}", &why), 0);
	assert_int_equal(re_compile(&re, "(", REG_EXTENDED, err, sizeof(err)), HK_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_bounded)};
	return RUN(tests);
}
