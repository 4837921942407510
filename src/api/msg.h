/*
 * msg.h - publishing, shared by the message routes, send-example and (later)
 * inbound routing.
 */
#ifndef HK_API_MSG_H
#define HK_API_MSG_H

#include "api/api.h"

struct publish_in;

/*
 * msg_publish stores the message in describes, its payload the JSON text of
 * payload (msg_publish sets in->payload and in->len), with a delivery for
 * each matching endpoint (or only for in->only_endpoint), and new_app (an
 * application document, or NULL) in the same commit; it answers status with
 * MessageOut after the commit. It always answers; the return value is
 * informational.
 */
int msg_publish(struct api_req *r, struct publish_in *in, json_t *payload, json_t *new_app, int status);

#endif
