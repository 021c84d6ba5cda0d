/* REST listener and first-request classification (api/http/front.h).
 *
 * LOOP (one thread, epoll): the listen socket -> accept4 every pending connection and classify it at once
 * (the request usually arrived with the handshake); one still waiting for its head is watched edge-triggered
 * (EPOLLET: peeked bytes stay unread, so a level-triggered watch would fire again and again) and classified
 * again when more bytes arrive. An eventfd stops the loop. After each wait a sweep answers 408 to the
 * connections whose head is late and closes the refused ones whose linger ran out; it also sets the next
 * wait's timeout to the earliest of those deadlines.
 *
 * STATES of a connection here (struct waiting):
 *   accepted --head OK--> handed over (libmicrohttpd or a stream thread; gone from here)
 *      |  \--incomplete--> WAITING --head OK--> handed over
 *      |                      |--bad head, or header deadline (sweep)--> CLOSING
 *      +--bad head--> CLOSING (answered; reads discarded) --client EOF, or SL_FRONT_LINGER_MS--> closed
 *
 * INVARIANTS
 *   1. A connection is owned by exactly one of: the list here, libmicrohttpd, or a stream thread; nothing
 *      here touches it after the hand-over.
 *   2. The listen socket is in the epoll set exactly when paused_until == 0.
 *   3. reserve is an open descriptor except between closing it and reopening it in shed_one (or when the
 *      reopening failed: then shedding waits for the next pause to end). */
#include "api/http/front.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api/http/http.h"
#include "api/http/http1.h"
#include "server/logging.h"

_Static_assert(SL_FRONT_PEEK == SL_REFUSE_HEAD_MAX, "the peek buffer is the head limit");

#define SHED_MAX 64 /* connections answered 503 per accept round, before the pause */

struct waiting {
    int fd;
    bool closing; /* refused and answered: draining until EOF or the linger deadline */
    struct sockaddr_storage addr;
    socklen_t alen;
    int64_t since_ms; /* accepted, or (closing) refused */
    struct waiting *next, *prev;
};

struct sl_front {
    int lfd, epfd, efd;
    int reserve; /* front thread only; see INVARIANT 3 */
    uint16_t port;
    struct MHD_Daemon *d;
    struct sl_front_streams streams;
    const struct sl_router *router;
    int64_t header_timeout_ms;
    struct waiting *wait; /* front thread only */
    size_t nwait, max_wait; /* front thread only */
    int64_t paused_until;   /* front thread only; see INVARIANT 2 */
    int64_t log_next_ms;    /* front thread only: the next accept failure may be logged from then on */
    unsigned long log_skipped; /* front thread only: failures not logged since the last line */
    unsigned long log_shed;    /* front thread only: connections answered 503 since the last line */
    pthread_t th;
};

enum sl_front_kind sl_front_classify(const struct sl_router *r, const char *buf, size_t n, bool full,
                                     enum sl_refusal *why)
{
    struct sl_http1_head h;
    switch (sl_refuse_check_head(buf, n, full, &h, why)) {
    case SL_HEAD_MORE:
        return SL_FRONT_MORE;
    case SL_HEAD_REFUSED:
        return SL_FRONT_REFUSE;
    case SL_HEAD_OK:
        break;
    }
    char path[1024];
    struct sl_route_match m;
    return sl_front_is_stream(r, &h, path, sizeof path, &m) ? SL_FRONT_STREAM : SL_FRONT_MHD;
}

bool sl_front_is_stream(const struct sl_router *r, const struct sl_http1_head *h, char *path, size_t cap,
                        struct sl_route_match *m)
{
    if (h->method_len != 4 || memcmp(h->method, "POST", 4) || h->minor < 1 ||
        !sl_http1_has_token(h, "Transfer-Encoding", "chunked"))
        return false;
    size_t n = strcspn(h->target, "? ");
    if (n > h->target_len)
        n = h->target_len;
    if (n == 0 || n >= cap || h->target[0] != '/')
        return false;
    memcpy(path, h->target, n);
    path[n] = '\0';
    MHD_http_unescape(path);
    return sl_router_match(r, "POST", path, m, NULL, 0) == SL_ROUTE_FOUND && (m->flags & SL_ROUTE_STREAM);
}

/* Watches fd (edge-triggered) and lists it. Returns 0 or -errno (then fd is still the caller's). */
static int wait_add(struct sl_front *f, int fd, const struct sockaddr_storage *addr, socklen_t alen,
                    bool closing)
{
    struct waiting *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = n};
    if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev)) {
        int rc = -errno;
        free(n);
        return rc;
    }
    *n = (struct waiting){fd, closing, *addr, alen, sl_http_now_ms(), f->wait, NULL};
    if (f->wait)
        f->wait->prev = n;
    f->wait = n;
    f->nwait++;
    return 0;
}

/* Unwatches and unlists w, and frees it; w->fd stays open. */
static void wait_remove(struct sl_front *f, struct waiting *w)
{
    epoll_ctl(f->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    if (w->prev)
        w->prev->next = w->next;
    else
        f->wait = w->next;
    if (w->next)
        w->next->prev = w->prev;
    f->nwait--;
    free(w);
}

/* Answers why on fd and lets it linger (CLOSING), or closes it when the client is gone already or it cannot
 * be watched. w is fd's entry, or NULL for a connection not listed yet. */
static void refuse(struct sl_front *f, struct waiting *w, int fd, const struct sockaddr_storage *addr,
                   socklen_t alen, enum sl_refusal why)
{
    bool gone = sl_refuse_send(fd, why) != 0;
    if (w && !gone) {
        w->closing = true;
        w->since_ms = sl_http_now_ms();
        return;
    }
    if (w)
        wait_remove(f, w);
    if (gone || wait_add(f, fd, addr, alen, true))
        close(fd);
}

/* Gives the connection to libmicrohttpd or a stream thread, or closes it. */
static void hand_over(struct sl_front *f, int fd, const struct sockaddr_storage *addr, socklen_t alen,
                      enum sl_front_kind kind)
{
    if (kind == SL_FRONT_STREAM && f->streams.take && f->streams.take(f->streams.ctx, fd) == 0)
        return;
    /* libmicrohttpd also serves a stream it cannot take (limit, stopping): reports after the upload */
    if (MHD_add_connection(f->d, fd, (const struct sockaddr *)addr, alen) != MHD_YES)
        sl_debug("REST: libmicrohttpd refused a connection: %s", strerror(errno)); /* it closed fd */
}

/* Peeks at fd's first bytes. Returns the decision (an enum sl_front_kind), or -ECONNRESET when the client
 * is gone (close it). */
static int peek_kind(struct sl_front *f, int fd, enum sl_refusal *why)
{
    char buf[SL_FRONT_PEEK];
    ssize_t r = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return SL_FRONT_MORE;
    if (r <= 0)
        return -ECONNRESET;
    return (int)sl_front_classify(f->router, buf, (size_t)r, (size_t)r == sizeof buf, why);
}

/* Decides for waiting connection w (or a new one: w == NULL and the fd/addr given). */
static void classify_conn(struct sl_front *f, struct waiting *w, int fd, const struct sockaddr_storage *addr,
                          socklen_t alen)
{
    enum sl_refusal why = SL_REFUSE_BUSY;
    int kind = peek_kind(f, fd, &why);
    if (kind == SL_FRONT_MORE && w)
        return;
    if (kind == SL_FRONT_MORE && (f->nwait >= f->max_wait || wait_add(f, fd, addr, alen, false)))
        kind = SL_FRONT_REFUSE; /* too many waiting, or cannot watch it: 503 */
    if (kind == SL_FRONT_MORE)
        return;
    struct sockaddr_storage a = *addr; /* addr may live in w */
    if (kind == SL_FRONT_REFUSE) {
        refuse(f, w, fd, &a, alen, why);
        return;
    }
    if (w)
        wait_remove(f, w);
    if (kind < 0)
        close(fd);
    else
        hand_over(f, fd, &a, alen, (enum sl_front_kind)kind);
}

/* An event on listed connection w. */
static void on_conn_event(struct sl_front *f, struct waiting *w)
{
    if (!w->closing) {
        classify_conn(f, w, w->fd, &w->addr, w->alen);
        return;
    }
    if (sl_refuse_drain(w->fd)) {
        close(w->fd);
        wait_remove(f, w);
    }
}

/* Out of descriptors: gives up the reserve to accept one pending connection and answer it 503. Returns
 * true when one was answered (try again), false when none was pending or there is no reserve. */
static bool shed_one(struct sl_front *f)
{
    if (f->reserve < 0)
        return false;
    close(f->reserve);
    int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        (void)sl_refuse_send(fd, SL_REFUSE_BUSY);
        close(fd); /* no linger: the descriptor is needed back */
    }
    f->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0;
}

/* accept failed with err (not EAGAIN): rest the listen socket (a level-triggered one would wake the loop
 * at once, again and again) and log, at most one line per SL_FRONT_LOG_EVERY_MS. */
static void accept_failed(struct sl_front *f, int err, int shed)
{
    int64_t now = sl_http_now_ms();
    f->log_shed += (unsigned long)shed;
    if (now >= f->log_next_ms) {
        sl_warn("REST accept: %s (%lu more time(s) since the last such line; %lu connection(s) answered 503); "
                "pausing accept for %d ms",
                strerror(err), f->log_skipped, f->log_shed, SL_FRONT_PAUSE_MS);
        f->log_next_ms = now + SL_FRONT_LOG_EVERY_MS;
        f->log_skipped = f->log_shed = 0;
    } else {
        f->log_skipped++;
    }
    if (epoll_ctl(f->epfd, EPOLL_CTL_DEL, f->lfd, NULL) == 0)
        f->paused_until = now + SL_FRONT_PAUSE_MS;
}

static void accept_all(struct sl_front *f)
{
    for (int shed = 0;;) {
        struct sockaddr_storage addr;
        socklen_t alen = sizeof addr;
        int fd = accept4(f->lfd, (struct sockaddr *)&addr, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            classify_conn(f, NULL, fd, &addr, alen);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        int err = errno;
        if ((err == EMFILE || err == ENFILE) && shed < SHED_MAX && shed_one(f)) {
            shed++;
            continue;
        }
        accept_failed(f, err, shed);
        return;
    }
}

/* Puts the listen socket back once its pause is over. Returns the ms until then (bounded by timeout). */
static int resume_listen(struct sl_front *f, int timeout)
{
    if (!f->paused_until)
        return timeout;
    int64_t left = f->paused_until - sl_http_now_ms();
    if (left > 0)
        return left < timeout ? (int)left : timeout;
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = &f->lfd};
    if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->lfd, &le) == 0 || errno == EEXIST)
        f->paused_until = 0;
    if (f->reserve < 0)
        f->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return f->paused_until ? SL_FRONT_PAUSE_MS : timeout; /* could not re-add: try again later */
}

/* Answers 408 to late heads, closes refused connections whose linger is over. Returns the ms until the next
 * such deadline (at most 1000). */
static int sweep(struct sl_front *f)
{
    int64_t now = sl_http_now_ms(), next = now + 1000;
    for (struct waiting *w = f->wait, *nx; w; w = nx) {
        nx = w->next;
        int64_t due = w->since_ms + (w->closing ? SL_FRONT_LINGER_MS : f->header_timeout_ms);
        if (now < due) {
            next = due < next ? due : next;
        } else if (w->closing) {
            close(w->fd);
            wait_remove(f, w);
        } else {
            refuse(f, w, w->fd, &w->addr, w->alen, SL_REFUSE_TIMEOUT);
            next = now + 1; /* now CLOSING (or gone): its linger deadline */
        }
    }
    return (int)(next - now);
}

static void *front_main(void *arg)
{
    struct sl_front *f = arg;
    int timeout = 1000;
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(f->epfd, evs, 64, timeout);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &f->efd)
                return NULL;
            if (evs[i].data.ptr == &f->lfd)
                accept_all(f);
            else
                on_conn_event(f, evs[i].data.ptr);
        }
        timeout = resume_listen(f, sweep(f));
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
    if (f->reserve >= 0)
        close(f->reserve);
    free(f);
}

int sl_front_start(const struct sockaddr *addr, socklen_t len, int backlog, size_t max_wait,
                   int64_t header_timeout_ms, struct MHD_Daemon *d, const struct sl_front_streams *streams,
                   const struct sl_router *r, struct sl_front **out)
{
    struct sl_front *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    *f = (struct sl_front){.lfd = -1, .d = d, .streams = *streams, .router = r, .max_wait = max_wait,
                           .header_timeout_ms = header_timeout_ms};
    f->epfd = epoll_create1(EPOLL_CLOEXEC);
    f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int rc = f->epfd < 0 || f->efd < 0 || f->reserve < 0 ? -errno : listen_on(f, addr, len, backlog);
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
