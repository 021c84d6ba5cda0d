/* Streaming v3 produce on a raw connection (api/rest/produce_stream.h).
 *
 * ONE CONNECTION (its own thread): read the head -> check the target -> loop { poll(socket, eventfd);
 * read body bytes -> de-chunk -> sl_v3p_feed; format ready reports -> one HTTP chunk each round -> send }
 * until the body ended, no produce is pending and every report is sent -> final chunk -> close.
 *
 * LIFETIME: struct pconn is reference counted: one reference for the thread, one per produce in flight
 * (sl_v3hooks.hold/release), so a done callback that runs after the thread gave up still finds its state.
 * The eventfd lives as long as the struct.
 *
 * BACKPRESSURE: no body is read while more than OUT_HIGH bytes of reports wait to be sent.
 *
 * DEADLINES (checked after every poll round, which waits at most tick_ms): mark_ms is when the stream last
 * made progress -- a record completed (sl_v3p_records grew) or one began (sl_v3p_partial turned true). With
 * a record in progress, body_ms after mark_ms aborts with a 408 report; without one, idle_ms after mark_ms
 * ends the body cleanly. Bytes that start no record (whitespace, chunk framing) make no progress, so a
 * trickle of them cannot hold a thread. */
#include "api/rest/produce_stream.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http/front.h"
#include "api/http/http_int.h"
#include "api/http/metrics.h"
#include "api/rest/v3produce.h"
#include "server/logging.h"
#include "storage/clock.h"

#define IN_CAP 65536
#define OUT_HIGH (1u << 20)

struct sl_streams {
    struct sl_http_srv *srv;
    struct sl_streams_cfg cfg;
    int64_t tick_ms;        /* longest poll wait of a stream: how late a deadline may be seen */
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* n dropped */
    size_t n;               /* guarded by: mu; live connection threads */
    bool stopping;          /* guarded by: mu */
    struct pconn *conns;    /* guarded by: mu; live connections (to wake them at stop) */
};

struct pconn {
    struct sl_streams *s;
    struct pconn *next, *prev; /* guarded by: s->mu */
    atomic_int refs;
    int fd, efd;
    struct sl_v3p *p;
    struct sl_chunked ck;
    char in[IN_CAP];
    size_t in_len;
    struct sl_buf out, rep;    /* out: bytes to send; rep: scratch for one round of reports */
    size_t out_at;
    const char *cors;          /* Access-Control-Allow-Origin to send, or NULL */
    char origin[256];
    bool head_sent, body_done, gone;
    int route;
    unsigned status;
    int64_t t0_ms;
    int64_t mark_ms;           /* last progress (see DEADLINES) */
    size_t seen_records;       /* sl_v3p_records at mark_ms */
    bool in_record;            /* sl_v3p_partial at mark_ms */
};

/* ---- registry ---- */

int sl_streams_new(struct sl_http_srv *srv, const struct sl_streams_cfg *cfg, struct sl_streams **out)
{
    struct sl_streams *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->srv = srv;
    s->cfg = *cfg;
    int64_t m = cfg->idle_ms < cfg->body_ms ? cfg->idle_ms : cfg->body_ms;
    s->tick_ms = m / 10 < 10 ? 10 : m / 10 > 1000 ? 1000 : m / 10;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = s;
    return 0;
}

void sl_streams_free(struct sl_streams *s)
{
    if (!s || s->n)
        return;
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void wake_fd(int efd)
{
    uint64_t one = 1;
    ssize_t w = write(efd, &one, sizeof one);
    (void)w; /* EAGAIN: a wake is already pending */
}

size_t sl_streams_stop(struct sl_streams *s, int64_t timeout_ms)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    for (struct pconn *c = s->conns; c; c = c->next)
        wake_fd(c->efd);
    int64_t deadline = sl_http_now_ms() + timeout_ms;
    while (s->n && sl_http_now_ms() < deadline) {
        struct timespec ts;
        sl_clock_deadline_mono(&ts, 20); /* s->cv waits on CLOCK_MONOTONIC */
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    size_t left = s->n;
    pthread_mutex_unlock(&s->mu);
    return left;
}

static bool stopping(struct sl_streams *s)
{
    pthread_mutex_lock(&s->mu);
    bool st = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* ---- one connection: lifetime ---- */

static void pconn_unref(struct pconn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    sl_v3p_free(c->p);
    sl_buf_fini(&c->out);
    sl_buf_fini(&c->rep);
    close(c->efd);
    free(c);
}

static void hook_hold(void *arg)
{
    struct pconn *c = arg;
    atomic_fetch_add(&c->refs, 1);
}

static void hook_release(void *arg)
{
    pconn_unref(arg);
}

static void hook_wake(void *arg)
{
    struct pconn *c = arg;
    wake_fd(c->efd);
}

/* ---- output ---- */

/* Sends what out holds without blocking. A send error marks the client gone (output is dropped). */
static void flush_out(struct pconn *c)
{
    while (!c->gone && c->out_at < c->out.len) {
        ssize_t w = send(c->fd, c->out.base + c->out_at, c->out.len - c->out_at, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0)
            c->out_at += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        else
            c->gone = true;
    }
    if (c->out_at == c->out.len || c->gone)
        c->out.len = c->out_at = 0;
}

static void cors_headers(struct pconn *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (c->cors)
        snprintf(buf, cap, "Access-Control-Allow-Origin: %s\r\n%s", c->cors,
                 strcmp(c->cors, "*") ? "Vary: Origin\r\n" : "");
}

/* Queues a complete error response (the connection closes after it). */
static void send_error(struct pconn *c, unsigned status, int code, const char *msg)
{
    struct sl_buf body = {0};
    char head[512], cors[384];
    int n = snprintf(head, sizeof head, "{\"error_code\":%d,\"message\":", code);
    sl_buf_append(&body, head, (size_t)n);
    sl_json_str_append(&body, (const uint8_t *)msg, strlen(msg));
    sl_buf_append(&body, "}", 1);
    cors_headers(c, cors, sizeof cors);
    n = snprintf(head, sizeof head,
                 "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n%s\r\n",
                 status, MHD_get_reason_phrase_for(status), body.len, cors);
    sl_buf_append(&c->out, head, (size_t)n);
    sl_buf_append(&c->out, body.base, body.len);
    sl_buf_fini(&body);
    c->status = status;
    c->head_sent = true;
}

/* Formats the ready reports into one HTTP chunk (the response head first, once). */
static void queue_reports(struct pconn *c)
{
    c->rep.len = 0;
    if (!sl_v3p_format(c->p, &c->rep, 64 * 1024, false))
        return;
    if (!c->head_sent) {
        char head[512], cors[384];
        cors_headers(c, cors, sizeof cors);
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                         "Connection: close\r\n%s\r\n",
                         cors);
        sl_buf_append(&c->out, head, (size_t)n);
        c->head_sent = true;
        c->status = 200;
    }
    char size[24];
    int n = snprintf(size, sizeof size, "%zx\r\n", c->rep.len);
    sl_buf_append(&c->out, size, (size_t)n);
    sl_buf_append(&c->out, c->rep.base, c->rep.len);
    sl_buf_append(&c->out, "\r\n", 2);
}

/* ---- input ---- */

static void end_body(struct pconn *c)
{
    if (!c->body_done)
        sl_v3p_end(c->p);
    c->body_done = true;
}

/* De-chunks in[0, in_len) and feeds the records. */
static void take_body(struct pconn *c)
{
    size_t data;
    ssize_t used = sl_chunked_decode(&c->ck, c->in, c->in_len, c->in, &data);
    if (data && sl_v3p_feed(c->p, c->in, data))
        end_body(c); /* parsing stopped: the rest of the body would be ignored anyway */
    c->in_len = 0;
    if (used < 0) {
        sl_v3p_abort(c->p, 400, "Malformed chunked request body.");
        c->body_done = true;
    } else if (c->ck.done) {
        end_body(c);
    }
}

static void read_body(struct pconn *c)
{
    ssize_t r = recv(c->fd, c->in, sizeof c->in, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) { /* the client closed its side (or is gone): the body ends here */
        end_body(c);
        if (r < 0)
            c->gone = true;
        return;
    }
    c->in_len = (size_t)r;
    take_body(c);
}

/* Reads until the request head is complete (it was already seen by the front, so this rarely waits).
 * Returns 0 with *h parsed from c->in, -EBADMSG (malformed or too long: h->error says which), -ETIMEDOUT
 * (too slow) or -ECONNRESET (the client is gone). */
static int read_head(struct pconn *c, struct sl_http1_head *h)
{
    for (;;) {
        int rc = sl_http1_parse_head(c->in, c->in_len, h);
        if (rc)
            return rc > 0 ? 0 : -EBADMSG;
        if (c->in_len == sizeof c->in)
            return -EBADMSG;
        if (sl_http_now_ms() - c->t0_ms > c->s->cfg.header_ms)
            return -ETIMEDOUT;
        struct pollfd pf = {c->fd, POLLIN, 0};
        if (poll(&pf, 1, 1000) < 0 && errno != EINTR)
            return -ECONNRESET;
        ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return -ECONNRESET;
        if (r > 0)
            c->in_len += (size_t)r;
    }
}

/* Copies field name of h into buf (truncated; "" when absent). Returns buf, or NULL when absent. */
static const char *field_copy(const struct sl_http1_head *h, const char *name, char *buf, size_t cap)
{
    const struct sl_http1_field *f = sl_http1_field(h, name);
    if (!f)
        return NULL;
    size_t n = f->value_len < cap - 1 ? f->value_len : cap - 1;
    memcpy(buf, f->value, n);
    buf[n] = '\0';
    return buf;
}

/* Applies the stream deadlines at now (see DEADLINES). */
static void check_deadlines(struct pconn *c, int64_t now)
{
    bool partial = sl_v3p_partial(c->p);
    size_t records = sl_v3p_records(c->p);
    if (records != c->seen_records || (partial && !c->in_record))
        c->mark_ms = now;
    c->seen_records = records;
    c->in_record = partial;
    const struct sl_streams_cfg *cfg = &c->s->cfg;
    if (partial && now - c->mark_ms >= cfg->body_ms) {
        char msg[96];
        snprintf(msg, sizeof msg, "Record not completed within %" PRId64 " ms (rest.body.timeout.ms).", cfg->body_ms);
        sl_v3p_abort(c->p, 408, msg);
        c->body_done = true;
    } else if (!partial && now - c->mark_ms >= cfg->idle_ms) {
        end_body(c);
    }
}

/* Runs the request until the body ended and every report is queued (or the client is gone). */
static void pump(struct pconn *c)
{
    for (;;) {
        queue_reports(c);
        if (c->body_done && sl_v3p_done(c->p)) {
            if (!c->head_sent)
                send_error(c, 400, 400, "Payload error. Request body is empty. Data is required.");
            else
                sl_buf_append(&c->out, "0\r\n\r\n", 5);
            return;
        }
        flush_out(c);
        if (c->gone)
            return;
        if (!c->body_done && stopping(c->s))
            end_body(c);
        else if (!c->body_done)
            check_deadlines(c, sl_http_now_ms());
        bool want_in = !c->body_done && c->out.len - c->out_at < OUT_HIGH;
        struct pollfd pf[2] = {{c->fd, (short)((want_in ? POLLIN : 0) | (c->out_at < c->out.len ? POLLOUT : 0)), 0},
                               {c->efd, POLLIN, 0}};
        if (poll(pf, 2, (int)c->s->tick_ms) < 0 && errno != EINTR)
            c->gone = true;
        uint64_t v;
        if (pf[1].revents & POLLIN)
            (void)!read(c->efd, &v, sizeof v);
        if (want_in && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
            read_body(c);
    }
}

static void serve(struct pconn *c)
{
    struct sl_http1_head h;
    struct sl_route_match m;
    char path[1024], ctype[256];
    if (read_head(c, &h)) {
        c->gone = true;
        return;
    }
    if (!sl_front_is_stream(c->s->srv->api->router, &h, path, sizeof path, &m)) {
        send_error(c, 400, 400, "Bad Request"); /* the front classified it: not reached normally */
        return;
    }
    c->route = m.route;
    if (field_copy(&h, "Origin", c->origin, sizeof c->origin))
        c->cors = sl_http_cors_for(c->s->srv, c->origin);
    struct sl_rec_err e;
    if (sl_v3p_target(c->p, sl_route_param(&m, "cid"), sl_route_param(&m, "t"),
                      sl_http_ctype_json(field_copy(&h, "Content-Type", ctype, sizeof ctype)), &e)) {
        send_error(c, e.status, e.code, e.msg);
        return;
    }
    if (sl_http1_has_token(&h, "Expect", "100-continue"))
        sl_buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    c->in_len -= h.len;
    memmove(c->in, c->in + h.len, c->in_len);
    c->mark_ms = sl_http_now_ms();
    if (c->in_len)
        take_body(c);
    pump(c);
}

/* Sends the rest of the response, then closes without resetting: the client's unread body (after an early
 * error) is drained for a moment, or the kernel would answer it with a reset that can destroy the reply. */
static void finish(struct pconn *c)
{
    int64_t deadline = sl_http_now_ms() + 5000;
    while (!c->gone && c->out_at < c->out.len && sl_http_now_ms() < deadline) {
        struct pollfd pf = {c->fd, POLLOUT, 0};
        poll(&pf, 1, 200);
        flush_out(c);
    }
    shutdown(c->fd, SHUT_WR);
    deadline = sl_http_now_ms() + (stopping(c->s) ? 200 : 2000);
    while (!c->gone && sl_http_now_ms() < deadline) {
        struct pollfd pf = {c->fd, POLLIN, 0};
        if (poll(&pf, 1, 200) <= 0)
            continue;
        ssize_t r = recv(c->fd, c->in, sizeof c->in, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            break;
    }
    close(c->fd);
}

/* Takes c off the registry and wakes a waiting stop. */
static void unlink_conn(struct sl_streams *s, struct pconn *c)
{
    pthread_mutex_lock(&s->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *conn_main(void *arg)
{
    struct pconn *c = arg;
    struct sl_streams *s = c->s;
    struct sl_metrics *m = s->srv->api->metrics;
    sl_metrics_connection(m, 1);
    serve(c);
    finish(c);
    sl_metrics_connection(m, -1);
    sl_metrics_request(m, c->route, c->status ? c->status : 499, (sl_http_now_ms() - c->t0_ms) * 1000);
    unlink_conn(s, c);
    pconn_unref(c);
    return NULL;
}

static struct pconn *pconn_new(struct sl_streams *s, int fd)
{
    struct pconn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->s = s;
    c->fd = fd;
    c->route = -1;
    c->t0_ms = sl_http_now_ms();
    atomic_init(&c->refs, 1);
    const struct sl_v3hooks hooks = {.hold = hook_hold, .release = hook_release, .wake = hook_wake, .arg = c};
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->efd < 0 || !(c->p = sl_v3p_new(s->srv->api, &hooks))) {
        if (c->efd >= 0)
            close(c->efd);
        free(c);
        return NULL;
    }
    return c;
}

/* Answers a stream over the cap 503/50303 and closes fd, without blocking: what the client sent so far (its
 * head) is read first, so the close does not reset the connection under the answer. */
static void refuse(struct sl_streams *s, int fd)
{
    char buf[4096];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
    static const char body[] = "{\"error_code\":50303,\"message\":\"Too many streaming produces at once "
                               "(rest.max.streams); retry later.\"}";
    char msg[512];
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Retry-After: 1\r\nConnection: close\r\n\r\n%s",
                     sizeof body - 1, body);
    ssize_t w = send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    shutdown(fd, SHUT_WR);
    close(fd);
    sl_metrics_request(s->srv->api->metrics, -1, 503, 0);
}

int sl_streams_take(struct sl_streams *s, int fd)
{
    pthread_mutex_lock(&s->mu);
    bool stop = s->stopping, full = s->n >= s->cfg.max_streams;
    pthread_mutex_unlock(&s->mu);
    if (stop)
        return -EBUSY;
    if (full) {
        refuse(s, fd);
        return 0;
    }
    struct pconn *c = pconn_new(s, fd);
    if (!c)
        return -ENOMEM;
    pthread_mutex_lock(&s->mu);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n++;
    pthread_mutex_unlock(&s->mu);
    pthread_attr_t a;
    pthread_t th;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &a, conn_main, c);
    pthread_attr_destroy(&a);
    if (rc == 0)
        return 0;
    unlink_conn(s, c);
    c->fd = -1;
    pconn_unref(c);
    return -rc;
}
