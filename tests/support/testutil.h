/* Shared test fixtures: temp dirs, a fake clock, deadline waits, the Check main. Test code only. */
#ifndef SL_TESTS_TESTUTIL_H
#define SL_TESTS_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

/* Creates a fresh directory under $TMPDIR (or /tmp) and returns its malloc'd path. Aborts on failure. */
char *sl_test_tmpdir(void);
/* Removes a directory tree (rm -rf). Ignores errors. */
void sl_test_rmrf(const char *path);
/* Builds "<dir>/<name>" into a malloc'd string. */
char *sl_test_path(const char *dir, const char *name);

/* A fake clock for cfg->now_ms: starts at 1,700,000,000,000 ms. */
int64_t sl_test_clock_now(void);
void sl_test_clock_set(int64_t ms);
void sl_test_clock_advance(int64_t ms);

/* Monotonic milliseconds, for deadlines. */
int64_t sl_test_mono_ms(void);
/* Polls cond(arg) every 5 ms until it returns true or timeout_ms passes. Returns the last result. */
bool sl_test_wait_until(bool (*cond)(void *arg), void *arg, int64_t timeout_ms);

/* The body of a unit test's main(): runs s (taking it), prints Check's summary, returns EXIT_SUCCESS when
 * every test passed and EXIT_FAILURE otherwise. */
int sl_test_run_suite(Suite *s);

/* A TCP port free on 127.0.0.1 now (bound, read, released: another process could take it before the caller
 * binds it; fine on a test machine). For servers that must be told their port before they start (libraft's
 * voters). Aborts the test when no socket can be bound. */
uint16_t sl_test_free_port(void);

#endif
