/* The cluster settings and the data dir's identity (README "Cluster"), driven as a process: a single-node
 * data dir is recorded and adopted, another node id on it is refused with one line, a bad voter list is
 * refused with one line, a start without voters is what it always was, a node outside the voters runs as a
 * non-voter. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

/* The file <dir>/<name>, malloc'd; NULL when absent. */
static char *read_file(const char *dir, const char *name)
{
    char *path = sl_test_path(dir, name), *buf = calloc(1, 4096);
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

/* Asserts that out is exactly one line, "sluice: ...", containing want. */
static void assert_one_line(const char *out, const char *want)
{
    ck_assert_msg(strncmp(out, "sluice: ", 8) == 0, "not a 'sluice: ' line: %s", out);
    ck_assert_msg(strstr(out, want) != NULL, "'%s' not in: %s", want, out);
    const char *nl = strchr(out, '\n');
    ck_assert_msg(nl && nl[1] == '\0', "not exactly one line: %s", out);
}

static int64_t node_id_of(struct sl_proc *p)
{
    json_t *info = NULL;
    ck_assert_int_eq(sl_http_json(p, "GET", "/v1/info", NULL, &info), 200);
    int64_t id = json_integer_value(json_object_get(info, "node_id"));
    json_decref(info);
    return id;
}

START_TEST(cluster_single_node_dir_is_recorded_and_adopted)
{
    struct sl_proc p;
    sl_proc_start(&p, NULL, NULL);
    char *cid = sl_proc_cluster_id(&p);
    sl_proc_stop(&p);
    char *props = read_file(p.data_dir, "meta.properties"), want[128];
    ck_assert_ptr_nonnull(props);
    snprintf(want, sizeof want, "version=1\ncluster.id=%s\nnode.id=1\n", cid);
    ck_assert_msg(strstr(props, want), "meta.properties lacks '%s':\n%s", want, props);
    free(props);

    /* A dir from before meta.properties: only meta/cluster.id. It is adopted with its cluster id. */
    char *path = sl_test_path(p.data_dir, "meta.properties");
    ck_assert_int_eq(unlink(path), 0);
    sl_proc_start_again(&p);
    char *cid2 = sl_proc_cluster_id(&p);
    ck_assert_str_eq(cid, cid2);
    sl_proc_restart(&p, false);
    char *cid3 = sl_proc_cluster_id(&p);
    ck_assert_str_eq(cid, cid3);
    props = read_file(p.data_dir, "meta.properties");
    ck_assert_ptr_nonnull(props);
    ck_assert_msg(strstr(props, want), "meta.properties lacks '%s':\n%s", want, props);
    free(props);
    free(path);
    free(cid);
    free(cid2);
    free(cid3);
    sl_proc_free(&p);
}
END_TEST

START_TEST(cluster_dir_of_another_node_or_cluster_is_refused_with_one_line)
{
    struct sl_proc p;
    sl_proc_start(&p, NULL, NULL);
    char *cid = sl_proc_cluster_id(&p);
    sl_proc_stop(&p);
    char *out, want[256];
    const char *other_node[] = {"--data-dir",  p.data_dir,  "--rest-port", "0",         "--ws-port", "0",
                                "--rest-bind", "127.0.0.1", "--set",       "node.id=2", NULL};
    ck_assert_int_eq(sl_proc_run(other_node, &out), 2);
    snprintf(want, sizeof want, "data dir %s belongs to node 1 of cluster %s, not node 2", p.data_dir, cid);
    assert_one_line(out, want);
    free(out);

    const char *other_cluster[] = {"--data-dir", p.data_dir,    "--rest-port", "0",     "--ws-port",
                                   "0",          "--rest-bind", "127.0.0.1",   "--set", "cluster.id=someoneelse",
                                   NULL};
    ck_assert_int_eq(sl_proc_run(other_cluster, &out), 2);
    assert_one_line(out, "not node 1 of cluster someoneelse");
    free(out);

    /* refused before anything was written: the dir still starts as node 1 */
    sl_proc_start_again(&p);
    ck_assert_int_eq(node_id_of(&p), 1);
    free(cid);
    sl_proc_free(&p);
}
END_TEST

START_TEST(cluster_bad_voters_are_refused_with_one_line)
{
    char *dir = sl_test_tmpdir(), *out;
    const char *dup[] = {"--data-dir", dir,
                         "--node-id",  "1",
                         "--set",      "controller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.1:9094,2@127.0.0.1:9095",
                         NULL};
    ck_assert_int_eq(sl_proc_run(dup, &out), 2);
    assert_one_line(out, "controller.quorum.voters': id 2 appears twice");
    free(out);
    const char *no_node[] = {"--data-dir", dir, "--set", "controller.quorum.voters=1@127.0.0.1:9093", NULL};
    ck_assert_int_eq(sl_proc_run(no_node, &out), 2);
    assert_one_line(out, "node.id must be set");
    free(out);
    ck_assert_ptr_null(read_file(dir, "meta.properties")); /* nothing was opened */
    sl_test_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(cluster_start_without_voters_is_unchanged)
{
    struct sl_proc p;
    sl_proc_start(&p, NULL, NULL);
    ck_assert_int_eq(node_id_of(&p), 1);
    long status;
    char url[128];
    snprintf(url, sizeof url, "%s/healthy", p.base);
    sl_http("GET", url, NULL, NULL, &status, NULL);
    ck_assert_int_eq(status, 200);
    sl_proc_stop(&p);
    char *log = sl_proc_stderr(&p);
    ck_assert_msg(!strstr(log, "quorum") && !strstr(log, "WARN"), "unexpected lines:\n%s", log);
    free(log);
    sl_proc_free(&p);
}
END_TEST

START_TEST(cluster_node_outside_the_voters_runs_as_a_non_voter)
{
    struct sl_proc p;
    const char *extra[] = {
        "--node-id",      "4", "--set", "controller.quorum.voters=1@127.0.0.1:9093,2@[::1]:9093", "--set",
        "cluster.port=0", NULL};
    sl_proc_start(&p, NULL, extra);
    ck_assert_int_eq(node_id_of(&p), 4);
    char *log = sl_proc_stderr(&p);
    ck_assert_msg(strstr(log, "node 4 is not one of the 2 voters"), "no non-voter line:\n%s", log);
    free(log);
    sl_proc_stop(&p);
    char *props = read_file(p.data_dir, "meta.properties");
    ck_assert_ptr_nonnull(props);
    ck_assert_ptr_nonnull(strstr(props, "node.id=4\n"));
    free(props);
    sl_proc_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cluster_config");
    TCase *tc = tcase_create("process");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cluster_single_node_dir_is_recorded_and_adopted);
    tcase_add_test(tc, cluster_dir_of_another_node_or_cluster_is_refused_with_one_line);
    tcase_add_test(tc, cluster_bad_voters_are_refused_with_one_line);
    tcase_add_test(tc, cluster_start_without_voters_is_unchanged);
    tcase_add_test(tc, cluster_node_outside_the_voters_runs_as_a_non_voter);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
