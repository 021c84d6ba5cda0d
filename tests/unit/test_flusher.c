/* Flusher: group commit in sync durability, periodic flush in async durability. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/broker.h"
#include "server/logging.h"
#include "storage/err.h"
#include "tests/support/brokerutil.h"
#include "tests/support/testutil.h"

#define THREADS 8
#define PER_THREAD 100

static char *dir;
static struct sl_config cfg;
static struct sl_broker *b;
static char err[256];

static void open_broker(enum sl_durability d)
{
    sl_logging_set_level(SL_LEVEL_ERROR);
    dir = sl_test_tmpdir();
    sl_tb_config(&cfg, dir, d);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 2, NULL, 0, false, err, sizeof err), 0);
}

static void close_broker(void)
{
    sl_broker_close(b);
    sl_config_fini(&cfg);
    sl_test_rmrf(dir);
    free(dir);
}

struct worker {
    int id;
    int failures;
    sl_offset_t prev_last[2];
    int out_of_order;
};

static void *produce_many(void *arg)
{
    struct worker *w = arg;
    w->prev_last[0] = w->prev_last[1] = -1;
    for (int i = 0; i < PER_THREAD; i++) {
        int32_t p = (w->id + i) % 2;
        sl_offset_t first, last;
        if (sl_tb_produce_wait(b, "t", p, "v", 3, &first, &last)) {
            w->failures++;
            continue;
        }
        if (first <= w->prev_last[p] || last != first + 2)
            w->out_of_order++;
        w->prev_last[p] = last;
    }
    return NULL;
}

START_TEST(flusher_group_commit_acks_every_produce_with_fewer_fsyncs)
{
    open_broker(SL_DURABILITY_SYNC);
    pthread_t th[THREADS];
    struct worker ws[THREADS] = {0};
    for (int i = 0; i < THREADS; i++) {
        ws[i].id = i;
        pthread_create(&th[i], NULL, produce_many, &ws[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(ws[i].failures, 0);
        ck_assert_int_eq(ws[i].out_of_order, 0);
    }
    int64_t total = sl_tb_count_records(b, "t", 0, 0) + sl_tb_count_records(b, "t", 1, 0);
    ck_assert_int_eq(total, THREADS * PER_THREAD * 3);
    struct sl_broker_stats st;
    sl_broker_stats(b, &st);
    ck_assert_uint_eq(st.produce_batches, THREADS * PER_THREAD);
    /* Concurrent producers share fdatasyncs: strictly fewer syncs than acknowledged batches. */
    ck_assert_uint_lt(st.fsyncs, st.produce_batches);
    ck_assert_uint_gt(st.fsyncs, 0);
    close_broker();
}
END_TEST

static bool async_durable(void *arg)
{
    struct sl_part_info pi;
    (void)arg;
    return sl_broker_partition_info(b, "t", 0, &pi) == 0 && pi.hw == 5;
}

START_TEST(flusher_async_acks_at_once_and_flushes_within_flush_ms)
{
    open_broker(SL_DURABILITY_ASYNC);
    sl_offset_t last;
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 0, "a", 5, NULL, &last), 0);
    ck_assert_int_eq(last, 4);
    ck_assert(sl_test_wait_until(async_durable, NULL, 100)); /* HW = LEO right after the append */
    struct sl_broker_stats st;
    for (int64_t end = sl_test_mono_ms() + 5000; sl_test_mono_ms() < end;) {
        sl_broker_stats(b, &st);
        if (st.fsyncs > 0)
            break;
    }
    ck_assert_uint_gt(st.fsyncs, 0); /* the periodic flush ran (flush.ms = 50 in tests) */
    close_broker();
}
END_TEST

START_TEST(flusher_close_makes_everything_durable)
{
    open_broker(SL_DURABILITY_ASYNC);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 1, "a", 9, NULL, NULL), 0);
    sl_broker_close(b);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 1, 0), 9);
    close_broker();
}
END_TEST

struct spread {
    int id;
    int failures;
};

static void *produce_spread(void *arg)
{
    struct spread *w = arg;
    for (int i = 0; i < 50; i++)
        if (sl_tb_produce_wait(b, "wide", (w->id * 50 + i) % 8, "v", 2, NULL, NULL))
            w->failures++;
    return NULL;
}

START_TEST(flusher_syncs_many_partitions_in_parallel_rounds)
{
    open_broker(SL_DURABILITY_SYNC);
    ck_assert_int_eq(sl_broker_topic_create(b, "wide", 8, NULL, 0, false, err, sizeof err), 0);
    pthread_t th[THREADS];
    struct spread ws[THREADS] = {0};
    for (int i = 0; i < THREADS; i++) {
        ws[i].id = i;
        pthread_create(&th[i], NULL, produce_spread, &ws[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(ws[i].failures, 0);
    }
    int64_t total = 0;
    for (int32_t p = 0; p < 8; p++) {
        struct sl_part_info pi;
        ck_assert_int_eq(sl_broker_partition_info(b, "wide", p, &pi), 0);
        ck_assert_int_eq(pi.hw, pi.log_end); /* everything acknowledged is visible */
        total += sl_tb_count_records(b, "wide", p, 0);
    }
    ck_assert_int_eq(total, THREADS * 50 * 2);
    close_broker();
}
END_TEST

/* Order of the data hook and the produce's done callback, from one counter. */
static atomic_int order, hook_order, done_order, done_rc;

static void on_hook(void *arg)
{
    (void)arg;
    int o = atomic_fetch_add(&order, 1) + 1, none = 0;
    atomic_compare_exchange_strong(&hook_order, &none, o); /* the first hook since the produce was issued */
}

static void on_done(struct sl_produce *req, int rc)
{
    (void)req;
    atomic_store(&done_rc, rc);
    atomic_store(&done_order, atomic_fetch_add(&order, 1) + 1);
}

static bool produce_done(void *arg)
{
    (void)arg;
    return atomic_load(&done_order) != 0;
}

/* Subscribers (the data hook) hear of a record before its producer is answered: in sync durability the
 * flusher fires the hook as soon as the HW is published, then completes the produces. */
static void check_hook_before_done(enum sl_durability d)
{
    open_broker(d);
    sl_broker_set_data_hook(b, on_hook, NULL);
    for (int i = 0; i < 20; i++) {
        atomic_store(&hook_order, 0);
        atomic_store(&done_order, 0);
        size_t len;
        uint8_t *batch = sl_tb_batch("v", 1, 0, &len);
        struct sl_produce req = {.done = on_done};
        ck_assert_int_eq(sl_broker_produce(b, "t", i % 2, batch, len, &req), 0);
        ck_assert(sl_test_wait_until(produce_done, NULL, 10000));
        free(batch);
        int rc = atomic_load(&done_rc), hook_at = atomic_load(&hook_order), done_at = atomic_load(&done_order);
        ck_assert_int_eq(rc, 0);
        ck_assert_int_ne(hook_at, 0);
        ck_assert_int_lt(hook_at, done_at);
    }
    close_broker();
}

START_TEST(flusher_wakes_subscribers_before_answering_the_producer)
{
    check_hook_before_done(SL_DURABILITY_SYNC);
    check_hook_before_done(SL_DURABILITY_ASYNC);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flusher");
    TCase *tc = tcase_create("flusher");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, flusher_group_commit_acks_every_produce_with_fewer_fsyncs);
    tcase_add_test(tc, flusher_async_acks_at_once_and_flushes_within_flush_ms);
    tcase_add_test(tc, flusher_close_makes_everything_durable);
    tcase_add_test(tc, flusher_syncs_many_partitions_in_parallel_rounds);
    tcase_add_test(tc, flusher_wakes_subscribers_before_answering_the_producer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
