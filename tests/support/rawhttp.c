/* Raw HTTP test client (tests/support/rawhttp.h). */
#include "tests/support/rawhttp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool sl_raw_try_open(struct sl_raw *c, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(c->fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0)
        return true;
    close(c->fd);
    c->fd = -1;
    return false;
}

void sl_raw_open(struct sl_raw *c, uint16_t port)
{
    ck_assert_msg(sl_raw_try_open(c, port), "connect to port %u failed", port);
}

void sl_raw_close(struct sl_raw *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

bool sl_raw_send(struct sl_raw *c, const char *s)
{
    size_t n = strlen(s);
    return send(c->fd, s, n, MSG_NOSIGNAL) == (ssize_t)n;
}

bool sl_raw_chunk(struct sl_raw *c, const char *data)
{
    char size[24];
    snprintf(size, sizeof size, "%zx\r\n", strlen(data));
    return sl_raw_send(c, size) && sl_raw_send(c, data) && sl_raw_send(c, "\r\n");
}

static bool errno_is_fatal(void)
{
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

/* Reads once what is available (waiting at most ms). */
static void read_some(struct sl_raw *c, int ms)
{
    struct pollfd pf = {c->fd, POLLIN, 0};
    if (c->eof || poll(&pf, 1, ms) <= 0)
        return;
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno_is_fatal()))
        c->eof = true;
    else if (r > 0)
        c->buf[c->len += (size_t)r] = '\0';
}

bool sl_raw_wait(struct sl_raw *c, const char *needle, int timeout_ms)
{
    for (int waited = 0; !(needle && strstr(c->buf, needle)); waited += 20) {
        if (c->eof)
            return !needle;
        if (waited >= timeout_ms)
            return false;
        read_some(c, 20);
    }
    return true;
}

bool sl_raw_closed(struct sl_raw *c)
{
    read_some(c, 0);
    return c->eof;
}
