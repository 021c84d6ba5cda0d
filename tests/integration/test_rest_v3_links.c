/* Every v3 link resolves (issue 12): a crawler starts at GET /v3/clusters and /v3/clusters/{cid} and follows
 * every `related` and `metadata.self` URL breadth first (visited set, bounded), asserting each answers 200 with
 * a JSON object that has a `kind`, and that the walk reached every kind of resource sluice serves. The data
 * behind it: a topic with 3 partitions and records, and a consumer group with a member (REST v2 consumer:
 * subscribe, poll, commit), so groups, consumers, assignments and lags all have something to link to. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/sluice_proc.h"

#define MAX_URLS 4000

static struct sl_proc proc;
static char *cid;

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
    cid = sl_proc_cluster_id(&proc);
}

static void teardown(void)
{
    free(cid);
    sl_proc_free(&proc);
}

/* method p->base + path with a v2 body (content type ct); asserts the status. */
static void v2req(const char *method, const char *path, const char *ct, const char *body, long want)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", proc.base, path);
    const char *acc[] = {"Accept: application/vnd.kafka.json.v2+json", NULL};
    struct sl_resp r;
    long st = sl_http_req(method, url, ct, body, (size_t)-1, acc, &r);
    ck_assert_msg(st == want, "%s %s: %ld (%s)", method, path, st, r.body);
    sl_resp_fini(&r);
}

/* A topic with 3 partitions and records in each, and group "crawlers" with member "m1" that consumed and
 * committed. */
static void make_data(void)
{
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"crawl\",\"partitions_count\":3}", NULL), 201);
    const char *v2json = "application/vnd.kafka.json.v2+json", *v2ct = "application/vnd.kafka.v2+json";
    v2req("POST", "/topics/crawl", v2json,
          "{\"records\":[{\"value\":1,\"partition\":0},{\"value\":2,\"partition\":1},{\"value\":3,\"partition\":2}]}",
          200);
    v2req("POST", "/consumers/crawlers", v2ct,
          "{\"name\":\"m1\",\"format\":\"json\",\"auto.offset.reset\":\"earliest\"}", 200);
    v2req("POST", "/consumers/crawlers/instances/m1/subscription", v2ct, "{\"topics\":[\"crawl\"]}", 204);
    v2req("GET", "/consumers/crawlers/instances/m1/records?timeout=2000", NULL, NULL, 200);
    v2req("POST", "/consumers/crawlers/instances/m1/offsets", v2ct, NULL, 200);
}

struct crawl {
    char *urls[MAX_URLS]; /* every URL seen; [0, next) visited, [next, n) queued */
    size_t n, next;
    char *kinds[128];
    size_t nkinds;
};

static void enqueue(struct crawl *c, const char *url)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->urls[i], url))
            return;
    ck_assert_msg(c->n < MAX_URLS, "more than %d URLs: a link loop that makes new URLs?", MAX_URLS);
    c->urls[c->n++] = strdup(url);
}

/* Queues every "related" and metadata "self" URL found in j, at any depth. */
static void collect(struct crawl *c, json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_array(j))
        json_array_foreach(j, i, v) collect(c, v);
    if (!json_is_object(j))
        return;
    json_object_foreach(j, k, v)
    {
        if (!strcmp(k, "related") && json_is_string(v))
            enqueue(c, json_string_value(v));
        else if (!strcmp(k, "metadata") && json_is_string(json_object_get(v, "self")))
            enqueue(c, json_string_value(json_object_get(v, "self")));
        else
            collect(c, v);
    }
}

static void note_kind(struct crawl *c, const char *kind)
{
    for (size_t i = 0; i < c->nkinds; i++)
        if (!strcmp(c->kinds[i], kind))
            return;
    ck_assert(c->nkinds < 128);
    c->kinds[c->nkinds++] = strdup(kind);
}

static bool saw(const struct crawl *c, const char *kind)
{
    for (size_t i = 0; i < c->nkinds; i++)
        if (!strcmp(c->kinds[i], kind))
            return true;
    return false;
}

/* GETs each queued URL in turn; each must be 200 with a JSON object carrying a kind. */
static void walk(struct crawl *c)
{
    while (c->next < c->n) {
        const char *url = c->urls[c->next++];
        ck_assert_msg(!strncmp(url, proc.base, strlen(proc.base)), "link %s leaves %s", url, proc.base);
        struct sl_resp r;
        long st = sl_http_req("GET", url, NULL, NULL, 0, NULL, &r);
        ck_assert_msg(st == 200, "GET %s: %ld %s (linked from an earlier response)", url, st, r.body);
        json_t *j = sl_resp_json(&r);
        sl_resp_fini(&r);
        ck_assert_msg(json_is_object(j) && json_is_string(json_object_get(j, "kind")), "GET %s: no kind", url);
        note_kind(c, json_string_value(json_object_get(j, "kind")));
        collect(c, j);
        json_decref(j);
    }
}

START_TEST(every_related_and_self_link_resolves)
{
    make_data();
    struct crawl *c = calloc(1, sizeof *c);
    char url[512];
    snprintf(url, sizeof url, "%s/v3/clusters", proc.base);
    enqueue(c, url);
    snprintf(url, sizeof url, "%s/v3/clusters/%s", proc.base, cid);
    enqueue(c, url);
    walk(c);
    static const char *const want[] = {
        "KafkaClusterList", "KafkaCluster", "KafkaBrokerList", "KafkaBroker", "KafkaBrokerConfigList",
        "KafkaBrokerConfig", "KafkaClusterConfigList", "KafkaReplicaList", "KafkaReplica", "KafkaTopicList",
        "KafkaTopic", "KafkaTopicConfigList", "KafkaTopicConfig", "KafkaPartitionList", "KafkaPartition",
        "KafkaReassignmentList", "KafkaConsumerGroupList", "KafkaConsumerGroup", "KafkaConsumerList",
        "KafkaConsumer", "KafkaConsumerAssignmentList", "KafkaConsumerAssignment", "KafkaConsumerLag",
        "KafkaConsumerGroupLagSummary",
    }; /* no KafkaConsumerLagList: nothing links to .../lags, in Confluent's shapes either */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(saw(c, want[i]), "the crawl never reached a %s (%zu URLs visited)", want[i], c->n);
    /* 3 partitions of "crawl": each its partition, replica list, replica, assignment and lag */
    ck_assert_int_ge(c->n, 100);
    for (size_t i = 0; i < c->n; i++)
        free(c->urls[i]);
    for (size_t i = 0; i < c->nkinds; i++)
        free(c->kinds[i]);
    free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_v3_links");
    TCase *tc = tcase_create("links");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_related_and_self_link_resolves);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
