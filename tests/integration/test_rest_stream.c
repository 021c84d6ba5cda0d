/* Streaming v3 produce against the real binary, over a raw socket (a client that waits for each delivery
 * report before it sends the next record: what libcurl cannot express): reports arrive while the upload is
 * open, in order; 100-continue; every request-level error; broken framing; a client that vanishes; a
 * chunked produce on a kept-alive connection (libmicrohttpd: reports after the upload); a stop mid-stream;
 * silent connections (no head yet) beside working ones; a burst of new connections. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

static struct sl_proc proc;
static char *cid;

struct raw {
    int fd;
    char buf[1 << 16];
    size_t len;
    bool eof;
};

static void raw_open(struct raw *c)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(proc.rest_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
}

static void raw_send(struct raw *c, const char *s)
{
    size_t n = strlen(s);
    ck_assert_int_eq(send(c->fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void raw_chunk(struct raw *c, const char *data)
{
    char b[4096];
    snprintf(b, sizeof b, "%zx\r\n%s\r\n", strlen(data), data);
    raw_send(c, b);
}

/* Reads until needle is in what was received (true), EOF or timeout_ms (false). */
static bool raw_wait(struct raw *c, const char *needle, int timeout_ms)
{
    for (int waited = 0; !(needle && strstr(c->buf, needle)); waited += 50) {
        if (c->eof || waited >= timeout_ms)
            return false;
        struct pollfd pf = {c->fd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
        if (r <= 0)
            c->eof = true;
        else
            c->buf[c->len += (size_t)r] = '\0';
    }
    return true;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void raw_head(struct raw *c, const char *topic, const char *ctype, const char *extra)
{
    char h[1024];
    snprintf(h, sizeof h,
             "POST /v3/clusters/%s/topics/%s/records HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
             "Transfer-Encoding: chunked\r\n%s\r\n",
             cid, topic, ctype, extra ? extra : "");
    raw_send(c, h);
}

static long end_offset(int partition)
{
    char path[128];
    json_t *j;
    snprintf(path, sizeof path, "/topics/t/partitions/%d/offsets", partition);
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, NULL, &j), 200);
    long v = (long)json_integer_value(json_object_get(j, "end_offset"));
    json_decref(j);
    return v;
}

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
    cid = sl_proc_cluster_id(&proc);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"t\",\"partitions_count\":2}", NULL), 201);
}

static void teardown(void)
{
    sl_proc_free(&proc);
    free(cid);
}

#define REC(p, v) "{\"partition_id\":" #p ",\"value\":{\"type\":\"STRING\",\"data\":\"" v "\"}}"

START_TEST(each_report_arrives_before_the_next_record_is_sent)
{
    struct raw c;
    raw_open(&c);
    raw_head(&c, "t", "application/json", NULL);
    raw_chunk(&c, REC(1, "a"));
    ck_assert_msg(raw_wait(&c, "\"offset\":0", 5000), "no report while the upload is open: %s", c.buf);
    ck_assert_ptr_nonnull(strstr(c.buf, "HTTP/1.1 200"));
    ck_assert_ptr_nonnull(strstr(c.buf, "Transfer-Encoding: chunked"));
    /* the second record split over three chunks, with its separator */
    raw_chunk(&c, "\n{\"partition_id\":1,");
    raw_chunk(&c, "\"value\":{\"type\":\"STRING\",");
    ck_assert(!raw_wait(&c, "\"offset\":1", 300)); /* incomplete: nothing to report yet */
    raw_chunk(&c, "\"data\":\"b\"}}");
    ck_assert_msg(raw_wait(&c, "\"offset\":1", 5000), "%s", c.buf);
    raw_chunk(&c, REC(7, "bad partition") REC(1, "c"));
    ck_assert(raw_wait(&c, "\"offset\":2", 5000));
    ck_assert_int_eq(count(c.buf, "\"error_code\":404"), 1); /* its own report, in order */
    ck_assert_ptr_nonnull(strstr(c.buf, "\"error_code\":404"));
    ck_assert(strstr(c.buf, "\"error_code\":404") < strstr(c.buf, "\"offset\":2"));
    raw_send(&c, "0\r\n\r\n");
    ck_assert(!raw_wait(&c, NULL, 5000)); /* the server closes */
    ck_assert(c.eof);
    ck_assert_int_eq(count(c.buf, "\"error_code\":200"), 3);
    ck_assert_int_eq((int)(c.len >= 5 ? memcmp(c.buf + c.len - 5, "0\r\n\r\n", 5) : 1), 0);
    close(c.fd);
    ck_assert_int_eq(end_offset(1), 3);
}
END_TEST

START_TEST(expect_100_continue_and_an_empty_body)
{
    struct raw c;
    raw_open(&c);
    raw_head(&c, "t", "application/vnd.kafka.json.v2+json", "Expect: 100-continue\r\n");
    ck_assert(raw_wait(&c, "HTTP/1.1 100 Continue\r\n\r\n", 5000));
    raw_send(&c, "0\r\n\r\n");
    raw_wait(&c, NULL, 5000);
    ck_assert_ptr_nonnull(strstr(c.buf, "HTTP/1.1 400"));
    ck_assert_ptr_nonnull(strstr(c.buf, "{\"error_code\":400,\"message\":\"Payload error. Request body is empty."));
    close(c.fd);
}
END_TEST

/* Sends a head and one record; expects a complete error response (status, code) and a close. */
static void expect_refused(const char *topic, const char *ctype, const char *status_line, const char *code)
{
    struct raw c;
    raw_open(&c);
    raw_head(&c, topic, ctype, NULL);
    raw_chunk(&c, REC(0, "x"));
    raw_wait(&c, NULL, 5000);
    ck_assert_msg(c.eof, "not closed: %s", c.buf);
    ck_assert_msg(strstr(c.buf, status_line) == c.buf, "%s", c.buf);
    ck_assert_msg(strstr(c.buf, code), "%s", c.buf);
    ck_assert_ptr_nonnull(strstr(c.buf, "Content-Type: application/json"));
    close(c.fd);
}

START_TEST(request_errors_are_answered_like_the_buffered_route)
{
    expect_refused("nope", "application/json", "HTTP/1.1 404", "{\"error_code\":40401,\"message\":");
    expect_refused("t", "text/plain", "HTTP/1.1 415", "{\"error_code\":415,");
    char *real = cid;
    cid = "not-this-cluster";
    expect_refused("t", "application/json", "HTTP/1.1 404", "\"message\":\"Cluster not-this-cluster not found.\"");
    cid = real;
    ck_assert_int_eq(end_offset(0), 0); /* nothing stored */
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
}
END_TEST

START_TEST(broken_framing_and_bad_json_end_the_stream_with_a_report)
{
    struct raw c;
    raw_open(&c);
    raw_head(&c, "t", "application/json", NULL);
    raw_chunk(&c, REC(0, "kept"));
    ck_assert(raw_wait(&c, "\"offset\":0", 5000));
    raw_send(&c, "zz\r\n");
    raw_wait(&c, NULL, 5000);
    ck_assert(c.eof);
    ck_assert_ptr_nonnull(strstr(c.buf, "{\"error_code\":400,\"message\":\"Malformed chunked request body.\"}"));
    close(c.fd);

    raw_open(&c);
    raw_head(&c, "t", "application/json", NULL);
    raw_chunk(&c, "[1,2]");
    raw_wait(&c, NULL, 5000);
    ck_assert_ptr_nonnull(strstr(c.buf, "\"message\":\"Malformed JSON: expected a JSON object\""));
    close(c.fd);
    ck_assert_int_eq(end_offset(0), 1);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
}
END_TEST

START_TEST(a_vanishing_client_keeps_what_it_sent)
{
    struct raw c;
    raw_open(&c);
    raw_head(&c, "t", "application/json", NULL);
    raw_chunk(&c, REC(0, "1") REC(0, "2"));
    ck_assert(raw_wait(&c, "\"offset\":1", 5000));
    raw_chunk(&c, "{\"partition_id\":0,\"val"); /* cut mid-record */
    close(c.fd);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
    ck_assert_int_eq(end_offset(0), 2);
}
END_TEST

START_TEST(a_kept_alive_connection_gets_its_reports_after_the_upload)
{
    struct raw c;
    raw_open(&c);
    raw_send(&c, "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(raw_wait(&c, "HTTP/1.1 200", 5000));
    raw_wait(&c, "\r\n\r\n", 1000);
    c.len = 0;
    c.buf[0] = '\0';
    raw_head(&c, "t", "application/json", NULL);
    raw_chunk(&c, REC(1, "a"));
    ck_assert(!raw_wait(&c, "\"offset\"", 500)); /* libmicrohttpd: not before the upload ends */
    raw_chunk(&c, REC(1, "b"));
    raw_send(&c, "0\r\n\r\n");
    ck_assert(raw_wait(&c, "\"offset\":1", 5000));
    ck_assert_int_eq(count(c.buf, "\"error_code\":200"), 2);
    close(c.fd);
}
END_TEST

START_TEST(a_stop_mid_stream_sends_the_reports_and_ends_it)
{
    struct raw c;
    raw_open(&c);
    raw_head(&c, "t", "application/json", NULL);
    raw_chunk(&c, REC(0, "x") REC(0, "y"));
    ck_assert(raw_wait(&c, "\"offset\":1", 5000));
    sl_proc_stop(&proc); /* asserts a clean exit */
    raw_wait(&c, NULL, 5000);
    ck_assert(c.eof);
    ck_assert_int_eq((int)memcmp(c.buf + c.len - 5, "0\r\n\r\n", 5), 0);
    close(c.fd);
    char *err = sl_proc_stderr(&proc);
    ck_assert_ptr_nonnull(strstr(err, "stopped cleanly"));
    free(err);
}
END_TEST

START_TEST(silent_connections_do_not_hold_up_others)
{
    static struct raw idle[40]; /* never send a byte: they wait in the front for their head */
    for (int i = 0; i < 40; i++)
        raw_open(&idle[i]);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
    struct raw c; /* a stream behind them is still served as a stream */
    raw_open(&c);
    raw_head(&c, "t", "application/json", NULL);
    raw_chunk(&c, REC(0, "x"));
    ck_assert(raw_wait(&c, "\"offset\":0", 5000));
    close(c.fd);
    for (int i = 0; i < 40; i++)
        close(idle[i].fd);
}
END_TEST

/* Every connection of a burst, handed to libmicrohttpd by the front, is served (its epoll mode left whole
 * bursts unread until the connection timeout). */
START_TEST(a_burst_of_new_connections_is_served)
{
    enum { N = 256 };
    static struct raw c[N];
    for (int i = 0; i < N; i++)
        raw_open(&c[i]);
    for (int i = 0; i < N; i++)
        raw_send(&c[i], "GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n");
    int64_t t0 = sl_test_mono_ms();
    for (int i = 0; i < N; i++) {
        ck_assert_msg(raw_wait(&c[i], "HTTP/1.1 200", 5000), "connection %d not answered", i);
        close(c[i].fd);
    }
    ck_assert_int_lt(sl_test_mono_ms() - t0, 5000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_stream");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, each_report_arrives_before_the_next_record_is_sent);
    tcase_add_test(tc, expect_100_continue_and_an_empty_body);
    tcase_add_test(tc, request_errors_are_answered_like_the_buffered_route);
    tcase_add_test(tc, broken_framing_and_bad_json_end_the_stream_with_a_report);
    tcase_add_test(tc, a_vanishing_client_keeps_what_it_sent);
    tcase_add_test(tc, a_kept_alive_connection_gets_its_reports_after_the_upload);
    tcase_add_test(tc, a_stop_mid_stream_sends_the_reports_and_ends_it);
    tcase_add_test(tc, silent_connections_do_not_hold_up_others);
    tcase_add_test(tc, a_burst_of_new_connections_is_served);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
