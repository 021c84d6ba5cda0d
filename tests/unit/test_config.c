/* Unit tests for server/config.c: defaults, the properties file, SLUICE_* environment, flags, their order of
 * precedence and the error messages. Every test passes its own envp, never the process environment. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
#include "storage/err.h"
#include "tests/support/testutil.h"

static char *tmp;
static char err[512];

static void setup(void)
{
    tmp = sl_test_tmpdir();
    err[0] = '\0';
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
}

/* Writes text to <tmp>/<name> and returns the malloc'd path. */
static char *write_file(const char *name, const char *text)
{
    char *path = sl_test_path(tmp, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Runs sl_config_load with a NULL-terminated argv (argv[0] added) and envp. */
static int load(struct sl_config *c, const char **args, const char **env)
{
    char *argv[32] = {"sluice"};
    int argc = 1;
    for (; args && args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    static char *empty[] = {NULL};
    return sl_config_load(c, argc, argv, env ? (char **)env : empty, err, sizeof err);
}

#define ASSERT_ERR_MENTIONS(s) ck_assert_msg(strstr(err, (s)) != NULL, "'%s' not in error '%s'", (s), err)

START_TEST(defaults_match_the_documented_values)
{
    struct sl_config c;
    ck_assert_int_eq(load(&c, NULL, NULL), 0);
    ck_assert_str_eq(c.data_dir, "./data");
    ck_assert_str_eq(c.rest_bind, "0.0.0.0");
    ck_assert_str_eq(c.ws_bind, "0.0.0.0");
    ck_assert_int_eq(c.rest_port, 8082);
    ck_assert_int_eq(c.ws_port, 8092);
    ck_assert_int_eq(c.node_id, 1);
    ck_assert_int_eq(c.log_level, SL_LEVEL_INFO);
    ck_assert_int_eq(c.durability, SL_DURABILITY_SYNC);
    ck_assert_int_eq(c.flush_ms, 1000);
    ck_assert_int_eq(c.num_partitions, 1);
    ck_assert_int_eq(c.segment_bytes, 1073741824LL);
    ck_assert_int_eq(c.segment_ms, 604800000LL);
    ck_assert_int_eq(c.retention_ms, 604800000LL);
    ck_assert_int_eq(c.retention_bytes, -1);
    ck_assert_int_eq(c.max_message_bytes, 1048588);
    ck_assert_int_eq(c.retention_check_ms, 300000);
    ck_assert_int_eq(c.rest_max_body_bytes, 67108864LL);
    ck_assert_int_eq(c.rest_max_connections, 10000);
    ck_assert_int_eq(c.rest_max_records, 100000);
    ck_assert_int_eq(c.rest_threads, 2);
    ck_assert_int_eq(c.rest_header_timeout_ms, 10000);
    ck_assert_int_eq(c.rest_body_timeout_ms, 60000);
    ck_assert_int_eq(c.rest_idle_timeout_ms, 30000);
    ck_assert_int_eq(c.rest_max_streams, 64);
    ck_assert_str_eq(c.advertised_host, "");
    ck_assert_str_eq(c.cors_allowed_origins, "");
    ck_assert_int_eq(c.consumer_instance_timeout_ms, 300000);
    ck_assert_ptr_null(c.cluster_id);
    ck_assert_ptr_null(c.config_file);
    sl_config_fini(&c);
}
END_TEST

START_TEST(file_parses_comments_whitespace_and_equals_in_value)
{
    char *path = write_file("server.properties", "# a comment\n"
                                                 "! another comment\n"
                                                 "\n"
                                                 "   \t\n"
                                                 "data.dir = /var/lib/sluice  \n"
                                                 "rest.port=9000\n"
                                                 "\tws.port\t=\t9001\r\n"
                                                 "cluster.id = abc=def==\n"
                                                 "log.level = debug\n"
                                                 "durability=async\n"
                                                 "retention.ms = -1\n"
                                                 "cors.allowed.origins = http://a.example,http://b.example\n");
    const char *args[] = {"--config", path, NULL};
    struct sl_config c;
    ck_assert_msg(load(&c, args, NULL) == 0, "%s", err);
    ck_assert_str_eq(c.data_dir, "/var/lib/sluice");
    ck_assert_int_eq(c.rest_port, 9000);
    ck_assert_int_eq(c.ws_port, 9001);
    ck_assert_str_eq(c.cluster_id, "abc=def==");
    ck_assert_int_eq(c.log_level, SL_LEVEL_DEBUG);
    ck_assert_int_eq(c.durability, SL_DURABILITY_ASYNC);
    ck_assert_int_eq(c.retention_ms, -1);
    ck_assert_str_eq(c.cors_allowed_origins, "http://a.example,http://b.example");
    ck_assert_str_eq(c.config_file, path);
    sl_config_fini(&c);
    free(path);
}
END_TEST

START_TEST(env_overrides_file_and_flags_override_env)
{
    char *path = write_file("s.properties", "rest.port = 9000\nws.port = 9001\nnode.id = 5\n");
    const char *env[] = {"PATH=/bin", "SLUICE_REST_PORT=9100", "SLUICE_WS_PORT=9101",
                         "SLUICE_LOG_RETENTION_CHECK_INTERVAL_MS=5000", NULL};
    const char *args[] = {"--ws-port", "9201", "--config", path, NULL};
    struct sl_config c;
    ck_assert_msg(load(&c, args, env) == 0, "%s", err);
    ck_assert_int_eq(c.node_id, 5);     /* file only */
    ck_assert_int_eq(c.rest_port, 9100); /* env over file */
    ck_assert_int_eq(c.ws_port, 9201);   /* flag over env, even before --config */
    ck_assert_int_eq(c.retention_check_ms, 5000);
    sl_config_fini(&c);
    free(path);
}
END_TEST

/* The v3 broker-config listing's STATIC_BROKER_CONFIG: what a file, the environment or a flag set, nothing
 * else; values read back as text. */
START_TEST(explicit_keys_are_the_ones_a_source_set)
{
    char *path = write_file("s.properties", "node.id = 5\n");
    const char *env[] = {"SLUICE_RETENTION_MS=1000", NULL};
    const char *args[] = {"--config", path, "--durability", "async", NULL};
    struct sl_config c;
    ck_assert_msg(load(&c, args, env) == 0, "%s", err);
    ck_assert(sl_config_explicit(&c, "node.id"));
    ck_assert(sl_config_explicit(&c, "retention.ms"));
    ck_assert(sl_config_explicit(&c, "durability"));
    ck_assert(!sl_config_explicit(&c, "segment.bytes"));
    ck_assert(!sl_config_explicit(&c, "no.such.key"));
    char buf[64];
    ck_assert_int_eq(sl_config_get(&c, "retention.ms", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "1000");
    ck_assert_int_eq(sl_config_get(&c, "durability", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "async");
    ck_assert_int_eq(sl_config_get(&c, "data.dir", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "./data");
    ck_assert_int_eq(sl_config_get(&c, "no.such.key", buf, sizeof buf), SL_ECONFIG);
    ck_assert_str_eq(sl_config_default("retention.ms"), "604800000");
    ck_assert_ptr_null(sl_config_default("no.such.key"));
    sl_config_fini(&c);
    free(path);
}
END_TEST

START_TEST(flags_accept_equals_form_and_generic_set)
{
    char *path = write_file("s.properties", "node.id = 5\n");
    char config_arg[4200];
    snprintf(config_arg, sizeof config_arg, "--config=%s", path);
    const char *args[] = {config_arg, "--data-dir=/d", "--rest-port=0", "--node-id", "7", "--log-level=error",
                          "--durability", "async", "--rest-bind=127.0.0.1", "--set", "rest.threads=8",
                          "--set=segment.bytes=4096", NULL};
    struct sl_config c;
    ck_assert_msg(load(&c, args, NULL) == 0, "%s", err);
    ck_assert_str_eq(c.data_dir, "/d");
    ck_assert_int_eq(c.rest_port, 0);
    ck_assert_int_eq(c.node_id, 7);
    ck_assert_int_eq(c.log_level, SL_LEVEL_ERROR);
    ck_assert_int_eq(c.durability, SL_DURABILITY_ASYNC);
    ck_assert_str_eq(c.rest_bind, "127.0.0.1");
    ck_assert_int_eq(c.rest_threads, 8);
    ck_assert_int_eq(c.segment_bytes, 4096);
    ck_assert_str_eq(c.config_file, path);
    sl_config_fini(&c);
    free(path);
}
END_TEST

START_TEST(file_bad_number_names_file_line_and_key)
{
    char *path = write_file("bad.properties", "# header\nrest.port = 80x\n");
    const char *args[] = {"--config", path, NULL};
    struct sl_config c;
    ck_assert_int_eq(load(&c, args, NULL), SL_ECONFIG);
    char where[4200];
    snprintf(where, sizeof where, "%s:2", path);
    ASSERT_ERR_MENTIONS(where);
    ASSERT_ERR_MENTIONS("rest.port");
    ASSERT_ERR_MENTIONS("80x");
    sl_config_fini(&c);
    free(path);
}
END_TEST

START_TEST(file_unknown_key_and_missing_equals_are_errors)
{
    char *path = write_file("bad.properties", "rest.port = 1\nretention.msx = 5\n");
    const char *args[] = {"--config", path, NULL};
    struct sl_config c;
    ck_assert_int_eq(load(&c, args, NULL), SL_ECONFIG);
    ASSERT_ERR_MENTIONS(":2");
    ASSERT_ERR_MENTIONS("retention.msx");
    sl_config_fini(&c);
    free(path);

    path = write_file("bad2.properties", "just words\n");
    args[1] = path;
    ck_assert_int_eq(load(&c, args, NULL), SL_ECONFIG);
    ASSERT_ERR_MENTIONS(":1");
    sl_config_fini(&c);
    free(path);
}
END_TEST

START_TEST(missing_config_file_is_an_error_naming_it)
{
    const char *args[] = {"--config", "/nonexistent/sluice.properties", NULL};
    struct sl_config c;
    ck_assert_int_eq(load(&c, args, NULL), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("/nonexistent/sluice.properties");
    sl_config_fini(&c);
}
END_TEST

START_TEST(out_of_range_values_are_rejected)
{
    static const char *bad[][2] = {
        {"--rest-port", "65536"}, {"--ws-port", "-1"},        {"--node-id", "-1"},
        {"--set", "retention.ms=-2"}, {"--set", "segment.bytes=0"}, {"--set", "rest.threads=1"},
        {"--rest-port", "99999999999999999999"}, {"--rest-port", ""}, {"--rest-port", " 5"},
        {"--log-level", "loud"}, {"--durability", "maybe"}, {"--data-dir", ""},
        {"--set", "advertised.host=evil.example/x"}, {"--set", "advertised.host=[::1]"},
        {"--set", "advertised.host=a b"}, {"--set", "rest.header.timeout.ms=99"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[] = {bad[i][0], bad[i][1], NULL};
        struct sl_config c;
        ck_assert_msg(load(&c, args, NULL) == SL_ECONFIG, "%s %s accepted", bad[i][0], bad[i][1]);
        ASSERT_ERR_MENTIONS(bad[i][0]);
        sl_config_fini(&c);
    }
    const char *args[] = {"--rest-port", "70000", NULL};
    struct sl_config c;
    ck_assert_int_eq(load(&c, args, NULL), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("rest.port");
    ASSERT_ERR_MENTIONS("0..65535");
    sl_config_fini(&c);
}
END_TEST

START_TEST(range_edges_are_accepted)
{
    const char *args[] = {"--rest-port", "65535", "--ws-port", "0", "--node-id", "0", "--set",
                          "retention.bytes=-1", "--set", "cluster.id=", NULL};
    struct sl_config c;
    ck_assert_msg(load(&c, args, NULL) == 0, "%s", err);
    ck_assert_int_eq(c.rest_port, 65535);
    ck_assert_int_eq(c.ws_port, 0);
    ck_assert_int_eq(c.node_id, 0);
    ck_assert_ptr_null(c.cluster_id); /* empty = derive */
    sl_config_fini(&c);
}
END_TEST

START_TEST(unknown_sluice_env_is_an_error_naming_it)
{
    const char *env[] = {"HOME=/root", "SLUICE_REST_PROT=1", NULL};
    struct sl_config c;
    ck_assert_int_eq(load(&c, NULL, env), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("SLUICE_REST_PROT");
    sl_config_fini(&c);
}
END_TEST

START_TEST(env_bad_value_names_variable_and_key)
{
    const char *env[] = {"SLUICE_NODE_ID=abc", NULL};
    struct sl_config c;
    ck_assert_int_eq(load(&c, NULL, env), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("SLUICE_NODE_ID");
    ASSERT_ERR_MENTIONS("node.id");
    sl_config_fini(&c);
}
END_TEST

START_TEST(test_harness_env_is_not_config)
{
    const char *env[] = {"SLUICE_BIN=/x/sluice", "SLUICE_SOURCE_DIR=/x", "SLUICE_DATA_DIR=/env", NULL};
    struct sl_config c;
    ck_assert_msg(load(&c, NULL, env) == 0, "%s", err);
    ck_assert_str_eq(c.data_dir, "/env");
    sl_config_fini(&c);
}
END_TEST

START_TEST(unknown_flag_and_bad_arguments_are_errors)
{
    static const char *bad[][3] = {
        {"--rest-prot", "1", "--rest-prot"},
        {"positional", NULL, "positional"},
        {"--rest-port", NULL, "--rest-port"},
        {"--set", "nokey", "nokey"},
        {"--set", "no.such.key=1", "no.such.key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[] = {bad[i][0], bad[i][1], NULL};
        struct sl_config c;
        ck_assert_msg(load(&c, args, NULL) == SL_ECONFIG, "case %zu accepted", i);
        ASSERT_ERR_MENTIONS(bad[i][2]);
        sl_config_fini(&c);
    }
}
END_TEST

START_TEST(help_is_reported_and_stops_loading)
{
    /* The usage text goes to stdout; send it to /dev/null for the duration of the test. */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(null, 0);
    dup2(null, STDOUT_FILENO);
    close(null);
    const char *args[] = {"--rest-port", "1", "--help", NULL};
    struct sl_config c;
    int rc1 = load(&c, args, NULL);
    bool help1 = c.help;
    int port1 = c.rest_port; /* the first pass only finds --config and --help: nothing applied */
    sl_config_fini(&c);
    const char *args2[] = {"-h", NULL};
    int rc2 = load(&c, args2, NULL);
    bool help2 = c.help;
    sl_config_fini(&c);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    ck_assert_int_eq(rc1, 0);
    ck_assert_int_eq(rc2, 0);
    ck_assert(help1 && help2);
    ck_assert_int_ne(port1, 1);
}
END_TEST

START_TEST(set_reports_key_and_problem)
{
    struct sl_config c;
    sl_config_defaults(&c);
    ck_assert_int_eq(sl_config_set(&c, "num.partitions", "3", err, sizeof err), 0);
    ck_assert_int_eq(c.num_partitions, 3);
    ck_assert_int_eq(sl_config_set(&c, "num.partitions", "0", err, sizeof err), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("num.partitions");
    ck_assert_int_eq(c.num_partitions, 3);
    ck_assert_int_eq(sl_config_set(&c, "bogus", "1", err, sizeof err), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("bogus");
    sl_config_fini(&c);
}
END_TEST

START_TEST(usage_lists_flags_keys_env_and_defaults)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    sl_config_usage(f);
    fclose(f);
    static const char *want[] = {"--data-dir", "--rest-port", "--ws-port", "--node-id", "--log-level",
                                 "--durability", "--config", "--rest-bind", "--set", "--help",
                                 "log.retention.check.interval.ms", "SLUICE_REST_MAX_BODY_BYTES",
                                 "consumer.instance.timeout.ms", "1073741824", "cluster.id",
                                 "controller.quorum.voters", "SLUICE_CLUSTER_PORT"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(text, want[i]) != NULL, "usage lacks %s", want[i]);
    free(text);
}
END_TEST

START_TEST(cluster_keys_default_to_a_one_node_cluster)
{
    struct sl_config c;
    ck_assert_int_eq(load(&c, NULL, NULL), 0);
    ck_assert_str_eq(c.quorum_voters, "");
    ck_assert_uint_eq(c.voters.n, 0);
    ck_assert_int_eq(c.cluster_port, 9094);
    ck_assert_str_eq(sl_config_default("cluster.port"), "9094");
    ck_assert_str_eq(sl_config_default("controller.quorum.voters"), "");
    sl_config_fini(&c);
}
END_TEST

START_TEST(voters_are_parsed_from_any_source)
{
    struct sl_config c;
    char *path = write_file("s.properties", "node.id = 2\ncontroller.quorum.voters = 1@a:9093, 2@[::1]:9093\n");
    const char *args[] = {"--config", path, "--set", "cluster.port=0", NULL};
    ck_assert_int_eq(load(&c, args, NULL), 0);
    ck_assert_uint_eq(c.voters.n, 2);
    ck_assert_int_eq(c.voters.v[1].id, 2);
    ck_assert_str_eq(c.voters.v[1].host, "::1");
    ck_assert_int_eq(c.cluster_port, 0); /* 0 = ephemeral, as rest.port and ws.port */
    char buf[128];
    ck_assert_int_eq(sl_config_get(&c, "controller.quorum.voters", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "1@a:9093, 2@[::1]:9093");
    sl_config_fini(&c);

    const char *env[] = {"SLUICE_CONTROLLER_QUORUM_VOTERS=7@h:1", "SLUICE_NODE_ID=7", NULL};
    ck_assert_int_eq(load(&c, NULL, env), 0);
    ck_assert_uint_eq(c.voters.n, 1);
    ck_assert_int_eq(c.voters.v[0].id, 7);
    sl_config_fini(&c);
    free(path);
}
END_TEST

START_TEST(bad_voters_name_the_source_key_and_problem)
{
    struct sl_config c;
    const char *args[] = {"--node-id", "1", "--set", "controller.quorum.voters=1@a:1,2@b:1,2@c:1", NULL};
    ck_assert_int_eq(load(&c, args, NULL), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("flag --set");
    ASSERT_ERR_MENTIONS("controller.quorum.voters");
    ASSERT_ERR_MENTIONS("id 2 appears twice");
    sl_config_fini(&c);

    char *path = write_file("bad.properties", "controller.quorum.voters = 1@a\n");
    const char *file[] = {"--config", path, NULL};
    ck_assert_int_eq(load(&c, file, NULL), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("bad.properties:1");
    ASSERT_ERR_MENTIONS("no port");
    sl_config_fini(&c);
    free(path);

    const char *range[] = {"--set", "cluster.port=65536", NULL};
    ck_assert_int_eq(load(&c, range, NULL), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("cluster.port");
    sl_config_fini(&c);
}
END_TEST

START_TEST(a_bad_voter_list_leaves_the_previous_one)
{
    struct sl_config c;
    sl_config_defaults(&c);
    ck_assert_int_eq(sl_config_set(&c, "controller.quorum.voters", "1@a:1,2@b:1", err, sizeof err), 0);
    ck_assert_int_eq(sl_config_set(&c, "controller.quorum.voters", "1@a:1,1@b:1", err, sizeof err), SL_ECONFIG);
    ck_assert_uint_eq(c.voters.n, 2);
    ck_assert_str_eq(c.quorum_voters, "1@a:1,2@b:1");
    ck_assert_int_eq(sl_config_set(&c, "controller.quorum.voters", "", err, sizeof err), 0);
    ck_assert_uint_eq(c.voters.n, 0);
    sl_config_fini(&c);
}
END_TEST

/* The rule of config.h CLUSTER SETTINGS: voters need an explicit node.id; an id outside them is a non-voter. */
START_TEST(voters_need_an_explicit_node_id_and_allow_non_voters)
{
    struct sl_config c;
    const char *implicit[] = {"--set", "controller.quorum.voters=1@a:1,2@b:1,3@c:1", NULL};
    ck_assert_int_eq(load(&c, implicit, NULL), SL_ECONFIG);
    ASSERT_ERR_MENTIONS("node.id must be set");
    ck_assert_ptr_null(strchr(err, '\n'));
    sl_config_fini(&c);

    const char *voter[] = {"--set", "controller.quorum.voters=1@a:1,2@b:1,3@c:1", "--node-id", "1", NULL};
    ck_assert_int_eq(load(&c, voter, NULL), 0);
    ck_assert_ptr_nonnull(sl_voters_find(&c.voters, c.node_id));
    sl_config_fini(&c);

    const char *observer[] = {"--set", "controller.quorum.voters=1@a:1,2@b:1,3@c:1", "--node-id", "4", NULL};
    ck_assert_int_eq(load(&c, observer, NULL), 0);
    ck_assert_ptr_null(sl_voters_find(&c.voters, c.node_id));
    sl_config_fini(&c);

    /* without voters, node.id keeps its default: make run starts exactly as before */
    ck_assert_int_eq(load(&c, NULL, NULL), 0);
    ck_assert_int_eq(c.node_id, 1);
    sl_config_fini(&c);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_match_the_documented_values);
    tcase_add_test(tc, file_parses_comments_whitespace_and_equals_in_value);
    tcase_add_test(tc, env_overrides_file_and_flags_override_env);
    tcase_add_test(tc, explicit_keys_are_the_ones_a_source_set);
    tcase_add_test(tc, flags_accept_equals_form_and_generic_set);
    tcase_add_test(tc, file_bad_number_names_file_line_and_key);
    tcase_add_test(tc, file_unknown_key_and_missing_equals_are_errors);
    tcase_add_test(tc, missing_config_file_is_an_error_naming_it);
    tcase_add_test(tc, out_of_range_values_are_rejected);
    tcase_add_test(tc, range_edges_are_accepted);
    tcase_add_test(tc, unknown_sluice_env_is_an_error_naming_it);
    tcase_add_test(tc, env_bad_value_names_variable_and_key);
    tcase_add_test(tc, test_harness_env_is_not_config);
    tcase_add_test(tc, unknown_flag_and_bad_arguments_are_errors);
    tcase_add_test(tc, help_is_reported_and_stops_loading);
    tcase_add_test(tc, set_reports_key_and_problem);
    tcase_add_test(tc, usage_lists_flags_keys_env_and_defaults);
    tcase_add_test(tc, cluster_keys_default_to_a_one_node_cluster);
    tcase_add_test(tc, voters_are_parsed_from_any_source);
    tcase_add_test(tc, bad_voters_name_the_source_key_and_problem);
    tcase_add_test(tc, a_bad_voter_list_leaves_the_previous_one);
    tcase_add_test(tc, voters_need_an_explicit_node_id_and_allow_non_voters);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_ENV);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
