/* Unit tests for storage/fileops.c's helpers: sl_dir_make_all (mkdir -p through a fileops table),
 * sl_file_replace and sl_file_read_all. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/fileops.h"
#include "tests/support/testutil.h"

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

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int mkdirs_seen;

static int counting_mkdir(const char *path, int mode)
{
    mkdirs_seen++;
    return sl_fileops_posix.mkdir(path, mode);
}

START_TEST(fileops_make_all_creates_every_missing_parent_through_the_table)
{
    struct sl_fileops fo = sl_fileops_posix;
    fo.mkdir = counting_mkdir;
    char *deep = sl_test_path(tmp, "a/b/c");
    mkdirs_seen = 0;
    ck_assert_int_eq(sl_dir_make_all(&fo, deep), 0);
    ck_assert(is_dir(deep));
    ck_assert_int_gt(mkdirs_seen, 3); /* every component went through fo */
    ck_assert_int_eq(sl_dir_make_all(&fo, deep), 0); /* existing: success */
    free(deep);
}
END_TEST

START_TEST(fileops_make_all_reports_a_file_in_the_way_and_a_long_name)
{
    char *f = sl_test_path(tmp, "file");
    ck_assert_int_eq(sl_file_replace(&sl_fileops_posix, tmp, "file", "x", 1), 0);
    char *under = sl_test_path(f, "sub");
    ck_assert_int_eq(sl_dir_make_all(&sl_fileops_posix, under), -ENOTDIR);
    char *long_name = malloc(5000);
    memset(long_name, 'a', 4999);
    long_name[0] = '/';
    long_name[4999] = '\0';
    ck_assert_int_eq(sl_dir_make_all(&sl_fileops_posix, long_name), -ENAMETOOLONG);
    free(long_name);
    free(under);
    free(f);
}
END_TEST

START_TEST(fileops_replace_then_read_all_round_trips)
{
    ck_assert_int_eq(sl_file_replace(&sl_fileops_posix, tmp, "f", "hello\n", 6), 0);
    char *path = sl_test_path(tmp, "f"), *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(sl_file_read_all(&sl_fileops_posix, path, 64, &text, &len), 0);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq(text, "hello\n");
    free(text);
    ck_assert_int_eq(sl_file_read_all(&sl_fileops_posix, path, 3, &text, NULL), -EFBIG);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fileops");
    TCase *tc = tcase_create("fileops");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fileops_make_all_creates_every_missing_parent_through_the_table);
    tcase_add_test(tc, fileops_make_all_reports_a_file_in_the_way_and_a_long_name);
    tcase_add_test(tc, fileops_replace_then_read_all_round_trips);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
