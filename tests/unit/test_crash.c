/* The crash matrix for the partition log: fail the N-th write, sync, rename, truncate or open of a fixed
 * scenario, for every N, reopen with the real file operations and check that what was acknowledged is a
 * prefix of what is read (DESIGN.md §4, storage/log.h INVARIANTS 5 and 6).
 *
 * The scenario: open; assign epoch 0; 22 appends of varied sizes across 3+ segments (size rolls, one time
 * roll), a sync after every third append, a checkpoint, one truncation of an unsynced batch; close. A first
 * clean run counts the calls of each kind; then one run per N. Crash mode (tests/support/faultfs.h) fails
 * everything after the fault too, as if the process had died; the "fault_at_nth" variants fail only that
 * one call and let the disk work again, which is what exposes a log that is not sticky-FAILED.
 *
 * After the run every .log file is cut back to its size at its last fdatasync (sl_faultfs_power_cut): what
 * a power loss may leave, so an acknowledgement without a covering fdatasync is caught too.
 *
 * An append is ACKNOWLEDGED when an sl_log_sync that returned 0 reported a durable offset beyond its last
 * offset. After each run, the reopened log must hold every acknowledged record with its exact bytes, every
 * batch it serves must pass its CRC, offsets must be dense from 0, and anything beyond the acknowledged end
 * must be whole batches that were appended (byte for byte: batches are a function of their base offset). */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/err.h"
#include "storage/log.h"
#include "tests/support/faultfs.h"
#include "tests/support/logcheck.h"
#include "tests/support/testutil.h"

#define NAPPENDS 22

static char *tmp;         /* fixture temp dir */
static bool sticky_kind;  /* the injected fault is a write or fdatasync: log.h INVARIANT 5 applies */

static void setup(void)
{
    tmp = sl_test_tmpdir();
    sl_faultfs_reset();
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
}

/* What one run of the scenario did. */
struct run {
    sl_offset_t acked;         /* exclusive end of the acknowledged offsets */
    sl_offset_t appended_end;  /* exclusive end of every batch ever passed to sl_log_append */
    uint32_t max_segments;     /* segments seen while open */
    bool failed_seen;          /* an append or sync returned an error */
    char bad[1024];            /* contract violations seen while running, "" if none */
};

static void violation(struct run *r, const char *fmt, ...)
{
    size_t used = strlen(r->bad);
    if (used + 2 >= sizeof r->bad)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->bad + used, sizeof r->bad - used, fmt, ap);
    va_end(ap);
    used = strlen(r->bad);
    if (used + 2 < sizeof r->bad)
        strcat(r->bad, "; ");
}

/* Checks the result of one call: an error needs a fault behind it, and a fault that fired during the call
 * must not be swallowed. */
static void judge_call(struct run *r, const char *what, int rc, bool fired_before)
{
    bool fired_now = sl_faultfs_fired() && !fired_before;
    if (rc != 0 && !sl_faultfs_fired())
        violation(r, "%s = %s with no fault injected", what, sl_errname(rc));
    if (rc == 0 && fired_now)
        violation(r, "%s returned 0 although an I/O call inside it failed", what);
}

/* Appends and syncs go through here: once one of them has failed because of a failed write or fdatasync,
 * the log must be FAILED for good (other faults, e.g. a segment that could not be created, may leave the
 * log usable). */
static void judge_sticky(struct run *r, struct sl_log *l, const char *what, int rc)
{
    if (!sticky_kind)
        return;
    if (r->failed_seen) {
        if (rc != SL_EFAILED)
            violation(r, "%s after a failure = %s, want SL_EFAILED", what, sl_errname(rc));
        if (!sl_log_failed(l))
            violation(r, "sl_log_failed() false after a failed append/sync");
    } else if (rc != 0) {
        r->failed_seen = true;
        if (!sl_log_failed(l))
            violation(r, "sl_log_failed() false right after %s = %s", what, sl_errname(rc));
    }
}

static void do_append(struct run *r, struct sl_log *l)
{
    sl_offset_t base, last;
    bool fired = sl_faultfs_fired();
    int rc = sl_tlog_append(l, 0, &base, &last);
    if (rc == SL_ESTATE)
        violation(r, "append at LEO %" PRId64 " assigned other offsets", base);
    if (last + 1 > r->appended_end)
        r->appended_end = last + 1;
    judge_call(r, "append", rc, fired);
    judge_sticky(r, l, "append", rc);
    uint32_t segs = sl_log_segment_count(l);
    if (segs > r->max_segments)
        r->max_segments = segs;
}

static void do_sync(struct run *r, struct sl_log *l)
{
    sl_offset_t durable = -1, leo = sl_log_end(l);
    bool fired = sl_faultfs_fired();
    int rc = sl_log_sync(l, &durable);
    judge_call(r, "sync", rc, fired);
    judge_sticky(r, l, "sync", rc);
    if (rc != 0)
        return;
    if (durable < leo || durable > sl_log_end(l))
        violation(r, "sync reported durable %" PRId64 " with LEO %" PRId64, durable, leo);
    if (durable > r->acked)
        r->acked = durable;
}

static void do_call(struct run *r, const char *what, int (*fn)(struct sl_log *, int64_t), struct sl_log *l,
                    int64_t arg)
{
    bool fired = sl_faultfs_fired();
    int rc = fn(l, arg);
    judge_call(r, what, rc < 0 ? rc : 0, fired);
}

static int call_epoch_assign(struct sl_log *l, int64_t epoch)
{
    return sl_log_epoch_assign(l, (sl_epoch_t)epoch);
}

static int call_checkpoint(struct sl_log *l, int64_t hw)
{
    sl_log_set_hw(l, hw);
    return sl_log_checkpoint(l);
}

static int call_truncate_to(struct sl_log *l, int64_t off)
{
    return sl_log_truncate_to(l, off);
}

static void scenario(const char *dir, const struct sl_fileops *fops, struct run *r)
{
    struct sl_log_cfg cfg;
    struct sl_log *l = NULL;
    memset(r, 0, sizeof *r);
    sl_test_clock_set(SL_TLOG_T0);
    sl_log_cfg_defaults(&cfg, dir);
    cfg.fops = fops;
    cfg.now_ms = sl_test_clock_now;
    cfg.segment_bytes = 2048;
    cfg.segment_ms = 60 * 1000;
    cfg.index_interval_bytes = 256;

    bool fired = sl_faultfs_fired();
    int rc = sl_log_open(&cfg, &l);
    judge_call(r, "open", rc, fired);
    if (rc != 0)
        return;
    do_call(r, "epoch_assign", call_epoch_assign, l, 0);
    for (int i = 0; i < NAPPENDS; i++) {
        if (i == 12) {
            sl_test_clock_advance(2 * 60 * 1000);
            do_call(r, "roll_if_due", sl_log_roll_if_due, l, sl_test_clock_now());
        }
        sl_offset_t before = sl_log_end(l);
        do_append(r, l);
        /* Batch 16 is never synced: take it back and append the same bytes again at the same offset. */
        if (i == 16)
            do_call(r, "truncate_to", call_truncate_to, l, before);
        if (i == 16)
            do_append(r, l);
        if (i % 3 == 2 || i == NAPPENDS - 1)
            do_sync(r, l);
        if (i == 9)
            do_call(r, "checkpoint", call_checkpoint, l, sl_log_end(l));
        sl_test_clock_advance(1000);
    }
    fired = sl_faultfs_fired();
    rc = sl_log_close(l);
    judge_call(r, "close", rc, fired);
}

/* Reopens dir with the real file operations and checks it against the run. Returns 0 or -1 with why. */
static int verify(const char *dir, const struct run *r, char *why, size_t n)
{
    struct sl_log_cfg cfg;
    struct sl_log *l = NULL;
    sl_log_cfg_defaults(&cfg, dir);
    cfg.now_ms = sl_test_clock_now;
    cfg.segment_bytes = 2048;
    cfg.index_interval_bytes = 256;
    int rc = sl_log_open(&cfg, &l);
    if (rc != 0) {
        snprintf(why, n, "reopen = %s", sl_errname(rc));
        return -1;
    }
    if (sl_log_start(l) != 0) {
        snprintf(why, n, "log start %" PRId64 " after reopen", sl_log_start(l));
        sl_log_close(l);
        return -1;
    }
    rc = sl_tlog_check(l, 0, r->acked, r->appended_end, why, n);
    if (rc == 0) {
        sl_offset_t base, last, durable = -1;
        int a = sl_tlog_append(l, 0, &base, &last);
        int s = a ? a : sl_log_sync(l, &durable);
        if (a || s || durable != last + 1) {
            snprintf(why, n, "after reopen: append = %s, sync = %s, durable %" PRId64, sl_errname(a),
                     sl_errname(s), durable);
            rc = -1;
        } else {
            rc = sl_tlog_check(l, 0, last + 1, last + 1, why, n);
        }
    }
    int crc = sl_log_close(l);
    if (rc == 0 && crc != 0) {
        snprintf(why, n, "close after reopen = %s", sl_errname(crc));
        rc = -1;
    }
    return rc;
}

/* The clean run: no violations, everything acknowledged at the end, 3+ segments. Returns the call counts. */
static void clean_run(uint64_t counts[SL_FAULT_NKINDS])
{
    struct run r;
    char why[512];
    char *dir = sl_test_path(tmp, "clean");
    sl_faultfs_reset();
    scenario(dir, &sl_faultfs, &r);
    for (int k = 0; k < SL_FAULT_NKINDS; k++)
        counts[k] = sl_faultfs_count((enum sl_fault_kind)k);
    ck_assert_int_eq(sl_faultfs_power_cut(".log"), 0); /* close synced everything */
    ck_assert_msg(r.bad[0] == '\0', "clean run: %s", r.bad);
    ck_assert_int_eq(r.acked, r.appended_end);
    ck_assert_uint_ge(r.max_segments, 3);
    ck_assert_msg(verify(dir, &r, why, sizeof why) == 0, "clean run: %s", why);
    sl_test_rmrf(dir);
    free(dir);
}

static void matrix(enum sl_fault_kind kind, bool crash)
{
    uint64_t counts[SL_FAULT_NKINDS];
    char report[4096] = "", why[512];
    int nfail = 0;
    clean_run(counts);
    sticky_kind = kind == SL_FAULT_WRITE || kind == SL_FAULT_SYNC;
    uint64_t total = counts[kind];
    if (kind == SL_FAULT_WRITE || kind == SL_FAULT_SYNC || kind == SL_FAULT_RENAME)
        ck_assert_msg(total > 0, "the scenario makes no %s calls", sl_faultfs_kind_name(kind));
    char *dir = sl_test_path(tmp, "run");
    for (uint64_t n = 1; n <= total; n++) {
        struct run r;
        sl_test_rmrf(dir);
        sl_faultfs_reset();
        sl_faultfs_set_crash(crash);
        sl_faultfs_arm(kind, n);
        scenario(dir, &sl_faultfs, &r);
        const char *problem = NULL;
        sl_faultfs_power_cut(".log");
        if (!sl_faultfs_fired())
            problem = "the fault never fired (the scenario is not deterministic)";
        else if (r.bad[0])
            problem = r.bad;
        else if (verify(dir, &r, why, sizeof why) != 0)
            problem = why;
        if (problem) {
            nfail++;
            size_t used = strlen(report);
            snprintf(report + used, sizeof report - used, "\n  %s #%" PRIu64 " (acked %" PRId64 "): %s",
                     sl_faultfs_kind_name(kind), n, r.acked, problem);
        }
    }
    sl_test_rmrf(dir);
    free(dir);
    ck_assert_msg(nfail == 0, "%d of %" PRIu64 " %s faults (%s) broke the contract:%s", nfail, total,
                  sl_faultfs_kind_name(kind), crash ? "crash" : "single", report);
}

#define MATRIX_TEST(name, kind, crash)                                                                        \
    START_TEST(name)                                                                                          \
    {                                                                                                         \
        matrix(kind, crash);                                                                                  \
    }                                                                                                         \
    END_TEST

MATRIX_TEST(crash_at_nth_write_keeps_acked_prefix, SL_FAULT_WRITE, true)
MATRIX_TEST(crash_at_nth_sync_keeps_acked_prefix, SL_FAULT_SYNC, true)
MATRIX_TEST(crash_at_nth_rename_keeps_acked_prefix, SL_FAULT_RENAME, true)
MATRIX_TEST(crash_at_nth_truncate_keeps_acked_prefix, SL_FAULT_TRUNCATE, true)
MATRIX_TEST(crash_at_nth_open_keeps_acked_prefix, SL_FAULT_OPEN, true)
MATRIX_TEST(fault_at_nth_write_fails_log_for_good, SL_FAULT_WRITE, false)
MATRIX_TEST(fault_at_nth_sync_fails_log_for_good, SL_FAULT_SYNC, false)
MATRIX_TEST(fault_at_nth_rename_keeps_acked_prefix, SL_FAULT_RENAME, false)
MATRIX_TEST(fault_at_nth_truncate_keeps_acked_prefix, SL_FAULT_TRUNCATE, false)
MATRIX_TEST(fault_at_nth_open_keeps_acked_prefix, SL_FAULT_OPEN, false)

/* The fsyncgate case spelled out: after one failed fdatasync a retry that would succeed is refused. */
START_TEST(failed_sync_is_never_retried)
{
    struct sl_log_cfg cfg;
    struct sl_log *l = NULL;
    char *dir = sl_test_path(tmp, "p");
    sl_log_cfg_defaults(&cfg, dir);
    cfg.fops = &sl_faultfs;
    ck_assert_int_eq(sl_log_open(&cfg, &l), 0);
    sl_offset_t base, last, durable = -1;
    ck_assert_int_eq(sl_tlog_append(l, 0, &base, &last), 0);
    ck_assert_int_eq(sl_log_sync(l, &durable), 0);
    ck_assert_int_eq(durable, last + 1);
    sl_offset_t durable0 = durable;
    ck_assert_int_eq(sl_tlog_append(l, 0, &base, &last), 0);
    sl_faultfs_arm(SL_FAULT_SYNC, 1);
    ck_assert_int_ne(sl_log_sync(l, &durable), 0);
    ck_assert(sl_faultfs_fired());
    ck_assert(sl_log_failed(l));
    uint64_t syncs = sl_faultfs_count(SL_FAULT_SYNC);
    ck_assert_int_eq(sl_log_sync(l, &durable), SL_EFAILED);
    ck_assert_int_eq(sl_tlog_append(l, 0, &base, &last), SL_EFAILED);
    ck_assert_int_eq(sl_log_durable(l), durable0);
    ck_assert_uint_eq(sl_faultfs_count(SL_FAULT_SYNC), syncs);
    sl_log_close(l);
    free(dir);
}
END_TEST

static Suite *crash_suite(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("crash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, crash_at_nth_write_keeps_acked_prefix);
    tcase_add_test(tc, crash_at_nth_sync_keeps_acked_prefix);
    tcase_add_test(tc, crash_at_nth_rename_keeps_acked_prefix);
    tcase_add_test(tc, crash_at_nth_truncate_keeps_acked_prefix);
    tcase_add_test(tc, crash_at_nth_open_keeps_acked_prefix);
    suite_add_tcase(s, tc);

    tc = tcase_create("single");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, fault_at_nth_write_fails_log_for_good);
    tcase_add_test(tc, fault_at_nth_sync_fails_log_for_good);
    tcase_add_test(tc, fault_at_nth_rename_keeps_acked_prefix);
    tcase_add_test(tc, fault_at_nth_truncate_keeps_acked_prefix);
    tcase_add_test(tc, fault_at_nth_open_keeps_acked_prefix);
    tcase_add_test(tc, failed_sync_is_never_retried);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(crash_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
