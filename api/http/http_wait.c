/* Waiting without blocking a libmicrohttpd thread: suspend/resume with sluice's own deadlines (libmicrohttpd
 * never times a suspended connection out), parked streaming replies, and the stop-time sweep.
 *
 * INVARIANTS
 *   1. Only the thread that moves a request SUSPENDED/PARKED -> RESUMING (under req->mu) calls
 *      MHD_resume_connection for it, after dropping req->mu; until then libmicrohttpd cannot touch the
 *      connection, so it is alive. Whoever calls it holds a reference, so req is alive too.
 *   2. MHD_suspend_connection runs with req->mu held, so nobody sees SUSPENDED before the connection is
 *      really suspended.
 *   3. A request is on the parked list from suspend/park until its pool thread picks it up again (or it is
 *      done); sl_http_stop_all waits for the list to drain, so libmicrohttpd is never stopped with a
 *      suspended connection. Once stopping is set (under tmu), nothing joins the list.
 *   4. A request is in the deadline heap only while SUSPENDED with a deadline, or PARKED (a streaming reply)
 *      with a stream deadline (sl_http_stream_wake_at).
 *   Lock order: req->mu, then srv->tmu. The timer thread never holds tmu while taking req->mu.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "api/http/http_int.h"
#include "storage/clock.h"
#include "storage/err.h"

/* ---- the deadline heap (guarded by srv->tmu) ---- */

static void heap_set(struct sl_http_srv *s, size_t i, struct sl_req *r)
{
    s->heap[i] = r;
    r->heap_idx = i;
}

static void heap_up(struct sl_http_srv *s, size_t i)
{
    struct sl_req *r = s->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (s->heap[p]->deadline <= r->deadline)
            break;
        heap_set(s, i, s->heap[p]);
        i = p;
    }
    heap_set(s, i, r);
}

static void heap_down(struct sl_http_srv *s, size_t i)
{
    struct sl_req *r = s->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->nheap)
            break;
        if (c + 1 < s->nheap && s->heap[c + 1]->deadline < s->heap[c]->deadline)
            c++;
        if (r->deadline <= s->heap[c]->deadline)
            break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, r);
}

static int heap_push(struct sl_http_srv *s, struct sl_req *r)
{
    if (s->nheap == s->capheap) {
        size_t cap = s->capheap ? s->capheap * 2 : 256;
        struct sl_req **nh = realloc(s->heap, cap * sizeof *nh);
        if (!nh)
            return -ENOMEM;
        s->heap = nh;
        s->capheap = cap;
    }
    heap_set(s, s->nheap++, r);
    heap_up(s, r->heap_idx);
    return 0;
}

static void heap_remove(struct sl_http_srv *s, struct sl_req *r)
{
    size_t i = r->heap_idx;
    if (i == SIZE_MAX)
        return;
    r->heap_idx = SIZE_MAX;
    struct sl_req *last = s->heap[--s->nheap];
    if (i == s->nheap)
        return;
    heap_set(s, i, last);
    heap_up(s, i);
    heap_down(s, last->heap_idx);
}

/* ---- the parked list (guarded by srv->tmu) ---- */

static void park_add(struct sl_http_srv *s, struct sl_req *r)
{
    r->in_parked = true;
    r->pprev = NULL;
    r->pnext = s->parked;
    if (s->parked)
        s->parked->pprev = r;
    s->parked = r;
    s->nparked++;
}

static void park_remove(struct sl_http_srv *s, struct sl_req *r)
{
    if (!r->in_parked)
        return;
    r->in_parked = false;
    if (r->pprev)
        r->pprev->pnext = r->pnext;
    else
        s->parked = r->pnext;
    if (r->pnext)
        r->pnext->pprev = r->pprev;
    if (--s->nparked == 0)
        pthread_cond_broadcast(&s->parked_cv);
}

/* ---- transitions ---- */

/* Wakes req for why. Caller holds a reference. */
static void wake(struct sl_req *req, enum sl_http_wake why)
{
    struct sl_http_srv *s = req->srv;
    struct MHD_Connection *conn = NULL;
    pthread_mutex_lock(&req->mu);
    switch (req->state) {
    case SL_REQ_SUSPENDED:
    case SL_REQ_PARKED:
        req->state = SL_REQ_RESUMING;
        req->why = why;
        conn = req->conn;
        pthread_mutex_lock(&s->tmu);
        heap_remove(s, req);
        pthread_mutex_unlock(&s->tmu);
        break;
    case SL_REQ_RUNNING:
        if (!req->wake_pending || why == SL_HTTP_WAKE_STOPPING)
            req->why = why;
        req->wake_pending = true;
        break;
    case SL_REQ_RESUMING:
        if (why == SL_HTTP_WAKE_STOPPING)
            req->why = why;
        break;
    case SL_REQ_DONE:
        break;
    }
    pthread_mutex_unlock(&req->mu);
    if (conn)
        MHD_resume_connection(conn);
}

void sl_http_resume(struct sl_req *req)
{
    wake(req, SL_HTTP_WAKE_RESUMED);
}

void sl_http_stream_wake(struct sl_req *req)
{
    wake(req, SL_HTTP_WAKE_RESUMED);
}

/* Puts req (locked) on the parked list (and the heap), or returns SL_ESTOPPED when stopping. */
static int park_locked(struct sl_req *req, int64_t deadline)
{
    struct sl_http_srv *s = req->srv;
    pthread_mutex_lock(&s->tmu);
    if (atomic_load(&s->stopping)) {
        pthread_mutex_unlock(&s->tmu);
        return SL_ESTOPPED;
    }
    req->deadline = deadline;
    if (deadline > 0) {
        if (heap_push(s, req)) {
            pthread_mutex_unlock(&s->tmu);
            return -ENOMEM;
        }
        if (req->heap_idx == 0)
            pthread_cond_signal(&s->tcv);
    }
    park_add(s, req);
    pthread_mutex_unlock(&s->tmu);
    return 0;
}

/* Suspends req's connection (req->mu held) in state st; consumes a pending wake by resuming at once. */
static int suspend_locked(struct sl_req *req, int64_t deadline, enum sl_req_state st, bool *resume_now)
{
    int rc = park_locked(req, deadline);
    if (rc)
        return rc;
    req->state = st;
    MHD_suspend_connection(req->conn);
    *resume_now = req->wake_pending;
    if (req->wake_pending) {
        req->wake_pending = false;
        req->state = SL_REQ_RESUMING;
        pthread_mutex_lock(&req->srv->tmu);
        heap_remove(req->srv, req);
        pthread_mutex_unlock(&req->srv->tmu);
    } else {
        req->why = SL_HTTP_WAKE_RESUMED;
    }
    return 0;
}

int sl_http_suspend(struct sl_req *req, int64_t deadline_ms, sl_http_resume_fn on_resume)
{
    if (req->replied || !on_resume)
        return -EINVAL;
    bool now = false;
    req->on_resume = on_resume; /* read by this connection's pool thread only, after it returns */
    pthread_mutex_lock(&req->mu);
    int rc = suspend_locked(req, deadline_ms, SL_REQ_SUSPENDED, &now);
    struct MHD_Connection *conn = req->conn;
    pthread_mutex_unlock(&req->mu);
    if (rc) {
        req->on_resume = NULL;
        return rc;
    }
    req->acted = true;
    if (now)
        MHD_resume_connection(conn);
    return 0;
}

enum sl_http_wake sl_http_take_resume(struct sl_req *req)
{
    pthread_mutex_lock(&req->mu);
    enum sl_http_wake why = req->why;
    req->state = SL_REQ_RUNNING;
    req->why = SL_HTTP_WAKE_RESUMED;
    pthread_mutex_lock(&req->srv->tmu);
    park_remove(req->srv, req);
    pthread_mutex_unlock(&req->srv->tmu);
    pthread_mutex_unlock(&req->mu);
    if (atomic_load(&req->srv->stopping))
        why = SL_HTTP_WAKE_STOPPING;
    return why;
}

void sl_http_mark_done(struct sl_req *req)
{
    pthread_mutex_lock(&req->mu);
    req->state = SL_REQ_DONE;
    req->conn = NULL;
    pthread_mutex_lock(&req->srv->tmu);
    heap_remove(req->srv, req);
    park_remove(req->srv, req);
    pthread_mutex_unlock(&req->srv->tmu);
    pthread_mutex_unlock(&req->mu);
}

/* ---- the timer thread ---- */

static void *timer_main(void *arg)
{
    struct sl_http_srv *s = arg;
    pthread_mutex_lock(&s->tmu);
    while (!s->timer_quit) {
        if (s->nheap == 0) {
            pthread_cond_wait(&s->tcv, &s->tmu);
            continue;
        }
        struct sl_req *top = s->heap[0];
        if (top->deadline > sl_http_now_ms()) {
            struct timespec ts;
            sl_clock_deadline_at(&ts, top->deadline); /* s->tcv waits on CLOCK_MONOTONIC, as sl_http_now_ms */
            pthread_cond_timedwait(&s->tcv, &s->tmu, &ts);
            continue;
        }
        heap_remove(s, top);
        sl_http_ref(top); /* still parked: alive (INVARIANT 3) */
        pthread_mutex_unlock(&s->tmu);
        wake(top, SL_HTTP_WAKE_TIMEOUT);
        sl_http_unref(top);
        pthread_mutex_lock(&s->tmu);
    }
    pthread_mutex_unlock(&s->tmu);
    return NULL;
}

int sl_http_timer_start(struct sl_http_srv *s)
{
    int rc = pthread_create(&s->timer, NULL, timer_main, s);
    if (rc)
        return -rc;
    s->timer_running = true;
    return 0;
}

void sl_http_timer_stop(struct sl_http_srv *s)
{
    if (!s->timer_running)
        return;
    pthread_mutex_lock(&s->tmu);
    s->timer_quit = true;
    pthread_cond_signal(&s->tcv);
    pthread_mutex_unlock(&s->tmu);
    pthread_join(s->timer, NULL);
    s->timer_running = false;
}

size_t sl_http_stop_all(struct sl_http_srv *s, int64_t timeout_ms)
{
    pthread_mutex_lock(&s->tmu);
    atomic_store(&s->stopping, true);
    size_t n = 0;
    struct sl_req **all = s->nparked ? malloc(s->nparked * sizeof *all) : NULL;
    for (struct sl_req *r = s->parked; r && all; r = r->pnext) {
        sl_http_ref(r);
        all[n++] = r;
    }
    pthread_mutex_unlock(&s->tmu);
    for (size_t i = 0; i < n; i++) {
        wake(all[i], SL_HTTP_WAKE_STOPPING);
        sl_http_unref(all[i]);
    }
    free(all);
    int64_t deadline = sl_http_now_ms() + timeout_ms;
    pthread_mutex_lock(&s->tmu);
    while (s->nparked) {
        struct timespec ts;
        sl_clock_deadline_at(&ts, deadline);
        if (pthread_cond_timedwait(&s->parked_cv, &s->tmu, &ts) == ETIMEDOUT)
            break;
    }
    size_t left = s->nparked;
    pthread_mutex_unlock(&s->tmu);
    return left;
}

/* ---- streaming replies ---- */

ssize_t sl_http_stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sl_req *req = cls;
    pthread_mutex_lock(&req->mu);
    bool resumed = req->state == SL_REQ_RESUMING;
    if (resumed) {
        req->state = SL_REQ_RUNNING;
        pthread_mutex_lock(&req->srv->tmu);
        park_remove(req->srv, req);
        pthread_mutex_unlock(&req->srv->tmu);
    }
    pthread_mutex_unlock(&req->mu);

    ssize_t n = req->stream_read(req, buf, max);
    if (n == SL_HTTP_STREAM_END)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n > 0)
        return n;
    /* nothing yet: park until sl_http_stream_wake, unless a wake is pending (one more round) */
    bool now = false;
    pthread_mutex_lock(&req->mu);
    if (req->wake_pending) {
        req->wake_pending = false;
        pthread_mutex_unlock(&req->mu);
        return 0;
    }
    int rc = suspend_locked(req, req->stream_deadline, SL_REQ_PARKED, &now);
    struct MHD_Connection *conn = req->conn;
    pthread_mutex_unlock(&req->mu);
    if (rc) /* stopping: the reader had its chance to end */
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (now)
        MHD_resume_connection(conn);
    return 0;
}

void sl_http_stream_wake_at(struct sl_req *req, int64_t deadline_ms)
{
    req->stream_deadline = deadline_ms;
}

void sl_http_stream_free(void *cls)
{
    sl_http_unref(cls);
}
