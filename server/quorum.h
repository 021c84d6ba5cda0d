/* The metadata quorum: one libraft instance (0.22.1, the legacy raft_uv API: its own on-disk log in
 * <data>/quorum and its own TCP transport on the voter's quorum port) on a libuv loop in a thread of its own,
 * applying committed metadata records to a struct sl_meta_fsm (server/meta_fsm.h). This is DESIGN.md §8's
 * `meta` seam: the controller proposes records here, every node's image follows the committed log.
 *
 * MEMBERSHIP: the voters of controller.quorum.voters (server/voters.h) bootstrap the quorum, all with the same
 * configuration, on their first start (a restart finds its log and skips it). A node whose id is not among
 * them starts no quorum instance yet (joining as a non-voter is the next step of issue 14).
 *
 * LIFECYCLE
 *   sl_quorum_start -> running (the loop thread elects, replicates, applies) -> sl_quorum_stop (proposals
 *   still queued complete with SL_ESTOPPED, raft closes, the thread is joined).
 *
 * THREADS: sl_quorum_propose and sl_quorum_status from any thread; done callbacks run on the quorum thread
 * and must not block (hand the result to the caller's own thread). The fsm's apply runs there too.
 *
 * KNOWN ISSUE (libraft 0.22.1): a node that restarts, takes a snapshot of its own while the leader is
 * installing one on it, crashed inside libraft (NULL read, in 3 of 8 runs with trailing 2). The default
 * trailing keeps InstallSnapshot for nodes far behind; test_meta_fsm covers InstallSnapshot in libraft's
 * fixture, test_quorum the on-disk snapshot and log across a restart.
 *
 * ERRORS: sl_quorum_start returns 0, -EINVAL (this node is not a voter, or a bad setting), -ENOMEM, or -EIO
 * with the libraft message logged (a directory it cannot use, a port taken). */
#ifndef SL_SERVER_QUORUM_H
#define SL_SERVER_QUORUM_H

#include <stdbool.h>
#include <stdint.h>

#include "server/meta_fsm.h"
#include "server/voters.h"

struct sl_quorum;

struct sl_quorum_cfg {
    int32_t node_id;
    const struct sl_voters *voters; /* copied */
    const char *dir;                /* libraft's directory (created when missing); copied */
    unsigned election_ms;           /* 0: 1000 (libraft randomizes it between 1x and 2x) */
    unsigned heartbeat_ms;          /* 0: 100 */
    unsigned snapshot_threshold;    /* entries between snapshots; 0: 1024 */
    unsigned snapshot_trailing;     /* entries kept behind a snapshot; 0: 8192 (as dqlite): a node that was
                                     * away for fewer entries catches up from the log, not by an
                                     * InstallSnapshot (see KNOWN ISSUE) */
    struct sl_meta_fsm *fsm;        /* borrowed; must outlive the quorum */
};

enum sl_quorum_role { SL_QUORUM_UNAVAILABLE, SL_QUORUM_FOLLOWER, SL_QUORUM_CANDIDATE, SL_QUORUM_LEADER };

struct sl_quorum_status {
    enum sl_quorum_role role;
    uint64_t term, commit_index, applied_index;
    int32_t leader_id; /* -1 when none is known */
};

/* Starts this node's quorum instance. Returns 0 with *out, or an ERRORS code (nothing left running). */
int sl_quorum_start(const struct sl_quorum_cfg *cfg, struct sl_quorum **out);

/* Proposes rec (encoded here, so rec may go away at return). done(arg, rc) runs once on the quorum thread:
 * rc is the record's apply result once it is committed and applied on this node (0, or the refusal the
 * image gave: SL_EEXISTS, SL_EFENCED, ...), or SL_ENOTLEADER (this node is not the leader, or lost the
 * leadership before the record committed: its outcome is then unknown), SL_ESTOPPED, -ENOMEM, -EIO.
 * Returns 0 (done will run), -EINVAL (rec does not encode), -ENOMEM, or SL_ESTOPPED once sl_quorum_stop has
 * begun (done will not run). */
int sl_quorum_propose(struct sl_quorum *q, const struct sl_meta_rec *rec, void (*done)(void *arg, int rc),
                      void *arg);

/* The last state the quorum thread published (at most one loop iteration old). */
void sl_quorum_status(struct sl_quorum *q, struct sl_quorum_status *out);

/* Runs fn on this node's metadata image, under its lock (server/meta_fsm.h sl_meta_fsm_read); any thread. */
int sl_quorum_read(struct sl_quorum *q, int (*fn)(const struct sl_meta_image *im, void *arg), void *arg);

/* Whether this node is a registered member of the cluster (server/membership.c sets it; false at start):
 * /ready is 503 until it is. Any thread. */
void sl_quorum_set_member(struct sl_quorum *q, bool member);
bool sl_quorum_member(struct sl_quorum *q);

/* Registered nodes in this node's image: live and fenced. Any thread. */
void sl_quorum_broker_counts(struct sl_quorum *q, unsigned *live, unsigned *fenced);

/* The node id this instance runs as. */
int32_t sl_quorum_node_id(const struct sl_quorum *q);

/* Proposes rec and waits (at most timeout_ms) for its outcome: sl_quorum_propose's done rc, or -ETIMEDOUT
 * (the outcome is then unknown). Not on the quorum thread. */
int sl_quorum_propose_wait(struct sl_quorum *q, const struct sl_meta_rec *rec, int timeout_ms);

/* "leader", "follower", "candidate", "unavailable". */
const char *sl_quorum_role_name(enum sl_quorum_role role);

/* Stops and frees q (NULL is a no-op). Waits for the quorum thread. */
void sl_quorum_stop(struct sl_quorum *q);

#endif
