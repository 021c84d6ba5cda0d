/* Confluent v3 administration: clusters, brokers, topics (list, create, get, raise partitions, delete),
 * topic configs (list, get, set, reset, batch alter) and partitions, under /v3/clusters/{cid}. Topic configs
 * list every standard Kafka topic config (server/topic_cfg.c); the ones sluice does not honour are
 * is_read_only, and setting or resetting one is 400/40002 naming it, with nothing changed.
 *
 * Shapes follow kafka-rest's api/v3/openapi.yaml: every object carries kind, metadata {self, resource_name}
 * and "related" links; lists are {kind: "...List", metadata: {self, next: null}, data: [...]}. Links are
 * absolute, built from the advertised base URL (sl_api_base_url), never from the Host header. One node:
 * replication_factor is 1, and asking for more is a 400 that says so. An unknown {cid} is 404/404; an unknown
 * (or invalid) topic 404/40401; an unknown partition 404/40402; an unknown config name 404/404; bad input 400 (400 for malformed JSON or wrong
 * types, 40002 for values Kafka would reject); a body that is not JSON 415. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http/http.h"
#include "api/codec/jsonbody.h"
#include "api/http/router.h"
#include "api/rest/v3links.h"
#include "server/broker.h"
#include "server/config.h"
#include "server/quorum.h"
#include "storage/err.h"

#define MAX_PARTITIONS 10000
#define NODES 1

/* Requires a JSON request body; replies 415 otherwise. */
static void begin_json(struct sl_req *req)
{
    if (!sl_http_content_type_json(req))
        sl_http_reply_error(req, 415, 415, "HTTP 415 Unsupported Media Type: use application/json.");
}

/* ---- clusters and brokers ---- */

/* The node that answers for the cluster: the quorum leader when there is a quorum (-1 while none is known),
 * else this node. */
static int controller_id(struct sl_api *api)
{
    if (!api->quorum)
        return (int)sl_broker_node_id(api->broker);
    struct sl_quorum_status st;
    sl_quorum_status(api->quorum, &st);
    return st.leader_id;
}

/* No "acls" link: ACLs come with issue 16 (README, differences). */
static json_t *cluster_json(struct sl_req *req)
{
    const char *c = sl_v3_cid(req);
    int node = controller_id(sl_http_api(req));
    return json_pack(
        "{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "kind", "KafkaCluster", "metadata",
        sl_v3_metadata(sl_v3_link(req, "%s", ""), "crn:///kafka=%s", c), "cluster_id", c, "controller",
        sl_v3_related(sl_v3_link(req, "/brokers/%d", node)), "brokers", sl_v3_related(sl_v3_link(req, "/brokers")),
        "broker_configs", sl_v3_related(sl_v3_link(req, "/broker-configs")), "consumer_groups",
        sl_v3_related(sl_v3_link(req, "/consumer-groups")), "topics", sl_v3_related(sl_v3_link(req, "/topics")),
        "partition_reassignments", sl_v3_related(sl_v3_link(req, "/topics/-/partitions/-/reassignment")));
}

static void on_clusters(struct sl_req *req)
{
    json_t *self = sl_v3_link(req, "%s", "");
    char *s = strdup(json_string_value(self));
    json_decref(self);
    char *cut = s ? strstr(s, "/v3/clusters/") : NULL;
    if (cut)
        cut[strlen("/v3/clusters")] = '\0';
    sl_http_reply_json(req, 200,
                       sl_v3_list("KafkaClusterList", json_string(s ? s : ""), json_pack("[o]", cluster_json(req))));
    free(s);
}

static void on_cluster(struct sl_req *req)
{
    if (sl_v3_check_cluster(req))
        return;
    sl_http_reply_json(req, 200, cluster_json(req));
}

/* Confluent's KafkaBroker, plus sluice's ws_port, cluster_port, state (live, fenced) and is_controller. */
static json_t *broker_json(struct sl_req *req, const struct sl_meta_broker *b)
{
    int id = (int)b->id;
    return json_pack(
        "{s:s, s:o, s:s, s:i, s:s, s:i, s:n, s:i, s:i, s:s, s:b, s:o, s:o}", "kind", "KafkaBroker", "metadata",
        sl_v3_metadata(sl_v3_link(req, "/brokers/%d", id), "crn:///kafka=%s/broker=%d", sl_v3_cid(req), id),
        "cluster_id", sl_v3_cid(req), "broker_id", id, "host", b->host, "port", (int)b->rest_port, "rack", "ws_port",
        (int)b->ws_port, "cluster_port", (int)b->cluster_port, "state", b->fenced ? "fenced" : "live",
        "is_controller", id == controller_id(sl_http_api(req)), "configs",
        sl_v3_related(sl_v3_link(req, "/brokers/%d/configs", id)), "partition_replicas",
        sl_v3_related(sl_v3_link(req, "/brokers/%d/partition-replicas", id)));
}

/* The registered brokers (a copy), or this node alone without a quorum. */
struct brokers {
    struct sl_meta_broker v[64];
    size_t n;
};

static int copy_brokers(const struct sl_meta_image *im, void *arg)
{
    struct brokers *bs = arg;
    for (size_t i = 0; i < im->nbrokers && bs->n < 64; i++)
        bs->v[bs->n++] = im->brokers[i];
    return 0;
}

static void load_brokers(struct sl_api *api, struct brokers *bs)
{
    bs->n = 0;
    if (api->quorum) {
        sl_quorum_read(api->quorum, copy_brokers, bs);
        return;
    }
    struct sl_meta_broker *b = &bs->v[bs->n++];
    *b = (struct sl_meta_broker){.id = sl_broker_node_id(api->broker), .rest_port = atomic_load(&api->rest_port),
                                 .ws_port = atomic_load(&api->ws_port), .cluster_port = 0};
    snprintf(b->host, sizeof b->host, "%s", sl_api_advertised_host(api));
}

static void on_brokers(struct sl_req *req)
{
    if (sl_v3_check_cluster(req))
        return;
    struct brokers *bs = malloc(sizeof *bs);
    if (!bs) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    load_brokers(sl_http_api(req), bs);
    json_t *data = json_array();
    for (size_t i = 0; i < bs->n; i++)
        json_array_append_new(data, broker_json(req, &bs->v[i]));
    free(bs);
    sl_http_reply_json(req, 200, sl_v3_list("KafkaBrokerList", sl_v3_link(req, "/brokers"), data));
}

static void on_broker(struct sl_req *req)
{
    if (sl_v3_check_cluster(req))
        return;
    const char *s = sl_http_param(req, "id");
    struct brokers *bs = malloc(sizeof *bs);
    if (!bs) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    load_brokers(sl_http_api(req), bs);
    char id[16];
    for (size_t i = 0; i < bs->n; i++) {
        snprintf(id, sizeof id, "%d", (int)bs->v[i].id);
        if (strcmp(id, s) == 0) {
            sl_http_reply_json(req, 200, broker_json(req, &bs->v[i]));
            free(bs);
            return;
        }
    }
    free(bs);
    sl_http_reply_error(req, 404, 404, "Broker '%s' not found.", s);
}

/* ---- topics ---- */

static json_t *topic_json(struct sl_req *req, const char *name, int32_t partitions, bool internal)
{
    return json_pack(
        "{s:s, s:o, s:s, s:s, s:b, s:i, s:i, s:o, s:o, s:o, s:[]}", "kind", "KafkaTopic", "metadata",
        sl_v3_metadata(sl_v3_link(req, "/topics/%s", name), "crn:///kafka=%s/topic=%s", sl_v3_cid(req), name),
        "cluster_id", sl_v3_cid(req), "topic_name", name, "is_internal", internal, "replication_factor", NODES,
        "partitions_count", (int)partitions, "partitions",
        sl_v3_related(sl_v3_link(req, "/topics/%s/partitions", name)), "configs",
        sl_v3_related(sl_v3_link(req, "/topics/%s/configs", name)), "partition_reassignments",
        sl_v3_related(sl_v3_link(req, "/topics/%s/partitions/-/reassignment", name)), "authorized_operations");
}

static void on_topics(struct sl_req *req)
{
    if (sl_v3_check_cluster(req))
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
        json_array_append_new(data, topic_json(req, all[i].name, all[i].partitions, all[i].internal));
    free(all);
    sl_http_reply_json(req, 200, sl_v3_list("KafkaTopicList", sl_v3_link(req, "/topics"), data));
}

static void on_topic(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (sl_v3_load_topic(req, &ti))
        return;
    sl_http_reply_json(req, 200, topic_json(req, ti.name, ti.partitions, ti.internal));
}

struct create_req {
    const char *name;
    json_int_t partitions;
    bool validate_only;
    struct sl_kv *configs;
    size_t nconfigs;
};

static void free_kvs(struct sl_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

/* The body checks below follow storage/err.h: 0, or a code with err (errlen bytes) saying what is wrong --
 * -EINVAL answers 400/400, SL_ECONFIG 400/40002, -ENOMEM 503 (api/common/errmap.c) -- and the handler replies once
 * (reply_err). */

/* Formats err and returns rc. */
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Answers rc with err as the message (the code's default message when err is empty). */
static void reply_err(struct sl_req *req, int rc, const char *err)
{
    if (err[0])
        sl_http_reply_rc(req, rc, "%s", err);
    else
        sl_http_reply_rc(req, rc, NULL);
}

/* -EINVAL ("Unrecognized field: ...") when object o has a member not in names. */
static int reject_unknown(json_t *o, const char *const *names, const char *where, char *err, size_t errlen)
{
    return sl_json_check_members(o, names, where, err, errlen) ? -EINVAL : 0;
}

/* Reads "configs": [{name, value}] into c. */
static int parse_configs(json_t *arr, struct create_req *c, char *err, size_t errlen)
{
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return fail(-EINVAL, err, errlen, "'configs' must be an array of {\"name\": ..., \"value\": ...}.");
    c->configs = calloc(json_array_size(arr) + 1, sizeof *c->configs);
    if (!c->configs)
        return -ENOMEM;
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        static const char *const names[] = {"name", "value", NULL};
        char where[32];
        snprintf(where, sizeof where, "configs[%zu]", i);
        int rc = reject_unknown(item, names, where, err, errlen);
        if (rc)
            return rc;
        json_t *n = json_object_get(item, "name"), *v = json_object_get(item, "value");
        if (!json_is_string(n) || !(json_is_string(v) || json_is_integer(v)))
            return fail(-EINVAL, err, errlen, "configs[%zu] must have a string 'name' and a string 'value'.", i);
        char num[32];
        if (json_is_integer(v))
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        c->configs[c->nconfigs].key = strdup(json_string_value(n));
        c->configs[c->nconfigs++].value = strdup(json_is_string(v) ? json_string_value(v) : num);
    }
    return 0;
}

/* Parses and validates the create body; partitions_count defaults to dflt_partitions. */
static int parse_create(json_t *j, int64_t dflt_partitions, struct create_req *c, char *err, size_t errlen)
{
    static const char *const names[] = {"topic_name", "partitions_count", "replication_factor",
                                        "replicas_assignments", "configs", "validate_only", NULL};
    int rc = reject_unknown(j, names, "", err, errlen);
    if (rc)
        return rc;
    json_t *name = json_object_get(j, "topic_name"), *pc = json_object_get(j, "partitions_count");
    json_t *rf = json_object_get(j, "replication_factor"), *vo = json_object_get(j, "validate_only");
    c->partitions = dflt_partitions;
    if (!json_is_string(name))
        return fail(-EINVAL, err, errlen, "'topic_name' is required and must be a string.");
    c->name = json_string_value(name);
    if ((pc && !json_is_null(pc) && !json_is_integer(pc)) || (rf && !json_is_null(rf) && !json_is_integer(rf)) ||
        (vo && !json_is_null(vo) && !json_is_boolean(vo)))
        return fail(-EINVAL, err, errlen,
                    "'partitions_count' and 'replication_factor' must be integers, 'validate_only' a boolean.");
    if (json_object_get(j, "replicas_assignments"))
        return fail(SL_ECONFIG, err, errlen, "'replicas_assignments' is not supported: sluice places partitions itself.");
    if (json_is_integer(pc))
        c->partitions = json_integer_value(pc);
    if (c->partitions < 1 || c->partitions > MAX_PARTITIONS)
        return fail(SL_ECONFIG, err, errlen,
                    "'partitions_count' must be between 1 and %d, got %" JSON_INTEGER_FORMAT ".", MAX_PARTITIONS,
                    c->partitions);
    json_int_t r = json_is_integer(rf) ? json_integer_value(rf) : -1;
    if (r == 0 || r < -1 || r > NODES)
        return fail(SL_ECONFIG, err, errlen,
                    "'replication_factor' %" JSON_INTEGER_FORMAT " is invalid: this cluster has %d node, "
                    "so the replication factor must be %d (or -1 for the default).",
                    r, NODES, NODES);
    c->validate_only = json_is_true(vo);
    return parse_configs(json_object_get(j, "configs"), c, err, errlen);
}

static void reply_create_error(struct sl_req *req, int rc, const char *name, const char *err)
{
    if (rc == SL_EEXISTS)
        sl_http_reply_rc(req, rc, "Topic '%s' already exists.", name);
    else if (rc == SL_EBADNAME)
        sl_http_reply_rc(req, rc, "Invalid topic name '%s': use 1 to 249 characters of [a-zA-Z0-9._-], not '.' or '..'.",
                         name);
    else if (rc == SL_ECONFIG)
        sl_http_reply_rc(req, rc, "%s", err[0] ? err : "Invalid topic configuration.");
    else if (rc == SL_EINTERNAL && err[0])
        sl_http_reply_rc(req, rc, "%s", err);
    else if (rc == SL_EINTERNAL)
        sl_http_reply_rc(req, rc, "Topic '%s' is internal: clients cannot create, write, delete or reconfigure it.",
                         name);
    else
        sl_http_reply_rc(req, rc, NULL);
}

static void on_create(struct sl_req *req)
{
    if (sl_v3_check_cluster(req))
        return;
    json_t *j = sl_http_body_json(req, JSON_OBJECT);
    if (!j)
        return;
    struct create_req c = {0};
    char err[512] = "";
    int rc = parse_create(j, sl_http_api(req)->cfg->num_partitions, &c, err, sizeof err);
    if (rc) {
        reply_err(req, rc, err);
        goto out;
    }
    rc = sl_broker_topic_create(sl_http_api(req)->broker, c.name, (int32_t)c.partitions, c.configs, c.nconfigs,
                                    c.validate_only, err, sizeof err);
    if (rc) {
        reply_create_error(req, rc, c.name, err);
        goto out;
    }
    json_t *self = sl_v3_link(req, "/topics/%s", c.name);
    sl_http_add_header(req, "Location", json_string_value(self));
    json_decref(self);
    sl_http_reply_json(req, c.validate_only ? 200 : 201, topic_json(req, c.name, (int32_t)c.partitions, false));
out:
    free_kvs(c.configs, c.nconfigs);
    json_decref(j);
}

/* Validates a PATCH body ({"partitions_count": n}, n above the current count) into *n. */
static int parse_patch(json_t *j, const struct sl_topic_info *ti, int32_t *n, char *err, size_t errlen)
{
    static const char *const names[] = {"partitions_count", NULL};
    json_t *pc = json_object_get(j, "partitions_count");
    int rc = reject_unknown(j, names, "", err, errlen);
    if (rc)
        return rc;
    if (!json_is_integer(pc))
        return fail(-EINVAL, err, errlen, "'partitions_count' is required and must be an integer.");
    if (json_integer_value(pc) == ti->partitions) /* Kafka's InvalidPartitionsException, as Confluent */
        return fail(SL_ECONFIG, err, errlen,
                    "Topic '%s' currently has %d partitions, which is the same as the requested %d.", ti->name,
                    (int)ti->partitions, (int)ti->partitions);
    if (json_integer_value(pc) < ti->partitions || json_integer_value(pc) > MAX_PARTITIONS)
        return fail(SL_ECONFIG, err, errlen,
                    "'partitions_count' can only grow: topic '%s' has %d partitions, the maximum is %d.", ti->name,
                    (int)ti->partitions, MAX_PARTITIONS);
    *n = (int32_t)json_integer_value(pc);
    return 0;
}

static void on_patch(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (sl_v3_load_topic(req, &ti))
        return;
    json_t *j = sl_http_body_json(req, JSON_OBJECT);
    if (!j)
        return;
    char err[512] = "";
    int32_t n = 0;
    int rc = parse_patch(j, &ti, &n, err, sizeof err);
    if (rc)
        reply_err(req, rc, err);
    else if ((rc = sl_broker_topic_add_partitions(sl_http_api(req)->broker, ti.name, n, err, sizeof err)))
        reply_create_error(req, rc, ti.name, err);
    else
        sl_http_reply_json(req, 200, topic_json(req, ti.name, n, ti.internal));
    json_decref(j);
}

static void on_delete(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (sl_v3_load_topic(req, &ti))
        return;
    int rc = sl_broker_topic_delete(sl_http_api(req)->broker, ti.name);
    if (rc)
        reply_create_error(req, rc, ti.name, "");
    else
        sl_http_reply_empty(req, 204);
}

/* ---- topic configs ---- */

static json_t *synonym(const char *name, const char *value, const char *source)
{
    return json_pack("{s:s, s:s, s:s}", "name", name, "value", value, "source", source);
}

/* One topic config as Kafka describes it: the topic's own value (DYNAMIC_TOPIC_CONFIG) when set, else the
 * broker config it follows (STATIC_BROKER_CONFIG when given at start), else the default; the synonyms list
 * those in that order, the broker-level ones under the broker's name. Configs sluice does not honour are
 * read-only and follow the broker config when sluice has it, else keep Kafka's default. */
static json_t *config_json(struct sl_req *req, const struct sl_topic_info *ti, const struct sl_topic_config_def *d)
{
    struct sl_broker *b = sl_http_api(req)->broker;
    const struct sl_broker_config *bc = sl_broker_config_find(b, sl_broker_node_id(b), d->broker_name);
    char v[128];
    bool topic_set = d->honoured >= 0 && (ti->overridden & (1u << d->honoured));
    if (d->honoured >= 0)
        sl_topic_cfg_get(&ti->cfg, d->name, v, sizeof v);
    else
        snprintf(v, sizeof v, "%s", bc ? bc->value : d->kafka_default);
    const char *bname = d->broker_name ? d->broker_name : d->name;
    json_t *syn = json_array();
    if (topic_set)
        json_array_append_new(syn, synonym(d->name, v, "DYNAMIC_TOPIC_CONFIG"));
    if (bc && bc->is_static)
        json_array_append_new(syn, synonym(bname, bc->value, "STATIC_BROKER_CONFIG"));
    json_array_append_new(syn, synonym(bname, bc ? bc->default_value : d->kafka_default, "DEFAULT_CONFIG"));
    const char *src = topic_set             ? "DYNAMIC_TOPIC_CONFIG"
                      : bc && bc->is_static ? "STATIC_BROKER_CONFIG"
                                            : "DEFAULT_CONFIG";
    return json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:o}", "kind", "KafkaTopicConfig", "metadata",
                     sl_v3_metadata(sl_v3_link(req, "/topics/%s/configs/%s", ti->name, d->name),
                                    "crn:///kafka=%s/topic=%s/config=%s", sl_v3_cid(req), ti->name, d->name),
                     "cluster_id", sl_v3_cid(req), "topic_name", ti->name, "name", d->name, "value", v, "is_default",
                     !strcmp(src, "DEFAULT_CONFIG"), "is_read_only", d->honoured < 0, "is_sensitive", 0, "source", src,
                     "synonyms", syn);
}

static void on_configs(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (sl_v3_load_topic(req, &ti))
        return;
    json_t *data = json_array();
    for (const struct sl_topic_config_def *d = sl_topic_config_defs; d->name; d++)
        json_array_append_new(data, config_json(req, &ti, d));
    sl_http_reply_json(req, 200,
                       sl_v3_list("KafkaTopicConfigList", sl_v3_link(req, "/topics/%s/configs", ti.name), data));
}

/* Loads {t} and {name}; replies and returns NULL when either is unknown. */
static const struct sl_topic_config_def *load_config(struct sl_req *req, struct sl_topic_info *ti)
{
    if (sl_v3_load_topic(req, ti))
        return NULL;
    const char *name = sl_http_param(req, "name");
    const struct sl_topic_config_def *d = sl_topic_config_def(name);
    if (!d)
        sl_http_reply_error(req, 404, 404, "Config '%s' not found for topic '%s'.", name, ti->name);
    return d;
}

static void on_config(struct sl_req *req)
{
    struct sl_topic_info ti;
    const struct sl_topic_config_def *d = load_config(req, &ti);
    if (d)
        sl_http_reply_json(req, 200, config_json(req, &ti, d));
}

/* Sets or resets (value NULL) one config and replies 204 or the error. */
static void set_one(struct sl_req *req, const char *topic, const char *name, const char *value)
{
    char err[512] = "";
    int rc = sl_broker_topic_set_config(sl_http_api(req)->broker, topic, name, value, err, sizeof err);
    if (rc)
        reply_create_error(req, rc, topic, err);
    else
        sl_http_reply_empty(req, 204);
}

static void on_config_put(struct sl_req *req)
{
    struct sl_topic_info ti;
    const struct sl_topic_config_def *d = load_config(req, &ti);
    if (!d)
        return;
    json_t *j = sl_http_body_json(req, JSON_OBJECT);
    if (!j)
        return;
    static const char *const names[] = {"value", NULL};
    json_t *v = json_object_get(j, "value");
    char err[160] = "";
    int rc = reject_unknown(j, names, "", err, sizeof err);
    if (!rc && !json_is_string(v))
        rc = fail(-EINVAL, err, sizeof err, "'value' is required and must be a string.");
    if (rc)
        reply_err(req, rc, err);
    else
        set_one(req, ti.name, d->name, json_string_value(v));
    json_decref(j);
}

static void on_config_delete(struct sl_req *req)
{
    struct sl_topic_info ti;
    const struct sl_topic_config_def *d = load_config(req, &ti);
    if (d)
        set_one(req, ti.name, d->name, NULL);
}

/* Validates every entry of an alter batch against a copy of the topic's config (dflt: the broker's topic
 * defaults). */
static int validate_alter(const struct sl_topic_cfg *dflt, const struct sl_topic_info *ti, json_t *data, char *err,
                          size_t errlen)
{
    struct sl_topic_cfg copy = ti->cfg;
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item)
    {
        static const char *const names[] = {"name", "value", "operation", NULL};
        char where[32];
        snprintf(where, sizeof where, "data[%zu]", i);
        int rc = reject_unknown(item, names, where, err, errlen);
        if (rc)
            return rc;
        json_t *n = json_object_get(item, "name"), *v = json_object_get(item, "value");
        json_t *op = json_object_get(item, "operation");
        bool del = json_is_string(op) && !strcasecmp(json_string_value(op), "DELETE");
        bool set = !op || json_is_null(op) || (json_is_string(op) && !strcasecmp(json_string_value(op), "SET"));
        if (!json_is_string(n) || (!del && !set) || (set && !json_is_string(v)))
            return fail(-EINVAL, err, errlen,
                        "data[%zu] must be {\"name\": string, \"value\": string} or "
                        "{\"name\": string, \"operation\": \"DELETE\"}.",
                        i);
        char why[512] = "";
        if ((!del && sl_topic_cfg_check_bounds(json_string_value(n), json_string_value(v), why, sizeof why)) ||
            sl_topic_cfg_set(&copy, dflt, json_string_value(n), del ? NULL : json_string_value(v), why, sizeof why))
            return fail(SL_ECONFIG, err, errlen, "data[%zu]: %s", i, why[0] ? why : "invalid configuration");
    }
    return 0;
}

/* Applies a validated alter batch, entry by entry. Returns 0 or the first failure (err says why). */
static int apply_alter(struct sl_broker *b, const char *topic, json_t *data, char *err, size_t errlen)
{
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item)
    {
        json_t *op = json_object_get(item, "operation");
        bool del = json_is_string(op) && !strcasecmp(json_string_value(op), "DELETE");
        const char *v = del ? NULL : json_string_value(json_object_get(item, "value"));
        int rc = sl_broker_topic_set_config(b, topic, json_string_value(json_object_get(item, "name")), v, err,
                                            errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static void on_alter(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (sl_v3_load_topic(req, &ti))
        return;
    json_t *j = sl_http_body_json(req, JSON_OBJECT);
    if (!j)
        return;
    static const char *const names[] = {"data", "validate_only", NULL};
    json_t *data = json_object_get(j, "data"), *vo = json_object_get(j, "validate_only");
    struct sl_broker *b = sl_http_api(req)->broker;
    char err[512] = "";
    int rc = reject_unknown(j, names, "", err, sizeof err);
    if (!rc && (!json_is_array(data) || (vo && !json_is_null(vo) && !json_is_boolean(vo))))
        rc = fail(-EINVAL, err, sizeof err, "'data' is required and must be an array, 'validate_only' a boolean.");
    if (!rc)
        rc = validate_alter(sl_broker_topic_defaults(b), &ti, data, err, sizeof err);
    if (rc)
        reply_err(req, rc, err);
    else if (json_is_true(vo))
        sl_http_reply_empty(req, 204); /* valid; nothing applied */
    else if ((rc = apply_alter(b, ti.name, data, err, sizeof err)))
        reply_create_error(req, rc, ti.name, err);
    else
        sl_http_reply_empty(req, 204);
    json_decref(j);
}

/* ---- partitions ---- */

static json_t *v3_partition_json(struct sl_req *req, const char *t, int32_t p)
{
    struct sl_replica_info r[8];
    size_t nr = 0;
    int node = -1;
    sl_broker_replicas(sl_http_api(req)->broker, t, p, r, 8, &nr);
    for (size_t i = 0; i < nr && i < 8 && node < 0; i++)
        node = r[i].leader ? (int)r[i].broker_id : -1;
    struct sl_part_info pi;
    memset(&pi, 0, sizeof pi);
    sl_broker_partition_info(sl_http_api(req)->broker, t, p, &pi);
    /* sluice's addition: what recovery or a failed write left (Confluent's partition has no such field). */
    json_t *health = json_pack("{s:b, s:i, s:i, s:s}", "failed", pi.failed, "damaged_ranges", (int)pi.damaged_ranges,
                               "quarantined_files", (int)pi.quarantined, "reason", pi.reason);
    /* No "reassignment" link: none is ever in progress on one node, and Confluent answers 404 then. */
    return json_pack("{s:s, s:o, s:o, s:s, s:s, s:i, s:o, s:o}", "kind", "KafkaPartition", "health", health, "metadata",
                     sl_v3_metadata(sl_v3_link(req, "/topics/%s/partitions/%d", t, (int)p),
                                    "crn:///kafka=%s/topic=%s/partition=%d", sl_v3_cid(req), t, (int)p),
                     "cluster_id", sl_v3_cid(req), "topic_name", t, "partition_id", (int)p, "leader",
                     sl_v3_related(sl_v3_link(req, "/topics/%s/partitions/%d/replicas/%d", t, (int)p, node)),
                     "replicas", sl_v3_related(sl_v3_link(req, "/topics/%s/partitions/%d/replicas", t, (int)p)));
}

static void on_partitions(struct sl_req *req)
{
    struct sl_topic_info ti;
    if (sl_v3_load_topic(req, &ti))
        return;
    json_t *data = json_array();
    for (int32_t p = 0; p < ti.partitions; p++)
        json_array_append_new(data, v3_partition_json(req, ti.name, p));
    sl_http_reply_json(req, 200,
                       sl_v3_list("KafkaPartitionList", sl_v3_link(req, "/topics/%s/partitions", ti.name), data));
}

static void on_partition(struct sl_req *req)
{
    struct sl_topic_info ti;
    int32_t p;
    if (sl_v3_load_partition(req, &ti, &p))
        return;
    sl_http_reply_json(req, 200, v3_partition_json(req, ti.name, p));
}

void sl_h_admin_register(struct sl_router *r);
void sl_h_admin_register(struct sl_router *r)
{
    static const struct sl_route_ops create = {.begin = begin_json, .handle = on_create};
    static const struct sl_route_ops patch = {.begin = begin_json, .handle = on_patch};
    static const struct sl_route_ops alter = {.begin = begin_json, .handle = on_alter};
    static const struct sl_route_ops put = {.begin = begin_json, .handle = on_config_put};
    sl_router_add(r, "GET", "/v3/clusters", on_clusters);
    sl_router_add(r, "GET", "/v3/clusters/{cid}", on_cluster);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/brokers", on_brokers);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/brokers/{id}", on_broker);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics", on_topics);
    sl_router_add_ops(r, "POST", "/v3/clusters/{cid}/topics", &create, 0);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}", on_topic);
    sl_router_add_ops(r, "PATCH", "/v3/clusters/{cid}/topics/{t}", &patch, 0);
    sl_router_add(r, "DELETE", "/v3/clusters/{cid}/topics/{t}", on_delete);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}/configs", on_configs);
    sl_router_add_ops(r, "POST", "/v3/clusters/{cid}/topics/{t}/configs:alter", &alter, 0);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}/configs/{name}", on_config);
    sl_router_add_ops(r, "PUT", "/v3/clusters/{cid}/topics/{t}/configs/{name}", &put, 0);
    sl_router_add(r, "DELETE", "/v3/clusters/{cid}/topics/{t}/configs/{name}", on_config_delete);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}/partitions", on_partitions);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/topics/{t}/partitions/{p}", on_partition);
}
