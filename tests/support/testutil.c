/* Shared test fixtures (see testutil.h). */
#define _XOPEN_SOURCE 700
#include "tests/support/testutil.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

char *sl_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/sluice-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        abort();
    }
    return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void sl_test_rmrf(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *sl_test_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int64_t fake_now = 1700000000000LL;

int64_t sl_test_clock_now(void)
{
    return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

void sl_test_clock_set(int64_t ms)
{
    __atomic_store_n(&fake_now, ms, __ATOMIC_SEQ_CST);
}

void sl_test_clock_advance(int64_t ms)
{
    __atomic_add_fetch(&fake_now, ms, __ATOMIC_SEQ_CST);
}

int64_t sl_test_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool sl_test_wait_until(bool (*cond)(void *arg), void *arg, int64_t timeout_ms)
{
    int64_t deadline = sl_test_mono_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (sl_test_mono_ms() >= deadline)
            return cond(arg);
        usleep(5000);
    }
}

int sl_test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

uint16_t sl_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_msg(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                      getsockname(fd, (struct sockaddr *)&a, &len) == 0,
                  "cannot bind a loopback socket");
    close(fd);
    return ntohs(a.sin_port);
}
