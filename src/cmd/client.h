/*
 * client.h - what the client subcommands (send, tail, apps, endpoints,
 * replay, login) share: where the server is, which token to send, and a
 * small blocking JSON client over libcurl.
 *
 * Resolution, first found wins:
 *
 *     server: --server, $HOOKD_URL, "server" in the config file, CLIENT_DEFAULT_SERVER
 *     token:  --token,  $HOOKD_TOKEN, "token" in the config file
 *
 * The config file ($XDG_CONFIG_HOME/hookd/config, else ~/.config/hookd/config)
 * is written by `hookd login` with mode 0600 and holds "key = value" lines;
 * '#' starts a comment line. Its token is sent only to its own server: a
 * --server or $HOOKD_URL naming another server does not receive it.
 */
#ifndef HK_CMD_CLIENT_H
#define HK_CMD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

#define CLIENT_DEFAULT_SERVER "http://127.0.0.1:8071"
#define CLIENT_URL_MAX 2048
#define CLIENT_TOKEN_MAX 1024
#define CLIENT_RESP_MAX (16u << 20) /* largest answer read from the server */

struct client_conf {
	char server[CLIENT_URL_MAX]; /* without a trailing '/' */
	char token[CLIENT_TOKEN_MAX]; /* "" when none */
};

/*
 * client_config_parse reads a config file's text into conf, leaving fields
 * the text does not name as they were. Unknown keys are ignored; a line
 * without '=' is HK_EPARSE with its number in *line.
 */
int client_config_parse(const char *text, struct client_conf *conf, int *line);

/* client_config_format writes the file's text for conf into out. */
int client_config_format(const struct client_conf *conf, struct buf *out);

/* client_config_path writes the config file's path; HK_ENOTFOUND without $HOME. */
int client_config_path(char *out, size_t cap);

/* client_config_write creates the folder and writes the file with mode 0600. */
int client_config_write(const char *path, const struct client_conf *conf, char *err, size_t errlen);

/*
 * client_resolve fills conf from the flags (NULL when not given; cli_parse
 * has already folded $HOOKD_URL and $HOOKD_TOKEN into them), then the config
 * file, then the default. A config file that exists but cannot be read or
 * parsed is an error.
 */
int client_resolve(const char *flag_server, const char *flag_token, struct client_conf *conf,
		   char *err, size_t errlen);

/* client_escape returns a malloc'd copy of s escaped for one URL path segment or query value. */
char *client_escape(const char *s);

/*
 * client_call sends one request to conf->server + path with the bearer
 * token and, when body is not NULL, a JSON body. On a 2xx answer it returns
 * 0 with *out the parsed answer (NULL when empty; out may be NULL). Any other
 * answer is HK_EIO with err holding "server answered 404: <detail>"; a
 * transport failure is HK_EIO with curl's reason. *status gets the HTTP
 * status (0 without an answer) when status is not NULL.
 */
int client_call(const struct client_conf *conf, const char *method, const char *path,
		const json_t *body, long *status, json_t **out, char *err, size_t errlen);

/*
 * client_list_all follows a list route's iterator until done and returns
 * every item in *items (a new array). path may already carry a query.
 */
int client_list_all(const struct client_conf *conf, const char *path, json_t **items, char *err,
		    size_t errlen);

#endif
