/* WebSocket subscribers against the real binary: records produced over REST arrive pushed, in order,
 * exactly once, with every field; 'from' in its four forms; flow control (max_in_flight and acks, pull
 * mode credit); seek and subscribe; permessage-deflate; every error path with its close code. */
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
    sl_wt_create_topic(&proc, "t", 2);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

/* Produces n records with values {"i":first..} and keys "k<i>" to partition p. */
static void produce_n(const char *topic, int p, int first, int n)
{
    char *buf = malloc((size_t)n * 128 + 8);
    size_t len = 0;
    buf[len++] = '[';
    for (int i = first; i < first + n; i++)
        len += (size_t)sprintf(buf + len, "%s{\"key\":\"k%d\",\"value\":{\"i\":%d},\"partition\":%d,\"timestamp\":%d}",
                               i > first ? "," : "", i, i, p, 1000000 + i * 10);
    buf[len++] = ']';
    buf[len] = '\0';
    sl_wt_produce(&proc, topic, buf);
    free(buf);
}

START_TEST(records_arrive_pushed_in_order_exactly_once_with_every_field)
{
    struct sl_wscl *c = sl_wt_connect(&proc, "/ws/v1/topics/t?from=earliest");
    sl_wt_produce(&proc, "t", "[{\"key\":\"a\",\"value\":{\"x\":1},\"partition\":0,\"timestamp\":1732400000000,"
                              "\"headers\":[{\"key\":\"h\",\"value\":\"aGk=\"}]}]");
    json_t *r = sl_wt_records(c, 1, 5000, NULL);
    ck_assert_int_eq(json_array_size(r), 1);
    json_t *e = json_array_get(r, 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "topic")), "t");
    ck_assert_int_eq(json_integer_value(json_object_get(e, "partition")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "offset")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "timestamp")), 1732400000000LL);
    ck_assert_str_eq(json_string_value(json_object_get(e, "key")), "a");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "value"), "x")), 1);
    json_t *h = json_array_get(json_object_get(e, "headers"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(h, "key")), "h");
    ck_assert_str_eq(json_string_value(json_object_get(h, "value")), "aGk=");
    json_decref(r);
    /* 300 more on both partitions, in several requests: each partition's offsets arrive 0..n, once */
    for (int k = 0; k < 3; k++) {
        produce_n("t", 0, 1 + k * 50, 50);
        produce_n("t", 1, k * 50, 50);
    }
    r = sl_wt_records(c, 300, 10000, NULL);
    ck_assert_int_eq(json_array_size(r), 300);
    long next[2] = {1, 0};
    size_t i;
    json_array_foreach(r, i, e) {
        int p = (int)json_integer_value(json_object_get(e, "partition"));
        ck_assert_int_eq(json_integer_value(json_object_get(e, "offset")), next[p]);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "value"), "i")), p == 0 ? next[p] : next[p]);
        next[p]++;
    }
    json_decref(r);
    ck_assert_ptr_null(sl_wt_next(c, 300)); /* nothing more: exactly once */
    sl_wscl_free(c);
}
END_TEST

/* Subscribers that are caught up wait for the data hook (no writable round, no fetch each); acks to them ask
 * for nothing. Each record must still reach every one of them at once: a missed wake would only be repaired
 * by the server's 1 s safety tick, so the deadline here is well under it. */
START_TEST(caught_up_subscribers_get_every_record_without_waiting_for_the_tick)
{
    struct sl_wscl *c[3];
    for (int k = 0; k < 3; k++)
        c[k] = sl_wt_connect(&proc, "/ws/v1/topics/t?from=latest&partition=0&max_in_flight=5");
    for (int i = 0; i < 12; i++) {
        char rec[96];
        snprintf(rec, sizeof rec, "[{\"value\":{\"i\":%d},\"partition\":0}]", i);
        sl_wt_produce(&proc, "t", rec);
        for (int k = 0; k < 3; k++) {
            json_t *r = sl_wt_records(c[k], 1, 400, NULL);
            ck_assert_int_eq(json_array_size(r), 1);
            ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_array_get(r, 0), "value"), "i")), i);
            json_decref(r);
            if (i % 3 == 2) /* some acks land on sessions that wait for data, some on a full-ish window */
                ck_assert_int_eq(sl_wscl_send(c[k], "{\"type\":\"ack\"}"), 0);
        }
    }
    for (int k = 0; k < 3; k++)
        sl_wscl_free(c[k]);
}
END_TEST

/* In async durability every append fires the data hook, and a hook that finds a wake-up already pending
 * does not wake the service thread again (api/ws/ws.c on_data). Back-to-back appends must still all reach a
 * caught-up subscriber at once: a wake-up lost in that hand-off would leave the tail of each burst to the
 * 1 s safety tick, so the deadline is well under it. */
START_TEST(bursts_of_appends_reach_caught_up_subscribers_without_waiting_for_the_tick)
{
    struct sl_proc ap;
    static const char *const extra[] = {"--durability", "async", NULL};
    sl_proc_start(&ap, NULL, extra);
    sl_wt_create_topic(&ap, "b", 1);
    struct sl_wscl *c[2];
    for (int k = 0; k < 2; k++)
        c[k] = sl_wt_connect(&ap, "/ws/v1/topics/b?from=latest");
    for (int round = 0, next = 0; round < 10; round++, next += 20) {
        for (int i = next; i < next + 20; i++) {
            char rec[64];
            snprintf(rec, sizeof rec, "[{\"value\":{\"i\":%d}}]", i);
            sl_wt_produce(&ap, "b", rec);
        }
        for (int k = 0; k < 2; k++) {
            json_t *r = sl_wt_records(c[k], 20, 600, NULL);
            ck_assert_int_eq(json_array_size(r), 20);
            for (size_t j = 0; j < 20; j++)
                ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_array_get(r, j), "value"),
                                                                    "i")), next + (int)j);
            json_decref(r);
            ck_assert_int_eq(sl_wscl_send(c[k], "{\"type\":\"ack\"}"), 0);
        }
    }
    for (int k = 0; k < 2; k++)
        sl_wscl_free(c[k]);
    sl_proc_free(&ap);
}
END_TEST

static long first_offset(const char *path, int timeout_ms)
{
    struct sl_wscl *c = sl_wt_connect(&proc, path);
    json_t *r = sl_wt_records(c, 1, timeout_ms, NULL);
    long off = json_array_size(r) ? (long)json_integer_value(json_object_get(json_array_get(r, 0), "offset")) : -1;
    json_decref(r);
    sl_wscl_free(c);
    return off;
}

START_TEST(from_earliest_offset_time_and_latest)
{
    produce_n("t", 0, 0, 10); /* timestamps 1000000 + 10 i */
    ck_assert_int_eq(first_offset("/ws/v1/topics/t?partition=0&from=earliest", 5000), 0);
    ck_assert_int_eq(first_offset("/ws/v1/topics/t?partition=0&from=5", 5000), 5);
    ck_assert_int_eq(first_offset("/ws/v1/topics/t?partition=0&from=time:1000065", 5000), 7);
    struct sl_wscl *c = sl_wt_connect(&proc, "/ws/v1/topics/t?partition=0&from=latest");
    ck_assert_ptr_null(sl_wt_next(c, 300));
    produce_n("t", 0, 10, 1);
    json_t *r = sl_wt_records(c, 1, 5000, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "offset")), 10);
    json_decref(r);
    sl_wscl_free(c);
}
END_TEST

START_TEST(flow_control_holds_at_max_in_flight_until_acks)
{
    produce_n("t", 0, 0, 20);
    struct sl_wscl *c = sl_wt_connect(&proc, "/ws/v1/topics/t?partition=0&from=earliest&max_in_flight=5");
    json_t *r = sl_wt_records(c, 20, 700, NULL);
    ck_assert_int_eq(json_array_size(r), 5); /* the window holds */
    json_decref(r);
    ck_assert_int_eq(sl_wscl_send(c, "{\"type\":\"ack\",\"offsets\":[{\"topic\":\"t\",\"partition\":0,\"offset\":3}]}"), 0);
    r = sl_wt_records(c, 20, 700, NULL);
    ck_assert_int_eq(json_array_size(r), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "offset")), 5);
    json_decref(r);
    ck_assert_int_eq(sl_wscl_send(c, "{\"type\":\"ack\"}"), 0); /* everything pushed so far */
    r = sl_wt_records(c, 20, 700, NULL);
    ck_assert_int_eq(json_array_size(r), 5);
    json_decref(r);
    sl_wscl_free(c);
    /* pull mode: only against credit */
    c = sl_wt_connect(&proc, "/ws/v1/topics/t?partition=0&from=earliest&mode=pull");
    ck_assert_ptr_null(sl_wt_next(c, 300));
    ck_assert_int_eq(sl_wscl_send(c, "{\"type\":\"credit\",\"records\":4}"), 0);
    r = sl_wt_records(c, 20, 700, NULL);
    ck_assert_int_eq(json_array_size(r), 4);
    json_decref(r);
    sl_wscl_free(c);
}
END_TEST

START_TEST(seek_and_subscribe_and_deflate)
{
    sl_wt_create_topic(&proc, "u", 1);
    produce_n("t", 0, 0, 10);
    produce_n("u", 0, 0, 3);
    struct sl_wscl_opts o = {.deflate = true};
    struct sl_wscl *c = sl_wscl_connect(proc.ws_port, "/ws/v1/topics/t?partition=0&from=earliest", &o, 5000);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(strstr(sl_wscl_extensions(c), "permessage-deflate"));
    json_t *r = sl_wt_records(c, 10, 5000, NULL);
    ck_assert_int_eq(json_array_size(r), 10);
    json_decref(r);
    ck_assert_int_eq(sl_wscl_send(c, "{\"type\":\"seek\",\"partition\":0,\"offset\":8}"), 0);
    r = sl_wt_records(c, 2, 5000, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "offset")), 8);
    json_decref(r);
    ck_assert_int_eq(sl_wscl_send(c, "{\"type\":\"subscribe\",\"topics\":[\"u\"]}"), 0);
    produce_n("u", 0, 3, 1);
    r = sl_wt_records(c, 1, 5000, NULL); /* subscriptions start at 'from' (earliest here) */
    ck_assert_int_ge(json_array_size(r), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "topic")), "u");
    json_decref(r);
    sl_wscl_free(c);
}
END_TEST

/* Connects to path, optionally sends msg, and asserts an error message then the close code. */
static void expect_close(const char *path, const char *msg, int code)
{
    struct sl_wscl *c = sl_wt_connect(&proc, path);
    if (msg)
        sl_wscl_send(c, msg);
    json_t *e = sl_wt_expect(c, "error", 5000);
    ck_assert_msg(e != NULL, "no error message for %s %.60s", path, msg ? msg : "");
    ck_assert(json_is_integer(json_object_get(e, "error_code")));
    ck_assert(json_is_string(json_object_get(e, "message")));
    json_decref(e);
    ck_assert(sl_wscl_wait_closed(c, 5000));
    ck_assert_int_eq(sl_wscl_close_code(c), code);
    sl_wscl_free(c);
}

START_TEST(every_error_closes_with_its_code)
{
    expect_close("/ws/v1/topics/nope", NULL, 4404);
    expect_close("/ws/v1/topics/t?partition=7", NULL, 4404);
    expect_close("/ws/v1/other", NULL, 4404);
    expect_close("/ws/v1/topics/t?from=yesterday", NULL, 4400);
    expect_close("/ws/v1/topics/t?from=time:x", NULL, 4400);
    expect_close("/ws/v1/topics/t?format=xml", NULL, 4400);
    expect_close("/ws/v1/topics/t?max_in_flight=0", NULL, 4400);
    expect_close("/ws/v1/topics/t", "{not json", 4400);
    expect_close("/ws/v1/topics/t", "[1,2]", 4400);
    expect_close("/ws/v1/topics/t", "{\"type\":\"dance\"}", 4400);
    expect_close("/ws/v1/topics/t", "{\"type\":\"commit\"}", 4400); /* no group */
    char *big = malloc(150001);
    memset(big, 'x', 150000);
    big[150000] = '\0';
    expect_close("/ws/v1/topics/t", big, 4413);
    free(big);
    /* the server still serves */
    produce_n("t", 0, 0, 1);
    ck_assert_int_eq(first_offset("/ws/v1/topics/t?partition=0&from=earliest", 5000), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_consume");
    TCase *tc = tcase_create("ws_consume");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, records_arrive_pushed_in_order_exactly_once_with_every_field);
    tcase_add_test(tc, from_earliest_offset_time_and_latest);
    tcase_add_test(tc, caught_up_subscribers_get_every_record_without_waiting_for_the_tick);
    tcase_add_test(tc, bursts_of_appends_reach_caught_up_subscribers_without_waiting_for_the_tick);
    tcase_add_test(tc, flow_control_holds_at_max_in_flight_until_acks);
    tcase_add_test(tc, seek_and_subscribe_and_deflate);
    tcase_add_test(tc, every_error_closes_with_its_code);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
