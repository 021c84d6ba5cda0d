/* WebSocket input limits against the real binary, with raw frames where the project's client cannot make
 * them (issue 11): a frame announcing an absurd length is refused before it is buffered; a message over
 * ws.max.message.bytes closes 4413; unfinished messages are charged to the buffer budget (4503 past it, all
 * given back on close) and, 8 sockets at once, leave the server's RSS bounded; a message trickled byte by
 * frame by frame must still complete within ws.idle.timeout.ms (4408); control frames over 125 bytes close 1002, as
 * fragmented ones do; text that is not UTF-8 closes 1007; an upgrade never finished is closed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/ws_raw.h"
#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void start(const char *const *extra)
{
    /* a small ASan quarantine, so freed memory does not count as held */
    setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=4", 1);
    sl_proc_start(&proc, NULL, extra);
    sl_wt_create_topic(&proc, "t", 1);
}

static void setup(void)
{
    start(NULL);
}

static void setup_budget(void)
{
    static const char *const extra[] = {"--set", "buffer.memory.max.bytes=3145728", NULL};
    start(extra);
}

static void setup_idle(void)
{
    static const char *const extra[] = {"--set", "ws.idle.timeout.ms=2000", NULL};
    start(extra);
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

/* The value of the sluice_buffer_memory_bytes gauge. */
static long long budget_used(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", proc.base);
    struct sl_resp r;
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, NULL, &r), 200);
    const char *p = strstr(r.body, "\nsluice_buffer_memory_bytes ");
    ck_assert_ptr_nonnull(p);
    long long v = atoll(p + 28);
    sl_resp_fini(&r);
    return v;
}

/* Expects an error message with error_code code, then the close code close. */
static void expect_error_close(struct sl_wsraw *r, int code, int close)
{
    char *m = sl_wsraw_text(r, 5000);
    ck_assert_msg(m != NULL, "no error message (closed %d, code %d)", sl_wsraw_wait_closed(r, 0),
                  sl_wsraw_close_code(r));
    char want[48];
    snprintf(want, sizeof want, "\"error_code\":%d", code);
    ck_assert_msg(strstr(m, "\"type\":\"error\"") && strstr(m, want) && strstr(m, "\"message\":"), "got %s", m);
    free(m);
    ck_assert(sl_wsraw_wait_closed(r, 5000));
    ck_assert_int_eq(sl_wsraw_close_code(r), close);
}

START_TEST(a_frame_announcing_an_absurd_length_is_refused_at_once)
{
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
    char piece[4096];
    memset(piece, ' ', sizeof piece);
    piece[0] = '{';
    int64_t t0 = mono_ms();
    ck_assert_int_eq(sl_wsraw_frame(r, 0x81, 1ull << 40, piece, sizeof piece), 0); /* 1 TiB announced */
    expect_error_close(r, 413, 4413);
    ck_assert_int_lt(mono_ms() - t0, 3000);
    sl_wsraw_free(r);
}
END_TEST

START_TEST(a_message_over_ws_max_message_bytes_closes_4413)
{
    /* 1.5 MiB: over the default limit (1 MiB + 64 KiB), far under rest.max.body.bytes (64 MiB) */
    size_t n = 3u << 19;
    char *msg = malloc(n + 64);
    int h = sprintf(msg, "{\"id\":1,\"records\":[{\"value\":\"");
    memset(msg + h, 'a', n);
    strcpy(msg + h + n, "\"}]}");
    struct sl_wscl *c = sl_wt_connect(&proc, "/ws/v1/topics/t/produce");
    sl_wscl_send(c, msg);
    free(msg);
    json_t *e = sl_wt_expect(c, "error", 5000);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "error_code")), 413);
    json_decref(e);
    ck_assert(sl_wscl_wait_closed(c, 5000));
    ck_assert_int_eq(sl_wscl_close_code(c), 4413);
    sl_wscl_free(c);
}
END_TEST

START_TEST(unfinished_messages_are_charged_to_the_buffer_budget)
{
    /* 3 MiB budget; each socket holds 600,000 bytes of an unfinished message (a 1 MiB buffer) */
    enum { N = 6, PART = 600000 };
    struct sl_wsraw *r[N];
    char *part = malloc(PART);
    memset(part, ' ', PART);
    part[0] = '{';
    int refused = 0;
    for (int i = 0; i < N; i++) {
        r[i] = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
        ck_assert_int_eq(sl_wsraw_frame(r[i], 0x01 /* text, not final */, PART, part, PART), 0);
        char *m = sl_wsraw_text(r[i], 1000);
        if (m) {
            ck_assert_msg(strstr(m, "\"error_code\":50301"), "got %s", m);
            ck_assert(sl_wsraw_wait_closed(r[i], 5000));
            ck_assert_int_eq(sl_wsraw_close_code(r[i]), 4503);
            refused++;
            free(m);
        }
        ck_assert_int_le(budget_used(), 3145728);
    }
    free(part);
    ck_assert_int_ge(refused, 1);
    ck_assert_int_le(refused, N - 2);
    ck_assert_int_gt(budget_used(), 0);
    for (int i = 0; i < N; i++)
        sl_wsraw_free(r[i]);
    int64_t dl = mono_ms() + 5000;
    while (budget_used() != 0 && mono_ms() < dl)
        usleep(20000);
    ck_assert_int_eq(budget_used(), 0); /* every byte given back */
}
END_TEST

START_TEST(unfinished_huge_messages_cost_bounded_memory)
{
    /* 8 sockets, each announcing a message just under 64 MiB (the old per-socket limit) and sending MB MiB
     * of it (16 in CI; WS_RX_MB=60 measures the case by hand). */
    enum { N = 8, CHUNK = 256 << 10 };
    const char *env = getenv("WS_RX_MB");
    const long MB = env && atoi(env) > 0 ? atoi(env) : 16;
    struct sl_wsraw *r[N];
    bool open[N];
    char *chunk = malloc(CHUNK);
    memset(chunk, ' ', CHUNK);
    chunk[0] = '{';
    long before = sl_proc_status(proc.pid, "VmRSS"), peak = before;
    for (int i = 0; i < N; i++) {
        r[i] = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
        open[i] = sl_wsraw_frame(r[i], 0x81, (64u << 20) - 1, NULL, 0) == 0;
    }
    for (long sent = 0; sent < MB << 20; sent += CHUNK) {
        for (int i = 0; i < N; i++)
            if (open[i])
                open[i] = sl_wsraw_bytes(r[i], chunk, CHUNK) == 0;
        long now = sl_proc_status(proc.pid, "VmRSS");
        peak = now > peak ? now : peak;
    }
    usleep(300000);
    long after = sl_proc_status(proc.pid, "VmRSS");
    peak = after > peak ? after : peak;
    fprintf(stderr, "ws_frames: RSS before %ld kB, peak %ld kB (+%ld kB) with %d sockets x %ld MiB unfinished\n",
            before, peak, peak - before, N, MB);
    free(chunk);
    for (int i = 0; i < N; i++)
        sl_wsraw_free(r[i]);
    ck_assert_msg(peak - before < 24 * 1024, "RSS grew by %ld kB", peak - before);
}
END_TEST

START_TEST(control_frames_over_125_bytes_or_fragmented_close_1002)
{
    uint8_t p[200];
    memset(p, 'p', sizeof p);
    /* 125 bytes: the largest allowed ping is answered */
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t");
    ck_assert_int_eq(sl_wsraw_frame(r, 0x89, 125, p, 125), 0);
    ck_assert(!sl_wsraw_wait_closed(r, 300));
    sl_wsraw_free(r);
    /* 126 (16-bit length) and 200 (64-bit length) bytes */
    const uint64_t lens[] = {126, 70000};
    for (int i = 0; i < 2; i++) {
        r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t");
        ck_assert_int_eq(sl_wsraw_frame(r, 0x89, lens[i], p, lens[i] < sizeof p ? lens[i] : sizeof p), 0);
        ck_assert(sl_wsraw_wait_closed(r, 5000));
        ck_assert_msg(sl_wsraw_close_code(r) == 1002, "ping of %d bytes: close code %d", (int)lens[i],
                      sl_wsraw_close_code(r));
        sl_wsraw_free(r);
    }
    /* a fragmented ping (FIN clear) */
    r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t");
    ck_assert_int_eq(sl_wsraw_frame(r, 0x09, 4, p, 4), 0);
    ck_assert(sl_wsraw_wait_closed(r, 5000));
    ck_assert_int_eq(sl_wsraw_close_code(r), 1002);
    sl_wsraw_free(r);
    /* and text that is not UTF-8: 1007 */
    r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
    static const char bad[] = "{\"id\":\"\xff\xfe\"}";
    ck_assert_int_eq(sl_wsraw_frame(r, 0x81, sizeof bad - 1, bad, sizeof bad - 1), 0);
    ck_assert(sl_wsraw_wait_closed(r, 5000));
    ck_assert_int_eq(sl_wsraw_close_code(r), 1007);
    sl_wsraw_free(r);
    /* the server still serves */
    sl_wsraw_free(sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t"));
}
END_TEST

START_TEST(a_message_trickled_byte_by_byte_must_complete_within_the_idle_timeout)
{
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
    char piece[4096];
    memset(piece, ' ', sizeof piece);
    piece[0] = '{';
    /* A first 4 KiB frame, then a 1-byte continuation frame every 100 ms, answering the server's pings between
     * frames: alive and sending, but the message never ends. */
    ck_assert_int_eq(sl_wsraw_frame(r, 0x01, sizeof piece, piece, sizeof piece), 0);
    int64_t t0 = mono_ms();
    char *m = NULL;
    while (!m && !sl_wsraw_wait_closed(r, 0) && mono_ms() - t0 < 6000) {
        if (sl_wsraw_frame(r, 0x00, 1, " ", 1))
            break;
        m = sl_wsraw_text(r, 100);
    }
    ck_assert_msg(m != NULL, "no error after %lld ms (closed %d)", (long long)(mono_ms() - t0),
                  sl_wsraw_wait_closed(r, 0));
    ck_assert_msg(strstr(m, "\"error_code\":408"), "got %s", m);
    free(m);
    ck_assert(sl_wsraw_wait_closed(r, 5000));
    ck_assert_int_eq(sl_wsraw_close_code(r), 4408);
    ck_assert_int_lt(mono_ms() - t0, 5000); /* 2 s timeout + the 1 s tick */
    sl_wsraw_free(r);
}
END_TEST

START_TEST(an_upgrade_never_finished_is_closed_within_the_handshake_timeout)
{
    int silent = sl_tcp_connect(proc.ws_port), slow = sl_tcp_connect(proc.ws_port);
    static const char line1[] = "GET /ws/v1/topics/t HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    ck_assert_int_eq(send(slow, line1, sizeof line1 - 1, MSG_NOSIGNAL), (ssize_t)(sizeof line1 - 1));
    int64_t t0 = mono_ms(), silent_at = 0, slow_at = 0;
    while ((!silent_at || !slow_at) && mono_ms() - t0 < 14000) {
        if (!slow_at && send(slow, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) != 11) /* a header line every 500 ms */
            slow_at = mono_ms();
        if (!slow_at && sl_tcp_wait_eof(slow, 250))
            slow_at = mono_ms();
        if (!silent_at && sl_tcp_wait_eof(silent, 250))
            silent_at = mono_ms();
    }
    fprintf(stderr, "ws_frames: silent socket closed after %lld ms, trickling one after %lld ms\n",
            (long long)(silent_at - t0), (long long)(slow_at - t0));
    ck_assert_msg(silent_at && slow_at, "silent closed %d, trickling closed %d", silent_at != 0, slow_at != 0);
    close(silent);
    close(slow);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_frames");
    TCase *tc = tcase_create("ws_frames");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_frame_announcing_an_absurd_length_is_refused_at_once);
    tcase_add_test(tc, a_message_over_ws_max_message_bytes_closes_4413);
    tcase_add_test(tc, unfinished_huge_messages_cost_bounded_memory);
    tcase_add_test(tc, control_frames_over_125_bytes_or_fragmented_close_1002);
    tcase_add_test(tc, an_upgrade_never_finished_is_closed_within_the_handshake_timeout);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("ws_budget");
    tcase_add_checked_fixture(tb, setup_budget, teardown);
    tcase_set_timeout(tb, 30);
    tcase_add_test(tb, unfinished_messages_are_charged_to_the_buffer_budget);
    suite_add_tcase(s, tb);
    TCase *ti = tcase_create("ws_deadline");
    tcase_add_checked_fixture(ti, setup_idle, teardown);
    tcase_set_timeout(ti, 30);
    tcase_add_test(ti, a_message_trickled_byte_by_byte_must_complete_within_the_idle_timeout);
    suite_add_tcase(s, ti);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
