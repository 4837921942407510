/*
 * heap.h - a binary min-heap of pointers ordered by an int64 key.
 *
 * Each element carries its own position (a size_t the caller embeds), so an
 * element can be removed or re-keyed in O(log n). The heap never owns its
 * elements.
 *
 *     struct job { int64_t due; size_t heap_pos; ... };
 *     struct heap h;
 *     heap_init(&h, offsetof(struct job, due), offsetof(struct job, heap_pos));
 *     heap_push(&h, job);  job = heap_peek(&h);  heap_pop(&h);  heap_remove(&h, job);
 */
#ifndef HK_HEAP_H
#define HK_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_NONE ((size_t)-1)

struct heap {
	void **items;
	size_t len, cap;
	size_t key_off, pos_off;
};

void heap_init(struct heap *h, size_t key_off, size_t pos_off);
void heap_release(struct heap *h);
int heap_push(struct heap *h, void *item);
void *heap_peek(const struct heap *h);
void *heap_pop(struct heap *h);
void heap_remove(struct heap *h, void *item);
static inline size_t heap_len(const struct heap *h) { return h->len; }

#endif
