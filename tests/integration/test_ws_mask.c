/* RFC 6455 §5.1 against the real binary, with raw frames: a client frame without the mask closes the
 * connection with 1002 and is not answered (an unmasked ping gets no pong, an unmasked produce stores nothing),
 * also when it comes in the same TCP write as the upgrade request or behind a masked frame with a 64-bit
 * length; masked frames sent one byte per write still work; REST on the same process, and plain HTTP
 * requests pipelined on the WebSocket port, are unaffected while a socket is being closed for it
 * (api/ws/ws_mask.c follows only WebSocket streams). */
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/ws_raw.h"
#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
    sl_wt_create_topic(&proc, "t", 1);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes a client frame (FIN | opcode b0) carrying payload[0, n) into out: masked with a non-zero key, or
 * not masked at all. Returns its length; out must have room for n + 14. */
static size_t frame(uint8_t *out, uint8_t b0, bool masked, const void *payload, size_t n)
{
    static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    size_t h = 0;
    uint8_t m = masked ? 0x80 : 0;
    out[h++] = b0;
    if (n < 126) {
        out[h++] = (uint8_t)(m | n);
    } else if (n < 65536) {
        out[h++] = m | 126;
        out[h++] = (uint8_t)(n >> 8);
        out[h++] = (uint8_t)n;
    } else {
        out[h++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    if (masked) {
        memcpy(out + h, key, 4);
        h += 4;
    }
    const uint8_t *p = payload;
    for (size_t i = 0; i < n; i++)
        out[h + i] = masked ? p[i] ^ key[i % 4] : p[i];
    return h + n;
}

/* The end offset of t-0. */
static long long end_offset(void)
{
    json_t *j = NULL;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics/t/partitions/0/offsets", NULL, &j), 200);
    long long end = (long long)json_integer_value(json_object_get(j, "end_offset"));
    json_decref(j);
    return end;
}

/* Waits up to ms for t-0's end offset to reach want; returns it. */
static long long wait_end(long long want, int ms)
{
    int64_t dl = mono_ms() + ms;
    long long end;
    while ((end = end_offset()) < want && mono_ms() < dl)
        usleep(20000);
    return end;
}

/* Reads until the server's close frame; asserts it came with 1002, nothing (no message) before it. */
static void expect_1002_unanswered(struct sl_wsraw *r)
{
    char *m = sl_wsraw_text(r, 5000);
    ck_assert_msg(m == NULL, "the unmasked frame was answered: %s", m);
    ck_assert_msg(sl_wsraw_wait_closed(r, 5000), "still open");
    ck_assert_int_eq(sl_wsraw_close_code(r), 1002);
}

static const char produce[] = "{\"id\":1,\"records\":[{\"value\":\"v\",\"partition\":0}]}";

START_TEST(an_unmasked_ping_closes_1002_without_a_pong)
{
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t");
    uint8_t f[32];
    ck_assert_int_eq(sl_wsraw_bytes(r, f, frame(f, 0x89, false, "hi", 2)), 0);
    expect_1002_unanswered(r);
    ck_assert(!sl_wsraw_ponged(r));
    sl_wsraw_free(r);
}
END_TEST

START_TEST(an_unmasked_produce_closes_1002_and_stores_nothing)
{
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
    uint8_t f[128];
    ck_assert_int_eq(sl_wsraw_bytes(r, f, frame(f, 0x81, false, produce, strlen(produce))), 0);
    expect_1002_unanswered(r);
    sl_wsraw_free(r);
    /* the same message masked is stored: the end offset below says something */
    r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
    ck_assert_int_eq(end_offset(), 0);
    ck_assert_int_eq(sl_wsraw_bytes(r, f, frame(f, 0x81, true, produce, strlen(produce))), 0);
    char *m = sl_wsraw_text(r, 5000);
    ck_assert_msg(m && strstr(m, "\"type\":\"ack\""), "got %s", m ? m : "(nothing)");
    free(m);
    ck_assert_int_eq(end_offset(), 1);
    sl_wsraw_free(r);
}
END_TEST

START_TEST(an_unmasked_frame_in_the_upgrade_write_closes_1002)
{
    uint8_t f[128];
    size_t n = frame(f, 0x81, false, produce, strlen(produce));
    n += frame(f + n, 0x89, false, "x", 1);
    struct sl_wsraw *r = sl_wsraw_connect_with(proc.ws_port, "/ws/v1/topics/t/produce", f, n);
    expect_1002_unanswered(r);
    ck_assert(!sl_wsraw_ponged(r));
    ck_assert_int_eq(end_offset(), 0);
    sl_wsraw_free(r);
}
END_TEST

/* Sends p[0, n) one byte per write, 5 ms apart (TCP_NODELAY: one segment each). */
static void trickle(struct sl_wsraw *r, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(sl_wsraw_bytes(r, p + i, 1), 0);
        usleep(5000);
    }
}

START_TEST(masked_frames_split_byte_by_byte_are_followed)
{
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
    int one = 1;
    setsockopt(sl_wsraw_fd(r), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint8_t f[512];
    trickle(r, f, frame(f, 0x89, true, "ping", 4));
    int64_t dl = mono_ms() + 5000;
    while (!sl_wsraw_ponged(r) && mono_ms() < dl)
        free(sl_wsraw_text(r, 100));
    ck_assert_msg(sl_wsraw_ponged(r), "no pong for a masked ping sent byte by byte");
    /* a message with a 16-bit length: its header byte by byte, the payload in one write */
    char msg[300];
    int len = snprintf(msg, sizeof msg, "{\"id\":2,\"records\":[{\"value\":\"%0200d\",\"partition\":0}]}", 7);
    size_t n = frame(f, 0x81, true, msg, (size_t)len);
    trickle(r, f, 8);
    ck_assert_int_eq(sl_wsraw_bytes(r, f + 8, n - 8), 0);
    char *m = sl_wsraw_text(r, 5000);
    ck_assert_msg(m && strstr(m, "\"type\":\"ack\""), "got %s", m ? m : "(nothing)");
    free(m);
    /* still in step: the next header, unmasked, is seen as one */
    trickle(r, f, frame(f, 0x89, false, "late", 4));
    ck_assert_msg(sl_wsraw_wait_closed(r, 5000), "still open after an unmasked ping");
    ck_assert_int_eq(sl_wsraw_close_code(r), 1002);
    sl_wsraw_free(r);
}
END_TEST

START_TEST(a_64_bit_length_frame_is_skipped_and_the_unmasked_one_after_it_closes_1002)
{
    enum { VALUE = 70000 };
    char *msg = malloc(VALUE + 128);
    int h = sprintf(msg, "{\"id\":3,\"records\":[{\"value\":\"");
    memset(msg + h, 'a', VALUE);
    size_t len = (size_t)h + VALUE;
    len += (size_t)sprintf(msg + len, "\",\"partition\":0}]}");
    uint8_t *f = malloc(len + 64);
    size_t n = frame(f, 0x81, true, msg, len);
    ck_assert_uint_eq(f[1], 0x80 | 127);
    n += frame(f + n, 0x89, false, "after", 5);
    struct sl_wsraw *r = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t/produce");
    ck_assert_int_eq(sl_wsraw_bytes(r, f, n), 0); /* one write: the server splits it where its reads end */
    ck_assert_msg(sl_wsraw_wait_closed(r, 5000), "still open after an unmasked ping");
    ck_assert_int_eq(sl_wsraw_close_code(r), 1002);
    ck_assert(!sl_wsraw_ponged(r));
    ck_assert_int_eq(wait_end(1, 5000), 1); /* the masked message before it was produced */
    sl_wsraw_free(r);
    free(f);
    free(msg);
}
END_TEST

START_TEST(rest_and_other_sockets_are_unaffected)
{
    struct sl_wsraw *bad = sl_wsraw_connect(proc.ws_port, "/ws/v1/topics/t");
    struct sl_wscl *good = sl_wt_connect(&proc, "/ws/v1/topics/t/produce");
    uint8_t f[32];
    ck_assert_int_eq(sl_wsraw_bytes(bad, f, frame(f, 0x89, false, "hi", 2)), 0);
    /* REST while the bad socket waits for its close (up to 1 s): a body larger than one read */
    char *recs = malloc(200000);
    int k = sprintf(recs, "[{\"value\":\"");
    memset(recs + k, 'r', 150000);
    strcpy(recs + k + 150000, "\"}]");
    for (int i = 0; i < 5; i++)
        sl_wt_produce(&proc, "t", recs);
    free(recs);
    ck_assert_int_eq(end_offset(), 5);
    ck_assert_int_eq(sl_wscl_send(good, produce), 0);
    json_t *a = sl_wt_expect(good, "ack", 5000);
    ck_assert_ptr_nonnull(a);
    json_decref(a);
    ck_assert_int_eq(end_offset(), 6);
    /* plain HTTP on the WebSocket port, two requests in one write: both reach libwebsockets, which answers
     * each (404, then 403 from libwebsockets 4.1.6 itself for the pipelined one); a cut would leave one */
    int fd = sl_tcp_connect(proc.ws_port);
    static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(send(fd, two, strlen(two), MSG_NOSIGNAL), (ssize_t)strlen(two));
    char resp[8192];
    size_t rl = 0;
    int nresp = 0;
    for (int64_t dl = mono_ms() + 5000; nresp < 2 && mono_ms() < dl && rl < sizeof resp - 1;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t got = recv(fd, resp + rl, sizeof resp - 1 - rl, 0);
        if (got <= 0)
            break;
        rl += (size_t)got;
        resp[rl] = '\0';
        nresp = 0;
        for (const char *q = resp; (q = strstr(q, "HTTP/1.1 ")); q++)
            nresp++;
    }
    close(fd);
    ck_assert_msg(nresp == 2, "%d responses to two pipelined requests: %s", nresp, resp);
    ck_assert_msg(sl_wsraw_wait_closed(bad, 5000), "still open after an unmasked ping");
    ck_assert_int_eq(sl_wsraw_close_code(bad), 1002);
    ck_assert(!sl_wscl_closed(good));
    sl_wscl_free(good);
    sl_wsraw_free(bad);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_mask");
    TCase *tc = tcase_create("ws_mask");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, an_unmasked_ping_closes_1002_without_a_pong);
    tcase_add_test(tc, an_unmasked_produce_closes_1002_and_stores_nothing);
    tcase_add_test(tc, an_unmasked_frame_in_the_upgrade_write_closes_1002);
    tcase_add_test(tc, masked_frames_split_byte_by_byte_are_followed);
    tcase_add_test(tc, a_64_bit_length_frame_is_skipped_and_the_unmasked_one_after_it_closes_1002);
    tcase_add_test(tc, rest_and_other_sockets_are_unaffected);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
