/* storage/segfd.c, the segment fd cache (issue 11: every segment held an fd for its whole life, so enough
 * segments exhausted the fd limit): with a limit of 4 open segment files, a log of dozens of segments reads
 * back byte for byte, the open count never passes the limit once everything is synced, a segment being
 * written is never closed under its writer, and a segment deleted by retention stays readable through a
 * reference held before the deletion. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/err.h"
#include "storage/log.h"
#include "storage/segment.h"
#include "tests/support/logcheck.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = sl_test_tmpdir();
    sl_seg_fd_limit(4);
}

static void teardown(void)
{
    sl_seg_fd_limit(0);
    sl_test_rmrf(tmp);
    free(tmp);
}

static struct sl_log *open_log(void)
{
    struct sl_log_cfg c;
    sl_log_cfg_defaults(&c, tmp);
    c.segment_bytes = 1024;
    c.index_interval_bytes = 256;
    struct sl_log *l = NULL;
    ck_assert_int_eq(sl_log_open(&c, &l), 0);
    return l;
}

/* Open descriptors of this process that name a .log file of the test's directory. */
static int open_log_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char link[300], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t k = readlink(link, target, sizeof target - 1);
        if (k > 4) {
            target[k] = '\0';
            n += strncmp(target, tmp, strlen(tmp)) == 0 && strstr(target, ".log") != NULL;
        }
    }
    if (d)
        closedir(d);
    return n;
}

static void fill(struct sl_log *l, int batches)
{
    for (int i = 0; i < batches; i++) {
        sl_offset_t base, last;
        ck_assert_int_eq(sl_tlog_append(l, 0, &base, &last), 0);
        if (i % 16 == 15)
            ck_assert_int_eq(sl_log_sync(l, NULL), 0);
    }
    ck_assert_int_eq(sl_log_sync(l, NULL), 0);
}

START_TEST(many_segments_read_back_through_at_most_the_limit_of_fds)
{
    struct sl_log *l = open_log();
    fill(l, 400);
    ck_assert_uint_gt(sl_log_segment_count(l), 20);
    char why[256];
    for (int round = 0; round < 3; round++) {
        ck_assert_msg(sl_tlog_check(l, 0, sl_log_end(l), sl_log_end(l), why, sizeof why) == 0, "%s", why);
        ck_assert_uint_le(sl_seg_fd_open_count(), 4);
        ck_assert_int_le(open_log_fds(), 4);
    }
    ck_assert_int_eq(sl_log_close(l), 0);
    l = open_log(); /* recovery reads every segment through the cache too */
    ck_assert_msg(sl_tlog_check(l, 0, 0, INT64_MAX, why, sizeof why) == 0, "%s", why);
    ck_assert_int_le(open_log_fds(), 4);
    fill(l, 50); /* appends after reopen land where they should */
    ck_assert_msg(sl_tlog_check(l, 0, 0, INT64_MAX, why, sizeof why) == 0, "%s", why);
    ck_assert_int_eq(sl_log_close(l), 0);
    ck_assert_int_eq(open_log_fds(), 0);
}
END_TEST

/* A deleted segment is read on through its pinned fd by whoever holds a reference. */
START_TEST(a_deleted_segment_stays_readable_through_a_held_reference)
{
    struct sl_seg *s;
    ck_assert_int_eq(sl_seg_open(&sl_fileops_posix, tmp, 0, true, &s), 0);
    struct sl_buf b = {0};
    ck_assert_int_eq(sl_tlog_gen(0, 0, &b), 0);
    struct sl_batch_hdr h;
    ck_assert_int_eq(sl_batch_hdr_decode(b.base, b.len, &h), 0);
    ck_assert_int_eq(sl_seg_append(s, b.base, b.len, &h, 4096), 0);
    ck_assert_int_eq(sl_seg_sync(s), 0);
    __atomic_store_n(&s->synced_size, sl_seg_size(s), __ATOMIC_RELEASE);
    ck_assert_int_eq(sl_seg_delete(s), 0);
    struct sl_seg *others[8]; /* push it out of the cache if it could be pushed */
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(sl_seg_open(&sl_fileops_posix, tmp, 1000 + i, true, &others[i]), 0);
    uint8_t back[4096];
    ck_assert_int_eq(sl_seg_read(s, 0, back, b.len), (ssize_t)b.len);
    ck_assert_int_eq(memcmp(back, b.base, b.len), 0);
    for (int i = 0; i < 8; i++)
        sl_seg_unref(others[i]);
    sl_seg_unref(s);
    sl_buf_fini(&b);
}
END_TEST

/* Unsynced bytes keep their fd open: the fdatasync that makes them durable uses the fd that wrote them. */
START_TEST(a_segment_with_unsynced_bytes_is_never_closed)
{
    struct sl_seg *w;
    ck_assert_int_eq(sl_seg_open(&sl_fileops_posix, tmp, 0, true, &w), 0);
    struct sl_buf b = {0};
    ck_assert_int_eq(sl_tlog_gen(0, 0, &b), 0);
    struct sl_batch_hdr h;
    ck_assert_int_eq(sl_batch_hdr_decode(b.base, b.len, &h), 0);
    ck_assert_int_eq(sl_seg_append(w, b.base, b.len, &h, 4096), 0);
    int fd_before = w->fd;
    struct sl_seg *others[8];
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(sl_seg_open(&sl_fileops_posix, tmp, 1000 + i, true, &others[i]), 0);
        uint8_t x;
        sl_seg_read(others[i], 0, &x, 1);
    }
    ck_assert_int_eq(w->fd, fd_before); /* still open: 9 open, past the limit, until it is synced */
    for (int i = 0; i < 8; i++)
        sl_seg_unref(others[i]);
    sl_seg_unref(w);
    sl_buf_fini(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("segfd");
    TCase *tc = tcase_create("segfd");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, many_segments_read_back_through_at_most_the_limit_of_fds);
    tcase_add_test(tc, a_deleted_segment_stays_readable_through_a_held_reference);
    tcase_add_test(tc, a_segment_with_unsynced_bytes_is_never_closed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
