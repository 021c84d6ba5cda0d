/* The consumer group coordinator (see server/groups.h for the model, invariants and on-disk format).
 *
 * Everything lives under one mutex (mu): groups in a list, members in a list per group, committed offsets and
 * positions in small arrays searched linearly (groups have tens of partitions, not millions). Rebalances are
 * computed eagerly under the mutex; auto-commits they cause are collected in a 'struct pending' and written
 * after the mutex is released (a produce's done callback may run inside sl_broker_produce and takes mu). */
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
#include "server/partitioner.h"
#include "storage/batch.h"
#include "storage/err.h"

/* ---- small helpers ---- */

int64_t sl_grp_now(const struct sl_groups *g)
{
    if (g->cfg.now_ms)
        return g->cfg.now_ms();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tpo_push(struct sl_tpo **v, size_t *n, size_t *cap, const char *topic, int32_t p, sl_offset_t off)
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
    if (tpo_push(&pd->v, &pd->n, &pd->cap, topic, p, off))
        sl_warn("groups: auto-commit of %s/%s-%d dropped: out of memory", gr->name, topic, p);
}

static struct group *group_find(struct sl_groups *g, const char *name)
{
    for (struct group *gr = g->groups; gr; gr = gr->next)
        if (strcmp(gr->name, name) == 0)
            return gr;
    return NULL;
}

static struct group *group_get(struct sl_groups *g, const char *name)
{
    struct group *gr = group_find(g, name);
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

static struct member *member_find(struct group *gr, const char *id)
{
    for (struct member *m = gr ? gr->members : NULL; m; m = m->next)
        if (strcmp(m->id, id) == 0)
            return m;
    return NULL;
}

/* Finds and touches a member. */
static struct member *member_touch(struct sl_groups *g, const char *group, const char *id, struct group **grp)
{
    struct group *gr = group_find(g, group);
    struct member *m = member_find(gr, id);
    if (m)
        m->last_seen = sl_grp_now(g);
    if (grp)
        *grp = gr;
    return m;
}

struct committed *sl_grp_committed_find(struct group *gr, const char *topic, int32_t p)
{
    for (size_t i = 0; gr && i < gr->nc; i++)
        if (sl_tp_eq(gr->c[i].topic, gr->c[i].partition, topic, p))
            return &gr->c[i];
    return NULL;
}

/* Sets (offset >= 0) or deletes (offset < 0) a committed offset. */
static int committed_set(struct group *gr, const char *topic, int32_t p, sl_offset_t off)
{
    struct committed *c = sl_grp_committed_find(gr, topic, p);
    if (c && off < 0) {
        *c = gr->c[--gr->nc];
        return 0;
    }
    if (c || off < 0) {
        if (c)
            c->offset = off;
        return 0;
    }
    if (gr->nc == gr->capc) {
        size_t nc = gr->capc ? gr->capc * 2 : 8;
        struct committed *v = realloc(gr->c, nc * sizeof *v);
        if (!v)
            return -ENOMEM;
        gr->c = v;
        gr->capc = nc;
    }
    c = &gr->c[gr->nc++];
    snprintf(c->topic, sizeof c->topic, "%s", topic);
    c->partition = p;
    c->offset = off;
    return 0;
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

/* ---- commits ---- */

static void on_fire_and_forget(struct sl_commit *c, int rc)
{
    if (rc)
        sl_warn("groups: auto-commit failed: %s", sl_strerror(rc));
    free(c);
}

/* Writes the pending auto-commits (mu not held), then stops counting the group as flushing: a rebalance
 * that waited for them may now complete (the sweeper is woken to try). */
static void pending_flush(struct sl_groups *g, struct pending *pd)
{
    if (pd->n) {
        struct sl_commit *c = calloc(1, sizeof *c);
        int rc = c ? 0 : -ENOMEM;
        if (c) {
            c->done = on_fire_and_forget;
            rc = sl_groups_commit(g, pd->gr->name, pd->v, pd->n, c);
            if (rc)
                free(c);
        }
        if (rc)
            sl_warn("groups: auto-commit for %s failed: %s", pd->gr->name, sl_strerror(rc));
    }
    if (pd->gr) {
        pthread_mutex_lock(&g->mu);
        pd->gr->flushing--;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
    }
    free(pd->v);
    memset(pd, 0, sizeof *pd);
}

static int encode_commits(const char *group, const struct sl_tpo *offs, size_t n, struct sl_batch_builder *bb,
                          struct sl_slice *out, int64_t ts)
{
    size_t gl = strlen(group);
    for (size_t i = 0; i < n; i++) {
        char key[SL_GROUP_NAME_MAX + SL_TOPIC_NAME_MAX + 32], val[32];
        size_t tl = strlen(offs[i].topic);
        memcpy(key, group, gl + 1);
        memcpy(key + gl + 1, offs[i].topic, tl + 1);
        int pl = snprintf(key + gl + tl + 2, 16, "%" PRId32, offs[i].partition);
        int vl = snprintf(val, sizeof val, "%" PRId64, offs[i].offset);
        struct sl_record r = {
            .timestamp = ts,
            .key = {(const uint8_t *)key, gl + tl + 2 + (size_t)pl},
            .value = {(const uint8_t *)val, (size_t)vl},
        };
        if (offs[i].offset < 0) /* a tombstone: the entry is deleted */
            r.value = (struct sl_slice){NULL, 0};
        int rc = sl_bb_add(bb, &r);
        if (rc)
            return rc;
    }
    return sl_bb_finish(bb, out);
}

/* Removes c from its group's commits in flight. mu held. */
static void commit_unlink(struct group *gr, struct sl_commit *c)
{
    for (struct sl_commit **pp = &gr->commits; *pp; pp = &(*pp)->gnext_)
        if (*pp == c) {
            *pp = c->gnext_;
            return;
        }
}

static void on_commit_done(struct sl_produce *req, int rc)
{
    struct sl_commit *c = req->arg;
    struct sl_groups *g = c->g_;
    pthread_mutex_lock(&g->mu);
    struct group *gr = group_find(g, c->group_); /* registered by commit_records: it exists */
    commit_unlink(gr, c);
    for (size_t i = 0; rc == 0 && i < c->n_; i++)
        rc = committed_set(gr, c->offs_[i].topic, c->offs_[i].partition, c->offs_[i].offset);
    if (gr->rebalancing)
        pthread_cond_broadcast(&g->cv); /* the sweeper settles the plan this commit may have held */
    pthread_mutex_unlock(&g->mu);
    free(c->group_);
    free(c->offs_);
    c->group_ = NULL;
    c->offs_ = NULL;
    c->done(c, rc);
    /* last touch of g: sl_groups_close may free it as soon as inflight reaches 0 */
    pthread_mutex_lock(&g->mu);
    if (--g->inflight == 0)
        pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks that member id may commit every entry (why[i] gets each entry's verdict). mu held. */
static int member_may_commit(struct group *gr, const char *id, const struct sl_tpo *offs, size_t n, int *why)
{
    struct member *m = member_find(gr, id);
    if (!m)
        return SL_ENOMEMBER;
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = sl_grp_may_commit(gr, m, offs[i].topic, offs[i].partition);
        if (why)
            why[i] = rc;
        if (rc && !first)
            first = rc;
    }
    return first;
}

/* Checks (member != NULL) and registers the commit with its group, under mu, so that no rebalance can
 * complete between the check and the registration. */
static int commit_register(struct sl_groups *g, struct sl_commit *c, const char *member, int *why)
{
    pthread_mutex_lock(&g->mu);
    struct group *gr = member ? group_find(g, c->group_) : group_get(g, c->group_);
    int rc = gr ? 0 : member ? SL_ENOMEMBER : -ENOMEM;
    if (rc == 0 && member)
        rc = member_may_commit(gr, member, c->offs_, c->n_, why);
    if (rc == 0 && member)
        member_find(gr, member)->last_seen = sl_grp_now(g);
    if (rc == 0) {
        c->gnext_ = gr->commits;
        gr->commits = c;
        g->inflight++;
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

/* Undoes commit_register for a commit whose produce was refused (its done never runs). */
static void commit_unregister(struct sl_groups *g, struct sl_commit *c)
{
    pthread_mutex_lock(&g->mu);
    commit_unlink(group_find(g, c->group_), c);
    if (--g->inflight == 0)
        pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* sl_groups_commit without the argument checks: an offset < 0 writes a tombstone (deletes the entry). */
static int commit_records(struct sl_groups *g, const char *group, const char *member, const struct sl_tpo *offs,
                          size_t n, struct sl_commit *c, int *why)
{
    c->g_ = g;
    c->n_ = n;
    c->group_ = strdup(group);
    c->offs_ = malloc((n ? n : 1) * sizeof *offs);
    int rc = c->group_ && c->offs_ ? 0 : -ENOMEM;
    if (rc == 0 && n)
        memcpy(c->offs_, offs, n * sizeof *offs);
    struct sl_batch_builder bb;
    struct sl_slice batch;
    sl_bb_init(&bb);
    if (rc == 0)
        rc = encode_commits(group, offs, n, &bb, &batch, wall_ms());
    if (rc == 0)
        rc = commit_register(g, c, member, why);
    if (rc == 0) {
        c->prod_.done = on_commit_done;
        c->prod_.arg = c;
        int32_t part = sl_partitioner_keyed(group, strlen(group), g->offsets_parts);
        rc = sl_broker_produce_internal(g->b, SL_GROUPS_OFFSETS_TOPIC, part, (uint8_t *)batch.base, batch.len,
                                        &c->prod_);
        if (rc) /* done never runs: unregister as it would */
            commit_unregister(g, c);
    }
    sl_bb_fini(&bb);
    if (rc) {
        free(c->group_);
        free(c->offs_);
        c->group_ = NULL;
        c->offs_ = NULL;
    }
    return rc;
}

static int commit_args_ok(const char *group, const struct sl_tpo *offs, size_t n)
{
    if (n == 0 || !group[0] || strlen(group) > SL_GROUP_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (offs[i].offset < 0 || offs[i].partition < 0)
            return 0;
    return 1;
}

int sl_groups_commit(struct sl_groups *g, const char *group, const struct sl_tpo *offs, size_t n,
                     struct sl_commit *c)
{
    return commit_args_ok(group, offs, n) ? commit_records(g, group, NULL, offs, n, c, NULL) : -EINVAL;
}

int sl_groups_member_commit(struct sl_groups *g, const char *group, const char *id, const struct sl_tpo *offs,
                            size_t n, struct sl_commit *c, int *why)
{
    if (why)
        memset(why, 0, n * sizeof *why);
    return commit_args_ok(group, offs, n) ? commit_records(g, group, id, offs, n, c, why) : -EINVAL;
}

struct waiter {
    struct sl_commit c;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rc;
};

static void on_wait_done(struct sl_commit *c, int rc)
{
    struct waiter *w = c->arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->rc = rc;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int sl_groups_commit_wait(struct sl_groups *g, const char *group, const struct sl_tpo *offs, size_t n)
{
    struct waiter w = {.c = {.done = on_wait_done}};
    w.c.arg = &w;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int rc = sl_groups_commit(g, group, offs, n, &w.c);
    if (rc == 0) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        rc = w.rc;
        pthread_mutex_unlock(&w.mu);
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return rc;
}

/* ---- replay of __consumer_offsets ---- */

static void replay_record(struct sl_groups *g, const struct sl_record *r)
{
    char key[SL_GROUP_NAME_MAX + SL_TOPIC_NAME_MAX + 32];
    if (!r->key.base || r->key.len >= sizeof key)
        return;
    memcpy(key, r->key.base, r->key.len);
    key[r->key.len] = 0;
    const char *group = key;
    size_t gl = strlen(group);
    if (gl + 1 >= r->key.len)
        return;
    const char *topic = key + gl + 1;
    size_t tl = strlen(topic);
    if (gl + tl + 2 >= r->key.len || tl > SL_TOPIC_NAME_MAX || gl > SL_GROUP_NAME_MAX)
        return;
    int32_t part = (int32_t)strtol(topic + tl + 1, NULL, 10);
    sl_offset_t off = -1;
    if (r->value.base) {
        char val[32];
        size_t vl = r->value.len < sizeof val - 1 ? r->value.len : sizeof val - 1;
        memcpy(val, r->value.base, vl);
        val[vl] = 0;
        off = strtoll(val, NULL, 10);
    }
    struct group *gr = group_get(g, group);
    if (gr)
        committed_set(gr, topic, part, off);
}

/* A damaged range of __consumer_offsets: the commits in it are lost, the intact ones around it still count.
 * Says so (a committed offset may read older than it was) and moves *start past it. */
static int skip_damage(struct sl_groups *g, int32_t p, sl_offset_t *start)
{
    sl_offset_t from, to;
    char why[160];
    int rc = sl_broker_damage_at(g->b, SL_GROUPS_OFFSETS_TOPIC, p, *start, &from, &to, why, sizeof why);
    if (rc)
        return rc == -ENOENT ? SL_EDAMAGED : rc;
    sl_error("groups: offsets [%" PRId64 ", %" PRId64 ") of %s-%" PRId32 " are damaged (%s): the commits they held "
             "are lost, and a group's committed offset may be older than the one it last committed",
             from, to, SL_GROUPS_OFFSETS_TOPIC, p, why);
    *start = to;
    return 0;
}

static int replay_partition(struct sl_groups *g, int32_t p)
{
    sl_offset_t start, end;
    int rc = sl_broker_offsets(g->b, SL_GROUPS_OFFSETS_TOPIC, p, &start, &end);
    struct sl_buf buf = {0};
    while (rc == 0 && start < end) {
        buf.len = 0;
        rc = sl_broker_fetch(g->b, SL_GROUPS_OFFSETS_TOPIC, p, start, 1 << 20, &buf, NULL);
        if (rc == SL_EDAMAGED && (rc = skip_damage(g, p, &start)) == 0)
            continue;
        size_t at = 0;
        sl_offset_t before = start;
        while (rc == 0 && at + SL_BATCH_HEADER_SIZE <= buf.len) {
            struct sl_batch_hdr h;
            struct sl_batch_iter it;
            struct sl_record r;
            rc = sl_batch_hdr_decode(buf.base + at, buf.len - at, &h);
            size_t sz = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
            if (rc == 0 && (h.length < 0 || sz > buf.len - at))
                rc = SL_ECORRUPT;
            if (rc == 0)
                rc = sl_batch_iter_init(&it, buf.base + at, sz);
            int more;
            while (rc == 0 && (more = sl_batch_iter_next(&it, &r)) != 0) {
                if (more < 0) {
                    rc = more;
                    break;
                }
                if (r.offset >= start)
                    replay_record(g, &r);
            }
            if (rc == 0)
                start = h.base_offset + h.last_offset_delta + 1;
            at += sz;
        }
        if (rc == 0 && start == before)
            break; /* nothing readable: stop rather than spin */
    }
    sl_buf_fini(&buf);
    return rc;
}

/* ---- offsets of a deleted topic ---- */

/* Drops gr's committed offsets and every member's positions of topic (mu held); the dropped entries go to
 * *v as tombstones (offset -1). */
static void group_forget_topic(struct group *gr, const char *topic, struct sl_tpo **v, size_t *n, size_t *cap)
{
    for (size_t i = gr->nc; i-- > 0;)
        if (!strcmp(gr->c[i].topic, topic)) {
            if (tpo_push(v, n, cap, topic, gr->c[i].partition, -1))
                sl_warn("groups: out of memory writing the deletion of %s offsets of %s", topic, gr->name);
            gr->c[i] = gr->c[--gr->nc];
        }
    for (struct member *m = gr->members; m; m = m->next)
        for (size_t i = m->npos; i-- > 0;)
            if (!strcmp(m->pos[i].topic, topic))
                m->pos[i] = m->pos[--m->npos];
}

/* Deletes every group's committed offsets of topic: from the map at once, and from __consumer_offsets by
 * tombstones (fire and forget: a crash before they are durable is repaired by the sweep at open). */
static void forget_topic(struct sl_groups *g, const char *topic)
{
    pthread_mutex_lock(&g->mu);
    for (struct group *gr = g->groups; gr; gr = gr->next) {
        struct sl_tpo *v = NULL;
        size_t n = 0, cap = 0;
        group_forget_topic(gr, topic, &v, &n, &cap);
        if (n == 0)
            continue;
        char name[SL_GROUP_NAME_MAX + 1];
        snprintf(name, sizeof name, "%s", gr->name);
        pthread_mutex_unlock(&g->mu); /* a produce's done callback takes mu; the group list only grows */
        struct sl_commit *c = calloc(1, sizeof *c);
        int rc = c ? 0 : -ENOMEM;
        if (c) {
            c->done = on_fire_and_forget;
            if ((rc = commit_records(g, name, NULL, v, n, c, NULL)) != 0)
                free(c);
        }
        if (rc)
            sl_warn("groups: cannot write the deletion of %s offsets of group %s: %s", topic, name, sl_strerror(rc));
        else
            sl_info("groups: deleted %zu committed offset(s) of topic %s in group %s", n, topic, name);
        free(v);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

static void on_topic_deleted(void *arg, const char *topic)
{
    forget_topic(arg, topic);
}

/* After replay: committed offsets of topics that no longer exist (deleted while a tombstone was not yet
 * durable, or lost with their metadata) are deleted too, so a re-created topic starts fresh. */
static void sweep_deleted_topics(struct sl_groups *g)
{
    for (;;) {
        char topic[SL_TOPIC_NAME_MAX + 1] = "";
        pthread_mutex_lock(&g->mu);
        for (struct group *gr = g->groups; gr && !topic[0]; gr = gr->next)
            for (size_t i = 0; i < gr->nc && !topic[0]; i++)
                if (sl_broker_partition_count(g->b, gr->c[i].topic) == SL_ENOTOPIC)
                    snprintf(topic, sizeof topic, "%s", gr->c[i].topic);
        pthread_mutex_unlock(&g->mu);
        if (!topic[0])
            return;
        sl_warn("groups: committed offsets name topic %s, which does not exist: deleting them", topic);
        forget_topic(g, topic);
    }
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
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(iv % 1000) * 1000000L;
        ts.tv_sec += iv / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
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
    for (int32_t p = 0; rc == 0 && p < g->offsets_parts; p++)
        rc = replay_partition(g, p);
    if (rc == 0) {
        sweep_deleted_topics(g);
        sl_broker_set_deleted_hook(b, on_topic_deleted, g);
    }
    if (rc == 0 && !cfg->no_sweeper) {
        rc = -pthread_create(&g->sweeper, NULL, sweeper_main, g);
        g->started = rc == 0;
    }
    if (rc) {
        sl_error("groups: cannot open the coordinator: %s", sl_strerror(rc));
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
    struct group *gr = group_get(g, group);
    int rc = gr ? 0 : -ENOMEM;
    if (rc == 0 && id && member_find(gr, id))
        rc = SL_EEXISTS;
    if (rc == 0) {
        if (id)
            snprintf(m->id, sizeof m->id, "%s", id);
        else
            do
                snprintf(m->id, sizeof m->id, "%s-%" PRIx64 "-%" PRIu64,
                         cfg->kind == SL_MEMBER_WS ? "ws-member" : "rest-consumer", (uint64_t)wall_ms(),
                         ++g->idseq);
            while (member_find(gr, m->id));
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
            sl_warn("groups: rebalance of %s failed: %s", gr->name, sl_strerror(rc));
    }
}

int sl_groups_leave(struct sl_groups *g, const char *group, const char *id)
{
    struct pending pd = {0};
    pthread_mutex_lock(&g->mu);
    struct group *gr = group_find(g, group);
    struct member *m = member_find(gr, id);
    if (m)
        member_remove(g, gr, m, &pd);
    pthread_mutex_unlock(&g->mu);
    pending_flush(g, &pd);
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
            sl_warn("groups: rebalance of %s failed: %s", gr->name, sl_strerror(rc));
        if (pd.n) {
            pthread_mutex_unlock(&g->mu);
            pending_flush(g, &pd);
            pthread_mutex_lock(&g->mu);
        }
    }
    pthread_mutex_unlock(&g->mu);
    pending_flush(g, &pd);
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
    pending_flush(g, &pd);
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
    pending_flush(g, &pd);
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
    pending_flush(g, &pd);
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
    pending_flush(g, &pd);
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
    pending_flush(g, &pd);
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
    pending_flush(g, &pd);
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

/* ---- committed offsets, inspection ---- */

sl_offset_t sl_groups_committed(struct sl_groups *g, const char *group, const char *topic, int32_t partition)
{
    pthread_mutex_lock(&g->mu);
    struct committed *c = sl_grp_committed_find(group_find(g, group), topic, partition);
    sl_offset_t off = c ? c->offset : -1;
    pthread_mutex_unlock(&g->mu);
    return off;
}

static int cmp_tpo(const void *a, const void *b)
{
    const struct sl_tpo *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

int sl_groups_committed_all(struct sl_groups *g, const char *group, struct sl_tpo **out, size_t *n)
{
    pthread_mutex_lock(&g->mu);
    struct group *gr = group_find(g, group);
    int rc = gr ? 0 : SL_ENOGROUP;
    if (rc == 0 && !(*out = malloc((gr->nc + 1) * sizeof **out)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < gr->nc; i++) {
        snprintf((*out)[i].topic, sizeof (*out)[i].topic, "%s", gr->c[i].topic);
        (*out)[i].partition = gr->c[i].partition;
        (*out)[i].offset = gr->c[i].offset;
    }
    if (rc == 0)
        *n = gr->nc;
    pthread_mutex_unlock(&g->mu);
    if (rc == 0)
        qsort(*out, *n, sizeof **out, cmp_tpo);
    return rc;
}

static int cmp_desc(const void *a, const void *b)
{
    const struct sl_group_desc *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static void desc_fill(const struct group *gr, struct sl_group_desc *d)
{
    snprintf(d->name, sizeof d->name, "%s", gr->name);
    d->generation = gr->generation;
    d->is_simple = true;
    d->nmembers = 0;
    d->members = NULL;
    for (const struct member *m = gr->members; m; m = m->next) {
        d->nmembers++;
        if (sl_grp_subscribed(m))
            d->is_simple = false;
    }
}

int sl_groups_list(struct sl_groups *g, struct sl_group_desc **out, size_t *n)
{
    pthread_mutex_lock(&g->mu);
    size_t k = 0;
    for (struct group *gr = g->groups; gr; gr = gr->next)
        k += gr->members || gr->nc;
    *out = calloc(k + 1, sizeof **out);
    size_t i = 0;
    for (struct group *gr = g->groups; *out && gr; gr = gr->next)
        if (gr->members || gr->nc)
            desc_fill(gr, &(*out)[i++]);
    pthread_mutex_unlock(&g->mu);
    if (!*out)
        return -ENOMEM;
    *n = k;
    qsort(*out, k, sizeof **out, cmp_desc);
    return 0;
}

int sl_groups_describe(struct sl_groups *g, const char *group, struct sl_group_desc *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&g->mu);
    struct group *gr = group_find(g, group);
    int rc = gr && (gr->members || gr->nc) ? 0 : SL_ENOGROUP;
    if (rc == 0) {
        desc_fill(gr, out);
        out->members = calloc(out->nmembers + 1, sizeof *out->members);
        rc = out->members ? 0 : -ENOMEM;
    }
    size_t i = 0;
    for (struct member *m = rc == 0 ? gr->members : NULL; m; m = m->next, i++) {
        struct sl_member_desc *md = &out->members[i];
        snprintf(md->id, sizeof md->id, "%s", m->id);
        md->kind = m->cfg.kind;
        md->assigned = malloc((m->nassigned + 1) * sizeof *md->assigned);
        if (!md->assigned) {
            rc = -ENOMEM;
            break;
        }
        if (m->nassigned) /* m->assigned is NULL before the first assignment: memcpy(_, NULL, 0) is UB */
            memcpy(md->assigned, m->assigned, m->nassigned * sizeof *md->assigned);
        md->nassigned = m->nassigned;
    }
    pthread_mutex_unlock(&g->mu);
    if (rc)
        sl_groups_desc_fini(out);
    return rc;
}

void sl_groups_desc_fini(struct sl_group_desc *d)
{
    for (size_t i = 0; d->members && i < d->nmembers; i++)
        free(d->members[i].assigned);
    free(d->members);
    d->members = NULL;
    d->nmembers = 0;
}

void sl_groups_desc_free_all(struct sl_group_desc *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_groups_desc_fini(&d[i]);
    free(d);
}
