/*
 * ui.c - serve the embedded dashboard files.
 *
 * Only what is in the generated table can be served: the request path is
 * looked up by name, never joined to a file system path, so ".." has
 * nothing to climb. Every answer carries headers that keep the page to its
 * own origin (a strict Content-Security-Policy, no framing, no referrer:
 * an app-portal link carries a token in its fragment).
 */
#include <string.h>

#include "http/server.h"
#include "ui/ui.h"

static const struct {
	const char *ext;
	const char *type;
} ui_types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".json", "application/json"},
	{".webmanifest", "application/manifest+json"},
	{".txt", "text/plain; charset=utf-8"},
};

const char *ui_type(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof(ui_types) / sizeof(ui_types[0]); i++) {
		size_t e = strlen(ui_types[i].ext);
		if (n > e && strcmp(path + n - e, ui_types[i].ext) == 0)
			return ui_types[i].type;
	}
	return "application/octet-stream";
}

const struct ui_file *ui_find(const char *path)
{
	for (size_t i = 0; i < ui_nfiles; i++) {
		if (strcmp(ui_files[i].path, path) == 0)
			return &ui_files[i];
	}
	return NULL;
}

/* etag_matches reads If-None-Match: a list of quoted tags, or "*" */
static int etag_matches(const char *header, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = header;

	if (!header)
		return 0;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

void ui_serve(struct http_req *req)
{
	static const char nf[] = "{\"code\":\"not_found\",\"detail\":\"no such dashboard file\"}";
	const char *path = req->path;
	const struct ui_file *f;

	while (*path == '/')
		path++;
	if (strncmp(path, "ui/", 3) == 0)
		path += 3;
	if (!*path)
		path = "index.html";
	f = ui_find(path);
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	if (!f) {
		http_respond(req, 404, "application/json", nf, sizeof(nf) - 1);
		return;
	}
	http_add_header(req, "Cache-Control", "no-cache");
	http_add_header(req, "ETag", f->etag);
	http_add_header(req, "Referrer-Policy", "no-referrer");
	http_add_header(req, "X-Frame-Options", "DENY");
	http_add_header(req, "Content-Security-Policy",
			"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
			"img-src 'self' data:; connect-src 'self'; object-src 'none'; "
			"base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
	if (etag_matches(http_header(req, "If-None-Match"), f->etag)) {
		http_respond(req, 304, NULL, NULL, 0);
		return;
	}
	http_respond(req, 200, ui_type(path), (const char *)f->data, f->len);
}
