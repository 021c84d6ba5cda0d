/* Internals of the group coordinator, shared by its files only: server/groups.c (the coordinator object,
 * open/close, sweeper, membership, subscriptions, assignment, positions), server/group_offsets.c (the
 * committed-offset store: commits to __consumer_offsets, replay at open, forgetting deleted topics),
 * server/group_view.c (list/describe) and server/rebalance.c (the assignor and the two-phase rebalance).
 * Only these files include this header; no other module may. Everything here is guarded by sl_groups.mu
 * unless it says otherwise.
 *
 * REBALANCE STATE (see server/rebalance.c for the protocol):
 *   group.rebalancing     a plan is pending: every subscribed member has a target assignment
 *   member.target         the member's planned assignment (range assignor), installed when the plan completes
 *   member.revoking       assigned - target: what the member gives up; it may still commit these until it
 *                         acknowledges the revoke (revoke_acked) or revoke_deadline passes
 *   group.flushing        auto-commits queued under mu and not yet submitted (struct pending)
 *   group.commits         commits of the group in flight (submitted, not yet durable or failed)
 *   A plan completes only when no member still owes a revoke acknowledgement, nothing is flushing, and no
 *   commit in flight names a partition that changes owner: the next owner then reads a committed offset that
 *   includes everything the previous owner committed. */
#ifndef SL_SERVER_GROUPS_INT_H
#define SL_SERVER_GROUPS_INT_H

#include <pthread.h>
#include <regex.h>
#include <string.h>

#include "server/err.h"
#include "server/groups.h"

struct member {
    struct member *next;
    char id[SL_MEMBER_ID_MAX + 1];
    struct sl_member_cfg cfg;
    int64_t last_seen;
    enum sl_sub_kind sub;
    char **topics; /* SL_SUB_TOPICS: owned strings */
    size_t ntopics;
    regex_t re; /* SL_SUB_PATTERN */
    char *pattern;
    struct sl_tp *assigned; /* current assignment (manual or by the group) */
    size_t nassigned;
    struct sl_tpo *pos; /* fetch positions, a subset of assigned */
    size_t npos;
    struct sl_tp *target; /* while the group is rebalancing: the planned assignment */
    size_t ntarget;
    struct sl_tp *revoking; /* while rebalancing: assigned - target */
    size_t nrevoking;
    bool revoke_acked;       /* the member is done with 'revoking' (or owes nothing) */
    int64_t revoke_deadline; /* now_ms() after which the revoke counts as acknowledged */
};

struct committed {
    char topic[SL_TOPIC_NAME_MAX + 1];
    int32_t partition;
    sl_offset_t offset;
};

struct group {
    struct group *next;
    char name[SL_GROUP_NAME_MAX + 1];
    uint64_t generation;
    uint64_t sig; /* partition-set signature of the subscribed topics at the last plan */
    struct member *members;
    struct committed *c;
    size_t nc, capc;
    bool rebalancing;
    unsigned flushing;
    struct sl_commit *commits; /* in flight, linked by gnext_ */
};

struct sl_groups {
    struct sl_broker *b;
    struct sl_groups_cfg cfg;
    int32_t offsets_parts;
    pthread_mutex_t mu;
    struct group *groups; /* guarded by: mu */
    uint64_t idseq;       /* guarded by: mu */
    pthread_cond_t cv;    /* commits completing, auto-commits submitted, stop: wakes close and the sweeper */
    bool stop;       /* guarded by: mu */
    size_t inflight; /* guarded by: mu; commits whose done has not run yet (close waits for them) */
    bool started;
    pthread_t sweeper;
};

/* Auto-commits collected under mu, written after it is released (sl_grp_pending_flush). Queuing the first
 * entry counts the group as flushing until the commit is submitted. One group per pending. */
struct pending {
    struct group *gr;
    struct sl_tpo *v;
    size_t n, cap;
};

static inline bool sl_tp_eq(const char *t1, int32_t p1, const char *t2, int32_t p2)
{
    return p1 == p2 && strcmp(t1, t2) == 0;
}

static inline bool sl_tp_in(const struct sl_tp *v, size_t n, const char *topic, int32_t p)
{
    for (size_t i = 0; i < n; i++)
        if (sl_tp_eq(v[i].topic, v[i].partition, topic, p))
            return true;
    return false;
}

static inline bool sl_grp_subscribed(const struct member *m)
{
    return m->sub == SL_SUB_TOPICS || m->sub == SL_SUB_PATTERN;
}

/* groups.c */
bool sl_grp_wants(const struct member *m, const struct sl_topic_info *t);
int64_t sl_grp_now(const struct sl_groups *g);
int64_t sl_grp_wall_ms(void); /* CLOCK_REALTIME in ms: record timestamps, member ids */
/* Appends (topic, p, off) to the growable array *v (*n used, *cap allocated): 0 or -ENOMEM. */
int sl_grp_tpo_push(struct sl_tpo **v, size_t *n, size_t *cap, const char *topic, int32_t p, sl_offset_t off);
/* The group named name, or NULL; sl_grp_group_get creates it (NULL only when out of memory). mu held. */
struct group *sl_grp_group_find(struct sl_groups *g, const char *name);
struct group *sl_grp_group_get(struct sl_groups *g, const char *name);
/* The member id of gr (gr may be NULL), or NULL. mu held. */
struct member *sl_grp_member_find(struct group *gr, const char *id);
void sl_grp_pending_add(struct pending *pd, struct group *gr, const char *topic, int32_t p, sl_offset_t off);

/* group_offsets.c */
struct committed *sl_grp_committed_find(struct group *gr, const char *topic, int32_t p);
/* Writes the pending auto-commits (mu NOT held; takes it), then stops counting the group as flushing. */
void sl_grp_pending_flush(struct sl_groups *g, struct pending *pd);
/* At open, before the sweeper starts: replays __consumer_offsets into the map, deletes the offsets of topics
 * that no longer exist and installs the broker's topic-deleted hook. 0 or a negative SL_E* / errno code. */
int sl_grp_offsets_load(struct sl_groups *g);
/* Installs a new assignment (v is taken): positions of partitions taken away are auto-committed, then dropped. */
int sl_grp_set_assignment(struct group *gr, struct member *m, struct sl_tp *v, size_t n, struct pending *pd);

/* rebalance.c */
/* Plans a rebalance of gr with a fresh topic snapshot (only_if_changed: only when the group's partition set
 * moved since the last plan) and completes it when it can (sl_grp_settle). */
int sl_grp_rebalance(struct sl_groups *g, struct group *gr, bool only_if_changed, struct pending *pd);
/* Completes gr's pending plan if nothing holds it any more (revokes acknowledged or past their deadline,
 * nothing flushing, no commit in flight on a partition that moves). */
void sl_grp_settle(struct sl_groups *g, struct group *gr, struct pending *pd);
/* The member is done with its revoking partitions: auto-commits their positions. */
void sl_grp_revoke_done(struct group *gr, struct member *m, struct pending *pd);
/* Whether m may commit topic/partition now: 0, SL_ENOTASSIGNED, SL_EREBALANCE. */
int sl_grp_may_commit(const struct group *gr, const struct member *m, const char *topic, int32_t p);
/* Frees the member's rebalance state. */
void sl_grp_plan_clear(struct member *m);

#endif
