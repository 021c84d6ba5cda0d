/* REST listener and first-request classification (api/front.h).
 *
 * LOOP (one thread, epoll): the listen socket -> accept4 every pending connection and classify it at once
 * (the request usually arrived with the handshake); one still waiting for its head is watched edge-triggered
 * (EPOLLET: peeked bytes stay unread, so a level-triggered watch would fire again and again) and classified
 * again when more bytes arrive. An eventfd stops the loop. Connections waiting longer than SL_FRONT_IDLE_MS
 * are closed by a sweep after each wait.
 *
 * INVARIANT: a connection is owned by exactly one of: the waiting list here, libmicrohttpd, or a stream
 * thread; nothing here touches it after the hand-over. */
#include "api/front.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api/http.h"
#include "api/http1.h"
#include "api/produce_stream.h"
#include "server/logging.h"

struct waiting {
    int fd;
    struct sockaddr_storage addr;
    socklen_t alen;
    int64_t since_ms;
    struct waiting *next, *prev;
};

struct sl_front {
    int lfd, epfd, efd;
    uint16_t port;
    struct MHD_Daemon *d;
    struct sl_streams *streams;
    const struct sl_router *router;
    struct waiting *wait; /* front thread only */
    size_t nwait, max_wait; /* front thread only */
    pthread_t th;
};

enum sl_front_kind sl_front_classify(const struct sl_router *r, const char *buf, size_t n, bool full)
{
    struct sl_http1_head h;
    int rc = sl_http1_parse_head(buf, n, &h);
    if (rc == 0)
        return full ? SL_FRONT_MHD : SL_FRONT_MORE;
    if (rc < 0)
        return SL_FRONT_MHD;
    char path[1024];
    struct sl_route_match m;
    return sl_streams_wants(r, &h, path, sizeof path, &m) ? SL_FRONT_STREAM : SL_FRONT_MHD;
}

static void wait_unlink(struct sl_front *f, struct waiting *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        f->wait = w->next;
    if (w->next)
        w->next->prev = w->prev;
    f->nwait--;
    free(w);
}

/* Gives the connection to libmicrohttpd or a stream thread, or closes it. */
static void hand_over(struct sl_front *f, int fd, const struct sockaddr_storage *addr, socklen_t alen,
                      enum sl_front_kind kind)
{
    if (kind == SL_FRONT_STREAM && sl_streams_take(f->streams, fd) == 0)
        return;
    /* libmicrohttpd also serves a stream it cannot take (limit, stopping): reports after the upload */
    if (MHD_add_connection(f->d, fd, (const struct sockaddr *)addr, alen) != MHD_YES)
        sl_debug("REST: libmicrohttpd refused a connection: %s", strerror(errno)); /* it closed fd */
}

/* Peeks at fd's first bytes. Returns the decision, or -1 when the client is gone (close it). */
static int peek_kind(struct sl_front *f, int fd)
{
    char buf[SL_FRONT_PEEK];
    ssize_t r = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return SL_FRONT_MORE;
    if (r <= 0)
        return -1;
    return (int)sl_front_classify(f->router, buf, (size_t)r, (size_t)r == sizeof buf);
}

/* Decides for waiting connection w (or a new one: w == NULL and the fd/addr given). */
static void classify_conn(struct sl_front *f, struct waiting *w, int fd, const struct sockaddr_storage *addr,
                          socklen_t alen)
{
    int kind = peek_kind(f, fd);
    if (kind == SL_FRONT_MORE && w)
        return;
    if (kind == SL_FRONT_MORE && f->nwait < f->max_wait) {
        struct waiting *n = calloc(1, sizeof *n);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = n};
        if (n && epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
            *n = (struct waiting){fd, *addr, alen, sl_http_now_ms(), f->wait, NULL};
            if (f->wait)
                f->wait->prev = n;
            f->wait = n;
            f->nwait++;
            return;
        }
        free(n);
    }
    if (kind == SL_FRONT_MORE)
        kind = SL_FRONT_MHD; /* too many waiting, or cannot watch it: libmicrohttpd waits (and limits) */
    struct sockaddr_storage a = *addr; /* addr may live in w */
    if (w) {
        epoll_ctl(f->epfd, EPOLL_CTL_DEL, fd, NULL);
        wait_unlink(f, w);
    }
    if (kind < 0)
        close(fd);
    else
        hand_over(f, fd, &a, alen, (enum sl_front_kind)kind);
}

static void accept_all(struct sl_front *f)
{
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t alen = sizeof addr;
        int fd = accept4(f->lfd, (struct sockaddr *)&addr, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                sl_warn("REST accept: %s", strerror(errno)); /* EMFILE...: the next wait retries */
            return;
        }
        classify_conn(f, NULL, fd, &addr, alen);
    }
}

static void sweep(struct sl_front *f)
{
    int64_t now = sl_http_now_ms();
    for (struct waiting *w = f->wait, *next; w; w = next) {
        next = w->next;
        if (now - w->since_ms > SL_FRONT_IDLE_MS) {
            epoll_ctl(f->epfd, EPOLL_CTL_DEL, w->fd, NULL);
            close(w->fd);
            wait_unlink(f, w);
        }
    }
}

static void *front_main(void *arg)
{
    struct sl_front *f = arg;
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(f->epfd, evs, 64, 1000);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &f->efd)
                return NULL;
            if (evs[i].data.ptr == &f->lfd) {
                accept_all(f);
                continue;
            }
            struct waiting *w = evs[i].data.ptr;
            classify_conn(f, w, w->fd, &w->addr, w->alen);
        }
        sweep(f);
    }
}

static int listen_on(struct sl_front *f, const struct sockaddr *addr, socklen_t len, int backlog)
{
    f->lfd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->lfd < 0)
        return -errno;
    int one = 1;
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr->sa_family == AF_INET6)
        setsockopt(f->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(f->lfd, addr, len) || listen(f->lfd, backlog))
        return -errno;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(f->lfd, (struct sockaddr *)&ss, &sl))
        return -errno;
    f->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

static void front_free(struct sl_front *f)
{
    for (struct waiting *w = f->wait, *next; w; w = next) {
        next = w->next;
        close(w->fd);
        free(w);
    }
    if (f->lfd >= 0)
        close(f->lfd);
    if (f->epfd >= 0)
        close(f->epfd);
    if (f->efd >= 0)
        close(f->efd);
    free(f);
}

int sl_front_start(const struct sockaddr *addr, socklen_t len, int backlog, size_t max_wait, struct MHD_Daemon *d,
                   struct sl_streams *streams, const struct sl_router *r, struct sl_front **out)
{
    struct sl_front *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    *f = (struct sl_front){.lfd = -1, .d = d, .streams = streams, .router = r, .max_wait = max_wait};
    f->epfd = epoll_create1(EPOLL_CLOEXEC);
    f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int rc = f->epfd < 0 || f->efd < 0 ? -errno : listen_on(f, addr, len, backlog);
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = &f->lfd}, ee = {.events = EPOLLIN, .data.ptr = &f->efd};
    if (!rc && (epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->lfd, &le) || epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->efd, &ee)))
        rc = -errno;
    if (!rc)
        rc = -pthread_create(&f->th, NULL, front_main, f);
    if (rc) {
        front_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

uint16_t sl_front_port(const struct sl_front *f)
{
    return f->port;
}

void sl_front_stop(struct sl_front *f)
{
    if (!f)
        return;
    uint64_t one = 1;
    (void)!write(f->efd, &one, sizeof one);
    pthread_join(f->th, NULL);
    front_free(f);
}
