/* api/ws/ws_mask.c through the process's recv() (api/http/recv_hook.c) over a socketpair, as libwebsockets' reads see it: the upgrade head and
 * masked frames pass whole, however they are split into reads; the first unmasked frame header cuts the read
 * before it and everything after it is dropped (EAGAIN, end of file passed on); untracked fds, other threads
 * and MSG_PEEK pass through; plain HTTP heads (no Upgrade header) are followed by heads, not frames. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http/recv_hook.h"
#include "api/ws/ws_mask.h"

static int sv[2]; /* sv[0]: the server's end (tracked), sv[1]: the client's */

static const char head[] = "GET /ws/v1/topics/t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n";

static void setup(void)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* the process's recv() lives in api/http/recv_hook.c, and sl_ws_mask_track installs the check as its
     * fallback; naming recv_hook links that object, whose recv() the calls below reach (a sanitizer
     * runtime's interceptor would otherwise satisfy the symbol first) */
    ck_assert_ptr_nonnull(sl_recv_next());
    sl_ws_mask_track(sv[0]);
    sl_ws_mask_take_failures();
}

static void teardown(void)
{
    sl_ws_mask_untrack(sv[0]);
    close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
}

static void put(const void *p, size_t n)
{
    ck_assert_int_eq(write(sv[1], p, n), (ssize_t)n);
}

/* A client frame header (FIN | opcode b0) for a payload of n bytes, masked or not; returns its length. */
static size_t header(uint8_t *h, uint8_t b0, bool masked, uint64_t n)
{
    size_t k = 0;
    uint8_t m = masked ? 0x80 : 0;
    h[k++] = b0;
    if (n < 126) {
        h[k++] = (uint8_t)(m | n);
    } else if (n < 65536) {
        h[k++] = m | 126;
        h[k++] = (uint8_t)(n >> 8);
        h[k++] = (uint8_t)n;
    } else {
        h[k++] = m | 127;
        for (int i = 7; i >= 0; i--)
            h[k++] = (uint8_t)(n >> (8 * i));
    }
    if (masked) {
        memcpy(h + k, "\x01\x02\x03\x04", 4);
        k += 4;
    }
    return k;
}

/* Reads everything available now (the tracked recv), returns how many bytes; *last = the last recv's result. */
static size_t drain(ssize_t *last)
{
    static uint8_t buf[1 << 17];
    size_t got = 0;
    ssize_t n;
    while ((n = recv(sv[0], buf, sizeof buf, MSG_DONTWAIT)) > 0)
        got += (size_t)n;
    *last = n;
    return got;
}

START_TEST(the_head_and_masked_frames_pass_whole)
{
    uint8_t buf[4096];
    size_t n = strlen(head);
    memcpy(buf, head, n);
    n += header(buf + n, 0x81, true, 5);
    memcpy(buf + n, "hello", 5); /* payload bytes are not looked at */
    n += 5;
    n += header(buf + n, 0x89, true, 0);
    n += header(buf + n, 0x82, true, 300);
    memset(buf + n, 0x01, 300); /* would be unmasked headers, were they read as headers */
    n += 300;
    put(buf, n);
    ssize_t last;
    ck_assert_uint_eq(drain(&last), n);
    ck_assert(last < 0 && errno == EAGAIN);
    ck_assert(!sl_ws_mask_failed(sv[0]));
    ck_assert(!sl_ws_mask_take_failures());
}
END_TEST

START_TEST(headers_are_followed_one_byte_per_read)
{
    uint8_t h[16];
    static uint8_t payload[70000];
    memset(payload, 0x01, sizeof payload);
    size_t total = 0;
    for (size_t i = 0; head[i]; i++) {
        put(head + i, 1);
        ssize_t last;
        total += drain(&last);
    }
    ck_assert_uint_eq(total, strlen(head));
    uint64_t lens[] = {0, 125, 126, 65535, 65536, sizeof payload};
    for (size_t f = 0; f < sizeof lens / sizeof lens[0]; f++) {
        size_t hn = header(h, 0x82, true, lens[f]);
        ssize_t last;
        for (size_t i = 0; i < hn; i++) {
            put(h + i, 1);
            ck_assert_uint_eq(drain(&last), 1);
        }
        put(payload, (size_t)lens[f]);
        ck_assert_uint_eq(drain(&last), lens[f]);
    }
    ck_assert(!sl_ws_mask_failed(sv[0]));
    /* an unmasked header, one byte at a time: its first byte goes out, its second never */
    size_t hn = header(h, 0x89, false, 2);
    ssize_t last;
    put(h, 1);
    ck_assert_uint_eq(drain(&last), 1);
    put(h + 1, hn - 1);
    ck_assert_uint_eq(drain(&last), 0);
    ck_assert(last < 0 && errno == EAGAIN);
    ck_assert(sl_ws_mask_failed(sv[0]));
}
END_TEST

START_TEST(an_unmasked_header_cuts_the_read_and_nothing_after_it_is_returned)
{
    uint8_t buf[512], out[512];
    size_t n = strlen(head);
    memcpy(buf, head, n);
    n += header(buf + n, 0x89, true, 0);
    size_t good = n;
    n += header(buf + n, 0x81, false, 3);
    memcpy(buf + n, "abc", 3);
    n += 3;
    put(buf, n);
    ck_assert_int_eq(recv(sv[0], out, sizeof out, 0), (ssize_t)good);
    ck_assert(sl_ws_mask_failed(sv[0]));
    ck_assert(sl_ws_mask_take_failures());
    ck_assert(!sl_ws_mask_take_failures()); /* once */
    errno = 0;
    ck_assert_int_eq(recv(sv[0], out, sizeof out, MSG_DONTWAIT), -1); /* nothing buffered by the tracker */
    ck_assert_int_eq(errno, EAGAIN);
    uint8_t h[16];
    put(h, header(h, 0x89, true, 0)); /* masked, but after the bad one: dropped */
    ck_assert_int_eq(recv(sv[0], out, sizeof out, 0), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_int_eq(recv(sv[0], out, sizeof out, MSG_DONTWAIT), -1); /* it was read, not left in the kernel */
    close(sv[1]);
    sv[1] = -1;
    ck_assert_int_eq(recv(sv[0], out, sizeof out, 0), 0); /* end of file still gets through */
    ck_assert(sl_ws_mask_untrack(sv[0]));
    ck_assert(!sl_ws_mask_failed(sv[0]));
}
END_TEST

START_TEST(an_unmasked_frame_right_after_the_head_leaves_only_the_head)
{
    uint8_t buf[256], out[256];
    size_t n = strlen(head);
    memcpy(buf, head, n);
    n += header(buf + n, 0x89, false, 0);
    put(buf, n);
    ck_assert_int_eq(recv(sv[0], out, sizeof out, 0), (ssize_t)strlen(head));
    ck_assert(sl_ws_mask_failed(sv[0]));
}
END_TEST

START_TEST(plain_http_heads_are_followed_by_heads_not_frames)
{
    /* keep-alive requests without an Upgrade header (bytes that would be unmasked headers: "GE", "\r\n"),
     * then an upgrade on the same connection, then an unmasked frame */
    static const char plain[] = "GET /a HTTP/1.1\r\nHost: x\r\nX-Upgrade: no\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
    uint8_t out[512];
    put(plain, strlen(plain));
    ck_assert_int_eq(recv(sv[0], out, sizeof out, 0), (ssize_t)strlen(plain));
    uint8_t buf[256], h[16];
    size_t n = strlen(head);
    memcpy(buf, head, n);
    n += header(h, 0x89, false, 0);
    memcpy(buf + strlen(head), h, n - strlen(head));
    put(buf, n);
    ck_assert_int_eq(recv(sv[0], out, sizeof out, 0), (ssize_t)strlen(head));
    ck_assert(sl_ws_mask_failed(sv[0]));
}
END_TEST

static void *read_elsewhere(void *arg)
{
    static uint8_t out[64];
    return (void *)(intptr_t)recv(sv[0], out, sizeof out, 0);
}

START_TEST(untracked_fds_peeks_and_other_threads_pass_through)
{
    uint8_t buf[64], out[64];
    static const char h[] = "x\r\nupGRADE: websocket\r\n\r\n";
    size_t n = strlen(h);
    memcpy(buf, h, n);
    n += header(buf + n, 0x89, false, 0);
    put(buf, n);
    ck_assert_int_eq(recv(sv[0], out, sizeof out, MSG_PEEK), (ssize_t)n);
    pthread_t th;
    void *res;
    ck_assert_int_eq(pthread_create(&th, NULL, read_elsewhere, NULL), 0);
    ck_assert_int_eq(pthread_join(th, &res), 0);
    ck_assert_int_eq((intptr_t)res, (intptr_t)n);
    ck_assert(!sl_ws_mask_failed(sv[0]));
    ck_assert(!sl_ws_mask_untrack(sv[0]));
    put(buf, n);
    ck_assert_int_eq(recv(sv[0], out, sizeof out, 0), (ssize_t)n);
    /* tracked again: a fresh head, not the state the number had */
    sl_ws_mask_track(sv[0]);
    put(buf, n);
    ck_assert_int_eq(recv(sv[0], out, sizeof out, 0), (ssize_t)strlen(h));
    ck_assert(sl_ws_mask_failed(sv[0]));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_mask_recv");
    TCase *tc = tcase_create("recv");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_head_and_masked_frames_pass_whole);
    tcase_add_test(tc, headers_are_followed_one_byte_per_read);
    tcase_add_test(tc, an_unmasked_header_cuts_the_read_and_nothing_after_it_is_returned);
    tcase_add_test(tc, an_unmasked_frame_right_after_the_head_leaves_only_the_head);
    tcase_add_test(tc, untracked_fds_peeks_and_other_threads_pass_through);
    tcase_add_test(tc, plain_http_heads_are_followed_by_heads_not_frames);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
