/* Produce over WebSocket against the real binary: acks after durability with offsets in request order,
 * the records readable over REST and pushed to subscribers, request-level errors with the client's id
 * (the socket stays open), malformed messages and unknown topics closing with their codes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    static const char *const extra[] = {"--set", "rest.max.body.bytes=100000", "--set", "ws.max.message.bytes=100000", NULL};
    sl_proc_start(&proc, NULL, extra);
    sl_wt_create_topic(&proc, "p", 2);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

START_TEST(produce_is_acked_with_offsets_and_pushed)
{
    struct sl_wscl *sub = sl_wt_connect(&proc, "/ws/v1/topics/p?from=earliest");
    struct sl_wscl *c = sl_wt_connect(&proc, "/ws/v1/topics/p/produce");
    for (int k = 0; k < 5; k++) {
        char msg[256];
        snprintf(msg, sizeof msg, "{\"id\":\"c%d\",\"records\":[{\"value\":{\"n\":%d},\"partition\":1},"
                                  "{\"key\":\"x\",\"value\":\"s\",\"partition\":0}]}", k, k);
        ck_assert_int_eq(sl_wscl_send(c, msg), 0);
    }
    for (int k = 0; k < 5; k++) {
        json_t *a = sl_wt_expect(c, "ack", 5000);
        ck_assert_ptr_nonnull(a);
        char id[8];
        snprintf(id, sizeof id, "c%d", k);
        ck_assert_str_eq(json_string_value(json_object_get(a, "id")), id);
        json_t *o = json_object_get(a, "offsets");
        ck_assert_int_eq(json_array_size(o), 2);
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(o, 0), "partition")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(o, 0), "offset")), k);
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(o, 1), "offset")), k);
        json_decref(a);
    }
    json_t *r = sl_wt_records(sub, 10, 5000, NULL);
    ck_assert_int_eq(json_array_size(r), 10);
    json_decref(r);
    /* a request-level error names the id and keeps the socket */
    sl_wscl_send(c, "{\"id\":42,\"records\":[]}");
    json_t *e = sl_wt_expect(c, "error", 5000);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "id")), 42);
    ck_assert_int_ge(json_integer_value(json_object_get(e, "error_code")), 400);
    json_decref(e);
    /* a record for a partition that does not exist fails alone */
    sl_wscl_send(c, "{\"id\":\"m\",\"records\":[{\"value\":1,\"partition\":9},{\"value\":2,\"partition\":0}]}");
    json_t *a = sl_wt_expect(c, "ack", 5000);
    ck_assert_ptr_nonnull(a);
    json_t *o = json_object_get(a, "offsets");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(o, 0), "error_code")), 40402);
    ck_assert(json_is_null(json_object_get(json_array_get(o, 0), "offset")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(o, 1), "offset")), 5);
    json_decref(a);
    /* a typo is refused, named, and stores nothing (it used to store a record with a null value) */
    sl_wscl_send(c, "{\"id\":\"typo\",\"records\":[{\"valeu\":1,\"partition\":0}]}");
    e = sl_wt_expect(c, "error", 5000);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "error_code")), 422);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "message")), "records[0].valeu"));
    json_decref(e);
    sl_wscl_send(c, "{\"id\":\"after\",\"records\":[{\"value\":3,\"partition\":0}]}");
    a = sl_wt_expect(c, "ack", 5000);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(a, "offsets"), 0), "offset")), 6);
    json_decref(a);
    ck_assert(!sl_wscl_closed(c));
    sl_wscl_free(c);
    sl_wscl_free(sub);
}
END_TEST

static void expect_close(const char *path, const char *msg, int code)
{
    struct sl_wscl *c = sl_wt_connect(&proc, path);
    if (msg)
        sl_wscl_send(c, msg);
    json_t *e = sl_wt_expect(c, "error", 5000);
    ck_assert_msg(e != NULL, "no error for %s", path);
    json_decref(e);
    ck_assert(sl_wscl_wait_closed(c, 5000));
    ck_assert_int_eq(sl_wscl_close_code(c), code);
    sl_wscl_free(c);
}

START_TEST(produce_errors_close_with_codes)
{
    expect_close("/ws/v1/topics/nope/produce", NULL, 4404);
    expect_close("/ws/v1/topics/__consumer_offsets/produce", NULL, 4403); /* internal: the broker's */
    expect_close("/ws/v1/topics/p/produce", "{\"id\":", 4400);
    expect_close("/ws/v1/topics/p/produce?format=bin", NULL, 4400);
    char *big = malloc(120001);
    memset(big, ' ', 120000);
    big[0] = '{';
    big[120000] = '\0';
    expect_close("/ws/v1/topics/p/produce", big, 4413);
    free(big);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_produce");
    TCase *tc = tcase_create("ws_produce");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, produce_is_acked_with_offsets_and_pushed);
    tcase_add_test(tc, produce_errors_close_with_codes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
