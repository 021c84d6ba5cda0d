/* Consumer groups over WebSocket against the real binary: two sockets split a 4-partition topic 2+2; when
 * one closes, the other takes all 4 and continues from the committed offsets; a REST consumer instance and
 * a socket in the same group share the partitions. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
    sl_wt_create_topic(&proc, "g4", 4);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

static void produce_each(int first, int n)
{
    char buf[8192];
    size_t len = 0;
    buf[len++] = '[';
    for (int p = 0; p < 4; p++)
        for (int i = first; i < first + n; i++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s{\"value\":%d,\"partition\":%d}",
                                    len > 1 ? "," : "", i, p);
    snprintf(buf + len, sizeof buf - len, "]");
    sl_wt_produce(&proc, "g4", buf);
}

/* Waits for an assignment with n partitions; returns a bit mask of them. */
static unsigned assignment(struct sl_wscl *c, size_t n)
{
    for (;;) {
        json_t *a = sl_wt_expect(c, "assignment", 10000);
        ck_assert_msg(a != NULL, "no assignment with %zu partitions", n);
        ck_assert(json_integer_value(json_object_get(a, "generation")) > 0);
        json_t *ps = json_object_get(a, "partitions"), *e;
        size_t i;
        unsigned mask = 0;
        json_array_foreach(ps, i, e) mask |= 1u << json_integer_value(json_object_get(e, "partition"));
        size_t got = json_array_size(ps);
        json_decref(a);
        if (got == n)
            return mask;
    }
}

static unsigned partitions_of(json_t *recs)
{
    unsigned mask = 0;
    size_t i;
    json_t *e;
    json_array_foreach(recs, i, e) mask |= 1u << json_integer_value(json_object_get(e, "partition"));
    return mask;
}

START_TEST(two_sockets_split_then_one_takes_over_from_committed)
{
    struct sl_wscl *a = sl_wt_connect(&proc, "/ws/v1/topics/g4?group=gA&from=earliest");
    ck_assert_uint_eq(assignment(a, 4), 0xf);
    struct sl_wscl *b = sl_wt_connect(&proc, "/ws/v1/topics/g4?group=gA&from=earliest");
    json_t *rv = sl_wt_expect(a, "revoke", 10000); /* a gives two partitions up before b gets them */
    ck_assert_ptr_nonnull(rv);
    ck_assert_int_eq(json_array_size(json_object_get(rv, "partitions")), 2);
    json_decref(rv);
    ck_assert_int_eq(sl_wscl_send(a, "{\"type\":\"revoked\"}"), 0);
    unsigned mb = assignment(b, 2), ma = assignment(a, 2);
    ck_assert_uint_eq(ma & mb, 0);
    ck_assert_uint_eq(ma | mb, 0xf);
    produce_each(0, 10);
    json_t *ra = sl_wt_records(a, 20, 10000, NULL), *rb = sl_wt_records(b, 20, 10000, NULL);
    ck_assert_int_eq(json_array_size(ra), 20);
    ck_assert_int_eq(json_array_size(rb), 20);
    ck_assert_uint_eq(partitions_of(ra), ma);
    ck_assert_uint_eq(partitions_of(rb), mb);
    json_decref(ra);
    json_decref(rb);
    ck_assert_int_eq(sl_wscl_send(a, "{\"type\":\"commit\"}"), 0);
    json_t *cm = sl_wt_expect(a, "committed", 5000);
    ck_assert_ptr_nonnull(cm);
    ck_assert_int_eq(json_array_size(json_object_get(cm, "offsets")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(cm, "offsets"), 0), "offset")), 10);
    json_decref(cm);
    sl_wscl_free(a);
    ck_assert_uint_eq(assignment(b, 4), 0xf);
    produce_each(10, 1);
    json_t *r = sl_wt_records(b, 4, 10000, NULL);
    ck_assert_int_eq(json_array_size(r), 4); /* A's partitions resume at the committed 10: nothing repeated */
    size_t i;
    json_t *e;
    json_array_foreach(r, i, e) ck_assert_int_eq(json_integer_value(json_object_get(e, "offset")), 10);
    json_decref(r);
    ck_assert_ptr_null(sl_wt_next(b, 300));
    sl_wscl_free(b);
}
END_TEST

START_TEST(rest_instance_and_socket_share_a_group)
{
    json_t *j = NULL;
    ck_assert_int_eq(sl_http_json(&proc, "POST", "/consumers/gB", "{\"name\":\"r1\",\"format\":\"json\"}", &j), 200);
    json_decref(j);
    ck_assert_int_eq(sl_http_json(&proc, "POST", "/consumers/gB/instances/r1/subscription", "{\"topics\":[\"g4\"]}", NULL),
                     204);
    struct sl_wscl *c = sl_wt_connect(&proc, "/ws/v1/topics/g4?group=gB&from=earliest");
    /* r1 owns all four until its next poll acknowledges the revoke */
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/consumers/gB/instances/r1/assignments", NULL, &j), 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "partitions")), 4);
    json_decref(j);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/consumers/gB/instances/r1/records?timeout=0", NULL, NULL), 200);
    unsigned mw = assignment(c, 2);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/consumers/gB/instances/r1/assignments", NULL, &j), 200);
    json_t *ps = json_object_get(j, "partitions"), *e;
    ck_assert_int_eq(json_array_size(ps), 2);
    size_t i;
    unsigned mr = 0;
    json_array_foreach(ps, i, e) mr |= 1u << json_integer_value(json_object_get(e, "partition"));
    json_decref(j);
    ck_assert_uint_eq(mr & mw, 0);
    ck_assert_uint_eq(mr | mw, 0xf);
    produce_each(0, 5);
    json_t *r = sl_wt_records(c, 10, 10000, NULL);
    ck_assert_int_eq(json_array_size(r), 10);
    ck_assert_uint_eq(partitions_of(r), mw);
    json_decref(r);
    /* the REST instance leaves: the socket takes everything */
    ck_assert_int_eq(sl_http_json(&proc, "DELETE", "/consumers/gB/instances/r1", NULL, NULL), 204);
    ck_assert_uint_eq(assignment(c, 4), 0xf);
    sl_wscl_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_group");
    TCase *tc = tcase_create("ws_group");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_sockets_split_then_one_takes_over_from_committed);
    tcase_add_test(tc, rest_instance_and_socket_share_a_group);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
