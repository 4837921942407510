/*
 * client.c - server and token resolution, the config file, and a blocking
 * JSON client for the subcommands that talk to a running hookd; see client.h.
 *
 * The client is deliberately simple: one easy handle per call, answers read
 * whole into a capped buffer, no retries. These are short-lived commands run
 * by people, where a clear error beats cleverness.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/client.h"
#include "core/err.h"
#include "core/json.h"

/* ---- the config file ---- */

static void trim(char **s, char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

int client_config_parse(const char *text, struct client_conf *conf, int *line)
{
	const char *p = text;
	int n = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);
		char *ks = (char *)p, *ke, *vs, *ve;
		const char *eq = memchr(p, '=', (size_t)(end - p));

		n++;
		ke = (char *)end;
		trim(&ks, &ke);
		if (ks == ke || *ks == '#')
			goto next;
		if (!eq) {
			if (line)
				*line = n;
			return HK_EPARSE;
		}
		ke = (char *)eq;
		trim(&ks, &ke);
		vs = (char *)eq + 1;
		ve = (char *)end;
		trim(&vs, &ve);
		if ((size_t)(ke - ks) == 6 && strncmp(ks, "server", 6) == 0) {
			snprintf(conf->server, sizeof(conf->server), "%.*s", (int)(ve - vs), vs);
			while (conf->server[0] && conf->server[strlen(conf->server) - 1] == '/')
				conf->server[strlen(conf->server) - 1] = '\0';
		} else if ((size_t)(ke - ks) == 5 && strncmp(ks, "token", 5) == 0) {
			snprintf(conf->token, sizeof(conf->token), "%.*s", (int)(ve - vs), vs);
		}
next:
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int client_config_format(const struct client_conf *conf, struct buf *out)
{
	int rc = buf_appends(out, "# hookd client settings, written by 'hookd login'\n");
	if (rc == 0)
		rc = buf_printf(out, "server = %s\n", conf->server);
	if (rc == 0 && conf->token[0])
		rc = buf_printf(out, "token = %s\n", conf->token);
	return rc;
}

int client_config_path(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	/* the XDG spec asks to ignore a relative XDG_CONFIG_HOME */
	if (xdg && xdg[0] == '/')
		n = snprintf(out, cap, "%s/hookd/config", xdg);
	else if (home && *home)
		n = snprintf(out, cap, "%s/.config/hookd/config", home);
	else
		return HK_ENOTFOUND;
	return n < 0 || (size_t)n >= cap ? HK_ENOSPACE : 0;
}

/* mkdirs creates every folder above the file at path (mode 0700 for new ones) */
static int mkdirs(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return HK_EIO;
		*p = '/';
	}
	return 0;
}

int client_config_write(const char *path, const struct client_conf *conf, char *err, size_t errlen)
{
	struct buf text;
	int fd = -1, rc;

	buf_init(&text, 1 << 16);
	rc = client_config_format(conf, &text);
	if (rc < 0)
		goto out;
	if (mkdirs(path) < 0) {
		snprintf(err, errlen, "cannot create the folder of '%s': %s", path, strerror(errno));
		rc = HK_EIO;
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	/* an existing file keeps its mode on O_CREAT: tighten it before writing the token */
	if (fd < 0 || fchmod(fd, 0600) < 0 ||
	    write(fd, buf_cstr(&text), text.len) != (ssize_t)text.len) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		rc = HK_EIO;
	}
out:
	if (fd >= 0 && close(fd) < 0 && rc == 0) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		rc = HK_EIO;
	}
	buf_release(&text);
	return rc;
}

/* read_file reads a small text file; HK_ENOTFOUND when it does not exist */
static int read_file(const char *path, struct buf *out)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (!f)
		return errno == ENOENT ? HK_ENOTFOUND : HK_EIO;
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(out, chunk, n);
	if (rc == 0 && ferror(f))
		rc = HK_EIO;
	fclose(f);
	return rc;
}

static void set_server(struct client_conf *conf, const char *s)
{
	snprintf(conf->server, sizeof(conf->server), "%s", s);
	while (conf->server[0] && conf->server[strlen(conf->server) - 1] == '/')
		conf->server[strlen(conf->server) - 1] = '\0';
}

int client_resolve(const char *flag_server, const char *flag_token, struct client_conf *conf,
		   char *err, size_t errlen)
{
	struct client_conf file = {{0}, {0}};
	char path[4096];
	struct buf text;
	int rc = 0, line = 0;

	memset(conf, 0, sizeof(*conf));
	buf_init(&text, 1 << 16);
	if (client_config_path(path, sizeof(path)) == 0) {
		rc = read_file(path, &text);
		if (rc == 0 && client_config_parse(buf_cstr(&text), &file, &line) < 0) {
			snprintf(err, errlen, "'%s' line %d: expected 'key = value'", path, line);
			rc = HK_EPARSE;
			goto out;
		}
		if (rc < 0 && rc != HK_ENOTFOUND) {
			snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		rc = 0;
	}
	set_server(conf, flag_server && *flag_server ? flag_server
			 : file.server[0]                 ? file.server
							  : CLIENT_DEFAULT_SERVER);
	if (strncmp(conf->server, "http://", 7) != 0 && strncmp(conf->server, "https://", 8) != 0) {
		snprintf(err, errlen, "--server needs an http:// or https:// URL, not '%s'", conf->server);
		rc = HK_EINVAL;
		goto out;
	}
	if (flag_token && *flag_token)
		snprintf(conf->token, sizeof(conf->token), "%s", flag_token);
	else if (!file.server[0] || strcmp(file.server, conf->server) == 0)
		snprintf(conf->token, sizeof(conf->token), "%s", file.token);
out:
	buf_release(&text);
	return rc;
}

/* ---- HTTP ---- */

char *client_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;
	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	return buf_append(arg, p, size * n) < 0 ? 0 : size * n;
}

/* error_detail writes a readable reason for a non-2xx answer */
static void error_detail(long status, const struct buf *body, char *err, size_t errlen)
{
	json_t *doc = json_loadb(buf_cstr(body), body->len, 0, NULL);
	const char *detail = doc ? json_str(doc, "detail") : NULL;
	json_t *d = doc ? json_object_get(doc, "detail") : NULL;
	char *dumped = NULL;

	/* validation errors carry a list of {loc, msg} */
	if (!detail && json_is_array(d) && json_array_size(d)) {
		json_t *first = json_array_get(d, 0);
		detail = json_str(first, "msg");
	}
	if (!detail && doc)
		detail = dumped = json_dumps(doc, JSON_COMPACT);
	if (!detail)
		detail = body->len ? buf_cstr(body) : "(no body)";
	snprintf(err, errlen, "server answered %ld: %.300s", status, detail);
	free(dumped);
	json_decref(doc);
}

int client_call(const struct client_conf *conf, const char *method, const char *path,
		const json_t *body, long *status, json_t **out, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[CLIENT_URL_MAX * 2], auth[CLIENT_TOKEN_MAX + 32], cerr[CURL_ERROR_SIZE] = "";
	char *payload = NULL;
	struct buf resp;
	long code = 0;
	CURLcode cc;
	int rc = HK_EIO;

	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	buf_init(&resp, CLIENT_RESP_MAX);
	if (!c) {
		snprintf(err, errlen, "cannot start an HTTP client");
		goto out;
	}
	snprintf(url, sizeof(url), "%s%s", conf->server, path);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (conf->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", conf->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload ? payload : "");
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hookd-cli");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "cannot reach '%s': %s", conf->server,
			 cerr[0] ? cerr : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (status)
		*status = code;
	if (code < 200 || code > 299) {
		error_detail(code, &resp, err, errlen);
		goto out;
	}
	rc = 0;
	if (out && resp.len) {
		rc = json_parse_bounded(buf_cstr(&resp), resp.len, JSON_DEPTH_MAX, out, err, errlen);
		if (rc < 0)
			snprintf(err, errlen, "the server's answer is not JSON");
	}
out:
	free(payload);
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	buf_release(&resp);
	return rc;
}

int client_list_all(const struct client_conf *conf, const char *path, json_t **items, char *err,
		    size_t errlen)
{
	json_t *all = json_array(), *page = NULL;
	char *iter = NULL;
	struct buf p;
	int rc = 0;

	buf_init(&p, CLIENT_URL_MAX);
	for (int pages = 0; pages < 1000; pages++) {
		buf_reset(&p);
		rc = buf_printf(&p, "%s%climit=250", path, strchr(path, '?') ? '&' : '?');
		if (rc == 0 && iter)
			rc = buf_printf(&p, "&iterator=%s", iter);
		free(iter);
		iter = NULL;
		if (rc == 0)
			rc = client_call(conf, "GET", buf_cstr(&p), NULL, NULL, &page, err, errlen);
		if (rc < 0)
			break;
		json_array_extend(all, json_object_get(page, "data"));
		if (json_is_true(json_object_get(page, "done")) || !json_str(page, "iterator")) {
			json_decref(page);
			break;
		}
		iter = client_escape(json_str(page, "iterator"));
		json_decref(page);
		if (!iter) {
			rc = HK_ENOMEM;
			break;
		}
	}
	free(iter);
	buf_release(&p);
	if (rc < 0) {
		json_decref(all);
		return rc;
	}
	*items = all;
	return 0;
}
