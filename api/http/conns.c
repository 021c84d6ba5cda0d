/* Per-connection deadlines for libmicrohttpd's connections (api/http/conns.h).
 *
 * INVARIANTS
 *   1. A record is on cs->list from sl_conns_open to sl_conns_close; the sweeper touches a record (and its
 *      socket) only while holding cs->mu, and sl_conns_close unlinks under cs->mu, so a record the sweeper
 *      sees is alive and its fd is still the connection's (libmicrohttpd closes fd after NOTIFY_CLOSED).
 *   2. phase and since change only under c->mu. Lock order: cs->mu, then c->mu; the libmicrohttpd side
 *      takes c->mu alone (phase changes) or cs->mu alone (open/close), never both.
 *   3. The sweeper writes to a socket only in HEAD, or in BODY (libmicrohttpd writes nothing in those
 *      phases: a reply queued while the head is processed moves the connection to BUSY at once), and it
 *      does so holding c->mu, so the handler's body_done (and its reply) waits until the 408 is written
 *      and the write side is shut: whatever libmicrohttpd writes afterwards fails instead of interleaving.
 *
 * DETECTING A HEAD ON AN IDLE CONNECTION: libmicrohttpd reads a head without telling anyone until it is
 * complete. The sweeper asks the kernel instead (TCP_INFO tcpi_last_data_recv: milliseconds since the
 * last data segment arrived): data that arrived after the previous request ended means a head is on its
 * way. One getsockopt per idle connection per sweep (~1 us; 10,000 idle connections at the default period
 * of 500 ms cost ~2 % of a core). Bytes that arrive within HEAD_SLACK_MS of the request's end are taken for
 * the end of the previous exchange and only count once more bytes come.
 *
 * FAILURE MODES: a pipelined head that libmicrohttpd had already read in part when the previous request
 * ended, and whose rest never comes, looks idle: it is closed silently at the idle deadline, not with a 408.
 * The 408 is written best effort (MSG_DONTWAIT): with a full send buffer the client sees only the close.
 * Out of memory at connection start leaves that connection without deadlines (libmicrohttpd's own timeout
 * still applies). */
#include "api/http/conns.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "api/http/http.h"
#include "storage/clock.h"

#define LINGER_MS 200   /* between the 408 (write side shut) and shutting the read side */
#define HEAD_SLACK_MS 20

enum phase { P_HEAD, P_BODY, P_BUSY, P_IDLE, P_CLOSING, P_DEAD };

struct sl_conn {
    pthread_mutex_t mu;
    int fd;
    enum phase phase;           /* guarded by: mu */
    int64_t since;              /* guarded by: mu; sl_http_now_ms() when the phase began */
    bool timed_out;             /* guarded by: mu */
    struct sl_conn *next, *prev; /* guarded by: sl_conns.mu */
};

struct sl_conns {
    struct sl_conns_cfg cfg;
    int64_t period_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* quit */
    struct sl_conn *list;       /* guarded by: mu */
    bool quit;                  /* guarded by: mu */
    pthread_t th;
};

static _Atomic uint64_t n_header, n_body, n_idle;

void sl_conns_stats(struct sl_conns_stats *out)
{
    out->header = atomic_load(&n_header);
    out->body = atomic_load(&n_body);
    out->idle = atomic_load(&n_idle);
}

/* ---- the libmicrohttpd side ---- */

struct sl_conn *sl_conns_open(struct sl_conns *cs, int fd)
{
    struct sl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->fd = fd;
    c->phase = P_HEAD;
    c->since = sl_http_now_ms();
    pthread_mutex_lock(&cs->mu);
    c->next = cs->list;
    if (cs->list)
        cs->list->prev = c;
    cs->list = c;
    pthread_mutex_unlock(&cs->mu);
    return c;
}

void sl_conns_close(struct sl_conns *cs, struct sl_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->mu); /* waits for a sweep in progress (INVARIANT 1) */
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&cs->mu);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Moves c to phase p (from now), unless the sweeper already ended it. */
static void enter(struct sl_conn *c, enum phase p)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->phase != P_CLOSING && c->phase != P_DEAD) {
        c->phase = p;
        c->since = sl_http_now_ms();
    }
    pthread_mutex_unlock(&c->mu);
}

void sl_conn_head_done(struct sl_conn *c)
{
    enter(c, P_BODY);
}

void sl_conn_body_done(struct sl_conn *c)
{
    enter(c, P_BUSY);
}

void sl_conn_request_done(struct sl_conn *c)
{
    enter(c, P_IDLE);
}

bool sl_conn_timed_out(struct sl_conn *c)
{
    if (!c)
        return false;
    pthread_mutex_lock(&c->mu);
    bool t = c->timed_out;
    pthread_mutex_unlock(&c->mu);
    return t;
}

/* ---- the sweeper ---- */

/* True when data arrived on c's socket after its phase began (plus the slack). */
static bool data_since(const struct sl_conn *c, int64_t now)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) || len < sizeof ti)
        return false;
    return now - (int64_t)ti.tcpi_last_data_recv > c->since + HEAD_SLACK_MS;
}

/* Writes a complete 408 response (best effort: a full send buffer drops it) and shuts the write side. */
static void answer_408(struct sl_conn *c, const char *what, int64_t ms)
{
    char body[192], msg[512];
    int bn = snprintf(body, sizeof body, "{\"error_code\":408,\"message\":\"The request %s did not arrive within %" PRId64
                      " ms.\"}", what, ms);
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n%s",
                     bn, body);
    ssize_t w = send(c->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    shutdown(c->fd, SHUT_WR);
    c->timed_out = true;
    c->phase = P_CLOSING;
}

/* Applies c's deadline at now (cs->mu and c->mu held). */
static void check(struct sl_conns *cs, struct sl_conn *c, int64_t now)
{
    int64_t age = now - c->since;
    switch (c->phase) {
    case P_IDLE:
        if (data_since(c, now)) {
            c->phase = P_HEAD;
            c->since = now;
        } else if (age >= cs->cfg.idle_ms) {
            shutdown(c->fd, SHUT_RDWR);
            c->phase = P_DEAD;
            atomic_fetch_add(&n_idle, 1);
        }
        return;
    case P_HEAD:
        if (age >= cs->cfg.header_ms) {
            answer_408(c, "head", cs->cfg.header_ms);
            c->since = now;
            atomic_fetch_add(&n_header, 1);
        }
        return;
    case P_BODY:
        if (age >= cs->cfg.body_ms) {
            answer_408(c, "body", cs->cfg.body_ms);
            c->since = now;
            atomic_fetch_add(&n_body, 1);
        }
        return;
    case P_CLOSING:
        if (age >= LINGER_MS) {
            shutdown(c->fd, SHUT_RD);
            c->phase = P_DEAD;
        }
        return;
    case P_BUSY:
    case P_DEAD:
        return;
    }
}

static void sweep(struct sl_conns *cs)
{
    int64_t now = sl_http_now_ms();
    for (struct sl_conn *c = cs->list; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        check(cs, c, now);
        pthread_mutex_unlock(&c->mu);
    }
}

static void *sweeper_main(void *arg)
{
    struct sl_conns *cs = arg;
    pthread_mutex_lock(&cs->mu);
    while (!cs->quit) {
        struct timespec ts;
        sl_clock_deadline_mono(&ts, cs->period_ms); /* cs->cv waits on CLOCK_MONOTONIC */
        if (pthread_cond_timedwait(&cs->cv, &cs->mu, &ts) == ETIMEDOUT)
            sweep(cs);
    }
    pthread_mutex_unlock(&cs->mu);
    return NULL;
}

int sl_conns_start(const struct sl_conns_cfg *cfg, struct sl_conns **out)
{
    struct sl_conns *cs = calloc(1, sizeof *cs);
    if (!cs)
        return -ENOMEM;
    cs->cfg = *cfg;
    int64_t m = cfg->header_ms < cfg->body_ms ? cfg->header_ms : cfg->body_ms;
    m = m < cfg->idle_ms ? m : cfg->idle_ms;
    cs->period_ms = m / 20 < 10 ? 10 : m / 20 > 500 ? 500 : m / 20; /* how late a deadline may be acted on */
    pthread_mutex_init(&cs->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cs->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&cs->th, NULL, sweeper_main, cs);
    if (rc) {
        pthread_cond_destroy(&cs->cv);
        pthread_mutex_destroy(&cs->mu);
        free(cs);
        return -rc;
    }
    *out = cs;
    return 0;
}

void sl_conns_stop(struct sl_conns *cs)
{
    if (!cs)
        return;
    pthread_mutex_lock(&cs->mu);
    cs->quit = true;
    pthread_cond_signal(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    pthread_join(cs->th, NULL);
    pthread_cond_destroy(&cs->cv);
    pthread_mutex_destroy(&cs->mu);
    free(cs);
}
