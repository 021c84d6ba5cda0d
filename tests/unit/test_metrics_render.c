/* api/http/metrics.c: the Prometheus text of GET /metrics from the counters -- per route and status, the
 * latency histogram (cumulative buckets, +Inf, sum, count), unmatched requests, unknown statuses as "other",
 * per-topic record and byte counters, and a reset by sl_metrics_fini. Rendered without a broker (api NULL):
 * the broker's families are the integration tests' (test_metrics_promtool and friends). */
#include <check.h>
#include <string.h>

#include "api/http/metrics.h"
#include "api/http/router.h"
#include "storage/types.h"
#include "tests/support/testutil.h"

static void h_any(struct sl_req *req)
{
    (void)req;
}

static struct sl_router *r;
static struct sl_buf out;

static void setup(void)
{
    ck_assert_int_eq(sl_router_new(&r), 0);
    sl_router_add(r, "GET", "/a", h_any);
    sl_router_add(r, "POST", "/topics/{t}", h_any);
    ck_assert_int_eq(sl_metrics_init(r), 0);
    out = (struct sl_buf){0};
}

static void teardown(void)
{
    sl_metrics_fini();
    sl_router_free(r);
    sl_buf_fini(&out);
}

/* The rendered text, NUL-terminated. */
static const char *render(void)
{
    out.len = 0;
    ck_assert_int_eq(sl_metrics_render(NULL, &out), 0);
    ck_assert_int_eq(sl_buf_append(&out, "", 1), 0);
    return (const char *)out.base;
}

#define HAS(text, line) ck_assert_msg(strstr(text, line "\n") != NULL, "missing line: %s", line)

START_TEST(requests_count_per_route_method_and_status)
{
    sl_metrics_request(0, 200, 300);
    sl_metrics_request(0, 200, 3000);
    sl_metrics_request(1, 404, 100);
    sl_metrics_request(-1, 404, 100);
    sl_metrics_request(1, 599, 100); /* not in the status list */
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
    sl_metrics_request(0, 200, 300);  /* 0.3 ms: first in le=0.0005 */
    sl_metrics_request(0, 200, 3000); /* 3 ms: first in le=0.005 */
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

START_TEST(topic_counters_add_up_and_fini_resets_them)
{
    sl_metrics_records_in("t1", 5, 500);
    sl_metrics_records_in("t1", 2, 20);
    sl_metrics_records_out("t1", 3, 30);
    sl_metrics_records_in("t2", 1, 10);
    const char *t = render();
    HAS(t, "sluice_topic_records_in_total{topic=\"t1\"} 7");
    HAS(t, "sluice_topic_bytes_in_total{topic=\"t1\"} 520");
    HAS(t, "sluice_topic_records_out_total{topic=\"t1\"} 3");
    HAS(t, "sluice_topic_bytes_out_total{topic=\"t1\"} 30");
    HAS(t, "sluice_topic_records_in_total{topic=\"t2\"} 1");
    sl_metrics_fini();
    ck_assert_int_eq(sl_metrics_init(r), 0);
    t = render();
    ck_assert_ptr_null(strstr(t, "topic=\"t1\""));
    ck_assert_ptr_null(strstr(t, "sluice_http_requests_total{"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, requests_count_per_route_method_and_status);
    tcase_add_test(tc, latency_buckets_are_cumulative_with_inf_sum_and_count);
    tcase_add_test(tc, topic_counters_add_up_and_fini_resets_them);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
