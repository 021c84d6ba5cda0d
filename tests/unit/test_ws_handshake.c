/* api/ws/ws_handshake.c's pure part: which Origin headers may open a WebSocket (issue 12). */
#include <check.h>
#include <stdlib.h>

#include "api/ws/ws.h"

static struct sl_origins none, listed, any;

static void setup(void)
{
    ck_assert_int_eq(sl_origins_init(&none, ""), 0);
    ck_assert_int_eq(sl_origins_init(&listed, " http://app.example ,https://b.example:8443,,"), 0);
    ck_assert_int_eq(sl_origins_init(&any, "http://x.example, *"), 0);
}

static void teardown(void)
{
    sl_origins_fini(&none);
    sl_origins_fini(&listed);
    sl_origins_fini(&any);
}

START_TEST(no_origin_is_not_a_browser_and_allowed)
{
    ck_assert(sl_ws_origin_allowed(&none, NULL, "127.0.0.1:8092", 8082, ""));
    ck_assert(sl_ws_origin_allowed(&none, NULL, NULL, 0, NULL));
}
END_TEST

START_TEST(listed_origins_match_exactly_and_case_insensitively)
{
    ck_assert(sl_ws_origin_allowed(&listed, "http://app.example", "h:1", 8082, ""));
    ck_assert(sl_ws_origin_allowed(&listed, "HTTP://APP.example", "h:1", 8082, ""));
    ck_assert(sl_ws_origin_allowed(&listed, "https://b.example:8443", "h:1", 8082, ""));
    ck_assert(!sl_ws_origin_allowed(&listed, "http://app.example:80", "h:1", 8082, ""));
    ck_assert(!sl_ws_origin_allowed(&listed, "https://app.example", "h:1", 8082, ""));
    ck_assert(!sl_ws_origin_allowed(&listed, "http://evil.example", "h:1", 8082, ""));
    ck_assert(!sl_ws_origin_allowed(&none, "null", "h:1", 8082, ""));
    ck_assert(sl_ws_origin_allowed(&any, "null", "h:1", 8082, ""));
}
END_TEST

START_TEST(the_rest_ports_origin_on_the_same_address_is_allowed)
{
    ck_assert(sl_ws_origin_allowed(&none, "http://127.0.0.1:8082", "127.0.0.1:8092", 8082, ""));
    ck_assert(sl_ws_origin_allowed(&none, "http://localhost:8082", "LOCALHOST:8092", 8082, ""));
    ck_assert(sl_ws_origin_allowed(&none, "http://[::1]:8082", "[::1]:8092", 8082, ""));
    ck_assert(sl_ws_origin_allowed(&none, "http://10.1.2.3", "10.1.2.3:8092", 80, ""));
    ck_assert(sl_ws_origin_allowed(&none, "https://10.1.2.3", "10.1.2.3", 443, ""));
    ck_assert(sl_ws_origin_allowed(&none, "http://sluice.internal:8082", "sluice.internal:8092", 8082,
                                   "sluice.internal"));
    /* another port, another host, or a name nobody configured */
    ck_assert(!sl_ws_origin_allowed(&none, "http://127.0.0.1:8083", "127.0.0.1:8092", 8082, ""));
    ck_assert(!sl_ws_origin_allowed(&none, "http://10.9.9.9:8082", "127.0.0.1:8092", 8082, ""));
    ck_assert(!sl_ws_origin_allowed(&none, "http://evil.example:8082", "evil.example:8092", 8082, ""));
    ck_assert(!sl_ws_origin_allowed(&none, "http://evil.example:8082", "evil.example:8092", 8082, "sluice.internal"));
    ck_assert(!sl_ws_origin_allowed(&none, "http://127.0.0.1:8082", NULL, 8082, ""));
    ck_assert(!sl_ws_origin_allowed(&none, "http://127.0.0.1:8082", "127.0.0.1:8092", 0, ""));
}
END_TEST

START_TEST(malformed_origins_are_refused)
{
    static const char *const bad[] = {"", "127.0.0.1:8082", "ftp://127.0.0.1:8082", "http://", "http://:8082",
                                      "http://127.0.0.1:", "http://127.0.0.1:99999", "http://[::1:8082",
                                      "http://127.0.0.1:80x2", "http://127.0.0.1:8082/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!sl_ws_origin_allowed(&none, bad[i], "127.0.0.1:8092", 8082, ""), "%s", bad[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_handshake");
    TCase *tc = tcase_create("origin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, no_origin_is_not_a_browser_and_allowed);
    tcase_add_test(tc, listed_origins_match_exactly_and_case_insensitively);
    tcase_add_test(tc, the_rest_ports_origin_on_the_same_address_is_allowed);
    tcase_add_test(tc, malformed_origins_are_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
