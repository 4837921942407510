/*
 * task.c - Svix's background tasks: GET /api/v1/background-task (filters
 * status, task) and GET /api/v1/background-task/{task}, for the admin token.
 *
 * The calls that answer with a task (recover, replay-missing,
 * expunge-all-contents) have done their work by the time they answer, so
 * each task is stored finished, in the same commit as that work
 * (api_task_add), and reading it back tells what it did: its data.
 */
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"

#define TASK_KIND "task"

json_t *api_task_add(struct store_write *w, const char *task, json_t *data)
{
	json_t *doc = NULL, *answer = NULL;
	char id[ID_MAX], now[40];
	int64_t now_ms;

	id_new("qtask_", id);
	api_now_str(now, &now_ms);
	doc = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", id, "status", "finished", "task", task, "updatedAt", now,
			"data", data ? data : json_object());
	if (doc && store_write_doc(w, SOP_DOC_INSERT, TASK_KIND, id, "", NULL, doc, now_ms, now_ms) == 0)
		answer = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "status", "finished", "task", task,
				   "updatedAt", now);
	json_decref(doc);
	return answer;
}

/* is_or_any: whether doc's member is want, or want is NULL (no filter) */
static bool is_or_any(const json_t *doc, const char *member, const char *want)
{
	const char *v = json_str(doc, member);
	return !want || (v && strcmp(v, want) == 0);
}

static void task_list(struct api_req *r)
{
	static const char *const statuses[] = {"running", "finished", "failed"};
	const char *status = http_query(r->http, "status"), *task = http_query(r->http, "task");
	struct store_page pg;
	struct store_list l;
	json_t *kept, *item;
	size_t i;
	bool known = !status;
	int rc;

	for (i = 0; status && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		known |= strcmp(status, statuses[i]) == 0;
	if (!known)
		api_field_error(r, "query", "status", "must be running, finished or failed");
	api_page(r, &pg, true);
	if (json_array_size(r->errors)) {
		api_invalid(r);
		return;
	}
	rc = store_doc_list(r->store, TASK_KIND, "", &pg, &l);
	if (rc < 0) {
		api_fail(r, rc, "background tasks");
		return;
	}
	/* filtered after paging, as event types are: a page may come back short */
	kept = json_array();
	json_array_foreach(l.items, i, item) {
		if (!is_or_any(item, "status", status) || !is_or_any(item, "task", task))
			continue;
		json_array_append(kept, item);
	}
	json_decref(l.items);
	l.items = kept;
	api_list(r, &l);
}

static void task_get(struct api_req *r)
{
	json_t *doc = NULL;
	int rc = store_doc_get(r->store, TASK_KIND, "", api_param(r, "task"), &doc);

	if (rc < 0)
		api_fail(r, rc, "background task");
	else
		api_json(r, 200, doc);
}

const struct api_route api_task_routes[] = {
	{{"GET", "/api/v1/background-task"}, task_list, 0},
	{{"GET", "/api/v1/background-task/{task}"}, task_get, 0},
};
const size_t api_task_nroutes = sizeof(api_task_routes) / sizeof(api_task_routes[0]);
