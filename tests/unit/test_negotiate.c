/* Unit tests for api/http/negotiate.c: Accept parsing, q x qs choice, wildcards, and which routes negotiate. */
#include <check.h>
#include <stdlib.h>

#include "api/http/negotiate.h"

#define V2 "application/vnd.kafka.v2+json"
#define KJ "application/vnd.kafka+json"
#define AJ "application/json"
#define BIN "application/vnd.kafka.binary.v2+json"

START_TEST(no_accept_and_wildcards_give_the_v2_type)
{
    ck_assert_str_eq(sl_neg_route_type("/topics", NULL), V2);
    ck_assert_str_eq(sl_neg_route_type("/topics", ""), V2);
    ck_assert_str_eq(sl_neg_route_type("/topics/{t}", "*/*"), V2);
    ck_assert_str_eq(sl_neg_route_type("/consumers/{g}", "application/*"), V2);
    ck_assert_str_eq(sl_neg_route_type("/brokers", "text/html, */*;q=0.8"), V2);
}
END_TEST

START_TEST(explicit_types_win_by_q_times_qs)
{
    ck_assert_str_eq(sl_neg_route_type("/topics", "application/json"), AJ);
    ck_assert_str_eq(sl_neg_route_type("/topics", "Application/JSON; charset=utf-8"), AJ);
    ck_assert_str_eq(sl_neg_route_type("/topics", "application/vnd.kafka+json"), KJ);
    /* both listed at q=1: the server's preference decides */
    ck_assert_str_eq(sl_neg_route_type("/topics", "application/json, application/vnd.kafka.v2+json"), V2);
    /* the client's q decides when it outweighs qs: 1 x 0.5 > 0.3 x 0.9 */
    ck_assert_str_eq(sl_neg_route_type("/topics", "application/json, application/vnd.kafka.v2+json;q=0.3"), AJ);
    /* q=0 refuses a type; the more specific range beats the wildcard */
    ck_assert_str_eq(sl_neg_route_type("/topics", "application/vnd.kafka.v2+json;q=0, */*"), KJ);
    /* nothing acceptable: lenient fallback */
    ck_assert_str_eq(sl_neg_route_type("/topics", "text/html"), V2);
}
END_TEST

START_TEST(record_routes_offer_the_embedded_formats)
{
    ck_assert_str_eq(sl_neg_route_type("/consumers/{g}/instances/{i}/records", BIN), BIN);
    ck_assert_str_eq(sl_neg_route_type("/topics/{t}/partitions/{p}/records", "application/vnd.kafka.json.v2+json"),
                     "application/vnd.kafka.json.v2+json");
    ck_assert_str_eq(sl_neg_route_type("/consumers/{g}/instances/{i}/records", "*/*"), V2);
    /* not on other routes */
    ck_assert_str_eq(sl_neg_route_type("/topics/{t}", BIN), V2);
}
END_TEST

START_TEST(v3_and_ops_routes_do_not_negotiate)
{
    ck_assert_ptr_null(sl_neg_route_type("/v3/clusters/{cid}/topics", V2));
    ck_assert_ptr_null(sl_neg_route_type("/metrics", NULL));
    ck_assert_ptr_null(sl_neg_route_type("/topicsx", NULL));
    ck_assert_ptr_null(sl_neg_route_type(NULL, NULL));
}
END_TEST

START_TEST(pick_handles_odd_input)
{
    static const struct sl_offer o[] = {{AJ, 1.0}, {V2, 0.5}};
    ck_assert_int_eq(sl_neg_pick("application/json;q=0", o, 2), -1); /* refused, and V2 is not listed */
    ck_assert_int_eq(sl_neg_pick(",,  ,application/vnd.kafka.v2+json", o, 2), 1);
    ck_assert_int_eq(sl_neg_pick("application/json;q=abc", o, 2), 0); /* bad q counts as 1 */
    ck_assert_int_eq(sl_neg_pick("text/plain", o, 2), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("negotiate");
    TCase *tc = tcase_create("negotiate");
    tcase_add_test(tc, no_accept_and_wildcards_give_the_v2_type);
    tcase_add_test(tc, explicit_types_win_by_q_times_qs);
    tcase_add_test(tc, record_routes_offer_the_embedded_formats);
    tcase_add_test(tc, v3_and_ops_routes_do_not_negotiate);
    tcase_add_test(tc, pick_handles_odd_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
