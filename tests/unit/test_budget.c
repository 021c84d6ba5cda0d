/* api/common/budget.c: the process-wide buffered-bytes budget never passes its limit, also under contention. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "api/common/budget.h"

START_TEST(budget_refuses_what_would_pass_the_limit)
{
    sl_budget_init(100);
    ck_assert(sl_budget_take(60));
    ck_assert(!sl_budget_take(41));
    ck_assert(sl_budget_take(40));
    ck_assert(!sl_budget_take(1));
    ck_assert_uint_eq(sl_budget_used(), 100);
    ck_assert_uint_eq(sl_budget_refusals(), 2);
    sl_budget_give(60);
    ck_assert(sl_budget_take(60));
    ck_assert(!sl_budget_take((size_t)-1)); /* no wrap-around */
    sl_budget_init(0);
    ck_assert(sl_budget_take(1u << 30)); /* 0 = unlimited */
}
END_TEST

static void *churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++)
        if (sl_budget_take(7)) {
            ck_assert_uint_le(sl_budget_used(), 1000);
            sl_budget_give(7);
        }
    return NULL;
}

START_TEST(budget_holds_under_contention)
{
    sl_budget_init(1000);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, churn, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_eq(sl_budget_used(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("budget");
    TCase *tc = tcase_create("budget");
    tcase_add_test(tc, budget_refuses_what_would_pass_the_limit);
    tcase_add_test(tc, budget_holds_under_contention);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
