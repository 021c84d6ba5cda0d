/* No stale state survives a topic (issue 10), against the real binary: a group's committed offsets are
 * deleted with their topic, so a re-created topic is read from its start; a partition directory whose topic
 * metadata is lost is quarantined and reported, and never served to a new topic of the same name; clients
 * cannot forge group commits through __consumer_offsets. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define V2 "application/vnd.kafka.v2+json"
#define BIN "application/vnd.kafka.binary.v2+json"

static struct sl_proc proc;
static char *tmp, *data;

static void setup(void)
{
    tmp = sl_test_tmpdir();
    data = sl_test_path(tmp, "data");
    sl_proc_start(&proc, data, NULL);
}

static void teardown(void)
{
    sl_proc_free(&proc);
    sl_test_rmrf(tmp);
    free(data);
    free(tmp);
}

static void create_topic(const char *name)
{
    char path[256], body[256], *cid = sl_proc_cluster_id(&proc);
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    snprintf(body, sizeof body, "{\"topic_name\":\"%s\",\"partitions_count\":1}", name);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, body, NULL), 201);
    free(cid);
}

static void delete_topic(const char *name)
{
    char path[256], *cid = sl_proc_cluster_id(&proc);
    snprintf(path, sizeof path, "/v3/clusters/%s/topics/%s", cid, name);
    ck_assert_int_eq(sl_http_json(&proc, "DELETE", path, NULL, NULL), 204);
    free(cid);
}

/* Produces n records "<tag>-<i>" (base64 of it in a binary body). */
static void produce(const char *topic, const char *tag, int n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char body[16384], url[256];
    size_t len = (size_t)snprintf(body, sizeof body, "{\"records\":[");
    for (int i = 0; i < n; i++) {
        char v[32], e[64];
        int vl = snprintf(v, sizeof v, "%s-%02d", tag, i), el = 0;
        for (int k = 0; k < vl; k += 3) {
            unsigned x = (unsigned char)v[k] << 16 | (k + 1 < vl ? (unsigned char)v[k + 1] << 8 : 0) |
                         (k + 2 < vl ? (unsigned char)v[k + 2] : 0);
            e[el++] = b64[x >> 18 & 63];
            e[el++] = b64[x >> 12 & 63];
            e[el++] = k + 1 < vl ? b64[x >> 6 & 63] : '=';
            e[el++] = k + 2 < vl ? b64[x & 63] : '=';
        }
        e[el] = '\0';
        len += (size_t)snprintf(body + len, sizeof body - len, "%s{\"value\":\"%s\"}", i ? "," : "", e);
    }
    snprintf(body + len, sizeof body - len, "]}");
    snprintf(url, sizeof url, "%s/topics/%s", proc.base, topic);
    long st;
    sl_http("POST", url, BIN, body, &st, NULL);
    ck_assert_int_eq(st, 200);
}

static long v2(const char *method, const char *path, const char *body, const char *accept, json_t **j)
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

/* A consumer instance c of group g subscribed to t; polls until want records came (or 10 s), commits what
 * it fetched, deletes itself. Returns how many records it got; *first gets the first record's offset. */
static int consume_all(const char *g, const char *c, const char *t, int want, long long *first)
{
    char path[256], body[256];
    snprintf(path, sizeof path, "/consumers/%s", g);
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"format\":\"binary\",\"auto.offset.reset\":\"earliest\"}", c);
    ck_assert_int_eq(v2("POST", path, body, NULL, NULL), 200);
    snprintf(path, sizeof path, "/consumers/%s/instances/%s/subscription", g, c);
    snprintf(body, sizeof body, "{\"topics\":[\"%s\"]}", t);
    ck_assert_int_eq(v2("POST", path, body, NULL, NULL), 204);
    int got = 0;
    *first = -1;
    for (int round = 0; round < 40 && got < want; round++) {
        json_t *j;
        snprintf(path, sizeof path, "/consumers/%s/instances/%s/records?timeout=250", g, c);
        ck_assert_int_eq(v2("GET", path, NULL, BIN, &j), 200);
        if (got == 0 && json_array_size(j))
            *first = (long long)json_integer_value(json_object_get(json_array_get(j, 0), "offset"));
        got += (int)json_array_size(j);
        json_decref(j);
    }
    snprintf(path, sizeof path, "/consumers/%s/instances/%s/offsets", g, c);
    ck_assert_int_eq(v2("POST", path, "", NULL, NULL), 200);
    snprintf(path, sizeof path, "/consumers/%s/instances/%s", g, c);
    ck_assert_int_eq(v2("DELETE", path, NULL, NULL, NULL), 204);
    return got;
}

/* Issue 10 observed: a re-created topic of the same name skipped 40 of 45 new records. */
START_TEST(a_recreated_topic_is_read_from_its_start_by_an_old_group)
{
    long long first;
    create_topic("t");
    produce("t", "old", 45);
    ck_assert_int_eq(consume_all("g", "c1", "t", 45, &first), 45);
    delete_topic("t");
    create_topic("t");
    produce("t", "new", 45);
    ck_assert_int_eq(consume_all("g", "c2", "t", 45, &first), 45);
    ck_assert_int_eq(first, 0);
    /* once more across a kill -9: the deletion is durable, the new commit counts */
    delete_topic("t");
    sl_proc_restart(&proc, true);
    create_topic("t");
    produce("t", "third", 10);
    ck_assert_int_eq(consume_all("g", "c3", "t", 10, &first), 10);
    ck_assert_int_eq(first, 0);
}
END_TEST

static int entries_starting(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

/* Issue 10: with meta/<t>.topic lost, re-creating the topic served the old records again. */
START_TEST(lost_topic_metadata_quarantines_the_old_data_and_reports_it)
{
    create_topic("t");
    produce("t", "old", 20);
    sl_proc_stop(&proc);
    char path[4096];
    snprintf(path, sizeof path, "%s/meta/t.topic", data);
    ck_assert_int_eq(unlink(path), 0);
    sl_proc_start_again(&proc);
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics/t", NULL, NULL), 404);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/ready", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "degraded");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "quarantined_dirs")), 1);
    json_decref(j);
    char *m = NULL, url[256];
    long st;
    snprintf(url, sizeof url, "%s/metrics", proc.base);
    sl_http("GET", url, NULL, NULL, &st, &m);
    ck_assert_ptr_nonnull(strstr(m, "\nsluice_quarantined_dirs 1\n"));
    free(m);
    char *log = sl_proc_stderr(&proc);
    ck_assert_ptr_nonnull(strstr(log, "quarantined partition directory"));
    free(log);
    snprintf(path, sizeof path, "%s/quarantine", data);
    ck_assert_int_eq(entries_starting(path, "t-0."), 1);
    create_topic("t");
    long long first;
    ck_assert_int_eq(consume_all("g", "c", "t", 1, &first), 0); /* nothing old comes back */
    produce("t", "new", 3);
    ck_assert_int_eq(consume_all("g", "c", "t", 3, &first), 3);
}
END_TEST

/* Issue 10: a record produced to __consumer_offsets became a group's committed offset after restart. */
START_TEST(clients_cannot_forge_a_group_commit)
{
    long long first;
    create_topic("t");
    produce("t", "a", 5);
    ck_assert_int_eq(consume_all("g", "c", "t", 5, &first), 5);
    /* key "g\0t\00", value "999": what a commit of offset 999 looks like on disk */
    const char *forged = "{\"records\":[{\"key\":\"ZwB0ADA=\",\"value\":\"OTk5\"}]}";
    char url[256], *resp = NULL;
    long st;
    snprintf(url, sizeof url, "%s/topics/__consumer_offsets", proc.base);
    sl_http("POST", url, BIN, forged, &st, &resp);
    ck_assert_int_eq(st, 403);
    ck_assert_ptr_nonnull(strstr(resp, "40301"));
    free(resp);
    sl_proc_restart(&proc, false);
    json_t *j;
    /* the committed offset, read through a fresh instance of the group */
    ck_assert_int_eq(v2("POST", "/consumers/g", "{\"name\":\"x\",\"format\":\"binary\"}", NULL, NULL), 200);
    ck_assert_int_eq(v2("GET", "/consumers/g/instances/x/offsets",
                        "{\"partitions\":[{\"topic\":\"t\",\"partition\":0}]}", NULL, &j),
                     200);
    json_t *o = json_array_get(json_object_get(j, "offsets"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "offset")), 5);
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topic_lifecycle");
    TCase *tc = tcase_create("topic_lifecycle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_recreated_topic_is_read_from_its_start_by_an_old_group);
    tcase_add_test(tc, lost_topic_metadata_quarantines_the_old_data_and_reports_it);
    tcase_add_test(tc, clients_cannot_forge_a_group_commit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
