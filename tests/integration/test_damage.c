/* Damaged data dirs against the real binary (issue 10): a partition of 40 batches in about ten segments is
 * stopped, damaged on disk with plain file calls, and restarted. Whatever the damage, the intact batches are
 * still read back at their offsets, a read in the damaged range gets 422/42209 naming it and the next
 * readable offset, and the damage is reported by /ready, /metrics and the v3 partition. The server keeps
 * serving and taking writes after each. */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define BIN "application/vnd.kafka.binary.v2+json"
#define NBATCH 40
#define PER 10

static struct sl_proc proc;
static char *tmp, *data, *pdir;

static void setup(void)
{
    static const char *const extra[] = {"--set", "segment.bytes=4096", NULL};
    tmp = sl_test_tmpdir();
    data = sl_test_path(tmp, "data");
    pdir = sl_test_path(data, "d-0");
    sl_proc_start(&proc, data, extra);
    char path[256], *cid = sl_proc_cluster_id(&proc);
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"d\",\"partitions_count\":1}", NULL), 201);
    free(cid);
    char body[4096], url[256];
    snprintf(url, sizeof url, "%s/topics/d", proc.base);
    for (int b = 0; b < NBATCH; b++) {
        size_t len = (size_t)snprintf(body, sizeof body, "{\"records\":[");
        for (int i = 0; i < PER; i++)
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "%s{\"value\":\"cmVjb3JkIHJlY29yZCByZWNvcmQgcmVjb3JkIHJlY29yZCByZWNvcmQ=\"}",
                                    i ? "," : "");
        snprintf(body + len, sizeof body - len, "]}");
        long st;
        sl_http("POST", url, BIN, body, &st, NULL);
        ck_assert_int_eq(st, 200);
    }
    sl_proc_stop(&proc);
}

static void teardown(void)
{
    sl_proc_free(&proc);
    sl_test_rmrf(tmp);
    free(pdir);
    free(data);
    free(tmp);
}

/* The n-th (0-based) segment file name of d-0, sorted. */
static void nth_segment(int n, char *out, size_t len)
{
    struct dirent **v;
    int cnt = scandir(pdir, &v, NULL, alphasort), k = 0;
    ck_assert_int_gt(cnt, 0);
    out[0] = '\0';
    for (int i = 0; i < cnt; i++) {
        size_t l = strlen(v[i]->d_name);
        if (l > 4 && !strcmp(v[i]->d_name + l - 4, ".log") && k++ == n)
            snprintf(out, len, "%s", v[i]->d_name);
        free(v[i]);
    }
    free(v);
    ck_assert_msg(out[0], "no segment #%d (of %d files)", n, cnt);
}

static long read_at(int64_t off, json_t **j)
{
    char url[256];
    struct sl_resp r;
    snprintf(url, sizeof url, "%s/topics/d/partitions/0/records?offset=%" PRId64 "&max_bytes=1000000", proc.base,
             off);
    const char *hdrs[] = {"Accept: " BIN, NULL};
    long st = sl_http_req("GET", url, NULL, NULL, 0, hdrs, &r);
    *j = sl_resp_json(&r);
    sl_resp_fini(&r);
    return st;
}

/* Reads the whole partition: every offset outside [from, to) comes back exactly once, in order; a read at
 * from gets 42209 whose message names the range. */
static void check_hole(int64_t from, int64_t to)
{
    int64_t off = 0;
    while (off < NBATCH * PER) {
        json_t *j;
        long st = read_at(off, &j);
        if (off == from) {
            ck_assert_int_eq(st, 422);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 42209);
            char want[64];
            snprintf(want, sizeof want, "[%" PRId64 ", %" PRId64 ")", from, to);
            const char *msg = json_string_value(json_object_get(j, "message"));
            ck_assert_msg(msg && strstr(msg, want), "message \"%s\" does not name %s", msg ? msg : "", want);
            json_decref(j);
            off = to;
            continue;
        }
        ck_assert_msg(st == 200 && json_array_size(j) > 0, "read at %" PRId64 ": %ld", off, st);
        for (size_t i = 0; i < json_array_size(j); i++) {
            int64_t o = json_integer_value(json_object_get(json_array_get(j, i), "offset"));
            ck_assert_int_eq(o, off);
            off++;
        }
        json_decref(j);
    }
}

static void check_reported(int damaged_ranges, int quarantined)
{
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/ready", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), damaged_ranges ? "degraded" : "ready");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "damaged_partitions")), damaged_ranges ? 1 : 0);
    json_decref(j);
    char url[256], line[160];
    snprintf(url, sizeof url, "%s/metrics", proc.base);
    struct sl_resp r;
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, NULL, &r), 200);
    snprintf(line, sizeof line, "sluice_partition_damaged_ranges{topic=\"d\",partition=\"0\"} %d", damaged_ranges);
    ck_assert_msg(!damaged_ranges || strstr(r.body, line), "no \"%s\" in /metrics", line);
    snprintf(line, sizeof line, "sluice_partition_quarantined_files{topic=\"d\",partition=\"0\"} %d", quarantined);
    ck_assert_msg(!quarantined || strstr(r.body, line), "no \"%s\" in /metrics", line);
    sl_resp_fini(&r);
    char *cid = sl_proc_cluster_id(&proc);
    snprintf(url, sizeof url, "/v3/clusters/%s/topics/d/partitions/0", cid);
    free(cid);
    ck_assert_int_eq(sl_http_json(&proc, "GET", url, NULL, &j), 200);
    json_t *h = json_object_get(j, "health");
    ck_assert_int_eq(json_integer_value(json_object_get(h, "damaged_ranges")), damaged_ranges);
    ck_assert_int_eq(json_integer_value(json_object_get(h, "quarantined_files")), quarantined);
    json_decref(j);
}

/* The server still takes writes, at the offset after everything it had. */
static void check_writable(void)
{
    char url[256];
    snprintf(url, sizeof url, "%s/topics/d", proc.base);
    long st;
    sl_http("POST", url, BIN, "{\"records\":[{\"value\":\"YQ==\"}]}", &st, NULL);
    ck_assert_int_eq(st, 200);
    json_t *j;
    ck_assert_int_eq(read_at(NBATCH * PER, &j), 200);
    ck_assert_uint_eq(json_array_size(j), 1);
    json_decref(j);
}

static int64_t base_of(const char *seg)
{
    return (int64_t)strtoll(seg, NULL, 10);
}

START_TEST(a_stray_file_named_like_a_segment_is_quarantined_and_nothing_is_lost)
{
    char *p = sl_test_path(pdir, "00000000000000000001.log");
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 100; i++)
        fputc(i * 7, f);
    fclose(f);
    free(p);
    sl_proc_start_again(&proc);
    check_hole(-1, -1);
    check_reported(0, 1);
    p = sl_test_path(pdir, "quarantine/00000000000000000001.log");
    ck_assert(access(p, F_OK) == 0);
    free(p);
    check_writable();
}
END_TEST

START_TEST(a_missing_middle_segment_leaves_a_reported_hole_and_every_later_record)
{
    char seg[64], next[64];
    nth_segment(3, seg, sizeof seg);
    nth_segment(4, next, sizeof next);
    char *p = sl_test_path(pdir, seg);
    ck_assert(unlink(p) == 0);
    free(p);
    sl_proc_start_again(&proc);
    check_hole(base_of(seg), base_of(next));
    check_reported(1, 0);
    check_writable();
}
END_TEST

START_TEST(an_empty_first_segment_keeps_every_later_record)
{
    char seg[64], next[64];
    nth_segment(0, seg, sizeof seg);
    nth_segment(1, next, sizeof next);
    char *p = sl_test_path(pdir, seg);
    ck_assert(truncate(p, 0) == 0);
    free(p);
    sl_proc_start_again(&proc);
    check_hole(0, base_of(next));
    check_reported(1, 0);
    check_writable();
}
END_TEST

START_TEST(a_checkpoint_with_the_log_start_past_the_end_is_rebuilt)
{
    char *p = sl_test_path(pdir, "partition.ckpt");
    FILE *f = fopen(p, "w");
    fprintf(f, "sluice-partition 1\nrecovery_point 9000\nhigh_watermark 9000\nlog_start_offset 5000\nclean 1\n");
    fclose(f);
    free(p);
    sl_proc_start_again(&proc);
    check_hole(-1, -1);
    check_writable();
}
END_TEST

START_TEST(a_flipped_byte_after_a_clean_stop_is_never_served_and_the_rest_is)
{
    char seg[64];
    nth_segment(2, seg, sizeof seg);
    char *p = sl_test_path(pdir, seg);
    FILE *f = fopen(p, "r+b");
    ck_assert(fseek(f, 61 + 20, SEEK_SET) == 0); /* inside the records of the segment's first batch */
    int c = fgetc(f);
    ck_assert(fseek(f, 61 + 20, SEEK_SET) == 0);
    fputc(c ^ 0x10, f);
    fclose(f);
    free(p);
    sl_proc_start_again(&proc);
    check_hole(base_of(seg), base_of(seg) + PER); /* found by the read; the batch after it is readable */
    check_reported(1, 0);
    check_writable();
}
END_TEST

static Suite *damage_suite(void)
{
    Suite *s = suite_create("damage");
    TCase *tc = tcase_create("damage");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_stray_file_named_like_a_segment_is_quarantined_and_nothing_is_lost);
    tcase_add_test(tc, a_missing_middle_segment_leaves_a_reported_hole_and_every_later_record);
    tcase_add_test(tc, an_empty_first_segment_keeps_every_later_record);
    tcase_add_test(tc, a_checkpoint_with_the_log_start_past_the_end_is_rebuilt);
    tcase_add_test(tc, a_flipped_byte_after_a_clean_stop_is_never_served_and_the_rest_is);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(damage_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
