/*
 * heap.c - binary min-heap with positions stored in the elements.
 */
#include <stdlib.h>

#include "core/err.h"
#include "core/heap.h"

static int64_t key(const struct heap *h, size_t i)
{
	return *(const int64_t *)((const char *)h->items[i] + h->key_off);
}

static void place(struct heap *h, size_t i, void *item)
{
	h->items[i] = item;
	*(size_t *)((char *)item + h->pos_off) = i;
}

static void sift_up(struct heap *h, size_t i)
{
	void *item = h->items[i];
	int64_t k = *(const int64_t *)((const char *)item + h->key_off);
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (key(h, parent) <= k)
			break;
		place(h, i, h->items[parent]);
		i = parent;
	}
	place(h, i, item);
}

static void sift_down(struct heap *h, size_t i)
{
	void *item = h->items[i];
	int64_t k = *(const int64_t *)((const char *)item + h->key_off);
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		int64_t mk = k;
		if (l < h->len && key(h, l) < mk) {
			m = l;
			mk = key(h, l);
		}
		if (r < h->len && key(h, r) < mk)
			m = r;
		if (m == i)
			break;
		place(h, i, h->items[m]);
		i = m;
	}
	place(h, i, item);
}

void heap_init(struct heap *h, size_t key_off, size_t pos_off)
{
	h->items = NULL;
	h->len = h->cap = 0;
	h->key_off = key_off;
	h->pos_off = pos_off;
}

void heap_release(struct heap *h)
{
	free(h->items);
	h->items = NULL;
	h->len = h->cap = 0;
}

int heap_push(struct heap *h, void *item)
{
	if (h->len == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		void **p = realloc(h->items, ncap * sizeof(*p));
		if (!p)
			return HK_ENOMEM;
		h->items = p;
		h->cap = ncap;
	}
	place(h, h->len++, item);
	sift_up(h, h->len - 1);
	return 0;
}

void *heap_peek(const struct heap *h)
{
	return h->len ? h->items[0] : NULL;
}

void *heap_pop(struct heap *h)
{
	void *top;
	if (!h->len)
		return NULL;
	top = h->items[0];
	heap_remove(h, top);
	return top;
}

void heap_remove(struct heap *h, void *item)
{
	size_t i = *(size_t *)((char *)item + h->pos_off);
	if (i == HEAP_NONE || i >= h->len || h->items[i] != item)
		return;
	*(size_t *)((char *)item + h->pos_off) = HEAP_NONE;
	h->len--;
	if (i == h->len)
		return;
	place(h, i, h->items[h->len]);
	if (i > 0 && key(h, i) < key(h, (i - 1) / 2))
		sift_up(h, i);
	else
		sift_down(h, i);
}
