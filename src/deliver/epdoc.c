/*
 * epdoc.c - new endpoint documents (epdoc.h).
 */
#include <stdio.h>

#include "core/clock.h"
#include "core/id.h"
#include "deliver/epdoc.h"
#include "sign/sign.h"

void epdoc_secret_new(char *out, size_t cap)
{
	if (sign_secret_new_hmac(out, cap) < 0)
		snprintf(out, cap, "%s", "");
}

json_t *epdoc_new(const char *app_id, const char *url)
{
	char id[ID_MAX], now[40], secret[SIGN_SECRET_MAX];

	id_new("ep_", id);
	clock_format_ms(clock_now_ms(), now, sizeof(now));
	epdoc_secret_new(secret, sizeof(secret));
	return json_pack("{s:s,s:n,s:s,s:s,s:b,s:n,s:n,s:n,s:n,s:{},s:i,s:s,s:s,s:s,s:[{s:s,s:i}],s:{}}",
			 "id", id, "uid", "url", url ? url : "", "description", "", "disabled", 0,
			 "eventTypes", "filterTypes", "channels", "throttleRate", "metadata", "version", 1,
			 "createdAt", now, "updatedAt", now, "_app", app_id, "_secrets", "key", secret,
			 "expires", 0, "_headers");
}
