/*
 * ui.h - the web dashboard, embedded in the binary.
 *
 * The files under web/ are turned into a C array at build time
 * (scripts/embed.sh writes $(BUILD)/gen/ui_files.c). ui_serve answers
 * GET / with index.html and GET /ui/<path> with the file at <path>, with its
 * content type, an ETag (a matching If-None-Match gets 304) and
 * "Cache-Control: no-cache", so a browser revalidates after an upgrade.
 * The dashboard is public: it holds no data, and every call it makes is an
 * API call with the user's own token.
 */
#ifndef HK_UI_H
#define HK_UI_H

#include <stddef.h>

struct http_req;

struct ui_file {
	const char *path;          /* relative to web/, e.g. "js/app.js" */
	const unsigned char *data; /* len bytes, then a 0 */
	size_t len;
	const char *etag;          /* quoted, e.g. "\"123-456\"" */
};

extern const struct ui_file ui_files[];
extern const size_t ui_nfiles;

/* ui_find returns the embedded file at path (relative to web/), or NULL */
const struct ui_file *ui_find(const char *path);
/* ui_type returns the content type for a file name */
const char *ui_type(const char *path);
/* ui_serve answers a GET for / or /ui/... (404 when there is no such file) */
void ui_serve(struct http_req *req);

#endif
