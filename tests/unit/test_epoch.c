/* storage/epoch.c: the leader-epoch cache (assign, end offsets as Kafka computes them, truncation). */
#include <check.h>
#include <stdlib.h>

#include "storage/epoch.h"
#include "storage/err.h"

START_TEST(epochs_assign_and_end_offsets)
{
    struct sl_epochs c;
    sl_epochs_init(&c);
    ck_assert_int_eq(sl_epochs_latest(&c), -1);
    ck_assert_int_eq(sl_epochs_end_offset(&c, 0, 10), -1);
    ck_assert_int_eq(sl_epochs_assign(&c, 1, 0), 1);
    ck_assert_int_eq(sl_epochs_assign(&c, 1, 5), 0);
    ck_assert_int_eq(sl_epochs_assign(&c, 3, 10), 1);
    ck_assert_int_eq(sl_epochs_assign(&c, 2, 12), SL_EFENCED);
    ck_assert_int_eq(sl_epochs_latest(&c), 3);
    ck_assert_int_eq(sl_epochs_end_offset(&c, 3, 42), 42); /* latest: LEO */
    ck_assert_int_eq(sl_epochs_end_offset(&c, 1, 42), 10);
    ck_assert_int_eq(sl_epochs_end_offset(&c, 2, 42), 10); /* unknown middle epoch: next one's start */
    ck_assert_int_eq(sl_epochs_end_offset(&c, 0, 42), 0);  /* older than all: first start */
    ck_assert_int_eq(sl_epochs_end_offset(&c, 4, 42), -1);
    /* A leader that wrote nothing is replaced by the next one at the same start. */
    ck_assert_int_eq(sl_epochs_assign(&c, 4, 10), 1);
    ck_assert_uint_eq(c.n, 2);
    sl_epochs_fini(&c);
}
END_TEST

START_TEST(epochs_truncate_from_both_ends)
{
    struct sl_epochs c;
    struct sl_epoch_entry e[] = {{0, 0}, {1, 10}, {2, 20}, {3, 30}};
    sl_epochs_init(&c);
    ck_assert_int_eq(sl_epochs_set(&c, e, 4), 0);
    ck_assert(sl_epochs_truncate_end(&c, 30)); /* epoch 3 began at 30: gone */
    ck_assert_int_eq(sl_epochs_latest(&c), 2);
    ck_assert(!sl_epochs_truncate_end(&c, 31));
    ck_assert(sl_epochs_truncate_start(&c, 15));
    ck_assert_uint_eq(c.n, 2);
    ck_assert_int_eq(c.e[0].epoch, 1);
    ck_assert_int_eq(c.e[0].start, 15);
    ck_assert(!sl_epochs_truncate_start(&c, 15));
    ck_assert(sl_epochs_truncate_start(&c, 20));
    ck_assert_uint_eq(c.n, 1);
    ck_assert_int_eq(c.e[0].start, 20);
    struct sl_epoch_entry bad[] = {{2, 0}, {1, 10}};
    ck_assert_int_eq(sl_epochs_set(&c, bad, 2), SL_ECORRUPT);
    sl_epochs_fini(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("epoch");
    TCase *tc = tcase_create("epoch");
    tcase_add_test(tc, epochs_assign_and_end_offsets);
    tcase_add_test(tc, epochs_truncate_from_both_ends);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
