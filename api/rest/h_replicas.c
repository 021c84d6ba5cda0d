/* v3 partition replicas and reassignments, in Confluent's shapes (kafka-rest api/v3/openapi.yaml):
 *   GET .../topics/{t}/partitions/{p}/replicas              KafkaReplicaList
 *   GET .../topics/{t}/partitions/{p}/replicas/{b}          KafkaReplica (404/404 for a broker without one)
 *   GET .../brokers/{id}/partition-replicas                 KafkaReplicaList: every replica on broker id
 *   GET .../topics/-/partitions/-/reassignment              KafkaReassignmentList (empty)
 *   GET .../topics/{t}/partitions/-/reassignment            KafkaReassignmentList (empty; 404/40401 topic)
 *   GET .../topics/{t}/partitions/{p}/reassignment          404/404, as Confluent when none is in progress
 * Replicas come from the broker (sl_broker_replicas); sluice moves no replica, so no reassignment is ever in
 * progress. Unknown {cid} 404/404, topic 404/40401, partition 404/40402 (api/rest/v3links.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http.h"
#include "api/http/router.h"
#include "api/rest/v3links.h"
#include "server/broker.h"

/* More replicas than a partition will have in a cluster of this design (replication factors of 1 to 5). */
#define MAX_REPLICAS 16

static json_t *replica_json(struct sl_req *req, const char *t, int32_t p, const struct sl_replica_info *r)
{
    int b = (int)r->broker_id;
    return json_pack("{s:s, s:o, s:s, s:s, s:i, s:i, s:b, s:b, s:o}", "kind", "KafkaReplica", "metadata",
                     sl_v3_metadata(sl_v3_link(req, "/topics/%s/partitions/%d/replicas/%d", t, (int)p, b),
                                    "crn:///kafka=%s/topic=%s/partition=%d/replica=%d", sl_v3_cid(req), t, (int)p, b),
                     "cluster_id", sl_v3_cid(req), "topic_name", t, "partition_id", (int)p, "broker_id", b, "is_leader",
                     r->leader, "is_in_sync", r->in_sync, "broker", sl_v3_related(sl_v3_link(req, "/brokers/%d", b)));
}

static void on_replicas(struct sl_req *req)
{
    struct sl_topic_info ti;
    int32_t p;
    if (sl_v3_load_partition(req, &ti, &p))
        return;
    struct sl_replica_info r[MAX_REPLICAS];
    size_t n = 0;
    int rc = sl_broker_replicas(sl_http_api(req)->broker, ti.name, p, r, MAX_REPLICAS, &n);
    if (rc) {
        sl_http_reply_rc(req, rc, NULL);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n && i < MAX_REPLICAS; i++)
        json_array_append_new(data, replica_json(req, ti.name, p, &r[i]));
    sl_http_reply_json(
        req, 200,
        sl_v3_list("KafkaReplicaList", sl_v3_link(req, "/topics/%s/partitions/%d/replicas", ti.name, (int)p), data));
}

static void on_replica(struct sl_req *req)
{
    struct sl_topic_info ti;
    int32_t p;
    if (sl_v3_load_partition(req, &ti, &p))
        return;
    const char *b = sl_http_param(req, "b");
    struct sl_replica_info r[MAX_REPLICAS];
    size_t n = 0;
    int rc = sl_broker_replicas(sl_http_api(req)->broker, ti.name, p, r, MAX_REPLICAS, &n);
    if (rc) {
        sl_http_reply_rc(req, rc, NULL);
        return;
    }
    for (size_t i = 0; i < n && i < MAX_REPLICAS; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", (int)r[i].broker_id);
        if (!strcmp(id, b)) {
            sl_http_reply_json(req, 200, replica_json(req, ti.name, p, &r[i]));
            return;
        }
    }
    sl_http_reply_error(req, 404, 404, "Replica %s of partition %d of topic '%s' not found.", b, (int)p, ti.name);
}

/* Appends the replicas of every partition of topic ti that broker id holds. */
static void append_broker_replicas(struct sl_req *req, const struct sl_topic_info *ti, int32_t id, json_t *data)
{
    for (int32_t p = 0; p < ti->partitions; p++) {
        struct sl_replica_info r[MAX_REPLICAS];
        size_t n = 0;
        if (sl_broker_replicas(sl_http_api(req)->broker, ti->name, p, r, MAX_REPLICAS, &n))
            continue; /* deleted meanwhile */
        for (size_t i = 0; i < n && i < MAX_REPLICAS; i++)
            if (r[i].broker_id == id)
                json_array_append_new(data, replica_json(req, ti->name, p, &r[i]));
    }
}

static void on_broker_replicas(struct sl_req *req)
{
    int32_t id;
    if (sl_v3_load_broker(req, "id", &id))
        return;
    struct sl_topic_info *all = NULL;
    size_t n = 0;
    int rc = sl_broker_topics(sl_http_api(req)->broker, &all, &n);
    if (rc) {
        sl_http_reply_rc(req, rc, NULL);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        append_broker_replicas(req, &all[i], id, data);
    free(all);
    sl_http_reply_json(
        req, 200, sl_v3_list("KafkaReplicaList", sl_v3_link(req, "/brokers/%d/partition-replicas", (int)id), data));
}

static void on_reassignments_all(struct sl_req *req)
{
    if (sl_v3_check_cluster(req))
        return;
    sl_http_reply_json(
        req, 200,
        sl_v3_list("KafkaReassignmentList", sl_v3_link(req, "/topics/-/partitions/-/reassignment"), json_array()));
}

static void on_reassignments_topic(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (sl_v3_load_topic(req, &ti))
        return;
    sl_http_reply_json(req, 200,
                       sl_v3_list("KafkaReassignmentList",
                                  sl_v3_link(req, "/topics/%s/partitions/-/reassignment", ti.name), json_array()));
}

static void on_reassignment(struct sl_req *req)
{
    struct sl_topic_info ti;
    int32_t p;
    if (sl_v3_load_partition(req, &ti, &p))
        return;
    sl_http_reply_error(req, 404, 404, "No reassignment is in progress for partition %d of topic '%s'.", (int)p,
                        ti.name);
}

void sl_h_replicas_register(struct sl_router *r);
void sl_h_replicas_register(struct sl_router *r)
{
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}/partitions/{p}/replicas", on_replicas);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}/partitions/{p}/replicas/{b}", on_replica);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/brokers/{id}/partition-replicas", on_broker_replicas);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/-/partitions/-/reassignment", on_reassignments_all);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}/partitions/-/reassignment", on_reassignments_topic);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}/partitions/{p}/reassignment", on_reassignment);
}
