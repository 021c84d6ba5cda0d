/* Unit tests for api/http/http_track.c: what a kept-alive connection's tracker passes on, holds and refuses. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http_track.h"

/* Feeds s as one read after the held head, as api/http/recv_hook.c does; returns how many bytes of the held
 * head + s may be passed on. */
static long feed(struct sl_http_track *t, const char *s)
{
    static char buf[32768];
    long h = sl_http_track_unhold(t, buf, sizeof buf);
    ck_assert_int_ge(h, 0);
    size_t n = strlen(s);
    memcpy(buf + h, s, n);
    return sl_http_track_scan(t, buf, (size_t)h + n);
}

START_TEST(whole_requests_pass_through)
{
    struct sl_http_track t;
    sl_http_track_init(&t);
    const char *two = "GET /topics HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST /topics/t HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                      "\r\nPOST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    ck_assert_int_eq(feed(&t, two), (long)strlen(two));
    ck_assert_int_eq(t.state, SL_TRACK_HEAD);
    ck_assert_ptr_null(t.held);
    sl_http_track_fini(&t);
}
END_TEST

START_TEST(incomplete_heads_are_held_until_whole)
{
    struct sl_http_track t;
    sl_http_track_init(&t);
    ck_assert_int_eq(feed(&t, "GET /topics HT"), 0);
    ck_assert_uint_eq(t.held_len, 14);
    ck_assert_int_eq(feed(&t, "TP/1.1\r\nHost: x\r\n"), 0); /* still held: nothing passed on */
    ck_assert_uint_eq(t.held_len, 31);
    ck_assert_int_eq(feed(&t, "\r\n"), 33); /* the whole head at once */
    ck_assert_ptr_null(t.held);
    /* a body split over reads is passed on as it comes */
    ck_assert_int_eq(feed(&t, "PUT /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"), 40);
    ck_assert_int_eq(t.state, SL_TRACK_BODY_CL);
    ck_assert_int_eq(feed(&t, "cdGET"), 2); /* the body's end; the next head's start is held */
    ck_assert_uint_eq(t.held_len, 3);
    sl_http_track_fini(&t);
    ck_assert_ptr_null(t.held);
}
END_TEST

START_TEST(bad_heads_are_refused_after_the_good_requests)
{
    static const struct {
        const char *head;
        enum sl_refusal why;
    } cases[] = {
        {"GARBAGE\r\n\r\n", SL_REFUSE_MALFORMED},
        {"GET / HTTP/2.0\r\n\r\n", SL_REFUSE_VERSION},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", SL_REFUSE_MALFORMED},
        {"POST / HTTP/1.1\r\nContent-Length: x1\r\n\r\n", SL_REFUSE_FRAMING},
        {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", SL_REFUSE_FRAMING},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", SL_REFUSE_FRAMING},
    };
    const char *good = "GET /a HTTP/1.1\r\n\r\n";
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct sl_http_track t;
        sl_http_track_init(&t);
        char in[512];
        strcpy(in, good);
        strcat(in, cases[i].head);
        strcat(in, good); /* never passed on after a refusal */
        ck_assert_int_eq(feed(&t, in), (long)strlen(good));
        ck_assert_int_eq(t.state, SL_TRACK_REFUSED);
        ck_assert_int_eq(t.why, cases[i].why);
        ck_assert_int_eq(feed(&t, good), 0);
        sl_http_track_fini(&t);
    }
}
END_TEST

START_TEST(oversized_heads_and_broken_chunks_are_refused)
{
    struct sl_http_track t;
    sl_http_track_init(&t);
    char *big = malloc(10000);
    strcpy(big, "GET / HTTP/1.1\r\nX: ");
    memset(big + strlen(big), 'a', 9000);
    big[9000] = '\0';
    ck_assert_int_eq(feed(&t, big), 0);
    ck_assert_int_eq(t.state, SL_TRACK_REFUSED);
    ck_assert_int_eq(t.why, SL_REFUSE_TOO_LARGE);
    free(big);
    sl_http_track_fini(&t);

    sl_http_track_init(&t);
    const char *head = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    ck_assert_int_eq(feed(&t, head), (long)strlen(head));
    ck_assert_int_eq(feed(&t, "4\r\nab"), 5);
    ck_assert_int_eq(feed(&t, "cd\r\nzz\r\n"), 0); /* not a chunk size */
    ck_assert_int_eq(t.state, SL_TRACK_REFUSED);
    ck_assert_int_eq(t.why, SL_REFUSE_FRAMING);
    sl_http_track_fini(&t);
}
END_TEST

START_TEST(unhold_needs_room)
{
    struct sl_http_track t;
    sl_http_track_init(&t);
    ck_assert_int_eq(feed(&t, "GET /some/long/path"), 0);
    char small[4];
    ck_assert_int_eq(sl_http_track_unhold(&t, small, sizeof small), -ENOBUFS);
    ck_assert_ptr_nonnull(t.held);
    sl_http_track_fini(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_track");
    TCase *tc = tcase_create("http_track");
    tcase_add_test(tc, whole_requests_pass_through);
    tcase_add_test(tc, incomplete_heads_are_held_until_whole);
    tcase_add_test(tc, bad_heads_are_refused_after_the_good_requests);
    tcase_add_test(tc, oversized_heads_and_broken_chunks_are_refused);
    tcase_add_test(tc, unhold_needs_room);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
