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

struct sl_membership {
    struct sl_membership_cfg cfg;
    char host[SL_META_HOST_MAX + 1];
    struct sl_rpc_server *rpc;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    bool stop;         /* guarded by: mu */
};

static int32_t on_rpc(void *ctx, uint16_t api, const uint8_t *p, size_t n, struct sl_buf *reply)
{
    struct sl_membership *m = ctx;
    (void)reply;
    if (api == SL_RPC_PING)
        return 0;
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

/* One attempt to register. Returns true when registered (before or by this attempt). */
static bool register_once(struct sl_membership *m)
{
    struct sl_quorum_status st;
    sl_quorum_status(m->cfg.quorum, &st);
    struct look l = {.self = sl_quorum_node_id(m->cfg.quorum), .leader = st.leader_id,
                     .incarnation = m->cfg.incarnation};
    sl_quorum_read(m->cfg.quorum, look_up, &l);
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
        pthread_mutex_lock(&m->mu);
        struct timespec dl;
        sl_clock_deadline_mono(&dl, ok ? 1000 : 200);
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
    free(m);
}
