/*
 * form.h - decoding "a=1&b=two+words" into a JSON object of strings.
 */
#ifndef HK_FORM_H
#define HK_FORM_H

#include <jansson.h>
#include <stddef.h>

#define FORM_PAIRS_MAX 4096

/*
 * form_parse adds each decoded pair of s to obj (the first value of a
 * repeated name wins). Bad pairs are skipped and reported as HK_EPARSE
 * after the rest are added; HK_ETOOBIG past FORM_PAIRS_MAX names.
 */
int form_parse(const char *s, size_t len, json_t *obj);

#endif
