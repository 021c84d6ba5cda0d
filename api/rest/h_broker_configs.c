/* v3 broker configs, in Confluent's shapes (kafka-rest api/v3/openapi.yaml), read-only:
 *   GET .../brokers/{id}/configs          KafkaBrokerConfigList: the Kafka broker configs sluice has
 *   GET .../brokers/{id}/configs/{name}   KafkaBrokerConfig (404/404 for a name sluice does not have)
 *   GET .../brokers/-/configs             KafkaBrokerConfigList of every broker
 *   GET .../broker-configs                KafkaClusterConfigList: the cluster-wide dynamic broker defaults
 *                                         (Confluent's DYNAMIC_DEFAULT_BROKER_CONFIG), which sluice never has
 * The values come from the broker (sl_broker_configs), resolved from the process configuration at start.
 * Every config is is_read_only: sluice does not alter broker configs at run time, so there are no PUT, DELETE
 * or :alter routes. Unknown {cid} or broker 404/404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http.h"
#include "api/http/router.h"
#include "api/rest/v3links.h"
#include "server/broker.h"

static json_t *synonym(const char *name, const char *value, const char *source)
{
    return json_pack("{s:s, s:s, s:s}", "name", name, "value", value, "source", source);
}

static json_t *config_json(struct sl_req *req, int32_t id, const struct sl_broker_config *c)
{
    const char *src = c->is_static ? "STATIC_BROKER_CONFIG" : "DEFAULT_CONFIG";
    json_t *syn = json_array();
    if (c->is_static)
        json_array_append_new(syn, synonym(c->name, c->value, src));
    json_array_append_new(syn, synonym(c->name, c->is_static ? c->default_value : c->value, "DEFAULT_CONFIG"));
    return json_pack("{s:s, s:o, s:s, s:i, s:s, s:s, s:b, s:b, s:b, s:s, s:o}", "kind", "KafkaBrokerConfig", "metadata",
                     sl_v3_metadata(sl_v3_link(req, "/brokers/%d/configs/%s", (int)id, c->name),
                                    "crn:///kafka=%s/broker=%d/config=%s", sl_v3_cid(req), (int)id, c->name),
                     "cluster_id", sl_v3_cid(req), "broker_id", (int)id, "name", c->name, "value", c->value,
                     "is_default", !c->is_static, "is_read_only", 1, "is_sensitive", 0, "source", src, "synonyms", syn);
}

/* Appends every config of broker id to data. */
static void append_configs(struct sl_req *req, int32_t id, json_t *data)
{
    const struct sl_broker_config *c;
    size_t n = 0;
    if (sl_broker_configs(sl_http_api(req)->broker, id, &c, &n))
        return;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, config_json(req, id, &c[i]));
}

static void on_configs(struct sl_req *req)
{
    int32_t id;
    if (sl_v3_load_broker(req, "id", &id))
        return;
    json_t *data = json_array();
    append_configs(req, id, data);
    sl_http_reply_json(req, 200,
                       sl_v3_list("KafkaBrokerConfigList", sl_v3_link(req, "/brokers/%d/configs", (int)id), data));
}

static void on_config(struct sl_req *req)
{
    int32_t id;
    if (sl_v3_load_broker(req, "id", &id))
        return;
    const char *name = sl_http_param(req, "name");
    const struct sl_broker_config *c = sl_broker_config_find(sl_http_api(req)->broker, id, name);
    if (!c) {
        sl_http_reply_error(req, 404, 404, "Config '%s' not found for broker %d.", name, (int)id);
        return;
    }
    sl_http_reply_json(req, 200, config_json(req, id, c));
}

static void on_all_configs(struct sl_req *req)
{
    if (sl_v3_check_cluster(req))
        return;
    int32_t ids[64];
    size_t n = sl_broker_ids(sl_http_api(req)->broker, ids, 64);
    json_t *data = json_array();
    for (size_t i = 0; i < n && i < 64; i++)
        append_configs(req, ids[i], data);
    sl_http_reply_json(req, 200, sl_v3_list("KafkaBrokerConfigList", sl_v3_link(req, "/brokers/-/configs"), data));
}

static void on_cluster_configs(struct sl_req *req)
{
    if (sl_v3_check_cluster(req))
        return;
    sl_http_reply_json(req, 200,
                       sl_v3_list("KafkaClusterConfigList", sl_v3_link(req, "/broker-configs"), json_array()));
}

void sl_h_broker_configs_register(struct sl_router *r);
void sl_h_broker_configs_register(struct sl_router *r)
{
    sl_router_add(r, "GET", "/v3/clusters/{cid}/brokers/{id}/configs", on_configs);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/brokers/{id}/configs/{name}", on_config);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/brokers/-/configs", on_all_configs);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/broker-configs", on_cluster_configs);
}
