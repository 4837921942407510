/*
 * id.h - entity ids: a prefix and a 27-character base62 KSUID.
 *
 * A KSUID is 20 bytes: a 4-byte big-endian timestamp (seconds since
 * 2014-05-13, the KSUID epoch) and 16 bytes of payload. hookd fills the first
 * 6 payload bytes with the milliseconds within the second and a process-wide
 * counter, the rest with random bytes, so ids made by one process sort in
 * creation order even within a second (lists page by id).
 *
 *     char id[ID_MAX];
 *     id_new("msg_", id);       // "msg_2Q9..."
 */
#ifndef HK_ID_H
#define HK_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_KSUID_LEN 27
#define ID_KSUID_BYTES 20
#define ID_MAX 40 /* the longest prefix plus a KSUID plus NUL */

void id_new(const char *prefix, char out[ID_MAX]);
/* id_new_at makes an id for a given time (ms), used by tests and by the iterator. */
void id_new_at(const char *prefix, int64_t ms, char out[ID_MAX]);
/* id_ksuid_encode writes 20 raw KSUID bytes as 27 base62 digits and a NUL. */
void id_ksuid_encode(const unsigned char raw[ID_KSUID_BYTES], char out[ID_KSUID_LEN + 1]);
/* id_is reports whether s looks like an id with this prefix. */
bool id_is(const char *prefix, const char *s);
/* id_time_ms returns the creation time (second precision) encoded in an id. */
int64_t id_time_ms(const char *id);

/* rand_bytes fills p with n cryptographically strong random bytes. */
void rand_bytes(void *p, size_t n);

#endif
