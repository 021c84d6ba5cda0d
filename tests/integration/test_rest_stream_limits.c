/* Limits of chunked v3 produce streams (api/rest/produce_stream.c) against the real binary, with
 * rest.max.streams = 4, idle 1.5 s, body 2 s: three times the cap of streams opened at once -- 4 are
 * served, the others answered 503/50303, the process's thread count stays bounded and other requests are
 * served; a silent stream, or one trickling only whitespace, ends cleanly after the idle timeout; a record
 * trickled byte by byte gets a 408 report and the stream ends within the body timeout. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/rawhttp.h"
#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define CAP 4
#define IDLE_MS 1500
#define BODY_MS 2000
#define SLACK_MS 800

static struct sl_proc proc;
static char *cid;

static void setup(void)
{
    static const char *const extra[] = {"--set", "rest.max.streams=4", "--set", "rest.idle.timeout.ms=1500",
                                        "--set", "rest.body.timeout.ms=2000", NULL};
    sl_proc_start(&proc, NULL, extra);
    cid = sl_proc_cluster_id(&proc);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"t\",\"partitions_count\":1}", NULL), 201);
}

static void teardown(void)
{
    sl_proc_free(&proc);
    free(cid);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long threads(void)
{
    return sl_proc_status(proc.pid, "Threads");
}

static void stream_open(struct sl_raw *s)
{
    sl_raw_open(s, proc.rest_port);
    char head[512];
    snprintf(head, sizeof head,
             "POST /v3/clusters/%s/topics/t/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",
             cid);
    ck_assert(sl_raw_send(s, head));
}

#define REC "{\"value\":{\"type\":\"STRING\",\"data\":\"x\"}}"

START_TEST(three_times_the_cap_of_streams_keeps_threads_bounded_and_others_served)
{
    enum { N = 3 * CAP };
    static struct sl_raw s[N];
    long base = threads();
    for (int i = 0; i < N; i++) {
        stream_open(&s[i]);
        sl_raw_chunk(&s[i], REC);
    }
    int served = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        sl_raw_wait(&s[i], "\r\n\r\n", 3000);
        sl_raw_wait(&s[i], "}", 1000);
        if (strstr(s[i].buf, "HTTP/1.1 200") && strstr(s[i].buf, "\"error_code\":200"))
            served++;
        else if (strstr(s[i].buf, "HTTP/1.1 503") && strstr(s[i].buf, "\"error_code\":50303"))
            refused++;
        else
            ck_abort_msg("stream %d got: %s", i, s[i].buf);
    }
    long now = threads();
    ck_assert_int_eq(served, CAP);
    ck_assert_int_eq(refused, N - CAP);
    ck_assert_msg(now <= base + CAP + 1, "threads %ld -> %ld with %d streams open", base, now, N);
    /* the cap holds streams, not the server: buffered requests are served beside them */
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
    ck_assert_int_eq(sl_http_json(&proc, "POST", "/topics/t", "{\"records\":[{\"value\":1}]}", NULL), 200);
    for (int i = 0; i < N; i++)
        sl_raw_close(&s[i]);
    /* once they are gone, a new stream is served as a stream again */
    struct sl_raw again;
    int64_t until = sl_test_mono_ms() + 5000;
    for (;;) {
        stream_open(&again);
        sl_raw_chunk(&again, REC);
        ck_assert(sl_raw_wait(&again, "}", 3000));
        if (strstr(again.buf, "HTTP/1.1 200") || sl_test_mono_ms() > until)
            break;
        sl_raw_close(&again);
        sleep_ms(200);
    }
    ck_assert_msg(strstr(again.buf, "HTTP/1.1 200"), "got: %s", again.buf);
    sl_raw_close(&again);
}
END_TEST

/* Opens a stream, has one record acknowledged, then calls more(s) every 200 ms (NULL: silence) until the
 * stream ends; returns how long after the record it ended. */
static int64_t ended_after(void (*more)(struct sl_raw *s))
{
    struct sl_raw s;
    stream_open(&s);
    ck_assert(sl_raw_chunk(&s, REC));
    ck_assert(sl_raw_wait(&s, "\"offset\":", 5000));
    int64_t t0 = sl_test_mono_ms();
    while (!strstr(s.buf, "\r\n0\r\n\r\n") && sl_test_mono_ms() - t0 < 8000) {
        if (more)
            more(&s);
        sl_raw_wait(&s, "\r\n0\r\n\r\n", 200);
    }
    int64_t took = sl_test_mono_ms() - t0;
    ck_assert_msg(strstr(s.buf, "\r\n0\r\n\r\n"), "no final chunk: %s", s.buf);
    ck_assert_ptr_null(strstr(s.buf, "\"error_code\":408")); /* ended cleanly */
    sl_raw_close(&s);
    return took;
}

static void send_blank(struct sl_raw *s)
{
    sl_raw_chunk(s, " \n");
}

START_TEST(a_silent_stream_ends_after_the_idle_timeout)
{
    int64_t took = ended_after(NULL);
    ck_assert_int_ge(took, IDLE_MS - 100);
    ck_assert_int_le(took, IDLE_MS + SLACK_MS);
}
END_TEST

START_TEST(a_stream_trickling_whitespace_ends_after_the_idle_timeout)
{
    int64_t took = ended_after(send_blank);
    ck_assert_int_ge(took, IDLE_MS - 100);
    ck_assert_int_le(took, IDLE_MS + SLACK_MS);
}
END_TEST

START_TEST(a_trickled_record_gets_a_408_report_within_the_body_timeout)
{
    struct sl_raw s;
    stream_open(&s);
    ck_assert(sl_raw_chunk(&s, "{\"value\":{\"type\":\"STRING\",\"data\":\""));
    int64_t t0 = sl_test_mono_ms();
    while (!strstr(s.buf, "\r\n0\r\n\r\n") && sl_test_mono_ms() - t0 < 8000) {
        sl_raw_chunk(&s, "a");
        sl_raw_wait(&s, "\r\n0\r\n\r\n", 200);
    }
    int64_t took = sl_test_mono_ms() - t0;
    ck_assert_msg(strstr(s.buf, "\"error_code\":408") && strstr(s.buf, "\r\n0\r\n\r\n"), "got: %s", s.buf);
    ck_assert_int_ge(took, BODY_MS - 100);
    ck_assert_int_le(took, BODY_MS + SLACK_MS);
    sl_raw_close(&s);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_stream_limits");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, three_times_the_cap_of_streams_keeps_threads_bounded_and_others_served);
    tcase_add_test(tc, a_silent_stream_ends_after_the_idle_timeout);
    tcase_add_test(tc, a_stream_trickling_whitespace_ends_after_the_idle_timeout);
    tcase_add_test(tc, a_trickled_record_gets_a_408_report_within_the_body_timeout);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
