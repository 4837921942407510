/*
 * auth.c - minted tokens: app-portal access (one application, for the page a
 * SaaS embeds so its customers manage their own endpoints), scoped and
 * read-only tokens, and logout.
 *
 * A token is shown once, when it is made; the store keeps a document of
 * kind "token" whose uid is the SHA-256 of the token text, so a database
 * dump reveals no usable token. The body repeats that hash (_hash), so that
 * a change to the document (a later expiry) can keep it.
 */
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/json.h"

#define TOKEN_TTL_DEFAULT_S (7 * 86400)

/* mint stores a new token and answers with what make_answer builds from it */
static void mint(struct api_req *r, const char *app_id, bool read_only, long long ttl_s,
		 json_t *(*make_answer)(struct api_req *r, const char *id, const char *token, const char *app))
{
	unsigned char raw[24];
	char token[80], hex[49], hash[65], id[ID_MAX], now[40];
	int64_t now_ms;
	struct store_write *w;
	json_t *doc;

	rand_bytes(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), hex);
	snprintf(token, sizeof(token), "%s%s", app_id ? "hk_app_" : "hk_", hex);
	sha256_hex(token, strlen(token), hash);
	id_new("tok_", id);
	api_now_str(now, &now_ms);
	doc = json_pack("{s:s,s:s?,s:b,s:s,s:I,s:s}", "id", id, "app", app_id, "readOnly", read_only,
			"createdAt", now, "_expires", (json_int_t)(ttl_s ? now_ms + ttl_s * 1000 : 0), "_hash", hash);
	w = store_write_new(NULL, NULL);
	if (!doc || !w || store_write_doc(w, SOP_DOC_INSERT, "token", id, "", hash, doc, now_ms, now_ms) < 0) {
		json_decref(doc);
		store_write_free(w);
		api_fail(r, HK_ENOMEM, "token");
		return;
	}
	json_decref(doc);
	api_commit(r, w, 200, make_answer(r, id, token, app_id));
}

static json_t *portal_answer(struct api_req *r, const char *id, const char *token, const char *app)
{
	const char *host = http_header(r->http, "Host");
	struct buf b;
	json_t *out;
	(void)id;

	buf_init(&b, 4096);
	buf_printf(&b, "%s://%s/#/portal?app=%s&token=%s", http_is_tls(r->http) ? "https" : "http",
		   host ? host : "127.0.0.1:8071", app, token);
	out = json_pack("{s:s,s:s}", "url", buf_cstr(&b), "token", token);
	buf_release(&b);
	return out;
}

static json_t *token_answer(struct api_req *r, const char *id, const char *token, const char *app)
{
	(void)r;
	return json_pack("{s:s,s:s,s:s?}", "id", id, "token", token, "app", app);
}

static void app_portal_access(struct api_req *r)
{
	json_t *app = api_load_app(r);
	long long ttl = api_in_int(r, "expiry", TOKEN_TTL_DEFAULT_S, 60, 365LL * 86400);
	bool ro = api_in_bool(r, "readOnly", false);

	if (!app)
		return;
	if (r->scope != SCOPE_ADMIN)
		api_error(r, 403, "forbidden", "only an admin token can open the app portal");
	else if (json_array_size(r->errors))
		api_invalid(r);
	else
		mint(r, json_str(app, "id"), ro, ttl, portal_answer);
	json_decref(app);
}

/* POST /auth/token {app?, readOnly?, expiry?}: an admin makes scoped or read-only tokens */
static void token_create(struct api_req *r)
{
	const char *app_key = api_in_str(r, "app", false, 256);
	long long ttl = api_in_int(r, "expiry", 0, 0, 10LL * 365 * 86400);
	bool ro = api_in_bool(r, "readOnly", false);
	json_t *app = NULL;

	if (r->scope != SCOPE_ADMIN) {
		api_error(r, 403, "forbidden", "only an admin token can make tokens");
		return;
	}
	if (app_key && store_doc_get(r->store, "app", "", app_key, &app) < 0)
		api_field_error(r, "body", "app", "application not found");
	if (json_array_size(r->errors))
		api_invalid(r);
	else
		mint(r, app ? json_str(app, "id") : NULL, ro, ttl, token_answer);
	json_decref(app);
}

/* end_token deletes a minted token's document and answers 204 after the commit */
static void end_token(struct api_req *r, const json_t *doc)
{
	struct store_write *w = store_write_new(NULL, NULL);

	if (!w || store_write_doc(w, SOP_DOC_DELETE, "token", json_str(doc, "id"), "", NULL, NULL, 0, 0) < 0) {
		store_write_free(w);
		api_fail(r, HK_ENOMEM, "token");
		return;
	}
	api_commit(r, w, 204, NULL);
}

static void token_delete(struct api_req *r)
{
	json_t *doc = NULL;
	int rc = store_doc_get(r->store, "token", "", api_param(r, "token"), &doc);

	if (rc < 0 || !json_str(doc, "id") || strncmp(json_str(doc, "id"), "tok_", 4) != 0)
		api_fail(r, HK_ENOTFOUND, "token");
	else
		end_token(r, doc);
	json_decref(doc);
}

/* POST /auth/logout ends the minted token the request carries */
static void logout(struct api_req *r)
{
	const char *auth = http_header(r->http, "Authorization");
	char hash[65];
	json_t *doc = NULL;

	if (!auth || strlen(auth) < 8) {
		api_error(r, 400, "bad_request", "no token to end");
		return;
	}
	sha256_hex(auth + 7, strlen(auth + 7), hash);
	if (store_doc_get(r->store, "token", "", hash, &doc) < 0) {
		api_error(r, 400, "bad_request", "the admin token cannot be logged out");
		return;
	}
	end_token(r, doc);
	json_decref(doc);
}

/*
 * expire_one adds to w the end of one of the application's tokens: deleted
 * now, or expiring at `at` (ms) unless it expires sooner. A token minted
 * before tokens kept their hash in the body cannot be changed: it goes now.
 */
static int expire_one(struct store_write *w, json_t *tok, int64_t at, int64_t now_ms)
{
	json_int_t expires = json_integer_value(json_object_get(tok, "_expires"));
	const char *hash = json_str(tok, "_hash");

	if (at && expires && expires <= at)
		return 0; /* ends sooner anyway */
	if (!at || !hash)
		return store_write_doc(w, SOP_DOC_DELETE, "token", json_str(tok, "id"), "", NULL, NULL, 0, 0);
	json_object_set_new(tok, "_expires", json_integer(at));
	return store_write_doc(w, SOP_DOC_UPDATE, "token", json_str(tok, "id"), "", hash, tok, 0, now_ms);
}

/*
 * POST /auth/app/{app}/expire-all {expiry?}: ends every token of one
 * application (app-portal sessions, scoped tokens): now, or `expiry`
 * seconds from now (at most a day). 204 once committed.
 */
static void expire_all(struct api_req *r)
{
	json_t *app = api_load_app(r);
	long long delay = api_in_int(r, "expiry", 0, 0, 86400);
	struct store_page pg = {.limit = 250};
	struct store_list l = {0};
	struct store_write *w = NULL;
	char after[ID_MAX] = "";
	int64_t now_ms = clock_now_ms();
	int rc = 0;

	if (!app)
		return;
	if (r->scope != SCOPE_ADMIN) {
		api_error(r, 403, "forbidden", "only an admin token can end an application's tokens");
		goto out;
	}
	if (json_array_size(r->errors)) {
		api_invalid(r);
		goto out;
	}
	w = store_write_new(NULL, NULL);
	if (!w) {
		rc = HK_ENOMEM;
		goto out;
	}
	do {
		size_t i;
		json_t *tok;

		pg.iterator = after[0] ? after : NULL;
		rc = store_doc_list(r->store, "token", "", &pg, &l);
		if (rc < 0)
			goto out;
		json_array_foreach(l.items, i, tok) {
			if (rc == 0 && json_str(tok, "app") && strcmp(json_str(tok, "app"), json_str(app, "id")) == 0)
				rc = expire_one(w, tok, delay ? now_ms + delay * 1000 : 0, now_ms);
			snprintf(after, sizeof(after), "%s", json_str(tok, "id"));
		}
		store_list_release(&l);
	} while (rc == 0 && !l.done);
	if (rc == 0) {
		api_commit(r, w, 204, NULL);
		w = NULL;
	}
out:
	if (rc < 0)
		api_fail(r, rc, "token");
	store_write_free(w);
	json_decref(app);
}

const struct api_route api_auth_routes[] = {
	{{"POST", "/api/v1/auth/app-portal-access/{app}"}, app_portal_access, 0},
	{{"POST", "/api/v1/auth/token"}, token_create, 0},
	{{"DELETE", "/api/v1/auth/token/{token}"}, token_delete, 0},
	{{"POST", "/api/v1/auth/logout"}, logout, RF_APP_READ | RF_ANY_TOKEN},
	{{"POST", "/api/v1/auth/app/{app}/expire-all"}, expire_all, 0},
};
const size_t api_auth_nroutes = sizeof(api_auth_routes) / sizeof(api_auth_routes[0]);
