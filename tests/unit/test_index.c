/* storage/index.c: floor lookups at every boundary, time lookups, truncation, load validation. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/err.h"
#include "storage/index.h"
#include "tests/support/testutil.h"

static char *tmp, *ip, *tp;

static void setup(void)
{
    tmp = sl_test_tmpdir();
    ip = sl_test_path(tmp, "0.index");
    tp = sl_test_path(tmp, "0.timeindex");
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
    free(ip);
    free(tp);
}

/* Entries (10 k, 100 k) for k = 1..n; time entries (1000 k, 10 k) for odd k. */
static void fill(struct sl_index *x, uint32_t n)
{
    sl_idx_init(x);
    for (uint32_t k = 1; k <= n; k++) {
        ck_assert_int_eq(sl_idx_add(x, 10 * k, 100 * k), 0);
        if (k % 2)
            ck_assert_int_eq(sl_idx_tadd(x, 1000 * k, 10 * k), 0);
    }
}

START_TEST(idx_lookup_empty_index_has_no_floor)
{
    struct sl_index x;
    struct sl_idx_entry e;
    struct sl_tidx_entry t;
    sl_idx_init(&x);
    ck_assert(!sl_idx_lookup(&x, 0, &e));
    ck_assert(!sl_idx_lookup(&x, UINT32_MAX, &e));
    ck_assert(!sl_idx_tlookup(&x, INT64_MAX, &t));
    ck_assert_int_eq(sl_idx_last_ts(&x), INT64_MIN);
    sl_idx_fini(&x);
}
END_TEST

START_TEST(idx_lookup_at_every_boundary)
{
    struct sl_index x;
    struct sl_idx_entry e;
    fill(&x, 100);
    ck_assert(!sl_idx_lookup(&x, 9, &e)); /* before the first entry */
    ck_assert(sl_idx_lookup(&x, 10, &e)); /* exactly the first */
    ck_assert_uint_eq(e.pos, 100);
    for (uint32_t k = 1; k <= 100; k++) {
        ck_assert(sl_idx_lookup(&x, 10 * k, &e)); /* exactly on an entry */
        ck_assert_uint_eq(e.rel, 10 * k);
        ck_assert(sl_idx_lookup(&x, 10 * k + 5, &e)); /* between entries */
        ck_assert_uint_eq(e.pos, 100 * k);
        ck_assert(sl_idx_lookup(&x, 10 * k + 9, &e));
        ck_assert_uint_eq(e.rel, 10 * k);
    }
    ck_assert(sl_idx_lookup(&x, UINT32_MAX, &e)); /* past the end */
    ck_assert_uint_eq(e.rel, 1000);
    sl_idx_fini(&x);
}
END_TEST

START_TEST(idx_tlookup_returns_last_entry_strictly_below)
{
    struct sl_index x;
    struct sl_tidx_entry t;
    fill(&x, 9); /* time entries 1000,3000,5000,7000,9000 */
    ck_assert(!sl_idx_tlookup(&x, 1000, &t));
    ck_assert(sl_idx_tlookup(&x, 1001, &t));
    ck_assert_uint_eq(t.rel, 10);
    ck_assert(sl_idx_tlookup(&x, 5000, &t));
    ck_assert_uint_eq(t.rel, 30);
    ck_assert(sl_idx_tlookup(&x, INT64_MAX, &t));
    ck_assert_uint_eq(t.rel, 90);
    ck_assert_int_eq(sl_idx_last_ts(&x), 9000);
    sl_idx_fini(&x);
}
END_TEST

START_TEST(idx_add_rejects_non_monotone_entries)
{
    struct sl_index x;
    fill(&x, 3);
    ck_assert_int_eq(sl_idx_add(&x, 30, 400), -EINVAL);
    ck_assert_int_eq(sl_idx_add(&x, 40, 300), -EINVAL);
    ck_assert_int_eq(sl_idx_tadd(&x, 3000, 40), -EINVAL);
    ck_assert_int_eq(sl_idx_tadd(&x, 4000, 30), -EINVAL);
    sl_idx_fini(&x);
}
END_TEST

START_TEST(idx_truncate_drops_entries_at_or_past_the_cut)
{
    struct sl_index x;
    fill(&x, 10);
    sl_idx_truncate(&x, 55, UINT64_MAX);
    ck_assert_uint_eq(x.n, 5);
    ck_assert_uint_eq(x.tn, 3);
    sl_idx_truncate(&x, UINT32_MAX, 300);
    ck_assert_uint_eq(x.n, 2);
    ck_assert_uint_eq(x.tn, 1); /* time entries follow their offset entries */
    sl_idx_fini(&x);
}
END_TEST

START_TEST(idx_write_then_load_roundtrips)
{
    struct sl_index x, y;
    struct sl_idx_entry e;
    fill(&x, 50);
    ck_assert_int_eq(sl_idx_write(&x, &sl_fileops_posix, ip, tp), 0);
    sl_idx_init(&y);
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 100000), 0);
    ck_assert_uint_eq(y.n, 50);
    ck_assert_uint_eq(y.tn, 25);
    ck_assert(memcmp(x.e, y.e, 50 * sizeof *x.e) == 0);
    ck_assert(sl_idx_lookup(&y, 255, &e));
    ck_assert_uint_eq(e.pos, 2500);
    /* A shorter rewrite truncates the files. */
    sl_idx_truncate(&x, 20, UINT64_MAX);
    ck_assert_int_eq(sl_idx_write(&x, &sl_fileops_posix, ip, tp), 0);
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 100000), 0);
    ck_assert_uint_eq(y.n, 1);
    sl_idx_fini(&x);
    sl_idx_fini(&y);
}
END_TEST

static void write_raw(const char *p, const void *b, size_t n)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
    close(fd);
}

START_TEST(idx_load_rejects_inconsistent_files)
{
    struct sl_index x, y;
    fill(&x, 4);
    sl_idx_init(&y);
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 1000), -ENOENT);
    ck_assert_int_eq(sl_idx_write(&x, &sl_fileops_posix, ip, tp), 0);
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 400), SL_ECORRUPT); /* pos beyond the log */
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 401), 0);
    write_raw(ip, "\0\0\0\x0a\0\0\0\x64\0\0", 10); /* not a multiple of 8 */
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 1000), SL_ECORRUPT);
    static const uint8_t down[16] = {0, 0, 0, 20, 0, 0, 0, 200, 0, 0, 0, 10, 0, 0, 0, 100};
    write_raw(ip, down, sizeof down); /* not monotone */
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 1000), SL_ECORRUPT);
    ck_assert_uint_eq(y.n, 0);
    static const uint8_t one[8] = {0, 0, 0, 10, 0, 0, 0, 100};
    write_raw(ip, one, sizeof one); /* time entries point at rels the offset index lacks */
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 1000), SL_ECORRUPT);
    write_raw(tp, "", 0);
    ck_assert_int_eq(sl_idx_load(&y, &sl_fileops_posix, ip, tp, 1000), 0);
    ck_assert_uint_eq(y.n, 1);
    sl_idx_fini(&x);
    sl_idx_fini(&y);
}
END_TEST

static Suite *index_suite(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("index");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, idx_lookup_empty_index_has_no_floor);
    tcase_add_test(tc, idx_lookup_at_every_boundary);
    tcase_add_test(tc, idx_tlookup_returns_last_entry_strictly_below);
    tcase_add_test(tc, idx_add_rejects_non_monotone_entries);
    tcase_add_test(tc, idx_truncate_drops_entries_at_or_past_the_cut);
    tcase_add_test(tc, idx_write_then_load_roundtrips);
    tcase_add_test(tc, idx_load_rejects_inconsistent_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(index_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
