/* server/data_identity.c: meta.properties parsed and formatted, a directory's identity checked before the
 * broker opens and recorded after, the adoption of a directory written before the file. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server/config.h"
#include "server/data_identity.h"
#include "server/err.h"
#include "tests/support/testutil.h"

static char *tmp;
static char err[512];
static struct sl_config cfg;

static void setup(void)
{
    tmp = sl_test_tmpdir();
    err[0] = '\0';
    sl_config_defaults(&cfg);
    free(cfg.data_dir);
    cfg.data_dir = strdup(tmp);
}

static void teardown(void)
{
    sl_config_fini(&cfg);
    sl_test_rmrf(tmp);
    free(tmp);
}

static void write_text(const char *rel, const char *text)
{
    char *path = sl_test_path(tmp, rel);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

/* The whole file at rel, malloc'd, or NULL when absent. */
static char *read_text(const char *rel)
{
    char *path = sl_test_path(tmp, rel), *buf = calloc(1, 4096);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f) {
        free(buf);
        return NULL;
    }
    buf[fread(buf, 1, 4095, f)] = '\0';
    fclose(f);
    return buf;
}

static void make_meta_dir(void)
{
    char *path = sl_test_path(tmp, "meta");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    free(path);
}

#define ASSERT_ERR_MENTIONS(s) ck_assert_msg(strstr(err, (s)) != NULL, "'%s' not in error '%s'", (s), err)

START_TEST(identity_parses_kafkas_meta_properties)
{
    struct sl_data_identity id;
    const char *kafka = "#\n#Thu Jan 01 00:00:00 UTC 2026\nnode.id=3\ndirectory.id=AAAAAAAAAAAAAAAAAAAAAA\n"
                        "version=1\ncluster.id=MkU3OEVBNTcwNTJENDM2Qk\n";
    ck_assert_int_eq(sl_data_identity_parse(kafka, &id, err, sizeof err), 0);
    ck_assert_int_eq(id.node_id, 3);
    ck_assert_str_eq(id.cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
    ck_assert_int_eq(
        sl_data_identity_parse("! c\n version = 1 \r\n cluster.id = a=b \nnode.id=0", &id, err, sizeof err), 0);
    ck_assert_str_eq(id.cluster_id, "a=b");
    ck_assert_int_eq(id.node_id, 0);
}
END_TEST

START_TEST(identity_refuses_malformed_files_with_one_line)
{
    static const char *const bad[][2] = {
        {"cluster.id=x\nnode.id=1\n", "no version line"},
        {"version=1\nnode.id=1\n", "no cluster.id line"},
        {"version=1\ncluster.id=x\n", "no node.id line"},
        {"version=0\nbroker.id=1\ncluster.id=x\n", "line 1: version 0 is not supported"},
        {"version=1\ncluster.id=x\nnode.id=-1\n", "line 3: node.id '-1' is not a number"},
        {"version=1\ncluster.id=x\nnode.id=2147483648\n", "node.id '2147483648'"},
        {"version=1\ncluster.id=\nnode.id=1\n", "line 2: cluster.id must be"},
        {"version=1\ngarbage\n", "line 2: expected key=value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sl_data_identity id;
        err[0] = '\0';
        ck_assert_int_eq(sl_data_identity_parse(bad[i][0], &id, err, sizeof err), SL_ECONFIG);
        ASSERT_ERR_MENTIONS(bad[i][1]);
        ck_assert_ptr_null(strchr(err, '\n'));
    }
}
END_TEST

START_TEST(identity_format_round_trips_and_refuses_what_cannot)
{
    struct sl_data_identity id = {.cluster_id = "my cluster-1", .node_id = 2147483647}, back;
    char text[512];
    ck_assert_int_eq(sl_data_identity_format(&id, text, sizeof text, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(text, "version=1\n"));
    ck_assert_int_eq(sl_data_identity_parse(text, &back, err, sizeof err), 0);
    ck_assert_str_eq(back.cluster_id, id.cluster_id);
    ck_assert_int_eq(back.node_id, id.node_id);
    ck_assert_int_eq(sl_data_identity_format(&id, text, 20, err, sizeof err), -ENOSPC);
    snprintf(id.cluster_id, sizeof id.cluster_id, "a\nnode.id=5");
    ck_assert_int_eq(sl_data_identity_format(&id, text, sizeof text, err, sizeof err), SL_ECONFIG);
    snprintf(id.cluster_id, sizeof id.cluster_id, " lead");
    ck_assert_int_eq(sl_data_identity_format(&id, text, sizeof text, err, sizeof err), SL_ECONFIG);
}
END_TEST

START_TEST(identity_new_dir_passes_the_check_and_is_recorded)
{
    ck_assert_int_eq(sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err), 0);
    ck_assert_ptr_null(read_text("meta.properties"));
    ck_assert_int_eq(sl_data_identity_record(&sl_fileops_posix, tmp, "CID", 1, err, sizeof err), 0);
    char *text = read_text("meta.properties");
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "version=1\ncluster.id=CID\nnode.id=1\n"));
    free(text);
    /* recording again is a check, never a rewrite */
    ck_assert_int_eq(sl_data_identity_record(&sl_fileops_posix, tmp, "CID", 1, err, sizeof err), 0);
    ck_assert_int_eq(sl_data_identity_record(&sl_fileops_posix, tmp, "CID", 2, err, sizeof err), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("belongs to node 1 of cluster CID, not node 2");
}
END_TEST

START_TEST(identity_check_refuses_another_node_or_cluster)
{
    make_meta_dir();
    write_text("meta/cluster.id", "CID\n");
    write_text("meta.properties", "version=1\ncluster.id=CID\nnode.id=2\n");
    cfg.node_id = 2;
    ck_assert_int_eq(sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err), 0);

    cfg.node_id = 1;
    ck_assert_int_eq(sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("belongs to node 2 of cluster CID, not node 1 (node.id)");
    ASSERT_ERR_MENTIONS(tmp);

    cfg.node_id = 2;
    cfg.cluster_id = strdup("OTHER");
    ck_assert_int_eq(sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("not node 2 of cluster OTHER (cluster.id)");
    free(cfg.cluster_id);
    cfg.cluster_id = NULL;

    write_text("meta/cluster.id", "REPLACED\n");
    ck_assert_int_eq(sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("of cluster REPLACED (meta/cluster.id)");

    write_text("meta.properties", "version=1\nnode.id=2\n");
    ck_assert_int_eq(sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("meta.properties is not a valid identity file: no cluster.id line");
}
END_TEST

START_TEST(identity_check_restores_a_lost_cluster_id_file)
{
    write_text("meta.properties", "version=1\ncluster.id=KEEP\nnode.id=1\n");
    ck_assert_int_eq(sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err), 0);
    char *text = read_text("meta/cluster.id");
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "KEEP\n");
    free(text);
}
END_TEST

START_TEST(identity_check_writes_nothing_when_it_refuses)
{
    write_text("meta.properties", "version=1\ncluster.id=KEEP\nnode.id=1\n");
    cfg.node_id = 9;
    ck_assert_int_eq(sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_null(read_text("meta/cluster.id"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_identity");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, identity_parses_kafkas_meta_properties);
    tcase_add_test(tc, identity_refuses_malformed_files_with_one_line);
    tcase_add_test(tc, identity_format_round_trips_and_refuses_what_cannot);
    tcase_add_test(tc, identity_new_dir_passes_the_check_and_is_recorded);
    tcase_add_test(tc, identity_check_refuses_another_node_or_cluster);
    tcase_add_test(tc, identity_check_restores_a_lost_cluster_id_file);
    tcase_add_test(tc, identity_check_writes_nothing_when_it_refuses);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
