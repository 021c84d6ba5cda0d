/* The consumer group coordinator (see server/groups.h for the model, invariants and on-disk format).
 *
 * Everything lives under one mutex (mu): groups in a list, members in a list per group, committed offsets and
 * positions in small arrays searched linearly (groups have tens of partitions, not millions). Rebalances are
 * computed eagerly under the mutex; auto-commits they cause are collected in a 'struct pending' and written
 * after the mutex is released (a produce's done callback may run inside sl_broker_produce and takes mu).
 * This file holds the coordinator object (open/close, sweeper), membership, subscriptions, assignments and
 * fetch positions; the committed-offset store is server/group_offsets.c, list/describe server/group_view.c,
 * the assignor and the two-phase rebalance server/rebalance.c (shared internals: server/groups_int.h). */
#include "server/groups.h"
#include "server/groups_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/logging.h"
#include "storage/clock.h"
#include "server/err.h"

/* ---- small helpers ---- */

int64_t sl_grp_now(const struct sl_groups *g)
{
    return g->cfg.now_ms ? g->cfg.now_ms() : sl_clock_mono_ms(&sl_clock_posix);
}

int64_t sl_grp_wall_ms(void)
{
    return sl_clock_wall_ms(&sl_clock_posix);
}

int sl_grp_tpo_push(struct sl_tpo **v, size_t *n, size_t *cap, const char *topic, int32_t p, sl_offset_t off)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct sl_tpo *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = nc;
    }
    struct sl_tpo *e = &(*v)[(*n)++];
    snprintf(e->topic, sizeof e->topic, "%s", topic);
    e->partition = p;
    e->offset = off;
    return 0;
}

void sl_grp_pending_add(struct pending *pd, struct group *gr, const char *topic, int32_t p, sl_offset_t off)
{
    if (!pd->gr) {
        pd->gr = gr;
        gr->flushing++; /* until sl_grp_pending_flush has submitted the commit */
    }
    if (sl_grp_tpo_push(&pd->v, &pd->n, &pd->cap, topic, p, off))
        sl_warn("groups: auto-commit of %s/%s-%d dropped: out of memory", gr->name, topic, p);
}

struct group *sl_grp_group_find(struct sl_groups *g, const char *name)
{
    for (struct group *gr = g->groups; gr; gr = gr->next)
        if (strcmp(gr->name, name) == 0)
            return gr;
    return NULL;
}

struct group *sl_grp_group_get(struct sl_groups *g, const char *name)
{
    struct group *gr = sl_grp_group_find(g, name);
    if (gr)
        return gr;
    gr = calloc(1, sizeof *gr);
    if (!gr)
        return NULL;
    snprintf(gr->name, sizeof gr->name, "%s", name);
    gr->next = g->groups;
    g->groups = gr;
    return gr;
}

struct member *sl_grp_member_find(struct group *gr, const char *id)
{
    for (struct member *m = gr ? gr->members : NULL; m; m = m->next)
        if (strcmp(m->id, id) == 0)
            return m;
    return NULL;
}

/* Finds and touches a member. */
static struct member *member_touch(struct sl_groups *g, const char *group, const char *id, struct group **grp)
{
    struct group *gr = sl_grp_group_find(g, group);
    struct member *m = sl_grp_member_find(gr, id);
    if (m)
        m->last_seen = sl_grp_now(g);
    if (grp)
        *grp = gr;
    return m;
}

static void member_clear_sub(struct member *m)
{
    for (size_t i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    m->topics = NULL;
    m->ntopics = 0;
    if (m->pattern) {
        regfree(&m->re);
        free(m->pattern);
        m->pattern = NULL;
    }
    m->sub = SL_SUB_NONE;
}

static void member_free(struct member *m)
{
    member_clear_sub(m);
    sl_grp_plan_clear(m);
    free(m->assigned);
    free(m->pos);
    free(m);
}

bool sl_grp_wants(const struct member *m, const struct sl_topic_info *t)
{
    if (m->sub == SL_SUB_TOPICS) {
        for (size_t i = 0; i < m->ntopics; i++)
            if (strcmp(m->topics[i], t->name) == 0)
                return true;
        return false;
    }
    if (m->sub == SL_SUB_PATTERN)
        return !t->internal && regexec(&m->re, t->name, 0, NULL, 0) == 0;
    return false;
}

static bool member_assigned(const struct member *m, const char *topic, int32_t p)
{
    for (size_t i = 0; i < m->nassigned; i++)
        if (sl_tp_eq(m->assigned[i].topic, m->assigned[i].partition, topic, p))
            return true;
    return false;
}

static struct sl_tpo *member_pos(struct member *m, const char *topic, int32_t p)
{
    for (size_t i = 0; i < m->npos; i++)
        if (sl_tp_eq(m->pos[i].topic, m->pos[i].partition, topic, p))
            return &m->pos[i];
    return NULL;
}

/* Sets a position (the partition must be assigned; pos has room for nassigned entries). */
static void member_set_pos(struct member *m, const char *topic, int32_t p, sl_offset_t off)
{
    struct sl_tpo *e = member_pos(m, topic, p);
    if (!e) {
        e = &m->pos[m->npos++];
        snprintf(e->topic, sizeof e->topic, "%s", topic);
        e->partition = p;
    }
    e->offset = off;
}

/* Queues auto-commits of positions that moved past the committed offset (no-op without auto.commit). */
static void member_autocommit(struct group *gr, struct member *m, struct pending *pd, bool only_revoked)
{
    if (!m->cfg.auto_commit)
        return;
    for (size_t i = 0; i < m->npos; i++) {
        struct sl_tpo *e = &m->pos[i];
        if (only_revoked && member_assigned(m, e->topic, e->partition))
            continue;
        struct committed *c = sl_grp_committed_find(gr, e->topic, e->partition);
        if (!c || c->offset != e->offset)
            sl_grp_pending_add(pd, gr, e->topic, e->partition, e->offset);
    }
}

int sl_grp_set_assignment(struct group *gr, struct member *m, struct sl_tp *v, size_t n, struct pending *pd)
{
    struct sl_tpo *pos = malloc((n ? n : 1) * sizeof *pos);
    if (!pos) {
        free(v);
        return -ENOMEM;
    }
    free(m->assigned);
    m->assigned = v;
    m->nassigned = n;
    member_autocommit(gr, m, pd, true);
    size_t k = 0;
    for (size_t i = 0; i < m->npos; i++)
        if (member_assigned(m, m->pos[i].topic, m->pos[i].partition))
            pos[k++] = m->pos[i];
    free(m->pos);
    m->pos = pos;
    m->npos = k;
    return 0;
}

/* ---- lifecycle ---- */

static void *sweeper_main(void *arg)
{
    struct sl_groups *g = arg;
    int64_t iv = g->cfg.session_timeout_ms / 4;
    iv = iv < 20 ? 20 : iv > 1000 ? 1000 : iv;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        sl_clock_deadline_mono(&ts, iv); /* g->cv waits on CLOCK_MONOTONIC */
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        if (g->stop)
            break;
        pthread_mutex_unlock(&g->mu);
        sl_groups_sweep(g);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int sl_groups_open(struct sl_broker *b, const struct sl_groups_cfg *cfg, struct sl_groups **out)
{
    struct sl_groups *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->b = b;
    g->cfg = *cfg;
    if (g->cfg.session_timeout_ms <= 0)
        g->cfg.session_timeout_ms = 300000;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = 0;
    g->offsets_parts = sl_broker_partition_count(b, SL_GROUPS_OFFSETS_TOPIC);
    if (g->offsets_parts <= 0)
        rc = g->offsets_parts < 0 ? g->offsets_parts : SL_ENOTOPIC;
    if (rc == 0)
        rc = sl_grp_offsets_load(g);
    if (rc == 0 && !cfg->no_sweeper) {
        rc = -pthread_create(&g->sweeper, NULL, sweeper_main, g);
        g->started = rc == 0;
    }
    if (rc) {
        sl_error("groups: cannot open the coordinator: %s", sl_error_message(rc));
        sl_groups_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

void sl_groups_close(struct sl_groups *g)
{
    if (!g)
        return;
    sl_broker_set_deleted_hook(g->b, NULL, NULL);
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (g->started)
        pthread_join(g->sweeper, NULL); /* first: a sweep may still issue auto-commits */
    pthread_mutex_lock(&g->mu);
    while (g->inflight) /* the broker completes every produce (durable or failed) */
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    while (g->groups) {
        struct group *gr = g->groups;
        g->groups = gr->next;
        while (gr->members) {
            struct member *m = gr->members;
            gr->members = m->next;
            member_free(m);
        }
        free(gr->c);
        free(gr);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* ---- membership ---- */

int sl_groups_join(struct sl_groups *g, const char *group, const char *id, const struct sl_member_cfg *cfg,
                   char *id_out)
{
    if (!group[0] || strlen(group) > SL_GROUP_NAME_MAX || (id && (!id[0] || strlen(id) > SL_MEMBER_ID_MAX)))
        return -EINVAL;
    struct member *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    pthread_mutex_lock(&g->mu);
    struct group *gr = sl_grp_group_get(g, group);
    int rc = gr ? 0 : -ENOMEM;
    if (rc == 0 && id && sl_grp_member_find(gr, id))
        rc = SL_EEXISTS;
    if (rc == 0) {
        if (id)
            snprintf(m->id, sizeof m->id, "%s", id);
        else
            do
                snprintf(m->id, sizeof m->id, "%s-%" PRIx64 "-%" PRIu64,
                         cfg->kind == SL_MEMBER_WS ? "ws-member" : "rest-consumer", (uint64_t)sl_grp_wall_ms(),
                         ++g->idseq);
            while (sl_grp_member_find(gr, m->id));
        m->cfg = *cfg;
        m->last_seen = sl_grp_now(g);
        m->next = gr->members;
        gr->members = m;
        if (id_out)
            snprintf(id_out, SL_MEMBER_ID_MAX + 1, "%s", m->id);
    }
    pthread_mutex_unlock(&g->mu);
    if (rc)
        free(m);
    return rc;
}

/* Unlinks m from gr, auto-commits its positions, rebalances if it was subscribed. */
static void member_remove(struct sl_groups *g, struct group *gr, struct member *m, struct pending *pd)
{
    for (struct member **pp = &gr->members; *pp; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    member_autocommit(gr, m, pd, false);
    bool was_sub = sl_grp_subscribed(m);
    member_free(m);
    if (was_sub) {
        int rc = sl_grp_rebalance(g, gr, false, pd);
        if (rc)
            sl_warn("groups: rebalance of %s failed: %s", gr->name, sl_error_message(rc));
    }
}

int sl_groups_leave(struct sl_groups *g, const char *group, const char *id)
{
    struct pending pd = {0};
    pthread_mutex_lock(&g->mu);
    struct group *gr = sl_grp_group_find(g, group);
    struct member *m = sl_grp_member_find(gr, id);
    if (m)
        member_remove(g, gr, m, &pd);
    pthread_mutex_unlock(&g->mu);
    sl_grp_pending_flush(g, &pd);
    return m ? 0 : SL_ENOMEMBER;
}

int sl_groups_member(struct sl_groups *g, const char *group, const char *id, struct sl_member_info *out)
{
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    if (m) {
        snprintf(out->id, sizeof out->id, "%s", m->id);
        out->cfg = m->cfg;
        out->sub = m->sub;
        out->generation = gr->generation;
    }
    pthread_mutex_unlock(&g->mu);
    return m ? 0 : SL_ENOMEMBER;
}

size_t sl_groups_sweep(struct sl_groups *g)
{
    size_t n = 0;
    struct pending pd = {0};
    pthread_mutex_lock(&g->mu);
    int64_t now = sl_grp_now(g);
    /* groups are never freed before sl_groups_close, so gr stays valid while mu is dropped to flush */
    for (struct group *gr = g->groups; gr; gr = gr->next) {
        struct member *m = gr->members;
        while (m) {
            struct member *next = m->next;
            if (now - m->last_seen > g->cfg.session_timeout_ms) {
                sl_info("groups: member %s of group %s expired after %" PRId64 " ms idle", m->id, gr->name,
                        now - m->last_seen);
                if (m->cfg.on_event)
                    m->cfg.on_event(m->cfg.arg, SL_GROUP_EV_EXPIRED, gr->generation);
                member_remove(g, gr, m, &pd);
                n++;
            }
            m = next;
        }
        int rc = sl_grp_rebalance(g, gr, true, &pd); /* partitions added or topics created */
        if (rc)
            sl_warn("groups: rebalance of %s failed: %s", gr->name, sl_error_message(rc));
        if (pd.n) {
            pthread_mutex_unlock(&g->mu);
            sl_grp_pending_flush(g, &pd);
            pthread_mutex_lock(&g->mu);
        }
    }
    pthread_mutex_unlock(&g->mu);
    sl_grp_pending_flush(g, &pd);
    return n;
}

/* ---- subscription and assignment ---- */

static int set_topics(struct member *m, const char *const *topics, size_t n)
{
    char **v = calloc(n, sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!sl_topic_name_valid(topics[i]) || !(v[i] = strdup(topics[i]))) {
            int rc = v[i] || !sl_topic_name_valid(topics[i]) ? -EINVAL : -ENOMEM;
            for (size_t j = 0; j <= i; j++)
                free(v[j]);
            free(v);
            return rc;
        }
    }
    member_clear_sub(m);
    m->topics = v;
    m->ntopics = n;
    m->sub = SL_SUB_TOPICS;
    return 0;
}

static int set_pattern(struct member *m, const char *pattern)
{
    size_t len = strlen(pattern);
    char *anchored = malloc(len + 5);
    char *copy = strdup(pattern);
    regex_t re;
    int rc = anchored && copy ? 0 : -ENOMEM;
    if (rc == 0) {
        snprintf(anchored, len + 5, "^(%s)$", pattern); /* Kafka matches the whole name */
        rc = regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB) ? -EINVAL : 0;
    }
    free(anchored);
    if (rc) {
        free(copy);
        return rc;
    }
    member_clear_sub(m);
    m->re = re;
    m->pattern = copy;
    m->sub = SL_SUB_PATTERN;
    return 0;
}

int sl_groups_subscribe(struct sl_groups *g, const char *group, const char *id, const char *const *topics, size_t n,
                        const char *pattern)
{
    if ((topics && pattern) || (!pattern && n == 0) || (pattern && !pattern[0]))
        return -EINVAL;
    struct pending pd = {0};
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    int rc = m ? 0 : SL_ENOMEMBER;
    if (rc == 0 && (m->sub == SL_SUB_MANUAL || (m->sub == SL_SUB_TOPICS && pattern) ||
                    (m->sub == SL_SUB_PATTERN && !pattern)))
        rc = SL_EEXISTS;
    if (rc == 0)
        rc = pattern ? set_pattern(m, pattern) : set_topics(m, topics, n);
    if (rc == 0)
        rc = sl_grp_rebalance(g, gr, false, &pd);
    pthread_mutex_unlock(&g->mu);
    sl_grp_pending_flush(g, &pd);
    return rc;
}

int sl_groups_unsubscribe(struct sl_groups *g, const char *group, const char *id)
{
    struct pending pd = {0};
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    int rc = m ? 0 : SL_ENOMEMBER;
    if (rc == 0) {
        bool was_sub = sl_grp_subscribed(m);
        member_clear_sub(m);
        rc = sl_grp_set_assignment(gr, m, NULL, 0, &pd);
        if (rc == 0 && was_sub)
            rc = sl_grp_rebalance(g, gr, false, &pd);
    }
    pthread_mutex_unlock(&g->mu);
    sl_grp_pending_flush(g, &pd);
    return rc;
}

int sl_groups_subscription(struct sl_groups *g, const char *group, const char *id, struct sl_tp **out, size_t *n)
{
    struct sl_topic_info *topics = NULL;
    size_t nt = 0;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&g->mu);
    struct member *m = member_touch(g, group, id, NULL);
    int rc = m ? 0 : SL_ENOMEMBER;
    if (rc == 0 && m->sub == SL_SUB_PATTERN)
        rc = sl_broker_topics(g->b, &topics, &nt);
    size_t cap = m && m->sub == SL_SUB_TOPICS ? m->ntopics : nt;
    if (rc == 0 && !(*out = calloc(cap + 1, sizeof **out)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && m->sub == SL_SUB_TOPICS && i < m->ntopics; i++) {
        snprintf((*out)[*n].topic, sizeof (*out)[*n].topic, "%s", m->topics[i]);
        (*out)[(*n)++].partition = -1;
    }
    for (size_t i = 0; rc == 0 && m->sub == SL_SUB_PATTERN && i < nt; i++) {
        if (!sl_grp_wants(m, &topics[i]))
            continue;
        snprintf((*out)[*n].topic, sizeof (*out)[*n].topic, "%s", topics[i].name);
        (*out)[(*n)++].partition = -1;
    }
    pthread_mutex_unlock(&g->mu);
    free(topics);
    return rc;
}

int sl_groups_assign(struct sl_groups *g, const char *group, const char *id, const struct sl_tp *tps, size_t n)
{
    struct pending pd = {0};
    struct sl_tp *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int32_t cnt = sl_broker_partition_count(g->b, tps[i].topic);
        rc = cnt < 0 ? cnt : (tps[i].partition < 0 || tps[i].partition >= cnt) ? SL_ENOPART : 0;
        v[i] = tps[i];
    }
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    if (!m)
        rc = SL_ENOMEMBER;
    else if (rc == 0 && sl_grp_subscribed(m))
        rc = SL_ESTATE;
    if (rc == 0) {
        member_clear_sub(m);
        m->sub = n ? SL_SUB_MANUAL : SL_SUB_NONE;
        rc = sl_grp_set_assignment(gr, m, v, n, &pd);
        v = NULL;
    }
    pthread_mutex_unlock(&g->mu);
    free(v);
    sl_grp_pending_flush(g, &pd);
    return rc;
}

int sl_groups_assignment(struct sl_groups *g, const char *group, const char *id, struct sl_tp **out, size_t *n,
                         uint64_t *generation)
{
    struct pending pd = {0};
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    int rc = m ? sl_grp_rebalance(g, gr, true, &pd) : SL_ENOMEMBER;
    if (rc == 0) {
        *n = m->nassigned;
        *out = malloc((m->nassigned + 1) * sizeof **out);
        if (!*out)
            rc = -ENOMEM;
        else if (m->nassigned) /* NULL before the first assignment: memcpy from NULL is UB */
            memcpy(*out, m->assigned, m->nassigned * sizeof **out);
        if (generation)
            *generation = gr->generation;
    }
    pthread_mutex_unlock(&g->mu);
    sl_grp_pending_flush(g, &pd);
    return rc;
}

int sl_groups_revoking(struct sl_groups *g, const char *group, const char *id, struct sl_tp **out, size_t *n,
                       uint64_t *generation)
{
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    int rc = m ? 0 : SL_ENOMEMBER;
    size_t k = rc == 0 && gr->rebalancing ? m->nrevoking : 0;
    if (rc == 0 && !(*out = malloc((k + 1) * sizeof **out)))
        rc = -ENOMEM;
    if (rc == 0) {
        if (k)
            memcpy(*out, m->revoking, k * sizeof **out);
        *n = k;
        if (generation)
            *generation = gr->generation;
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

int sl_groups_revoke_ack(struct sl_groups *g, const char *group, const char *id)
{
    struct pending pd = {0};
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    if (m && gr->rebalancing) {
        sl_grp_revoke_done(gr, m, &pd);
        sl_grp_settle(g, gr, &pd);
    }
    pthread_mutex_unlock(&g->mu);
    sl_grp_pending_flush(g, &pd);
    return m ? 0 : SL_ENOMEMBER;
}

/* ---- positions ---- */

int sl_groups_seek(struct sl_groups *g, const char *group, const char *id, const struct sl_tpo *pos, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pos[i].offset < 0)
            return -EINVAL;
    pthread_mutex_lock(&g->mu);
    struct member *m = member_touch(g, group, id, NULL);
    int rc = m ? 0 : SL_ENOMEMBER;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!member_assigned(m, pos[i].topic, pos[i].partition))
            rc = SL_ESTATE;
    for (size_t i = 0; rc == 0 && i < n; i++)
        member_set_pos(m, pos[i].topic, pos[i].partition, pos[i].offset);
    pthread_mutex_unlock(&g->mu);
    return rc;
}

/* The starting position of an assigned partition without one: committed, else auto.offset.reset. */
static int resolve_pos(struct sl_groups *g, struct group *gr, struct member *m, const char *topic, int32_t p,
                       bool use_committed, sl_offset_t *out)
{
    struct committed *c = use_committed ? sl_grp_committed_find(gr, topic, p) : NULL;
    if (c) {
        *out = c->offset;
        return 0;
    }
    if (m->cfg.reset == SL_RESET_NONE)
        return SL_EOFFSET;
    sl_offset_t start, end;
    int rc = sl_broker_offsets(g->b, topic, p, &start, &end);
    if (rc == 0)
        *out = m->cfg.reset == SL_RESET_EARLIEST ? start : end;
    return rc;
}

int sl_groups_poll_begin(struct sl_groups *g, const char *group, const char *id, struct sl_tpo **out, size_t *n,
                         uint64_t *generation)
{
    struct pending pd = {0};
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    int rc = m ? 0 : SL_ENOMEMBER;
    if (rc == 0 && gr->rebalancing) /* the client has had the records of earlier polls */
        sl_grp_revoke_done(gr, m, &pd);
    if (rc == 0)
        rc = sl_grp_rebalance(g, gr, true, &pd);
    if (rc == 0)
        member_autocommit(gr, m, &pd, false);
    for (size_t i = 0; rc == 0 && i < m->nassigned; i++) {
        const struct sl_tp *a = &m->assigned[i];
        sl_offset_t off;
        if (member_pos(m, a->topic, a->partition))
            continue;
        rc = resolve_pos(g, gr, m, a->topic, a->partition, true, &off);
        if (rc == 0)
            member_set_pos(m, a->topic, a->partition, off);
        else if (rc == SL_ENOTOPIC || rc == SL_ENOPART)
            rc = 0; /* deleted meanwhile: the next rebalance drops it */
    }
    if (rc == 0 && !(*out = malloc((m->npos + 1) * sizeof **out)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < m->npos; i++) /* not what a pending rebalance takes away */
        if (!gr->rebalancing || !sl_tp_in(m->revoking, m->nrevoking, m->pos[i].topic, m->pos[i].partition))
            (*out)[(*n)++] = m->pos[i];
    if (rc == 0 && generation)
        *generation = gr->generation;
    pthread_mutex_unlock(&g->mu);
    sl_grp_pending_flush(g, &pd);
    return rc;
}

int sl_groups_poll_advance(struct sl_groups *g, const char *group, const char *id, const struct sl_tpo *pos,
                           size_t n)
{
    pthread_mutex_lock(&g->mu);
    struct member *m = member_touch(g, group, id, NULL);
    for (size_t i = 0; m && i < n; i++)
        if (member_assigned(m, pos[i].topic, pos[i].partition))
            member_set_pos(m, pos[i].topic, pos[i].partition, pos[i].offset);
    pthread_mutex_unlock(&g->mu);
    return m ? 0 : SL_ENOMEMBER;
}

int sl_groups_position_reset(struct sl_groups *g, const char *group, const char *id, const char *topic,
                             int32_t partition)
{
    pthread_mutex_lock(&g->mu);
    struct group *gr;
    struct member *m = member_touch(g, group, id, &gr);
    int rc = m ? 0 : SL_ENOMEMBER;
    sl_offset_t off;
    if (rc == 0 && member_assigned(m, topic, partition)) {
        rc = resolve_pos(g, gr, m, topic, partition, false, &off);
        if (rc == 0)
            member_set_pos(m, topic, partition, off);
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

int sl_groups_positions(struct sl_groups *g, const char *group, const char *id, struct sl_tpo **out, size_t *n)
{
    pthread_mutex_lock(&g->mu);
    struct member *m = member_touch(g, group, id, NULL);
    int rc = m ? 0 : SL_ENOMEMBER;
    if (rc == 0 && !(*out = malloc((m->npos + 1) * sizeof **out)))
        rc = -ENOMEM;
    if (rc == 0) {
        if (m->npos) /* m->pos may be NULL */
            memcpy(*out, m->pos, m->npos * sizeof **out);
        *n = m->npos;
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

int sl_groups_member_positions(struct sl_groups *g, const char *group, const char *id, struct sl_tpo **out,
                               size_t *n)
{
    return sl_groups_positions(g, group, id, out, n);
}
