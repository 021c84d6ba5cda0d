/* Slow and silent sockets against the real binary: a socket that never reads while ~200 MB are produced
 * leaves the server's memory bounded (VmRSS; the 1 GB figure is measured by tests/bench/ws_bench.sh) and a
 * reading socket unaffected; a socket that stops acknowledging is closed with 1008 (policy); the server
 * pings, a socket that answers stays, a silent one is closed after ws.idle.timeout.ms. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    /* a small ASan quarantine, so freed memory does not count as held */
    setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=4", 1);
    static const char *const extra[] = {"--durability", "async", NULL};
    sl_proc_start(&proc, NULL, extra);
    sl_wt_create_topic(&proc, "big", 1);
}

static void setup_idle(void)
{
    static const char *const extra[] = {"--set", "ws.idle.timeout.ms=2000", NULL};
    sl_proc_start(&proc, NULL, extra);
    sl_wt_create_topic(&proc, "big", 1);
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

/* Reads from c until 'target' is seen, ms pass, or (ms == 0) nothing arrives for 5 ms; returns the highest
 * offset seen so far. */
static long drain(struct sl_wscl *c, long hi, long target, int ms)
{
    int64_t until = mono_ms() + ms;
    while (hi < target) {
        char *m = sl_wscl_recv(c, 5);
        if (!m) {
            if (ms == 0 || mono_ms() >= until || sl_wscl_closed(c))
                break;
            continue;
        }
        char *p = m, *q;
        while ((q = strstr(p, "\"offset\":")))
            p = q + 9;
        if (p != m && atol(p) > hi)
            hi = atol(p);
        free(m);
    }
    return hi;
}

START_TEST(a_socket_that_never_reads_costs_bounded_memory)
{
    /* 200 requests of 1 MB (~200 MB) in CI; WS_SLOW_REQS=1100 runs the 1 GB case by hand. */
    enum { PER = 100, VAL = 10000 };
    const char *env = getenv("WS_SLOW_REQS");
    const int REQS = env && atoi(env) > 0 ? atoi(env) : 200;
    struct sl_wscl *slow = sl_wt_connect(&proc, "/ws/v1/topics/big?from=earliest&max_in_flight=100000000");
    struct sl_wscl *fast = sl_wt_connect(&proc, "/ws/v1/topics/big?from=earliest&max_in_flight=100000000");
    sl_wscl_service(slow, 200);
    long before = sl_proc_status(proc.pid, "VmRSS");
    size_t cap = (size_t)PER * (VAL + 32) + 64, len = 0;
    char *body = malloc(cap);
    len += (size_t)sprintf(body, "{\"records\":[");
    for (int i = 0; i < PER; i++) {
        len += (size_t)sprintf(body + len, "%s{\"value\":\"", i ? "," : "");
        memset(body + len, 'a' + i % 26, VAL);
        len += VAL;
        len += (size_t)sprintf(body + len, "\"}");
    }
    sprintf(body + len, "]}");
    char url[256];
    snprintf(url, sizeof url, "%s/topics/big", proc.base);
    long hi = -1, peak = 0;
    for (int r = 0; r < REQS; r++) {
        struct sl_resp resp;
        ck_assert_int_eq(sl_http_req("POST", url, "application/vnd.kafka.json.v2+json", body, (size_t)-1, NULL, &resp),
                         200);
        sl_resp_fini(&resp);
        hi = drain(fast, hi, REQS * PER - 1, 0);
        long now = sl_proc_status(proc.pid, "VmRSS");
        peak = now > peak ? now : peak;
    }
    free(body);
    hi = drain(fast, hi, REQS * PER - 1, 30000);
    ck_assert_msg(hi == REQS * PER - 1, "fast socket at %ld, closed %d code %d", hi, sl_wscl_closed(fast), sl_wscl_close_code(fast));
    long after = sl_proc_status(proc.pid, "VmRSS");
    peak = after > peak ? after : peak;
    fprintf(stderr, "RSS before %ld kB, peak %ld kB, after %ld kB (%d MB produced)\n", before, peak, after,
            (int)((long)REQS * PER * VAL >> 20));
    ck_assert_msg(peak - before < 64 * 1024, "RSS grew by %ld kB", peak - before);
    sl_wscl_free(slow);
    sl_wscl_free(fast);
}
END_TEST

START_TEST(pings_keep_readers_and_silent_or_non_acking_sockets_are_closed)
{
    sl_wt_produce(&proc, "big", "[{\"value\":1},{\"value\":2}]");
    struct sl_wscl *alive = sl_wt_connect(&proc, "/ws/v1/topics/big?from=latest");
    struct sl_wscl *silent = sl_wt_connect(&proc, "/ws/v1/topics/big?from=latest");
    struct sl_wscl *noack = sl_wt_connect(&proc, "/ws/v1/topics/big?from=earliest&max_in_flight=1");
    for (int i = 0; i < 35; i++) {
        sl_wscl_service(alive, 50);
        sl_wscl_service(noack, 50);
    }
    ck_assert(!sl_wscl_closed(alive)); /* answered the pings for 3.5 s > the 2 s idle timeout */
    ck_assert(sl_wscl_closed(noack));
    ck_assert_int_eq(sl_wscl_close_code(noack), 1008);
    ck_assert(sl_wscl_wait_closed(silent, 2000)); /* never serviced: no pong, hung up */
    sl_wscl_free(alive);
    sl_wscl_free(silent);
    sl_wscl_free(noack);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_slow");
    TCase *tc = tcase_create("ws_slow");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, a_socket_that_never_reads_costs_bounded_memory);
    suite_add_tcase(s, tc);
    TCase *ti = tcase_create("ws_idle");
    tcase_add_checked_fixture(ti, setup_idle, teardown);
    tcase_set_timeout(ti, 30);
    tcase_add_test(ti, pings_keep_readers_and_silent_or_non_acking_sockets_are_closed);
    suite_add_tcase(s, ti);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
