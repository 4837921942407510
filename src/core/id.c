/*
 * id.c - KSUID-style ids, base62 encoded.
 */
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"

#define KSUID_EPOCH 1400000000LL

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static atomic_uint id_counter;

void rand_bytes(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1) {
		log_error("cannot read random bytes");
		abort();
	}
}

/*
 * id_random fills an id's random bytes from a per-thread pool refilled 4 KiB
 * at a time: ids are made on hot paths (every attempt has one) and need to
 * be unpredictable, not secret, so one RAND_bytes call serves ~400 ids.
 */
static void id_random(unsigned char *p, size_t n)
{
	static _Thread_local unsigned char pool[4096];
	static _Thread_local size_t left;

	if (left < n) {
		rand_bytes(pool, sizeof(pool));
		left = sizeof(pool);
	}
	memcpy(p, pool + sizeof(pool) - left, n);
	left -= n;
}

/*
 * base62 of a 160-bit big-endian number, left-padded to 27 digits: long
 * division by 62^5 over five 32-bit words, five digits per pass.
 */
void id_ksuid_encode(const unsigned char in[ID_KSUID_BYTES], char out[ID_KSUID_LEN + 1])
{
	const uint64_t b62_5 = 62ull * 62 * 62 * 62 * 62;
	uint32_t w[5];
	int pos = ID_KSUID_LEN;

	for (int i = 0; i < 5; i++)
		w[i] = (uint32_t)in[4 * i] << 24 | (uint32_t)in[4 * i + 1] << 16 | (uint32_t)in[4 * i + 2] << 8 |
		       in[4 * i + 3];
	while (pos > 0) {
		uint64_t rem = 0;
		for (int i = 0; i < 5; i++) {
			uint64_t acc = rem << 32 | w[i];
			w[i] = (uint32_t)(acc / b62_5);
			rem = acc % b62_5;
		}
		for (int k = 0; k < 5 && pos > 0; k++, rem /= 62)
			out[--pos] = b62[rem % 62];
	}
	out[ID_KSUID_LEN] = '\0';
}

void id_new_at(const char *prefix, int64_t ms, char out[ID_MAX])
{
	unsigned char raw[ID_KSUID_BYTES];
	uint32_t ts = (uint32_t)(ms / 1000 - KSUID_EPOCH);
	unsigned frac = (unsigned)(ms % 1000);
	unsigned seq = atomic_fetch_add(&id_counter, 1);
	size_t plen = strlen(prefix);

	raw[0] = ts >> 24;
	raw[1] = ts >> 16 & 0xff;
	raw[2] = ts >> 8 & 0xff;
	raw[3] = ts & 0xff;
	raw[4] = frac >> 8 & 0xff;
	raw[5] = frac & 0xff;
	raw[6] = seq >> 24 & 0xff;
	raw[7] = seq >> 16 & 0xff;
	raw[8] = seq >> 8 & 0xff;
	raw[9] = seq & 0xff;
	id_random(raw + 10, ID_KSUID_BYTES - 10);
	if (plen > ID_MAX - ID_KSUID_LEN - 1)
		plen = ID_MAX - ID_KSUID_LEN - 1;
	memcpy(out, prefix, plen);
	id_ksuid_encode(raw, out + plen);
}

void id_new(const char *prefix, char out[ID_MAX])
{
	id_new_at(prefix, clock_now_ms(), out);
}

/* b62_value is a base62 digit's value, or -1 */
static int b62_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

bool id_is(const char *prefix, const char *s)
{
	size_t plen = strlen(prefix);

	if (strncmp(s, prefix, plen) != 0 || strlen(s + plen) != ID_KSUID_LEN)
		return false;
	for (const char *p = s + plen; *p; p++)
		if (b62_value(*p) < 0)
			return false;
	return true;
}

int64_t id_time_ms(const char *id)
{
	const char *k = strchr(id, '_');
	uint32_t w[5] = {0}; /* the 160-bit number, most significant word first */

	k = k ? k + 1 : id;
	if (strlen(k) != ID_KSUID_LEN)
		return 0;
	/* multiply-accumulate base62 digits into five 32-bit words (the dispatcher does this per attempt) */
	for (const char *p = k; *p; p++) {
		int d = b62_value(*p);
		uint64_t carry = d > 0 ? (uint64_t)d : 0;
		for (int i = 4; i >= 0; i--) {
			uint64_t v = (uint64_t)w[i] * 62 + carry;
			w[i] = (uint32_t)v;
			carry = v >> 32;
		}
	}
	/* bytes 0-3 are the seconds, bytes 4-5 the milliseconds within them */
	return ((int64_t)w[0] + KSUID_EPOCH) * 1000 + (w[1] >> 16);
}
