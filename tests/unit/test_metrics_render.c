/* api/http/metrics.c: the Prometheus text of GET /metrics from the counters -- per route and status, the
 * latency histogram (cumulative buckets, +Inf, sum, count), unmatched requests, unknown statuses as "other",
 * per-topic record and byte counters, a fresh registry starting empty, new route tables restarting only the
 * route counters, and two registries in one process counting independently. Rendered without a broker (api
 * NULL or empty): the broker's families are the integration tests' (test_metrics_promtool and friends). */
#include <check.h>
#include <string.h>

#include "api/http/http.h"
#include "api/http/metrics.h"
#include "api/http/router.h"
#include "storage/types.h"
#include "tests/support/testutil.h"

static void h_any(struct sl_req *req)
{
    (void)req;
}

static struct sl_router *r;
static struct sl_metrics *m;
static struct sl_buf out;

static void setup(void)
{
    ck_assert_int_eq(sl_router_new(&r), 0);
    sl_router_add(r, "GET", "/a", h_any);
    sl_router_add(r, "POST", "/topics/{t}", h_any);
    ck_assert_int_eq(sl_metrics_new(&m), 0);
    ck_assert_int_eq(sl_metrics_set_routes(m, r), 0);
    out = (struct sl_buf){0};
}

static void teardown(void)
{
    sl_metrics_free(m);
    sl_router_free(r);
    sl_buf_fini(&out);
}

/* The text of mm rendered with api (may be NULL), NUL-terminated; valid until the next render. */
static const char *render_of(struct sl_metrics *mm, struct sl_api *api)
{
    out.len = 0;
    ck_assert_int_eq(sl_metrics_render(mm, api, &out), 0);
    ck_assert_int_eq(sl_buf_append(&out, "", 1), 0);
    return (const char *)out.base;
}

static const char *render(void)
{
    return render_of(m, NULL);
}

#define HAS(text, line) ck_assert_msg(strstr(text, line "\n") != NULL, "missing line: %s", line)

START_TEST(requests_count_per_route_method_and_status)
{
    sl_metrics_request(m, 0, 200, 300);
    sl_metrics_request(m, 0, 200, 3000);
    sl_metrics_request(m, 1, 404, 100);
    sl_metrics_request(m, -1, 404, 100);
    sl_metrics_request(m, 1, 599, 100); /* not in the status list */
    const char *t = render();
    HAS(t, "# TYPE sluice_http_requests_total counter");
    HAS(t, "sluice_http_requests_total{route=\"/a\",method=\"GET\",code=\"200\"} 2");
    HAS(t, "sluice_http_requests_total{route=\"/topics/{t}\",method=\"POST\",code=\"404\"} 1");
    HAS(t, "sluice_http_requests_total{route=\"/topics/{t}\",method=\"POST\",code=\"other\"} 1");
    HAS(t, "sluice_http_requests_total{route=\"unmatched\",method=\"\",code=\"404\"} 1");
    ck_assert_ptr_null(strstr(t, "route=\"/a\",method=\"GET\",code=\"404\""));
}
END_TEST

START_TEST(latency_buckets_are_cumulative_with_inf_sum_and_count)
{
    sl_metrics_request(m, 0, 200, 300);  /* 0.3 ms: first in le=0.0005 */
    sl_metrics_request(m, 0, 200, 3000); /* 3 ms: first in le=0.005 */
    const char *t = render();
    HAS(t, "# TYPE sluice_http_request_duration_seconds histogram");
    HAS(t, "sluice_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.00025\"} 0");
    HAS(t, "sluice_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.0005\"} 1");
    HAS(t, "sluice_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.0025\"} 1");
    HAS(t, "sluice_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.005\"} 2");
    HAS(t, "sluice_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"+Inf\"} 2");
    HAS(t, "sluice_http_request_duration_seconds_sum{route=\"/a\",method=\"GET\"} 0.003300");
    HAS(t, "sluice_http_request_duration_seconds_count{route=\"/a\",method=\"GET\"} 2");
    /* a route with no request has no histogram */
    ck_assert_ptr_null(strstr(t, "duration_seconds_count{route=\"/topics/{t}\""));
}
END_TEST

START_TEST(topic_counters_add_up_and_a_new_registry_starts_empty)
{
    sl_metrics_records_in(m, "t1", 5, 500);
    sl_metrics_records_in(m, "t1", 2, 20);
    sl_metrics_records_out(m, "t1", 3, 30);
    sl_metrics_records_in(m, "t2", 1, 10);
    const char *t = render();
    HAS(t, "sluice_topic_records_in_total{topic=\"t1\"} 7");
    HAS(t, "sluice_topic_bytes_in_total{topic=\"t1\"} 520");
    HAS(t, "sluice_topic_records_out_total{topic=\"t1\"} 3");
    HAS(t, "sluice_topic_bytes_out_total{topic=\"t1\"} 30");
    HAS(t, "sluice_topic_records_in_total{topic=\"t2\"} 1");
    sl_metrics_free(m);
    ck_assert_int_eq(sl_metrics_new(&m), 0);
    ck_assert_int_eq(sl_metrics_set_routes(m, r), 0);
    t = render();
    ck_assert_ptr_null(strstr(t, "topic=\"t1\""));
    ck_assert_ptr_null(strstr(t, "sluice_http_requests_total{"));
}
END_TEST

START_TEST(new_route_tables_restart_route_counters_only)
{
    sl_metrics_request(m, 0, 200, 300);
    sl_metrics_records_in(m, "t1", 5, 500);
    sl_metrics_connection(m, 1);
    ck_assert_int_eq(sl_metrics_set_routes(m, r), 0); /* a REST server restarting in the same process */
    const char *t = render();
    ck_assert_ptr_null(strstr(t, "sluice_http_requests_total{"));
    HAS(t, "sluice_topic_records_in_total{topic=\"t1\"} 5");
    HAS(t, "sluice_http_open_connections 1");
}
END_TEST

/* The lag source of the test below: one sample. */
static void lag_one(struct sl_api *api, sl_metrics_lag_emit_fn emit, void *ctx)
{
    (void)api;
    emit(ctx, "g1", "t1", 0, 7);
}

START_TEST(two_registries_in_one_process_count_independently)
{
    struct sl_metrics *m2;
    ck_assert_int_eq(sl_metrics_new(&m2), 0);
    ck_assert_int_eq(sl_metrics_set_routes(m2, r), 0);
    struct sl_api api; /* no broker: only the lag source's argument */
    memset(&api, 0, sizeof api);
    sl_metrics_request(m, 0, 200, 300);
    sl_metrics_request(m, -1, 404, 100);
    sl_metrics_connection(m, 1);
    sl_metrics_records_in(m, "t1", 5, 500);
    sl_metrics_records_out(m, "t1", 3, 30);
    sl_metrics_set_lag_source(m, lag_one);
    sl_metrics_request(m2, 1, 201, 100);
    sl_metrics_records_in(m2, "t2", 1, 10);

    const char *t = render_of(m2, &api);
    HAS(t, "sluice_http_requests_total{route=\"/topics/{t}\",method=\"POST\",code=\"201\"} 1");
    HAS(t, "sluice_topic_records_in_total{topic=\"t2\"} 1");
    HAS(t, "sluice_http_open_connections 0");
    ck_assert_ptr_null(strstr(t, "route=\"/a\""));
    ck_assert_ptr_null(strstr(t, "route=\"unmatched\""));
    ck_assert_ptr_null(strstr(t, "topic=\"t1\""));
    ck_assert_ptr_null(strstr(t, "sluice_consumer_lag{"));

    t = render_of(m, &api);
    HAS(t, "sluice_http_requests_total{route=\"/a\",method=\"GET\",code=\"200\"} 1");
    HAS(t, "sluice_http_requests_total{route=\"unmatched\",method=\"\",code=\"404\"} 1");
    HAS(t, "sluice_http_open_connections 1");
    HAS(t, "sluice_topic_records_in_total{topic=\"t1\"} 5");
    HAS(t, "sluice_topic_records_out_total{topic=\"t1\"} 3");
    HAS(t, "sluice_consumer_lag{group=\"g1\",topic=\"t1\",partition=\"0\"} 7");
    ck_assert_ptr_null(strstr(t, "code=\"201\""));
    ck_assert_ptr_null(strstr(t, "topic=\"t2\""));
    sl_metrics_free(m2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, requests_count_per_route_method_and_status);
    tcase_add_test(tc, latency_buckets_are_cumulative_with_inf_sum_and_count);
    tcase_add_test(tc, topic_counters_add_up_and_a_new_registry_starts_empty);
    tcase_add_test(tc, new_route_tables_restart_route_counters_only);
    tcase_add_test(tc, two_registries_in_one_process_count_independently);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
