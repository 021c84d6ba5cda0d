/* The metadata quorum's thread (see quorum.h). Everything libraft and libuv touch lives on that thread:
 * other threads only push proposals onto a mutex-guarded queue and wake the loop with uv_async_send (libuv's
 * one thread-safe call), and read the status the loop publishes into atomics after every iteration.
 *
 * STATES of the loop thread: STARTING (initialising raft; sl_quorum_start waits for its verdict) -> RUNNING
 * -> CLOSING (stop asked: queued proposals fail; a leader first hands its leadership to another voter,
 * raft_transfer, for at most SL_QUORUM_HANDOFF_MS; then raft_close, the transport and the handles close) ->
 * the loop runs dry and the thread ends. */

enum { SL_QUORUM_HANDOFF_MS = 2000 };
#include "server/quorum.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <raft/uv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "server/err.h"
#include "server/logging.h"
#include "storage/clock.h"
#include "storage/fileops.h"

struct item {
    struct item *next;
    struct raft_apply req; /* req.data = the item */
    uint8_t *buf;          /* the encoded record (malloc'd) */
    size_t len;
    void (*done)(void *arg, int rc);
    void *arg;
};

struct sl_quorum {
    struct sl_quorum_cfg cfg;
    struct sl_voters voters;
    char dir[4096];
    char addr[300];
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t wake;
    uv_check_t publish;
    uv_timer_t handoff_timer;  /* bounds the leadership hand-off at stop */
    struct raft_transfer handoff;
    bool handoff_done;
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft raft;
    bool transport_inited, io_inited, raft_inited, closing; /* loop thread only (closing: also under mu) */

    pthread_mutex_t mu;
    pthread_cond_t started_cv;
    int start_rc;          /* guarded by: mu; 1 while starting */
    struct item *queue;    /* guarded by: mu */
    bool stop;             /* guarded by: mu */

    _Atomic int role, leader_id;
    _Atomic bool member;
    _Atomic uint64_t term, commit, applied;
};

static void finish(struct item *it, int rc)
{
    it->done(it->arg, rc);
    free(it->buf);
    free(it);
}

static void on_applied(struct raft_apply *req, int status, void *result)
{
    finish(req->data, status ? sl_meta_raft_rc(status) : (int)(intptr_t)result);
}

/* Hands one queued proposal to raft (loop thread). */
static void submit(struct sl_quorum *q, struct item *it)
{
    if (q->closing) {
        finish(it, SL_ESTOPPED);
        return;
    }
    if (raft_state(&q->raft) != RAFT_LEADER) {
        finish(it, SL_ENOTLEADER);
        return;
    }
    struct raft_buffer rb = {.base = raft_malloc(it->len), .len = it->len};
    if (!rb.base) {
        finish(it, -ENOMEM);
        return;
    }
    memcpy(rb.base, it->buf, it->len);
    it->req.data = it;
    int rc = raft_apply(&q->raft, &it->req, &rb, 1, on_applied);
    if (rc) {
        if (rc == RAFT_NOTLEADER) /* refused before taking it; on later failures libraft 0.22.1 has */
            raft_free(rb.base);   /* released it itself (seen under ASan) */
        finish(it, sl_meta_raft_rc(rc));
    }
}

static void on_raft_closed(struct raft *r)
{
    struct sl_quorum *q = r->data;
    raft_uv_close(&q->io);
    raft_uv_tcp_close(&q->transport);
}

/* Closes raft (then io and transport, in on_raft_closed) or, after a failed setup, what was set up. */
static void close_raft(struct sl_quorum *q)
{
    if (q->raft_inited) {
        raft_close(&q->raft, on_raft_closed);
        return;
    }
    if (q->io_inited)
        raft_uv_close(&q->io);
    if (q->transport_inited)
        raft_uv_tcp_close(&q->transport);
}

/* libraft ids are > 0; node ids start at 0: raft id = node id + 1. */
static raft_id raft_id_of(int32_t node)
{
    return (raft_id)node + 1;
}

/* The end of CLOSING, once: after the hand-off (or its timeout), or at once when there was none. */
static void finish_close(struct sl_quorum *q)
{
    if (q->handoff_done)
        return;
    q->handoff_done = true;
    raft_id id = 0;
    const char *addr = NULL;
    raft_leader(&q->raft, &id, &addr);
    if (id && id != raft_id_of(q->cfg.node_id) && raft_state(&q->raft) != RAFT_LEADER)
        sl_info("quorum: leadership handed to node %d before stopping", (int)(id - 1));
    atomic_store(&q->role, SL_QUORUM_UNAVAILABLE);
    uv_close((uv_handle_t *)&q->handoff_timer, NULL);
    uv_close((uv_handle_t *)&q->publish, NULL);
    close_raft(q);
}

static void on_handoff(struct raft_transfer *req)
{
    finish_close(req->data);
}

static void on_handoff_timeout(uv_timer_t *t)
{
    finish_close(t->data);
}

/* Controlled shutdown: a leader with other voters asks one of them to take over first, so the quorum does
 * not wait an election timeout for a new leader. */
static void hand_off_then_close(struct sl_quorum *q)
{
    q->handoff.data = q;
    q->handoff_timer.data = q;
    bool leader = raft_state(&q->raft) == RAFT_LEADER && q->voters.n > 1;
    if (leader && raft_transfer(&q->raft, &q->handoff, 0, on_handoff) == 0) {
        uv_timer_start(&q->handoff_timer, on_handoff_timeout, SL_QUORUM_HANDOFF_MS, 0);
        return;
    }
    finish_close(q);
}

/* The wake handle is closed under mu, together with the stop decision: sl_quorum_propose sends on it only
 * under mu and only before stop, so it never touches a closed handle. */
static void on_wake(uv_async_t *h)
{
    struct sl_quorum *q = h->data;
    pthread_mutex_lock(&q->mu);
    struct item *list = q->queue;
    q->queue = NULL;
    bool close_now = q->stop && !q->closing;
    if (close_now) {
        q->closing = true;
        uv_close((uv_handle_t *)&q->wake, NULL);
    }
    pthread_mutex_unlock(&q->mu);
    struct item *rev = NULL; /* oldest first: the queue is pushed at its head */
    while (list) {
        struct item *n = list->next;
        list->next = rev;
        rev = list;
        list = n;
    }
    for (struct item *it = rev, *n; it; it = n) {
        n = it->next;
        submit(q, it);
    }
    if (close_now)
        hand_off_then_close(q);
}

static void on_publish(uv_check_t *h)
{
    struct sl_quorum *q = h->data;
    if (q->closing)
        return;
    raft_id id = 0;
    const char *addr = NULL;
    raft_leader(&q->raft, &id, &addr);
    static const int roles[] = {[RAFT_UNAVAILABLE] = SL_QUORUM_UNAVAILABLE, [RAFT_FOLLOWER] = SL_QUORUM_FOLLOWER,
                                [RAFT_CANDIDATE] = SL_QUORUM_CANDIDATE, [RAFT_LEADER] = SL_QUORUM_LEADER};
    enum raft_state st = raft_state(&q->raft);
    atomic_store(&q->role, st <= RAFT_LEADER ? roles[st] : SL_QUORUM_UNAVAILABLE);
    atomic_store(&q->leader_id, id ? (int)(id - 1) : -1);
    atomic_store(&q->term, raft_current_term(&q->raft));
    atomic_store(&q->commit, raft_commit_index(&q->raft));
    atomic_store(&q->applied, raft_last_applied(&q->raft));
}

static int bootstrap(struct sl_quorum *q)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < q->voters.n; i++) {
        char a[300];
        snprintf(a, sizeof a, "%s:%u", q->voters.v[i].host, q->voters.v[i].port);
        rc = raft_configuration_add(&conf, raft_id_of(q->voters.v[i].id), a, RAFT_VOTER);
    }
    if (rc == 0)
        rc = raft_bootstrap(&q->raft, &conf);
    raft_configuration_close(&conf);
    return rc == RAFT_CANTBOOTSTRAP ? 0 : rc; /* a restart: the log already holds the configuration */
}

/* Sets up transport, io and raft on the loop thread. Returns 0 or -EIO (logged). */
static int setup(struct sl_quorum *q)
{
    const struct sl_quorum_cfg *c = &q->cfg;
    q->transport.version = 1; /* required by 0.22's raft_uv_tcp_init */
    q->transport.data = q;
    int rc = raft_uv_tcp_init(&q->transport, &q->loop);
    q->transport_inited = rc == 0;
    const char *what = "transport";
    if (rc == 0 && (what = "log directory", rc = raft_uv_init(&q->io, &q->loop, q->dir, &q->transport)) == 0) {
        q->io_inited = true;
        what = "raft";
        rc = raft_init(&q->raft, &q->io, &c->fsm->fsm, raft_id_of(c->node_id), q->addr);
        q->raft_inited = rc == 0;
    }
    if (rc == 0) {
        q->raft.data = q;
        raft_set_election_timeout(&q->raft, c->election_ms ? c->election_ms : 1000);
        raft_set_heartbeat_timeout(&q->raft, c->heartbeat_ms ? c->heartbeat_ms : 100);
        raft_set_pre_vote(&q->raft, true);
        raft_set_snapshot_threshold(&q->raft, c->snapshot_threshold ? c->snapshot_threshold : 1024);
        raft_set_snapshot_trailing(&q->raft, c->snapshot_trailing ? c->snapshot_trailing : 8192);
        what = "bootstrap";
        if ((rc = bootstrap(q)) == 0) {
            what = "start";
            rc = raft_start(&q->raft);
        }
    }
    if (rc) {
        sl_error("quorum: node %d: %s failed: %s (%s)", (int)c->node_id, what,
                 q->raft_inited ? raft_errmsg(&q->raft) : q->transport.errmsg, raft_strerror(rc));
        return -EIO;
    }
    return 0;
}

static void signal_start(struct sl_quorum *q, int rc)
{
    pthread_mutex_lock(&q->mu);
    q->start_rc = rc;
    pthread_cond_signal(&q->started_cv);
    pthread_mutex_unlock(&q->mu);
}

static void *loop_main(void *arg)
{
    struct sl_quorum *q = arg;
    q->wake.data = q->publish.data = q;
    int rc = uv_async_init(&q->loop, &q->wake, on_wake) || uv_timer_init(&q->loop, &q->handoff_timer) ? -EIO : 0;
    if (rc == 0 && (rc = uv_check_init(&q->loop, &q->publish) ? -EIO : 0) == 0)
        uv_check_start(&q->publish, on_publish);
    if (rc == 0)
        rc = setup(q);
    if (rc) { /* close whatever was set up, run the loop dry, then report */
        q->closing = true;
        close_raft(q);
        if (q->wake.loop)
            uv_close((uv_handle_t *)&q->wake, NULL);
        if (q->publish.loop)
            uv_close((uv_handle_t *)&q->publish, NULL);
        if (q->handoff_timer.loop)
            uv_close((uv_handle_t *)&q->handoff_timer, NULL);
        uv_run(&q->loop, UV_RUN_DEFAULT);
        signal_start(q, rc);
        return NULL;
    }
    signal_start(q, 0);
    uv_run(&q->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int init_fields(struct sl_quorum *q, const struct sl_quorum_cfg *cfg)
{
    const struct sl_voter *me = sl_voters_find(cfg->voters, cfg->node_id);
    if (!me || !cfg->fsm || snprintf(q->dir, sizeof q->dir, "%s", cfg->dir) >= (int)sizeof q->dir)
        return -EINVAL;
    q->cfg = *cfg;
    q->voters = *cfg->voters;
    q->cfg.voters = &q->voters;
    q->cfg.dir = q->dir;
    snprintf(q->addr, sizeof q->addr, "%s:%u", me->host, me->port);
    q->start_rc = 1;
    atomic_store(&q->leader_id, -1); /* none known until the loop publishes */
    int rc = sl_dir_make_all(&sl_fileops_posix, q->dir);
    if (rc)
        return rc;
    if (pthread_mutex_init(&q->mu, NULL) || pthread_cond_init(&q->started_cv, NULL))
        return -ENOMEM;
    return uv_loop_init(&q->loop) ? -ENOMEM : 0;
}

int sl_quorum_start(const struct sl_quorum_cfg *cfg, struct sl_quorum **out)
{
    struct sl_quorum *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    int rc = init_fields(q, cfg);
    if (rc == 0 && pthread_create(&q->thread, NULL, loop_main, q))
        rc = -ENOMEM;
    else if (rc == 0) {
        pthread_mutex_lock(&q->mu);
        while (q->start_rc == 1)
            pthread_cond_wait(&q->started_cv, &q->mu);
        rc = q->start_rc;
        pthread_mutex_unlock(&q->mu);
        if (rc) {
            pthread_join(q->thread, NULL);
            uv_loop_close(&q->loop);
        }
    }
    if (rc) {
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

int sl_quorum_propose(struct sl_quorum *q, const struct sl_meta_rec *rec, void (*done)(void *arg, int rc),
                      void *arg)
{
    struct sl_buf b = {0};
    int rc = sl_meta_entry_encode(rec, &b);
    struct item *it = rc ? NULL : calloc(1, sizeof *it);
    if (!it) {
        sl_buf_fini(&b);
        return rc ? rc : -ENOMEM;
    }
    *it = (struct item){.buf = b.base, .len = b.len, .done = done, .arg = arg};
    pthread_mutex_lock(&q->mu);
    if (q->stop) {
        pthread_mutex_unlock(&q->mu);
        free(it->buf);
        free(it);
        return SL_ESTOPPED;
    }
    it->next = q->queue;
    q->queue = it;
    uv_async_send(&q->wake); /* under mu: see on_wake */
    pthread_mutex_unlock(&q->mu);
    return 0;
}

void sl_quorum_status(struct sl_quorum *q, struct sl_quorum_status *out)
{
    out->role = (enum sl_quorum_role)atomic_load(&q->role);
    out->leader_id = atomic_load(&q->leader_id);
    out->term = atomic_load(&q->term);
    out->commit_index = atomic_load(&q->commit);
    out->applied_index = atomic_load(&q->applied);
}

const char *sl_quorum_role_name(enum sl_quorum_role role)
{
    switch (role) {
    case SL_QUORUM_FOLLOWER: return "follower";
    case SL_QUORUM_CANDIDATE: return "candidate";
    case SL_QUORUM_LEADER: return "leader";
    default: return "unavailable";
    }
}

void sl_quorum_stop(struct sl_quorum *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_mutex_unlock(&q->mu);
    uv_async_send(&q->wake);
    pthread_join(q->thread, NULL); /* the last on_wake took the queue: nothing can be added after stop */
    uv_loop_close(&q->loop);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->started_cv);
    free(q);
}

int sl_quorum_read(struct sl_quorum *q, int (*fn)(const struct sl_meta_image *im, void *arg), void *arg)
{
    return sl_meta_fsm_read(q->cfg.fsm, fn, arg);
}

void sl_quorum_set_member(struct sl_quorum *q, bool member)
{
    atomic_store(&q->member, member);
}

bool sl_quorum_member(struct sl_quorum *q)
{
    return atomic_load(&q->member);
}

struct counts {
    unsigned live, fenced;
};

static int count_brokers(const struct sl_meta_image *im, void *arg)
{
    struct counts *c = arg;
    for (size_t i = 0; i < im->nbrokers; i++)
        *(im->brokers[i].fenced ? &c->fenced : &c->live) += 1;
    return 0;
}

void sl_quorum_broker_counts(struct sl_quorum *q, unsigned *live, unsigned *fenced)
{
    struct counts c = {0, 0};
    sl_quorum_read(q, count_brokers, &c);
    *live = c.live;
    *fenced = c.fenced;
}

int32_t sl_quorum_node_id(const struct sl_quorum *q)
{
    return q->cfg.node_id;
}

/* One waiting proposer; freed by whichever of the waiter (after a timeout) and done runs last. */
struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, abandoned;
    int rc;
};

static void waiter_done(void *arg, int rc)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->rc = rc;
    bool free_it = w->abandoned;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (free_it) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
    }
}

int sl_quorum_propose_wait(struct sl_quorum *q, const struct sl_meta_rec *rec, int timeout_ms)
{
    struct waiter *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = sl_quorum_propose(q, rec, waiter_done, w);
    if (rc) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return rc;
    }
    struct timespec dl;
    sl_clock_deadline_mono(&dl, timeout_ms);
    pthread_mutex_lock(&w->mu);
    while (!w->done && pthread_cond_timedwait(&w->cv, &w->mu, &dl) != ETIMEDOUT)
        ;
    bool done = w->done;
    rc = done ? w->rc : -ETIMEDOUT;
    w->abandoned = !done;
    pthread_mutex_unlock(&w->mu);
    if (done) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
    }
    return rc;
}
