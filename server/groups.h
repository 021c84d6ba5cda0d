/* The consumer group coordinator (DESIGN §7): one per broker, serving REST consumer instances and WebSocket
 * group members alike.
 *
 * MODEL
 *   group -> members. A member has a kind (REST instance or WS socket), an id unique in its group, consumer
 *   settings (auto.offset.reset, auto.commit, an opaque presentation format kept for the API layer), a
 *   subscription (a topic list, a POSIX extended regex pattern, or a manual assignment, mutually exclusive as
 *   in Kafka), its assigned partitions, and its fetch positions.
 *   Subscribed members of a group share the partitions of their topics by Kafka's range assignor: per topic,
 *   the members subscribed to it, sorted by id, get consecutive ranges; the first (partitions % members) get
 *   one extra. Manually assigned members stay outside group management (as Kafka's assign()).
 *
 * INVARIANTS
 *   1. Within one generation no partition is assigned to two subscribed members of a group.
 *   2. The generation is bumped by every rebalance. A rebalance runs when a subscribed member joins
 *      (subscribes), changes its subscription, leaves, or expires, and when the partition set of the group's
 *      subscribed topics changes (a topic created/deleted, partitions added): noticed on the next call that
 *      concerns the group and by the sweeper.
 *   3. A member loses the fetch positions of the partitions a rebalance takes away (auto-committed first when
 *      auto.commit is on); the next owner starts from the committed offset, else auto.offset.reset.
 *   5. A rebalance revokes before it assigns (Kafka's protocol; server/rebalance.c). It plans the new range
 *      assignment; a member that would lose partitions gets SL_GROUP_EV_REVOKE and keeps them (and may commit
 *      them) until it acknowledges (sl_groups_revoke_ack; for REST instances and SSE streams the next poll) or
 *      rebalance_timeout_ms passes. Only then, and once no commit in flight names a moving partition, is the
 *      plan installed: the generation is bumped and SL_GROUP_EV_REBALANCE sent. The next owner thus starts
 *      after every offset the previous owner committed before giving the partition up.
 *   4. The committed-offset map only holds offsets whose record in __consumer_offsets is durable.
 *
 * ON-DISK FORMAT (records of the internal topic __consumer_offsets, partition murmur2(group) % partitions, so
 * one group's commits stay ordered):
 *     key   = group '\0' topic '\0' partition-in-decimal        (no trailing NUL)
 *     value = committed offset in decimal ASCII; a null value deletes the entry
 *   sl_groups_open replays the whole topic (last record per key wins) to rebuild the map.
 *
 * TIMEOUTS: every call naming a member touches it. A member idle for longer than session_timeout_ms is
 *   removed by the sweeper thread (and by sl_groups_sweep), with on_event(SL_GROUP_EV_EXPIRED).
 *
 * THREADS: every function is thread-safe (one mutex per coordinator). Lock order: coordinator mutex, then
 *   broker locks; the coordinator never calls sl_broker_produce while holding its mutex, because a produce's
 *   done callback may run before sl_broker_produce returns. on_event callbacks run with the coordinator mutex
 *   held: they must be quick and must not call back into the coordinator (set a flag, wake a loop). */
#ifndef SL_SERVER_GROUPS_H
#define SL_SERVER_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/broker.h"
#include "server/err.h"
#include "storage/topicmeta.h"
#include "storage/types.h"

#define SL_GROUP_NAME_MAX 255
#define SL_MEMBER_ID_MAX 255
#define SL_GROUPS_OFFSETS_TOPIC SL_OFFSETS_TOPIC /* created by the broker */

struct sl_groups;

enum sl_member_kind { SL_MEMBER_REST, SL_MEMBER_WS };
enum sl_offset_reset { SL_RESET_LATEST, SL_RESET_EARLIEST, SL_RESET_NONE };
enum sl_sub_kind { SL_SUB_NONE, SL_SUB_TOPICS, SL_SUB_PATTERN, SL_SUB_MANUAL };
enum sl_group_event {
    SL_GROUP_EV_REBALANCE, /* the member's assignment may have changed; arg generation is the new one */
    SL_GROUP_EV_REVOKE,    /* a rebalance takes partitions from the member: see sl_groups_revoking */
    SL_GROUP_EV_EXPIRED,   /* the member timed out and is being removed; never called for it again */
};

/* A topic-partition, and one with an offset. */
struct sl_tp {
    char topic[SL_TOPIC_NAME_MAX + 1];
    int32_t partition;
};
struct sl_tpo {
    char topic[SL_TOPIC_NAME_MAX + 1];
    int32_t partition;
    sl_offset_t offset;
};

struct sl_groups_cfg {
    int64_t session_timeout_ms;   /* consumer.instance.timeout.ms */
    int64_t rebalance_timeout_ms; /* rebalance.timeout.ms: how long a revoke waits for its acknowledgement;
                                   * 0 = 10000, < 0 = do not wait (hand over once commits in flight land) */
    int64_t (*now_ms)(void);      /* NULL = monotonic clock; tests pass a fake clock */
    bool no_sweeper;              /* tests: no thread, call sl_groups_sweep yourself */
};

struct sl_member_cfg {
    enum sl_member_kind kind;
    enum sl_offset_reset reset;
    bool auto_commit;
    char format[16]; /* presentation format, opaque here (the API layer's "binary"/"json"/...) */
    int64_t request_timeout_ms; /* REST: default long-poll timeout (consumer.request.timeout.ms); opaque here */
    void (*on_event)(void *arg, enum sl_group_event ev, uint64_t generation); /* may be NULL */
    void *arg;
};

struct sl_member_info {
    char id[SL_MEMBER_ID_MAX + 1];
    struct sl_member_cfg cfg;
    enum sl_sub_kind sub;
    uint64_t generation;
};

/* Creates the coordinator on b (borrowed; it must outlive the coordinator), replays __consumer_offsets and
 * starts the sweeper. Returns 0 and *out, SL_ENOTOPIC if the broker has no offsets topic, -errno. */
int sl_groups_open(struct sl_broker *b, const struct sl_groups_cfg *cfg, struct sl_groups **out);
/* Waits for commits in flight to complete (the broker must still be open), stops the sweeper and frees
 * everything (members vanish without events, and without a last auto-commit). */
void sl_groups_close(struct sl_groups *g);

/* ---- membership ---- */

/* Adds member 'id' (NULL: the coordinator generates one) to group (created on demand) with settings cfg
 * (copied). The member has no subscription yet. Copies the id into id_out (SL_MEMBER_ID_MAX + 1 bytes) when
 * non-NULL. Returns 0, SL_EEXISTS (id taken), -EINVAL (empty or too long names). */
int sl_groups_join(struct sl_groups *g, const char *group, const char *id, const struct sl_member_cfg *cfg,
                   char *id_out);
/* Removes the member (auto-committing its positions if auto.commit is on) and rebalances the group.
 * Returns 0 or SL_ENOMEMBER. */
int sl_groups_leave(struct sl_groups *g, const char *group, const char *id);
/* Touches the member and copies out its settings. Returns 0 or SL_ENOMEMBER. */
int sl_groups_member(struct sl_groups *g, const char *group, const char *id, struct sl_member_info *out);

/* ---- subscription and assignment ---- */

/* Subscribes to n topics (pattern NULL) or to the topics matching a POSIX extended regex (topics NULL),
 * replacing a subscription of the same kind and rebalancing. Returns 0, SL_ENOMEMBER, SL_EEXISTS (the member
 * is manually assigned or subscribed the other way: Kafka's mutually exclusive subscriptions), -EINVAL (bad
 * pattern, invalid topic name, nothing given). Unknown topics are kept and get partitions when created. */
int sl_groups_subscribe(struct sl_groups *g, const char *group, const char *id, const char *const *topics, size_t n,
                        const char *pattern);
/* Drops the subscription or manual assignment (and the member's positions; auto-committed first). */
int sl_groups_unsubscribe(struct sl_groups *g, const char *group, const char *id);
/* The subscribed topics (for a pattern: the topics it currently matches) as a malloc'd array of sl_tp with
 * partition -1, which the caller frees. Returns 0 or SL_ENOMEMBER. */
int sl_groups_subscription(struct sl_groups *g, const char *group, const char *id, struct sl_tp **out, size_t *n);
/* Assigns partitions manually (replacing any manual assignment). Returns 0, SL_ENOMEMBER, SL_ESTATE (the
 * member is subscribed), SL_ENOTOPIC / SL_ENOPART (nothing changed). */
int sl_groups_assign(struct sl_groups *g, const char *group, const char *id, const struct sl_tp *tps, size_t n);
/* The member's current assignment (malloc'd, caller frees) and generation. Returns 0 or SL_ENOMEMBER. */
int sl_groups_assignment(struct sl_groups *g, const char *group, const char *id, struct sl_tp **out, size_t *n,
                         uint64_t *generation);

/* The partitions a pending rebalance takes from the member (malloc'd, caller frees; *n 0 when none) and the
 * current generation. Returns 0 or SL_ENOMEMBER. */
int sl_groups_revoking(struct sl_groups *g, const char *group, const char *id, struct sl_tp **out, size_t *n,
                       uint64_t *generation);
/* The member is done with its revoking partitions (it committed what it processed): they are handed over as
 * soon as nothing else holds the rebalance. Its commits of them are refused from now on. Returns 0 (also when
 * nothing was being revoked) or SL_ENOMEMBER. */
int sl_groups_revoke_ack(struct sl_groups *g, const char *group, const char *id);

/* ---- positions ---- */

/* Sets fetch positions. Every partition must be assigned to the member: SL_ESTATE names the first that is
 * not (nothing changed); offsets < 0 are -EINVAL. Returns 0 or SL_ENOMEMBER. */
int sl_groups_seek(struct sl_groups *g, const char *group, const char *id, const struct sl_tpo *pos, size_t n);
/* Starts one poll: touches the member, rebalances if the group's partitions changed, acknowledges a pending
 * revoke (the client has had the records of earlier polls), auto-commits the positions reached by earlier
 * polls (as Kafka's poll does) when they moved, and returns every assigned partition not being revoked with
 * its position (missing positions resolved from the committed offset, else auto.offset.reset;
 * with reset 'none' such a partition fails the call with SL_EOFFSET). *out is malloc'd, the caller frees.
 * Returns 0, SL_ENOMEMBER, SL_EOFFSET. */
int sl_groups_poll_begin(struct sl_groups *g, const char *group, const char *id, struct sl_tpo **out, size_t *n,
                         uint64_t *generation);
/* Moves positions forward after records up to them were handed to the client. Partitions no longer assigned
 * to the member are ignored. Returns 0 or SL_ENOMEMBER. */
int sl_groups_poll_advance(struct sl_groups *g, const char *group, const char *id, const struct sl_tpo *pos,
                           size_t n);
/* Re-resolves the position of one assigned partition by auto.offset.reset (after the fetch said its offset is
 * out of range). Returns 0, SL_ENOMEMBER, SL_EOFFSET (reset 'none'). */
int sl_groups_position_reset(struct sl_groups *g, const char *group, const char *id, const char *topic,
                             int32_t partition);
/* The member's positions of every assigned partition that has one (malloc'd). Returns 0 or SL_ENOMEMBER. */
int sl_groups_positions(struct sl_groups *g, const char *group, const char *id, struct sl_tpo **out, size_t *n);

/* ---- committed offsets ---- */

/* An asynchronous commit, embedded by the caller; valid until done runs. */
struct sl_commit {
    void (*done)(struct sl_commit *c, int rc); /* rc 0 (durable, map updated), SL_E*, -errno */
    void *arg;
    /* private */
    struct sl_produce prod_;
    struct sl_groups *g_;
    char *group_;
    struct sl_tpo *offs_;
    size_t n_;
    struct sl_commit *gnext_; /* the group's commits in flight */
};
/* Writes n committed offsets of group to __consumer_offsets (one batch) and updates the committed map once
 * it is durable. Returns 0 (done runs exactly once, maybe before this returns; thread as sl_broker_produce's
 * callbacks) or an error (done never runs): -EINVAL (n == 0 or an offset < 0), SL_ENOTOPIC, SL_ENOPART,
 * SL_ESTOPPED, -ENOMEM. Must not be called from a produce/watch callback. */
int sl_groups_commit(struct sl_groups *g, const char *group, const struct sl_tpo *offs, size_t n,
                     struct sl_commit *c);
/* The same, blocking until durable. For tests and threads that may block (never an HTTP thread). */
int sl_groups_commit_wait(struct sl_groups *g, const char *group, const struct sl_tpo *offs, size_t n);
/* A member's commit: as sl_groups_commit, after checking under the coordinator mutex that member 'id' may
 * commit every entry. why[i] (n entries, the caller's; may be NULL) gets 0 or the reason entry i is refused:
 * SL_ENOTASSIGNED (the partition belongs to another member of the group, or this member gave it up in a
 * rebalance) or SL_EREBALANCE (it is being handed over to this member: retry after the next assignment).
 * Partitions no member of the group manages may be committed by any member (simple-group use). If any entry
 * is refused nothing is written and the first refusal is returned; also SL_ENOMEMBER and sl_groups_commit's
 * errors (done never runs on an error). */
int sl_groups_member_commit(struct sl_groups *g, const char *group, const char *id, const struct sl_tpo *offs,
                            size_t n, struct sl_commit *c, int *why);
/* The member's positions as commit entries (the "commit everything fetched" of an empty v2 commit body);
 * malloc'd. Returns 0 or SL_ENOMEMBER. Touches the member. */
int sl_groups_member_positions(struct sl_groups *g, const char *group, const char *id, struct sl_tpo **out,
                               size_t *n);
/* The committed offset of topic/partition in group, or -1 when none. */
sl_offset_t sl_groups_committed(struct sl_groups *g, const char *group, const char *topic, int32_t partition);
/* Every committed offset of group (malloc'd, sorted by topic, partition). Returns 0 or SL_ENOGROUP. */
int sl_groups_committed_all(struct sl_groups *g, const char *group, struct sl_tpo **out, size_t *n);

/* ---- inspection (v3 consumer-groups, metrics) ---- */

struct sl_member_desc {
    char id[SL_MEMBER_ID_MAX + 1];
    enum sl_member_kind kind;
    size_t nassigned;
    struct sl_tp *assigned; /* owned by the enclosing desc */
};
struct sl_group_desc {
    char name[SL_GROUP_NAME_MAX + 1];
    uint64_t generation;
    bool is_simple;  /* no subscribed member (only manual assignment or only commits) */
    size_t nmembers;
    struct sl_member_desc *members;
};
/* Names of every known group (with members or committed offsets), sorted, malloc'd array of descs without
 * members (nmembers counts them). Free with sl_groups_desc_free_all. */
int sl_groups_list(struct sl_groups *g, struct sl_group_desc **out, size_t *n);
/* One group with its members and their assignments. Returns 0 or SL_ENOGROUP. Free with
 * sl_groups_desc_fini. */
int sl_groups_describe(struct sl_groups *g, const char *group, struct sl_group_desc *out);
void sl_groups_desc_fini(struct sl_group_desc *d);
void sl_groups_desc_free_all(struct sl_group_desc *d, size_t n);

/* Expires members idle at 'now' (the clock of cfg). Returns how many expired. The sweeper calls it. */
size_t sl_groups_sweep(struct sl_groups *g);

#endif
