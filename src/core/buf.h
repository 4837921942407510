/*
 * buf.h - a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Invariants: b->data is NUL-terminated whenever len > 0 or after any append,
 * len < cap_max, and no append ever grows the buffer past cap_max: it fails
 * with HK_ETOOBIG and leaves the content as it was. Anything sized by
 * untrusted input goes through a buf.
 *
 *     struct buf b;
 *     buf_init(&b, 1 << 20);
 *     if (buf_append(&b, p, n) < 0) ... ;
 *     buf_release(&b);
 */
#ifndef HK_BUF_H
#define HK_BUF_H

#include <stddef.h>

#include "core/log.h"

struct buf {
	char *data;    /* owned; NULL until the first append */
	size_t len;    /* bytes used, not counting the NUL */
	size_t alloc;  /* bytes allocated */
	size_t cap;    /* the most len may ever reach */
};

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
/* buf_reset empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* buf_reserve makes room for extra more bytes, so the appends that follow need no allocation. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_appends(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) HK_PRINTF(2, 3);
/* buf_detach hands the data (NUL-terminated, never NULL) to the caller. */
char *buf_detach(struct buf *b, size_t *len);
/* buf_cstr returns the content as a C string ("" when empty). */
const char *buf_cstr(const struct buf *b);

#endif
