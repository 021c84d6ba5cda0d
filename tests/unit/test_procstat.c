/* api/common/procstat.c: the process's own numbers from /proc/self. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "api/common/procstat.h"

START_TEST(procstat_reads_plausible_values)
{
    struct sl_procstat ps;
    ck_assert_int_eq(sl_procstat_read(&ps), 0);
    double now = (double)time(NULL);
    ck_assert(ps.cpu_seconds >= 0);
    ck_assert(ps.resident_bytes > 0 && ps.virtual_bytes >= ps.resident_bytes);
    ck_assert(ps.open_fds >= 3 && ps.open_fds < ps.max_fds);
    ck_assert_msg(ps.start_time > now - 600 && ps.start_time <= now + 2, "start %.2f now %.0f", ps.start_time, now);
}
END_TEST

START_TEST(procstat_counts_an_opened_fd)
{
    struct sl_procstat a, b;
    ck_assert_int_eq(sl_procstat_read(&a), 0);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sl_procstat_read(&b), 0);
    close(fd);
    ck_assert_uint_eq(b.open_fds, a.open_fds + 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("procstat");
    TCase *tc = tcase_create("procstat");
    tcase_add_test(tc, procstat_reads_plausible_values);
    tcase_add_test(tc, procstat_counts_an_opened_fd);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
