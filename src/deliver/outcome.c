/*
 * outcome.c - status codes to delivery decisions (see outcome.h).
 */
#include "deliver/outcome.h"
#include "store/store.h"

void outcome_decide(int code, const char *retry_after, bool accept_3xx, int attempt,
		    const struct retry_schedule *s, int64_t now, double random_fraction,
		    struct outcome *out)
{
	bool ok = (code >= 200 && code < 300) || (accept_3xx && code >= 300 && code < 400);
	int64_t delay, wait;

	out->disable = false;
	out->next_at = 0;
	if (ok) {
		out->attempt_status = out->delivery_status = MSG_SUCCESS;
		out->counts_as_failure = false;
		return;
	}
	out->attempt_status = MSG_FAIL;
	out->counts_as_failure = true;
	if (code == 410) {
		out->delivery_status = MSG_FAIL;
		out->disable = true;
		return;
	}
	delay = retry_next_delay(s, attempt, random_fraction);
	if (delay == RETRY_EXHAUSTED) {
		out->delivery_status = MSG_FAIL;
		return;
	}
	if ((code == 429 || code == 503) && retry_after &&
	    retry_after_parse(retry_after, now, &wait) == 0 && wait > delay)
		delay = wait;
	out->delivery_status = MSG_PENDING;
	out->next_at = now + delay;
}
