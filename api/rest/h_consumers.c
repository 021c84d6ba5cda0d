/* v2 consumer endpoints: instances, subscription, assignments, positions; records (the long poll) and offsets
 * are in api/rest/h_consumer_poll.c, and the helpers both files use are declared in api/rest/h_consumers_int.h.
 * Also owns the "groups" module: it gives /metrics its consumer-lag source while the server runs. The
 * consumer-group coordinator (server/groups.h) is opened and closed by server/main.c and reaches the
 * handlers as api->groups (api/rest/rest.h).
 *
 * Instances are coordinator members of kind REST; nothing about them lives here, so an instance that
 * expires (consumer.instance.timeout.ms idle) simply answers 40403 afterwards. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest/h_consumers_int.h"
#include "api/http/http.h"
#include "api/codec/jsonbody.h"
#include "api/http/metrics.h"
#include "api/codec/records.h"
#include "api/http/router.h"
#include "server/broker.h"
#include "server/config.h"
#include "server/groups.h"
#include "server/err.h"


/* ---- the groups module ---- */

static void on_lag(struct sl_api *api, sl_metrics_lag_emit_fn emit, void *ctx)
{
    struct sl_group_desc *gs;
    size_t ng;
    if (!api->groups || sl_groups_list(api->groups, &gs, &ng))
        return;
    for (size_t i = 0; i < ng; i++) {
        struct sl_tpo *c;
        size_t nc;
        if (sl_groups_committed_all(api->groups, gs[i].name, &c, &nc))
            continue;
        for (size_t j = 0; j < nc; j++) {
            sl_offset_t start, end;
            if (sl_broker_offsets(api->broker, c[j].topic, c[j].partition, &start, &end) == 0)
                emit(ctx, gs[i].name, c[j].topic, c[j].partition, end > c[j].offset ? end - c[j].offset : 0);
        }
        free(c);
    }
    sl_groups_desc_free_all(gs, ng);
}

static int on_groups_start(struct sl_api *api)
{
    sl_metrics_set_lag_source(api->metrics, on_lag);
    return 0;
}

static void on_groups_stop(struct sl_api *api)
{
    sl_metrics_set_lag_source(api->metrics, NULL);
}

/* ---- helpers ---- */

struct sl_groups *sl_hc_groups(struct sl_req *req)
{
    return sl_http_api(req)->groups;
}

/* Replies a coordinator error with the Confluent code that fits the endpoint. */
void sl_hc_reply_rc(struct sl_req *req, int rc)
{
    if (rc == SL_ENOMEMBER)
        sl_http_reply_error(req, 404, 40403, "Consumer instance not found.");
    else if (rc == -EINVAL)
        sl_http_reply_error(req, 422, 42204, "Invalid consumer configuration.");
    else
        sl_http_reply_rc(req, rc, NULL);
}

/* Looks the instance up (touching it). Replies 40403 and returns the code it answered when unknown. */
int sl_hc_instance(struct sl_req *req, struct sl_member_info *mi)
{
    int rc = sl_groups_member(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"), mi);
    if (rc)
        sl_hc_reply_rc(req, rc);
    return rc;
}

/* A JSON object body whose members are all in names; replies itself on failure (an unknown member: 422 with
 * error_code code, "Unrecognized field: x"). An empty body is {} when allow_empty. */
json_t *sl_hc_body_object(struct sl_req *req, bool allow_empty, const char *const *names, int code)
{
    size_t len;
    sl_http_body(req, &len);
    if (len == 0 && allow_empty)
        return json_object();
    json_t *b = sl_http_body_json(req, JSON_OBJECT);
    char msg[160];
    if (b && sl_json_check_members(b, names, "", msg, sizeof msg)) {
        sl_http_reply_error(req, 422, code, "%s", msg);
        json_decref(b);
        return NULL;
    }
    return b;
}

/* The members of the partition-list bodies: assignments, seek to beginning/end, committed offsets. */
const char *const SL_HC_PARTITIONS_BODY[] = {"partitions", NULL};
static const char *const SUBSCRIBE_BODY[] = {"topics", "topic_pattern", NULL};
static const char *const SEEK_BODY[] = {"offsets", "timestamps", NULL};
/* Confluent's CreateConsumerInstanceRequest, less fetch.min.bytes, which sluice does not honour */
static const char *const CREATE_BODY[] = {"name", "id", "format", "auto.offset.reset", "auto.commit.enable",
                                          "consumer.request.timeout.ms", NULL};

/* Parses [{"topic","partition"[,"offset"|"timestamp"]}] from body[key]. what: 0 = tp, 1 = offset,
 * 2 = timestamp. Replies 422 and returns the code it answered on bad input. */
int sl_hc_parse_tpos(struct sl_req *req, json_t *body, const char *key, int what, struct sl_tpo **out, size_t *n)
{
    json_t *arr = json_object_get(body, key);
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr)) {
        sl_http_reply_error(req, 422, 422, "%s must be an array", key);
        return -EINVAL;
    }
    struct sl_tpo *v = calloc(json_array_size(arr) + 1, sizeof *v);
    if (!v) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return -ENOMEM;
    }
    /* Confluent's elements; "metadata" (commit, seek) only as null or "": sluice does not store it */
    static const char *const names[3][5] = {{"topic", "partition", NULL},
                                            {"topic", "partition", "offset", "metadata", NULL},
                                            {"topic", "partition", "timestamp", "metadata", NULL}};
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i), *t = json_object_get(e, "topic"), *p = json_object_get(e, "partition");
        const char *unknown = sl_json_unknown(e, names[what]);
        json_t *md = json_object_get(e, "metadata");
        if (!unknown && md && !json_is_null(md) && !(json_is_string(md) && json_string_length(md) == 0))
            unknown = "metadata (not stored by sluice: send null or \"\")";
        if (unknown) {
            free(v);
            sl_http_reply_error(req, 422, 422, "Unrecognized field: %s[%zu].%.64s", key, i, unknown);
            return -EINVAL;
        }
        json_t *o = json_object_get(e, what == 1 ? "offset" : "timestamp");
        int64_t ts = 0;
        bool ok = json_is_string(t) && json_string_length(t) <= SL_TOPIC_NAME_MAX && json_is_integer(p) &&
                  json_integer_value(p) >= 0 && json_integer_value(p) <= INT32_MAX;
        if (ok && what == 1)
            ok = json_is_integer(o) && json_integer_value(o) >= 0;
        if (ok && what == 2)
            ok = (json_is_string(o) && sl_rfc3339_parse(json_string_value(o), &ts) == 0) ||
                 (json_is_integer(o) && (ts = json_integer_value(o)) >= 0);
        if (!ok) {
            free(v);
            sl_http_reply_error(req, 422, 422, "%s[%zu] must be {\"topic\": string, \"partition\": int%s}", key, i,
                                what == 1 ? ", \"offset\": int >= 0" : what == 2 ? ", \"timestamp\": ISO-8601" : "");
            return -EINVAL;
        }
        snprintf(v[i].topic, sizeof v[i].topic, "%s", json_string_value(t));
        v[i].partition = (int32_t)json_integer_value(p);
        v[i].offset = what == 1 ? json_integer_value(o) : ts;
    }
    *out = v;
    *n = json_array_size(arr);
    return 0;
}

/* Checks that every partition exists. Replies 40401/40402 and returns the code it answered otherwise. */
int sl_hc_check_tps(struct sl_req *req, const struct sl_tpo *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int32_t cnt = sl_broker_partition_count(sl_http_api(req)->broker, v[i].topic);
        int rc = cnt < 0 ? cnt : v[i].partition >= cnt ? SL_ENOPART : 0;
        if (rc) {
            sl_http_reply_rc(req, rc, NULL);
            return rc;
        }
    }
    return 0;
}

/* ---- instances ---- */

static int parse_member_cfg(json_t *b, struct sl_member_cfg *mc, char *err, size_t errlen)
{
    json_t *fmt = json_object_get(b, "format"), *reset = json_object_get(b, "auto.offset.reset");
    json_t *ac = json_object_get(b, "auto.commit.enable"), *rt = json_object_get(b, "consumer.request.timeout.ms");
    enum sl_fmt f = SL_FMT_BINARY;
    *mc = (struct sl_member_cfg){.kind = SL_MEMBER_REST, .reset = SL_RESET_LATEST, .auto_commit = true,
                                 .request_timeout_ms = 1000};
    if (fmt && (!json_is_string(fmt) || sl_rec_format_from_name(json_string_value(fmt), &f)))
        return snprintf(err, errlen, "format must be binary, json or text"), -EINVAL;
    snprintf(mc->format, sizeof mc->format, "%s", sl_rec_format_name(f));
    const char *r = json_string_value(reset);
    if (reset && !r)
        return snprintf(err, errlen, "auto.offset.reset must be a string"), -EINVAL;
    if (r && (strcmp(r, "earliest") == 0 || strcmp(r, "smallest") == 0))
        mc->reset = SL_RESET_EARLIEST;
    else if (r && strcmp(r, "none") == 0)
        mc->reset = SL_RESET_NONE;
    else if (r && strcmp(r, "latest") != 0 && strcmp(r, "largest") != 0)
        return snprintf(err, errlen, "auto.offset.reset must be earliest, latest or none"), -EINVAL;
    const char *a = json_string_value(ac);
    if (ac && (json_is_boolean(ac) ? false : !a || (strcmp(a, "true") != 0 && strcmp(a, "false") != 0)))
        return snprintf(err, errlen, "auto.commit.enable must be true or false"), -EINVAL;
    if (ac)
        mc->auto_commit = json_is_boolean(ac) ? json_is_true(ac) : strcmp(a, "true") == 0;
    if (rt) {
        const char *s = json_string_value(rt);
        long long v = json_is_integer(rt) ? json_integer_value(rt) : s ? strtoll(s, NULL, 10) : -1;
        if (v < 0 || v > 3600000)
            return snprintf(err, errlen, "consumer.request.timeout.ms must be 0..3600000"), -EINVAL;
        mc->request_timeout_ms = v;
    }
    return 0;
}

static void on_create(struct sl_req *req)
{
    const char *group = sl_http_param(req, "g");
    json_t *b = sl_hc_body_object(req, true, CREATE_BODY, 42204);
    if (!b)
        return;
    char err[128] = "", id[SL_MEMBER_ID_MAX + 1];
    struct sl_member_cfg mc;
    json_t *name = json_object_get(b, "name");
    if (!name || json_is_null(name))
        name = json_object_get(b, "id");
    int rc = parse_member_cfg(b, &mc, err, sizeof err);
    if (rc == 0 && strlen(group) > SL_GROUP_NAME_MAX) { /* issue 11: this path once printed an unwritten err */
        snprintf(err, sizeof err, "the group name must be 1 to %d characters", SL_GROUP_NAME_MAX);
        rc = -EINVAL;
    }
    if (rc == 0 && name && (!json_is_string(name) || json_string_length(name) == 0 ||
                            json_string_length(name) > SL_MEMBER_ID_MAX || strchr(json_string_value(name), '/'))) {
        snprintf(err, sizeof err, "name must be a string of 1 to %d characters without '/'", SL_MEMBER_ID_MAX);
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = sl_groups_join(sl_hc_groups(req), group, json_string_value(name), &mc, id);
    json_decref(b);
    if (rc == SL_EEXISTS) {
        sl_http_reply_error(req, 409, 40902,
                            "Consumer with specified consumer ID already exists in the specified consumer group.");
        return;
    }
    if (rc) {
        sl_http_reply_error(req, 422, 42204, "Invalid consumer configuration: %s",
                            rc == -EINVAL && err[0] ? err : sl_error_message(rc));
        return;
    }
    char uri[1024];
    snprintf(uri, sizeof uri, "%s/consumers/%s/instances/%s", sl_api_base_url(sl_http_api(req)), group, id);
    sl_http_reply_json(req, 200, json_pack("{s:s,s:s}", "instance_id", id, "base_uri", uri));
}

static void on_delete(struct sl_req *req)
{
    int rc = sl_groups_leave(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"));
    if (rc)
        sl_hc_reply_rc(req, rc);
    else
        sl_http_reply_empty(req, 204);
}

/* ---- subscription, assignments ---- */

static int subscribe_topics(struct sl_req *req, json_t *topics)
{
    size_t n = json_array_size(topics);
    const char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    int rc = n ? 0 : -EINVAL;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!(v[i] = json_string_value(json_array_get(topics, i))))
            rc = -EINVAL;
    if (rc == 0)
        rc = sl_groups_subscribe(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"), v, n, NULL);
    free(v);
    return rc;
}

static void on_subscribe(struct sl_req *req)
{
    json_t *b = sl_hc_body_object(req, false, SUBSCRIBE_BODY, 422);
    if (!b)
        return;
    json_t *topics = json_object_get(b, "topics"), *pattern = json_object_get(b, "topic_pattern");
    int rc;
    if (json_is_array(topics) && !pattern)
        rc = subscribe_topics(req, topics);
    else if (json_is_string(pattern) && !topics)
        rc = sl_groups_subscribe(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"), NULL, 0,
                                 json_string_value(pattern));
    else
        rc = -EBADMSG;
    json_decref(b);
    if (rc == SL_EEXISTS)
        sl_http_reply_error(req, 409, 40901, "Consumer cannot subscribe the the specified target because it has "
                            "already subscribed to other topics.");
    else if (rc == -EBADMSG)
        sl_http_reply_error(req, 422, 422, "A list (of Topics type) or a topic pattern must be specified.");
    else if (rc == -EINVAL)
        sl_http_reply_error(req, 422, 422, "topics must be valid topic names, topic_pattern a valid regex.");
    else if (rc)
        sl_hc_reply_rc(req, rc);
    else
        sl_http_reply_empty(req, 204);
}

static void on_subscription_get(struct sl_req *req)
{
    struct sl_tp *v;
    size_t n;
    int rc = sl_groups_subscription(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"), &v, &n);
    if (rc) {
        sl_hc_reply_rc(req, rc);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i].topic));
    free(v);
    sl_http_reply_json(req, 200, json_pack("{s:o}", "topics", a));
}

static void on_unsubscribe(struct sl_req *req)
{
    int rc = sl_groups_unsubscribe(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"));
    if (rc)
        sl_hc_reply_rc(req, rc);
    else
        sl_http_reply_empty(req, 204);
}

static void on_assign(struct sl_req *req)
{
    struct sl_member_info mi;
    if (sl_hc_instance(req, &mi))
        return;
    json_t *b = sl_hc_body_object(req, false, SL_HC_PARTITIONS_BODY, 422);
    struct sl_tpo *v;
    size_t n;
    if (!b || sl_hc_parse_tpos(req, b, "partitions", 0, &v, &n)) {
        json_decref(b);
        return;
    }
    json_decref(b);
    struct sl_tp *tps = calloc(n + 1, sizeof *tps);
    for (size_t i = 0; tps && i < n; i++) {
        memcpy(tps[i].topic, v[i].topic, sizeof tps[i].topic);
        tps[i].partition = v[i].partition;
    }
    int rc = !tps ? -ENOMEM : sl_hc_check_tps(req, v, n) ? 1 : sl_groups_assign(sl_hc_groups(req), sl_http_param(req, "g"),
                                                                           sl_http_param(req, "i"), tps, n);
    free(v);
    free(tps);
    if (rc == SL_ESTATE)
        sl_http_reply_error(req, 409, 40903, "Illegal state: the consumer is subscribed; unsubscribe before "
                            "assigning partitions manually.");
    else if (rc == 1)
        return; /* check_tps replied */
    else if (rc)
        sl_hc_reply_rc(req, rc);
    else
        sl_http_reply_empty(req, 204);
}

static void on_assignments_get(struct sl_req *req)
{
    struct sl_tp *v;
    size_t n;
    int rc = sl_groups_assignment(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"), &v, &n, NULL);
    if (rc) {
        sl_hc_reply_rc(req, rc);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:i}", "topic", v[i].topic, "partition", (int)v[i].partition));
    free(v);
    sl_http_reply_json(req, 200, json_pack("{s:o}", "partitions", a));
}

/* ---- positions ---- */

/* Seeks to v (offsets resolved already). */
static void seek_reply(struct sl_req *req, struct sl_tpo *v, size_t n)
{
    int rc = sl_groups_seek(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"), v, n);
    free(v);
    if (rc == SL_ESTATE)
        sl_http_reply_error(req, 409, 40903, "Illegal state: a partition is not assigned to this consumer.");
    else if (rc)
        sl_hc_reply_rc(req, rc);
    else
        sl_http_reply_empty(req, 204);
}

static void on_seek(struct sl_req *req)
{
    struct sl_member_info mi;
    if (sl_hc_instance(req, &mi))
        return;
    json_t *b = sl_hc_body_object(req, false, SEEK_BODY, 422);
    if (!b)
        return;
    bool by_time = json_object_get(b, "timestamps") && !json_object_get(b, "offsets");
    struct sl_tpo *v;
    size_t n;
    int rc = sl_hc_parse_tpos(req, b, by_time ? "timestamps" : "offsets", by_time ? 2 : 1, &v, &n);
    json_decref(b);
    if (rc)
        return;
    if (sl_hc_check_tps(req, v, n)) {
        free(v);
        return;
    }
    for (size_t i = 0; by_time && i < n; i++)
        sl_broker_offset_for_time(sl_http_api(req)->broker, v[i].topic, v[i].partition, v[i].offset, &v[i].offset);
    seek_reply(req, v, n);
}

static void seek_edge(struct sl_req *req, bool end)
{
    struct sl_member_info mi;
    if (sl_hc_instance(req, &mi))
        return;
    json_t *b = sl_hc_body_object(req, false, SL_HC_PARTITIONS_BODY, 422);
    struct sl_tpo *v;
    size_t n;
    if (!b || sl_hc_parse_tpos(req, b, "partitions", 0, &v, &n)) {
        json_decref(b);
        return;
    }
    json_decref(b);
    if (sl_hc_check_tps(req, v, n)) {
        free(v);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sl_offset_t start = 0, hw = 0;
        sl_broker_offsets(sl_http_api(req)->broker, v[i].topic, v[i].partition, &start, &hw);
        v[i].offset = end ? hw : start;
    }
    seek_reply(req, v, n);
}

static void on_seek_beginning(struct sl_req *req)
{
    seek_edge(req, false);
}

static void on_seek_end(struct sl_req *req)
{
    seek_edge(req, true);
}

void sl_h_consumers_register(struct sl_router *r)
{
    sl_router_add_module(r, "groups", on_groups_start, on_groups_stop);
    sl_router_add(r, "POST", "/consumers/{g}", on_create);
    sl_router_add(r, "DELETE", "/consumers/{g}/instances/{i}", on_delete);
    sl_router_add(r, "POST", "/consumers/{g}/instances/{i}/subscription", on_subscribe);
    sl_router_add(r, "GET", "/consumers/{g}/instances/{i}/subscription", on_subscription_get);
    sl_router_add(r, "DELETE", "/consumers/{g}/instances/{i}/subscription", on_unsubscribe);
    sl_router_add(r, "POST", "/consumers/{g}/instances/{i}/assignments", on_assign);
    sl_router_add(r, "GET", "/consumers/{g}/instances/{i}/assignments", on_assignments_get);
    sl_router_add(r, "POST", "/consumers/{g}/instances/{i}/positions", on_seek);
    sl_router_add(r, "POST", "/consumers/{g}/instances/{i}/positions/beginning", on_seek_beginning);
    sl_router_add(r, "POST", "/consumers/{g}/instances/{i}/positions/end", on_seek_end);
    sl_h_consumer_poll_register(r);
}
