/*
 * hooks_load_fuzz.c - libFuzzer target: bytes as a hooks file, read once as
 * JSON (with its YAML fallback) and once as YAML.
 *
 *   clang -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Isrc \
 *       tests/fuzz/hooks_load_fuzz.c $(ls src/core/[a-z]*.c src/hooks/[a-z]*.c) \
 *       $(pkg-config --cflags --libs jansson yaml-0.1 openssl)
 */
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "hooks/hookdef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct hookdef_set set;
	char err[256];

	if (!quiet) {
		log_init(LOG_TEXT, LOG_ERROR);
		quiet = 1;
	}
	if (hookdef_load_buf((const char *)data, size, HOOKDEF_JSON, &set, err, sizeof(err)) == 0)
		hookdef_set_release(&set);
	if (hookdef_load_buf((const char *)data, size, HOOKDEF_YAML, &set, err, sizeof(err)) == 0)
		hookdef_set_release(&set);
	return 0;
}
