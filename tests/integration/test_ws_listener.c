/* Start-up fails loudly when the WebSocket listener cannot be opened: with its port already bound, and under
 * fd limits too low to create it (libwebsockets then only logged "ERROR opening socket" and sluice ran with
 * ws_port=0, no WebSocket at all). Either sluice starts with a working WebSocket listener or it exits
 * non-zero with a line that says why. */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/testutil.h"
#include "tests/support/ws_raw.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *s = calloc(1, 65536);
    size_t n = fread(s, 1, 65535, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Runs sluice with the WebSocket port ws_port and RLIMIT_NOFILE nofile (0 = unchanged) until it prints the
 * listening line or exits (10 s). Returns the exit status, or -1 when it is running (then *pid is set and
 * *bound_ws the WebSocket port it printed). *log gets its stderr (malloc'd). */
static int run(const char *dir, int ws_port, rlim_t nofile, pid_t *pid, int *bound_ws, char **log)
{
    const char *bin = getenv("SLUICE_BIN");
    ck_assert_msg(bin && *bin, "SLUICE_BIN is not set (run the test through ctest)");
    char errpath[512], port[16];
    snprintf(errpath, sizeof errpath, "%s.stderr", dir);
    snprintf(port, sizeof port, "%d", ws_port);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    *pid = fork();
    ck_assert_int_ge(*pid, 0);
    if (*pid == 0) {
        dup2(fd, 2);
        if (nofile) {
            struct rlimit rl;
            getrlimit(RLIMIT_NOFILE, &rl);
            rl.rlim_cur = nofile;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0", 1);
        execl(bin, bin, "--data-dir", dir, "--rest-port", "0", "--ws-port", port, "--rest-bind", "127.0.0.1",
              (char *)NULL);
        _exit(127);
    }
    close(fd);
    int64_t dl = mono_ms() + 10000;
    for (;;) {
        int st;
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *log = slurp(errpath);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        char *s = slurp(errpath), *l = strstr(s, "sluice listening ");
        if (l && strchr(l, '\n')) {
            *bound_ws = atoi(strstr(l, "ws_port=") + 8);
            *log = s;
            return -1;
        }
        free(s);
        ck_assert_msg(mono_ms() < dl, "sluice neither started nor exited");
        usleep(20000);
    }
}

static void remove_dir(char *dir)
{
    char errpath[512];
    snprintf(errpath, sizeof errpath, "%s.stderr", dir);
    unlink(errpath);
    sl_test_rmrf(dir);
    free(dir);
}

static void stop(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

START_TEST(start_up_fails_when_the_ws_port_is_taken)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(ls, 4), 0);
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    char *dir = sl_test_tmpdir();
    pid_t pid;
    int ws = 0;
    char *log = NULL;
    int rc = run(dir, ntohs(sa.sin_port), 0, &pid, &ws, &log);
    if (rc == -1)
        stop(pid);
    ck_assert_msg(rc > 0, "sluice started although its WebSocket port is taken (ws_port=%d)", ws);
    ck_assert_msg(strstr(log, "cannot start the WebSocket server"), "no clear line: %s", log);
    free(log);
    close(ls);
    remove_dir(dir);
}
END_TEST

START_TEST(start_up_fails_when_no_fd_is_left_for_the_ws_listener)
{
    int failed_loudly = 0;
    for (rlim_t n = 8; n <= 24; n++) {
        char *dir = sl_test_tmpdir();
        pid_t pid;
        int ws = 0;
        char *log = NULL;
        int rc = run(dir, 0, n, &pid, &ws, &log);
        if (rc == -1) {
            /* it started: then its WebSocket port must be listening (whether a connection then gets an fd
             * of its own at this limit is another matter) */
            ck_assert_msg(ws > 0, "RLIMIT_NOFILE %d: started without a WebSocket listener:\n%s", (int)n, log);
            close(sl_tcp_connect((uint16_t)ws));
            stop(pid);
        } else {
            ck_assert_msg(rc != 0, "RLIMIT_NOFILE %d: exited 0", (int)n);
            if (strstr(log, "cannot open the WebSocket listener") && strstr(log, "open files"))
                failed_loudly++;
        }
        free(log);
        remove_dir(dir);
    }
    ck_assert_msg(failed_loudly > 0, "no fd limit reached the WebSocket listener (tune the range)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_listener");
    TCase *tc = tcase_create("ws_listener");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, start_up_fails_when_the_ws_port_is_taken);
    tcase_add_test(tc, start_up_fails_when_no_fd_is_left_for_the_ws_listener);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
