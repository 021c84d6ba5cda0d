/* Confluent v2 metadata: GET /topics, /topics/{t}, /topics/{t}/partitions, /topics/{t}/partitions/{p},
 * /topics/{t}/partitions/{p}/offsets, /brokers. Single node: every partition is led by this node, with one
 * in-sync replica. Lookups of an unknown (or invalid) topic name answer 404/40401, of an unknown partition
 * 404/40402. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http.h"
#include "api/http/router.h"
#include "server/broker.h"
#include "server/quorum.h"
#include "storage/err.h"

/* Loads the topic named by {t} into ti; replies 40401 and returns the code it answered when there is none. */
static int load_topic(struct sl_req *req, struct sl_topic_info *ti)
{
    const char *t = sl_http_param(req, "t");
    int rc = sl_topic_name_valid(t) ? sl_broker_topic_info(sl_http_api(req)->broker, t, ti) : SL_ENOTOPIC;
    if (rc == SL_ENOTOPIC)
        sl_http_reply_rc(req, rc, "Topic '%s' not found.", t);
    else if (rc)
        sl_http_reply_rc(req, rc, NULL);
    return rc;
}

/* Parses {p} and checks it against ti; replies 40402 and returns the code it answered when out of range. */
static int load_partition(struct sl_req *req, const struct sl_topic_info *ti, int32_t *p)
{
    if (sl_http_param_partition(req, "p", p))
        return SL_ENOPART;
    if (*p >= ti->partitions) {
        sl_http_reply_rc(req, SL_ENOPART, "Partition %d of topic '%s' not found.", *p, ti->name);
        return SL_ENOPART;
    }
    return 0;
}

/* v2 metadata answers in the negotiated v2 media type (api/http/negotiate.h). */
static int reply(struct sl_req *req, json_t *j)
{
    return sl_http_reply_json(req, 200, j);
}

static json_t *partition_json(int32_t node, int32_t p)
{
    return json_pack("{s:i, s:i, s:[{s:i, s:b, s:b}]}", "partition", (int)p, "leader", (int)node, "replicas",
                     "broker", (int)node, "leader", 1, "in_sync", 1);
}

static json_t *partitions_json(int32_t node, const struct sl_topic_info *ti)
{
    json_t *a = json_array();
    for (int32_t p = 0; p < ti->partitions; p++)
        json_array_append_new(a, partition_json(node, p));
    return a;
}

static void on_topics(struct sl_req *req)
{
    struct sl_topic_info *all = NULL;
    size_t n = 0;
    int rc = sl_broker_topics(sl_http_api(req)->broker, &all, &n);
    if (rc) {
        sl_http_reply_rc(req, rc, NULL);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        if (!all[i].internal)
            json_array_append_new(a, json_string(all[i].name));
    free(all);
    reply(req, a);
}

static void on_topic(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (load_topic(req, &ti))
        return;
    int32_t node = sl_broker_node_id(sl_http_api(req)->broker);
    json_t *cfg = json_object();
    for (size_t i = 0; sl_topic_config_names[i]; i++) {
        char v[64];
        if (!sl_topic_cfg_get(&ti.cfg, sl_topic_config_names[i], v, sizeof v))
            json_object_set_new(cfg, sl_topic_config_names[i], json_string(v));
    }
    reply(req,
                       json_pack("{s:s, s:o, s:o}", "name", ti.name, "configs", cfg, "partitions",
                                 partitions_json(node, &ti)));
}

static void on_partitions(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (load_topic(req, &ti))
        return;
    reply(req, partitions_json(sl_broker_node_id(sl_http_api(req)->broker), &ti));
}

static void on_partition(struct sl_req *req)
{
    struct sl_topic_info ti;
    int32_t p;
    if (load_topic(req, &ti) || load_partition(req, &ti, &p))
        return;
    reply(req, partition_json(sl_broker_node_id(sl_http_api(req)->broker), p));
}

static void on_offsets(struct sl_req *req)
{
    struct sl_topic_info ti;
    int32_t p;
    if (load_topic(req, &ti) || load_partition(req, &ti, &p))
        return;
    sl_offset_t start, end;
    int rc = sl_broker_offsets(sl_http_api(req)->broker, ti.name, p, &start, &end);
    if (rc) {
        sl_http_reply_rc(req, rc, NULL);
        return;
    }
    reply(req,
                       json_pack("{s:I, s:I}", "beginning_offset", (json_int_t)start, "end_offset", (json_int_t)end));
}

static int broker_ids(const struct sl_meta_image *im, void *arg)
{
    for (size_t i = 0; i < im->nbrokers; i++)
        json_array_append_new(arg, json_integer(im->brokers[i].id));
    return 0;
}

/* Every registered node with a quorum, else this one. */
static void on_brokers(struct sl_req *req)
{
    struct sl_api *api = sl_http_api(req);
    json_t *ids = json_array();
    if (api->quorum)
        sl_quorum_read(api->quorum, broker_ids, ids);
    else
        json_array_append_new(ids, json_integer(sl_broker_node_id(api->broker)));
    reply(req, json_pack("{s:o}", "brokers", ids));
}

void sl_h_topics_register(struct sl_router *r);
void sl_h_topics_register(struct sl_router *r)
{
    sl_router_add(r, "GET", "/topics", on_topics);
    sl_router_add(r, "GET", "/topics/{t}", on_topic);
    sl_router_add(r, "GET", "/topics/{t}/partitions", on_partitions);
    sl_router_add(r, "GET", "/topics/{t}/partitions/{p}", on_partition);
    sl_router_add(r, "GET", "/topics/{t}/partitions/{p}/offsets", on_offsets);
    sl_router_add(r, "GET", "/brokers", on_brokers);
}
