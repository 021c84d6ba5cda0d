/* This node's membership (see membership.h): the RPC handlers and the registration loop. */
#include "server/membership.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/err.h"
#include "server/logging.h"
#include "server/rpc.h"
#include "storage/clock.h"
#include "storage/endian.h"

#define MAX_NODES 64

/* What the controller heard from each node (leader only; reset when it becomes leader). */
struct heard {
    int32_t id;
    int64_t incarnation, at_ms; /* monotonic */
};

struct sl_membership {
    struct sl_membership_cfg cfg;
    pthread_mutex_t heard_mu;       /* the RPC thread writes, the loop reads */
    struct heard heard[MAX_NODES];  /* guarded by: heard_mu */
    size_t nheard;                  /* guarded by: heard_mu */
    bool was_leader;                /* loop thread only */
    int64_t leader_since_ms;        /* loop thread only */
    char host[SL_META_HOST_MAX + 1];
    struct sl_rpc_server *rpc;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    bool stop;         /* guarded by: mu */
};

static int64_t mono_ms(void)
{
    return sl_clock_mono_ms(&sl_clock_posix);
}

static void note_heard(struct sl_membership *m, int32_t id, int64_t incarnation)
{
    pthread_mutex_lock(&m->heard_mu);
    size_t i = 0;
    while (i < m->nheard && m->heard[i].id != id)
        i++;
    if (i == m->nheard && m->nheard < MAX_NODES)
        m->nheard++;
    if (i < m->nheard)
        m->heard[i] = (struct heard){.id = id, .incarnation = incarnation, .at_ms = mono_ms()};
    pthread_mutex_unlock(&m->heard_mu);
}

static int32_t on_heartbeat(struct sl_membership *m, const uint8_t *p, size_t n)
{
    if (n != 12)
        return SL_ECORRUPT;
    struct sl_quorum_status st;
    sl_quorum_status(m->cfg.quorum, &st);
    if (st.role != SL_QUORUM_LEADER)
        return SL_ENOTLEADER;
    note_heard(m, (int32_t)sl_be32_get(p), (int64_t)sl_be64_get(p + 4));
    return 0;
}

static int32_t on_rpc(void *ctx, uint16_t api, const uint8_t *p, size_t n, struct sl_buf *reply)
{
    struct sl_membership *m = ctx;
    (void)reply;
    if (api == SL_RPC_PING)
        return 0;
    if (api == SL_RPC_HEARTBEAT)
        return on_heartbeat(m, p, n);
    if (api != SL_RPC_PROPOSE)
        return -ENOSYS;
    struct sl_meta_rec rec;
    int rc = sl_meta_rec_decode(p, n, &rec);
    if (rc)
        return rc;
    struct sl_quorum_status st;
    sl_quorum_status(m->cfg.quorum, &st);
    rc = st.role == SL_QUORUM_LEADER ? sl_quorum_propose_wait(m->cfg.quorum, &rec, 5000) : SL_ENOTLEADER;
    sl_meta_rec_fini(&rec);
    return rc;
}

/* What the registration loop needs from the image. */
struct look {
    int32_t self, leader;
    int64_t incarnation;
    bool registered;           /* self with this incarnation, unfenced */
    bool leader_known;         /* the leader's registration is there */
    char leader_host[SL_META_HOST_MAX + 1];
    uint16_t leader_port;
};

static int look_up(const struct sl_meta_image *im, void *arg)
{
    struct look *l = arg;
    const struct sl_meta_broker *me = sl_meta_broker(im, l->self);
    l->registered = me && me->incarnation == l->incarnation && !me->fenced;
    const struct sl_meta_broker *lb = l->leader >= 0 ? sl_meta_broker(im, l->leader) : NULL;
    l->leader_known = lb != NULL;
    if (lb) {
        snprintf(l->leader_host, sizeof l->leader_host, "%s", lb->host);
        l->leader_port = lb->cluster_port;
    }
    return 0;
}

/* A node the controller should fence or unfence, found by fence_check. */
struct change {
    int32_t id;
    int64_t incarnation;
    bool fence;
};

struct fence_look {
    struct sl_membership *m;
    int32_t self;
    int64_t now, since;
    struct change v[MAX_NODES];
    size_t n;
};

static int fence_scan(const struct sl_meta_image *im, void *arg)
{
    struct fence_look *f = arg;
    struct sl_membership *m = f->m;
    pthread_mutex_lock(&m->heard_mu);
    for (size_t i = 0; i < im->nbrokers && f->n < MAX_NODES; i++) {
        const struct sl_meta_broker *b = &im->brokers[i];
        if (b->id == f->self)
            continue;
        int64_t last = f->since; /* not heard yet: a full session from the start of this leadership */
        for (size_t k = 0; k < m->nheard; k++)
            if (m->heard[k].id == b->id && m->heard[k].incarnation == b->incarnation && m->heard[k].at_ms > last)
                last = m->heard[k].at_ms;
        bool silent = f->now - last > m->cfg.session_timeout_ms;
        if (silent != b->fenced)
            f->v[f->n++] = (struct change){b->id, b->incarnation, silent};
    }
    pthread_mutex_unlock(&m->heard_mu);
    return 0;
}

/* As the controller: fences the nodes silent past the session timeout, unfences the ones heard again. */
static void fence_check(struct sl_membership *m, int32_t self)
{
    struct fence_look f = {.m = m, .self = self, .now = mono_ms(), .since = m->leader_since_ms};
    sl_quorum_read(m->cfg.quorum, fence_scan, &f);
    for (size_t i = 0; i < f.n; i++) {
        struct sl_meta_rec rec = {.type = f.v[i].fence ? SL_META_FENCE_BROKER : SL_META_UNFENCE_BROKER,
                                  .broker = {.id = f.v[i].id, .incarnation = f.v[i].incarnation}};
        int rc = sl_quorum_propose_wait(m->cfg.quorum, &rec, 5000);
        if (rc == 0 && f.v[i].fence)
            sl_warn("controller: node %d silent for more than %lld ms (broker.session.timeout.ms): fenced",
                    (int)f.v[i].id, (long long)m->cfg.session_timeout_ms);
        else if (rc == 0)
            sl_info("controller: node %d heard again: unfenced", (int)f.v[i].id);
    }
}

/* A registered non-leader's heartbeat to the leader. */
static void heartbeat(struct sl_membership *m, const struct look *l)
{
    uint8_t p[12];
    sl_be32_put(p, (uint32_t)l->self);
    sl_be64_put(p + 4, (uint64_t)m->cfg.incarnation);
    struct sl_buf reply = {0};
    int32_t status = 0;
    int rc = sl_rpc_call(l->leader_host, l->leader_port, SL_RPC_HEARTBEAT, p, sizeof p, 1000, &status, &reply);
    if (rc || status)
        sl_debug("heartbeat to quorum leader %d: %s", (int)l->leader, sl_error_message(rc ? rc : status));
    sl_buf_fini(&reply);
}

/* One attempt to register. Returns true when registered (before or by this attempt). */
static bool register_once(struct sl_membership *m)
{
    struct sl_quorum_status st;
    sl_quorum_status(m->cfg.quorum, &st);
    struct look l = {.self = sl_quorum_node_id(m->cfg.quorum), .leader = st.leader_id,
                     .incarnation = m->cfg.incarnation};
    sl_quorum_read(m->cfg.quorum, look_up, &l);
    bool leader = st.role == SL_QUORUM_LEADER;
    if (leader && !m->was_leader) { /* a new leadership: every node gets a full session to be heard */
        m->leader_since_ms = mono_ms();
        pthread_mutex_lock(&m->heard_mu);
        m->nheard = 0;
        pthread_mutex_unlock(&m->heard_mu);
    }
    m->was_leader = leader;
    if (l.registered && leader)
        fence_check(m, l.self);
    else if (l.registered && l.leader_known)
        heartbeat(m, &l);
    if (l.registered || st.leader_id < 0)
        return l.registered;
    struct sl_meta_rec rec = {.type = SL_META_REGISTER_BROKER};
    rec.broker = (struct sl_meta_broker){.id = l.self, .incarnation = m->cfg.incarnation,
                                         .rest_port = m->cfg.rest_port, .ws_port = m->cfg.ws_port,
                                         .cluster_port = sl_rpc_server_port(m->rpc)};
    snprintf(rec.broker.host, sizeof rec.broker.host, "%s", m->host);
    int rc;
    int32_t status = 0;
    if (st.role == SL_QUORUM_LEADER) {
        rc = sl_quorum_propose_wait(m->cfg.quorum, &rec, 5000);
    } else if (!l.leader_known) {
        return false; /* the leader registers itself first */
    } else {
        struct sl_buf b = {0}, reply = {0};
        rc = sl_meta_rec_encode(&rec, &b);
        if (rc == 0)
            rc = sl_rpc_call(l.leader_host, l.leader_port, SL_RPC_PROPOSE, b.base, b.len, 5000, &status, &reply);
        rc = rc ? rc : status;
        sl_buf_fini(&b);
        sl_buf_fini(&reply);
    }
    if (rc == 0)
        sl_info("registered as node %d (incarnation %lld) with quorum leader %d", (int)l.self,
                (long long)m->cfg.incarnation, (int)st.leader_id);
    else
        sl_debug("registration with quorum leader %d: %s; retrying", (int)st.leader_id, sl_error_message(rc));
    return rc == 0;
}

static void *loop_main(void *arg)
{
    struct sl_membership *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        pthread_mutex_unlock(&m->mu);
        bool ok = register_once(m);
        sl_quorum_set_member(m->cfg.quorum, ok);
        pthread_mutex_lock(&m->mu);
        struct timespec dl;
        sl_clock_deadline_mono(&dl, ok ? 500 : 200);
        while (!m->stop && pthread_cond_timedwait(&m->cv, &m->mu, &dl) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

int sl_membership_start(const struct sl_membership_cfg *cfg, struct sl_membership **out)
{
    struct sl_membership *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->cfg = *cfg;
    snprintf(m->host, sizeof m->host, "%s", cfg->advertised_host);
    m->cfg.advertised_host = m->host;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->heard_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = sl_rpc_server_start(cfg->bind_host, cfg->cluster_port, on_rpc, m, &m->rpc);
    if (rc == 0 && (rc = -pthread_create(&m->thread, NULL, loop_main, m)) != 0)
        sl_rpc_server_stop(m->rpc);
    if (rc) {
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        pthread_mutex_destroy(&m->heard_mu);
        free(m);
        return rc;
    }
    *out = m;
    return 0;
}

uint16_t sl_membership_cluster_port(const struct sl_membership *m)
{
    return sl_rpc_server_port(m->rpc);
}

void sl_membership_stop(struct sl_membership *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    sl_rpc_server_stop(m->rpc);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->heard_mu);
    free(m);
}
