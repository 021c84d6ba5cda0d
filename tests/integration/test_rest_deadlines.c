/* Connection deadlines of libmicrohttpd's connections against the real binary (api/http/conns.c), with small
 * timeouts (head 1 s, body 1.5 s, idle 2 s): trickled bodies and trickled later heads of kept-alive
 * connections are answered 408 and closed within their deadline plus slack, an idle kept-alive connection
 * is closed after the idle timeout, a long poll longer than every timeout still answers, a big upload at
 * full speed is unaffected, and the server keeps serving throughout. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/rawhttp.h"
#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define HEAD_MS 1000
#define BODY_MS 1500
#define IDLE_MS 2000
#define SLACK_MS 700

static struct sl_proc proc;

static void setup(void)
{
    static const char *const extra[] = {"--set", "rest.header.timeout.ms=1000", "--set", "rest.body.timeout.ms=1500",
                                        "--set", "rest.idle.timeout.ms=2000", NULL};
    sl_proc_start(&proc, NULL, extra);
    char *cid = sl_proc_cluster_id(&proc);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"t\",\"partitions_count\":1}", NULL), 201);
    free(cid);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void assert_serving(void)
{
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
}

/* Trickles one byte of s every step_ms on each of the n connections until each is answered or closed, or
 * until_ms passes. Returns when every connection is closed or the time is up. */
static void trickle(struct sl_raw *c, int n, const char *s, int step_ms, int until_ms)
{
    size_t at = 0, len = strlen(s);
    int64_t end = sl_test_mono_ms() + until_ms;
    while (sl_test_mono_ms() < end) {
        int open = 0;
        for (int i = 0; i < n; i++) {
            if (sl_raw_closed(&c[i]))
                continue;
            open++;
            char one[2] = {at < len ? s[at] : 'x', '\0'};
            sl_raw_send(&c[i], one);
        }
        if (!open)
            return;
        at++;
        sleep_ms(step_ms);
    }
}

START_TEST(trickled_bodies_get_408_within_the_body_timeout)
{
    enum { N = 20 };
    static struct sl_raw c[N];
    for (int i = 0; i < N; i++) {
        sl_raw_open(&c[i], proc.rest_port);
        ck_assert(sl_raw_send(&c[i], "POST /topics/t HTTP/1.1\r\nHost: x\r\n"
                                     "Content-Type: application/vnd.kafka.json.v2+json\r\nContent-Length: 1000\r\n\r\n"));
    }
    int64_t t0 = sl_test_mono_ms();
    trickle(c, N, "{\"records\":[{\"value\":1}", 200, BODY_MS + SLACK_MS + 2000);
    int64_t took = sl_test_mono_ms() - t0;
    for (int i = 0; i < N; i++) {
        ck_assert_msg(sl_raw_closed(&c[i]), "connection %d still open after %lld ms", i, (long long)took);
        ck_assert_msg(strstr(c[i].buf, "HTTP/1.1 408") && strstr(c[i].buf, "\"error_code\":408"),
                      "connection %d got: %s", i, c[i].buf);
        sl_raw_close(&c[i]);
    }
    ck_assert_int_ge(took, BODY_MS - 100);
    ck_assert_int_le(took, BODY_MS + SLACK_MS);
    assert_serving();
    char url[128], *m = NULL;
    long st = 0;
    snprintf(url, sizeof url, "%s/metrics", proc.base);
    sl_http("GET", url, NULL, NULL, &st, &m);
    ck_assert_int_eq(st, 200);
    ck_assert_msg(strstr(m, "sluice_rest_deadline_closes_total{deadline=\"body\"} 20\n"), "%s", m);
    free(m);
}
END_TEST

START_TEST(a_trickled_second_head_gets_408_within_the_head_timeout)
{
    struct sl_raw c;
    sl_raw_open(&c, proc.rest_port);
    ck_assert(sl_raw_send(&c, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
    ck_assert(sl_raw_wait(&c, "\r\n\r\n", 5000));
    ck_assert_ptr_nonnull(strstr(c.buf, "HTTP/1.1 200"));
    c.len = 0;
    c.buf[0] = '\0';
    sleep_ms(300); /* the second head starts a while after the first request ended */
    int64_t t0 = sl_test_mono_ms();
    trickle(&c, 1, "GET /healthy HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n", 100, HEAD_MS + SLACK_MS + 2000);
    int64_t took = sl_test_mono_ms() - t0;
    ck_assert(sl_raw_closed(&c));
    ck_assert_msg(strstr(c.buf, "HTTP/1.1 408") && strstr(c.buf, "head"), "got: %s", c.buf);
    ck_assert_int_ge(took, HEAD_MS - 100);
    ck_assert_int_le(took, HEAD_MS + SLACK_MS);
    sl_raw_close(&c);
    assert_serving();
}
END_TEST

START_TEST(an_idle_kept_alive_connection_is_closed_after_the_idle_timeout)
{
    struct sl_raw c;
    sl_raw_open(&c, proc.rest_port);
    ck_assert(sl_raw_send(&c, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
    ck_assert(sl_raw_wait(&c, "\r\n\r\n", 5000));
    int64_t t0 = sl_test_mono_ms();
    size_t first = c.len;
    ck_assert(sl_raw_wait(&c, NULL, IDLE_MS + SLACK_MS + 2000));
    int64_t took = sl_test_mono_ms() - t0;
    ck_assert_int_eq(c.len, first); /* closed silently: no request, no answer */
    ck_assert_int_ge(took, IDLE_MS - 100);
    ck_assert_int_le(took, IDLE_MS + SLACK_MS);
    sl_raw_close(&c);
    assert_serving();
}
END_TEST

START_TEST(a_long_poll_longer_than_every_timeout_answers)
{
    struct sl_raw c;
    sl_raw_open(&c, proc.rest_port);
    ck_assert(sl_raw_send(&c, "GET /topics/t/partitions/0/records?offset=0&timeout=4500 HTTP/1.1\r\nHost: x\r\n"
                              "Accept: application/vnd.kafka.json.v2+json\r\n\r\n"));
    int64_t t0 = sl_test_mono_ms();
    ck_assert_msg(sl_raw_wait(&c, "\r\n\r\n[]", 8000), "got: %s", c.buf);
    int64_t took = sl_test_mono_ms() - t0;
    ck_assert_ptr_nonnull(strstr(c.buf, "HTTP/1.1 200"));
    ck_assert_int_ge(took, 4400);
    /* the connection is still usable */
    ck_assert(sl_raw_send(&c, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
    ck_assert(sl_raw_wait(&c, "HTTP/1.1 200 OK\r\n", 3000));
    sl_raw_close(&c);
}
END_TEST

START_TEST(a_big_upload_at_full_speed_is_unaffected)
{
    enum { NREC = 2000, VAL = 2000 };
    size_t cap = (size_t)NREC * (VAL + 32) + 64, n = 0;
    char *body = malloc(cap);
    n += (size_t)sprintf(body + n, "{\"records\":[");
    for (int i = 0; i < NREC; i++) {
        n += (size_t)sprintf(body + n, "%s{\"value\":\"", i ? "," : "");
        memset(body + n, 'a' + i % 26, VAL);
        n += VAL;
        n += (size_t)sprintf(body + n, "\"}");
    }
    n += (size_t)sprintf(body + n, "]}");
    struct sl_resp r;
    char url[128];
    snprintf(url, sizeof url, "%s/topics/t", proc.base);
    ck_assert_int_eq(sl_http_req("POST", url, "application/vnd.kafka.json.v2+json", body, n, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"offsets\""));
    sl_resp_fini(&r);
    free(body);
    assert_serving();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_deadlines");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, trickled_bodies_get_408_within_the_body_timeout);
    tcase_add_test(tc, a_trickled_second_head_gets_408_within_the_head_timeout);
    tcase_add_test(tc, an_idle_kept_alive_connection_is_closed_after_the_idle_timeout);
    tcase_add_test(tc, a_long_poll_longer_than_every_timeout_answers);
    tcase_add_test(tc, a_big_upload_at_full_speed_is_unaffected);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
