/* v3 replicas, partition replicas by broker, and reassignments, translated from the Confluent REST Proxy's
 * integration tests (kafka-rest/src/test/java/io/confluent/kafkarest/integration/v3/): one Check test per Java
 * case, named after it. sluice runs with --node-id 0 so the expected broker id is Confluent's. Where one node
 * cannot give Confluent's answer (a second broker, a reassignment in progress) the test says what sluice
 * answers instead and why. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/sluice_proc.h"

static struct sl_proc proc;
static char *cid;

static void setup(void)
{
    static const char *const extra[] = {"--node-id", "0", NULL};
    sl_proc_start(&proc, NULL, extra);
    cid = sl_proc_cluster_id(&proc);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"topic-1\",\"partitions_count\":2}", NULL),
                     201);
}

static void teardown(void)
{
    free(cid);
    sl_proc_free(&proc);
}

/* GET /v3/clusters/<cluster><suffix> (cluster NULL: this one); returns the status, *out the body. */
static long get(const char *cluster, const char *suffix, json_t **out)
{
    char path[512];
    snprintf(path, sizeof path, "/v3/clusters/%s%s", cluster ? cluster : cid, suffix);
    return sl_http_json(&proc, "GET", path, NULL, out);
}

static void expect_404(const char *cluster, const char *suffix)
{
    ck_assert_int_eq(get(cluster, suffix, NULL), 404);
}

/* The replica of topic-1 partition p on broker 0 as Confluent's ReplicaData renders it. */
static json_t *replica(int p, bool leader)
{
    char self[512], crn[256], broker[512];
    snprintf(self, sizeof self, "%s/v3/clusters/%s/topics/topic-1/partitions/%d/replicas/0", proc.base, cid, p);
    snprintf(crn, sizeof crn, "crn:///kafka=%s/topic=topic-1/partition=%d/replica=0", cid, p);
    snprintf(broker, sizeof broker, "%s/v3/clusters/%s/brokers/0", proc.base, cid);
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:i, s:i, s:b, s:b, s:{s:s}}", "kind", "KafkaReplica", "metadata",
                     "self", self, "resource_name", crn, "cluster_id", cid, "topic_name", "topic-1", "partition_id", p,
                     "broker_id", 0, "is_leader", leader, "is_in_sync", 1, "broker", "related", broker);
}

static void assert_self(json_t *j, const char *suffix)
{
    char want[512];
    snprintf(want, sizeof want, "%s/v3/clusters/%s%s", proc.base, cid, suffix);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "metadata"), "self")), want);
}

/* ReplicasResourceIntegrationTest.listReplicas_existingPartition_returnsReplicas */
START_TEST(listReplicas_existingPartition_returnsReplicas)
{
    json_t *j;
    ck_assert_int_eq(get(NULL, "/topics/topic-1/partitions/0/replicas", &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaReplicaList");
    assert_self(j, "/topics/topic-1/partitions/0/replicas");
    json_t *want = json_pack("[o]", replica(0, true));
    ck_assert_msg(json_equal(json_object_get(j, "data"), want), "%s", json_dumps(j, 0));
    json_decref(want);
    json_decref(j);
}
END_TEST

/* ReplicasResourceIntegrationTest.listReplicas_nonExistingPartition_returnsNotFound */
START_TEST(listReplicas_nonExistingPartition_returnsNotFound)
{
    expect_404(NULL, "/topics/topic-1/partitions/100/replicas");
}
END_TEST

/* ReplicasResourceIntegrationTest.listReplicas_nonExistingTopic_returnsNotFound */
START_TEST(listReplicas_nonExistingTopic_returnsNotFound)
{
    expect_404(NULL, "/topics/foobar/partitions/0/replicas");
}
END_TEST

/* ReplicasResourceIntegrationTest.listReplicas_nonExistingCluster_returnsNotFound */
START_TEST(listReplicas_nonExistingCluster_returnsNotFound)
{
    expect_404("foobar", "/topics/topic-1/partitions/0/replicas");
}
END_TEST

/* ReplicasResourceIntegrationTest.getReplica_existingReplica_returnsReplica */
START_TEST(getReplica_existingReplica_returnsReplica)
{
    json_t *j;
    ck_assert_int_eq(get(NULL, "/topics/topic-1/partitions/0/replicas/0", &j), 200);
    json_t *want = replica(0, true);
    ck_assert_msg(json_equal(j, want), "%s", json_dumps(j, 0));
    json_decref(want);
    json_decref(j);
}
END_TEST

/* ReplicasResourceIntegrationTest.getReplica_nonExistingReplica_returnsNotFound */
START_TEST(getReplica_nonExistingReplica_returnsNotFound)
{
    expect_404(NULL, "/topics/topic-1/partitions/0/replicas/100");
}
END_TEST

/* ReplicasResourceIntegrationTest.getReplica_nonExistingPartition_returnsNotFound */
START_TEST(getReplica_nonExistingPartition_returnsNotFound)
{
    expect_404(NULL, "/topics/topic-1/partitions/100/replicas/0");
}
END_TEST

/* ReplicasResourceIntegrationTest.getReplica_nonExistingTopic_returnsNotFound */
START_TEST(getReplica_nonExistingTopic_returnsNotFound)
{
    expect_404(NULL, "/topics/foobar/partitions/0/replicas/0");
}
END_TEST

/* ReplicasResourceIntegrationTest.getReplica_nonExistingCluster_returnsNotFound */
START_TEST(getReplica_nonExistingCluster_returnsNotFound)
{
    expect_404("foobar", "/topics/topic-1/partitions/0/replicas/0");
}
END_TEST

/* SearchReplicasByBrokerActionIntegrationTest.searchReplicasByBroker_existingBroker_returnsReplicas. Confluent
 * has two brokers and broker 0 leads partition 0 only; on one node broker 0 leads both. The list also holds
 * the replicas of __consumer_offsets, which sluice creates at start (Kafka creates it on first use). */
START_TEST(searchReplicasByBroker_existingBroker_returnsReplicas)
{
    json_t *j;
    ck_assert_int_eq(get(NULL, "/brokers/0/partition-replicas", &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaReplicaList");
    assert_self(j, "/brokers/0/partition-replicas");
    int found = 0;
    size_t i;
    json_t *item;
    for (int p = 0; p < 2; p++) {
        json_t *want = replica(p, true);
        json_array_foreach(json_object_get(j, "data"), i, item) found += json_equal(item, want);
        json_decref(want);
    }
    ck_assert_msg(found == 2, "%s", json_dumps(j, 0));
    json_array_foreach(json_object_get(j, "data"), i, item)
        ck_assert_int_eq(json_integer_value(json_object_get(item, "broker_id")), 0);
    json_decref(j);
}
END_TEST

/* SearchReplicasByBrokerActionIntegrationTest.searchReplicasByBroker_nonExistingBroker_returnsNotFound */
START_TEST(searchReplicasByBroker_nonExistingBroker_returnsNotFound)
{
    expect_404(NULL, "/brokers/100/partition-replicas");
}
END_TEST

static void assert_empty_reassignments(const char *suffix)
{
    json_t *j;
    ck_assert_int_eq(get(NULL, suffix, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaReassignmentList");
    assert_self(j, suffix);
    ck_assert(json_is_array(json_object_get(j, "data")));
    ck_assert_int_eq(json_array_size(json_object_get(j, "data")), 0);
    json_decref(j);
}

/* ListAllReassignmentsActionIntegrationTest.listAllReassignments_returnsReassignments. Confluent starts a
 * reassignment first; sluice moves no replica, so the list is empty. */
START_TEST(listAllReassignments_returnsReassignments)
{
    assert_empty_reassignments("/topics/-/partitions/-/reassignment");
}
END_TEST

/* ListAllReassignmentsActionIntegrationTest.listAllReassignments_nonExistingCluster_returnsNotFound */
START_TEST(listAllReassignments_nonExistingCluster_returnsNotFound)
{
    expect_404("foobar", "/topics/-/partitions/-/reassignment");
}
END_TEST

/* ListReassignmentsByTopicActionIntegrationTest.listReassignmentsByTopic_returnsReassignments (empty: as
 * above) */
START_TEST(listReassignmentsByTopic_returnsReassignments)
{
    assert_empty_reassignments("/topics/topic-1/partitions/-/reassignment");
}
END_TEST

/* ListReassignmentsByTopicActionIntegrationTest.listReassignmentsByTopic_nonExistingCluster_returnsNotFound */
START_TEST(listReassignmentsByTopic_nonExistingCluster_returnsNotFound)
{
    expect_404("foobar", "/topics/topic-1/partitions/-/reassignment");
}
END_TEST

/* ListReassignmentsByTopicActionIntegrationTest.listReassignmentsByTopic_nonExistingTopic_returnsEmpty.
 * Deliberately different: Confluent answers 200 with an empty list; sluice answers an unknown topic 404/40401
 * like every other topic route (README, differences). */
START_TEST(listReassignmentsByTopic_nonExistingTopic_returnsNotFound)
{
    json_t *j;
    ck_assert_int_eq(get(NULL, "/topics/foobar/partitions/-/reassignment", &j), 404);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 40401);
    json_decref(j);
}
END_TEST

/* GetReassignmentActionIntegrationTest.getReassignment_returnsReassignment. Confluent starts one first; with
 * none in progress its resource throws NotFoundException, which is what sluice always answers. */
START_TEST(getReassignment_noneInProgress_returnsNotFound)
{
    json_t *j;
    ck_assert_int_eq(get(NULL, "/topics/topic-1/partitions/1/reassignment", &j), 404);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 404);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "No reassignment"));
    json_decref(j);
}
END_TEST

/* GetReassignmentActionIntegrationTest.getReassignments_nonExistingCluster_returnsNotFound */
START_TEST(getReassignments_nonExistingCluster_returnsNotFound)
{
    expect_404("foobar", "/topics/topic-1/partitions/1/reassignment");
}
END_TEST

/* GetReassignmentActionIntegrationTest.getReassignments_nonExistingTopic_returnsNotFound */
START_TEST(getReassignments_nonExistingTopic_returnsNotFound)
{
    json_t *j;
    ck_assert_int_eq(get(NULL, "/topics/foobar/partitions/1/reassignment", &j), 404);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 40401);
    json_decref(j);
}
END_TEST

/* GetReassignmentActionIntegrationTest.getReassignments_nonExistingPartition_returnsNotFound */
START_TEST(getReassignments_nonExistingPartition_returnsNotFound)
{
    json_t *j;
    ck_assert_int_eq(get(NULL, "/topics/topic-1/partitions/10/reassignment", &j), 404);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 40402);
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_v3_replicas");
    TCase *tc = tcase_create("replicas");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, listReplicas_existingPartition_returnsReplicas);
    tcase_add_test(tc, listReplicas_nonExistingPartition_returnsNotFound);
    tcase_add_test(tc, listReplicas_nonExistingTopic_returnsNotFound);
    tcase_add_test(tc, listReplicas_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, getReplica_existingReplica_returnsReplica);
    tcase_add_test(tc, getReplica_nonExistingReplica_returnsNotFound);
    tcase_add_test(tc, getReplica_nonExistingPartition_returnsNotFound);
    tcase_add_test(tc, getReplica_nonExistingTopic_returnsNotFound);
    tcase_add_test(tc, getReplica_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, searchReplicasByBroker_existingBroker_returnsReplicas);
    tcase_add_test(tc, searchReplicasByBroker_nonExistingBroker_returnsNotFound);
    tcase_add_test(tc, listAllReassignments_returnsReassignments);
    tcase_add_test(tc, listAllReassignments_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, listReassignmentsByTopic_returnsReassignments);
    tcase_add_test(tc, listReassignmentsByTopic_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, listReassignmentsByTopic_nonExistingTopic_returnsNotFound);
    tcase_add_test(tc, getReassignment_noneInProgress_returnsNotFound);
    tcase_add_test(tc, getReassignments_nonExistingCluster_returnsNotFound);
    tcase_add_test(tc, getReassignments_nonExistingTopic_returnsNotFound);
    tcase_add_test(tc, getReassignments_nonExistingPartition_returnsNotFound);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
