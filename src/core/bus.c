/*
 * bus.c - subscribers in a list under one mutex (there are few of them: one
 * per open live view), and an atomic count so idle producers pay nothing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/bus.h"

struct bus_sub {
	struct bus_sub *next;
	bus_fn fn;
	void *arg;
};

static pthread_mutex_t bus_mu = PTHREAD_MUTEX_INITIALIZER;
static struct bus_sub *subs;
static atomic_int nsubs;

struct bus_sub *bus_subscribe(bus_fn fn, void *arg)
{
	struct bus_sub *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fn = fn;
	s->arg = arg;
	pthread_mutex_lock(&bus_mu);
	s->next = subs;
	subs = s;
	atomic_fetch_add(&nsubs, 1);
	pthread_mutex_unlock(&bus_mu);
	return s;
}

void bus_unsubscribe(struct bus_sub *sub)
{
	if (!sub)
		return;
	pthread_mutex_lock(&bus_mu);
	for (struct bus_sub **pp = &subs; *pp; pp = &(*pp)->next) {
		if (*pp == sub) {
			*pp = sub->next;
			atomic_fetch_sub(&nsubs, 1);
			break;
		}
	}
	pthread_mutex_unlock(&bus_mu);
	free(sub);
}

bool bus_active(void)
{
	return atomic_load(&nsubs) > 0;
}

void bus_publish(const char *kind, const char *app, const char *source, json_t *data)
{
	char *text;

	if (!bus_active() || !data) {
		json_decref(data);
		return;
	}
	text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!text)
		return;
	pthread_mutex_lock(&bus_mu);
	for (struct bus_sub *s = subs; s; s = s->next)
		s->fn(s->arg, kind, app, source, text);
	pthread_mutex_unlock(&bus_mu);
	free(text);
}
