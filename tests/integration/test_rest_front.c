/* The REST front (api/http/front.c, api/http/refuse.c) and the request guard (api/http/http_guard.c) against the real
 * binary, over raw TCP: the first head's limits (431 over 8 KiB, 408 past rest.header.timeout.ms), the
 * errors libmicrohttpd would answer in HTML answered in JSON instead, RFC 9112 §6.3 framing on the first
 * and on a kept-alive request, and the server serving on after each. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/http_raw.h"
#include "tests/support/rawhttp.h"
#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"
#include "tests/support/ws_raw.h"

static struct sl_proc proc;

static void setup(void)
{
    setenv("SLUICE_REST_HEADER_TIMEOUT_MS", "800", 1);
    sl_proc_start(&proc, NULL, NULL);
}

static void teardown(void)
{
    sl_proc_free(&proc);
    unsetenv("SLUICE_REST_HEADER_TIMEOUT_MS");
}

/* Asserts r is status with a JSON {"error_code":code,"message":...} body. */
static void assert_json_error(const struct sl_raw_resp *r, int status, int code, const char *what)
{
    ck_assert_msg(r->status == status, "%.60s: status %d, not %d:\n%.300s%.200s", what, r->status, status,
                  r->head, r->body ? r->body : "");
    json_t *j = sl_raw_json(r);
    ck_assert_msg(j && json_is_integer(json_object_get(j, "error_code")), "%.60s: not a JSON error body: %.200s", what,
                  r->body ? r->body : "(none)");
    ck_assert_msg(json_integer_value(json_object_get(j, "error_code")) == code, "%.60s: error_code %lld, not %d",
                  what, (long long)json_integer_value(json_object_get(j, "error_code")), code);
    ck_assert(json_is_string(json_object_get(j, "message")));
    ck_assert_msg(strstr(r->head, "application/json"), "%.60s: not application/json:\n%.300s", what, r->head);
    json_decref(j);
}

static void assert_still_serving(void)
{
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
}

/* The first request's head: complete heads that libmicrohttpd would refuse in HTML, or not at all. */
static void refused_first(const char *req, int status, int code)
{
    struct sl_raw_resp r;
    int fd = sl_raw_exchange(proc.rest_port, req, &r);
    ck_assert_msg(fd >= 0, "no answer to %.60s", req);
    assert_json_error(&r, status, code, req);
    ck_assert_msg(sl_tcp_wait_eof(fd, 3000), "not closed after refusing %.60s", req);
    sl_raw_resp_fini(&r);
    close(fd);
    assert_still_serving();
}

/* A big block of header lines, without the final empty line. */
static char *big_fields(size_t min_len)
{
    char *s = malloc(min_len + 256);
    size_t n = 0;
    for (int i = 0; n < min_len; i++)
        n += (size_t)sprintf(s + n, "X-Pad-%d: %0100d\r\n", i, 0);
    return s;
}

START_TEST(a_head_over_8_kib_is_answered_431_in_json)
{
    char *fields = big_fields(9000), *req = malloc(strlen(fields) + 64);
    sprintf(req, "GET /healthy HTTP/1.1\r\nHost: x\r\n%s", fields); /* no empty line: it never ends */
    int64_t t0 = sl_test_mono_ms();
    refused_first(req, 431, 43101);
    ck_assert_msg(sl_test_mono_ms() - t0 < 700, "431 took the header timeout: not answered at the limit");
    free(fields);
    free(req);
}
END_TEST

START_TEST(a_head_that_does_not_arrive_in_time_is_answered_408_in_json)
{
    int fd = sl_tcp_connect(proc.rest_port);
    const char *part = "GET /healthy HTTP/1.1\r\nHost: x\r\n";
    ck_assert_int_eq(sl_raw_send_fd(fd, part, strlen(part)), 0);
    int64_t t0 = sl_test_mono_ms();
    for (int i = 0; i < 3; i++) { /* trickling does not extend the deadline */
        usleep(200 * 1000);
        ck_assert_int_eq(sl_raw_send_fd(fd, "X", 1), 0);
    }
    struct sl_raw_resp r;
    ck_assert_msg(sl_raw_read(fd, 3000, &r) == 0, "no answer to a late head");
    int64_t took = sl_test_mono_ms() - t0;
    assert_json_error(&r, 408, 408, "late head");
    ck_assert_msg(took >= 700 && took < 2500, "408 after %lld ms (rest.header.timeout.ms = 800)", (long long)took);
    ck_assert(sl_tcp_wait_eof(fd, 3000));
    sl_raw_resp_fini(&r);
    close(fd);
    assert_still_serving();
}
END_TEST

START_TEST(bad_first_heads_are_answered_in_json)
{
    refused_first("GARBAGE\r\n\r\n", 400, 400);
    refused_first("GET /healthy HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400, 400);
    refused_first("GET /healthy HTTP/2.0\r\nHost: x\r\n\r\n", 505, 505);
    refused_first("GET /healthy HTTP/0.9\r\n\r\n", 505, 505);
    refused_first("GET /healthy HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, 400);
    refused_first("GET /healthy HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, 400);
    char *uri = malloc(9100);
    memset(uri, 'a', 9000);
    uri[9000] = '\0';
    char *req = malloc(9200);
    sprintf(req, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", uri);
    refused_first(req, 431, 43101); /* the URI counts towards the head (libmicrohttpd: 414 in HTML) */
    char many[4096] = "GET /healthy HTTP/1.1\r\n";
    for (int i = 0; i < 60; i++)
        strcat(many, "A: b\r\n");
    strcat(many, "\r\n");
    refused_first(many, 431, 43101);
    free(uri);
    free(req);
}
END_TEST

static const char *const ambiguous[] = {
    "POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    "Content-Length: 4\r\n\r\n{}{}",
    "POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n"
    "Content-Length: 2\r\n\r\n{}",
    "POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n"
    "\r\n2\r\n{}\r\n0\r\n\r\n",
};

START_TEST(ambiguous_framing_is_refused_400_on_the_first_request)
{
    for (size_t i = 0; i < sizeof ambiguous / sizeof ambiguous[0]; i++)
        refused_first(ambiguous[i], 400, 400);
}
END_TEST

/* Sends a good request, then req on the same connection (which only libmicrohttpd sees). */
static void refused_second(const char *req, int status, int code)
{
    struct sl_raw_resp r;
    int fd = sl_raw_exchange(proc.rest_port, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(r.status, 200);
    sl_raw_resp_fini(&r);
    ck_assert_int_eq(sl_raw_send_fd(fd, req, strlen(req)), 0);
    ck_assert_msg(sl_raw_read(fd, 5000, &r) == 0, "no answer to a second %.60s", req);
    assert_json_error(&r, status, code, req);
    ck_assert_msg(sl_tcp_wait_eof(fd, 3000), "not closed after refusing a second %.60s", req);
    sl_raw_resp_fini(&r);
    close(fd);
    assert_still_serving();
}

START_TEST(ambiguous_framing_is_refused_400_on_a_kept_alive_request)
{
    for (size_t i = 0; i < sizeof ambiguous / sizeof ambiguous[0]; i++)
        refused_second(ambiguous[i], 400, 400);
}
END_TEST

START_TEST(a_kept_alive_head_over_8_kib_is_answered_431_in_json)
{
    char *fields = big_fields(9000), *req = malloc(strlen(fields) + 64);
    sprintf(req, "GET /healthy HTTP/1.1\r\nHost: x\r\n%s\r\n", fields);
    refused_second(req, 431, 43101);
    free(fields);
    free(req);
}
END_TEST

START_TEST(a_kept_alive_field_name_with_a_space_is_answered_400_in_json)
{
    refused_second("GET /healthy HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400, 400);
}
END_TEST

/* What libmicrohttpd 0.9.75 answered itself in HTML (or not at all) on a kept-alive connection; the
 * request stream is now checked before it parses it (api/http/recv_hook.c, api/http/http_track.c). */
START_TEST(kept_alive_heads_libmicrohttpd_would_answer_in_html_are_answered_in_json)
{
    refused_second("GARBAGE\r\n\r\n", 400, 400);                              /* closed without a word */
    refused_second("GET /healthy HTTP/2.0\r\nHost: x\r\n\r\n", 505, 505);        /* 505 in HTML */
    refused_second("GET /healthy HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400, 400); /* 400 in HTML */
    refused_second("POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, 400);
    refused_second("POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400,
                   400); /* 413 in HTML */
}
END_TEST

#define CHUNKED_HEAD "POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.binary.v2+json\r\n" \
                     "Transfer-Encoding: chunked\r\n\r\n"

START_TEST(broken_chunked_bodies_are_answered_400_in_json)
{
    refused_first(CHUNKED_HEAD "5\r\n{\"rec\r\nzz\r\n", 400, 400);     /* not a chunk size: 400 in HTML */
    refused_first(CHUNKED_HEAD "fffffffffffffffffff\r\n", 400, 400); /* overflowing size: 413 in HTML */
    refused_second(CHUNKED_HEAD "3\r\nabcX\r\n", 400, 400);         /* no CRLF after the data */
}
END_TEST

/* A good request and a bad one in one write: the good one is answered, then the bad one in JSON. */
START_TEST(a_pipelined_bad_request_is_answered_after_the_good_one)
{
    struct sl_raw c;
    sl_raw_open(&c, (uint16_t)proc.rest_port);
    ck_assert(sl_raw_send(&c, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/9.9\r\n\r\n"));
    ck_assert_msg(sl_raw_wait(&c, NULL, 5000), "not closed: %s", c.buf); /* until the server closes */
    const char *first = strstr(c.buf, "HTTP/1.1 200 "), *second = strstr(c.buf, "HTTP/1.1 505 ");
    ck_assert_msg(first && second && first < second, "answers: %s", c.buf);
    ck_assert_ptr_nonnull(strstr(second, "application/json"));
    ck_assert_ptr_nonnull(strstr(second, "\"error_code\":505"));
    ck_assert_ptr_null(strstr(c.buf, "<html"));
    sl_raw_close(&c);
    assert_still_serving();
}
END_TEST

/* A kept-alive head trickled a few bytes at a time is held until whole, then served as usual. */
START_TEST(a_trickled_kept_alive_head_is_served)
{
    struct sl_raw_resp r;
    int fd = sl_raw_exchange(proc.rest_port, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    ck_assert_int_ge(fd, 0);
    sl_raw_resp_fini(&r);
    const char *head = "GET /v1/info HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
    for (size_t i = 0, len = strlen(head); i < len; i += 7) {
        size_t n = len - i < 7 ? len - i : 7;
        ck_assert_int_eq(sl_raw_send_fd(fd, head + i, n), 0);
        usleep(20 * 1000);
    }
    ck_assert_int_eq(sl_raw_read(fd, 5000, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *j = sl_raw_json(&r);
    ck_assert_ptr_nonnull(json_object_get(j, "cluster_id"));
    json_decref(j);
    sl_raw_resp_fini(&r);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_front");
    TCase *tc = tcase_create("front");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_head_over_8_kib_is_answered_431_in_json);
    tcase_add_test(tc, a_head_that_does_not_arrive_in_time_is_answered_408_in_json);
    tcase_add_test(tc, bad_first_heads_are_answered_in_json);
    tcase_add_test(tc, ambiguous_framing_is_refused_400_on_the_first_request);
    tcase_add_test(tc, ambiguous_framing_is_refused_400_on_a_kept_alive_request);
    tcase_add_test(tc, a_kept_alive_head_over_8_kib_is_answered_431_in_json);
    tcase_add_test(tc, a_kept_alive_field_name_with_a_space_is_answered_400_in_json);
    tcase_add_test(tc, kept_alive_heads_libmicrohttpd_would_answer_in_html_are_answered_in_json);
    tcase_add_test(tc, broken_chunked_bodies_are_answered_400_in_json);
    tcase_add_test(tc, a_pipelined_bad_request_is_answered_after_the_good_one);
    tcase_add_test(tc, a_trickled_kept_alive_head_is_served);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
