/* Unit tests for server/rpc.c on loopback: a call gets its handler's status and reply; calls from several
 * threads at once are all answered; a handler slower than the caller's timeout gives -ETIMEDOUT and the server
 * goes on; a client that speaks something else (an HTTP request) is disconnected and the server goes on; a
 * port nobody listens on is -ECONNREFUSED; a taken port fails the start. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "server/rpc.h"
#include "storage/err.h"
#include "tests/support/testutil.h"

/* PING: replies the payload reversed, status = its length; api 99: sleeps 300 ms; others: -ENOSYS. */
static int32_t handler(void *ctx, uint16_t api, const uint8_t *p, size_t n, struct sl_buf *reply)
{
    (void)ctx;
    if (api == 99) {
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        return 0;
    }
    if (api != SL_RPC_PING)
        return -ENOSYS;
    for (size_t i = 0; i < n; i++)
        sl_buf_append(reply, &p[n - 1 - i], 1);
    return (int32_t)n;
}

static struct sl_rpc_server *srv;

static void setup(void)
{
    ck_assert_int_eq(sl_rpc_server_start("127.0.0.1", 0, handler, NULL, &srv), 0);
    ck_assert_uint_gt(sl_rpc_server_port(srv), 0);
}

static void teardown(void)
{
    sl_rpc_server_stop(srv);
}

static void call_ok(const char *msg)
{
    struct sl_buf r = {0};
    int32_t st = -1;
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_rpc_server_port(srv), SL_RPC_PING, msg, strlen(msg), 2000, &st, &r),
                     0);
    ck_assert_int_eq(st, (int32_t)strlen(msg));
    ck_assert_uint_eq(r.len, strlen(msg));
    for (size_t i = 0; i < r.len; i++)
        ck_assert_int_eq(r.base[i], msg[strlen(msg) - 1 - i]);
    sl_buf_fini(&r);
}

START_TEST(rpc_call_gets_status_and_reply)
{
    call_ok("hello");
    call_ok("");
    struct sl_buf r = {0};
    int32_t st = 0;
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_rpc_server_port(srv), 42, "x", 1, 2000, &st, &r), 0);
    ck_assert_int_eq(st, -ENOSYS);
    sl_buf_fini(&r);
}
END_TEST

static void *caller(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++)
        call_ok("concurrent");
    return NULL;
}

START_TEST(rpc_calls_from_several_threads)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, caller, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}
END_TEST

START_TEST(rpc_timeouts_strangers_and_refusals)
{
    struct sl_buf r = {0};
    int32_t st;
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_rpc_server_port(srv), 99, NULL, 0, 100, &st, &r), -ETIMEDOUT);
    call_ok("still serving");

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(sl_rpc_server_port(srv)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(send(fd, http, sizeof http - 1, 0), (ssize_t)sizeof http - 1);
    char buf[16];
    ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), 0); /* closed, nothing answered */
    close(fd);
    call_ok("still serving after a stranger");

    struct sl_rpc_server *other;
    ck_assert_int_lt(sl_rpc_server_start("127.0.0.1", sl_rpc_server_port(srv), handler, NULL, &other), 0);
    uint16_t port = sl_rpc_server_port(srv);
    sl_rpc_server_stop(srv);
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", port, SL_RPC_PING, NULL, 0, 1000, &st, &r), -ECONNREFUSED);
    ck_assert_int_eq(sl_rpc_server_start("127.0.0.1", 0, handler, NULL, &srv), 0); /* for teardown */
    sl_buf_fini(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rpc");
    TCase *tc = tcase_create("loopback");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rpc_call_gets_status_and_reply);
    tcase_add_test(tc, rpc_calls_from_several_threads);
    tcase_add_test(tc, rpc_timeouts_strangers_and_refusals);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
