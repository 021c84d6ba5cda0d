/* Unit tests for storage/clock.c: the POSIX clocks agree with the kernel's, the monotonic ones with each
 * other, a fake clock is reached through the table, a condvar deadline (realtime or monotonic) lies ahead by
 * what was asked, an absolute deadline converts exactly, and a monotonic condvar times out at its deadline. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "storage/clock.h"

START_TEST(clock_posix_wall_is_the_realtime_clock)
{
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t ms = sl_clock_wall_ms(&sl_clock_posix);
    int64_t after = ((int64_t)time(NULL) + 1) * 1000;
    ck_assert_int_ge(ms, before);
    ck_assert_int_le(ms, after);
}
END_TEST

START_TEST(clock_posix_monotonic_never_goes_back_and_ms_matches_ns)
{
    int64_t ns0 = sl_clock_mono_ns(&sl_clock_posix);
    int64_t ms = sl_clock_mono_ms(&sl_clock_posix);
    int64_t ns1 = sl_clock_mono_ns(&sl_clock_posix);
    ck_assert_int_le(ns0, ns1);
    ck_assert_int_ge(ms, ns0 / 1000000);
    ck_assert_int_le(ms, ns1 / 1000000);
    for (int i = 0; i < 1000; i++) {
        int64_t a = sl_clock_mono_ms(&sl_clock_posix), b = sl_clock_mono_ms(&sl_clock_posix);
        ck_assert_int_le(a, b);
    }
}
END_TEST

static int64_t fake_ms(const struct sl_clock *c)
{
    return *(const int64_t *)c->ctx;
}

START_TEST(clock_fake_is_read_through_its_table)
{
    int64_t now = 42;
    struct sl_clock c = {.wall_ms = fake_ms, .mono_ms = fake_ms, .mono_ns = fake_ms, .ctx = &now};
    ck_assert_int_eq(sl_clock_wall_ms(&c), 42);
    now = 43;
    ck_assert_int_eq(sl_clock_mono_ms(&c), 43);
    ck_assert_int_eq(sl_clock_mono_ns(&c), 43);
}
END_TEST

START_TEST(clock_deadline_lies_ahead_by_the_interval)
{
    struct timespec now, dl;
    clock_gettime(CLOCK_REALTIME, &now);
    sl_clock_deadline(&dl, 1999); /* carries into the seconds */
    ck_assert_int_ge(dl.tv_nsec, 0);
    ck_assert_int_lt(dl.tv_nsec, 1000000000);
    int64_t d = ((int64_t)dl.tv_sec - now.tv_sec) * 1000 + (dl.tv_nsec - now.tv_nsec) / 1000000;
    ck_assert_int_ge(d, 1998);
    ck_assert_int_le(d, 2100);
}
END_TEST

START_TEST(clock_deadline_mono_lies_ahead_by_the_interval)
{
    struct timespec now, dl;
    clock_gettime(CLOCK_MONOTONIC, &now);
    sl_clock_deadline_mono(&dl, 1999); /* carries into the seconds */
    ck_assert_int_ge(dl.tv_nsec, 0);
    ck_assert_int_lt(dl.tv_nsec, 1000000000);
    int64_t d = ((int64_t)dl.tv_sec - now.tv_sec) * 1000 + (dl.tv_nsec - now.tv_nsec) / 1000000;
    ck_assert_int_ge(d, 1998);
    ck_assert_int_le(d, 2100);
}
END_TEST

START_TEST(clock_deadline_at_is_the_absolute_time_exactly)
{
    struct timespec ts;
    sl_clock_deadline_at(&ts, 1234567);
    ck_assert_int_eq(ts.tv_sec, 1234);
    ck_assert_int_eq(ts.tv_nsec, 567000000);
    sl_clock_deadline_at(&ts, 0);
    ck_assert_int_eq(ts.tv_sec, 0);
    ck_assert_int_eq(ts.tv_nsec, 0);
    int64_t wall = 1764806400999; /* 2025-12-04T00:00:00.999Z */
    sl_clock_deadline_at(&ts, wall);
    ck_assert_int_eq(ts.tv_sec, 1764806400);
    ck_assert_int_eq(ts.tv_nsec, 999000000);
}
END_TEST

START_TEST(clock_monotonic_condvar_times_out_at_its_deadline)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_t cv;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    ck_assert_int_eq(pthread_cond_init(&cv, &ca), 0);
    pthread_condattr_destroy(&ca);
    int64_t t0 = sl_clock_mono_ms(&sl_clock_posix);
    struct timespec ts;
    sl_clock_deadline_at(&ts, t0 + 30); /* an absolute deadline kept on mono_ms, as api/http/http_wait.c does */
    pthread_mutex_lock(&mu);
    int rc;
    while ((rc = pthread_cond_timedwait(&cv, &mu, &ts)) == 0) /* spurious wakeups */
        ;
    pthread_mutex_unlock(&mu);
    ck_assert_int_eq(rc, ETIMEDOUT);
    int64_t waited = sl_clock_mono_ms(&sl_clock_posix) - t0;
    ck_assert_int_ge(waited, 29);
    ck_assert_int_lt(waited, 5000);
    pthread_cond_destroy(&cv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    tcase_add_test(tc, clock_posix_wall_is_the_realtime_clock);
    tcase_add_test(tc, clock_posix_monotonic_never_goes_back_and_ms_matches_ns);
    tcase_add_test(tc, clock_fake_is_read_through_its_table);
    tcase_add_test(tc, clock_deadline_lies_ahead_by_the_interval);
    tcase_add_test(tc, clock_deadline_mono_lies_ahead_by_the_interval);
    tcase_add_test(tc, clock_deadline_at_is_the_absolute_time_exactly);
    tcase_add_test(tc, clock_monotonic_condvar_times_out_at_its_deadline);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
