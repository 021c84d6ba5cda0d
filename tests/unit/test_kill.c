/* Process-level durability of the partition log: a child appends and syncs until SIGKILL arrives at a
 * random moment; the parent then reopens the log and checks that everything the child was told is durable
 * is there, in order, byte for byte.
 *
 * The child reports each durable offset (8 bytes, native order) on a pipe right after sl_log_sync returns
 * 0. Batches are a pure function of their base offset (tests/support/logcheck.h), so the parent regenerates
 * the expected bytes without hearing about them. Every round reuses the same directory: the next child
 * recovers whatever the previous one left (torn tails included) and keeps appending. The parent closes the
 * log before forking the next child. The seed is printed on failure; SLUICE_SEED=<n> replays it. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage/err.h"
#include "storage/log.h"
#include "tests/support/logcheck.h"
#include "tests/support/testutil.h"

#define ROUNDS 100
#define MAX_DELAY_MS 30
#define REPORT_TIMEOUT_MS 10000

static char *tmp;

static void setup(void)
{
    tmp = sl_test_tmpdir();
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
}

static void cfg_for(struct sl_log_cfg *cfg, const char *dir)
{
    sl_log_cfg_defaults(cfg, dir);
    cfg->segment_bytes = 16 * 1024;
    cfg->index_interval_bytes = 1024;
}

/* The child: append forever, syncing every sync_every appends and reporting each durable offset. Exits
 * only on error (status 2-5), otherwise dies by the parent's SIGKILL. */
static void __attribute__((noreturn)) child(const char *dir, int wfd, int sync_every)
{
    struct sl_log_cfg cfg;
    struct sl_log *l = NULL;
    cfg_for(&cfg, dir);
    if (sl_log_open(&cfg, &l) != 0)
        _exit(2);
    for (;;) {
        for (int i = 0; i < sync_every; i++) {
            sl_offset_t base, last;
            if (sl_tlog_append(l, 0, &base, &last) != 0)
                _exit(3);
        }
        sl_offset_t durable;
        if (sl_log_sync(l, &durable) != 0)
            _exit(4);
        if (write(wfd, &durable, sizeof durable) != (ssize_t)sizeof durable)
            _exit(5);
    }
}

/* Reads one report into *acked (keeping the maximum). Returns 1, 0 at EOF (the child is gone), -1 on
 * timeout. */
static int read_report(int rfd, sl_offset_t *acked, int64_t timeout_ms)
{
    int64_t deadline = sl_test_mono_ms() + timeout_ms;
    for (;;) {
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        int64_t left = deadline - sl_test_mono_ms();
        if (left < 0)
            left = 0;
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return -1;
        sl_offset_t v;
        ssize_t r = read(rfd, &v, sizeof v);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return 0;
        /* Writes of 8 bytes to a pipe are atomic: a report is never split. */
        ck_assert_int_eq(r, (ssize_t)sizeof v);
        if (v > *acked)
            *acked = v;
        return 1;
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

START_TEST(kill_at_random_moments_keeps_every_acked_record)
{
    const char *env = getenv("SLUICE_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    char *dir = sl_test_path(tmp, "t-0");
    sl_offset_t acked = 0;
    int64_t t0 = sl_test_mono_ms();

    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        ck_assert(pipe(fds) == 0);
        int sync_every = 1 + round % 3;
        fflush(NULL);
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(dir, fds[1], sync_every);
        }
        close(fds[1]);

        /* Some progress first, then a random moment. */
        int got = read_report(fds[0], &acked, REPORT_TIMEOUT_MS);
        if (got == 1)
            sleep_ms(rand() % (MAX_DELAY_MS + 1));
        kill(pid, SIGKILL);
        int status = 0;
        ck_assert(waitpid(pid, &status, 0) == pid);
        while (got == 1)
            got = read_report(fds[0], &acked, REPORT_TIMEOUT_MS);
        close(fds[0]);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "round %d (seed %u): the child exited by itself with status %d", round, seed,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        ck_assert_msg(got == 0, "round %d (seed %u): no report from the child in %d ms", round, seed,
                      REPORT_TIMEOUT_MS);

        struct sl_log_cfg cfg;
        struct sl_log *l = NULL;
        char why[512];
        cfg_for(&cfg, dir);
        int rc = sl_log_open(&cfg, &l);
        ck_assert_msg(rc == 0, "round %d (seed %u): reopen = %s", round, seed, sl_errname(rc));
        rc = sl_tlog_check(l, 0, acked, INT64_MAX, why, sizeof why);
        ck_assert_msg(rc == 0, "round %d (seed %u), acked %" PRId64 ": %s", round, seed, acked, why);
        ck_assert_int_eq(sl_log_close(l), 0);
    }
    ck_assert_int_gt(acked, ROUNDS);
    fprintf(stderr, "test_kill: %d rounds, %" PRId64 " offsets acknowledged, %" PRId64 " ms (seed %u)\n", ROUNDS,
            acked, sl_test_mono_ms() - t0, seed);
    free(dir);
}
END_TEST

static Suite *kill_suite(void)
{
    Suite *s = suite_create("kill");
    TCase *tc = tcase_create("kill");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kill_at_random_moments_keeps_every_acked_record);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(kill_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
