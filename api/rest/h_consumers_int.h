/* Shared by the v2 consumer handler files (api/rest/h_consumers.c: instances, subscription, assignments, positions;
 * api/rest/h_consumer_poll.c: records and offsets). Each helper that can fail replies itself (the documented v2 error)
 * and returns the code it answered; the caller then returns without replying. Thread: a libmicrohttpd worker, inside a
 * handler. */
#ifndef SL_API_H_CONSUMERS_INT_H
#define SL_API_H_CONSUMERS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/http/http.h"
#include "server/groups.h"

struct sl_router;

/* Members of the partition-list bodies: {"partitions": [...]}. */
extern const char *const SL_HC_PARTITIONS_BODY[];

/* The coordinator the server was started with (borrowed). */
struct sl_groups *sl_hc_groups(struct sl_req *req);
/* Replies a coordinator error with the Confluent code that fits the endpoint (40403, 42204, else the table). */
void sl_hc_reply_rc(struct sl_req *req, int rc);
/* Looks the instance {g}/{i} up (touching it). Replies 40403 and returns the code it answered when unknown. */
int sl_hc_instance(struct sl_req *req, struct sl_member_info *mi);
/* A JSON object body whose members are all in names (owned by the caller), or NULL after replying 422 with
 * error_code code. An empty body is {} when allow_empty. */
json_t *sl_hc_body_object(struct sl_req *req, bool allow_empty, const char *const *names, int code);
/* Parses [{"topic","partition"[,"offset"|"timestamp"]}] from body[key] into *out (malloc'd, caller frees).
 * what: 0 = tp, 1 = offset, 2 = timestamp. Replies 422 and returns the code it answered on bad input. */
int sl_hc_parse_tpos(struct sl_req *req, json_t *body, const char *key, int what, struct sl_tpo **out, size_t *n);
/* Checks that every partition exists. Replies 40401/40402 and returns the code it answered otherwise. */
int sl_hc_check_tps(struct sl_req *req, const struct sl_tpo *v, size_t n);

void sl_h_consumer_poll_register(struct sl_router *r);

#endif
