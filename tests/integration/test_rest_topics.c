/* v2 metadata and v3 administration against the real binary: success paths with their exact JSON shapes,
 * and bad input on every endpoint -- each answered with its status and a JSON error body, the server still
 * serving, existing topics intact. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/sluice_proc.h"

static struct sl_proc proc;
static char *cid;

static void setup(void)
{
    setenv("SLUICE_REST_MAX_BODY_BYTES", "65536", 1);
    sl_proc_start(&proc, NULL, NULL);
    cid = sl_proc_cluster_id(&proc);
}

static void teardown(void)
{
    free(cid);
    sl_proc_free(&proc);
}

/* method /v3/clusters/<cid><suffix> with body; returns status and *out. */
static long v3(const char *method, const char *suffix, const char *body, json_t **out)
{
    char path[1024];
    snprintf(path, sizeof path, "/v3/clusters/%s%s", cid, suffix);
    return sl_http_json(&proc, method, path, body, out);
}

static void create_topic(const char *name, int partitions)
{
    char body[256];
    snprintf(body, sizeof body, "{\"topic_name\":\"%s\",\"partitions_count\":%d}", name, partitions);
    json_t *j;
    ck_assert_int_eq(v3("POST", "/topics", body, &j), 201);
    json_decref(j);
}

static void assert_err_json(json_t *j, long st, long want_st, int want_code, const char *what)
{
    ck_assert_msg(st == want_st, "%s: status %ld, want %ld", what, st, want_st);
    ck_assert_msg(j && json_is_object(j), "%s: no JSON error body", what);
    json_int_t code = json_integer_value(json_object_get(j, "error_code"));
    ck_assert_msg(code == want_code, "%s: error_code %lld, want %d (%s)", what, (long long)code, want_code,
                  json_string_value(json_object_get(j, "message")));
    ck_assert_msg(json_is_string(json_object_get(j, "message")), "%s: no message", what);
}

/* The server still serves and topic "keep" is intact. */
static void assert_still_serving(void)
{
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics/keep", NULL, &j), 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "partitions")), 2);
    json_decref(j);
}

START_TEST(v2_metadata_shapes)
{
    create_topic("orders", 3);
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics", NULL, &j), 200);
    ck_assert(json_is_array(j));
    ck_assert_int_eq(json_array_size(j), 1); /* internal topics are not listed */
    ck_assert_str_eq(json_string_value(json_array_get(j, 0)), "orders");
    json_decref(j);

    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics/orders", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "orders");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "configs"), "cleanup.policy")), "delete");
    json_t *parts = json_object_get(j, "partitions");
    ck_assert_int_eq(json_array_size(parts), 3);
    json_t *p2 = json_array_get(parts, 2);
    ck_assert_int_eq(json_integer_value(json_object_get(p2, "partition")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(p2, "leader")), 1);
    json_t *rep = json_array_get(json_object_get(p2, "replicas"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(rep, "broker")), 1);
    ck_assert(json_is_true(json_object_get(rep, "leader")));
    ck_assert(json_is_true(json_object_get(rep, "in_sync")));
    json_decref(j);

    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics/orders/partitions", NULL, &j), 200);
    ck_assert_int_eq(json_array_size(j), 3);
    json_decref(j);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics/orders/partitions/1", NULL, &j), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "partition")), 1);
    json_decref(j);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics/orders/partitions/1/offsets", NULL, &j), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "beginning_offset")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "end_offset")), 0);
    ck_assert_int_eq(json_object_size(j), 2);
    json_decref(j);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/brokers", NULL, &j), 200);
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(j, "brokers"), 0)), 1);
    json_decref(j);
}
END_TEST

START_TEST(v3_cluster_and_broker_shapes)
{
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/v3/clusters", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaClusterList");
    ck_assert(json_is_null(json_object_get(json_object_get(j, "metadata"), "next")));
    json_t *c = json_array_get(json_object_get(j, "data"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(c, "kind")), "KafkaCluster");
    ck_assert_str_eq(json_string_value(json_object_get(c, "cluster_id")), cid);
    char crn[256];
    snprintf(crn, sizeof crn, "crn:///kafka=%s", cid);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "metadata"), "resource_name")), crn);
    ck_assert(json_is_string(json_object_get(json_object_get(c, "topics"), "related")));
    json_decref(j);

    ck_assert_int_eq(v3("GET", "", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "cluster_id")), cid);
    json_decref(j);
    ck_assert_int_eq(v3("GET", "/brokers", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaBrokerList");
    json_decref(j);
    ck_assert_int_eq(v3("GET", "/brokers/1", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaBroker");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "broker_id")), 1);
    json_decref(j);
}
END_TEST

START_TEST(v3_topic_lifecycle)
{
    json_t *j;
    const char *body = "{\"topic_name\":\"events\",\"partitions_count\":2,\"replication_factor\":1,"
                       "\"configs\":[{\"name\":\"retention.ms\",\"value\":\"3600000\"}]}";
    ck_assert_int_eq(v3("POST", "/topics", body, &j), 201);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaTopic");
    ck_assert_str_eq(json_string_value(json_object_get(j, "topic_name")), "events");
    ck_assert_str_eq(json_string_value(json_object_get(j, "cluster_id")), cid);
    ck_assert(json_is_false(json_object_get(j, "is_internal")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "replication_factor")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "partitions_count")), 2);
    char self[512];
    snprintf(self, sizeof self, "http://127.0.0.1:%u/v3/clusters/%s/topics/events", proc.rest_port, cid);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "metadata"), "self")), self);
    json_decref(j);

    /* validate_only creates nothing */
    ck_assert_int_eq(v3("POST", "/topics", "{\"topic_name\":\"ghost\",\"validate_only\":true}", &j), 200);
    json_decref(j);
    ck_assert_int_eq(v3("GET", "/topics/ghost", NULL, &j), 404);
    json_decref(j);

    ck_assert_int_eq(v3("GET", "/topics", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaTopicList");
    ck_assert_int_eq(json_array_size(json_object_get(j, "data")), 2); /* events + __consumer_offsets */
    json_decref(j);

    ck_assert_int_eq(v3("PATCH", "/topics/events", "{\"partitions_count\":4}", &j), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "partitions_count")), 4);
    json_decref(j);
    ck_assert_int_eq(v3("GET", "/topics/events/partitions", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaPartitionList");
    ck_assert_int_eq(json_array_size(json_object_get(j, "data")), 4);
    json_decref(j);
    ck_assert_int_eq(v3("GET", "/topics/events/partitions/3", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaPartition");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "partition_id")), 3);
    ck_assert(json_is_string(json_object_get(json_object_get(j, "leader"), "related")));
    json_decref(j);

    ck_assert_int_eq(v3("DELETE", "/topics/events", NULL, NULL), 204);
    ck_assert_int_eq(v3("GET", "/topics/events", NULL, &j), 404);
    json_decref(j);
}
END_TEST

START_TEST(v3_topic_configs)
{
    create_topic("cfg", 1);
    json_t *j;
    ck_assert_int_eq(v3("GET", "/topics/cfg/configs", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaTopicConfigList");
    /* every standard Kafka topic config (server/topic_cfg.c), not only the 6 sluice honours */
    ck_assert_int_eq(json_array_size(json_object_get(j, "data")), 34);
    json_decref(j);

    ck_assert_int_eq(v3("GET", "/topics/cfg/configs/retention.ms", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaTopicConfig");
    ck_assert(json_is_true(json_object_get(j, "is_default")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "source")), "DEFAULT_CONFIG");
    json_decref(j);

    ck_assert_int_eq(v3("PUT", "/topics/cfg/configs/retention.ms", "{\"value\":\"1000\"}", NULL), 204);
    ck_assert_int_eq(v3("GET", "/topics/cfg/configs/retention.ms", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "value")), "1000");
    ck_assert(json_is_false(json_object_get(j, "is_default")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "source")), "DYNAMIC_TOPIC_CONFIG");
    json_decref(j);

    ck_assert_int_eq(v3("POST", "/topics/cfg/configs:alter",
                        "{\"data\":[{\"name\":\"retention.ms\",\"operation\":\"DELETE\"},"
                        "{\"name\":\"segment.bytes\",\"value\":\"1048576\"}]}",
                        NULL),
                     204);
    ck_assert_int_eq(v3("GET", "/topics/cfg/configs/retention.ms", NULL, &j), 200);
    ck_assert(json_is_true(json_object_get(j, "is_default")));
    json_decref(j);
    ck_assert_int_eq(v3("GET", "/topics/cfg/configs/segment.bytes", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "value")), "1048576");
    json_decref(j);
    ck_assert_int_eq(v3("DELETE", "/topics/cfg/configs/segment.bytes", NULL, NULL), 204);
    ck_assert_int_eq(v3("GET", "/topics/cfg/configs/segment.bytes", NULL, &j), 200);
    ck_assert(json_is_true(json_object_get(j, "is_default")));
    json_decref(j);
}
END_TEST

START_TEST(topics_survive_a_restart)
{
    create_topic("durable", 2);
    ck_assert_int_eq(v3("PUT", "/topics/durable/configs/retention.ms", "{\"value\":\"5000\"}", NULL), 204);
    sl_proc_restart(&proc, false);
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics/durable", NULL, &j), 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "partitions")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "configs"), "retention.ms")), "5000");
    json_decref(j);
}
END_TEST

/* One bad request: method, path (v3 paths start with "~" for /v3/clusters/<cid>), body, expected status and
 * error_code. */
struct bad {
    const char *method, *path, *body;
    long status;
    int code;
};

static const struct bad bads[] = {
    /* v2 metadata */
    {"GET", "/topics/nope", NULL, 404, 40401},
    {"GET", "/topics/%2E%2E", NULL, 404, 40401}, /* curl would fold a literal ".." */
    {"GET", "/topics/a%2F..%2Fx", NULL, 404, 404},
    {"GET", "/topics/nope/partitions", NULL, 404, 40401},
    {"GET", "/topics/keep/partitions/2", NULL, 404, 40402},
    {"GET", "/topics/keep/partitions/-1", NULL, 404, 40402},
    {"GET", "/topics/keep/partitions/x", NULL, 404, 40402},
    {"GET", "/topics/keep/partitions/99999999999", NULL, 404, 40402},
    {"GET", "/topics/nope/partitions/0/offsets", NULL, 404, 40401},
    {"GET", "/topics/keep/partitions/7/offsets", NULL, 404, 40402},
    {"DELETE", "/brokers", NULL, 405, 405},
    /* v3 clusters and brokers */
    {"GET", "/v3/clusters/not-this-one", NULL, 404, 404},
    {"GET", "/v3/clusters/not-this-one/topics", NULL, 404, 404},
    {"GET", "~/brokers/7", NULL, 404, 404},
    {"GET", "~/brokers/x", NULL, 404, 404},
    /* v3 create */
    {"POST", "/v3/clusters/not-this-one/topics", "{\"topic_name\":\"x\"}", 404, 404},
    {"POST", "~/topics", "{\"topic_name\":", 400, 400},
    {"POST", "~/topics", "", 400, 400},
    {"POST", "~/topics", "[1,2]", 400, 400},
    {"POST", "~/topics", "{}", 400, 400},
    {"POST", "~/topics", "{\"topic_name\":5}", 400, 400},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"partitions_count\":\"3\"}", 400, 400},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"validate_only\":\"yes\"}", 400, 400},
    {"POST", "~/topics", "{\"topic_name\":\"../x\"}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"..\"}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"\"}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"a b\"}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"partitions_count\":-1}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"partitions_count\":0}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"partitions_count\":1000000}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"replication_factor\":3}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"replication_factor\":0}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"configs\":[{\"name\":\"cleanup.policy\",\"value\":\"compact\"}]}",
     400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"configs\":[{\"name\":\"no.such\",\"value\":\"1\"}]}", 400, 40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"configs\":[{\"name\":\"retention.ms\",\"value\":\"abc\"}]}", 400,
     40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"configs\":{}}", 400, 400},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"configs\":[{\"value\":\"1\"}]}", 400, 400},
    {"POST", "~/topics", "{\"topic_name\":\"keep\"}", 400, 40002},
    /* bounds where a tiny value is an attack (one segment file per produce) */
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"configs\":[{\"name\":\"segment.bytes\",\"value\":\"14\"}]}", 400,
     40002},
    {"POST", "~/topics", "{\"topic_name\":\"x\",\"configs\":[{\"name\":\"segment.ms\",\"value\":\"1\"}]}", 400,
     40002},
    {"PUT", "~/topics/keep/configs/segment.bytes", "{\"value\":\"1048575\"}", 400, 40002},
    {"PUT", "~/topics/keep/configs/segment.ms", "{\"value\":\"59999\"}", 400, 40002},
    {"POST", "~/topics/keep/configs:alter",
     "{\"data\":[{\"name\":\"retention.ms\",\"value\":\"5\"},{\"name\":\"segment.bytes\",\"value\":\"14\"}]}",
     400, 40002},
    /* v3 topic */
    {"GET", "~/topics/nope", NULL, 404, 40401},
    {"GET", "~/topics/%2E%2E", NULL, 404, 40401},
    {"PATCH", "~/topics/nope", "{\"partitions_count\":3}", 404, 40401},
    {"PATCH", "~/topics/keep", "{\"partitions_count\":1}", 400, 40002},
    {"PATCH", "~/topics/keep", "{\"partitions_count\":\"9\"}", 400, 400},
    {"PATCH", "~/topics/keep", "{}", 400, 400},
    {"PATCH", "~/topics/keep", "{oops", 400, 400},
    {"DELETE", "~/topics/nope", NULL, 404, 40401},
    /* internal topics belong to the broker */
    {"DELETE", "~/topics/__consumer_offsets", NULL, 403, 40301},
    {"PATCH", "~/topics/__consumer_offsets", "{\"partitions_count\":4}", 403, 40301},
    {"PUT", "~/topics/__consumer_offsets/configs/retention.ms", "{\"value\":\"1\"}", 403, 40301},
    {"DELETE", "~/topics/__consumer_offsets/configs/retention.ms", NULL, 403, 40301},
    {"POST", "~/topics/__consumer_offsets/configs:alter", "{\"data\":[{\"name\":\"retention.ms\",\"value\":\"1\"}]}",
     403, 40301},
    {"POST", "~/topics", "{\"topic_name\":\"__mine\"}", 403, 40301},
    {"POST", "/topics/__consumer_offsets", "{\"records\":[{\"value\":\"Zm9yZ2Vk\"}]}", 403, 40301},
    {"POST", "/topics/__consumer_offsets/partitions/0", "{\"records\":[{\"value\":\"Zm9yZ2Vk\"}]}", 403, 40301},
    {"POST", "~/topics/__consumer_offsets/records", "{\"value\":{\"type\":\"JSON\",\"data\":1}}", 403, 40301},
    {"PUT", "~/topics/keep", NULL, 405, 405},
    /* v3 configs */
    {"GET", "~/topics/nope/configs", NULL, 404, 40401},
    {"GET", "~/topics/keep/configs/no.such", NULL, 404, 404},
    {"GET", "~/topics/nope/configs/retention.ms", NULL, 404, 40401},
    {"PUT", "~/topics/keep/configs/retention.ms", "{\"value\":7}", 400, 400},
    {"PUT", "~/topics/keep/configs/retention.ms", "{}", 400, 400},
    {"PUT", "~/topics/keep/configs/retention.ms", "{\"value\":\"-5x\"}", 400, 40002},
    {"PUT", "~/topics/keep/configs/cleanup.policy", "{\"value\":\"compact\"}", 400, 40002},
    {"PUT", "~/topics/keep/configs/no.such", "{\"value\":\"1\"}", 404, 404},
    {"PUT", "~/topics/nope/configs/retention.ms", "{\"value\":\"1\"}", 404, 40401},
    {"DELETE", "~/topics/keep/configs/no.such", NULL, 404, 404},
    {"POST", "~/topics/keep/configs:alter", "{}", 400, 400},
    {"POST", "~/topics/keep/configs:alter", "{\"data\":{}}", 400, 400},
    {"POST", "~/topics/keep/configs:alter", "{\"data\":[{\"name\":\"retention.ms\"}]}", 400, 400},
    {"POST", "~/topics/keep/configs:alter", "{\"data\":[{\"name\":\"retention.ms\",\"operation\":\"BOOM\"}]}", 400,
     400},
    {"POST", "~/topics/keep/configs:alter",
     "{\"data\":[{\"name\":\"retention.ms\",\"value\":\"5\"},{\"name\":\"cleanup.policy\",\"value\":\"compact\"}]}",
     400, 40002},
    {"POST", "~/topics/keep/configs:alter", "[", 400, 400},
    {"POST", "~/topics/nope/configs:alter", "{\"data\":[]}", 404, 40401},
    /* issue 12: unknown members are refused, never ignored (nothing created or changed: checked below) */
    {"POST", "~/topics", "{\"topic_name\":\"typo\",\"partition_count\":3}", 400, 400},
    {"POST", "~/topics", "{\"topic_name\":\"typo\",\"configs\":[{\"name\":\"retention.ms\",\"valeu\":\"1\"}]}", 400,
     400},
    {"PATCH", "~/topics/keep", "{\"partitions_count\":3,\"validate_only\":true}", 400, 400},
    {"PUT", "~/topics/keep/configs/retention.ms", "{\"value\":\"5\",\"operation\":\"SET\"}", 400, 400},
    {"POST", "~/topics/keep/configs:alter", "{\"data\":[{\"name\":\"retention.ms\",\"vaule\":\"5\"}]}", 400, 400},
    {"POST", "~/topics/keep/configs:alter", "{\"data\":[],\"dry_run\":true}", 400, 400},
    {"GET", "~/topics/typo", NULL, 404, 40401},
    /* v3 partitions */
    {"GET", "~/topics/nope/partitions", NULL, 404, 40401},
    {"GET", "~/topics/keep/partitions/2", NULL, 404, 40402},
    {"GET", "~/topics/keep/partitions/-3", NULL, 404, 40402},
};

START_TEST(bad_input_on_every_endpoint)
{
    create_topic("keep", 2);
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const struct bad *b = &bads[i];
        char path[1024], what[1200];
        if (b->path[0] == '~')
            snprintf(path, sizeof path, "/v3/clusters/%s%s", cid, b->path + 1);
        else
            snprintf(path, sizeof path, "%s", b->path);
        snprintf(what, sizeof what, "%s %s %s", b->method, path, b->body ? b->body : "");
        json_t *j = NULL;
        long st = sl_http_json(&proc, b->method, path, b->body, &j);
        assert_err_json(j, st, b->status, b->code, what);
        json_decref(j);
        assert_still_serving();
    }
    /* the rejected alter applied nothing */
    json_t *j;
    ck_assert_int_eq(v3("GET", "/topics/keep/configs/retention.ms", NULL, &j), 200);
    ck_assert(json_is_true(json_object_get(j, "is_default")));
    json_decref(j);
    ck_assert_int_eq(v3("GET", "/topics/keep", NULL, &j), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "partitions_count")), 2);
    json_decref(j);
    /* validate_only on a batch alter checks and applies nothing */
    ck_assert_int_eq(v3("POST", "/topics/keep/configs:alter",
                        "{\"data\":[{\"name\":\"retention.ms\",\"value\":\"5000\"}],\"validate_only\":true}", &j),
                     204);
    json_decref(j);
    ck_assert_int_eq(v3("GET", "/topics/keep/configs/retention.ms", NULL, &j), 200);
    ck_assert(json_is_true(json_object_get(j, "is_default")));
    json_decref(j);
}
END_TEST

START_TEST(compact_is_rejected_with_a_clear_message)
{
    json_t *j;
    long st = v3("POST", "/topics",
                 "{\"topic_name\":\"c\",\"configs\":[{\"name\":\"cleanup.policy\",\"value\":\"compact\"}]}", &j);
    assert_err_json(j, st, 400, 40002, "compact");
    ck_assert_msg(strstr(json_string_value(json_object_get(j, "message")), "compact"), "message: %s",
                  json_string_value(json_object_get(j, "message")));
    json_decref(j);
    st = v3("POST", "/topics", "{\"topic_name\":\"r\",\"replication_factor\":3}", &j);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "1 node"));
    json_decref(j);
}
END_TEST

START_TEST(wrong_content_type_is_415_and_big_body_413)
{
    create_topic("keep", 2);
    char url[1024];
    snprintf(url, sizeof url, "%s/v3/clusters/%s/topics", proc.base, cid);
    struct sl_resp r;
    sl_http_req("POST", url, "application/x-www-form-urlencoded", "topic_name=x", (size_t)-1, NULL, &r);
    json_t *j = sl_resp_json(&r);
    assert_err_json(j, r.status, 415, 415, "form body");
    json_decref(j);
    sl_resp_fini(&r);
    sl_http_req("POST", url, "text/plain", "{\"topic_name\":\"x\"}", (size_t)-1, NULL, &r);
    j = sl_resp_json(&r);
    assert_err_json(j, r.status, 415, 415, "text/plain");
    json_decref(j);
    sl_resp_fini(&r);

    size_t n = 100000;
    char *big = malloc(n + 1);
    snprintf(big, n, "{\"topic_name\":\"x\",\"pad\":\"");
    size_t l = strlen(big);
    memset(big + l, 'a', n - l - 2);
    big[n - 2] = '"';
    big[n - 1] = '}';
    big[n] = '\0';
    sl_http_req("POST", url, "application/json", big, n, NULL, &r);
    j = sl_resp_json(&r);
    assert_err_json(j, r.status, 413, 413, "big body");
    json_decref(j);
    sl_resp_fini(&r);
    free(big);
    assert_still_serving();
    ck_assert_int_eq(v3("GET", "/topics/x", NULL, NULL), 404);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_topics");
    TCase *tc = tcase_create("topics");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, v2_metadata_shapes);
    tcase_add_test(tc, v3_cluster_and_broker_shapes);
    tcase_add_test(tc, v3_topic_lifecycle);
    tcase_add_test(tc, v3_topic_configs);
    tcase_add_test(tc, topics_survive_a_restart);
    tcase_add_test(tc, bad_input_on_every_endpoint);
    tcase_add_test(tc, compact_is_rejected_with_a_clear_message);
    tcase_add_test(tc, wrong_content_type_is_415_and_big_body_413);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
