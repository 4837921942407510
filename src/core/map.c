/*
 * map.c - separate chaining, FNV-1a hashing, doubling at load factor 1.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/map.h"

struct map_entry {
	struct map_entry *next;
	void *value;
	size_t hash;
	char key[];
};

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void map_init(struct map *m)
{
	m->buckets = NULL;
	m->nbuckets = m->len = 0;
}

void map_release(struct map *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct map_entry *e = m->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			if (free_value)
				free_value(e->value);
			free(e);
		}
	}
	free(m->buckets);
	map_init(m);
}

static struct map_entry **slot(const struct map *m, const char *key, size_t h)
{
	struct map_entry **pp = &m->buckets[h & (m->nbuckets - 1)];
	while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
		pp = &(*pp)->next;
	return pp;
}

void *map_get(const struct map *m, const char *key)
{
	if (!m->nbuckets)
		return NULL;
	struct map_entry *e = *slot(m, key, hash_str(key));
	return e ? e->value : NULL;
}

static int grow(struct map *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
	struct map_entry **b = calloc(n, sizeof(*b));
	if (!b)
		return HK_ENOMEM;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct map_entry *e = m->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
	return 0;
}

int map_put(struct map *m, const char *key, void *value, void **old)
{
	size_t h = hash_str(key), klen = strlen(key);
	struct map_entry **pp, *e;

	if (old)
		*old = NULL;
	if (m->len >= m->nbuckets && grow(m) < 0)
		return HK_ENOMEM;
	pp = slot(m, key, h);
	if (*pp) {
		if (old)
			*old = (*pp)->value;
		(*pp)->value = value;
		return 0;
	}
	e = malloc(sizeof(*e) + klen + 1);
	if (!e)
		return HK_ENOMEM;
	e->next = NULL;
	e->value = value;
	e->hash = h;
	memcpy(e->key, key, klen + 1);
	*pp = e;
	m->len++;
	return 0;
}

void *map_del(struct map *m, const char *key)
{
	struct map_entry **pp, *e;
	void *v;

	if (!m->nbuckets)
		return NULL;
	pp = slot(m, key, hash_str(key));
	e = *pp;
	if (!e)
		return NULL;
	*pp = e->next;
	v = e->value;
	free(e);
	m->len--;
	return v;
}

void map_each(const struct map *m, void (*fn)(const char *, void *, void *), void *arg)
{
	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct map_entry *e = m->buckets[i]; e; e = e->next)
			fn(e->key, e->value, arg);
}
