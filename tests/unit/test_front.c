/* api/http/front.c: which connections go to the raw streaming produce, which to libmicrohttpd, and when the
 * front waits for more of the head. Against the real route table. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/front.h"
#include "api/http/router.h"

static struct sl_router *r;

static void setup(void)
{
    ck_assert_int_eq(sl_router_new(&r), 0);
    sl_routes_register_all(r);
}

static void teardown(void)
{
    sl_router_free(r);
}

static enum sl_refusal why;

static enum sl_front_kind kind(const char *s)
{
    return sl_front_classify(r, s, strlen(s), false, &why);
}

#define STREAM_HEAD(path, te) "POST " path " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " te "\r\n\r\n"

START_TEST(chunked_v3_produce_is_a_stream)
{
    ck_assert_int_eq(kind(STREAM_HEAD("/v3/clusters/c1/topics/orders/records", "chunked")), SL_FRONT_STREAM);
    ck_assert_int_eq(kind(STREAM_HEAD("/v3/clusters/c1/topics/orders/records?x=1", "chunked")), SL_FRONT_STREAM);
    ck_assert_int_eq(kind(STREAM_HEAD("/v3/clusters/c1/topics/or%64ers/records", "chunked")), SL_FRONT_STREAM);
    /* body bytes after the head do not matter */
    ck_assert_int_eq(kind(STREAM_HEAD("/v3/clusters/c1/topics/t/records", "chunked") "5\r\n{\"va"),
                     SL_FRONT_STREAM);
}
END_TEST

START_TEST(everything_else_goes_to_libmicrohttpd)
{
    ck_assert_int_eq(kind(STREAM_HEAD("/v3/clusters/c1/topics/t/records:batch", "chunked")), SL_FRONT_MHD);
    ck_assert_int_eq(kind(STREAM_HEAD("/topics/t", "chunked")), SL_FRONT_MHD);
    ck_assert_int_eq(kind("POST /v3/clusters/c1/topics/t/records HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"),
                     SL_FRONT_MHD);
    ck_assert_int_eq(kind("PUT /v3/clusters/c1/topics/t/records HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     SL_FRONT_MHD);
    ck_assert_int_eq(kind("GET /healthy HTTP/1.1\r\n\r\n"), SL_FRONT_MHD);
    ck_assert_int_eq(kind("GET /healthy HTTP/1.0\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"),
                     SL_FRONT_MHD);
}
END_TEST

/* libmicrohttpd would answer these itself, in HTML: the front answers them in JSON. */
START_TEST(bad_first_heads_are_refused_here)
{
    static const struct {
        const char *head;
        enum sl_refusal why;
    } cases[] = {
        {"garbage\r\n\r\n", SL_REFUSE_MALFORMED},
        {"GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n", SL_REFUSE_MALFORMED},
        {"GET /x HTTP/2.0\r\n\r\n", SL_REFUSE_VERSION},
        {"GET /x HTTP/0.9\r\n\r\n", SL_REFUSE_VERSION},
        {STREAM_HEAD("/v3/clusters/c1/topics/t/records", "gzip"), SL_REFUSE_FRAMING},
        {STREAM_HEAD("/v3/clusters/c1/topics/t/records", "gzip, chunked"), SL_REFUSE_FRAMING},
        {"POST /v3/clusters/c1/topics/t/records HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", SL_REFUSE_FRAMING},
        {"POST /topics/t HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n", SL_REFUSE_FRAMING},
        {"POST /topics/t HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", SL_REFUSE_FRAMING},
        {"POST /topics/t HTTP/1.1\r\nContent-Length: abc\r\n\r\n", SL_REFUSE_FRAMING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        why = SL_REFUSE_BUSY;
        ck_assert_msg(kind(cases[i].head) == SL_FRONT_REFUSE, "not refused: %s", cases[i].head);
        ck_assert_msg(why == cases[i].why, "refused %d, not %d: %s", why, cases[i].why, cases[i].head);
    }
    char many[8192] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i <= SL_HTTP1_MAX_HDRS; i++)
        strcat(many, "A: b\r\n");
    ck_assert_int_eq(kind(many), SL_FRONT_REFUSE);
    ck_assert_int_eq(why, SL_REFUSE_TOO_LARGE);
}
END_TEST

START_TEST(a_partial_head_waits_unless_the_buffer_is_full_then_431)
{
    const char *s = STREAM_HEAD("/v3/clusters/c1/topics/t/records", "chunked");
    for (size_t n = 0; n < strlen(s); n++) {
        ck_assert_int_eq(sl_front_classify(r, s, n, false, &why), SL_FRONT_MORE);
        ck_assert_int_eq(sl_front_classify(r, s, n, true, &why), SL_FRONT_REFUSE);
        ck_assert_int_eq(why, SL_REFUSE_TOO_LARGE);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("front");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, chunked_v3_produce_is_a_stream);
    tcase_add_test(tc, everything_else_goes_to_libmicrohttpd);
    tcase_add_test(tc, bad_first_heads_are_refused_here);
    tcase_add_test(tc, a_partial_head_waits_unless_the_buffer_is_full_then_431);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
