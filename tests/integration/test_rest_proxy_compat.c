/* The Confluent REST Proxy's own integration tests, translated case by case against the real binary
 * (public repository confluentinc/kafka-rest, kafka-rest/src/test/java/io/confluent/kafkarest/integration/).
 * Each test is named after the Java test it translates; the comment above each group names the class.
 * Where sluice deliberately differs, the test asserts sluice's documented behaviour and says so
 * (README, "Differences from the Confluent REST Proxy"). Kafka-side checks of the Java tests (reading the
 * record with a Kafka consumer) are made through sluice's own read API. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/sluice_proc.h"

#define V2 "application/vnd.kafka.v2+json"
#define BIN "application/vnd.kafka.binary.v2+json"
#define AJ "application/json"
#define UNKNOWN_TOPIC 40401 /* see getTopic_nonExistingTopic_returnsNotFound */

static struct sl_proc proc;
static char *cid;

/* One exchange: status, Content-Type (media type only) and the parsed body (NULL when not JSON). */
struct ex {
    long status;
    char ctype[128];
    json_t *j;
    size_t len;
};

static struct ex req(const char *method, const char *path, const char *ctype, const char *body, const char *accept)
{
    char url[1024], hdr[160];
    snprintf(url, sizeof url, "%s%s", proc.base, path);
    const char *hdrs[] = {hdr, NULL};
    snprintf(hdr, sizeof hdr, "Accept: %s", accept ? accept : "*/*");
    struct sl_resp r;
    struct ex e = {0};
    e.status = sl_http_req(method, url, ctype, body, (size_t)-1, hdrs, &r);
    char ct[128];
    if (sl_resp_header(&r, "Content-Type", ct, sizeof ct))
        snprintf(e.ctype, sizeof e.ctype, "%.*s", (int)strcspn(ct, ";"), ct);
    e.j = sl_resp_json(&r);
    e.len = r.len;
    sl_resp_fini(&r);
    return e;
}

/* v3 path under this cluster (or under "foobar" when other is set). */
static const char *v3p(const char *suffix, bool other)
{
    static char path[1024];
    snprintf(path, sizeof path, "/v3/clusters/%s%s", other ? "foobar" : cid, suffix);
    return path;
}

static void expect(struct ex e, long status, int code, const char *ctype)
{
    ck_assert_msg(e.status == status, "status %ld, want %ld", e.status, status);
    if (ctype)
        ck_assert_str_eq(e.ctype, ctype);
    if (code) {
        ck_assert_msg(e.j, "no JSON body");
        ck_assert_int_eq(json_integer_value(json_object_get(e.j, "error_code")), code);
        ck_assert(json_is_string(json_object_get(e.j, "message")));
    }
    json_decref(e.j);
}

static void create_topic(const char *name)
{
    char body[256];
    snprintf(body, sizeof body, "{\"topic_name\":\"%s\",\"partitions_count\":1,\"replication_factor\":1}", name);
    expect(req("POST", v3p("/topics", false), AJ, body, AJ), 201, 0, AJ);
}

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
    cid = sl_proc_cluster_id(&proc);
    create_topic("topic-1");
    create_topic("topic-2");
    create_topic("topic-3");
}

static void teardown(void)
{
    free(cid);
    sl_proc_free(&proc);
}

static bool topic_exists(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/topics/%s", name);
    struct ex e = req("GET", path, NULL, NULL, NULL);
    json_decref(e.j);
    return e.status == 200;
}

/* The TopicData object of the Java tests, field by field. */
static void assert_topic_data(json_t *t, const char *name)
{
    char want[512];
    ck_assert_str_eq(json_string_value(json_object_get(t, "kind")), "KafkaTopic");
    snprintf(want, sizeof want, "%s/v3/clusters/%s/topics/%s", proc.base, cid, name);
    json_t *md = json_object_get(t, "metadata");
    ck_assert_str_eq(json_string_value(json_object_get(md, "self")), want);
    snprintf(want, sizeof want, "crn:///kafka=%s/topic=%s", cid, name);
    ck_assert_str_eq(json_string_value(json_object_get(md, "resource_name")), want);
    ck_assert_str_eq(json_string_value(json_object_get(t, "cluster_id")), cid);
    ck_assert_str_eq(json_string_value(json_object_get(t, "topic_name")), name);
    ck_assert(json_is_false(json_object_get(t, "is_internal")));
    ck_assert_int_eq(json_integer_value(json_object_get(t, "replication_factor")), 1);
    static const char *const rel[][2] = {{"partitions", "/partitions"}, {"configs", "/configs"},
                                         {"partition_reassignments", "/partitions/-/reassignment"}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(want, sizeof want, "%s/v3/clusters/%s/topics/%s%s", proc.base, cid, name, rel[i][1]);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(t, rel[i][0]), "related")), want);
    }
}

/* ---- v3/TopicsResourceIntegrationTest ---- */

START_TEST(listTopics_existingCluster_returnsTopics)
{
    struct ex e = req("GET", v3p("/topics", false), NULL, NULL, AJ);
    ck_assert_int_eq(e.status, 200);
    char self[512];
    snprintf(self, sizeof self, "%s/v3/clusters/%s/topics", proc.base, cid);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e.j, "metadata"), "self")), self);
    /* Difference (README): sluice lists its internal topic __consumer_offsets too (is_internal true), which
     * exists from the start; the Java cluster had not created it yet. The user topics come in name order. */
    json_t *data = json_object_get(e.j, "data"), *t;
    size_t i, n = 0;
    json_array_foreach(data, i, t) {
        if (json_is_true(json_object_get(t, "is_internal"))) {
            ck_assert_str_eq(json_string_value(json_object_get(t, "topic_name")), "__consumer_offsets");
            continue;
        }
        char name[16];
        snprintf(name, sizeof name, "topic-%zu", ++n);
        assert_topic_data(t, name);
    }
    ck_assert_int_eq(n, 3);
    json_decref(e.j);
}
END_TEST

START_TEST(listTopics_nonExistingCluster_returnsNotFound)
{
    expect(req("GET", v3p("/topics", true), NULL, NULL, AJ), 404, 404, AJ);
}
END_TEST

START_TEST(getTopic_existingClusterExistingTopic_returnsTopic)
{
    struct ex e = req("GET", v3p("/topics/topic-1", false), NULL, NULL, AJ);
    ck_assert_int_eq(e.status, 200);
    assert_topic_data(e.j, "topic-1");
    json_decref(e.j);
}
END_TEST

START_TEST(getTopic_nonExistingCluster_returnsNotFound)
{
    expect(req("GET", v3p("/topics/topic-1", true), NULL, NULL, AJ), 404, 404, AJ);
}
END_TEST

START_TEST(getTopic_nonExistingTopic_returnsNotFound)
{
    /* Difference (README): sluice's error_code for an unknown topic is 40401 on v2 and v3 alike (Confluent's
     * v3 says 40403, UNKNOWN_TOPIC_OR_PARTITION); the status, 404, is the same */
    expect(req("GET", v3p("/topics/foobar", false), NULL, NULL, AJ), 404, UNKNOWN_TOPIC, AJ);
}
END_TEST

START_TEST(createTopic_nonExistingTopic_returnsCreatedTopic)
{
    struct ex e = req("POST", v3p("/topics", false), AJ,
                      "{\"topic_name\":\"topic-4\",\"partitions_count\":1,\"replication_factor\":1}", AJ);
    ck_assert_int_eq(e.status, 201);
    assert_topic_data(e.j, "topic-4");
    json_decref(e.j);
    ck_assert(topic_exists("topic-4"));
}
END_TEST

START_TEST(createTopic_existingTopic_returnsBadRequest)
{
    /* the Java body is well-formed here (its stray backslash makes it a parse error, also 400) */
    expect(req("POST", v3p("/topics", false), AJ,
               "{\"topic_name\":\"topic-1\",\"partitions_count\":1,\"replication_factor\":1}", AJ), 400, 40002, AJ);
    expect(req("POST", v3p("/topics", false), AJ,
               "{\"topic_name\":\"topic-1\",\"partitions_count\":1,\\\"replication_factor\":1}", AJ), 400, 400, AJ);
}
END_TEST

START_TEST(createTopic_nonExistingCluster_returnsNotFound)
{
    expect(req("POST", v3p("/topics", true), AJ,
               "{\"topic_name\":\"topic-4\",\"partitions_count\":1,\"replication_factor\":1}", AJ), 404, 404, AJ);
    ck_assert(!topic_exists("topic-4"));
}
END_TEST

START_TEST(deleteTopic_existingTopic_deletesTopic)
{
    struct ex e = req("DELETE", v3p("/topics/topic-1", false), NULL, NULL, AJ);
    ck_assert_int_eq(e.status, 204);
    ck_assert_uint_eq(e.len, 0);
    ck_assert(!topic_exists("topic-1"));
}
END_TEST

START_TEST(deleteTopic_nonExistingTopic_returnsNotFound)
{
    expect(req("DELETE", v3p("/topics/foobar", false), NULL, NULL, AJ), 404, UNKNOWN_TOPIC, AJ);
}
END_TEST

START_TEST(deleteTopic_nonExistingCluster_returnsNotFound)
{
    expect(req("DELETE", v3p("/topics/topic-1", true), NULL, NULL, AJ), 404, 404, AJ);
    ck_assert(topic_exists("topic-1"));
}
END_TEST

START_TEST(deleteTopic_nonExistingCluster_noContentType_returnsNotFound)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", proc.base, v3p("/topics/topic-1", true));
    struct sl_resp r;
    ck_assert_int_eq(sl_http_req("DELETE", url, NULL, NULL, 0, NULL, &r), 404);
    sl_resp_fini(&r);
}
END_TEST

START_TEST(createAndDelete_nonExisting_returnsNotFoundCreatedAndNotFound)
{
    expect(req("GET", v3p("/topics/topic-4", false), NULL, NULL, AJ), 404, UNKNOWN_TOPIC, AJ);
    /* Difference (README): the Java test creates the topic with cleanup.policy=compact; sluice has no
     * compaction and refuses it, naming the config, and creates nothing */
    struct ex e = req("POST", v3p("/topics", false), AJ,
                      "{\"topic_name\":\"topic-4\",\"partitions_count\":1,\"replication_factor\":1,"
                      "\"configs\":[{\"name\":\"cleanup.policy\",\"value\":\"compact\"}]}", AJ);
    ck_assert_int_eq(e.status, 400);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e.j, "message")), "cleanup.policy"));
    json_decref(e.j);
    ck_assert(!topic_exists("topic-4"));
    /* the rest of the case with a config sluice honours */
    e = req("POST", v3p("/topics", false), AJ,
            "{\"topic_name\":\"topic-4\",\"partitions_count\":1,\"replication_factor\":1,"
            "\"configs\":[{\"name\":\"retention.ms\",\"value\":\"3600000\"}]}", AJ);
    ck_assert_int_eq(e.status, 201);
    assert_topic_data(e.j, "topic-4");
    json_decref(e.j);
    e = req("GET", v3p("/topics/topic-4/configs/retention.ms", false), NULL, NULL, AJ);
    ck_assert_int_eq(e.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(e.j, "value")), "3600000");
    ck_assert(json_is_false(json_object_get(e.j, "is_default")));
    ck_assert(json_is_false(json_object_get(e.j, "is_read_only")));
    ck_assert_str_eq(json_string_value(json_object_get(e.j, "source")), "DYNAMIC_TOPIC_CONFIG");
    json_t *syn0 = json_array_get(json_object_get(e.j, "synonyms"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(syn0, "name")), "retention.ms");
    ck_assert_str_eq(json_string_value(json_object_get(syn0, "source")), "DYNAMIC_TOPIC_CONFIG");
    json_decref(e.j);
    e = req("DELETE", v3p("/topics/topic-4", false), NULL, NULL, AJ);
    ck_assert_int_eq(e.status, 204);
    ck_assert_uint_eq(e.len, 0);
    expect(req("GET", v3p("/topics/topic-4", false), NULL, NULL, AJ), 404, UNKNOWN_TOPIC, AJ);
}
END_TEST

/* ---- JsonParsingErrorTest ---- */

START_TEST(unparseableRequestReturnsBadRequest)
{
    expect(req("POST", v3p("/topics", false), AJ, "foobar", AJ), 400, 400, AJ);
}
END_TEST

START_TEST(invalidRequestReturnsBadRequest)
{
    expect(req("POST", v3p("/topics", false), AJ, "{}", AJ), 400, 400, AJ);
}
END_TEST

/* ---- v3/ProduceActionIntegrationTest (topic-1 has 1 partition here, 3 in Java: the offsets read back are
 * in partition 0) ---- */

/* Produces body to topic-1 and reads the stored record back through v2 records (binary); returns it. */
static json_t *produce_and_read(const char *body)
{
    struct ex e = req("POST", v3p("/topics/topic-1/records", false), AJ, body, AJ);
    ck_assert_int_eq(e.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(e.j, "error_code")), 200);
    json_int_t off = json_integer_value(json_object_get(e.j, "offset"));
    ck_assert_int_eq(json_integer_value(json_object_get(e.j, "partition_id")), 0);
    json_decref(e.j);
    char path[256];
    snprintf(path, sizeof path, "/topics/topic-1/partitions/0/records?offset=%lld&max_bytes=1", (long long)off);
    e = req("GET", path, NULL, NULL, BIN);
    ck_assert_int_eq(e.status, 200);
    json_t *rec = json_incref(json_array_get(e.j, 0));
    json_decref(e.j);
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(json_integer_value(json_object_get(rec, "offset")), off);
    return rec;
}

START_TEST(produceBinary)
{
    json_t *r = produce_and_read("{\"key\":{\"type\":\"BINARY\",\"data\":\"Zm9v\"},"
                                 "\"value\":{\"type\":\"BINARY\",\"data\":\"YmFy\"}}");
    ck_assert_str_eq(json_string_value(json_object_get(r, "key")), "Zm9v");   /* foo */
    ck_assert_str_eq(json_string_value(json_object_get(r, "value")), "YmFy"); /* bar */
    json_decref(r);
}
END_TEST

START_TEST(produceBinaryWithNullData)
{
    json_t *r = produce_and_read("{\"key\":{\"type\":\"BINARY\",\"data\":null},"
                                 "\"value\":{\"type\":\"BINARY\",\"data\":null}}");
    ck_assert(json_is_null(json_object_get(r, "key")));
    ck_assert(json_is_null(json_object_get(r, "value")));
    json_decref(r);
}
END_TEST

START_TEST(produceBinaryWithInvalidData_throwsBadRequest)
{
    /* HTTP 200, the error in the body (the Java test asserts exactly that), nothing stored */
    expect(req("POST", v3p("/topics/topic-1/records", false), AJ,
               "{\"key\":{\"type\":\"BINARY\",\"data\":1},\"value\":{\"type\":\"BINARY\",\"data\":\"fooba\"}}", AJ),
           200, 400, AJ);
    struct ex e = req("GET", "/topics/topic-1/partitions/0/offsets", NULL, NULL, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(e.j, "end_offset")), 0);
    json_decref(e.j);
}
END_TEST

START_TEST(produceJson)
{
    json_t *r = produce_and_read("{\"key\":{\"type\":\"JSON\",\"data\":\"foo\"},"
                                 "\"value\":{\"type\":\"JSON\",\"data\":\"bar\"}}");
    ck_assert_str_eq(json_string_value(json_object_get(r, "key")), "ImZvbyI=");   /* "foo" */
    ck_assert_str_eq(json_string_value(json_object_get(r, "value")), "ImJhciI="); /* "bar" */
    json_decref(r);
}
END_TEST

START_TEST(produceJsonWithNullData)
{
    json_t *r = produce_and_read("{\"key\":{\"type\":\"JSON\",\"data\":null},"
                                 "\"value\":{\"type\":\"JSON\",\"data\":null}}");
    ck_assert(json_is_null(json_object_get(r, "key")));
    ck_assert(json_is_null(json_object_get(r, "value")));
    json_decref(r);
}
END_TEST

/* ---- AbstractConsumerTest / ConsumerBinaryTest (v2 consumer instances; media types checked as
 * TestUtils.assertOKResponse / assertErrorResponse check them) ---- */

static struct ex create_instance(const char *body)
{
    return req("POST", "/consumers/testconsumergroup", V2, body, NULL);
}

START_TEST(testConsumeOnlyValues_createAndDelete)
{
    struct ex e = create_instance("{\"name\":\"c1\",\"format\":\"binary\"}");
    ck_assert_int_eq(e.status, 200);
    ck_assert_str_eq(e.ctype, V2);
    ck_assert_str_eq(json_string_value(json_object_get(e.j, "instance_id")), "c1");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e.j, "base_uri")), "c1"));
    json_decref(e.j);
    /* startConsumeMessages: an empty first read, in the requested embedded type */
    expect(req("POST", "/consumers/testconsumergroup/instances/c1/subscription", V2, "{\"topics\":[\"topic-1\"]}",
               NULL), 204, 0, NULL);
    e = req("GET", "/consumers/testconsumergroup/instances/c1/records?timeout=100", NULL, NULL, BIN);
    ck_assert_int_eq(e.status, 200);
    ck_assert_str_eq(e.ctype, BIN);
    ck_assert_int_eq(json_array_size(e.j), 0);
    json_decref(e.j);
    /* commitOffsets and deleteConsumer */
    expect(req("POST", "/consumers/testconsumergroup/instances/c1/offsets", V2, NULL, NULL), 200, 0, V2);
    e = req("DELETE", "/consumers/testconsumergroup/instances/c1", V2, NULL, NULL);
    ck_assert_int_eq(e.status, 204);
    /* consumeForNotFoundError: the error in the requested type */
    expect(req("GET", "/consumers/testconsumergroup/instances/c1/records", NULL, NULL, BIN), 404, 40403, BIN);
}
END_TEST

START_TEST(testDuplicateConsumerID)
{
    struct ex e = create_instance("{\"name\":\"dup\",\"format\":\"binary\"}");
    ck_assert_int_eq(e.status, 200);
    json_decref(e.j);
    expect(create_instance("{\"name\":\"dup\",\"format\":\"binary\"}"), 409, 40902, V2);
}
END_TEST

START_TEST(testInvalidConsumerConfig)
{
    expect(create_instance("{\"name\":\"bad\",\"format\":\"bogus\"}"), 422, 42204, V2);
    expect(create_instance("{\"name\":\"bad\",\"auto.offset.reset\":\"bogus\"}"), 422, 42204, V2);
    expect(req("DELETE", "/consumers/testconsumergroup/instances/bad", V2, NULL, NULL), 404, 40403, V2);
}
END_TEST

/* ---- MetadataAPITest / ProducerTest (v2 metadata and produce errors, in the negotiated type) ---- */

START_TEST(testTopicsList_and_errors_in_negotiated_type)
{
    struct ex e = req("GET", "/topics", NULL, NULL, NULL);
    ck_assert_int_eq(e.status, 200);
    ck_assert_str_eq(e.ctype, V2);
    ck_assert_int_eq(json_array_size(e.j), 3);
    json_decref(e.j);
    expect(req("GET", "/topics/nonexistenttopic", NULL, NULL, NULL), 404, 40401, V2);
    expect(req("GET", "/topics/nonexistenttopic", NULL, NULL, AJ), 404, 40401, AJ);
    expect(req("GET", "/topics/topic-1/partitions/1000", NULL, NULL, V2), 404, 40402, V2);
    expect(req("POST", "/topics/nonexistenttopic", BIN, "{\"records\":[{\"value\":\"YQ==\"}]}", NULL), 404, 40401,
           V2);
    expect(req("POST", "/topics/topic-1/partitions/1000", BIN, "{\"records\":[{\"value\":\"YQ==\"}]}", NULL), 404,
           40402, V2);
    /* a body error on a v2 route: 422 in the v2 type; v3 errors stay application/json */
    expect(req("POST", "/topics/topic-1", BIN, "{\"records\":[]}", NULL), 422, 0, V2);
    expect(req("GET", v3p("/topics/nope", false), NULL, NULL, V2), 404, UNKNOWN_TOPIC, AJ);
    e = req("GET", "/brokers", NULL, NULL, NULL);
    ck_assert_str_eq(e.ctype, V2);
    ck_assert_int_eq(json_array_size(json_object_get(e.j, "brokers")), 1);
    json_decref(e.j);
}
END_TEST

/* v3/TopicsResourceIntegrationTest (later versions): updating the partition count to the current one is
 * Kafka's InvalidPartitionsException, 400. */
START_TEST(updatePartitionCount_sameCount_returnsBadRequest)
{
    expect(req("PATCH", v3p("/topics/topic-1", false), AJ, "{\"partitions_count\":1}", AJ), 400, 40002, AJ);
    struct ex e = req("PATCH", v3p("/topics/topic-1", false), AJ, "{\"partitions_count\":2}", AJ);
    ck_assert_int_eq(e.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(e.j, "partitions_count")), 2);
    json_decref(e.j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_proxy_compat");
    TCase *tc = tcase_create("rest_proxy_compat");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, listTopics_existingCluster_returnsTopics);
    tcase_add_test(tc, listTopics_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, getTopic_existingClusterExistingTopic_returnsTopic);
    tcase_add_test(tc, getTopic_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, getTopic_nonExistingTopic_returnsNotFound);
    tcase_add_test(tc, createTopic_nonExistingTopic_returnsCreatedTopic);
    tcase_add_test(tc, createTopic_existingTopic_returnsBadRequest);
    tcase_add_test(tc, createTopic_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, deleteTopic_existingTopic_deletesTopic);
    tcase_add_test(tc, deleteTopic_nonExistingTopic_returnsNotFound);
    tcase_add_test(tc, deleteTopic_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, deleteTopic_nonExistingCluster_noContentType_returnsNotFound);
    tcase_add_test(tc, createAndDelete_nonExisting_returnsNotFoundCreatedAndNotFound);
    tcase_add_test(tc, unparseableRequestReturnsBadRequest);
    tcase_add_test(tc, invalidRequestReturnsBadRequest);
    tcase_add_test(tc, produceBinary);
    tcase_add_test(tc, produceBinaryWithNullData);
    tcase_add_test(tc, produceBinaryWithInvalidData_throwsBadRequest);
    tcase_add_test(tc, produceJson);
    tcase_add_test(tc, produceJsonWithNullData);
    tcase_add_test(tc, testConsumeOnlyValues_createAndDelete);
    tcase_add_test(tc, testDuplicateConsumerID);
    tcase_add_test(tc, testInvalidConsumerConfig);
    tcase_add_test(tc, testTopicsList_and_errors_in_negotiated_type);
    tcase_add_test(tc, updatePartitionCount_sameCount_returnsBadRequest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
