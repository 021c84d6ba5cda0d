/* Unit tests for api/common/origins.c: parsing of cors.allowed.origins and matching. */
#include <check.h>
#include <stdlib.h>

#include "api/common/origins.h"

START_TEST(lists_match_exactly_and_case_insensitively)
{
    struct sl_origins o;
    ck_assert_int_eq(sl_origins_init(&o, " http://app.example ,https://b.example:8443,,"), 0);
    ck_assert(!o.any);
    ck_assert(sl_origins_match(&o, "http://app.example"));
    ck_assert(sl_origins_match(&o, "HTTPS://B.EXAMPLE:8443"));
    ck_assert(!sl_origins_match(&o, "http://app.example.evil"));
    ck_assert(!sl_origins_match(&o, "https://b.example"));
    ck_assert(!sl_origins_match(&o, ""));
    sl_origins_fini(&o);
    ck_assert_int_eq(sl_origins_init(&o, ""), 0);
    ck_assert(!sl_origins_match(&o, "http://app.example"));
    sl_origins_fini(&o);
    ck_assert_int_eq(sl_origins_init(&o, "http://x.example, *"), 0);
    ck_assert(o.any);
    ck_assert(sl_origins_match(&o, "http://anything"));
    sl_origins_fini(&o);
    sl_origins_fini(&o); /* idempotent */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("origins");
    TCase *tc = tcase_create("origins");
    tcase_add_test(tc, lists_match_exactly_and_case_insensitively);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
