/* Rebalances of the group coordinator: the range assignor and the two-phase protocol that revokes before it
 * assigns (server/groups.h invariant 5; state in server/groups_int.h).
 *
 * PROTOCOL
 *   plan      A trigger (a subscribed member joins, changes its subscription, leaves or expires, or the
 *             group's partition set changes) computes every subscribed member's target by the range
 *             assignor. revoking = assigned - target. A member whose revoking set is new (not a subset of
 *             what it was already giving up) gets SL_GROUP_EV_REVOKE and a deadline of now +
 *             rebalance_timeout_ms; it keeps its partitions, may still commit them, and is expected to stop
 *             reading the revoking ones, commit what it processed and acknowledge.
 *   hold      The plan waits while a member owes an acknowledgement before its deadline (a member past it is
 *             treated as acknowledged, with a log line), while auto-commits are queued but not submitted, and
 *             while a commit in flight names a partition that changes owner (revoked by one member or gained
 *             by another: a member that left may have had commits in flight).
 *   complete  Every subscribed member's assignment becomes its target (positions of partitions it lost are
 *             dropped), the generation is bumped, and every subscribed member gets SL_GROUP_EV_REBALANCE. A
 *             new owner then resolves its position from the committed offset, which includes every commit
 *             the previous owner made before it gave the partition up.
 *   A trigger while a plan is pending replans from the current assignments; acknowledgements already given
 *   stand when the new revoking set is a subset of the old. Plans that revoke nothing complete at once unless
 *   a commit in flight holds them.
 *
 * Thread: everything here runs with the coordinator mutex held; events only set flags (server/groups.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "server/groups_int.h"
#include "server/logging.h"
#include "server/err.h"

#define DEFAULT_REBALANCE_TIMEOUT_MS 10000

/* ---- the range assignor ---- */

static int cmp_member_id(const void *a, const void *b)
{
    const struct member *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

/* Signature of the partition set the subscribed members of gr would share, given the topic snapshot. */
static uint64_t group_sig(const struct group *gr, const struct sl_topic_info *topics, size_t nt)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t t = 0; t < nt; t++) {
        for (const struct member *m = gr->members; m; m = m->next) {
            if (sl_grp_subscribed(m) && sl_grp_wants(m, &topics[t])) {
                h = fnv(h, topics[t].name, strlen(topics[t].name) + 1);
                h = fnv(h, &topics[t].partitions, sizeof topics[t].partitions);
                break;
            }
        }
    }
    return h;
}

/* Appends the range assignment of one topic's partitions among the sorted subscribers that want it. */
static int assign_topic(struct member **sorted, size_t k, const struct sl_topic_info *t, struct sl_tp **nv,
                        size_t *nn)
{
    size_t want = 0;
    for (size_t i = 0; i < k; i++)
        want += sl_grp_wants(sorted[i], t);
    if (want == 0 || t->partitions <= 0)
        return 0;
    int32_t per = t->partitions / (int32_t)want, extra = t->partitions % (int32_t)want, next = 0;
    size_t rank = 0;
    for (size_t i = 0; i < k; i++) {
        if (!sl_grp_wants(sorted[i], t))
            continue;
        int32_t cnt = per + ((int32_t)rank < extra);
        rank++;
        struct sl_tp *v = realloc(nv[i], (nn[i] + (size_t)cnt + 1) * sizeof *v);
        if (!v)
            return -ENOMEM;
        nv[i] = v;
        for (int32_t p = next; p < next + cnt; p++) {
            snprintf(v[nn[i]].topic, sizeof v[nn[i]].topic, "%s", t->name);
            v[nn[i]++].partition = p;
        }
        next += cnt;
    }
    return 0;
}

/* ---- plan ---- */

void sl_grp_plan_clear(struct member *m)
{
    free(m->target);
    free(m->revoking);
    m->target = m->revoking = NULL;
    m->ntarget = m->nrevoking = 0;
    m->revoke_acked = false;
}

static int64_t rebalance_timeout(const struct sl_groups *g)
{
    return g->cfg.rebalance_timeout_ms ? g->cfg.rebalance_timeout_ms : DEFAULT_REBALANCE_TIMEOUT_MS;
}

/* Installs target v (taken) as m's plan and works out what m gives up; notifies it when that is new. */
static int member_plan(struct sl_groups *g, struct group *gr, struct member *m, struct sl_tp *v, size_t n)
{
    struct sl_tp *rv = malloc((m->nassigned + 1) * sizeof *rv);
    if (!rv) {
        free(v);
        return -ENOMEM;
    }
    size_t nr = 0;
    bool grew = false;
    for (size_t i = 0; i < m->nassigned; i++) {
        const struct sl_tp *a = &m->assigned[i];
        if (sl_tp_in(v, n, a->topic, a->partition))
            continue;
        rv[nr++] = *a;
        grew |= !sl_tp_in(m->revoking, m->nrevoking, a->topic, a->partition);
    }
    bool was_acked = m->revoke_acked;
    sl_grp_plan_clear(m);
    m->target = v;
    m->ntarget = n;
    m->revoking = rv;
    m->nrevoking = nr;
    m->revoke_acked = nr == 0 || (was_acked && !grew);
    if (nr && grew) {
        int64_t t = rebalance_timeout(g);
        m->revoke_deadline = sl_grp_now(g) + (t < 0 ? 0 : t);
        if (m->cfg.on_event)
            m->cfg.on_event(m->cfg.arg, SL_GROUP_EV_REVOKE, gr->generation);
    }
    return 0;
}

/* Computes every subscribed member's target (the range assignor) and their revoking sets. */
static int plan(struct sl_groups *g, struct group *gr, const struct sl_topic_info *topics, size_t nt)
{
    size_t k = 0;
    for (struct member *m = gr->members; m; m = m->next) {
        k += sl_grp_subscribed(m);
        if (!sl_grp_subscribed(m))
            sl_grp_plan_clear(m);
    }
    struct member **sorted = calloc(k + 1, sizeof *sorted);
    struct sl_tp **nv = calloc(k + 1, sizeof *nv);
    size_t *nn = calloc(k + 1, sizeof *nn);
    int rc = sorted && nv && nn ? 0 : -ENOMEM;
    size_t i = 0;
    for (struct member *m = gr->members; rc == 0 && m; m = m->next)
        if (sl_grp_subscribed(m))
            sorted[i++] = m;
    if (rc == 0)
        qsort(sorted, k, sizeof *sorted, cmp_member_id);
    for (size_t t = 0; rc == 0 && t < nt; t++)
        rc = assign_topic(sorted, k, &topics[t], nv, nn);
    for (i = 0; i < k; i++) {
        if (rc == 0)
            rc = member_plan(g, gr, sorted[i], nv[i], nn[i]);
        else
            free(nv[i]);
    }
    free(sorted);
    free(nv);
    free(nn);
    if (rc)
        return rc;
    gr->rebalancing = true;
    gr->sig = group_sig(gr, topics, nt);
    return 0;
}

int sl_grp_rebalance(struct sl_groups *g, struct group *gr, bool only_if_changed, struct pending *pd)
{
    bool any = false;
    for (struct member *m = gr->members; m && !any; m = m->next)
        any = sl_grp_subscribed(m);
    if (only_if_changed && !any) {
        sl_grp_settle(g, gr, pd);
        return 0;
    }
    struct sl_topic_info *topics = NULL;
    size_t nt = 0;
    int rc = sl_broker_topics(g->b, &topics, &nt);
    if (rc)
        return rc;
    if (!only_if_changed || group_sig(gr, topics, nt) != gr->sig)
        rc = plan(g, gr, topics, nt);
    free(topics);
    if (rc == 0)
        sl_grp_settle(g, gr, pd);
    return rc;
}

/* ---- hold and complete ---- */

void sl_grp_revoke_done(struct group *gr, struct member *m, struct pending *pd)
{
    if (m->revoke_acked)
        return;
    m->revoke_acked = true;
    if (!m->cfg.auto_commit)
        return;
    for (size_t i = 0; i < m->npos; i++) {
        const struct sl_tpo *e = &m->pos[i];
        if (!sl_tp_in(m->revoking, m->nrevoking, e->topic, e->partition))
            continue;
        struct committed *c = sl_grp_committed_find(gr, e->topic, e->partition);
        if (!c || c->offset != e->offset)
            sl_grp_pending_add(pd, gr, e->topic, e->partition, e->offset);
    }
}

/* Whether topic/partition changes owner in gr's plan. */
static bool moves(const struct group *gr, const char *topic, int32_t p)
{
    for (const struct member *m = gr->members; m; m = m->next) {
        if (!sl_grp_subscribed(m))
            continue;
        bool has = sl_tp_in(m->assigned, m->nassigned, topic, p), gets = sl_tp_in(m->target, m->ntarget, topic, p);
        if (has != gets)
            return true;
    }
    return false;
}

/* Whether something still holds gr's plan; expires overdue revokes on the way. */
static bool held(struct sl_groups *g, struct group *gr, struct pending *pd)
{
    int64_t now = sl_grp_now(g);
    bool waiting = false;
    for (struct member *m = gr->members; m; m = m->next) {
        if (!sl_grp_subscribed(m) || m->revoke_acked)
            continue;
        if (now < m->revoke_deadline) {
            waiting = true;
            continue;
        }
        sl_info("groups: member %s of group %s did not acknowledge its revoke within rebalance.timeout.ms: "
                "handing its partitions over", m->id, gr->name);
        sl_grp_revoke_done(gr, m, pd);
    }
    if (waiting || gr->flushing)
        return true;
    for (const struct sl_commit *c = gr->commits; c; c = c->gnext_)
        for (size_t i = 0; i < c->n_; i++)
            if (moves(gr, c->offs_[i].topic, c->offs_[i].partition))
                return true;
    return false;
}

void sl_grp_settle(struct sl_groups *g, struct group *gr, struct pending *pd)
{
    if (!gr->rebalancing || held(g, gr, pd))
        return;
    for (struct member *m = gr->members; m; m = m->next) {
        if (!sl_grp_subscribed(m))
            continue;
        struct sl_tp *v = m->target;
        size_t n = m->ntarget;
        m->target = NULL;
        m->ntarget = 0;
        int rc = sl_grp_set_assignment(gr, m, v, n, pd);
        if (rc) {
            sl_warn("groups: rebalance of %s: %s; retrying", gr->name, sl_error_message(rc));
            gr->sig = 0; /* the next call that concerns the group plans again */
            return;
        }
        sl_grp_plan_clear(m);
    }
    gr->rebalancing = false;
    gr->generation++;
    for (struct member *m = gr->members; m; m = m->next)
        if (sl_grp_subscribed(m) && m->cfg.on_event)
            m->cfg.on_event(m->cfg.arg, SL_GROUP_EV_REBALANCE, gr->generation);
}

/* ---- commits during a rebalance ---- */

int sl_grp_may_commit(const struct group *gr, const struct member *m, const char *topic, int32_t p)
{
    if (sl_tp_in(m->assigned, m->nassigned, topic, p)) {
        bool gave_up = gr->rebalancing && m->revoke_acked && sl_tp_in(m->revoking, m->nrevoking, topic, p);
        return gave_up ? SL_ENOTASSIGNED : 0;
    }
    if (gr->rebalancing && sl_tp_in(m->target, m->ntarget, topic, p))
        return SL_EREBALANCE;
    for (const struct member *o = gr->members; o; o = o->next)
        if (o != m && (sl_tp_in(o->assigned, o->nassigned, topic, p) ||
                       (gr->rebalancing && sl_tp_in(o->target, o->ntarget, topic, p))))
            return SL_ENOTASSIGNED;
    return 0; /* no member manages it: a simple group's commit */
}
