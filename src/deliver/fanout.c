/*
 * fanout.c - endpoint matching and the per-application endpoint cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "deliver/fanout.h"

#define FANOUT_PAGE 250

struct fanout_entry {
	uint_fast64_t gen;
	json_t *endpoints;
};

static bool array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach((json_t *)arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

bool fanout_match(const json_t *ep, const char *event_type, const json_t *channels)
{
	const json_t *types = json_object_get(ep, "eventTypes");
	const json_t *ep_channels = json_object_get(ep, "channels");
	size_t i;
	json_t *c;

	if (json_is_true(json_object_get(ep, "disabled")))
		return false;
	if (json_array_size(types) && !array_has(types, event_type))
		return false;
	if (!json_array_size(ep_channels))
		return true;
	json_array_foreach((json_t *)channels, i, c) {
		if (json_is_string(c) && array_has(ep_channels, json_string_value(c)))
			return true;
	}
	return false;
}

static void entry_free(void *p)
{
	struct fanout_entry *e = p;
	if (e) {
		json_decref(e->endpoints);
		free(e);
	}
}

void fanout_init(struct fanout *f, struct store *store)
{
	f->store = store;
	pthread_mutex_init(&f->mu, NULL);
	map_init(&f->apps);
	map_init(&f->app_docs);
	atomic_init(&f->gen, 1);
}

void fanout_release(struct fanout *f)
{
	map_release(&f->apps, entry_free);
	map_release(&f->app_docs, entry_free);
	pthread_mutex_destroy(&f->mu);
}

void fanout_invalidate(struct fanout *f)
{
	atomic_fetch_add(&f->gen, 1);
}

/* load reads every endpoint of the app, page by page */
static int load(struct fanout *f, const char *app_id, json_t **out)
{
	struct store_page pg = {NULL, FANOUT_PAGE, false};
	char cursor[ID_MAX + 200] = "";
	json_t *all = json_array();
	int rc;

	for (;;) {
		struct store_list l;
		pg.iterator = cursor[0] ? cursor : NULL;
		rc = store_doc_list(f->store, "endpoint", app_id, &pg, &l);
		if (rc < 0) {
			json_decref(all);
			return rc;
		}
		json_array_extend(all, l.items);
		memcpy(cursor, l.iterator, sizeof(cursor));
		store_list_release(&l);
		if (l.done || !cursor[0])
			break;
	}
	*out = all;
	return 0;
}

int fanout_endpoints(struct fanout *f, const char *app_id, json_t **out)
{
	uint_fast64_t gen = atomic_load(&f->gen);
	struct fanout_entry *e, *fresh;
	void *old = NULL;
	int rc;

	pthread_mutex_lock(&f->mu);
	e = map_get(&f->apps, app_id);
	if (e && e->gen == gen) {
		*out = json_incref(e->endpoints);
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	pthread_mutex_unlock(&f->mu);

	fresh = calloc(1, sizeof(*fresh));
	if (!fresh)
		return HK_ENOMEM;
	rc = load(f, app_id, &fresh->endpoints);
	if (rc < 0) {
		free(fresh);
		return rc;
	}
	fresh->gen = gen;
	*out = json_incref(fresh->endpoints);
	pthread_mutex_lock(&f->mu);
	if (map_put(&f->apps, app_id, fresh, &old) < 0) {
		old = fresh;
	}
	pthread_mutex_unlock(&f->mu);
	entry_free(old);
	return 0;
}

int fanout_doc_shared(struct fanout *f, const char *kind, const char *key, json_t **out)
{
	uint_fast64_t gen = atomic_load(&f->gen);
	struct fanout_entry *e, *fresh;
	void *old = NULL;
	json_t *doc = NULL;
	char ckey[300];
	int rc;

	snprintf(ckey, sizeof(ckey), "%s/%s", kind, key);
	pthread_mutex_lock(&f->mu);
	e = map_get(&f->app_docs, ckey);
	if (e && e->gen == gen) {
		*out = json_incref(e->endpoints);
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	pthread_mutex_unlock(&f->mu);
	rc = store_doc_get(f->store, kind, "", key, &doc);
	if (rc < 0)
		return rc;
	fresh = calloc(1, sizeof(*fresh));
	if (fresh) {
		fresh->gen = gen;
		fresh->endpoints = json_incref(doc);
		pthread_mutex_lock(&f->mu);
		if (f->app_docs.len > 100000) /* bounded: start over rather than grow without end */
			map_release(&f->app_docs, entry_free);
		if (map_put(&f->app_docs, ckey, fresh, &old) < 0)
			old = fresh;
		pthread_mutex_unlock(&f->mu);
		entry_free(old);
	}
	*out = doc; /* the cache holds its own reference */
	return 0;
}
