/* Building blocks of the Confluent v3 shapes shared by the v3 handler files (api/rest/h_admin.c,
 * api/rest/h_replicas.c, api/rest/h_broker_configs.c): absolute links, resource metadata, lists, and the checks of
 * {cid}, {t} and {p} that every v3 route starts with.
 *
 * Links are built from the advertised base URL (sl_api_base_url), never from the Host header. Every json_t
 * returned is new (the caller owns one reference); the pack helpers steal the json_t arguments they take.
 * THREADS: any REST pool thread, for the request it is serving. */
#ifndef SL_API_V3LINKS_H
#define SL_API_V3LINKS_H

#include <jansson.h>
#include <stdint.h>

#include "api/http/http.h"
#include "server/broker.h"

/* "<base_url>/v3/clusters/<cid><path>", path formatted from fmt (at most 1023 bytes). */
json_t *sl_v3_link(struct sl_req *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* {"related": url}; steals url. */
json_t *sl_v3_related(json_t *url);
/* {"self": self, "resource_name": crn}; steals self. */
json_t *sl_v3_metadata(json_t *self, const char *crn_fmt, ...) __attribute__((format(printf, 2, 3)));
/* {"kind": kind, "metadata": {"self": self, "next": null}, "data": data}; steals self and data. */
json_t *sl_v3_list(const char *kind, json_t *self, json_t *data);
/* This cluster's id (lives as long as the broker). */
const char *sl_v3_cid(struct sl_req *req);

/* Each check replies (404) and returns the code it answered when it fails, 0 otherwise. */
/* {cid} is this cluster: else 404/404. */
int sl_v3_check_cluster(struct sl_req *req);
/* {cid}, then {t} is a topic (copied into *ti): else 404/40401 (sl_http_reply_rc(SL_ENOTOPIC)), as every
 * topic route. */
int sl_v3_load_topic(struct sl_req *req, struct sl_topic_info *ti);
/* sl_v3_load_topic, then {p} is one of its partitions (into *p): else 400 for a malformed {p}, 404/40402. */
int sl_v3_load_partition(struct sl_req *req, struct sl_topic_info *ti, int32_t *p);
/* {cid}, then parameter name is the id of a broker of the cluster (into *id): else 404/404. */
int sl_v3_load_broker(struct sl_req *req, const char *name, int32_t *id);

#endif
