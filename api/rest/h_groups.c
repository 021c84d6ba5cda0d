/* v3 consumer groups (read-only): GET /v3/clusters/{cid}/consumer-groups[/{g}], .../{g}/consumers[/{c}],
 * .../{g}/consumers/{c}/assignments[/{t}/partitions/{p}], .../{g}/lags[/{t}/partitions/{p}], .../{g}/lag-summary,
 * in Confluent's v3 shapes (kind, metadata.self, related links). Unknown group 404/40405 (SL_ENOGROUP), unknown
 * consumer, assignment or lag 404/404, as Confluent's NotFoundException.
 *
 * A group is listed when it has members (REST instances, WebSocket members) or committed offsets. Lags are
 * computed for the partitions the group has committed offsets for, plus assigned partitions without one
 * (current_offset then is the log start, as nothing was consumed): lag = log end offset (HW) - committed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http.h"
#include "api/http/router.h"
#include "server/broker.h"
#include "server/groups.h"
#include "server/err.h"

/* "<base_url>/v3/clusters/cid" + suffix. */
static json_t *link(struct sl_req *req, const char *fmt, const char *a, const char *b)
{
    char path[1024], url[1400];
    snprintf(path, sizeof path, fmt, a ? a : "", b ? b : "");
    snprintf(url, sizeof url, "%s/v3/clusters/%s%s", sl_api_base_url(sl_http_api(req)), sl_http_param(req, "cid"), path);
    return json_string(url);
}

static json_t *meta(struct sl_req *req, const char *fmt, const char *a, const char *b, const char *crn)
{
    json_t *m = json_pack("{s:o}", "self", link(req, fmt, a, b));
    if (crn) {
        char rn[1024];
        snprintf(rn, sizeof rn, "crn:///kafka=%s/consumer-group=%s%s", sl_http_param(req, "cid"), a, crn);
        json_object_set_new(m, "resource_name", json_string(rn));
    }
    return m;
}

static json_t *list_of(struct sl_req *req, const char *kind, const char *fmt, const char *a, json_t *data)
{
    json_t *m = json_pack("{s:o,s:n}", "self", link(req, fmt, a, NULL), "next");
    return json_pack("{s:s,s:o,s:o}", "kind", kind, "metadata", m, "data", data);
}

/* Checks the cluster id; replies 404 and returns the code it answered on a mismatch. */
static int check_cluster(struct sl_req *req)
{
    const char *cid = sl_http_param(req, "cid");
    if (strcmp(cid, sl_broker_cluster_id(sl_http_api(req)->broker)) == 0)
        return 0;
    sl_http_reply_error(req, 404, 404, "Cluster %s not found.", cid);
    return -ENOENT;
}

static json_t *group_json(struct sl_req *req, const struct sl_group_desc *d)
{
    const char *g = d->name;
    char node[16];
    snprintf(node, sizeof node, "%d", (int)sl_broker_node_id(sl_http_api(req)->broker)); /* the coordinator */
    return json_pack("{s:s,s:o,s:s,s:s,s:b,s:s,s:s,s:s,s:{s:o},s:{s:o},s:{s:o}}", "kind", "KafkaConsumerGroup",
                     "metadata", meta(req, "/consumer-groups/%s%s", g, NULL, ""), "cluster_id",
                     sl_http_param(req, "cid"), "consumer_group_id", g, "is_simple", d->is_simple, "partition_assignor",
                     "range", "state", d->nmembers ? "STABLE" : "EMPTY", "type", "CLASSIC", "coordinator", "related",
                     link(req, "/brokers/%s%s", node, NULL), "consumers", "related",
                     link(req, "/consumer-groups/%s/consumers%s", g, NULL), "lag_summary", "related",
                     link(req, "/consumer-groups/%s/lag-summary%s", g, NULL));
}

static void on_list(struct sl_req *req)
{
    struct sl_group_desc *gs;
    size_t n;
    if (check_cluster(req))
        return;
    int rc = sl_groups_list(sl_http_api(req)->groups, &gs, &n);
    if (rc) {
        sl_http_reply_rc(req, rc, NULL);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, group_json(req, &gs[i]));
    sl_groups_desc_free_all(gs, n);
    sl_http_reply_json(req, 200, list_of(req, "KafkaConsumerGroupList", "/consumer-groups%s", NULL, data));
}

/* Describes {g}; replies 40405 and returns the code it answered when unknown. */
static int describe(struct sl_req *req, struct sl_group_desc *d)
{
    if (check_cluster(req))
        return -ENOENT;
    int rc = sl_groups_describe(sl_http_api(req)->groups, sl_http_param(req, "g"), d);
    if (rc)
        sl_http_reply_rc(req, rc, NULL);
    return rc;
}

static void on_group(struct sl_req *req)
{
    struct sl_group_desc d;
    if (describe(req, &d))
        return;
    sl_http_reply_json(req, 200, group_json(req, &d));
    sl_groups_desc_fini(&d);
}

static json_t *consumer_json(struct sl_req *req, const struct sl_group_desc *d, const struct sl_member_desc *m)
{
    const char *c = m->id;
    char path[600], crn[600];
    snprintf(path, sizeof path, "/consumer-groups/%%s/consumers/%s%%s", c);
    snprintf(crn, sizeof crn, "/consumer=%s", c);
    return json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:{s:o}}", "kind", "KafkaConsumer", "metadata",
                     meta(req, path, d->name, NULL, crn), "cluster_id", sl_http_param(req, "cid"), "consumer_group_id",
                     d->name, "consumer_id", c, "instance_id", c, "client_id",
                     m->kind == SL_MEMBER_WS ? "sluice-ws" : "sluice-rest", "assignments", "related",
                     link(req, "/consumer-groups/%s/consumers/%s/assignments", d->name, c));
}

static void on_consumers(struct sl_req *req)
{
    struct sl_group_desc d;
    if (describe(req, &d))
        return;
    json_t *data = json_array();
    for (size_t i = 0; i < d.nmembers; i++)
        json_array_append_new(data, consumer_json(req, &d, &d.members[i]));
    sl_http_reply_json(req, 200, list_of(req, "KafkaConsumerList", "/consumer-groups/%s/consumers", d.name, data));
    sl_groups_desc_fini(&d);
}

/* Describes {g} and finds member {c}; replies (404) and returns NULL when either is unknown. On success the
 * caller finishes *d with sl_groups_desc_fini. */
static const struct sl_member_desc *load_member(struct sl_req *req, struct sl_group_desc *d)
{
    if (describe(req, d))
        return NULL;
    const char *c = sl_http_param(req, "c");
    for (size_t i = 0; i < d->nmembers; i++)
        if (!strcmp(d->members[i].id, c))
            return &d->members[i];
    sl_http_reply_error(req, 404, 404, "Consumer '%s' not found in consumer group '%s'.", c, d->name);
    sl_groups_desc_fini(d);
    return NULL;
}

static void on_consumer(struct sl_req *req)
{
    struct sl_group_desc d;
    const struct sl_member_desc *m = load_member(req, &d);
    if (!m)
        return;
    sl_http_reply_json(req, 200, consumer_json(req, &d, m));
    sl_groups_desc_fini(&d);
}

static json_t *assignment_json(struct sl_req *req, const struct sl_group_desc *d, const struct sl_member_desc *m,
                               const struct sl_tp *a)
{
    char path[900], crn[900], part[600], lag[600];
    snprintf(path, sizeof path, "/consumer-groups/%%s/consumers/%s/assignments/%s/partitions/%" PRId32 "%%s", m->id,
             a->topic, a->partition);
    snprintf(crn, sizeof crn, "/consumer=%s/assignment=%s/partition=%" PRId32, m->id, a->topic, a->partition);
    snprintf(part, sizeof part, "/topics/%%s/partitions/%" PRId32 "%%s", a->partition);
    snprintf(lag, sizeof lag, "/consumer-groups/%%s/lags/%s/partitions/%" PRId32, a->topic, a->partition);
    return json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:i,s:{s:o},s:{s:o}}", "kind", "KafkaConsumerAssignment", "metadata",
                     meta(req, path, d->name, NULL, crn), "cluster_id", sl_http_param(req, "cid"), "consumer_group_id",
                     d->name, "consumer_id", m->id, "topic_name", a->topic, "partition_id", (int)a->partition,
                     "partition", "related", link(req, part, a->topic, NULL), "lag", "related",
                     link(req, lag, d->name, NULL));
}

static void on_assignments(struct sl_req *req)
{
    struct sl_group_desc d;
    const struct sl_member_desc *m = load_member(req, &d);
    if (!m)
        return;
    json_t *data = json_array();
    for (size_t j = 0; j < m->nassigned; j++)
        json_array_append_new(data, assignment_json(req, &d, m, &m->assigned[j]));
    char path[600];
    snprintf(path, sizeof path, "/consumer-groups/%%s/consumers/%s/assignments", m->id);
    sl_http_reply_json(req, 200, list_of(req, "KafkaConsumerAssignmentList", path, d.name, data));
    sl_groups_desc_fini(&d);
}

static void on_assignment(struct sl_req *req)
{
    struct sl_group_desc d;
    const struct sl_member_desc *m = load_member(req, &d);
    if (!m)
        return;
    const char *t = sl_http_param(req, "t"), *p = sl_http_param(req, "p");
    for (size_t j = 0; j < m->nassigned; j++) {
        char pid[16];
        snprintf(pid, sizeof pid, "%" PRId32, m->assigned[j].partition);
        if (!strcmp(m->assigned[j].topic, t) && !strcmp(pid, p)) {
            sl_http_reply_json(req, 200, assignment_json(req, &d, m, &m->assigned[j]));
            sl_groups_desc_fini(&d);
            return;
        }
    }
    sl_http_reply_error(req, 404, 404, "Partition %s-%s is not assigned to consumer '%s'.", t, p, m->id);
    sl_groups_desc_fini(&d);
}

/* One partition's lag. */
struct lag {
    struct sl_tpo c; /* offset: committed (or log start when none) */
    sl_offset_t end;
    const char *consumer; /* "" when unassigned */
};

static const char *owner(const struct sl_group_desc *d, const char *topic, int32_t p)
{
    for (size_t i = 0; i < d->nmembers; i++)
        for (size_t j = 0; j < d->members[i].nassigned; j++)
            if (d->members[i].assigned[j].partition == p && strcmp(d->members[i].assigned[j].topic, topic) == 0)
                return d->members[i].id;
    return "";
}

/* Collects the lags of group d (malloc'd array). */
static int lags(struct sl_req *req, const struct sl_group_desc *d, struct lag **out, size_t *n)
{
    struct sl_api *api = sl_http_api(req);
    struct sl_tpo *c = NULL;
    size_t nc = 0, k = 0, cap;
    if (sl_groups_committed_all(api->groups, d->name, &c, &nc))
        nc = 0;
    cap = nc;
    for (size_t i = 0; i < d->nmembers; i++)
        cap += d->members[i].nassigned;
    struct lag *v = calloc(cap + 1, sizeof *v);
    if (!v) {
        free(c);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nc; i++)
        v[k++].c = c[i];
    for (size_t i = 0; i < d->nmembers; i++) {
        for (size_t j = 0; j < d->members[i].nassigned; j++) {
            const struct sl_tp *a = &d->members[i].assigned[j];
            bool have = false;
            for (size_t x = 0; x < nc && !have; x++)
                have = c[x].partition == a->partition && strcmp(c[x].topic, a->topic) == 0;
            if (have)
                continue;
            memcpy(v[k].c.topic, a->topic, sizeof v[k].c.topic);
            v[k].c.partition = a->partition;
            v[k++].c.offset = -1;
        }
    }
    for (size_t i = 0; i < k; i++) {
        sl_offset_t start = 0, end = 0;
        sl_broker_offsets(api->broker, v[i].c.topic, v[i].c.partition, &start, &end);
        if (v[i].c.offset < 0)
            v[i].c.offset = start;
        v[i].end = end;
        v[i].consumer = owner(d, v[i].c.topic, v[i].c.partition);
    }
    free(c);
    *out = v;
    *n = k;
    return 0;
}

static json_t *lag_json(struct sl_req *req, const struct sl_group_desc *d, const struct lag *l)
{
    char path[600], crn[600];
    snprintf(path, sizeof path, "/consumer-groups/%%s/lags/%s/partitions/%" PRId32 "%%s", l->c.topic, l->c.partition);
    snprintf(crn, sizeof crn, "/lag=%s/partition=%" PRId32, l->c.topic, l->c.partition);
    return json_pack("{s:s,s:o,s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:s,s:s,s:s}", "kind", "KafkaConsumerLag", "metadata",
                     meta(req, path, d->name, NULL, crn), "cluster_id", sl_http_param(req, "cid"), "consumer_group_id",
                     d->name, "topic_name", l->c.topic, "partition_id", (int)l->c.partition, "current_offset",
                     (json_int_t)l->c.offset, "log_end_offset", (json_int_t)l->end, "lag",
                     (json_int_t)(l->end > l->c.offset ? l->end - l->c.offset : 0), "consumer_id", l->consumer,
                     "instance_id", l->consumer, "client_id", "");
}

/* Describes {g} and collects its lags; replies and returns the code it answered on failure. On success the caller frees
 * *v and finishes *d. */
static int load_lags(struct sl_req *req, struct sl_group_desc *d, struct lag **v, size_t *n)
{
    if (describe(req, d))
        return -ENOENT;
    if (lags(req, d, v, n)) {
        sl_groups_desc_fini(d);
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return -ENOMEM;
    }
    return 0;
}

static void on_lags(struct sl_req *req)
{
    struct sl_group_desc d;
    struct lag *v;
    size_t n;
    if (load_lags(req, &d, &v, &n))
        return;
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, lag_json(req, &d, &v[i]));
    sl_http_reply_json(req, 200, list_of(req, "KafkaConsumerLagList", "/consumer-groups/%s/lags", d.name, data));
    free(v);
    sl_groups_desc_fini(&d);
}

static void on_lag(struct sl_req *req)
{
    struct sl_group_desc d;
    struct lag *v;
    size_t n, i;
    if (load_lags(req, &d, &v, &n))
        return;
    const char *t = sl_http_param(req, "t"), *p = sl_http_param(req, "p");
    char pid[16] = "";
    for (i = 0; i < n; i++) {
        snprintf(pid, sizeof pid, "%" PRId32, v[i].c.partition);
        if (!strcmp(v[i].c.topic, t) && !strcmp(pid, p))
            break;
    }
    if (i < n)
        sl_http_reply_json(req, 200, lag_json(req, &d, &v[i]));
    else
        sl_http_reply_error(req, 404, 404, "Consumer group '%s' has no lag for partition %s-%s.", d.name, t, p);
    free(v);
    sl_groups_desc_fini(&d);
}

static void on_lag_summary(struct sl_req *req)
{
    struct sl_group_desc d;
    struct lag *v;
    size_t n, max_i = 0;
    if (load_lags(req, &d, &v, &n))
        return;
    int64_t total = 0, max = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t l = v[i].end > v[i].c.offset ? v[i].end - v[i].c.offset : 0;
        total += l;
        if (l > max) {
            max = l;
            max_i = i;
        }
    }
    const struct lag *m = n ? &v[max_i] : NULL;
    json_t *j = json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:I}", "kind", "KafkaConsumerGroupLagSummary",
                          "metadata", meta(req, "/consumer-groups/%s/lag-summary%s", d.name, NULL, "/lag-summary"),
                          "cluster_id", sl_http_param(req, "cid"), "consumer_group_id", d.name, "max_lag_consumer_id",
                          m ? m->consumer : "", "max_lag_instance_id", m ? m->consumer : "", "max_lag_client_id", "",
                          "max_lag_topic_name", m ? m->c.topic : "", "max_lag_partition_id",
                          m ? (int)m->c.partition : 0, "max_lag", (json_int_t)(max < 0 ? 0 : max), "total_lag",
                          (json_int_t)total);
    if (m && m->consumer[0])
        json_object_set_new(j, "max_lag_consumer",
                            json_pack("{s:o}", "related", link(req, "/consumer-groups/%s/consumers/%s", d.name,
                                                               m->consumer)));
    if (m) {
        char part[64];
        snprintf(part, sizeof part, "/topics/%%s/partitions/%" PRId32 "%%s", m->c.partition);
        json_object_set_new(j, "max_lag_partition", json_pack("{s:o}", "related", link(req, part, m->c.topic, NULL)));
    }
    sl_http_reply_json(req, 200, j);
    free(v);
    sl_groups_desc_fini(&d);
}

void sl_h_groups_register(struct sl_router *r)
{
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups", on_list);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups/{g}", on_group);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups/{g}/consumers", on_consumers);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups/{g}/consumers/{c}", on_consumer);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups/{g}/consumers/{c}/assignments", on_assignments);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups/{g}/consumers/{c}/assignments/{t}/partitions/{p}",
                  on_assignment);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups/{g}/lags", on_lags);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups/{g}/lags/{t}/partitions/{p}", on_lag);
    sl_router_add(r, "GET", "/v3/clusters/{cid}/consumer-groups/{g}/lag-summary", on_lag_summary);
}
