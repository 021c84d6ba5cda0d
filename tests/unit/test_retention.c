/* storage/retention.c through sl_log_retain: by time, by size, never the active segment, log start
 * advances and reads below it fail, the start survives a reopen. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/batch.h"
#include "storage/err.h"
#include "storage/log.h"
#include "tests/support/testutil.h"

#define T0 1700000000000LL

static char *tmp;

static void setup(void)
{
    tmp = sl_test_tmpdir();
    sl_test_clock_set(T0);
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
}

static struct sl_log *open_log(int64_t retention_ms, int64_t retention_bytes)
{
    struct sl_log_cfg c;
    struct sl_log *l;
    sl_log_cfg_defaults(&c, tmp);
    c.now_ms = sl_test_clock_now;
    c.segment_bytes = 1000;
    c.index_interval_bytes = 100;
    c.retention_ms = retention_ms;
    c.retention_bytes = retention_bytes;
    ck_assert_int_eq(sl_log_open(&c, &l), 0);
    return l;
}

/* One 2-record batch (~290 bytes) with timestamps ts, ts + 1: three per 1000-byte segment. */
static void append_at(struct sl_log *l, int64_t ts)
{
    struct sl_batch_builder b;
    struct sl_slice out;
    uint8_t val[100];
    memset(val, 'r', sizeof val);
    sl_bb_init(&b);
    for (int i = 0; i < 2; i++) {
        struct sl_record r = {.timestamp = ts + i, .value = {val, sizeof val}};
        ck_assert_int_eq(sl_bb_add(&b, &r), 0);
    }
    ck_assert_int_eq(sl_bb_finish(&b, &out), 0);
    ck_assert_int_eq(sl_log_append(l, (uint8_t *)out.base, out.len, 0, NULL, NULL), 0);
    sl_bb_fini(&b);
}

static int read_rc(struct sl_log *l, sl_offset_t o)
{
    struct sl_buf out = {0};
    int rc = sl_log_read(l, o, 1, INT64_MAX, &out);
    sl_buf_fini(&out);
    return rc;
}

START_TEST(retain_by_time_deletes_old_closed_segments_only)
{
    struct sl_log *l = open_log(10000, -1);
    for (int i = 0; i < 12; i++) /* 4 segments of 6 offsets; segment k's newest record at T0 + 1000 k + 2001 */
        append_at(l, T0 + 1000 * (i / 3) + 1000 * (i % 3));
    ck_assert_uint_eq(sl_log_segment_count(l), 4);
    ck_assert_int_eq(sl_log_retain(l, T0 + 12001), 0);   /* newest of segment 0 is exactly 10000 old */
    ck_assert_int_eq(sl_log_retain(l, T0 + 12002), 1);
    ck_assert_int_eq(sl_log_start(l), 6);
    ck_assert_int_eq(read_rc(l, 5), SL_EOFFSET);
    ck_assert_int_eq(read_rc(l, 6), 0);
    char *p = sl_test_path(tmp, "00000000000000000000.log");
    ck_assert_int_ne(access(p, F_OK), 0);
    free(p);
    /* Far in the future: every closed segment goes, never the active one. */
    ck_assert_int_eq(sl_log_retain(l, T0 + 1000000), 2);
    ck_assert_uint_eq(sl_log_segment_count(l), 1);
    ck_assert_int_eq(sl_log_start(l), 18);
    ck_assert_int_eq(sl_log_retain(l, T0 + 1000000), 0);
    ck_assert_int_eq(read_rc(l, 18), 0);
    ck_assert_int_eq(read_rc(l, 17), SL_EOFFSET);
    ck_assert_int_eq(sl_log_close(l), 0);
    l = open_log(10000, -1);
    ck_assert_int_eq(sl_log_start(l), 18);
    ck_assert_int_eq(sl_log_end(l), 24);
    ck_assert_int_eq(read_rc(l, 17), SL_EOFFSET);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

START_TEST(retain_by_size_keeps_at_least_retention_bytes)
{
    struct sl_log *l = open_log(-1, 2000);
    for (int i = 0; i < 15; i++)
        append_at(l, T0);
    ck_assert_uint_eq(sl_log_segment_count(l), 5);
    uint64_t seg = sl_log_size(l) / 5;
    ck_assert_int_eq(sl_log_retain(l, T0), 2); /* 5 segments of ~870 bytes: keep 3 (>= 2000) */
    ck_assert_uint_eq(sl_log_segment_count(l), 3);
    ck_assert_uint_ge(sl_log_size(l), 2000);
    ck_assert_uint_lt(sl_log_size(l) - seg, 2000);
    ck_assert_int_eq(sl_log_start(l), 12);
    ck_assert_int_eq(read_rc(l, 11), SL_EOFFSET);
    ck_assert_int_eq(read_rc(l, 12), 0);
    ck_assert_int_eq(sl_log_retain(l, T0), 0);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

START_TEST(retain_never_deletes_the_active_segment)
{
    struct sl_log *l = open_log(0, 0);
    append_at(l, T0 - 100000);
    ck_assert_int_eq(sl_log_retain(l, T0), 0);
    ck_assert_uint_eq(sl_log_segment_count(l), 1);
    ck_assert_int_eq(sl_log_start(l), 0);
    ck_assert_int_eq(read_rc(l, 0), 0);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

START_TEST(retain_unlimited_deletes_nothing)
{
    struct sl_log *l = open_log(-1, -1);
    for (int i = 0; i < 9; i++)
        append_at(l, 0);
    ck_assert_int_eq(sl_log_retain(l, T0 * 2), 0);
    ck_assert_uint_eq(sl_log_segment_count(l), 3);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

static Suite *retention_suite(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("retention");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, retain_by_time_deletes_old_closed_segments_only);
    tcase_add_test(tc, retain_by_size_keeps_at_least_retention_bytes);
    tcase_add_test(tc, retain_never_deletes_the_active_segment);
    tcase_add_test(tc, retain_unlimited_deletes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(retention_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
