/*
 * retry_after_fuzz.c - libFuzzer driver for retry_after_parse() and
 * retry_schedule_parse(): the input, NUL-terminated, is both a Retry-After
 * value and a --retry-schedule string. Checks the documented bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "deliver/retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t nows[] = {0, 784111777000, 1767225600000, -1, INT64_MAX, INT64_MIN};
	struct retry_schedule s;
	char reason[128];
	char *text = malloc(size + 1);
	int64_t d;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++) {
		d = -7;
		int rc = retry_after_parse(text, nows[i], &d);
		if (rc == 0 && (d < 0 || d > RETRY_AFTER_MAX_MS))
			abort();
		if (rc != 0 && (rc != HK_EPARSE || d != -7))
			abort();
	}
	if (retry_schedule_parse(&s, text, reason, sizeof reason) == 0) {
		if (s.n < 1 || s.n > RETRY_MAX_ENTRIES)
			abort();
		for (int a = 1; a <= s.n; a++) {
			int64_t lo = retry_next_delay(&s, a, 0.0);
			int64_t hi = retry_next_delay(&s, a, 0.999999);
			if (lo < 0 || hi < lo || s.delay_ms[a - 1] > RETRY_MAX_DELAY_MS)
				abort();
		}
		if (retry_next_delay(&s, s.n + 1, 0.5) != RETRY_EXHAUSTED)
			abort();
	} else if (strnlen(reason, sizeof reason) == 0) {
		abort();
	}
	free(text);
	return 0;
}
