/* SIGTERM after a client abandoned a request head: sluice must exit within a few seconds. Reported: the stop
 * hung in MHD_stop_daemon in 4 of 8 runs after a connection sent more than 8 KiB of header lines without
 * the empty line, trickled a byte and closed. Both shapes are run several times: on a connection's first
 * request (the front refuses it now) and on a kept-alive connection's second request (libmicrohttpd parses
 * that one). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/http_raw.h"
#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"
#include "tests/support/ws_raw.h"

#define RUNS 8
#define STOP_MS 5000

/* SIGTERM and wait up to STOP_MS; returns the ms it took, or -1 (then the process is killed). */
static int64_t stop_timed(struct sl_proc *p)
{
    int64_t t0 = sl_test_mono_ms();
    kill(p->pid, SIGTERM);
    for (;;) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unclean exit 0x%x", st);
            return sl_test_mono_ms() - t0;
        }
        if (sl_test_mono_ms() - t0 > STOP_MS) {
            sl_proc_kill(p);
            return -1;
        }
        usleep(5000);
    }
}

/* Sends a head of more than 8 KiB without its end, waits, trickles one byte, waits, closes. */
static void abandon_big_head(int fd)
{
    char line[160];
    const char *start = "GET /healthy HTTP/1.1\r\nHost: x\r\n";
    ck_assert_int_eq(sl_raw_send_fd(fd, start, strlen(start)), 0);
    for (int i = 0, n = 0; n < 9000; i++) {
        int k = snprintf(line, sizeof line, "X-Pad-%d: %0100d\r\n", i, i);
        if (sl_raw_send_fd(fd, line, (size_t)k))
            break; /* refused and closed already: fine */
        n += k;
    }
    usleep(100 * 1000);
    (void)sl_raw_send_fd(fd, "y", 1);
    usleep(100 * 1000);
    close(fd);
}

static void run_shape(bool second)
{
    for (int run = 0; run < RUNS; run++) {
        struct sl_proc p;
        sl_proc_start(&p, NULL, NULL);
        int fd;
        if (second) {
            struct sl_raw_resp r;
            fd = sl_raw_exchange(p.rest_port, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n", &r);
            ck_assert_int_ge(fd, 0);
            ck_assert_int_eq(r.status, 200);
            sl_raw_resp_fini(&r);
        } else {
            fd = sl_tcp_connect(p.rest_port);
        }
        abandon_big_head(fd);
        usleep(100 * 1000);
        ck_assert_int_eq(sl_http_json(&p, "GET", "/healthy", NULL, NULL), 200); /* serving on */
        int64_t took = stop_timed(&p);
        if (took < 0) {
            char *log = sl_proc_stderr(&p);
            ck_abort_msg("run %d: no exit within %d ms of SIGTERM; stderr:\n%.2000s", run, STOP_MS, log);
        }
        sl_proc_free(&p);
    }
}

START_TEST(sigterm_after_an_abandoned_big_first_head_exits_promptly)
{
    run_shape(false);
}
END_TEST

START_TEST(sigterm_after_an_abandoned_big_second_head_exits_promptly)
{
    run_shape(true);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_shutdown");
    TCase *tc = tcase_create("rest_shutdown");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, sigterm_after_an_abandoned_big_first_head_exits_promptly);
    tcase_add_test(tc, sigterm_after_an_abandoned_big_second_head_exits_promptly);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
