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
	assert_int_equal(re_check("a{5000}", &why), HK_EINVAL);
	assert_int_equal(re_check("a{3,}b{2,5000}", &why), HK_EINVAL);
	assert_int_equal(re_check("(ab{100}){100}", &why), HK_EINVAL);
	/* sequential repeats add: a UUID or two SHA-1s are fine */
	assert_int_equal(re_check("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", &why), 0);
	assert_int_equal(re_check("^[a-f0-9]{40}-[a-f0-9]{40}$", &why), 0);
	assert_int_equal(re_check("^(x[]{}]{5}|y{7}){3}$", &why), 0);
	assert_int_equal(re_check("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", &why), HK_EINVAL);
	assert_int_equal(re_check("e++++++++++++++++++++++++", &why), HK_EINVAL);
	assert_int_equal(re_check("^[a-z]+-[0-9]+\\.[a-z]+$", &why), 0);
	assert_int_equal(re_check("\\{999}", &why), 0);
	/* stacked repetition operators: two (a lazy mark) pass, three do not */
	assert_int_equal(re_check("^a+?b??c*?d{2}?$", &why), 0);
	assert_int_equal(re_check("e???", &why), HK_EINVAL);
	assert_int_equal(re_check("O+++++??????????????????re?????????????+++++++++++nt", &why), HK_EINVAL);
	assert_int_equal(re_compile(&re, "(", REG_EXTENDED, err, sizeof(err)), HK_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_bounded)};
	return RUN(tests);
}
