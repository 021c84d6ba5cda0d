/* server/topic_dirs.c through the broker: topic ids in the metadata and in every partition directory, and the
 * quarantine of directories that belong to no topic or to another incarnation of its name (issue 10: with
 * meta/<t>.topic lost or damaged, re-creating the topic served the old records again). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/broker.h"
#include "server/logging.h"
#include "storage/err.h"
#include "tests/support/brokerutil.h"
#include "tests/support/testutil.h"

static char *dir;
static struct sl_config cfg;
static struct sl_broker *b;
static char err[256];

static void setup(void)
{
    sl_logging_set_level(SL_LEVEL_ERROR);
    dir = sl_test_tmpdir();
    sl_tb_config(&cfg, dir, SL_DURABILITY_SYNC);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
}

static void teardown(void)
{
    sl_broker_close(b);
    sl_config_fini(&cfg);
    sl_test_rmrf(dir);
    free(dir);
}

static void reopen(void)
{
    sl_broker_close(b);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
}

/* Reads <dir>/<rel> whole into buf (NUL-terminated); returns its length or -1. */
static long read_file(const char *rel, char *buf, size_t cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

static void write_file(const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* The id= value of meta/<topic>.topic into id (23 bytes). */
static void meta_id(const char *topic, char *id)
{
    char rel[300], text[4096];
    snprintf(rel, sizeof rel, "meta/%s.topic", topic);
    ck_assert_int_gt(read_file(rel, text, sizeof text), 0);
    const char *at = strstr(text, "\nid=");
    ck_assert_ptr_nonnull(at);
    snprintf(id, SL_TOPIC_ID_LEN + 1, "%s", at + 4);
    ck_assert(sl_topic_id_valid(id));
}

/* Number of entries of <dir>/quarantine whose name starts with prefix. */
static int quarantined(const char *prefix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/quarantine", dir);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static void make_topic_with_records(const char *name, int32_t parts, int batches)
{
    ck_assert_int_eq(sl_broker_topic_create(b, name, parts, NULL, 0, false, err, sizeof err), 0);
    for (int i = 0; i < batches; i++)
        ck_assert_int_eq(sl_tb_produce_wait(b, name, 0, "old", 3, NULL, NULL), 0);
}

START_TEST(every_partition_directory_carries_its_topic_id)
{
    make_topic_with_records("t", 3, 1);
    char id[SL_TOPIC_ID_LEN + 1], other[SL_TOPIC_ID_LEN + 1], text[64];
    meta_id("t", id);
    for (int p = 0; p < 3; p++) {
        char rel[64];
        snprintf(rel, sizeof rel, "t-%d/topic.id", p);
        ck_assert_int_eq(read_file(rel, text, sizeof text), SL_TOPIC_ID_LEN + 1);
        text[SL_TOPIC_ID_LEN] = '\0';
        ck_assert_str_eq(text, id);
    }
    ck_assert_int_eq(sl_broker_topic_delete(b, "t"), 0);
    ck_assert_int_eq(sl_broker_topic_create(b, "t", 1, NULL, 0, false, err, sizeof err), 0);
    meta_id("t", other);
    ck_assert_str_ne(other, id); /* a name's next incarnation gets a new id */
    reopen();
    ck_assert_uint_eq(sl_broker_quarantined_dirs(b), 0);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 0);
}
END_TEST

/* Lost or damaged metadata: the old data is set aside, a re-created topic starts empty. */
START_TEST(lost_or_damaged_metadata_never_serves_old_records_to_a_new_topic)
{
    make_topic_with_records("lost", 1, 4);
    make_topic_with_records("bad", 2, 4);
    sl_broker_close(b);
    char path[4096];
    snprintf(path, sizeof path, "%s/meta/lost.topic", dir);
    ck_assert_int_eq(unlink(path), 0);
    write_file("meta/bad.topic", "\x01\x02 not a topic file\n");
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    ck_assert_int_eq(sl_broker_partition_count(b, "lost"), SL_ENOTOPIC);
    ck_assert_int_eq(sl_broker_partition_count(b, "bad"), SL_ENOTOPIC);
    ck_assert_uint_eq(sl_broker_quarantined_dirs(b), 3);
    ck_assert_int_eq(quarantined("lost-0."), 1);
    ck_assert_int_eq(quarantined("bad-1."), 1);
    ck_assert_int_eq(sl_broker_topic_create(b, "lost", 1, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_topic_create(b, "bad", 2, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_tb_count_records(b, "lost", 0, 0), 0);
    ck_assert_int_eq(sl_tb_count_records(b, "bad", 0, 0), 0);
    reopen();
    ck_assert_uint_eq(sl_broker_quarantined_dirs(b), 0);
    ck_assert_int_eq(quarantined("lost-0."), 1); /* never deleted */
    ck_assert_int_eq(sl_tb_count_records(b, "lost", 0, 0), 0);
}
END_TEST

/* The metadata says one incarnation, the directory holds another's data. */
START_TEST(a_directory_of_another_incarnation_is_quarantined)
{
    make_topic_with_records("t", 2, 4);
    sl_broker_close(b);
    write_file("t-0/topic.id", "AAAAAAAAAAAAAAAAAAAAAA\n");
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    ck_assert_uint_eq(sl_broker_quarantined_dirs(b), 1);
    ck_assert_int_eq(quarantined("t-0."), 1);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 0);
    ck_assert_int_eq(sl_tb_produce_wait(b, "t", 0, "new", 2, NULL, NULL), 0);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 2);
}
END_TEST

/* Data but no topic.id while the topic has an id: not this incarnation's (ids are stamped before any data). */
START_TEST(a_directory_with_data_and_no_id_is_quarantined)
{
    make_topic_with_records("t", 1, 4);
    sl_broker_close(b);
    char path[4096];
    snprintf(path, sizeof path, "%s/t-0/topic.id", dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    ck_assert_uint_eq(sl_broker_quarantined_dirs(b), 1);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 0);
}
END_TEST

/* A partition past the topic's count, and a stray directory shaped like one. */
START_TEST(partition_directories_past_the_count_are_quarantined)
{
    make_topic_with_records("t", 1, 1);
    sl_broker_close(b);
    char path[4096];
    snprintf(path, sizeof path, "%s/t-5", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    write_file("t-5/00000000000000000000.log", "junk");
    snprintf(path, sizeof path, "%s/not a partition", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    ck_assert_uint_eq(sl_broker_quarantined_dirs(b), 1);
    ck_assert_int_eq(quarantined("t-5."), 1);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 3);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0); /* only <topic>-<n> directories are the broker's */
}
END_TEST

/* Files written before topic ids: the topic gets one and keeps its data. */
START_TEST(topics_from_before_ids_adopt_their_directories)
{
    make_topic_with_records("t", 2, 4);
    sl_broker_close(b);
    write_file("meta/t.topic", "# sluice topic metadata\nname=t\npartitions=2\ncreated.ms=1\n");
    for (int p = 0; p < 2; p++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/t-%d/topic.id", dir, p);
        ck_assert_int_eq(unlink(path), 0);
    }
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    ck_assert_uint_eq(sl_broker_quarantined_dirs(b), 0);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 12);
    char id[SL_TOPIC_ID_LEN + 1], text[64];
    meta_id("t", id);
    ck_assert_int_eq(read_file("t-1/topic.id", text, sizeof text), SL_TOPIC_ID_LEN + 1);
    ck_assert_int_eq(strncmp(text, id, SL_TOPIC_ID_LEN), 0);
    reopen();
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 12);
}
END_TEST

/* One flipped bit at every byte of a topic's metadata file: whatever the flip does, the topic's records are
 * either all served under the topic, or set aside in quarantine/ and counted; never lost, never served to
 * another incarnation, and the broker always starts. */
START_TEST(a_flipped_bit_anywhere_in_the_metadata_never_loses_or_misattributes_records)
{
    make_topic_with_records("t", 1, 3);
    sl_broker_close(b);
    char path[4096], orig[4096], bad[4096];
    snprintf(path, sizeof path, "%s/meta/t.topic", dir);
    long n = read_file("meta/t.topic", orig, sizeof orig);
    ck_assert_int_gt(n, 40);
    for (long i = 0; i < n; i++) {
        memcpy(bad, orig, (size_t)n + 1);
        bad[i] ^= 0x04;
        write_file("meta/t.topic", bad);
        ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
        unsigned q = sl_broker_quarantined_dirs(b);
        int32_t parts = sl_broker_partition_count(b, "t");
        int64_t recs = parts > 0 ? sl_tb_count_records(b, "t", 0, 0) : 0;
        ck_assert_msg((q == 0 && recs == 9) || (q == 1 && recs == 0), "byte %ld: %u quarantined, %lld records", i,
                      q, (long long)recs);
        sl_broker_close(b);
        /* put things back as they were for the next byte */
        char qdir[4096], cmd[8400];
        snprintf(qdir, sizeof qdir, "%s/quarantine", dir);
        if (q) {
            snprintf(cmd, sizeof cmd, "rm -rf '%s/t-0' && mv '%s'/t-0.* '%s/t-0' && rmdir '%s'", dir, qdir, dir, qdir);
            ck_assert_int_eq(system(cmd), 0);
        }
        snprintf(cmd, sizeof cmd, "cd '%s' && for d in t-*; do [ \"$d\" = t-0 ] || rm -rf \"$d\"; done", dir);
        ck_assert_int_eq(system(cmd), 0);
        write_file("meta/t.topic", orig);
    }
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &b), 0);
    ck_assert_int_eq(sl_tb_count_records(b, "t", 0, 0), 9);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topic_dirs");
    TCase *tc = tcase_create("topic_dirs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_partition_directory_carries_its_topic_id);
    tcase_add_test(tc, lost_or_damaged_metadata_never_serves_old_records_to_a_new_topic);
    tcase_add_test(tc, a_directory_of_another_incarnation_is_quarantined);
    tcase_add_test(tc, a_directory_with_data_and_no_id_is_quarantined);
    tcase_add_test(tc, partition_directories_past_the_count_are_quarantined);
    tcase_add_test(tc, topics_from_before_ids_adopt_their_directories);
    tcase_add_test(tc, a_flipped_bit_anywhere_in_the_metadata_never_loses_or_misattributes_records);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
