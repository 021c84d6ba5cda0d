/* The REST operations endpoints and the HTTP core against the real binary: /healthy, /ready, /v1/info,
 * /metrics, /openapi.yaml, CORS (preflight, headers on errors), 404/405 JSON, body limits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    static const char *const extra[] = {"--log-level", "info", NULL};
    setenv("SLUICE_CORS_ALLOWED_ORIGINS", "http://good.example, http://also.example", 1);
    setenv("SLUICE_REST_MAX_BODY_BYTES", "4096", 1);
    sl_proc_start(&proc, NULL, extra);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

static long get(const char *path, struct sl_resp *r, const char *const *hdrs)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", proc.base, path);
    return sl_http_req("GET", url, NULL, NULL, 0, hdrs, r);
}

static void assert_error(const struct sl_resp *r, long status, int code)
{
    ck_assert_int_eq(r->status, status);
    json_t *j = sl_resp_json(r);
    ck_assert_msg(j && json_is_object(j), "not a JSON error body: %s", r->body);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), code);
    ck_assert(json_is_string(json_object_get(j, "message")));
    json_decref(j);
}

START_TEST(healthy_and_ready_answer_200)
{
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/ready", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "ready");
    json_decref(j);
}
END_TEST

START_TEST(info_reports_version_ids_and_ports)
{
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/v1/info", NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "version")), SLUICE_VERSION);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "node_id")), 1);
    ck_assert(json_string_length(json_object_get(j, "cluster_id")) > 0);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "rest_port")), proc.rest_port);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "ws_port")), proc.ws_port);
    json_decref(j);
}
END_TEST

START_TEST(metrics_has_the_expected_families)
{
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, &j), 200);
    json_decref(j);
    /* A request is counted when libmicrohttpd reports it complete, just after its reply went out: wait for
     * the /healthy above to show up (deadline) rather than racing it. */
    struct sl_resp r;
    const char *healthy = "sluice_http_requests_total{route=\"/healthy\",method=\"GET\",code=\"200\"} 1";
    for (int64_t end = sl_test_mono_ms() + 5000;;) {
        ck_assert_int_eq(get("/metrics", &r, NULL), 200);
        if (strstr(r.body, healthy) || sl_test_mono_ms() > end)
            break;
        sl_resp_fini(&r);
        usleep(10000);
    }
    char ct[128];
    ck_assert_ptr_nonnull(sl_resp_header(&r, "Content-Type", ct, sizeof ct));
    ck_assert_ptr_nonnull(strstr(ct, "text/plain"));
    static const char *const fams[] = {
        "# TYPE sluice_http_requests_total counter",
        "sluice_http_requests_total{route=\"/healthy\",method=\"GET\",code=\"200\"} 1",
        "# TYPE sluice_http_request_duration_seconds histogram",
        "sluice_http_request_duration_seconds_bucket{route=\"/healthy\",method=\"GET\",le=\"+Inf\"} 1",
        "sluice_http_open_connections ",
        "# TYPE sluice_topic_records_in_total counter",
        "# TYPE sluice_topic_bytes_out_total counter",
        "# TYPE sluice_fsync_duration_seconds histogram",
        "sluice_fsync_duration_seconds_count ",
        "# TYPE sluice_consumer_lag gauge",
        "sluice_uptime_seconds ",
        "process_start_time_seconds ",
    };
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++)
        ck_assert_msg(strstr(r.body, fams[i]), "missing '%s' in:\n%s", fams[i], r.body);
    sl_resp_fini(&r);
}
END_TEST

START_TEST(openapi_document_is_served)
{
    struct sl_resp r;
    ck_assert_int_eq(get("/openapi.yaml", &r, NULL), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "openapi: 3.1"));
    ck_assert_ptr_nonnull(strstr(r.body, "/v3/clusters/{cluster_id}/topics:"));
    char ct[128];
    ck_assert_str_eq(sl_resp_header(&r, "Content-Type", ct, sizeof ct), "application/yaml");
    sl_resp_fini(&r);
}
END_TEST

START_TEST(unknown_path_is_404_json_and_wrong_method_405)
{
    struct sl_resp r;
    get("/no/such/thing", &r, NULL);
    assert_error(&r, 404, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "HTTP 404 Not Found"));
    sl_resp_fini(&r);

    char url[512], allow[64];
    snprintf(url, sizeof url, "%s/healthy", proc.base);
    sl_http_req("DELETE", url, NULL, NULL, 0, NULL, &r);
    assert_error(&r, 405, 405);
    ck_assert_str_eq(sl_resp_header(&r, "Allow", allow, sizeof allow), "GET, HEAD");
    sl_resp_fini(&r);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
}
END_TEST

START_TEST(cors_preflight_allowed_origin_gets_allow_headers)
{
    char url[512], v[256];
    snprintf(url, sizeof url, "%s/v3/clusters", proc.base);
    static const char *const hdrs[] = {"Origin: http://good.example", "Access-Control-Request-Method: POST",
                                       "Access-Control-Request-Headers: content-type", NULL};
    struct sl_resp r;
    ck_assert_int_eq(sl_http_req("OPTIONS", url, NULL, NULL, 0, hdrs, &r), 204);
    ck_assert_str_eq(sl_resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "http://good.example");
    ck_assert_ptr_nonnull(strstr(sl_resp_header(&r, "Access-Control-Allow-Methods", v, sizeof v), "POST"));
    ck_assert_str_eq(sl_resp_header(&r, "Access-Control-Allow-Headers", v, sizeof v), "content-type");
    sl_resp_fini(&r);
}
END_TEST

START_TEST(cors_disallowed_origin_gets_no_headers)
{
    static const char *const hdrs[] = {"Origin: http://evil.example", "Access-Control-Request-Method: POST", NULL};
    char url[512], v[256];
    snprintf(url, sizeof url, "%s/v3/clusters", proc.base);
    struct sl_resp r;
    ck_assert_int_eq(sl_http_req("OPTIONS", url, NULL, NULL, 0, hdrs, &r), 204);
    ck_assert_ptr_null(sl_resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v));
    sl_resp_fini(&r);
    get("/healthy", &r, hdrs);
    ck_assert_ptr_null(sl_resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v));
    sl_resp_fini(&r);
}
END_TEST

START_TEST(cors_header_on_success_and_on_errors)
{
    static const char *const hdrs[] = {"Origin: http://also.example", NULL};
    struct sl_resp r;
    char v[256];
    ck_assert_int_eq(get("/healthy", &r, hdrs), 200);
    ck_assert_str_eq(sl_resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "http://also.example");
    sl_resp_fini(&r);
    ck_assert_int_eq(get("/nope", &r, hdrs), 404);
    ck_assert_str_eq(sl_resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "http://also.example");
    sl_resp_fini(&r);
    ck_assert_int_eq(get("/topics/missing", &r, hdrs), 404);
    ck_assert_str_eq(sl_resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "http://also.example");
    sl_resp_fini(&r);
}
END_TEST

START_TEST(body_over_the_limit_is_413_and_server_goes_on)
{
    char *cid = sl_proc_cluster_id(&proc);
    char url[512];
    snprintf(url, sizeof url, "%s/v3/clusters/%s/topics", proc.base, cid);
    size_t n = 10000;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    struct sl_resp r;
    sl_http_req("POST", url, "application/json", big, n, NULL, &r);
    assert_error(&r, 413, 413);
    sl_resp_fini(&r);
    /* chunked: no Content-Length, the limit hits while reading */
    static const char *const chunked[] = {"Transfer-Encoding: chunked", NULL};
    sl_http_req("POST", url, "application/json", big, n, chunked, &r);
    assert_error(&r, 413, 413);
    sl_resp_fini(&r);
    free(big);
    free(cid);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
}
END_TEST

START_TEST(stops_cleanly_on_sigterm)
{
    sl_proc_stop(&proc);
    char *s = sl_proc_stderr(&proc);
    ck_assert_ptr_nonnull(strstr(s, "stopped cleanly"));
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_ops");
    TCase *tc = tcase_create("ops");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, healthy_and_ready_answer_200);
    tcase_add_test(tc, info_reports_version_ids_and_ports);
    tcase_add_test(tc, metrics_has_the_expected_families);
    tcase_add_test(tc, openapi_document_is_served);
    tcase_add_test(tc, unknown_path_is_404_json_and_wrong_method_405);
    tcase_add_test(tc, cors_preflight_allowed_origin_gets_allow_headers);
    tcase_add_test(tc, cors_disallowed_origin_gets_no_headers);
    tcase_add_test(tc, cors_header_on_success_and_on_errors);
    tcase_add_test(tc, body_over_the_limit_is_413_and_server_goes_on);
    tcase_add_test(tc, stops_cleanly_on_sigterm);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
