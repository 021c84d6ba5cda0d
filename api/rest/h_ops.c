/* Operations endpoints: GET /healthy, /ready, /metrics, /openapi.yaml, /asyncapi.yaml, /v1/info.
 * The API documents are embedded at build time (openapi/embed.cmake -> gen/api_docs.c). */
#include <stdlib.h>

#include "api/http/http.h"
#include "api/http/metrics.h"
#include "api/http/router.h"
#include "server/broker.h"
#include "server/quorum.h"

extern const unsigned char sl_openapi_yaml[];
extern const size_t sl_openapi_yaml_len;
extern const unsigned char sl_asyncapi_yaml[];
extern const size_t sl_asyncapi_yaml_len;

static void on_healthy(struct sl_req *req)
{
    sl_http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* In a cluster: why this node is not ready yet (not registered, metadata not caught up), or NULL. */
static const char *joining(struct sl_quorum *q)
{
    if (!q)
        return NULL;
    struct sl_quorum_status st;
    sl_quorum_status(q, &st);
    if (st.leader_id < 0)
        return "no metadata quorum leader is known yet";
    if (st.applied_index < st.commit_index)
        return "catching up with the metadata log";
    return sl_quorum_member(q) ? NULL : "not yet registered in the metadata quorum";
}

static void on_ready(struct sl_req *req)
{
    if (sl_http_stopping(req) || !sl_http_api(req)->broker) {
        sl_http_reply_error(req, 503, 50302, "Not ready: the server is stopping.");
        return;
    }
    const char *why = joining(sl_http_api(req)->quorum);
    if (why) {
        sl_http_reply_json(req, 503, json_pack("{s:s,s:s}", "status", "joining", "reason", why));
        return;
    }
    struct sl_part_health *h = NULL;
    size_t n = 0;
    if (sl_broker_health(sl_http_api(req)->broker, &h, &n)) {
        sl_http_reply_error(req, 503, 50003, "Out of memory; retry.");
        return;
    }
    json_t *failed = json_array(), *damaged = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct sl_part_info *pi = &h[i].info;
        if (!pi->failed && !pi->damaged_ranges)
            continue;
        json_array_append_new(pi->failed ? failed : damaged,
                              json_pack("{s:s,s:i,s:i,s:s}", "topic", h[i].topic, "partition", h[i].partition,
                                        "damaged_ranges", (int)pi->damaged_ranges, "reason", pi->reason));
    }
    free(h);
    /* A failed partition cannot take writes: not ready. Damage is reported, and the rest of the log serves;
     * so are partition directories quarantined because they belong to no topic. */
    bool ok = json_array_size(failed) == 0;
    unsigned qdirs = sl_broker_quarantined_dirs(sl_http_api(req)->broker);
    sl_http_reply_json(req, ok ? 200 : 503,
                       json_pack("{s:s,s:o,s:o,s:i}", "status",
                                 ok ? (json_array_size(damaged) || qdirs ? "degraded" : "ready") : "failed partitions",
                                 "failed_partitions", failed, "damaged_partitions", damaged, "quarantined_dirs",
                                 (int)qdirs));
}

static void on_metrics(struct sl_req *req)
{
    struct sl_api *api = sl_http_api(req);
    struct sl_buf b = {0};
    if (sl_metrics_render(api->metrics, api, &b)) {
        sl_buf_fini(&b);
        sl_http_reply_error(req, 503, 50003, "Out of memory; retry.");
        return;
    }
    sl_http_reply_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", (char *)b.base, b.len);
}

static void reply_doc(struct sl_req *req, const unsigned char *doc, size_t len, const char *what)
{
    if (!len) {
        sl_http_reply_error(req, 404, 404, "The %s document is not part of this build.", what);
        return;
    }
    sl_http_reply_copy(req, 200, "application/yaml", doc, len);
}

static void on_openapi(struct sl_req *req)
{
    reply_doc(req, sl_openapi_yaml, sl_openapi_yaml_len, "OpenAPI");
}

static void on_asyncapi(struct sl_req *req)
{
    reply_doc(req, sl_asyncapi_yaml, sl_asyncapi_yaml_len, "AsyncAPI");
}

/* This node's view of the metadata quorum, or JSON null on a one-node cluster. */
static json_t *quorum_json(struct sl_quorum *q)
{
    if (!q)
        return json_null();
    struct sl_quorum_status st;
    sl_quorum_status(q, &st);
    unsigned live, fenced;
    sl_quorum_broker_counts(q, &live, &fenced);
    return json_pack("{s:s, s:I, s:I, s:I, s:o, s:i, s:i}", "role", sl_quorum_role_name(st.role), "term",
                     (json_int_t)st.term, "commit_index", (json_int_t)st.commit_index, "applied_index",
                     (json_int_t)st.applied_index, "leader_id",
                     st.leader_id >= 0 ? json_integer(st.leader_id) : json_null(), "live_brokers", (int)live,
                     "fenced_brokers", (int)fenced);
}

static void on_info(struct sl_req *req)
{
    struct sl_api *api = sl_http_api(req);
    sl_http_reply_json(req, 200,
                       json_pack("{s:s, s:i, s:s, s:i, s:i, s:o}", "version", SLUICE_VERSION, "node_id",
                                 (int)sl_broker_node_id(api->broker), "cluster_id",
                                 sl_broker_cluster_id(api->broker), "rest_port",
                                 (int)atomic_load(&api->rest_port), "ws_port", (int)atomic_load(&api->ws_port),
                                 "quorum", quorum_json(api->quorum)));
}

void sl_h_ops_register(struct sl_router *r);
void sl_h_ops_register(struct sl_router *r)
{
    sl_router_add(r, "GET", "/healthy", on_healthy);
    sl_router_add(r, "GET", "/ready", on_ready);
    sl_router_add(r, "GET", "/metrics", on_metrics);
    sl_router_add(r, "GET", "/openapi.yaml", on_openapi);
    sl_router_add(r, "GET", "/asyncapi.yaml", on_asyncapi);
    sl_router_add(r, "GET", "/v1/info", on_info);
}
