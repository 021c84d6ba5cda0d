/* The WebSocket handshake against the real binary (issue 12): an unsupported or missing Sec-WebSocket-Version
 * is refused with 426 and "Sec-WebSocket-Version: 13" (RFC 6455 §4.4; libwebsockets 4.1.6 alone answered 101);
 * a browser Origin must be in cors.allowed.origins or be the console's own origin (the REST port on the same
 * address), else 403 with a JSON body; no Origin (not a browser) is allowed; ws.bind=127.0.0.1 listens on
 * loopback only. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/ws_raw.h"
#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
    sl_wt_create_topic(&proc, "t", 1);
}

static void setup_cors(void)
{
    static const char *const extra[] = {"--set", "cors.allowed.origins=http://app.example, https://b.example:8443",
                                        NULL};
    sl_proc_start(&proc, NULL, extra);
    sl_wt_create_topic(&proc, "t", 1);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

/* The response to an upgrade of /ws/v1/topics/t with the standard headers minus the version, plus extra. */
static char *upgrade(const char *extra)
{
    char h[1024];
    snprintf(h, sizeof h, "%s%s", SL_WS_UPGRADE_HEADERS, extra);
    return sl_ws_upgrade_raw(proc.ws_port, "/ws/v1/topics/t", h);
}

static void expect_status(char *resp, const char *status_line)
{
    ck_assert_msg(!strncmp(resp, status_line, strlen(status_line)), "expected '%s', got: %.300s", status_line,
                  resp);
    free(resp);
}

static void expect_refusal(char *resp, int status, const char *reason)
{
    char line[64], code[32];
    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, reason);
    snprintf(code, sizeof code, "\"error_code\":%d", status);
    ck_assert_msg(!strncmp(resp, line, strlen(line)), "expected '%s', got: %.300s", line, resp);
    ck_assert_msg(strcasestr(resp, "\r\nContent-Type: application/json\r\n"), "not JSON: %.300s", resp);
    const char *body = strstr(resp, "\r\n\r\n");
    ck_assert_msg(body && strstr(body, code) && strstr(body, "\"message\":"), "body: %.300s", resp);
}

START_TEST(version_8_is_refused_with_426_and_the_supported_version)
{
    char *r = upgrade("Sec-WebSocket-Version: 8\r\n");
    expect_refusal(r, 426, "Upgrade Required");
    ck_assert_msg(strcasestr(r, "\r\nSec-WebSocket-Version: 13\r\n"), "no version header: %.300s", r);
    free(r);
}
END_TEST

START_TEST(a_missing_version_is_refused_with_426)
{
    char *r = upgrade("");
    expect_refusal(r, 426, "Upgrade Required");
    ck_assert_msg(strcasestr(r, "\r\nSec-WebSocket-Version: 13\r\n"), "no version header: %.300s", r);
    free(r);
}
END_TEST

START_TEST(version_13_without_origin_upgrades)
{
    expect_status(upgrade("Sec-WebSocket-Version: 13\r\n"), "HTTP/1.1 101");
}
END_TEST

START_TEST(a_foreign_origin_is_refused_with_403)
{
    char *r = upgrade("Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n");
    expect_refusal(r, 403, "Forbidden");
    free(r);
    /* "null" (file:// pages, sandboxed frames) is an origin too */
    r = upgrade("Sec-WebSocket-Version: 13\r\nOrigin: null\r\n");
    expect_refusal(r, 403, "Forbidden");
    free(r);
}
END_TEST

START_TEST(the_consoles_own_origin_is_allowed)
{
    char h[256];
    snprintf(h, sizeof h, "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:%u\r\n", (unsigned)proc.rest_port);
    expect_status(upgrade(h), "HTTP/1.1 101");
    /* the same address on another port is another origin */
    snprintf(h, sizeof h, "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:%u\r\n",
             (unsigned)(proc.rest_port == 65535 ? 1 : proc.rest_port + 1));
    char *r = upgrade(h);
    expect_refusal(r, 403, "Forbidden");
    free(r);
}
END_TEST

START_TEST(a_dns_rebound_name_on_the_rest_port_is_refused)
{
    char h[512];
    snprintf(h, sizeof h,
             "Host: evil.example:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sluice.v1\r\n"
             "Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example:%u\r\n",
             (unsigned)proc.ws_port, (unsigned)proc.rest_port);
    char *r = sl_ws_upgrade_raw(proc.ws_port, "/ws/v1/topics/t", h);
    expect_refusal(r, 403, "Forbidden");
    free(r);
}
END_TEST

START_TEST(origins_in_cors_allowed_origins_are_allowed)
{
    expect_status(upgrade("Sec-WebSocket-Version: 13\r\nOrigin: http://app.example\r\n"), "HTTP/1.1 101");
    expect_status(upgrade("Sec-WebSocket-Version: 13\r\nOrigin: https://b.example:8443\r\n"), "HTTP/1.1 101");
    char *r = upgrade("Sec-WebSocket-Version: 13\r\nOrigin: http://app.example:8080\r\n");
    expect_refusal(r, 403, "Forbidden");
    free(r);
}
END_TEST

/* An IPv4 address of this host other than loopback, or false when it has none. */
static bool non_loopback_v4(struct in_addr *out)
{
    struct ifaddrs *ifs, *i;
    bool found = false;
    if (getifaddrs(&ifs))
        return false;
    for (i = ifs; i && !found; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
            struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
            if ((ntohl(a.s_addr) >> 24) != 127) {
                *out = a;
                found = true;
            }
        }
    freeifaddrs(ifs);
    return found;
}

static int try_connect(int af, const void *addr, uint16_t port)
{
    int fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (af == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        memcpy(&s->sin_addr, addr, 4);
        len = sizeof *s;
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        memcpy(&s->sin6_addr, addr, 16);
        len = sizeof *s;
    }
    int rc = connect(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
    close(fd);
    return rc;
}

START_TEST(ws_bind_loopback_listens_on_loopback_only)
{
    static const char *const extra[] = {"--set", "ws.bind=127.0.0.1", NULL};
    sl_proc_start(&proc, NULL, extra);
    struct in_addr lo = {htonl(INADDR_LOOPBACK)}, other;
    ck_assert_int_eq(try_connect(AF_INET, &lo, proc.ws_port), 0);
    ck_assert_int_eq(try_connect(AF_INET6, &in6addr_loopback, proc.ws_port), -ECONNREFUSED);
    if (non_loopback_v4(&other))
        ck_assert_int_eq(try_connect(AF_INET, &other, proc.ws_port), -ECONNREFUSED);
    else
        fprintf(stderr, "no non-loopback IPv4 address: only ::1 checked\n");
    sl_proc_free(&proc);
}
END_TEST

START_TEST(ws_bind_default_listens_on_every_interface)
{
    sl_proc_start(&proc, NULL, NULL);
    struct in_addr other;
    ck_assert_int_eq(try_connect(AF_INET6, &in6addr_loopback, proc.ws_port), 0);
    if (non_loopback_v4(&other))
        ck_assert_int_eq(try_connect(AF_INET, &other, proc.ws_port), 0);
    sl_proc_free(&proc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_upgrade");
    TCase *tc = tcase_create("handshake");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, version_8_is_refused_with_426_and_the_supported_version);
    tcase_add_test(tc, a_missing_version_is_refused_with_426);
    tcase_add_test(tc, version_13_without_origin_upgrades);
    tcase_add_test(tc, a_foreign_origin_is_refused_with_403);
    tcase_add_test(tc, the_consoles_own_origin_is_allowed);
    tcase_add_test(tc, a_dns_rebound_name_on_the_rest_port_is_refused);
    suite_add_tcase(s, tc);
    TCase *cors = tcase_create("cors");
    tcase_add_checked_fixture(cors, setup_cors, teardown);
    tcase_set_timeout(cors, 60);
    tcase_add_test(cors, origins_in_cors_allowed_origins_are_allowed);
    suite_add_tcase(s, cors);
    TCase *bind = tcase_create("bind");
    tcase_set_timeout(bind, 60);
    tcase_add_test(bind, ws_bind_loopback_listens_on_loopback_only);
    tcase_add_test(bind, ws_bind_default_listens_on_every_interface);
    suite_add_tcase(s, bind);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
