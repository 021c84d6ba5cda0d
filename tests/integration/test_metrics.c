/* GET /metrics against the real binary: the standard process_* families (HELP, TYPE, plausible values), and
 * the whole exposition -- with a topic, produced and consumed records and a consumer group so that the
 * labelled families have samples -- accepted by `promtool check metrics` (Debian package prometheus, in the
 * Makefile's TEST_PKGS); and README's Metrics table names every family. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define V2 "application/vnd.kafka.v2+json"
#define JSN "application/vnd.kafka.json.v2+json"

static struct sl_proc proc;

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

static char *scrape(void)
{
    char url[256];
    struct sl_resp r;
    snprintf(url, sizeof url, "%s/metrics", proc.base);
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, NULL, &r), 200);
    char *body = strdup(r.body);
    sl_resp_fini(&r);
    return body;
}

/* The value of the unlabelled sample 'name' in text, after checking its HELP and TYPE lines. */
static double sample(const char *text, const char *name, const char *type)
{
    char want[256];
    snprintf(want, sizeof want, "# HELP %s ", name);
    ck_assert_msg(strstr(text, want), "no HELP line for %s in /metrics", name);
    snprintf(want, sizeof want, "# TYPE %s %s\n", name, type);
    ck_assert_msg(strstr(text, want), "no \"# TYPE %s %s\" in /metrics", name, type);
    snprintf(want, sizeof want, "\n%s ", name);
    const char *p = strstr(text, want);
    ck_assert_msg(p, "no sample of %s in /metrics", name);
    return strtod(p + strlen(want), NULL);
}

START_TEST(process_families_are_exported_with_plausible_values)
{
    char *m = scrape();
    double now = (double)time(NULL);
    double cpu = sample(m, "process_cpu_seconds_total", "counter");
    double rss = sample(m, "process_resident_memory_bytes", "gauge");
    double vsz = sample(m, "process_virtual_memory_bytes", "gauge");
    double fds = sample(m, "process_open_fds", "gauge");
    double max = sample(m, "process_max_fds", "gauge");
    double start = sample(m, "process_start_time_seconds", "gauge");
    ck_assert_msg(cpu >= 0 && cpu < 3600, "process_cpu_seconds_total %g", cpu);
    ck_assert_msg(rss > 1e6 && vsz >= rss, "resident %g, virtual %g", rss, vsz);
    ck_assert_msg(fds >= 3 && fds < max, "open fds %g, max %g", fds, max); /* stdio + the listening sockets */
    ck_assert_msg(start > now - 600 && start <= now + 2, "start time %.2f, now %.0f", start, now);
    free(m);
}
END_TEST

static void traffic(void)
{
    char *cid = sl_proc_cluster_id(&proc), path[256], url[512];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"m\",\"partitions_count\":2}", NULL), 201);
    free(cid);
    struct sl_resp r;
    snprintf(url, sizeof url, "%s/topics/m", proc.base);
    ck_assert_int_eq(sl_http_req("POST", url, JSN, "{\"records\":[{\"value\":1},{\"value\":2}]}", (size_t)-1, NULL, &r), 200);
    sl_resp_fini(&r);
    snprintf(url, sizeof url, "%s/consumers/mg", proc.base);
    ck_assert_int_eq(sl_http_req("POST", url, V2, "{\"name\":\"c\",\"format\":\"json\",\"auto.offset.reset\":\"earliest\"}",
                                 (size_t)-1, NULL, &r), 200);
    sl_resp_fini(&r);
    snprintf(url, sizeof url, "%s/consumers/mg/instances/c/subscription", proc.base);
    ck_assert_int_eq(sl_http_req("POST", url, V2, "{\"topics\":[\"m\"]}", (size_t)-1, NULL, &r), 204);
    sl_resp_fini(&r);
    snprintf(url, sizeof url, "%s/consumers/mg/instances/c/records?timeout=500", proc.base);
    const char *acc[] = {"Accept: " JSN, NULL};
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, acc, &r), 200);
    sl_resp_fini(&r);
}

START_TEST(exposition_passes_promtool_check_metrics)
{
    traffic();
    char *m = scrape();
    char *dir = sl_test_tmpdir(), *file = sl_test_path(dir, "metrics.txt"), cmd[1024];
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs(m, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s' 2>&1", file);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(!(WIFEXITED(st) && WEXITSTATUS(st) == 127),
                  "promtool not found: `make deps-test` installs it (Debian package prometheus)");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "promtool check metrics failed:\n%s", out);
    ck_assert_msg(strstr(m, "sluice_topic_records_in_total{topic=\"m\"} 2"), "the produced records are not counted");
    sl_test_rmrf(dir);
    free(file);
    free(dir);
    free(m);
}
END_TEST

/* README's Metrics table names every family /metrics exports. */
START_TEST(readme_lists_every_exported_family)
{
    traffic();
    char *m = scrape(), *path = sl_test_path(getenv("SLUICE_SOURCE_DIR"), "README.md");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "cannot open %s", path);
    static char readme[1 << 18];
    readme[fread(readme, 1, sizeof readme - 1, f)] = '\0';
    fclose(f);
    char missing[4096] = "";
    for (const char *p = m; (p = strstr(p, "# TYPE ")); p++) {
        char name[128], want[140];
        if (sscanf(p, "# TYPE %127s", name) != 1)
            continue;
        snprintf(want, sizeof want, "| `%s` |", name);
        if (!strstr(readme, want) && strlen(missing) + strlen(name) + 2 < sizeof missing)
            strcat(strcat(missing, " "), name);
    }
    ck_assert_msg(!missing[0], "README.md's Metrics table lacks:%s", missing);
    free(path);
    free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, process_families_are_exported_with_plausible_values);
    tcase_add_test(tc, exposition_passes_promtool_check_metrics);
    tcase_add_test(tc, readme_lists_every_exported_family);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
