/* The committed-offset store of the group coordinator (see server/groups.h for the model and the on-disk
 * format): commits written as records of __consumer_offsets (encode_commits), the map of durable committed
 * offsets per group (INVARIANT 4: an entry is set only when its record is durable), the replay of the topic at
 * open, and the deletion of a deleted topic's offsets (tombstones). Shares the coordinator's mutex and state
 * through server/groups_int.h. */
#include "server/groups.h"
#include "server/groups_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/logging.h"
#include "server/partitioner.h"
#include "storage/batch.h"
#include "server/err.h"

/* ---- the committed-offset map ---- */

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


/* ---- commits ---- */

static void on_fire_and_forget(struct sl_commit *c, int rc)
{
    if (rc)
        sl_warn("groups: auto-commit failed: %s", sl_error_message(rc));
    free(c);
}

/* Writes the pending auto-commits (mu not held), then stops counting the group as flushing: a rebalance
 * that waited for them may now complete (the sweeper is woken to try). */
void sl_grp_pending_flush(struct sl_groups *g, struct pending *pd)
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
            sl_warn("groups: auto-commit for %s failed: %s", pd->gr->name, sl_error_message(rc));
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
    struct group *gr = sl_grp_group_find(g, c->group_); /* registered by commit_records: it exists */
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

/* Checks that member id may commit every entry (why[i] gets each entry's verdict). mu held. */
static int member_may_commit(struct group *gr, const char *id, const struct sl_tpo *offs, size_t n, int *why)
{
    struct member *m = sl_grp_member_find(gr, id);
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
    struct group *gr = member ? sl_grp_group_find(g, c->group_) : sl_grp_group_get(g, c->group_);
    int rc = gr ? 0 : member ? SL_ENOMEMBER : -ENOMEM;
    if (rc == 0 && member)
        rc = member_may_commit(gr, member, c->offs_, c->n_, why);
    if (rc == 0 && member)
        sl_grp_member_find(gr, member)->last_seen = sl_grp_now(g);
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
    commit_unlink(sl_grp_group_find(g, c->group_), c);
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
        rc = encode_commits(group, offs, n, &bb, &batch, sl_grp_wall_ms());
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

static bool commit_args_ok(const char *group, const struct sl_tpo *offs, size_t n)
{
    if (n == 0 || !group[0] || strlen(group) > SL_GROUP_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (offs[i].offset < 0 || offs[i].partition < 0)
            return false;
    return true;
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
    struct group *gr = sl_grp_group_get(g, group);
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
        while (rc == 0) {
            struct sl_batch_hdr h;
            struct sl_batch_iter it;
            struct sl_record r;
            struct sl_slice bs;
            int got = sl_batches_next(buf.base, buf.len, &at, &h, &bs);
            if (got <= 0) {
                rc = got;
                break;
            }
            rc = sl_batch_iter_init(&it, bs.base, bs.len);
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
            if (sl_grp_tpo_push(v, n, cap, topic, gr->c[i].partition, -1))
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
            sl_warn("groups: cannot write the deletion of %s offsets of group %s: %s", topic, name, sl_error_message(rc));
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

/* ---- committed offsets, inspection ---- */

sl_offset_t sl_groups_committed(struct sl_groups *g, const char *group, const char *topic, int32_t partition)
{
    pthread_mutex_lock(&g->mu);
    struct committed *c = sl_grp_committed_find(sl_grp_group_find(g, group), topic, partition);
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
    struct group *gr = sl_grp_group_find(g, group);
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

int sl_grp_offsets_load(struct sl_groups *g)
{
    int rc = 0;
    for (int32_t p = 0; rc == 0 && p < g->offsets_parts; p++)
        rc = replay_partition(g, p);
    if (rc == 0) {
        sweep_deleted_topics(g);
        sl_broker_set_deleted_hook(g->b, on_topic_deleted, g);
    }
    return rc;
}
