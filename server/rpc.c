/* The node-to-node RPC (see rpc.h). The server is one thread around poll(2): slot 0 is a wake pipe, slot 1
 * the listener, the rest connections with their input buffers. Requests are answered in order, one at a
 * time; a response is written whole (blocking, with a deadline) before the next request is read. */
#include "server/rpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/logging.h"
#include "storage/clock.h"
#include "storage/err.h"

struct conn {
    int fd;
    struct sl_buf in;
};

struct sl_rpc_server {
    sl_rpc_handler handler;
    void *ctx;
    int listen_fd, wake[2];
    uint16_t port;
    pthread_t thread;
    struct conn conns[SL_RPC_MAX_CONNS];
    size_t nconns;
};

static int64_t now_ms(void)
{
    return sl_clock_mono_ms(&sl_clock_posix);
}

/* Writes all of p before deadline (ms, monotonic). Returns 0 or -errno / -ETIMEDOUT. */
static int write_all(int fd, const uint8_t *p, size_t n, int64_t deadline)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pf = {fd, POLLOUT, 0};
        poll(&pf, 1, left);
    }
    return 0;
}

static void conn_close(struct sl_rpc_server *s, size_t i)
{
    close(s->conns[i].fd);
    sl_buf_fini(&s->conns[i].in);
    s->conns[i] = s->conns[--s->nconns];
}

/* Answers every whole request in c's buffer. Returns 0, or < 0 to close the connection. */
static int serve_frames(struct sl_rpc_server *s, struct conn *c)
{
    size_t at = 0;
    int rc = 0;
    for (;;) {
        struct sl_rpc_hdr h;
        const uint8_t *pl;
        size_t plen, used;
        int got = sl_rpc_frame_parse(c->in.base + at, c->in.len - at, &h, &pl, &plen, &used);
        if (got <= 0) {
            rc = got;
            break;
        }
        if (h.response) {
            rc = SL_ECORRUPT; /* a server takes requests only */
            break;
        }
        struct sl_buf reply = {0}, out = {0};
        struct sl_rpc_hdr rh = {.response = true, .api = h.api, .request_id = h.request_id};
        rh.status = s->handler(s->ctx, h.api, pl, plen, &reply);
        rc = sl_rpc_frame_encode(&rh, reply.base, reply.len, &out);
        if (rc == 0)
            rc = write_all(c->fd, out.base, out.len, now_ms() + 5000);
        sl_buf_fini(&reply);
        sl_buf_fini(&out);
        at += used;
        if (rc)
            break;
    }
    memmove(c->in.base, c->in.base + at, c->in.len - at);
    c->in.len -= at;
    return rc;
}

/* Reads what c has; returns < 0 to close it. */
static int on_readable(struct sl_rpc_server *s, struct conn *c)
{
    if (sl_buf_reserve(&c->in, 65536))
        return -ENOMEM;
    ssize_t r = recv(c->fd, c->in.base + c->in.len, 65536, MSG_DONTWAIT);
    if (r == 0)
        return -ECONNRESET;
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    c->in.len += (size_t)r;
    return serve_frames(s, c);
}

static void on_accept(struct sl_rpc_server *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (s->nconns == SL_RPC_MAX_CONNS) {
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->conns[s->nconns++] = (struct conn){.fd = fd};
}

static void *server_main(void *arg)
{
    struct sl_rpc_server *s = arg;
    struct pollfd pf[SL_RPC_MAX_CONNS + 2];
    for (;;) {
        pf[0] = (struct pollfd){s->wake[0], POLLIN, 0};
        pf[1] = (struct pollfd){s->listen_fd, POLLIN, 0};
        size_t n = s->nconns;
        for (size_t i = 0; i < n; i++)
            pf[2 + i] = (struct pollfd){s->conns[i].fd, POLLIN, 0};
        if (poll(pf, 2 + n, -1) < 0 && errno != EINTR)
            break;
        if (pf[0].revents)
            break;
        for (size_t i = n; i-- > 0;) /* backwards: conn_close moves the last one into i */
            if (pf[2 + i].revents && on_readable(s, &s->conns[i]) < 0)
                conn_close(s, i);
        if (pf[1].revents)
            on_accept(s);
    }
    while (s->nconns)
        conn_close(s, s->nconns - 1);
    return NULL;
}

static int listen_on(const char *host, uint16_t port, int *fd_out, uint16_t *port_out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    if (getaddrinfo(host, ps, &hints, &ai) || !ai)
        return -EADDRNOTAVAIL;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = 0;
    if (fd < 0)
        rc = -errno;
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) || bind(fd, ai->ai_addr, ai->ai_addrlen) ||
             listen(fd, 64))
        rc = -errno;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (rc == 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(ai);
    if (rc && fd >= 0)
        close(fd);
    *fd_out = rc ? -1 : fd;
    return rc;
}

int sl_rpc_server_start(const char *bind_host, uint16_t port, sl_rpc_handler handler, void *ctx,
                        struct sl_rpc_server **out)
{
    struct sl_rpc_server *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->handler = handler;
    s->ctx = ctx;
    int rc = listen_on(bind_host, port, &s->listen_fd, &s->port);
    if (rc == 0 && pipe2(s->wake, O_CLOEXEC))
        rc = -errno;
    if (rc == 0 && (rc = -pthread_create(&s->thread, NULL, server_main, s)) != 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    if (rc) {
        if (s->listen_fd >= 0)
            close(s->listen_fd);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

uint16_t sl_rpc_server_port(const struct sl_rpc_server *s)
{
    return s->port;
}

void sl_rpc_server_stop(struct sl_rpc_server *s)
{
    if (!s)
        return;
    (void)!write(s->wake[1], "x", 1);
    pthread_join(s->thread, NULL);
    close(s->wake[0]);
    close(s->wake[1]);
    close(s->listen_fd);
    free(s);
}

/* ---- client ---- */

static int connect_to(const char *host, uint16_t port, int64_t deadline, int *fd_out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    if (getaddrinfo(host, ps, &hints, &ai) || !ai)
        return -EHOSTUNREACH;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc = 0;
    if (fd < 0)
        rc = -errno;
    else if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
        rc = -errno;
    freeaddrinfo(ai);
    if (rc == 0) {
        struct pollfd pf = {fd, POLLOUT, 0};
        int left = (int)(deadline - now_ms());
        int err = 0;
        socklen_t len = sizeof err;
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            rc = -ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
            rc = -(err ? err : errno);
    }
    if (rc && fd >= 0)
        close(fd);
    *fd_out = rc ? -1 : fd;
    return rc;
}

/* Reads until in holds one whole frame. Returns 1 (frame parsed into the out args), or < 0. */
static int read_frame(int fd, struct sl_buf *in, int64_t deadline, struct sl_rpc_hdr *h, const uint8_t **pl,
                      size_t *plen)
{
    for (;;) {
        size_t used;
        int got = sl_rpc_frame_parse(in->base, in->len, h, pl, plen, &used);
        if (got)
            return got;
        int left = (int)(deadline - now_ms());
        struct pollfd pf = {fd, POLLIN, 0};
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            return -ETIMEDOUT;
        if (sl_buf_reserve(in, 65536))
            return -ENOMEM;
        ssize_t r = recv(fd, in->base + in->len, 65536, MSG_DONTWAIT);
        if (r == 0)
            return -ECONNRESET;
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        if (r > 0)
            in->len += (size_t)r;
    }
}

int sl_rpc_call(const char *host, uint16_t port, uint16_t api, const void *payload, size_t n, int timeout_ms,
                int32_t *status, struct sl_buf *reply)
{
    static _Atomic uint32_t next_id = 1; /* ids only need to differ between calls in flight on one socket */
    int64_t deadline = now_ms() + timeout_ms;
    int fd;
    int rc = connect_to(host, port, deadline, &fd);
    if (rc)
        return rc;
    struct sl_rpc_hdr h = {.api = api, .request_id = next_id++};
    struct sl_buf out = {0}, in = {0};
    rc = sl_rpc_frame_encode(&h, payload, n, &out);
    if (rc == 0)
        rc = write_all(fd, out.base, out.len, deadline);
    struct sl_rpc_hdr rh;
    const uint8_t *pl;
    size_t plen;
    if (rc == 0 && (rc = read_frame(fd, &in, deadline, &rh, &pl, &plen)) == 1) {
        rc = rh.response && rh.request_id == h.request_id && rh.api == api ? 0 : SL_ECORRUPT;
        if (rc == 0) {
            *status = rh.status;
            rc = sl_buf_append(reply, pl, plen);
        }
    }
    close(fd);
    sl_buf_fini(&out);
    sl_buf_fini(&in);
    return rc;
}
