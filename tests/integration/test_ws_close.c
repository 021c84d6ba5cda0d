/* How sluice ends a WebSocket on an error (issue 12), with the raw client: the error message, then a close
 * frame with 4000 + status, and then the server waits for the client's close before it closes TCP (RFC 6455
 * §7.1.1), at most about a second. Closing TCP right after the close frame made undici's WebSocket (Node's)
 * report 1006 and lose the error; tests/browser/undici.mjs checks that client itself. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/ws_raw.h"
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

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to path, expects the error message with error_code code and the close frame close. */
static struct sl_wsraw *error_close(const char *path, int code, int close)
{
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, path);
    char *m = sl_wsraw_text(r, 5000), want[48];
    snprintf(want, sizeof want, "\"error_code\":%d", code);
    ck_assert_msg(m && strstr(m, "\"type\":\"error\"") && strstr(m, want), "got %s", m ? m : "(nothing)");
    free(m);
    ck_assert(sl_wsraw_wait_closed(r, 5000));
    ck_assert_int_eq(sl_wsraw_close_code(r), close);
    return r;
}

START_TEST(after_an_error_close_the_server_waits_for_the_clients_close)
{
    struct sl_wsraw *r = error_close("/ws/v1/topics/nope", 40401, 4404);
    ck_assert_msg(!sl_tcp_wait_eof(sl_wsraw_fd(r), 300), "TCP closed right after the close frame");
    static const uint8_t echo[2] = {4404 >> 8, 4404 & 0xff};
    int64_t t0 = mono_ms();
    ck_assert_int_eq(sl_wsraw_frame(r, 0x88, 2, echo, 2), 0);
    ck_assert_msg(sl_tcp_wait_eof(sl_wsraw_fd(r), 2000), "no TCP close after the client's close");
    ck_assert_int_lt(mono_ms() - t0, 500);
    sl_wsraw_free(r);
}
END_TEST

START_TEST(a_client_that_never_closes_is_dropped_after_about_a_second)
{
    struct sl_wsraw *r = error_close("/ws/v1/topics/t?from=bogus", 400, 4400);
    int64_t t0 = mono_ms();
    ck_assert(sl_tcp_wait_eof(sl_wsraw_fd(r), 5000));
    int64_t waited = mono_ms() - t0;
    ck_assert_msg(waited >= 500 && waited < 3000, "dropped after %lld ms", (long long)waited);
    sl_wsraw_free(r);
}
END_TEST

/* Sends a client close frame with payload p (n bytes) on a fresh produce socket; returns the server's close code
 * (0: none, or one without a code). */
static int answer_to_close(const void *p, size_t n)
{
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
    ck_assert_int_eq(sl_wsraw_frame(r, 0x88, n, p, n), 0);
    ck_assert(sl_wsraw_wait_closed(r, 5000));
    int code = sl_wsraw_close_code(r);
    sl_wsraw_free(r);
    return code;
}

START_TEST(a_close_with_a_1_byte_payload_is_a_protocol_error_not_echoed)
{
    ck_assert_int_eq(answer_to_close("\x03", 1), 1002);
}
END_TEST

START_TEST(a_close_with_a_code_not_for_the_wire_is_a_protocol_error)
{
    static const uint8_t c1005[2] = {1005 >> 8, 1005 & 0xff}, c999[2] = {999 >> 8, 999 & 0xff};
    ck_assert_int_eq(answer_to_close(c1005, 2), 1002);
    ck_assert_int_eq(answer_to_close(c999, 2), 1002);
}
END_TEST

START_TEST(a_valid_close_is_still_echoed)
{
    static const uint8_t c1000[] = {1000 >> 8, 1000 & 0xff, 'b', 'y', 'e'}, c4000[2] = {4000 >> 8, 4000 & 0xff};
    ck_assert_int_eq(answer_to_close(c1000, sizeof c1000), 1000);
    ck_assert_int_eq(answer_to_close(c4000, 2), 4000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_close");
    TCase *tc = tcase_create("ws_close");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, after_an_error_close_the_server_waits_for_the_clients_close);
    tcase_add_test(tc, a_client_that_never_closes_is_dropped_after_about_a_second);
    tcase_add_test(tc, a_close_with_a_1_byte_payload_is_a_protocol_error_not_echoed);
    tcase_add_test(tc, a_close_with_a_code_not_for_the_wire_is_a_protocol_error);
    tcase_add_test(tc, a_valid_close_is_still_echoed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
