/* Partition: the HW rule, the order in which produces complete, watch firing, the leader epoch. The test plays
 * the flusher: it reports "durable up to N" itself (sl_partition_durable), so every step is deterministic and
 * no thread runs beside the test. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/logging.h"
#include "server/partition.h"
#include "storage/err.h"
#include "tests/support/brokerutil.h"
#include "tests/support/testutil.h"

#define MAXREQ 8

static char *dir;
static struct sl_partition *p;

/* The order done callbacks ran in, and their rcs. */
static int order[MAXREQ], rcs[MAXREQ], ndone;

static void on_done(struct sl_produce *req, int rc)
{
    order[ndone] = (int)(intptr_t)req->arg;
    rcs[ndone++] = rc;
}

struct fired {
    struct sl_watch w;
    int count, rc;
};

static void on_fire(struct sl_watch *w, int rc)
{
    struct fired *f = (struct fired *)w;
    f->count++;
    f->rc = rc;
}

static void open_part(enum sl_durability d, sl_epoch_t epoch)
{
    struct sl_log_cfg lc;
    sl_log_cfg_defaults(&lc, dir);
    ck_assert_int_eq(sl_partition_open(&lc, d, epoch, &p), 0);
}

static void setup(void)
{
    sl_logging_set_level(SL_LEVEL_ERROR);
    dir = sl_test_tmpdir();
    ndone = 0;
    p = NULL;
}

static void teardown(void)
{
    if (p)
        ck_assert_int_eq(sl_partition_close(p, SL_ESTOPPED), 0);
    sl_test_rmrf(dir);
    free(dir);
}

/* Appends one batch of n records as produce number id; returns its last offset. */
static sl_offset_t append(struct sl_produce *req, int id, int n, struct sl_part_done *done)
{
    size_t len;
    uint8_t *batch = sl_tb_batch("v", n, 1700000000000, &len);
    memset(req, 0, sizeof *req);
    req->done = on_done;
    req->arg = (void *)(intptr_t)id;
    ck_assert_int_eq(sl_partition_append(p, batch, len, req, done), 0);
    free(batch);
    return req->last;
}

static void watch_init(struct fired *f)
{
    memset(f, 0, sizeof *f);
    f->w.fire = on_fire;
}

START_TEST(partition_sync_hw_is_the_durable_end)
{
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct sl_produce r[3];
    struct sl_part_done done;
    sl_part_done_init(&done);
    ck_assert_int_eq(append(&r[0], 0, 2, &done), 1);
    ck_assert_int_eq(append(&r[1], 1, 2, &done), 3);
    ck_assert_int_eq(append(&r[2], 2, 2, &done), 5);
    ck_assert_ptr_null(done.head); /* written is not visible */
    ck_assert(!done.advanced);
    ck_assert_int_eq(sl_partition_hw(p), 0);
    ck_assert_int_eq(sl_log_end(sl_partition_log(p)), 6);

    sl_partition_durable(p, 4, &done);
    ck_assert_int_eq(sl_partition_hw(p), 4);
    ck_assert(done.advanced);
    sl_part_done_run(&done);
    ck_assert_int_eq(ndone, 2);
    ck_assert_int_eq(order[0], 0);
    ck_assert_int_eq(order[1], 1);
    ck_assert_int_eq(rcs[0], 0);
    ck_assert_int_eq(rcs[1], 0);
    ck_assert(!done.advanced); /* run empties the list */

    sl_partition_durable(p, 3, &done); /* an older report changes nothing */
    ck_assert_int_eq(sl_partition_hw(p), 4);
    ck_assert(!done.advanced);
    ck_assert_ptr_null(done.head);

    sl_partition_durable(p, 6, &done);
    ck_assert_int_eq(sl_partition_hw(p), 6);
    sl_part_done_run(&done);
    ck_assert_int_eq(ndone, 3);
    ck_assert_int_eq(order[2], 2);
    ck_assert_int_eq(sl_log_hw(sl_partition_log(p)), 6); /* what partition.ckpt will persist */
}
END_TEST

START_TEST(partition_produce_completes_only_when_the_hw_passes_its_last_offset)
{
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct sl_produce r;
    struct sl_part_done done;
    sl_part_done_init(&done);
    append(&r, 0, 3, &done); /* offsets 0..2 */
    sl_partition_durable(p, 2, &done);
    ck_assert(done.advanced);
    ck_assert_int_eq(sl_partition_hw(p), 2);
    ck_assert_ptr_null(done.head); /* its last record is not visible yet */
    sl_partition_durable(p, 3, &done);
    sl_part_done_run(&done);
    ck_assert_int_eq(ndone, 1);
    ck_assert_int_eq(r.first, 0);
    ck_assert_int_eq(r.last, 2);
}
END_TEST

START_TEST(partition_async_hw_is_the_written_end)
{
    open_part(SL_DURABILITY_ASYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct sl_produce r;
    struct sl_part_done done;
    sl_part_done_init(&done);
    ck_assert_int_eq(append(&r, 0, 3, &done), 2);
    ck_assert_int_eq(sl_partition_hw(p), 3);
    ck_assert(done.advanced);
    sl_part_done_run(&done);
    ck_assert_int_eq(ndone, 1);
    ck_assert_int_eq(rcs[0], 0);
    sl_partition_durable(p, 3, &done); /* durability does not move an async HW */
    ck_assert(!done.advanced);
}
END_TEST

START_TEST(partition_failed_sync_fails_every_pending_produce)
{
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct sl_produce r[2];
    struct sl_part_done done;
    sl_part_done_init(&done);
    append(&r[0], 0, 1, &done);
    append(&r[1], 1, 1, &done);
    sl_partition_sync_failed(p, SL_EFAILED, &done);
    ck_assert(!done.advanced);
    sl_part_done_run(&done);
    ck_assert_int_eq(ndone, 2);
    ck_assert_int_eq(order[0], 0);
    ck_assert_int_eq(rcs[0], SL_EFAILED);
    ck_assert_int_eq(rcs[1], SL_EFAILED);
    ck_assert_int_eq(sl_partition_hw(p), 0);
}
END_TEST

START_TEST(partition_watch_fires_once_when_the_hw_passes_its_offset)
{
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct sl_produce r;
    struct sl_part_done done;
    sl_part_done_init(&done);
    append(&r, 0, 3, &done);
    struct fired f;
    watch_init(&f);
    ck_assert(!sl_partition_watch(p, 1, &f.w)); /* HW 0: armed */
    sl_partition_durable(p, 1, &done);          /* HW 1 does not exceed offset 1 */
    ck_assert_int_eq(f.count, 0);
    sl_partition_durable(p, 3, &done); /* fires before the produce is handed back */
    ck_assert_int_eq(f.count, 1);
    ck_assert_int_eq(f.rc, 0);
    ck_assert_int_eq(ndone, 0);
    sl_part_done_run(&done);
    ck_assert_int_eq(ndone, 1);
    ck_assert_int_eq(sl_partition_unwatch(&f.w), -ENOENT);

    struct fired g;
    watch_init(&g);
    ck_assert(sl_partition_watch(p, 2, &g.w)); /* already passed: the caller fires it */
    ck_assert_int_eq(g.count, 0);
    ck_assert_int_eq(sl_partition_unwatch(&g.w), -ENOENT);
}
END_TEST

START_TEST(partition_unwatched_watch_never_fires)
{
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct fired f[3];
    for (int i = 0; i < 3; i++) {
        watch_init(&f[i]);
        ck_assert(!sl_partition_watch(p, 0, &f[i].w));
    }
    ck_assert_int_eq(sl_partition_unwatch(&f[1].w), 0); /* from the middle of the list */
    ck_assert_int_eq(sl_partition_unwatch(&f[1].w), -ENOENT);
    struct sl_produce r;
    struct sl_part_done done;
    sl_part_done_init(&done);
    append(&r, 0, 1, &done);
    sl_partition_durable(p, 1, &done);
    sl_part_done_run(&done);
    ck_assert_int_eq(f[0].count, 1);
    ck_assert_int_eq(f[1].count, 0);
    ck_assert_int_eq(f[2].count, 1);
}
END_TEST

START_TEST(partition_close_ends_watches_and_produces_with_its_rc)
{
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct sl_produce r;
    struct sl_part_done done;
    sl_part_done_init(&done);
    append(&r, 0, 1, &done);
    struct fired f;
    watch_init(&f);
    ck_assert(!sl_partition_watch(p, 5, &f.w));
    ck_assert_int_eq(sl_partition_close(p, SL_ENOTOPIC), 0);
    p = NULL;
    ck_assert_int_eq(f.count, 1);
    ck_assert_int_eq(f.rc, SL_ENOTOPIC);
    ck_assert_int_eq(ndone, 1);
    ck_assert_int_eq(rcs[0], SL_ENOTOPIC);
}
END_TEST

START_TEST(partition_reads_stop_at_the_hw)
{
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct sl_produce r[2];
    struct sl_part_done done;
    sl_part_done_init(&done);
    append(&r[0], 0, 2, &done);
    append(&r[1], 1, 2, &done);
    sl_partition_durable(p, 2, &done);
    sl_part_done_run(&done);
    struct sl_buf out = {0};
    sl_offset_t hw = -1, start, end;
    ck_assert_int_eq(sl_partition_fetch(p, 0, 1 << 20, &out, &hw), 0);
    ck_assert_int_eq(hw, 2);
    struct sl_part_info pi;
    sl_partition_info(p, &pi);
    ck_assert_int_eq(pi.hw, 2);
    ck_assert_int_eq(pi.log_end, 4);
    ck_assert_uint_gt(out.len, 0);
    ck_assert_uint_lt(out.len, sl_log_size(sl_partition_log(p))); /* the first batch only */
    ck_assert_int_eq(sl_partition_fetch(p, 3, 1 << 20, &out, NULL), SL_EOFFSET);
    sl_partition_offsets(p, &start, &end);
    ck_assert_int_eq(start, 0);
    ck_assert_int_eq(end, 2);
    sl_buf_fini(&out);
    sl_partition_durable(p, 4, &done); /* r[1] must not outlive this frame pending */
    sl_part_done_run(&done);
    ck_assert_int_eq(ndone, 2);
}
END_TEST

static int32_t be32(const uint8_t *b)
{
    return (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
}

START_TEST(partition_stamps_its_leader_epoch)
{
    open_part(SL_DURABILITY_SYNC, 7);
    ck_assert_int_eq(sl_partition_role(p), SL_PART_LEADER);
    ck_assert_int_eq(sl_partition_epoch(p), 7);
    ck_assert_int_eq(sl_log_latest_epoch(sl_partition_log(p)), 7);
    struct sl_produce r;
    struct sl_part_done done;
    sl_part_done_init(&done);
    append(&r, 0, 1, &done);
    sl_partition_durable(p, 1, &done);
    sl_part_done_run(&done);
    struct sl_buf out = {0};
    ck_assert_int_eq(sl_partition_fetch(p, 0, 1 << 20, &out, NULL), 0);
    ck_assert_uint_ge(out.len, 16);
    ck_assert_int_eq(be32(out.base + 12), 7); /* partitionLeaderEpoch, after baseOffset and batchLength */
    sl_buf_fini(&out);
}
END_TEST

START_TEST(partition_reopens_with_the_hw_at_the_log_end)
{
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    struct sl_produce r[2];
    struct sl_part_done done;
    sl_part_done_init(&done);
    append(&r[0], 0, 2, &done);
    sl_offset_t durable;
    ck_assert_int_eq(sl_log_sync(sl_partition_log(p), &durable), 0);
    ck_assert_int_eq(durable, 2);
    sl_partition_durable(p, durable, &done);
    sl_part_done_run(&done);
    append(&r[1], 1, 3, &done); /* written, never reported durable: close syncs it */
    ck_assert_int_eq(sl_partition_hw(p), 2);
    ck_assert_int_eq(sl_partition_close(p, SL_ESTOPPED), 0);
    p = NULL;
    ck_assert_int_eq(ndone, 2);
    ck_assert_int_eq(rcs[0], 0);
    ck_assert_int_eq(rcs[1], SL_ESTOPPED);

    /* partition.ckpt holds HW 2; recovery keeps (and syncs) all five records: the rule makes them visible. */
    open_part(SL_DURABILITY_SYNC, SL_PART_SINGLE_NODE_EPOCH);
    ck_assert_int_eq(sl_log_end(sl_partition_log(p)), 5);
    ck_assert_int_eq(sl_partition_hw(p), 5);
    ck_assert_int_eq(sl_log_hw(sl_partition_log(p)), 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("partition");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, partition_sync_hw_is_the_durable_end);
    tcase_add_test(tc, partition_produce_completes_only_when_the_hw_passes_its_last_offset);
    tcase_add_test(tc, partition_async_hw_is_the_written_end);
    tcase_add_test(tc, partition_failed_sync_fails_every_pending_produce);
    tcase_add_test(tc, partition_watch_fires_once_when_the_hw_passes_its_offset);
    tcase_add_test(tc, partition_unwatched_watch_never_fires);
    tcase_add_test(tc, partition_close_ends_watches_and_produces_with_its_rc);
    tcase_add_test(tc, partition_reads_stop_at_the_hw);
    tcase_add_test(tc, partition_stamps_its_leader_epoch);
    tcase_add_test(tc, partition_reopens_with_the_hw_at_the_log_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
