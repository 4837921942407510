/*
 * epdoc.h - the endpoint document: its shape and defaults, in one place for
 * everything that makes endpoints (the API, operational webhooks).
 *
 * Public members follow Svix's EndpointOut (plus hookd's delivery options);
 * private ones: _app (the application's id), _secrets [{key, expires}] with
 * the current key first, _headers {name: value}, _tls.
 */
#ifndef HK_EPDOC_H
#define HK_EPDOC_H

#include <jansson.h>

/* epdoc_new makes an enabled endpoint with a fresh id and signing secret */
json_t *epdoc_new(const char *app_id, const char *url);
/* epdoc_secret_new writes a new "whsec_" signing secret (at least 64 bytes) */
void epdoc_secret_new(char *out, size_t cap);

#endif
