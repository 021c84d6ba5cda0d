/* storage/checkpoint.c: partition.ckpt and leader-epoch-checkpoint round trips and strict parsing. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/checkpoint.h"
#include "storage/err.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = sl_test_tmpdir();
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
}

START_TEST(ckpt_roundtrips_through_the_file)
{
    struct sl_pckpt c = {1234, 1200, 17, true}, r;
    ck_assert_int_eq(sl_ckpt_read(&sl_fileops_posix, tmp, &r), -ENOENT);
    ck_assert_int_eq(sl_ckpt_write(&sl_fileops_posix, tmp, &c), 0);
    ck_assert_int_eq(sl_ckpt_read(&sl_fileops_posix, tmp, &r), 0);
    ck_assert_int_eq(r.recovery_point, 1234);
    ck_assert_int_eq(r.high_watermark, 1200);
    ck_assert_int_eq(r.log_start, 17);
    ck_assert(r.clean);
    char buf[256];
    int n = sl_ckpt_format(&c, buf, sizeof buf);
    ck_assert_str_eq(buf, "sluice-partition 1\nrecovery_point 1234\nhigh_watermark 1200\nlog_start_offset 17\n"
                          "clean 1\n");
    ck_assert_int_eq(n, (int)strlen(buf));
}
END_TEST

START_TEST(ckpt_parse_is_strict)
{
    static const char *const bad[] = {
        "",
        "sluice-partition 2\nrecovery_point 1\nhigh_watermark 1\nlog_start_offset 0\nclean 0\n",
        "sluice-partition 1\nrecovery_point 1\nhigh_watermark 1\nlog_start_offset 0\nclean 0", /* torn */
        "sluice-partition 1\nrecovery_point -1\nhigh_watermark 1\nlog_start_offset 0\nclean 0\n",
        "sluice-partition 1\nrecovery_point 01\nhigh_watermark 1\nlog_start_offset 0\nclean 0\n",
        "sluice-partition 1\nrecovery_point 1\nhigh_watermark 1\nlog_start_offset 0\nclean 2\n",
        "sluice-partition 1\nrecovery_point 99999999999999999999\nhigh_watermark 1\nlog_start_offset 0\nclean 0\n",
        "sluice-partition 1\nhigh_watermark 1\nrecovery_point 1\nlog_start_offset 0\nclean 0\n",
        "sluice-partition 1\nrecovery_point 1\nhigh_watermark 1\nlog_start_offset 0\nclean 0\nextra\n",
        "sluice-partition 1\nrecovery_point 1 \nhigh_watermark 1\nlog_start_offset 0\nclean 0\n",
    };
    struct sl_pckpt c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sl_ckpt_parse(bad[i], strlen(bad[i]), &c) == SL_ECORRUPT, "accepted #%zu", i);
    const char *ok = "sluice-partition 1\nrecovery_point 9223372036854775807\nhigh_watermark 0\n"
                     "log_start_offset 0\nclean 0\n";
    ck_assert_int_eq(sl_ckpt_parse(ok, strlen(ok), &c), 0);
    ck_assert_int_eq(c.recovery_point, INT64_MAX);
    ck_assert(!c.clean);
}
END_TEST

START_TEST(epoch_ckpt_uses_kafkas_format_and_roundtrips)
{
    struct sl_epoch_entry e[3] = {{0, 0}, {2, 100}, {5, 100}}, *r = NULL;
    size_t n = 0;
    ck_assert_int_eq(sl_ckpt_epochs_read(&sl_fileops_posix, tmp, &r, &n), -ENOENT);
    ck_assert_int_eq(sl_ckpt_epochs_write(&sl_fileops_posix, tmp, e, 3), 0);
    ck_assert_int_eq(sl_ckpt_epochs_read(&sl_fileops_posix, tmp, &r, &n), 0);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(r[i].epoch, e[i].epoch);
        ck_assert_int_eq(r[i].start, e[i].start);
    }
    free(r);
    const char *txt = "0\n3\n0 0\n2 100\n5 100\n";
    ck_assert_int_eq(sl_ckpt_epochs_parse(txt, strlen(txt), &r, &n), 0);
    free(r);
    ck_assert_int_eq(sl_ckpt_epochs_write(&sl_fileops_posix, tmp, NULL, 0), 0);
    ck_assert_int_eq(sl_ckpt_epochs_read(&sl_fileops_posix, tmp, &r, &n), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(epoch_ckpt_parse_is_strict)
{
    static const char *const bad[] = {
        "", "1\n0\n", "0\n2\n0 0\n", "0\n1\n0 0", "0\n2\n3 0\n2 5\n", "0\n2\n1 10\n2 5\n", "0\n1\n0  0\n",
        "0\n1\n0 0\n1 1\n", "0\n1\n-1 0\n", "0\n1000000\n0 0\n",
    };
    struct sl_epoch_entry *r = NULL;
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sl_ckpt_epochs_parse(bad[i], strlen(bad[i]), &r, &n) == SL_ECORRUPT, "accepted #%zu", i);
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ckpt_roundtrips_through_the_file);
    tcase_add_test(tc, ckpt_parse_is_strict);
    tcase_add_test(tc, epoch_ckpt_uses_kafkas_format_and_roundtrips);
    tcase_add_test(tc, epoch_ckpt_parse_is_strict);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(checkpoint_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
