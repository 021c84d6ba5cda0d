/* server/main.c, driven as a process the way an operator meets it: --help, bad flags, configuration
 * precedence (file < env < flag), the listening line, clean stop on SIGTERM, restart on the same data dir,
 * a port already in use. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

START_TEST(process_help_prints_usage_and_exits_0)
{
    char *out;
    const char *args[] = {"--help", NULL};
    ck_assert_int_eq(sl_proc_run(args, &out), 0);
    const char *must[] = {"--config", "--data-dir", "--rest-port", "--ws-port", "--node-id", "--log-level",
                          "--durability"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        ck_assert_msg(strstr(out, must[i]), "usage lacks %s:\n%s", must[i], out);
    free(out);
}
END_TEST

START_TEST(process_rejects_bad_configuration_with_exit_2_and_a_reason)
{
    const char *bad[][3] = {{"--rest-port", "abc", "rest"},
                            {"--rest-port", "70000", "rest"},
                            {"--durability", "maybe", "durability"},
                            {"--log-level", "loud", "log"},
                            {"--no-such-flag", "1", "no-such-flag"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out;
        const char *args[] = {bad[i][0], bad[i][1], NULL};
        ck_assert_int_eq(sl_proc_run(args, &out), 2);
        ck_assert_msg(strstr(out, bad[i][2]), "no reason naming %s in: %s", bad[i][2], out);
        free(out);
    }
}
END_TEST

static int64_t node_id_of(struct sl_proc *p)
{
    json_t *info = NULL;
    ck_assert_int_eq(sl_http_json(p, "GET", "/v1/info", NULL, &info), 200);
    int64_t id = json_integer_value(json_object_get(info, "node_id"));
    json_decref(info);
    return id;
}

START_TEST(process_flags_win_over_env_and_env_over_file)
{
    char *dir = sl_test_tmpdir();
    char *conf = sl_test_path(dir, "server.properties");
    FILE *f = fopen(conf, "w");
    fputs("# a Kafka-style properties file\nnode.id = 5\nlog.level=info\n", f);
    fclose(f);
    struct sl_proc p;
    const char *file_only[] = {"--config", conf, NULL};
    sl_proc_start(&p, NULL, file_only);
    ck_assert_int_eq(node_id_of(&p), 5);
    sl_proc_free(&p);

    setenv("SLUICE_NODE_ID", "6", 1);
    sl_proc_start(&p, NULL, file_only);
    ck_assert_int_eq(node_id_of(&p), 6);
    sl_proc_free(&p);

    const char *with_flag[] = {"--config", conf, "--node-id", "7", NULL};
    sl_proc_start(&p, NULL, with_flag);
    ck_assert_int_eq(node_id_of(&p), 7);
    sl_proc_free(&p);
    unsetenv("SLUICE_NODE_ID");
    sl_test_rmrf(dir);
    free(dir);
    free(conf);
}
END_TEST

START_TEST(process_stops_cleanly_and_restarts_on_the_same_data)
{
    struct sl_proc p;
    sl_proc_start(&p, NULL, NULL);
    ck_assert_uint_gt(p.rest_port, 0);
    long status;
    char *body = NULL;
    char url[128];
    snprintf(url, sizeof url, "%s/healthy", p.base);
    sl_http("GET", url, NULL, NULL, &status, &body);
    ck_assert_int_eq(status, 200);
    free(body);
    char *cid = sl_proc_cluster_id(&p);
    sl_proc_restart(&p, false); /* asserts exit status 0 on SIGTERM */
    char *cid2 = sl_proc_cluster_id(&p);
    ck_assert_str_eq(cid, cid2);
    sl_proc_stop(&p); /* asserts exit status 0 */
    char *log = sl_proc_stderr(&p);
    ck_assert_msg(strstr(log, "stopped cleanly"), "no clean stop in:\n%s", log);
    free(log);
    free(cid);
    free(cid2);
    sl_proc_free(&p);
}
END_TEST

START_TEST(process_second_signal_exits_at_once)
{
    struct sl_proc p;
    sl_proc_start(&p, NULL, NULL);
    kill(p.pid, SIGTERM);
    kill(p.pid, SIGTERM);
    int st = 0;
    pid_t r = 0;
    for (int64_t end = sl_test_mono_ms() + 10000; r == 0 && sl_test_mono_ms() < end; usleep(10000))
        r = waitpid(p.pid, &st, WNOHANG);
    ck_assert_int_eq(r, p.pid);
    ck_assert(WIFEXITED(st));
    /* Either the first stop finished before the second signal arrived (0), or the second one cut it short. */
    ck_assert(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 128 + SIGTERM);
    p.pid = 0;
    sl_proc_free(&p);
}
END_TEST

START_TEST(process_refuses_a_port_in_use_with_a_clear_error)
{
    struct sl_proc p;
    sl_proc_start(&p, NULL, NULL);
    char port[16], *dir = sl_test_tmpdir(), *out;
    snprintf(port, sizeof port, "%u", (unsigned)p.rest_port);
    const char *args[] = {"--data-dir", dir, "--rest-bind", "127.0.0.1", "--rest-port", port, NULL};
    ck_assert_int_eq(sl_proc_run(args, &out), 1);
    ck_assert_msg(strstr(out, "REST"), "no reason in: %s", out);
    free(out);
    sl_test_rmrf(dir);
    free(dir);
    sl_proc_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("process");
    TCase *tc = tcase_create("process");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, process_help_prints_usage_and_exits_0);
    tcase_add_test(tc, process_rejects_bad_configuration_with_exit_2_and_a_reason);
    tcase_add_test(tc, process_flags_win_over_env_and_env_over_file);
    tcase_add_test(tc, process_stops_cleanly_and_restarts_on_the_same_data);
    tcase_add_test(tc, process_second_signal_exits_at_once);
    tcase_add_test(tc, process_refuses_a_port_in_use_with_a_clear_error);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
