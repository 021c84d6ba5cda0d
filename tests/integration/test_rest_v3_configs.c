/* v3 broker configs and topic configs, translated from the Confluent REST Proxy's integration tests
 * (kafka-rest/src/test/java/io/confluent/kafkarest/integration/v3/BrokerConfigsResourceIntegrationTest,
 * ListAllBrokersConfigsActionIntegrationTest, TopicConfigsResourceIntegrationTest): one Check test per Java
 * case, named after it. sluice runs with --node-id 0 (Confluent's broker id) and retention.ms=3600000 given as
 * a flag, so log.retention.ms is a STATIC_BROKER_CONFIG. Where sluice answers differently (broker configs and
 * unhonoured topic configs are read-only, compaction does not exist) the test says so. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/sluice_proc.h"

static struct sl_proc proc;
static char *cid;

static void setup(void)
{
    static const char *const extra[] = {"--node-id", "0", "--set", "retention.ms=3600000", NULL};
    sl_proc_start(&proc, NULL, extra);
    cid = sl_proc_cluster_id(&proc);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"topic-1\",\"partitions_count\":1}", NULL),
                     201);
}

static void teardown(void)
{
    free(cid);
    sl_proc_free(&proc);
}

/* method /v3/clusters/<cluster><suffix> (cluster NULL: this one) with a JSON body; returns the status. */
static long v3(const char *method, const char *cluster, const char *suffix, const char *body, json_t **out)
{
    char path[512];
    snprintf(path, sizeof path, "/v3/clusters/%s%s", cluster ? cluster : cid, suffix);
    return sl_http_json(&proc, method, path, body, out);
}

static json_t *get_ok(const char *suffix)
{
    json_t *j;
    long st = v3("GET", NULL, suffix, NULL, &j);
    ck_assert_msg(st == 200, "GET %s: %ld", suffix, st);
    return j;
}

static json_t *synonym(const char *name, const char *value, const char *source)
{
    return json_pack("{s:s, s:s, s:s}", "name", name, "value", value, "source", source);
}

/* A KafkaBrokerConfig of broker 0 as Confluent's BrokerConfigData renders it; steals synonyms. */
static json_t *broker_config(const char *name, const char *value, bool dflt, const char *source, json_t *synonyms)
{
    char self[512], crn[256];
    snprintf(self, sizeof self, "%s/v3/clusters/%s/brokers/0/configs/%s", proc.base, cid, name);
    snprintf(crn, sizeof crn, "crn:///kafka=%s/broker=0/config=%s", cid, name);
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:i, s:s, s:s, s:b, s:b, s:b, s:s, s:o}", "kind", "KafkaBrokerConfig",
                     "metadata", "self", self, "resource_name", crn, "cluster_id", cid, "broker_id", 0, "name", name,
                     "value", value, "is_default", dflt, "is_read_only", 1, "is_sensitive", 0, "source", source,
                     "synonyms", synonyms);
}

/* A KafkaTopicConfig of topic-1 as Confluent's TopicConfigData renders it; steals synonyms. */
static json_t *topic_config(const char *name, const char *value, bool dflt, bool ro, const char *source,
                            json_t *synonyms)
{
    char self[512], crn[256];
    snprintf(self, sizeof self, "%s/v3/clusters/%s/topics/topic-1/configs/%s", proc.base, cid, name);
    snprintf(crn, sizeof crn, "crn:///kafka=%s/topic=topic-1/config=%s", cid, name);
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:o}", "kind", "KafkaTopicConfig",
                     "metadata", "self", self, "resource_name", crn, "cluster_id", cid, "topic_name", "topic-1", "name",
                     name, "value", value, "is_default", dflt, "is_read_only", ro, "is_sensitive", 0, "source", source,
                     "synonyms", synonyms);
}

/* j equals want (which is freed). */
static void assert_equal(json_t *j, json_t *want)
{
    char *a = json_dumps(j, JSON_SORT_KEYS), *b = json_dumps(want, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(j, want), "got  %s\nwant %s", a, b);
    free(a);
    free(b);
    json_decref(want);
}

/* The list j has an item equal to want (which is freed). */
static void assert_contains(json_t *j, json_t *want)
{
    size_t i;
    json_t *item;
    bool found = false;
    json_array_foreach(json_object_get(j, "data"), i, item) found = found || json_equal(item, want);
    char *b = json_dumps(want, JSON_SORT_KEYS);
    ck_assert_msg(found, "no item equal to %s", b);
    free(b);
    json_decref(want);
}

static void assert_self(json_t *j, const char *suffix)
{
    char want[512];
    snprintf(want, sizeof want, "%s/v3/clusters/%s%s", proc.base, cid, suffix);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "metadata"), "self")), want);
}

static json_t *retention_static(void)
{
    return broker_config("log.retention.ms", "3600000", false, "STATIC_BROKER_CONFIG",
                         json_pack("[o, o]", synonym("log.retention.ms", "3600000", "STATIC_BROKER_CONFIG"),
                                   synonym("log.retention.ms", "604800000", "DEFAULT_CONFIG")));
}

/* BrokerConfigsResourceIntegrationTest.listBrokerConfigs_existingBroker_returnsConfigs, with configs sluice
 * has (Confluent's max.connections, compression.type, log.cleaner.threads mean nothing here). */
START_TEST(listBrokerConfigs_existingBroker_returnsConfigs)
{
    json_t *j = get_ok("/brokers/0/configs");
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaBrokerConfigList");
    assert_self(j, "/brokers/0/configs");
    assert_contains(j, retention_static());
    assert_contains(j, broker_config("num.partitions", "1", true, "DEFAULT_CONFIG",
                                     json_pack("[o]", synonym("num.partitions", "1", "DEFAULT_CONFIG"))));
    assert_contains(j, broker_config("log.cleanup.policy", "delete", true, "DEFAULT_CONFIG",
                                     json_pack("[o]", synonym("log.cleanup.policy", "delete", "DEFAULT_CONFIG"))));
    assert_contains(j, broker_config("log.flush.interval.messages", "1", true, "DEFAULT_CONFIG",
                                     json_pack("[o]", synonym("log.flush.interval.messages", "1", "DEFAULT_CONFIG"))));
    json_decref(j);
}
END_TEST

/* BrokerConfigsResourceIntegrationTest.listBrokerConfigs_nonExistingBroker_throwsNotFound */
START_TEST(listBrokerConfigs_nonExistingBroker_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", NULL, "/brokers/foobar/configs", NULL, NULL), 404);
    ck_assert_int_eq(v3("GET", NULL, "/brokers/7/configs", NULL, NULL), 404);
}
END_TEST

/* BrokerConfigsResourceIntegrationTest.listBrokerConfigs_nonExistingCluster_throwsNotFound */
START_TEST(listBrokerConfigs_nonExistingCluster_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", "foobar", "/brokers/0/configs", NULL, NULL), 404);
}
END_TEST

/* BrokerConfigsResourceIntegrationTest.getBrokerConfig_existingConfig_returnsConfig */
START_TEST(getBrokerConfig_existingConfig_returnsConfig)
{
    json_t *j = get_ok("/brokers/0/configs/log.retention.ms");
    assert_equal(j, retention_static());
    json_decref(j);
}
END_TEST

/* BrokerConfigsResourceIntegrationTest.getBrokerConfig_nonExistingConfig_throwsNotFound */
START_TEST(getBrokerConfig_nonExistingConfig_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", NULL, "/brokers/0/configs/foobar", NULL, NULL), 404);
}
END_TEST

/* BrokerConfigsResourceIntegrationTest.getBrokerConfig_nonExistingBroker_throwsNotFound */
START_TEST(getBrokerConfig_nonExistingBroker_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", NULL, "/brokers/foobar/configs/log.retention.ms", NULL, NULL), 404);
}
END_TEST

/* BrokerConfigsResourceIntegrationTest.getBrokerConfig_nonExistingCluster_throwsNotFound */
START_TEST(getBrokerConfig_nonExistingCluster_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", "foobar", "/brokers/0/configs/log.retention.ms", NULL, NULL), 404);
}
END_TEST

/* BrokerConfigsResourceIntegrationTest.updateAndReset_existingConfig_returnsDefaultUpdatedAndDefaultAgain.
 * sluice does not alter broker configs at run time: PUT and DELETE are 405 and the value stays. */
START_TEST(updateAndReset_existingConfig_isMethodNotAllowed)
{
    ck_assert_int_eq(v3("PUT", NULL, "/brokers/0/configs/log.retention.ms", "{\"value\":\"1000\"}", NULL), 405);
    ck_assert_int_eq(v3("DELETE", NULL, "/brokers/0/configs/log.retention.ms", NULL, NULL), 405);
    json_t *j = get_ok("/brokers/0/configs/log.retention.ms");
    assert_equal(j, retention_static());
    json_decref(j);
}
END_TEST

/* ListAllBrokersConfigsActionIntegrationTest.listBrokersConfigs_existingBrokers_returnsConfigs (one broker) */
START_TEST(listBrokersConfigs_existingBrokers_returnsConfigs)
{
    json_t *j = get_ok("/brokers/-/configs");
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaBrokerConfigList");
    assert_self(j, "/brokers/-/configs");
    assert_contains(j, retention_static());
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(j, "data"), i, item)
        ck_assert_int_eq(json_integer_value(json_object_get(item, "broker_id")), 0);
    ck_assert_int_ge(json_array_size(json_object_get(j, "data")), 10);
    json_decref(j);
}
END_TEST

/* ListAllBrokersConfigsActionIntegrationTest.listBrokerConfigs_nonExistingCluster_throwsNotFound (renamed:
 * the name is taken by BrokerConfigsResourceIntegrationTest's case above) */
START_TEST(listAllBrokersConfigs_nonExistingCluster_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", "foobar", "/brokers/-/configs", NULL, NULL), 404);
}
END_TEST

static json_t *cleanup_policy_default(void)
{
    return topic_config("cleanup.policy", "delete", true, false, "DEFAULT_CONFIG",
                        json_pack("[o]", synonym("log.cleanup.policy", "delete", "DEFAULT_CONFIG")));
}

/* TopicConfigsResourceIntegrationTest.listTopicConfigs_existingTopic_returnsConfigs. cleanup.policy is
 * Confluent's exactly; compression.type and delete.retention.ms are is_read_only here (sluice does not honour
 * them), otherwise as Confluent. */
START_TEST(listTopicConfigs_existingTopic_returnsConfigs)
{
    json_t *j = get_ok("/topics/topic-1/configs");
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaTopicConfigList");
    assert_self(j, "/topics/topic-1/configs");
    assert_contains(j, cleanup_policy_default());
    assert_contains(j, topic_config("compression.type", "producer", true, true, "DEFAULT_CONFIG",
                                    json_pack("[o]", synonym("compression.type", "producer", "DEFAULT_CONFIG"))));
    assert_contains(
        j, topic_config("delete.retention.ms", "86400000", true, true, "DEFAULT_CONFIG",
                        json_pack("[o]", synonym("log.cleaner.delete.retention.ms", "86400000", "DEFAULT_CONFIG"))));
    json_decref(j);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.listTopicConfigs_nonExistingTopic_throwsNotFound */
START_TEST(listTopicConfigs_nonExistingTopic_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", NULL, "/topics/foobar/configs", NULL, NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.listTopicConfigs_nonExistingCluster_throwsNotFound */
START_TEST(listTopicConfigs_nonExistingCluster_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", "foobar", "/topics/topic-1/configs", NULL, NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.getTopicConfig_existingConfig_returnsConfig */
START_TEST(getTopicConfig_existingConfig_returnsConfig)
{
    json_t *j = get_ok("/topics/topic-1/configs/cleanup.policy");
    assert_equal(j, cleanup_policy_default());
    json_decref(j);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.getTopicConfig_nonExistingConfig_throwsNotFound */
START_TEST(getTopicConfig_nonExistingConfig_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", NULL, "/topics/topic-1/configs/foobar", NULL, NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.getTopicConfig_nonExistingTopic_throwsNotFound */
START_TEST(getTopicConfig_nonExistingTopic_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", NULL, "/topics/foobar/configs/cleanup.policy", NULL, NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.getTopicConfig_nonExistingCluster_throwsNotFound */
START_TEST(getTopicConfig_nonExistingCluster_throwsNotFound)
{
    ck_assert_int_eq(v3("GET", "foobar", "/topics/topic-1/configs/cleanup.policy", NULL, NULL), 404);
}
END_TEST

static json_t *retention_topic(const char *value, bool topic_set)
{
    json_t *syn = json_array();
    if (topic_set)
        json_array_append_new(syn, synonym("retention.ms", value, "DYNAMIC_TOPIC_CONFIG"));
    json_array_append_new(syn, synonym("log.retention.ms", "3600000", "STATIC_BROKER_CONFIG"));
    json_array_append_new(syn, synonym("log.retention.ms", "604800000", "DEFAULT_CONFIG"));
    return topic_config("retention.ms", value, false, false,
                        topic_set ? "DYNAMIC_TOPIC_CONFIG" : "STATIC_BROKER_CONFIG", syn);
}

/* TopicConfigsResourceIntegrationTest.getUpdateReset_withExistingConfig, on retention.ms (Confluent sets
 * cleanup.policy=compact, which sluice refuses: no compaction). Its broker default is a flag here, so the
 * synonyms run topic, STATIC_BROKER_CONFIG, DEFAULT_CONFIG as Kafka gives them. */
START_TEST(getUpdateReset_withExistingConfig)
{
    json_t *j = get_ok("/topics/topic-1/configs/retention.ms");
    assert_equal(j, retention_topic("3600000", false));
    json_decref(j);
    ck_assert_int_eq(v3("PUT", NULL, "/topics/topic-1/configs/retention.ms", "{\"value\":\"1000\"}", NULL), 204);
    j = get_ok("/topics/topic-1/configs/retention.ms");
    assert_equal(j, retention_topic("1000", true));
    json_decref(j);
    ck_assert_int_eq(v3("DELETE", NULL, "/topics/topic-1/configs/retention.ms", NULL, NULL), 204);
    j = get_ok("/topics/topic-1/configs/retention.ms");
    assert_equal(j, retention_topic("3600000", false));
    json_decref(j);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.updateTopicConfig_nonExistingConfig_throwsNotFound */
START_TEST(updateTopicConfig_nonExistingConfig_throwsNotFound)
{
    ck_assert_int_eq(v3("PUT", NULL, "/topics/topic-1/configs/foobar", "{\"value\":\"compact\"}", NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.updateTopicConfig_nonExistingTopic_throwsNotFound */
START_TEST(updateTopicConfig_nonExistingTopic_throwsNotFound)
{
    ck_assert_int_eq(v3("PUT", NULL, "/topics/foobar/configs/cleanup.policy", "{\"value\":\"compact\"}", NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.updateTopicConfig_nonExistingCluster_throwsNotFound */
START_TEST(updateTopicConfig_nonExistingCluster_throwsNotFound)
{
    ck_assert_int_eq(v3("PUT", "foobar", "/topics/topic-1/configs/cleanup.policy", "{\"value\":\"compact\"}", NULL),
                     404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.updateTopicConfig_nonExistingCluster_noContentType_throwsNotFound: the
 * Java client sends no Accept header. */
START_TEST(updateTopicConfig_nonExistingCluster_noContentType_throwsNotFound)
{
    char url[512];
    snprintf(url, sizeof url, "%s/v3/clusters/foobar/topics/topic-1/configs/cleanup.policy", proc.base);
    struct sl_resp r;
    ck_assert_int_eq(sl_http_req("PUT", url, "application/json", "{\"value\":\"compact\"}", (size_t)-1, NULL, &r), 404);
    sl_resp_fini(&r);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.resetTopicConfig_nonExistingConfig_throwsNotFound */
START_TEST(resetTopicConfig_nonExistingConfig_throwsNotFound)
{
    ck_assert_int_eq(v3("DELETE", NULL, "/topics/topic-1/configs/foobar", NULL, NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.resetTopicConfig_nonExistingTopic_throwsNotFound */
START_TEST(resetTopicConfig_nonExistingTopic_throwsNotFound)
{
    ck_assert_int_eq(v3("DELETE", NULL, "/topics/foobar/configs/cleanup.policy", NULL, NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.resetTopicConfig_nonExistingCluster_throwsNotFound */
START_TEST(resetTopicConfig_nonExistingCluster_throwsNotFound)
{
    ck_assert_int_eq(v3("DELETE", "foobar", "/topics/topic-1/configs/cleanup.policy", NULL, NULL), 404);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.resetTopicConfig_nonExistingCluster_noContentType_throwsNotFound */
START_TEST(resetTopicConfig_nonExistingCluster_noContentType_throwsNotFound)
{
    char url[512];
    snprintf(url, sizeof url, "%s/v3/clusters/foobar/topics/topic-1/configs/cleanup.policy", proc.base);
    struct sl_resp r;
    ck_assert_int_eq(sl_http_req("DELETE", url, NULL, NULL, 0, NULL, &r), 404);
    sl_resp_fini(&r);
}
END_TEST

/* TopicConfigsResourceIntegrationTest.alterConfigBatch_withExistingConfig, with two configs sluice honours
 * (Confluent's cleanup.policy=compact and compression.type=gzip are refused here: see the next test). */
START_TEST(alterConfigBatch_withExistingConfig)
{
    ck_assert_int_eq(v3("POST", NULL, "/topics/topic-1/configs:alter",
                        "{\"data\":[{\"name\":\"retention.ms\",\"value\":\"1000\"},"
                        "{\"name\":\"segment.bytes\",\"value\":\"1048576\"}]}",
                        NULL),
                     204);
    json_t *j = get_ok("/topics/topic-1/configs/retention.ms");
    assert_equal(j, retention_topic("1000", true));
    json_decref(j);
    j = get_ok("/topics/topic-1/configs/segment.bytes");
    assert_equal(j, topic_config("segment.bytes", "1048576", false, false, "DYNAMIC_TOPIC_CONFIG",
                                 json_pack("[o, o]", synonym("segment.bytes", "1048576", "DYNAMIC_TOPIC_CONFIG"),
                                           synonym("log.segment.bytes", "1073741824", "DEFAULT_CONFIG"))));
    json_decref(j);
}
END_TEST

/* Confluent's alterConfigBatch_withExistingConfig batch itself: compression.type is read-only on sluice, so
 * the whole batch is refused 400/40002 naming it, and nothing in it is applied. */
START_TEST(alterConfigBatch_withReadOnlyConfig_isRefusedAndNothingChanges)
{
    json_t *j;
    ck_assert_int_eq(v3("POST", NULL, "/topics/topic-1/configs:alter",
                        "{\"data\":[{\"name\":\"retention.ms\",\"value\":\"1000\"},"
                        "{\"name\":\"compression.type\",\"value\":\"gzip\"}]}",
                        &j),
                     400);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 40002);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "'compression.type' is read-only"));
    json_decref(j);
    j = get_ok("/topics/topic-1/configs/retention.ms");
    assert_equal(j, retention_topic("3600000", false));
    json_decref(j);
}
END_TEST

/* sluice's own: PUT and DELETE of a read-only topic config are refused by name, nothing changes. */
START_TEST(updateAndResetTopicConfig_readOnlyConfig_isRefused)
{
    json_t *j;
    ck_assert_int_eq(v3("PUT", NULL, "/topics/topic-1/configs/min.insync.replicas", "{\"value\":\"2\"}", &j), 400);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 40002);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "'min.insync.replicas'"));
    json_decref(j);
    ck_assert_int_eq(v3("DELETE", NULL, "/topics/topic-1/configs/min.insync.replicas", NULL, &j), 400);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "'min.insync.replicas'"));
    json_decref(j);
    j = get_ok("/topics/topic-1/configs/min.insync.replicas");
    assert_equal(j, topic_config("min.insync.replicas", "1", true, true, "DEFAULT_CONFIG",
                                 json_pack("[o]", synonym("min.insync.replicas", "1", "DEFAULT_CONFIG"))));
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_v3_configs");
    TCase *tc = tcase_create("configs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, listBrokerConfigs_existingBroker_returnsConfigs);
    tcase_add_test(tc, listBrokerConfigs_nonExistingBroker_throwsNotFound);
    tcase_add_test(tc, listBrokerConfigs_nonExistingCluster_throwsNotFound);
    tcase_add_test(tc, getBrokerConfig_existingConfig_returnsConfig);
    tcase_add_test(tc, getBrokerConfig_nonExistingConfig_throwsNotFound);
    tcase_add_test(tc, getBrokerConfig_nonExistingBroker_throwsNotFound);
    tcase_add_test(tc, getBrokerConfig_nonExistingCluster_throwsNotFound);
    tcase_add_test(tc, updateAndReset_existingConfig_isMethodNotAllowed);
    tcase_add_test(tc, listBrokersConfigs_existingBrokers_returnsConfigs);
    tcase_add_test(tc, listAllBrokersConfigs_nonExistingCluster_throwsNotFound);
    tcase_add_test(tc, listTopicConfigs_existingTopic_returnsConfigs);
    tcase_add_test(tc, listTopicConfigs_nonExistingTopic_throwsNotFound);
    tcase_add_test(tc, listTopicConfigs_nonExistingCluster_throwsNotFound);
    tcase_add_test(tc, getTopicConfig_existingConfig_returnsConfig);
    tcase_add_test(tc, getTopicConfig_nonExistingConfig_throwsNotFound);
    tcase_add_test(tc, getTopicConfig_nonExistingTopic_throwsNotFound);
    tcase_add_test(tc, getTopicConfig_nonExistingCluster_throwsNotFound);
    tcase_add_test(tc, getUpdateReset_withExistingConfig);
    tcase_add_test(tc, updateTopicConfig_nonExistingConfig_throwsNotFound);
    tcase_add_test(tc, updateTopicConfig_nonExistingTopic_throwsNotFound);
    tcase_add_test(tc, updateTopicConfig_nonExistingCluster_throwsNotFound);
    tcase_add_test(tc, updateTopicConfig_nonExistingCluster_noContentType_throwsNotFound);
    tcase_add_test(tc, resetTopicConfig_nonExistingConfig_throwsNotFound);
    tcase_add_test(tc, resetTopicConfig_nonExistingTopic_throwsNotFound);
    tcase_add_test(tc, resetTopicConfig_nonExistingCluster_throwsNotFound);
    tcase_add_test(tc, resetTopicConfig_nonExistingCluster_noContentType_throwsNotFound);
    tcase_add_test(tc, alterConfigBatch_withExistingConfig);
    tcase_add_test(tc, alterConfigBatch_withReadOnlyConfig_isRefusedAndNothingChanges);
    tcase_add_test(tc, updateAndResetTopicConfig_readOnlyConfig_isRefused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
