/* The REST listener (api/http/front.c) at its edges: start-up fails loudly when its port is taken, and at the
 * process's file-descriptor limit the accept loop backs off (it spun on EMFILE at 99 % CPU and wrote 55 MB
 * of log in 5 s), sheds excess clients with 503 JSON instead of leaving them in the backlog, and serves
 * again once descriptors are free. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/http_raw.h"
#include "tests/support/testutil.h"
#include "tests/support/ws_raw.h"

struct child {
    pid_t pid;
    char *dir;
    char errpath[512];
    int rest_port;
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *s = calloc(1, 1 << 20);
    size_t n = fread(s, 1, (1 << 20) - 1, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Starts sluice on REST port rest_port with RLIMIT_NOFILE nofile (0 = unchanged). Returns -1 once it
 * listens (c->rest_port set), or its exit status when it exits first (10 s). */
static int run(struct child *c, int rest_port, rlim_t nofile)
{
    const char *bin = getenv("SLUICE_BIN");
    ck_assert_msg(bin && *bin, "SLUICE_BIN is not set (run the test through ctest)");
    c->dir = sl_test_tmpdir();
    snprintf(c->errpath, sizeof c->errpath, "%s.stderr", c->dir);
    char port[16];
    snprintf(port, sizeof port, "%d", rest_port);
    int fd = open(c->errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    c->pid = fork();
    ck_assert_int_ge(c->pid, 0);
    if (c->pid == 0) {
        dup2(fd, 2);
        if (nofile) {
            struct rlimit rl;
            getrlimit(RLIMIT_NOFILE, &rl);
            rl.rlim_cur = nofile;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0", 1);
        execl(bin, bin, "--data-dir", c->dir, "--rest-port", port, "--ws-port", "0", "--rest-bind", "127.0.0.1",
              (char *)NULL);
        _exit(127);
    }
    close(fd);
    for (int64_t dl = sl_test_mono_ms() + 10000;;) {
        int st;
        if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
            c->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        char *s = slurp(c->errpath), *l = strstr(s, "sluice listening rest_port=");
        if (l && strchr(l, '\n')) {
            c->rest_port = atoi(l + strlen("sluice listening rest_port="));
            free(s);
            return -1;
        }
        free(s);
        ck_assert_msg(sl_test_mono_ms() < dl, "sluice neither started nor exited");
        usleep(20000);
    }
}

static void child_free(struct child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    unlink(c->errpath);
    sl_test_rmrf(c->dir);
    free(c->dir);
}

START_TEST(start_up_fails_when_the_rest_port_is_taken)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(ls, 4), 0);
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    struct child c = {0};
    int rc = run(&c, ntohs(sa.sin_port), 0);
    char *log = slurp(c.errpath);
    ck_assert_msg(rc > 0, "sluice started although its REST port is taken (rc %d):\n%s", rc, log);
    ck_assert_msg(strstr(log, "cannot start the REST server on port") && strstr(log, "Address already in use"),
                  "no clear line:\n%s", log);
    free(log);
    close(ls);
    child_free(&c);
}
END_TEST

/* utime + stime of pid, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *s = slurp(path), *p = strrchr(s, ')');
    long ut = 0, st = 0;
    /* after "pid (comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    ck_assert(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) == 2);
    free(s);
    return ut + st;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

/* Reads what arrives on fd for at most ms: 1 = a 503 JSON answer, 0 = closed without one, -1 = nothing. */
static int shed_answer(int fd, int ms)
{
    struct sl_raw_resp r;
    if (sl_raw_read(fd, ms, &r) == 0) {
        json_t *j = sl_raw_json(&r);
        int ok = r.status == 503 && j && json_integer_value(json_object_get(j, "error_code")) == 50003;
        json_decref(j);
        sl_raw_resp_fini(&r);
        ck_assert_msg(ok, "an excess client got something other than 503/50003");
        return 1;
    }
    sl_raw_resp_fini(&r);
    return sl_tcp_wait_eof(fd, 10) ? 0 : -1;
}

START_TEST(at_the_fd_limit_accept_backs_off_and_sheds_with_503)
{
    setenv("SLUICE_REST_HEADER_TIMEOUT_MS", "60000", 1); /* the idle connections below stay */
    struct child c = {0};
    ck_assert_int_eq(run(&c, 0, 64), -1);
    unsetenv("SLUICE_REST_HEADER_TIMEOUT_MS");
    enum { IDLE = 80, EXTRA = 20 };
    int idle[IDLE], extra[EXTRA];
    for (int i = 0; i < IDLE; i++) /* more than the limit leaves: the front runs out of descriptors */
        idle[i] = sl_tcp_connect((uint16_t)c.rest_port);
    usleep(300 * 1000);
    long log0 = file_size(c.errpath), cpu0 = cpu_ticks(c.pid);
    for (int i = 0; i < EXTRA; i++)
        extra[i] = sl_tcp_connect((uint16_t)c.rest_port);
    sleep(3);
    long cpu = cpu_ticks(c.pid) - cpu0, logged = file_size(c.errpath) - log0;
    long hz = sysconf(_SC_CLK_TCK);
    ck_assert_msg(cpu * 10 < hz * 3, "%ld ms of CPU in 3 s at the fd limit", cpu * 1000 / hz);
    ck_assert_msg(logged < 4096, "%ld bytes of log in 3 s at the fd limit", logged);
    int answered = 0;
    for (int i = 0; i < EXTRA; i++) {
        int a = shed_answer(extra[i], 2000);
        ck_assert_msg(a >= 0, "excess client %d was left waiting (no answer, not closed)", i);
        answered += a;
        close(extra[i]);
    }
    ck_assert_msg(answered > 0, "no excess client got a 503 answer");
    for (int i = 0; i < IDLE; i++)
        close(idle[i]);
    struct sl_raw_resp r;
    int fd = -1;
    for (int64_t dl = sl_test_mono_ms() + 5000; fd < 0 && sl_test_mono_ms() < dl;) {
        fd = sl_raw_exchange((unsigned)c.rest_port, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        if (fd >= 0 && r.status != 200) {
            sl_raw_resp_fini(&r);
            close(fd);
            fd = -1;
            usleep(100 * 1000);
        }
    }
    ck_assert_msg(fd >= 0, "not serving again after the connections closed");
    sl_raw_resp_fini(&r);
    close(fd);
    child_free(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_listener");
    TCase *tc = tcase_create("rest_listener");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, start_up_fails_when_the_rest_port_is_taken);
    tcase_add_test(tc, at_the_fd_limit_accept_backs_off_and_sheds_with_503);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
