/*
 * map.h - a hash map from NUL-terminated string keys to pointers.
 *
 * The map copies keys and never owns values. Not thread-safe: each map
 * belongs to one thread or is guarded by its owner's lock.
 */
#ifndef HK_MAP_H
#define HK_MAP_H

#include <stddef.h>

struct map_entry;

struct map {
	struct map_entry **buckets;
	size_t nbuckets, len;
};

void map_init(struct map *m);
/* map_release frees the map's own memory; free_value (may be NULL) runs on each value */
void map_release(struct map *m, void (*free_value)(void *));
void *map_get(const struct map *m, const char *key);
/* map_put sets key to value, replacing (and returning through *old) any previous value */
int map_put(struct map *m, const char *key, void *value, void **old);
void *map_del(struct map *m, const char *key);
/* map_each calls fn for every entry; fn must not change the map */
void map_each(const struct map *m, void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
