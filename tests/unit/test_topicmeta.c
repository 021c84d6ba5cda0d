/* Unit tests for storage/topicmeta.c: Kafka's topic-name rule, save/load round trips, removal, corrupt files,
 * the config list and sl_dir_remove_tree. Each test gets a fresh temp dir. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/err.h"
#include "storage/topicmeta.h"
#include "tests/support/testutil.h"

static char *tmp;
static char *meta_dir;
static const struct sl_fileops *fo = &sl_fileops_posix;

static void setup(void)
{
    tmp = sl_test_tmpdir();
    meta_dir = sl_test_path(tmp, "meta/topics"); /* two levels, neither exists yet */
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(meta_dir);
    free(tmp);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char *path = sl_test_path(dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static bool exists(const char *dir, const char *name)
{
    char *path = sl_test_path(dir, name);
    bool ok = access(path, F_OK) == 0;
    free(path);
    return ok;
}

static struct sl_topic_meta make_meta(const char *name, int32_t parts)
{
    struct sl_topic_meta m = {0};
    snprintf(m.name, sizeof m.name, "%s", name);
    m.partitions = parts;
    m.created_ms = 1700000000123LL;
    return m;
}

START_TEST(name_rule_accepts_kafka_names)
{
    ck_assert(sl_topic_name_valid("orders"));
    ck_assert(sl_topic_name_valid("a"));
    ck_assert(sl_topic_name_valid("Orders.v2_EU-west"));
    ck_assert(sl_topic_name_valid("..."));
    ck_assert(sl_topic_name_valid(".hidden"));
    ck_assert(sl_topic_name_valid("__consumer_offsets"));
    char name[251];
    memset(name, 'x', 249);
    name[249] = '\0';
    ck_assert(sl_topic_name_valid(name));
    name[249] = 'x';
    name[250] = '\0';
    ck_assert(!sl_topic_name_valid(name));
}
END_TEST

START_TEST(name_rule_rejects_the_rest)
{
    static const char *bad[] = {"", ".", "..", "a/b", "../x", "/abs", "has space", " lead", "tab\t",
                                "caf\xc3\xa9", "\xe2\x9c\x93", "a\\b", "a:b", "a*b", "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!sl_topic_name_valid(bad[i]), "accepted '%s'", bad[i]);
    ck_assert(!sl_topic_name_valid(NULL));
}
END_TEST

START_TEST(save_then_load_all_round_trips_with_configs)
{
    struct sl_topic_meta a = make_meta("orders", 3), b = make_meta("audit.log", 1);
    ck_assert_int_eq(sl_topicmeta_set(&a, "retention.ms", "-1"), 0);
    ck_assert_int_eq(sl_topicmeta_set(&a, "cleanup.policy", "delete"), 0);
    ck_assert_int_eq(sl_topicmeta_set(&a, "weird", " a=b = c"), 0);
    ck_assert_int_eq(sl_topicmeta_save(fo, meta_dir, &a), 0);
    ck_assert_int_eq(sl_topicmeta_save(fo, meta_dir, &b), 0);
    ck_assert(exists(meta_dir, "orders.topic"));
    ck_assert(!exists(meta_dir, "orders.topic.tmp"));

    struct sl_topic_meta *all = NULL;
    size_t n = 0, skipped = 99;
    ck_assert_int_eq(sl_topicmeta_load_all(fo, meta_dir, &all, &n, &skipped), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(skipped, 0);
    ck_assert_str_eq(all[0].name, "audit.log"); /* sorted by name */
    ck_assert_int_eq(all[0].partitions, 1);
    ck_assert_uint_eq(all[0].nconfigs, 0);
    ck_assert_str_eq(all[1].name, "orders");
    ck_assert_int_eq(all[1].partitions, 3);
    ck_assert_int_eq(all[1].created_ms, 1700000000123LL);
    ck_assert_uint_eq(all[1].nconfigs, 3);
    ck_assert_str_eq(sl_topicmeta_get(&all[1], "retention.ms"), "-1");
    ck_assert_str_eq(sl_topicmeta_get(&all[1], "cleanup.policy"), "delete");
    ck_assert_str_eq(sl_topicmeta_get(&all[1], "weird"), "a=b = c"); /* surrounding spaces are trimmed */
    sl_topicmeta_free_all(all, n);
    sl_topicmeta_fini(&a);
    sl_topicmeta_fini(&b);
}
END_TEST

START_TEST(save_replaces_the_previous_version)
{
    struct sl_topic_meta a = make_meta("t", 1);
    ck_assert_int_eq(sl_topicmeta_save(fo, meta_dir, &a), 0);
    a.partitions = 6;
    ck_assert_int_eq(sl_topicmeta_set(&a, "segment.ms", "1000"), 0);
    ck_assert_int_eq(sl_topicmeta_save(fo, meta_dir, &a), 0);
    struct sl_topic_meta *all;
    size_t n;
    ck_assert_int_eq(sl_topicmeta_load_all(fo, meta_dir, &all, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(all[0].partitions, 6);
    ck_assert_str_eq(sl_topicmeta_get(&all[0], "segment.ms"), "1000");
    sl_topicmeta_free_all(all, n);
    sl_topicmeta_fini(&a);
}
END_TEST

START_TEST(save_rejects_bad_names_and_line_breaks)
{
    struct sl_topic_meta m = make_meta("../escape", 1);
    ck_assert_int_eq(sl_topicmeta_save(fo, meta_dir, &m), SL_EBADNAME);
    m = make_meta("ok", 1);
    ck_assert_int_eq(sl_topicmeta_set(&m, "k", "two\nlines"), 0);
    ck_assert_int_eq(sl_topicmeta_save(fo, meta_dir, &m), -EINVAL);
    sl_topicmeta_fini(&m);
}
END_TEST

START_TEST(load_all_of_missing_dir_is_empty)
{
    struct sl_topic_meta *all = NULL;
    size_t n = 7, skipped = 7;
    ck_assert_int_eq(sl_topicmeta_load_all(fo, meta_dir, &all, &n, &skipped), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(skipped, 0);
    sl_topicmeta_free_all(all, n);
}
END_TEST

START_TEST(remove_deletes_the_file)
{
    struct sl_topic_meta m = make_meta("gone", 2);
    ck_assert_int_eq(sl_topicmeta_save(fo, meta_dir, &m), 0);
    ck_assert_int_eq(sl_topicmeta_remove(fo, meta_dir, "gone"), 0);
    ck_assert(!exists(meta_dir, "gone.topic"));
    ck_assert_int_eq(sl_topicmeta_remove(fo, meta_dir, "gone"), -ENOENT);
    ck_assert_int_eq(sl_topicmeta_remove(fo, meta_dir, ".."), SL_EBADNAME);
    struct sl_topic_meta *all;
    size_t n;
    ck_assert_int_eq(sl_topicmeta_load_all(fo, meta_dir, &all, &n, NULL), 0);
    ck_assert_uint_eq(n, 0);
    sl_topicmeta_free_all(all, n);
}
END_TEST

START_TEST(corrupt_files_are_skipped_and_counted)
{
    struct sl_topic_meta good = make_meta("good", 4);
    ck_assert_int_eq(sl_topicmeta_save(fo, meta_dir, &good), 0);
    write_text(meta_dir, "garbage.topic", "\x01\x02 not properties at all\n");
    write_text(meta_dir, "noparts.topic", "name=noparts\ncreated.ms=1\n");
    write_text(meta_dir, "badparts.topic", "name=badparts\npartitions=zero\n");
    write_text(meta_dir, "mismatch.topic", "name=other\npartitions=1\n");
    write_text(meta_dir, "README", "not a topic file\n");
    write_text(meta_dir, "half.topic.tmp", "name=half\n");

    struct sl_topic_meta *all;
    size_t n, skipped = 0;
    ck_assert_int_eq(sl_topicmeta_load_all(fo, meta_dir, &all, &n, &skipped), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(all[0].name, "good");
    ck_assert_int_eq(all[0].partitions, 4);
    ck_assert_uint_eq(skipped, 4);
    ck_assert(!exists(meta_dir, "half.topic.tmp")); /* crash leftover cleaned */
    ck_assert(exists(meta_dir, "README"));
    sl_topicmeta_free_all(all, n);
}
END_TEST

START_TEST(set_get_replace_and_remove_configs)
{
    struct sl_topic_meta m = make_meta("t", 1);
    ck_assert_ptr_null(sl_topicmeta_get(&m, "retention.ms"));
    ck_assert_int_eq(sl_topicmeta_set(&m, "retention.ms", "100"), 0);
    ck_assert_int_eq(sl_topicmeta_set(&m, "segment.bytes", "4096"), 0);
    ck_assert_int_eq(sl_topicmeta_set(&m, "max.message.bytes", "10"), 0);
    ck_assert_str_eq(sl_topicmeta_get(&m, "retention.ms"), "100");
    ck_assert_int_eq(sl_topicmeta_set(&m, "retention.ms", "200"), 0);
    ck_assert_str_eq(sl_topicmeta_get(&m, "retention.ms"), "200");
    ck_assert_uint_eq(m.nconfigs, 3);
    ck_assert_int_eq(sl_topicmeta_set(&m, "segment.bytes", NULL), 0);
    ck_assert_ptr_null(sl_topicmeta_get(&m, "segment.bytes"));
    ck_assert_uint_eq(m.nconfigs, 2);
    ck_assert_str_eq(sl_topicmeta_get(&m, "max.message.bytes"), "10");
    ck_assert_int_eq(sl_topicmeta_set(&m, "absent", NULL), 0);
    sl_topicmeta_fini(&m);
    ck_assert_uint_eq(m.nconfigs, 0);
}
END_TEST

START_TEST(remove_tree_deletes_nested_files_and_dirs)
{
    char *root = sl_test_path(tmp, "orders-0");
    char *sub = sl_test_path(root, "sub");
    ck_assert_int_eq(mkdir(root, 0755), 0);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    write_text(root, "00000000000000000000.log", "x");
    write_text(root, "00000000000000000000.index", "");
    write_text(sub, "deep", "y");
    char *link = sl_test_path(root, "link");
    ck_assert_int_eq(symlink(tmp, link), 0); /* removed, not followed */
    ck_assert_int_eq(sl_dir_remove_tree(fo, root), 0);
    ck_assert_int_ne(access(root, F_OK), 0);
    ck_assert_int_eq(access(tmp, F_OK), 0);
    ck_assert_int_eq(sl_dir_remove_tree(fo, root), -ENOENT);
    free(link);
    free(sub);
    free(root);
}
END_TEST

static Suite *topicmeta_suite(void)
{
    Suite *s = suite_create("topicmeta");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, name_rule_accepts_kafka_names);
    tcase_add_test(tc, name_rule_rejects_the_rest);
    tcase_add_test(tc, save_then_load_all_round_trips_with_configs);
    tcase_add_test(tc, save_replaces_the_previous_version);
    tcase_add_test(tc, save_rejects_bad_names_and_line_breaks);
    tcase_add_test(tc, load_all_of_missing_dir_is_empty);
    tcase_add_test(tc, remove_deletes_the_file);
    tcase_add_test(tc, corrupt_files_are_skipped_and_counted);
    tcase_add_test(tc, set_get_replace_and_remove_configs);
    tcase_add_test(tc, remove_tree_deletes_nested_files_and_dirs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(topicmeta_suite());
    srunner_run_all(sr, CK_ENV);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
