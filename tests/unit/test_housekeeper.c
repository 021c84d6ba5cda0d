/* Housekeeper: retention by time and size through the broker, leaving the active segment alone. */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "server/broker_int.h"
#include "server/logging.h"
#include "storage/err.h"
#include "tests/support/brokerutil.h"
#include "tests/support/testutil.h"

static char *dir;
static struct sl_config cfg;
static struct sl_broker *b;
static char err[256];

static void setup(void)
{
    sl_logging_set_level(SL_LEVEL_ERROR);
    dir = sl_test_tmpdir();
    sl_tb_config(&cfg, dir, SL_DURABILITY_SYNC);
    cfg.segment_bytes = 1024; /* a broker default: clients cannot set segment.bytes below 1 MiB */
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
}

static void teardown(void)
{
    sl_broker_close(b);
    sl_config_fini(&cfg);
    sl_test_rmrf(dir);
    free(dir);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fill(const char *topic, int batches)
{
    for (int i = 0; i < batches; i++)
        ck_assert_int_eq(sl_tb_produce_wait(b, topic, 0, "value-with-some-bytes", 10, NULL, NULL), 0);
}

START_TEST(housekeeper_deletes_old_segments_but_keeps_the_active_one)
{
    /* Records carry timestamp 1700000000000 (2023), so with retention.ms = 1 h every closed segment is old. */
    struct sl_kv kv[] = {{"retention.ms", "3600000"}};
    ck_assert_int_eq(sl_broker_topic_create(b, "old", 1, kv, 1, false, err, sizeof err), 0);
    fill("old", 20);
    struct sl_part_info before, after;
    ck_assert_int_eq(sl_broker_partition_info(b, "old", 0, &before), 0);
    ck_assert_uint_gt(before.segments, 2);
    sl_housekeeper_run_once(b, wall_ms());
    ck_assert_int_eq(sl_broker_partition_info(b, "old", 0, &after), 0);
    ck_assert_uint_eq(after.segments, 1);
    ck_assert_int_gt(after.log_start, 0);
    ck_assert_int_eq(after.log_end, before.log_end);
    ck_assert_int_eq(sl_tb_count_records(b, "old", 0, after.log_start), after.log_end - after.log_start);
    struct sl_buf buf = {0};
    sl_offset_t hw;
    ck_assert_int_eq(sl_broker_fetch(b, "old", 0, 0, 1024, &buf, &hw), SL_EOFFSET);
    sl_buf_fini(&buf);
}
END_TEST

START_TEST(housekeeper_applies_retention_bytes)
{
    struct sl_kv kv[] = {{"retention.bytes", "2048"}, {"retention.ms", "-1"}};
    ck_assert_int_eq(sl_broker_topic_create(b, "big", 1, kv, 2, false, err, sizeof err), 0);
    fill("big", 30);
    sl_housekeeper_run_once(b, wall_ms());
    struct sl_part_info pi;
    ck_assert_int_eq(sl_broker_partition_info(b, "big", 0, &pi), 0);
    ck_assert_int_gt(pi.log_start, 0);
    ck_assert_uint_le(pi.size_bytes, 2048 + 1024);
}
END_TEST

START_TEST(housekeeper_keeps_everything_within_retention)
{
    struct sl_kv kv[] = {{"retention.ms", "-1"}};
    ck_assert_int_eq(sl_broker_topic_create(b, "keep", 1, kv, 1, false, err, sizeof err), 0);
    fill("keep", 20);
    sl_housekeeper_run_once(b, wall_ms());
    struct sl_part_info pi;
    ck_assert_int_eq(sl_broker_partition_info(b, "keep", 0, &pi), 0);
    ck_assert_int_eq(pi.log_start, 0);
    ck_assert_int_eq(sl_tb_count_records(b, "keep", 0, 0), 200);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("housekeeper");
    TCase *tc = tcase_create("housekeeper");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, housekeeper_deletes_old_segments_but_keeps_the_active_one);
    tcase_add_test(tc, housekeeper_applies_retention_bytes);
    tcase_add_test(tc, housekeeper_keeps_everything_within_retention);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
