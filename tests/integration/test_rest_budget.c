/* Request bodies are charged to the buffer budget (buffer.memory.max.bytes = 1 MiB here, api/common/budget.h):
 * parallel slow large uploads -- a second Content-Length body that does not fit is refused 503/50301 at
 * once, a chunked one when its buffer outgrows what is left, a v3 stream whose record outgrows it gets a
 * 50301 report -- while the first upload completes, the server keeps serving, and the budget is back to 0
 * (sluice_buffer_memory_bytes) once the requests ended. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/rawhttp.h"
#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

static struct sl_proc proc;
static char *cid;

static void setup(void)
{
    static const char *const extra[] = {"--set", "buffer.memory.max.bytes=1048576", NULL};
    sl_proc_start(&proc, NULL, extra);
    cid = sl_proc_cluster_id(&proc);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"t\",\"partitions_count\":1}", NULL), 201);
}

static void teardown(void)
{
    sl_proc_free(&proc);
    free(cid);
}

/* A v2 produce body of exactly n bytes: one record, padded with JSON whitespace. malloc'd. */
static char *padded_body(size_t n)
{
    static const char rec[] = "{\"records\":[{\"value\":\"big\"}]}";
    char *b = malloc(n + 1);
    memcpy(b, rec, sizeof rec - 1);
    memset(b + sizeof rec - 1, ' ', n - (sizeof rec - 1));
    b[n] = '\0';
    return b;
}

static char *metrics(void)
{
    char url[128], *m = NULL;
    long st = 0;
    snprintf(url, sizeof url, "%s/metrics", proc.base);
    sl_http("GET", url, NULL, NULL, &st, &m);
    ck_assert_int_eq(st, 200);
    return m;
}

static bool budget_is_zero(void *arg)
{
    char *m = metrics();
    bool zero = strstr(m, "\nsluice_buffer_memory_bytes 0\n") != NULL;
    free(m);
    return zero;
}

static const char V2_HEAD[] = "POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.json.v2+json\r\n";

START_TEST(parallel_large_uploads_past_the_budget_are_refused_503)
{
    enum { LEN = 600000 };
    char *body = padded_body(LEN);
    char head[512];
    snprintf(head, sizeof head, "%sContent-Length: %d\r\n\r\n", V2_HEAD, LEN);
    struct sl_raw a, b, c;
    sl_raw_open(&a, proc.rest_port); /* slow: half of its body, the rest later */
    ck_assert(sl_raw_send(&a, head));
    char save = body[LEN / 2];
    body[LEN / 2] = '\0';
    ck_assert(sl_raw_send(&a, body));
    body[LEN / 2] = save;
    ck_assert(!sl_raw_wait(&a, "HTTP/1.1", 300));

    sl_raw_open(&b, proc.rest_port); /* does not fit beside a: refused before its body */
    ck_assert(sl_raw_send(&b, head));
    ck_assert_msg(sl_raw_wait(&b, "\"error_code\":50301", 3000), "got: %s", b.buf);
    ck_assert_ptr_nonnull(strstr(b.buf, "HTTP/1.1 503"));
    sl_raw_close(&b);

    sl_raw_open(&c, proc.rest_port); /* chunked: refused when its buffer outgrows the rest */
    char chead[512];
    snprintf(chead, sizeof chead, "%sTransfer-Encoding: chunked\r\n\r\n", V2_HEAD);
    ck_assert(sl_raw_send(&c, chead));
    char *piece = padded_body(100000);
    for (int i = 0; i < 7; i++)
        ck_assert(sl_raw_chunk(&c, i ? piece + 40 : piece));
    ck_assert(sl_raw_send(&c, "0\r\n\r\n"));
    ck_assert_msg(sl_raw_wait(&c, "\"error_code\":50301", 5000), "got: %s", c.buf);
    ck_assert_ptr_nonnull(strstr(c.buf, "HTTP/1.1 503"));
    sl_raw_close(&c);
    free(piece);

    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
    ck_assert(sl_raw_send(&a, body + LEN / 2)); /* a completes */
    ck_assert_msg(sl_raw_wait(&a, "\"offsets\"", 5000), "got: %s", a.buf);
    ck_assert_ptr_nonnull(strstr(a.buf, "HTTP/1.1 200"));
    sl_raw_close(&a);
    free(body);

    ck_assert(sl_test_wait_until(budget_is_zero, NULL, 5000));
    char *m = metrics();
    unsigned long refusals = 0;
    const char *r = strstr(m, "\nsluice_buffer_memory_refusals_total ");
    ck_assert_ptr_nonnull(r);
    sscanf(r, "\nsluice_buffer_memory_refusals_total %lu", &refusals);
    ck_assert_uint_ge(refusals, 2);
    free(m);
}
END_TEST

START_TEST(a_v3_stream_record_past_the_budget_gets_a_50301_report)
{
    struct sl_raw s;
    sl_raw_open(&s, proc.rest_port);
    char head[512];
    snprintf(head, sizeof head,
             "POST /v3/clusters/%s/topics/t/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",
             cid);
    ck_assert(sl_raw_send(&s, head));
    ck_assert(sl_raw_chunk(&s, "{\"value\":{\"type\":\"STRING\",\"data\":\"small\"}}"));
    ck_assert(sl_raw_wait(&s, "\"offset\":0", 5000));
    ck_assert(sl_raw_chunk(&s, "{\"value\":{\"type\":\"STRING\",\"data\":\""));
    static char piece[7001];
    memset(piece, 'a', sizeof piece - 1);
    for (int i = 0; i < 200 && !strstr(s.buf, "50301"); i++) { /* 1.4 MB of one unfinished record */
        if (!sl_raw_chunk(&s, piece))
            break;
        sl_raw_wait(&s, "50301", 5);
    }
    ck_assert_msg(sl_raw_wait(&s, "\"error_code\":50301", 5000), "got: %s", s.buf);
    sl_raw_close(&s);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
    ck_assert(sl_test_wait_until(budget_is_zero, NULL, 5000));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_budget");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parallel_large_uploads_past_the_budget_are_refused_503);
    tcase_add_test(tc, a_v3_stream_record_past_the_budget_gets_a_50301_report);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
