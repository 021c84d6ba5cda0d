/* Raw-TCP WebSocket test client (see ws_raw.h). */
#include "tests/support/ws_raw.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct sl_wsraw {
    int fd;
    uint8_t *in;          /* received, not yet parsed */
    size_t len, cap;
    bool closed, ponged;
    int close_code;
    char *msg;            /* a text message being reassembled */
    size_t msglen;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl_tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect: %s", strerror(errno));
    return fd;
}

bool sl_tcp_wait_eof(int fd, int ms)
{
    int64_t dl = now_ms() + ms;
    char buf[4096];
    for (int64_t left; (left = dl - now_ms()) > 0;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return true;
    }
    return false;
}

/* Sends everything (nonblocking, waiting for room); -1 when the peer is gone or takes nothing for 2 s. */
static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            b += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        if (poll(&pf, 1, 2000) <= 0 || (pf.revents & (POLLERR | POLLHUP)))
            return -1;
    }
    return 0;
}

struct sl_wsraw *sl_wsraw_connect(uint16_t port, const char *path)
{
    return sl_wsraw_connect_with(port, path, NULL, 0);
}

struct sl_wsraw *sl_wsraw_connect_with(uint16_t port, const char *path, const void *after, size_t an)
{
    struct sl_wsraw *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    r->fd = sl_tcp_connect(port);
    size_t plen = strlen(path) + 512 + an;
    char *req = malloc(plen);
    int n = snprintf(req, plen,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: sluice.v1\r\n\r\n",
                     path);
    if (an)
        memcpy(req + n, after, an);
    ck_assert_int_eq(send_all(r->fd, req, (size_t)n + an), 0);
    free(req);
    /* read the response headers, keeping what follows them */
    char hdr[4096] = "";
    size_t hl = 0;
    int64_t dl = now_ms() + 5000;
    char *end = NULL;
    while (!end && now_ms() < dl && hl < sizeof hdr - 1) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t k = recv(r->fd, hdr + hl, sizeof hdr - 1 - hl, 0);
        ck_assert_msg(k > 0, "connection closed during the upgrade of %.80s", path);
        hl += (size_t)k;
        hdr[hl] = '\0';
        end = strstr(hdr, "\r\n\r\n");
    }
    ck_assert_msg(end && strncmp(hdr, "HTTP/1.1 101", 12) == 0, "no 101 for %.80s: %.60s", path, hdr);
    size_t used = (size_t)(end + 4 - hdr);
    r->cap = 65536;
    r->in = malloc(r->cap);
    r->len = hl - used;
    memcpy(r->in, hdr + used, r->len);
    return r;
}

char *sl_ws_upgrade_raw(uint16_t port, const char *path, const char *headers)
{
    int fd = sl_tcp_connect(port);
    size_t cap = strlen(path) + strlen(headers) + 64, len = 0;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "GET %s HTTP/1.1\r\n%s\r\n", path, headers);
    ck_assert_int_eq(send_all(fd, req, (size_t)n), 0);
    free(req);
    cap = 8192;
    char *out = calloc(1, cap);
    int64_t dl = now_ms() + 5000;
    while (now_ms() < dl && len < cap - 1) {
        if (!strncmp(out, "HTTP/1.1 101", 12) && strstr(out, "\r\n\r\n"))
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t k = recv(fd, out + len, cap - 1 - len, 0);
        if (k <= 0)
            break;
        len += (size_t)k;
        out[len] = '\0';
    }
    close(fd);
    return out;
}

static int put_header(uint8_t *h, uint8_t b0, uint64_t len)
{
    int n = 0;
    h[n++] = b0;
    if (len < 126) {
        h[n++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        h[n++] = 0x80 | 126;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)(len >> (8 * i));
    }
    memset(h + n, 0, 4); /* the mask key */
    return n + 4;
}

int sl_wsraw_frame(struct sl_wsraw *r, uint8_t b0, uint64_t announce, const void *payload, size_t n)
{
    uint8_t h[14];
    int hn = put_header(h, b0, announce);
    if (send_all(r->fd, h, (size_t)hn))
        return -1;
    return n ? send_all(r->fd, payload, n) : 0;
}

int sl_wsraw_bytes(struct sl_wsraw *r, const void *p, size_t n)
{
    return send_all(r->fd, p, n);
}

/* Parses one complete server frame from r->in if there is one: 1 = parsed, 0 = need more. */
static int parse_one(struct sl_wsraw *r, char **text)
{
    if (r->len < 2)
        return 0;
    uint8_t b0 = r->in[0], b1 = r->in[1];
    size_t hl = 2;
    uint64_t len = b1 & 0x7f;
    if (len == 126) {
        if (r->len < 4)
            return 0;
        len = (uint64_t)r->in[2] << 8 | r->in[3];
        hl = 4;
    } else if (len == 127) {
        if (r->len < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | r->in[2 + i];
        hl = 10;
    }
    ck_assert_msg(!(b1 & 0x80), "the server masked a frame");
    if (r->len < hl + len)
        return 0;
    const uint8_t *p = r->in + hl;
    int op = b0 & 0x0f;
    if (op == 0x9) { /* ping: pong with the same payload */
        uint8_t h[14];
        int n = put_header(h, 0x8a, len);
        if (send_all(r->fd, h, (size_t)n) == 0)
            send_all(r->fd, p, (size_t)len);
    } else if (op == 0xa) {
        r->ponged = true;
    } else if (op == 0x8) {
        r->close_code = len >= 2 ? p[0] << 8 | p[1] : 0;
        r->closed = true;
    } else if (op == 0x1 || op == 0x0) {
        r->msg = realloc(r->msg, r->msglen + len + 1);
        memcpy(r->msg + r->msglen, p, (size_t)len);
        r->msglen += (size_t)len;
        r->msg[r->msglen] = '\0';
        if (b0 & 0x80) {
            *text = r->msg;
            r->msg = NULL;
            r->msglen = 0;
        }
    }
    memmove(r->in, r->in + hl + len, r->len - hl - (size_t)len);
    r->len -= hl + (size_t)len;
    return 1;
}

/* Reads and parses until a text message is complete, the connection closes, or ms pass. */
static char *pump(struct sl_wsraw *r, int ms)
{
    int64_t dl = now_ms() + ms;
    for (;;) {
        char *text = NULL;
        while (parse_one(r, &text))
            if (text)
                return text;
        if (r->closed)
            return NULL;
        int64_t left = dl - now_ms();
        if (left <= 0)
            return NULL;
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (r->cap - r->len < 65536) {
            r->cap *= 2;
            r->in = realloc(r->in, r->cap);
        }
        ssize_t k = recv(r->fd, r->in + r->len, r->cap - r->len, 0);
        if (k <= 0) {
            r->closed = true;
            return NULL;
        }
        r->len += (size_t)k;
    }
}

char *sl_wsraw_text(struct sl_wsraw *r, int ms)
{
    return pump(r, ms);
}

bool sl_wsraw_wait_closed(struct sl_wsraw *r, int ms)
{
    int64_t dl = now_ms() + ms;
    while (!r->closed && now_ms() < dl)
        free(pump(r, (int)(dl - now_ms())));
    return r->closed;
}

int sl_wsraw_close_code(const struct sl_wsraw *r)
{
    return r->close_code;
}

bool sl_wsraw_ponged(const struct sl_wsraw *r)
{
    return r->ponged;
}

int sl_wsraw_fd(const struct sl_wsraw *r)
{
    return r->fd;
}

void sl_wsraw_free(struct sl_wsraw *r)
{
    if (!r)
        return;
    close(r->fd);
    free(r->in);
    free(r->msg);
    free(r);
}
