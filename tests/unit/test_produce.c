/* server/produce.c: a produce set completes once, after every batch -- with the broker's offsets for the
 * batches it took and the broker's rc for the ones it refused; on_batch runs once per batch; an empty set and
 * a set whose every batch is refused complete inside sl_produce_submit; a batch a failed log refused carries
 * what failed (for the 5xx answer), whether the flusher failed it or the broker refused it at once. Against a
 * real broker on a temp dir (on tests/support/faultfs.c for the failures). */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/broker.h"
#include "server/logging.h"
#include "server/produce.h"
#include "storage/err.h"
#include "tests/support/brokerutil.h"
#include "tests/support/faultfs.h"
#include "tests/support/testutil.h"

static char *dir;
static struct sl_config cfg;
static struct sl_broker *b;

/* What the callbacks saw; on_done signals cv. */
struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int batch_calls[4];
    int done_calls;
    int batch_calls_at_done;
};

static struct seen seen;

static void on_batch(struct sl_produce_set *s, size_t i, int rc)
{
    (void)rc;
    ck_assert_ptr_eq(s->arg, &seen);
    pthread_mutex_lock(&seen.mu);
    seen.batch_calls[i]++;
    pthread_mutex_unlock(&seen.mu);
}

static void on_done(struct sl_produce_set *s)
{
    (void)s;
    pthread_mutex_lock(&seen.mu);
    seen.done_calls++;
    for (int i = 0; i < 4; i++)
        seen.batch_calls_at_done += seen.batch_calls[i];
    pthread_cond_signal(&seen.cv);
    pthread_mutex_unlock(&seen.mu);
}

static void wait_done(void)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&seen.mu);
    while (seen.done_calls == 0)
        ck_assert_int_eq(pthread_cond_timedwait(&seen.cv, &seen.mu, &dl), 0);
    pthread_mutex_unlock(&seen.mu);
}

static void setup(void)
{
    sl_logging_set_level(SL_LEVEL_ERROR);
    memset(&seen, 0, sizeof seen);
    pthread_mutex_init(&seen.mu, NULL);
    pthread_cond_init(&seen.cv, NULL);
    dir = sl_test_tmpdir();
    sl_tb_config(&cfg, dir, SL_DURABILITY_SYNC);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    char err[256];
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 2, NULL, 0, false, err, sizeof err), 0);
}

static void teardown(void)
{
    sl_broker_close(b);
    sl_config_fini(&cfg);
    sl_test_rmrf(dir);
    free(dir);
    pthread_cond_destroy(&seen.cv);
    pthread_mutex_destroy(&seen.mu);
}

static struct sl_produce_batch batch(int32_t partition, const char *prefix, int n)
{
    struct sl_produce_batch pb = {.partition = partition, .count = n};
    pb.data = sl_tb_batch(prefix, n, 1700000000000LL, &pb.len);
    return pb;
}

START_TEST(a_set_completes_once_with_offsets_and_per_batch_errors)
{
    struct sl_produce_batch bs[3] = {batch(0, "a", 3), batch(1, "b", 2), batch(5, "c", 4)};
    struct sl_produce_set *s = sl_produce_set_new(bs, 3, on_done, &seen);
    ck_assert_ptr_nonnull(s);
    s->on_batch = on_batch;
    sl_produce_submit(b, "t", s);
    wait_done();
    ck_assert_int_eq(seen.done_calls, 1);
    ck_assert_int_eq(seen.batch_calls_at_done, 3); /* every on_batch ran before on_done */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(seen.batch_calls[i], 1);
    ck_assert_int_eq(s->slots[0].rc, 0);
    ck_assert_int_eq(s->slots[0].prod.first, 0);
    ck_assert_int_eq(s->slots[0].prod.last, 2);
    ck_assert_int_eq(s->slots[1].rc, 0);
    ck_assert_int_eq(s->slots[1].prod.first, 0);
    ck_assert_int_eq(s->slots[1].prod.last, 1);
    ck_assert_int_eq(s->slots[2].rc, SL_ENOPART);
    ck_assert_str_eq(sl_produce_set_context(s, 2), ""); /* nothing more to say than the rc */
    ck_assert_str_eq(sl_produce_set_context(s, 0), "");
    ck_assert_uint_eq(sl_produce_set_ok_records(s), 5);
    ck_assert_int_eq(sl_produce_set_first_error(s), SL_ENOPART);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 3);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 1, 0), 2);
    sl_produce_set_free(s);
    for (int i = 0; i < 3; i++)
        free(bs[i].data);
}
END_TEST

START_TEST(an_empty_set_and_a_refused_set_complete_inside_submit)
{
    struct sl_produce_set *s = sl_produce_set_new(NULL, 0, on_done, &seen);
    ck_assert_ptr_nonnull(s);
    sl_produce_submit(b, "t", s);
    ck_assert_int_eq(seen.done_calls, 1); /* no wait: it ran inline */
    ck_assert_uint_eq(sl_produce_set_ok_records(s), 0);
    ck_assert_int_eq(sl_produce_set_first_error(s), 0);
    sl_produce_set_free(s);

    struct sl_produce_batch bs[2] = {batch(0, "x", 1), batch(1, "y", 1)};
    s = sl_produce_set_new(bs, 2, on_done, &seen);
    s->on_batch = on_batch;
    sl_produce_submit(b, "no-such-topic", s);
    ck_assert_int_eq(seen.done_calls, 2);
    ck_assert_int_eq(seen.batch_calls[0], 1);
    ck_assert_int_eq(seen.batch_calls[1], 1);
    ck_assert_int_eq(s->slots[0].rc, SL_ENOTOPIC);
    ck_assert_int_eq(s->slots[1].rc, SL_ENOTOPIC);
    ck_assert_int_eq(sl_produce_set_first_error(s), SL_ENOTOPIC);
    sl_produce_set_free(s);
    for (int i = 0; i < 2; i++)
        free(bs[i].data);
}
END_TEST

static void setup_faulty(void)
{
    sl_logging_set_level(SL_LEVEL_ERROR + 1); /* the failure is expected: keep the test's output clean */
    memset(&seen, 0, sizeof seen);
    pthread_mutex_init(&seen.mu, NULL);
    pthread_cond_init(&seen.cv, NULL);
    sl_faultfs_reset();
    dir = sl_test_tmpdir();
    sl_tb_config(&cfg, dir, SL_DURABILITY_SYNC);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_faultfs, &sl_clock_posix, &b), 0);
    char err[256];
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
}

START_TEST(a_failed_log_says_what_failed_in_the_context)
{
    sl_faultfs_arm(SL_FAULT_SYNC, 1); /* the flusher's next fdatasync fails: the log turns FAILED */
    struct sl_produce_batch bs[1] = {batch(0, "a", 2)};
    struct sl_produce_set *s = sl_produce_set_new(bs, 1, on_done, &seen);
    sl_produce_submit(b, "t", s);
    wait_done();
    ck_assert_int_eq(sl_produce_set_first_error(s), SL_EFAILED);
    const char *why = sl_produce_set_first_context(s);
    ck_assert_msg(strstr(why, "fdatasync") && strstr(why, "/t-0") && strstr(why, "Input/output error"),
                  "context of the flusher's failure: \"%s\"", why);
    char first[512];
    snprintf(first, sizeof first, "%s", why);
    sl_produce_set_free(s);

    /* a later produce is refused at once by the failed log, with the same first reason */
    seen.done_calls = 0;
    s = sl_produce_set_new(bs, 1, on_done, &seen);
    sl_produce_submit(b, "t", s);
    ck_assert_int_eq(seen.done_calls, 1); /* inline */
    ck_assert_int_eq(s->slots[0].rc, SL_EFAILED);
    ck_assert_str_eq(sl_produce_set_context(s, 0), first);
    sl_produce_set_free(s);
    free(bs[0].data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("produce");
    TCase *tc = tcase_create("set");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_set_completes_once_with_offsets_and_per_batch_errors);
    tcase_add_test(tc, an_empty_set_and_a_refused_set_complete_inside_submit);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("failures");
    tcase_add_checked_fixture(tf, setup_faulty, teardown);
    tcase_set_timeout(tf, 30);
    tcase_add_test(tf, a_failed_log_says_what_failed_in_the_context);
    suite_add_tcase(s, tf);
    return sl_test_run_suite(s);
}
