/*
 * test.h - what every unit test includes: cmocka and small typed helpers.
 */
#ifndef HK_TEST_H
#define HK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define RUN(tests) cmocka_run_group_tests(tests, NULL, NULL)

#endif
