/*
 * msg.h - publishing, shared by the message routes, send-example and (later)
 * inbound routing.
 */
#ifndef HK_API_MSG_H
#define HK_API_MSG_H

#include "api/api.h"

/*
 * msg_publish stores a message with a delivery for each matching endpoint
 * (or only for only_endpoint when given) and answers status with MessageOut
 * after the commit. It always answers; the return value is informational.
 */
int msg_publish(struct api_req *r, const char *app_id, const char *event_type, json_t *payload,
		const char *event_id, json_t *channels, int retention_days, const char *only_endpoint,
		int status);

#endif
