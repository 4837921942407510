/*
 * json_string_fuzz.c - libFuzzer driver for json_buf_string() and
 * json_utf8_ok(), checked against jansson: the input is accepted exactly when
 * json_stringn() accepts it, and then written exactly as jansson's compact
 * dump writes it; a refused input leaves the buffer as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *str = json_stringn((const char *)data, size);
	struct buf b;
	int rc;

	buf_init(&b, 1u << 24);
	buf_appends(&b, "[");
	rc = json_buf_string(&b, (const char *)data, size);
	if (json_utf8_ok((const char *)data, size) != (str != NULL))
		abort();
	if (!str) {
		if (rc != HK_EPARSE || strcmp(buf_cstr(&b), "[") != 0)
			abort();
	} else {
		char *want = json_dumps(str, JSON_COMPACT | JSON_ENCODE_ANY);
		if (rc != 0 || !want || strcmp(buf_cstr(&b) + 1, want) != 0)
			abort();
		free(want);
	}
	json_decref(str);
	buf_release(&b);
	return 0;
}
