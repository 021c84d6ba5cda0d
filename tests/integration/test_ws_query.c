/* WebSocket query strings against the real binary: arguments are read at their full length (a 400-byte
 * argument used to be dropped silently, and every argument after it), and a query too long for sluice is
 * refused with a message and close 4414, never ignored. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
    sl_wt_create_topic(&proc, "t", 1);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

static char *repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

static void expect_close(const char *path, int code, int close)
{
    struct sl_wscl *c = sl_wt_connect(&proc, path);
    json_t *e = sl_wt_expect(c, "error", 5000);
    ck_assert_msg(e != NULL, "no error for %.80s...", path);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "error_code")), code);
    ck_assert(json_is_string(json_object_get(e, "message")));
    json_decref(e);
    ck_assert(sl_wscl_wait_closed(c, 5000));
    ck_assert_int_eq(sl_wscl_close_code(c), close);
    sl_wscl_free(c);
}

START_TEST(long_arguments_are_read_whole)
{
    /* a 400-byte cache buster before group=: the group still applies */
    char *x = repeat('x', 400), path[1024];
    snprintf(path, sizeof path, "/ws/v1/topics/t?cb=%s&group=g1&from=earliest", x);
    struct sl_wscl *c = sl_wt_connect(&proc, path);
    json_t *a = sl_wt_expect(c, "assignment", 5000);
    ck_assert_msg(a != NULL, "the group after a long argument was ignored");
    json_decref(a);
    sl_wscl_free(c);
    /* a 255-byte group name (the longest valid one) is used as given */
    char *g = repeat('g', 255);
    snprintf(path, sizeof path, "/ws/v1/topics/t?group=%s", g);
    c = sl_wt_connect(&proc, path);
    a = sl_wt_expect(c, "assignment", 5000);
    ck_assert_ptr_nonnull(a);
    json_decref(a);
    sl_wscl_free(c);
    free(g);
    /* a 400-byte group name is invalid: refused, not a socket without a group */
    snprintf(path, sizeof path, "/ws/v1/topics/t?group=%s", x);
    expect_close(path, 400, 4400);
    free(x);
}
END_TEST

START_TEST(a_query_too_long_is_refused_with_4414)
{
    char *x = repeat('x', 2000), path[16384];
    snprintf(path, sizeof path, "/ws/v1/topics/t?from=earliest&cb=%s", x);
    expect_close(path, 414, 4414);
    free(x);
    size_t n = (size_t)snprintf(path, sizeof path, "/ws/v1/topics/t?from=earliest");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(path + n, sizeof path - n, "&a%d=%d", i, i);
    expect_close(path, 414, 4414);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_query");
    TCase *tc = tcase_create("ws_query");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, long_arguments_are_read_whole);
    tcase_add_test(tc, a_query_too_long_is_refused_with_4414);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
