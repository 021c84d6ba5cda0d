/* Broker: topic lifecycle, produce/fetch, offsets, watches, persistence across reopen. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/broker.h"
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
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
}

static void teardown(void)
{
    sl_broker_close(b);
    sl_config_fini(&cfg);
    sl_test_rmrf(dir);
    free(dir);
}

static void reopen(void)
{
    sl_broker_close(b);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
}

START_TEST(broker_creates_lists_and_deletes_topics)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "orders", 3, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_partition_count(b, "orders"), 3);
    struct sl_topic_info *arr;
    size_t n;
    ck_assert_int_eq(sl_broker_topics(b, &arr, &n), 0);
    ck_assert_uint_eq(n, 2); /* orders + __consumer_offsets, sorted */
    ck_assert_str_eq(arr[0].name, "__consumer_offsets");
    ck_assert(arr[0].internal);
    ck_assert_str_eq(arr[1].name, "orders");
    ck_assert_int_eq(arr[1].partitions, 3);
    free(arr);
    ck_assert_int_eq(sl_broker_topic_delete(b, "orders"), 0);
    ck_assert_int_eq(sl_broker_partition_count(b, "orders"), SL_ENOTOPIC);
    ck_assert_int_eq(sl_broker_topic_delete(b, "orders"), SL_ENOTOPIC);
    ck_assert_int_eq(sl_broker_topic_delete(b, "__consumer_offsets"), SL_EINTERNAL);
}
END_TEST

START_TEST(broker_rejects_bad_names_duplicates_and_configs)
{
    const char *bad[] = {"", ".", "..", "a/b", "../etc", "sp ace", "ü"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(sl_broker_topic_create(b, bad[i], 1, NULL, 0, false, err, sizeof err), SL_EBADNAME);
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 0, NULL, 0, false, err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), SL_EEXISTS);
    ck_assert_str_eq(err, "Topic 't' already exists.");
    struct sl_kv compact = {"cleanup.policy", "compact"};
    ck_assert_int_eq(sl_broker_topic_create(b, "c", 1, &compact, 1, false, err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "compaction"));
    struct sl_kv unknown = {"no.such.config", "1"};
    ck_assert_int_eq(sl_broker_topic_create(b, "c", 1, &unknown, 1, false, err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_broker_partition_count(b, "c"), SL_ENOTOPIC);
}
END_TEST

START_TEST(broker_validate_only_creates_nothing)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "v", 2, NULL, 0, true, err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_partition_count(b, "v"), SL_ENOTOPIC);
}
END_TEST

START_TEST(broker_produce_is_readable_after_done)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 2, NULL, 0, false, err, sizeof err), 0);
    sl_offset_t first, last;
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 1, "a", 10, &first, &last), 0);
    ck_assert_int_eq(first, 0);
    ck_assert_int_eq(last, 9);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 1, "b", 5, &first, &last), 0);
    ck_assert_int_eq(first, 10);
    sl_offset_t start, end;
    ck_assert_int_eq(sl_broker_offsets(b, "t", 1, &start, &end), 0);
    ck_assert_int_eq(start, 0);
    ck_assert_int_eq(end, 15);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 1, 0), 15);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 1, 12), 3);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 0);
    struct sl_part_info pi;
    ck_assert_int_eq(sl_broker_partition_info(b, "t", 1, &pi), 0);
    ck_assert_int_eq(pi.hw, 15);
    ck_assert_int_eq(pi.log_end, 15);
    ck_assert(pi.size_bytes > 0);
}
END_TEST

START_TEST(broker_produce_errors_never_call_done)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "nope", 0, "x", 1, NULL, NULL), SL_ENOTOPIC);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 1, "x", 1, NULL, NULL), SL_ENOPART);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", -1, "x", 1, NULL, NULL), SL_ENOPART);
    ck_assert_int_eq(sl_broker_topic_set_config(b, "t", "max.message.bytes", "100", err, sizeof err), 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 0, "x", 50, NULL, NULL), SL_ETOOBIG);
    size_t len;
    uint8_t *batch = sl_tb_batch("x", 1, 0, &len);
    batch[30] ^= 1; /* inside the CRC-covered part */
    struct sl_produce req = {0};
    ck_assert_int_eq(sl_broker_produce(b, "t", 0, batch, len, &req), SL_EBADBATCH);
    free(batch);
}
END_TEST

START_TEST(broker_fetch_rejects_offsets_outside_the_log)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 0, "a", 3, NULL, NULL), 0);
    struct sl_buf buf = {0};
    sl_offset_t hw;
    ck_assert_int_eq(sl_broker_fetch(b, "t", 0, 4, 1024, &buf, &hw), SL_EOFFSET);
    ck_assert_int_eq(sl_broker_fetch(b, "t", 0, -1, 1024, &buf, &hw), SL_EOFFSET);
    ck_assert_int_eq(sl_broker_fetch(b, "t", 0, 3, 1024, &buf, &hw), 0);
    ck_assert_uint_eq(buf.len, 0);
    ck_assert_int_eq(hw, 3);
    ck_assert_int_eq(sl_broker_fetch(b, "x", 0, 0, 1024, &buf, &hw), SL_ENOTOPIC);
    sl_buf_fini(&buf);
}
END_TEST

struct fired {
    struct sl_watch w;
    int count;
    int rc;
};

static void on_fire(struct sl_watch *w, int rc)
{
    struct fired *f = w->arg;
    __atomic_add_fetch(&f->count, 1, __ATOMIC_SEQ_CST);
    f->rc = rc;
}

static bool fired_once(void *arg)
{
    return __atomic_load_n(&((struct fired *)arg)->count, __ATOMIC_SEQ_CST) == 1;
}

START_TEST(broker_watch_fires_once_when_data_arrives)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
    struct fired f = {.w = {.fire = on_fire}};
    f.w.arg = &f;
    ck_assert_int_eq(sl_broker_watch(b, "t", 0, 0, &f.w), 0);
    ck_assert_int_eq(f.count, 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 0, "a", 1, NULL, NULL), 0);
    ck_assert(sl_test_wait_until(fired_once, &f, 5000));
    ck_assert_int_eq(f.rc, 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 0, "a", 1, NULL, NULL), 0);
    ck_assert_int_eq(f.count, 1);
    ck_assert_int_eq(sl_broker_unwatch(b, &f.w), -ENOENT);
    /* data already there: fires before returning */
    struct fired g = {.w = {.fire = on_fire}};
    g.w.arg = &g;
    ck_assert_int_eq(sl_broker_watch(b, "t", 0, 1, &g.w), 0);
    ck_assert_int_eq(g.count, 1);
}
END_TEST

START_TEST(broker_unwatch_prevents_firing_and_delete_fires_enotopic)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
    struct fired f = {.w = {.fire = on_fire}}, g = {.w = {.fire = on_fire}};
    f.w.arg = &f;
    g.w.arg = &g;
    ck_assert_int_eq(sl_broker_watch(b, "t", 0, 0, &f.w), 0);
    ck_assert_int_eq(sl_broker_watch(b, "t", 0, 0, &g.w), 0);
    ck_assert_int_eq(sl_broker_unwatch(b, &f.w), 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 0, "a", 1, NULL, NULL), 0);
    ck_assert(sl_test_wait_until(fired_once, &g, 5000));
    ck_assert_int_eq(f.count, 0);
    struct fired h = {.w = {.fire = on_fire}};
    h.w.arg = &h;
    ck_assert_int_eq(sl_broker_watch(b, "t", 0, 5, &h.w), 0);
    ck_assert_int_eq(sl_broker_topic_delete(b, "t"), 0);
    ck_assert_int_eq(h.count, 1);
    ck_assert_int_eq(h.rc, SL_ENOTOPIC);
    ck_assert_int_eq(sl_broker_watch(b, "t", 0, 0, &h.w), SL_ENOTOPIC);
}
END_TEST

START_TEST(broker_reopen_keeps_topics_configs_and_records)
{
    struct sl_kv kv = {"retention.ms", "12345"};
    ck_assert_int_eq(sl_broker_topic_create(b, "keep", 2, &kv, 1, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "keep", 1, "a", 7, NULL, NULL), 0);
    ck_assert_int_eq(sl_broker_topic_set_config(b, "keep", "segment.bytes", "1048576", err, sizeof err), 0);
    char cid[64];
    snprintf(cid, sizeof cid, "%s", sl_broker_cluster_id(b));
    reopen();
    ck_assert_str_eq(sl_broker_cluster_id(b), cid);
    struct sl_topic_info ti;
    ck_assert_int_eq(sl_broker_topic_info(b, "keep", &ti), 0);
    ck_assert_int_eq(ti.partitions, 2);
    ck_assert_int_eq(ti.cfg.retention_ms, 12345);
    ck_assert_int_eq(ti.cfg.segment_bytes, 1048576);
    ck_assert_int_eq(sl_tb_count_records(b, "keep", 1, 0), 7);
    sl_offset_t first;
    ck_assert_int_eq(sl_tb_produce_wait(b, "keep", 1, "b", 1, &first, NULL), 0);
    ck_assert_int_eq(first, 7);
}
END_TEST

START_TEST(broker_adds_partitions_but_never_removes)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_topic_add_partitions(b, "t", 4, err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_partition_count(b, "t"), 4);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 3, "a", 1, NULL, NULL), 0);
    ck_assert_int_eq(sl_broker_topic_add_partitions(b, "t", 2, err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_broker_topic_add_partitions(b, "x", 2, err, sizeof err), SL_ENOTOPIC);
    reopen();
    ck_assert_int_eq(sl_broker_partition_count(b, "t"), 4);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 3, 0), 1);
}
END_TEST

/* Issue 10: anyone could produce to __consumer_offsets and set its retention.ms=1. */
START_TEST(broker_refuses_clients_on_internal_topics)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "__mine", 1, NULL, 0, false, err, sizeof err), SL_EINTERNAL);
    ck_assert_ptr_nonnull(strstr(err, "__"));
    ck_assert_int_eq(sl_broker_partition_count(b, "__mine"), SL_ENOTOPIC);
    ck_assert_int_eq(sl_broker_topic_set_config(b, "__consumer_offsets", "retention.ms", "1", err, sizeof err),
                     SL_EINTERNAL);
    ck_assert_int_eq(sl_broker_topic_set_config(b, "__consumer_offsets", "retention.ms", NULL, err, sizeof err),
                     SL_EINTERNAL);
    ck_assert_int_eq(sl_broker_topic_add_partitions(b, "__consumer_offsets", 8, err, sizeof err), SL_EINTERNAL);
    ck_assert_int_eq(sl_tb_produce_wait(b, "__consumer_offsets", 0, "forged", 1, NULL, NULL), SL_EINTERNAL);
    struct sl_topic_info ti;
    ck_assert_int_eq(sl_broker_topic_info(b, "__consumer_offsets", &ti), 0);
    ck_assert(ti.internal);
    ck_assert_int_eq(ti.cfg.retention_ms, -1);
    ck_assert_int_eq(ti.partitions, 1);
    sl_offset_t start, end;
    ck_assert_int_eq(sl_broker_offsets(b, "__consumer_offsets", 0, &start, &end), 0);
    ck_assert_int_eq(end, 0);
}
END_TEST

/* Issue 10: segment.bytes=14 let a client open one file per produce until the partition failed. */
START_TEST(broker_bounds_segment_configs_set_by_clients)
{
    struct sl_kv tiny = {"segment.bytes", "14"}, fast = {"segment.ms", "1"}, ok = {"segment.bytes", "1048576"};
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, &tiny, 1, false, err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "1048576"));
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, &fast, 1, false, err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "60000"));
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, &ok, 1, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_topic_set_config(b, "t", "segment.bytes", "1048575", err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_broker_topic_set_config(b, "t", "segment.ms", "59999", err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_broker_topic_set_config(b, "t", "segment.ms", "60000", err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_topic_set_config(b, "t", "segment.bytes", NULL, err, sizeof err), 0);
    struct sl_topic_info ti;
    ck_assert_int_eq(sl_broker_topic_info(b, "t", &ti), 0);
    ck_assert_int_eq(ti.cfg.segment_ms, 60000);
    ck_assert_int_eq(ti.cfg.segment_bytes, cfg.segment_bytes);
}
END_TEST

START_TEST(broker_offset_for_time_finds_the_first_newer_record)
{
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 0, "a", 2, NULL, NULL), 0); /* ts 1700000000000 */
    sl_offset_t off;
    ck_assert_int_eq(sl_broker_offset_for_time(b, "t", 0, 0, &off), 0);
    ck_assert_int_eq(off, 0);
    ck_assert_int_eq(sl_broker_offset_for_time(b, "t", 0, 1800000000000LL, &off), 0);
    ck_assert_int_eq(off, 2);
}
END_TEST

/* A file table that counts the files opened through it, and a clock stopped at a given wall time. */
static _Atomic int opens;

static int counting_open(const char *path, int flags, int mode)
{
    opens++;
    return sl_fileops_posix.open(path, flags, mode);
}

static int64_t stopped_wall_ms(const struct sl_clock *c)
{
    return *(const int64_t *)c->ctx;
}

START_TEST(broker_takes_its_files_and_clock_from_the_caller)
{
    sl_broker_close(b);
    struct sl_fileops fo = sl_fileops_posix;
    fo.open = counting_open;
    int64_t wall = 1600000000000;
    struct sl_clock clock = sl_clock_posix;
    clock.wall_ms = stopped_wall_ms;
    clock.ctx = &wall;
    opens = 0;
    ck_assert_int_eq(sl_broker_open(&cfg, &fo, &clock, &b), 0);
    int at_open = opens;
    ck_assert_int_gt(at_open, 0); /* cluster.id, __consumer_offsets' files */
    ck_assert_int_eq(sl_broker_topic_create(b, "timed", 1, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_gt(opens, at_open);
    char *path = sl_test_path(dir, "meta/timed.topic"), *text = NULL;
    ck_assert_int_eq(sl_file_read_all(&sl_fileops_posix, path, 4096, &text, NULL), 0);
    ck_assert_ptr_nonnull(strstr(text, "created.ms=1600000000000\n"));
    free(text);
    free(path);
    sl_broker_close(b); /* before fo and clock go out of scope */
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
}
END_TEST

/* Issue 13: every object has one owner and can exist several times in one process. Three brokers, three
 * data dirs, node ids 1..3: each keeps its own topics, records, cluster id and flusher; closing one leaves
 * the others serving. */
START_TEST(three_brokers_live_side_by_side_in_one_process)
{
    char *dirs[3];
    struct sl_config cfgs[3];
    struct sl_broker *bs[3];
    for (int i = 0; i < 3; i++) {
        dirs[i] = sl_test_tmpdir();
        sl_tb_config(&cfgs[i], dirs[i], SL_DURABILITY_SYNC);
        cfgs[i].node_id = i + 1;
        ck_assert_int_eq(sl_broker_open(&cfgs[i], &sl_fileops_posix, &sl_clock_posix, &bs[i]), 0);
        ck_assert_int_eq(sl_broker_topic_create(bs[i], "shared-name", 1, NULL, 0, false, err, sizeof err), 0);
    }
    for (int i = 0; i < 3; i++) {
        sl_offset_t first, last;
        ck_assert_int_eq(sl_tb_produce_wait(bs[i], "shared-name", 0, "r", i + 1, &first, &last), 0);
        ck_assert_int_eq(first, 0); /* offsets of its own log, not a shared one */
        ck_assert_int_eq(sl_broker_node_id(bs[i]), i + 1);
    }
    ck_assert_str_ne(sl_broker_cluster_id(bs[0]), sl_broker_cluster_id(bs[1]));
    sl_broker_close(bs[1]); /* the others go on */
    for (int i = 0; i < 3; i += 2) {
        ck_assert_int_eq(sl_tb_count_records(bs[i], "shared-name", 0, 0), i + 1);
        sl_offset_t first, last;
        ck_assert_int_eq(sl_tb_produce_wait(bs[i], "shared-name", 0, "s", 1, &first, &last), 0);
        ck_assert_int_eq(first, i + 1);
    }
    for (int i = 0; i < 3; i++) {
        if (i != 1)
            sl_broker_close(bs[i]);
        sl_config_fini(&cfgs[i]);
        sl_test_rmrf(dirs[i]);
        free(dirs[i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("broker");
    TCase *tc = tcase_create("broker");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, broker_creates_lists_and_deletes_topics);
    tcase_add_test(tc, broker_rejects_bad_names_duplicates_and_configs);
    tcase_add_test(tc, broker_validate_only_creates_nothing);
    tcase_add_test(tc, broker_produce_is_readable_after_done);
    tcase_add_test(tc, broker_produce_errors_never_call_done);
    tcase_add_test(tc, broker_fetch_rejects_offsets_outside_the_log);
    tcase_add_test(tc, broker_watch_fires_once_when_data_arrives);
    tcase_add_test(tc, broker_unwatch_prevents_firing_and_delete_fires_enotopic);
    tcase_add_test(tc, broker_reopen_keeps_topics_configs_and_records);
    tcase_add_test(tc, broker_adds_partitions_but_never_removes);
    tcase_add_test(tc, broker_offset_for_time_finds_the_first_newer_record);
    tcase_add_test(tc, broker_refuses_clients_on_internal_topics);
    tcase_add_test(tc, broker_bounds_segment_configs_set_by_clients);
    tcase_add_test(tc, broker_takes_its_files_and_clock_from_the_caller);
    tcase_add_test(tc, three_brokers_live_side_by_side_in_one_process);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
