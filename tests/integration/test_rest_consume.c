/* Consume over REST against the real binary: consumer instances, subscribe/assign/seek, the long poll,
 * group hand-over on delete and expiry, committed offsets across a restart, the stateless read, and every
 * bad input of these endpoints. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define V2 "application/vnd.kafka.v2+json"
#define BIN "application/vnd.kafka.binary.v2+json"
#define JSN "application/vnd.kafka.json.v2+json"

static struct sl_proc proc;
static char *cid;

static void create_topic(const char *name, int parts)
{
    char path[256], body[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    snprintf(body, sizeof body, "{\"topic_name\":\"%s\",\"partitions_count\":%d}", name, parts);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, body, NULL), 201);
}

static void setup(void)
{
    static const char *const extra[] = {"--set", "consumer.instance.timeout.ms=1500", NULL};
    sl_proc_start(&proc, NULL, extra);
    cid = sl_proc_cluster_id(&proc);
    create_topic("t", 2);
}

static void teardown(void)
{
    sl_proc_free(&proc);
    free(cid);
}

/* method path with a v2 body (may be NULL) and Accept (may be NULL); returns status, *j the JSON. */
static long call(const char *method, const char *path, const char *body, const char *accept, json_t **j)
{
    char url[512], acc[160];
    struct sl_resp r;
    snprintf(url, sizeof url, "%s%s", proc.base, path);
    snprintf(acc, sizeof acc, "Accept: %s", accept ? accept : "*/*");
    const char *hdrs[] = {acc, NULL};
    long st = sl_http_req(method, url, body ? V2 : NULL, body, (size_t)-1, hdrs, &r);
    if (j)
        *j = sl_resp_json(&r);
    sl_resp_fini(&r);
    return st;
}

static void expect(const char *method, const char *path, const char *body, const char *accept, long status,
                   int code)
{
    json_t *j;
    ck_assert_int_eq(call(method, path, body, accept, &j), status);
    if (code) {
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), code);
        ck_assert(json_is_string(json_object_get(j, "message")));
    }
    json_decref(j);
}

static void produce(const char *topic, int partition, int n)
{
    char path[128], body[4096];
    size_t len = (size_t)snprintf(body, sizeof body, "{\"records\":[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, sizeof body - len, "%s{\"value\":\"YQ==\",\"partition\":%d}",
                                i ? "," : "", partition);
    snprintf(body + len, sizeof body - len, "]}");
    snprintf(path, sizeof path, "%s/topics/%s", proc.base, topic);
    long st;
    sl_http("POST", path, BIN, body, &st, NULL);
    ck_assert_int_eq(st, 200);
}

static void create_instance(const char *group, const char *name, const char *extra)
{
    char path[128], body[256];
    snprintf(path, sizeof path, "/consumers/%s", group);
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"format\":\"binary\",\"auto.offset.reset\":\"earliest\"%s}", name,
             extra ? extra : "");
    json_t *j;
    ck_assert_int_eq(call("POST", path, body, NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "instance_id")), name);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "base_uri")), "/instances/"));
    json_decref(j);
}

static char *ipath(char *buf, size_t len, const char *group, const char *name, const char *what)
{
    snprintf(buf, len, "/consumers/%s/instances/%s%s", group, name, what);
    return buf;
}

/* Polls once; returns the records array. */
static json_t *poll_records(const char *group, const char *name, int timeout_ms)
{
    char p[256], q[64];
    snprintf(q, sizeof q, "/records?timeout=%d", timeout_ms);
    json_t *j;
    ck_assert_int_eq(call("GET", ipath(p, sizeof p, group, name, q), NULL, BIN, &j), 200);
    ck_assert(json_is_array(j));
    return j;
}

static size_t assigned(const char *group, const char *name)
{
    char p[256];
    json_t *j;
    ck_assert_int_eq(call("GET", ipath(p, sizeof p, group, name, "/assignments"), NULL, NULL, &j), 200);
    size_t n = json_array_size(json_object_get(j, "partitions"));
    json_decref(j);
    return n;
}

START_TEST(instance_lifecycle_subscribe_consume_commit)
{
    char p[256];
    produce("t", 0, 3);
    produce("t", 1, 2);
    create_instance("g", "c1", ",\"auto.commit.enable\":\"false\"");
    expect("POST", "/consumers/g", "{\"name\":\"c1\"}", NULL, 409, 40902);
    expect("POST", ipath(p, sizeof p, "g", "c1", "/subscription"), "{\"topics\":[\"t\"]}", NULL, 204, 0);
    json_t *j;
    ck_assert_int_eq(call("GET", ipath(p, sizeof p, "g", "c1", "/subscription"), NULL, NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "topics"), 0)), "t");
    json_decref(j);
    ck_assert_uint_eq(assigned("g", "c1"), 2);
    j = poll_records("g", "c1", 1000);
    ck_assert_uint_eq(json_array_size(j), 5);
    json_t *r0 = json_array_get(j, 0);
    ck_assert_str_eq(json_string_value(json_object_get(r0, "topic")), "t");
    ck_assert_str_eq(json_string_value(json_object_get(r0, "value")), "YQ==");
    ck_assert(json_is_null(json_object_get(r0, "key")));
    ck_assert(json_is_integer(json_object_get(r0, "offset")));
    ck_assert(json_is_integer(json_object_get(r0, "timestamp")));
    json_decref(j);
    /* commit everything fetched (empty body), read it back */
    ck_assert_int_eq(call("POST", ipath(p, sizeof p, "g", "c1", "/offsets"), NULL, NULL, &j), 200);
    json_decref(j);
    ck_assert_int_eq(call("GET", ipath(p, sizeof p, "g", "c1", "/offsets"),
                          "{\"partitions\":[{\"topic\":\"t\",\"partition\":0},{\"topic\":\"t\",\"partition\":1}]}",
                          NULL, &j), 200);
    json_t *offs = json_object_get(j, "offsets");
    ck_assert_uint_eq(json_array_size(offs), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(offs, 0), "offset")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(offs, 1), "offset")), 2);
    json_decref(j);
    /* seek back, read again; seek to the end, nothing */
    expect("POST", ipath(p, sizeof p, "g", "c1", "/positions"),
           "{\"offsets\":[{\"topic\":\"t\",\"partition\":0,\"offset\":1}]}", NULL, 204, 0);
    j = poll_records("g", "c1", 0);
    ck_assert_uint_eq(json_array_size(j), 2);
    json_decref(j);
    expect("POST", ipath(p, sizeof p, "g", "c1", "/positions/beginning"),
           "{\"partitions\":[{\"topic\":\"t\",\"partition\":1}]}", NULL, 204, 0);
    j = poll_records("g", "c1", 0);
    ck_assert_uint_eq(json_array_size(j), 2);
    json_decref(j);
    expect("POST", ipath(p, sizeof p, "g", "c1", "/positions/end"),
           "{\"partitions\":[{\"topic\":\"t\",\"partition\":0},{\"topic\":\"t\",\"partition\":1}]}", NULL, 204, 0);
    j = poll_records("g", "c1", 0);
    ck_assert_uint_eq(json_array_size(j), 0);
    json_decref(j);
    expect("POST", ipath(p, sizeof p, "g", "c1", "/positions"),
           "{\"timestamps\":[{\"topic\":\"t\",\"partition\":0,\"timestamp\":\"2000-01-01T00:00:00Z\"}]}", NULL, 204, 0);
    j = poll_records("g", "c1", 0);
    ck_assert_uint_eq(json_array_size(j), 3);
    json_decref(j);
    /* unsubscribe, assign manually */
    expect("DELETE", ipath(p, sizeof p, "g", "c1", "/subscription"), NULL, NULL, 204, 0);
    expect("POST", ipath(p, sizeof p, "g", "c1", "/assignments"), "{\"partitions\":[{\"topic\":\"t\",\"partition\":1}]}",
           NULL, 204, 0);
    ck_assert_uint_eq(assigned("g", "c1"), 1);
    expect("DELETE", ipath(p, sizeof p, "g", "c1", ""), NULL, NULL, 204, 0);
    expect("GET", ipath(p, sizeof p, "g", "c1", "/assignments"), NULL, NULL, 404, 40403);
    expect("DELETE", ipath(p, sizeof p, "g", "c1", ""), NULL, NULL, 404, 40403);
}
END_TEST

static void *produce_later(void *arg)
{
    usleep(300 * 1000);
    produce("t", 1, 1);
    return NULL;
}

START_TEST(long_poll_returns_when_a_record_arrives)
{
    char p[256];
    create_instance("lp", "c", NULL);
    expect("POST", ipath(p, sizeof p, "lp", "c", "/subscription"), "{\"topics\":[\"t\"]}", NULL, 204, 0);
    json_t *j = poll_records("lp", "c", 0);
    ck_assert_uint_eq(json_array_size(j), 0);
    json_decref(j);
    pthread_t th;
    pthread_create(&th, NULL, produce_later, NULL);
    int64_t t0 = sl_test_mono_ms();
    j = poll_records("lp", "c", 10000);
    int64_t took = sl_test_mono_ms() - t0;
    pthread_join(th, NULL);
    ck_assert_uint_eq(json_array_size(j), 1);
    ck_assert_msg(took < 5000, "long poll took %lld ms", (long long)took);
    json_decref(j);
    /* nothing new: [] at the timeout */
    t0 = sl_test_mono_ms();
    j = poll_records("lp", "c", 300);
    ck_assert_uint_eq(json_array_size(j), 0);
    ck_assert_int_ge(sl_test_mono_ms() - t0, 250);
    json_decref(j);
}
END_TEST

struct poll_result {
    long status;
    size_t records;
};

static void *poll_in_thread(void *arg)
{
    struct poll_result *res = arg;
    char p[256];
    json_t *j = NULL;
    res->status = call("GET", ipath(p, sizeof p, "stop", "c", "/records?timeout=20000"), NULL, BIN, &j);
    res->records = json_is_array(j) ? json_array_size(j) : (size_t)-1;
    json_decref(j);
    return NULL;
}

/* A long poll parked when the server is told to stop is answered (empty) before the process exits. */
START_TEST(long_poll_in_flight_is_answered_on_sigterm)
{
    char p[256];
    create_instance("stop", "c", NULL);
    expect("POST", ipath(p, sizeof p, "stop", "c", "/subscription"), "{\"topics\":[\"t\"]}", NULL, 204, 0);
    json_decref(poll_records("stop", "c", 0)); /* joins the group and gets the assignment */
    struct poll_result res = {0, 0};
    pthread_t th;
    pthread_create(&th, NULL, poll_in_thread, &res);
    usleep(500 * 1000); /* the poll is parked: nothing is produced */
    int64_t t0 = sl_test_mono_ms();
    sl_proc_stop(&proc); /* SIGTERM; asserts exit status 0 */
    pthread_join(th, NULL);
    ck_assert_int_eq(res.status, 200);
    ck_assert_uint_eq(res.records, 0);
    ck_assert_int_lt(sl_test_mono_ms() - t0, 10000);
}
END_TEST

START_TEST(instances_share_and_hand_over)
{
    char p[256];
    create_instance("hg", "a", NULL);
    create_instance("hg", "b", NULL);
    create_instance("hg", "c", NULL);
    expect("POST", ipath(p, sizeof p, "hg", "a", "/subscription"), "{\"topics\":[\"t\"]}", NULL, 204, 0);
    expect("POST", ipath(p, sizeof p, "hg", "b", "/subscription"), "{\"topic_pattern\":\"t.*\"}", NULL, 204, 0);
    expect("POST", ipath(p, sizeof p, "hg", "c", "/subscription"), "{\"topics\":[\"t\"]}", NULL, 204, 0);
    /* a owned both partitions: it keeps them until its next poll acknowledges the revoke */
    ck_assert_uint_eq(assigned("hg", "a"), 2);
    ck_assert_uint_eq(assigned("hg", "b"), 0);
    json_decref(poll_records("hg", "a", 0));
    ck_assert_uint_eq(assigned("hg", "a") + assigned("hg", "b") + assigned("hg", "c"), 2);
    ck_assert_uint_eq(assigned("hg", "a"), 1);
    ck_assert_uint_eq(assigned("hg", "b"), 1);
    /* delete hands b's partition over */
    expect("DELETE", ipath(p, sizeof p, "hg", "b", ""), NULL, NULL, 204, 0);
    ck_assert_uint_eq(assigned("hg", "a"), 1);
    ck_assert_uint_eq(assigned("hg", "c"), 1);
    /* v3 view of the group */
    char path[256];
    json_t *j;
    snprintf(path, sizeof path, "/v3/clusters/%s/consumer-groups/hg/consumers", cid);
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "KafkaConsumerList");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "data")), 2);
    json_decref(j);
    snprintf(path, sizeof path, "/v3/clusters/%s/consumer-groups/hg", cid);
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "consumer_group_id")), "hg");
    json_decref(j);
    /* c goes idle: it expires (1.5 s) while a keeps polling, and a gets everything */
    int64_t deadline = sl_test_mono_ms() + 8000;
    while (assigned("hg", "a") != 2 && sl_test_mono_ms() < deadline)
        usleep(200 * 1000);
    ck_assert_uint_eq(assigned("hg", "a"), 2);
    expect("GET", ipath(p, sizeof p, "hg", "c", "/assignments"), NULL, NULL, 404, 40403);
}
END_TEST

START_TEST(committed_offsets_survive_restart)
{
    char p[256];
    produce("t", 0, 4);
    create_instance("rg", "c", NULL);
    expect("POST", ipath(p, sizeof p, "rg", "c", "/assignments"), "{\"partitions\":[{\"topic\":\"t\",\"partition\":0}]}",
           NULL, 204, 0);
    json_t *j;
    ck_assert_int_eq(call("POST", ipath(p, sizeof p, "rg", "c", "/offsets"),
                          "{\"offsets\":[{\"topic\":\"t\",\"partition\":0,\"offset\":3}]}", NULL, &j), 200);
    json_decref(j);
    sl_proc_restart(&proc, false);
    create_instance("rg", "c2", ",\"auto.offset.reset\":\"latest\"");
    ck_assert_int_eq(call("GET", ipath(p, sizeof p, "rg", "c2", "/offsets"),
                          "{\"partitions\":[{\"topic\":\"t\",\"partition\":0}]}", NULL, &j), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(j, "offsets"), 0), "offset")),
                     3);
    json_decref(j);
    expect("POST", ipath(p, sizeof p, "rg", "c2", "/subscription"), "{\"topics\":[\"t\"]}", NULL, 204, 0);
    j = poll_records("rg", "c2", 500);
    ck_assert_uint_eq(json_array_size(j), 1); /* offset 3 of partition 0 */
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j, 0), "offset")), 3);
    json_decref(j);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/consumer-groups/rg/lag-summary", cid);
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, NULL, &j), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total_lag")), 1);
    json_decref(j);
}
END_TEST

START_TEST(stateless_read)
{
    produce("t", 1, 3);
    json_t *j;
    ck_assert_int_eq(call("GET", "/topics/t/partitions/1/records?offset=1", NULL, BIN, &j), 200);
    ck_assert_uint_eq(json_array_size(j), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j, 0), "offset")), 1);
    json_decref(j);
    ck_assert_int_eq(call("GET", "/topics/t/partitions/1/records?offset=1", NULL, BIN, &j), 200); /* retry-safe */
    ck_assert_uint_eq(json_array_size(j), 2);
    json_decref(j);
    ck_assert_int_eq(call("GET", "/topics/t/partitions/1/records?offset=3", NULL, BIN, &j), 200);
    ck_assert_uint_eq(json_array_size(j), 0);
    json_decref(j);
    expect("GET", "/topics/t/partitions/1/records?offset=-1", NULL, BIN, 400, 0);
    expect("GET", "/topics/t/partitions/1/records?offset=99", NULL, BIN, 400, 40002);
    expect("GET", "/topics/t/partitions/1/records", NULL, BIN, 400, 400);
    expect("GET", "/topics/t/partitions/7/records?offset=0", NULL, BIN, 404, 40402);
    expect("GET", "/topics/nope/partitions/0/records?offset=0", NULL, BIN, 404, 40401);
    /* long poll at the HW */
    pthread_t th;
    pthread_create(&th, NULL, produce_later, NULL);
    int64_t t0 = sl_test_mono_ms();
    ck_assert_int_eq(call("GET", "/topics/t/partitions/1/records?offset=3&timeout=10000", NULL, BIN, &j), 200);
    pthread_join(th, NULL);
    ck_assert_uint_eq(json_array_size(j), 1);
    ck_assert_int_lt(sl_test_mono_ms() - t0, 5000);
    json_decref(j);
}
END_TEST

START_TEST(bad_consumer_input)
{
    char p[256];
    create_instance("bg", "c", NULL);
    expect("POST", "/consumers/bg", "{\"name\":\"x\",\"format\":\"avro\"}", NULL, 422, 42204);
    expect("POST", "/consumers/bg", "{\"name\":\"x\",\"auto.offset.reset\":\"sometimes\"}", NULL, 422, 42204);
    expect("POST", "/consumers/bg", "{\"name\":", NULL, 400, 400);
    { /* issue 11: a group name of 256+ characters answered with uninitialised stack bytes */
        char path[400];
        json_t *j;
        snprintf(path, sizeof path, "/consumers/%0300d", 7);
        ck_assert_int_eq(call("POST", path, "{\"name\":\"x\"}", NULL, &j), 422);
        ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
                         "Invalid consumer configuration: the group name must be 1 to 255 characters");
        json_decref(j);
    }
    expect("GET", ipath(p, sizeof p, "bg", "nobody", "/records"), NULL, BIN, 404, 40403);
    expect("GET", ipath(p, sizeof p, "bg", "c", "/records"), NULL, JSN, 406, 40601);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/subscription"), "{}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/subscription"), "{\"topics\":\"t\"}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/subscription"), "{\"topic_pattern\":\"(\"}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/subscription"), "{\"topics\":[\"t\"]}", NULL, 204, 0);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/subscription"), "{\"topic_pattern\":\"t\"}", NULL, 409, 40901);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/assignments"), "{\"partitions\":[{\"topic\":\"t\",\"partition\":0}]}",
           NULL, 409, 40903);
    expect("DELETE", ipath(p, sizeof p, "bg", "c", "/subscription"), NULL, NULL, 204, 0);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/assignments"), "{\"partitions\":[{\"topic\":\"nope\",\"partition\":0}]}",
           NULL, 404, 40401);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/assignments"), "{\"partitions\":[{\"topic\":\"t\",\"partition\":5}]}",
           NULL, 404, 40402);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/assignments"), "{\"partitions\":[{\"topic\":\"t\"}]}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/positions"),
           "{\"offsets\":[{\"topic\":\"t\",\"partition\":0,\"offset\":1}]}", NULL, 409, 40903);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/positions"),
           "{\"offsets\":[{\"topic\":\"t\",\"partition\":0,\"offset\":-1}]}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/offsets"), "{\"offsets\":[{\"topic\":\"t\",\"partition\":0}]}", NULL,
           422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/offsets"), "[1]", NULL, 400, 400);
    /* issue 12: a member the body parser does not know is refused and named, never ignored */
    expect("POST", "/consumers/bg", "{\"name\":\"typo\",\"formt\":\"json\"}", NULL, 422, 42204);
    expect("GET", ipath(p, sizeof p, "bg", "typo", "/subscription"), NULL, NULL, 404, 40403); /* not created */
    expect("POST", "/consumers/bg", "{\"name\":\"typo\",\"fetch.min.bytes\":1}", NULL, 422, 42204);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/subscription"), "{\"topic\":[\"t\"]}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/subscription"), "{\"topics\":[\"t\"],\"pattern\":1}", NULL, 422, 422);
    expect("GET", ipath(p, sizeof p, "bg", "c", "/subscription"), NULL, NULL, 200, 0);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/assignments"),
           "{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"offset\":3}]}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/offsets"),
           "{\"offsets\":[{\"topic\":\"t\",\"partition\":0,\"ofset\":1}]}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/offsets"),
           "{\"offsets\":[{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"metadata\":\"m\"}]}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/positions"),
           "{\"ofsets\":[{\"topic\":\"t\",\"partition\":0,\"offset\":1}]}", NULL, 422, 422);
    expect("POST", ipath(p, sizeof p, "bg", "c", "/positions/beginning"),
           "{\"partitions\":[],\"x\":1}", NULL, 422, 422);
    expect("GET", ipath(p, sizeof p, "bg", "c", "/records?timeout=abc"), NULL, BIN, 400, 0);
    expect("GET", ipath(p, sizeof p, "bg", "c", "/records?max_bytes=-5"), NULL, BIN, 400, 0);
    /* still serving */
    json_t *j = poll_records("bg", "c", 0);
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_consume");
    TCase *tc = tcase_create("rest_consume");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, instance_lifecycle_subscribe_consume_commit);
    tcase_add_test(tc, long_poll_returns_when_a_record_arrives);
    tcase_add_test(tc, long_poll_in_flight_is_answered_on_sigterm);
    tcase_add_test(tc, instances_share_and_hand_over);
    tcase_add_test(tc, committed_offsets_survive_restart);
    tcase_add_test(tc, stateless_read);
    tcase_add_test(tc, bad_consumer_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
