/* A partition: one log and every decision about it -- its role, its leader epoch, its high watermark (HW) and
 * when the produces and watches waiting on it complete. The broker (server/broker.c) finds partitions by name
 * and holds them alive; the flusher (server/flusher.c) does their fsyncs and only reports the result here
 * ("durable up to N", sl_partition_durable). Nothing outside this file decides what consumers may see.
 *
 * ROLE AND EPOCH
 *   role   SL_PART_LEADER: appends are taken here and given this partition's leader epoch. (A follower role
 *          comes with replication: it will refuse client appends with SL_ENOTLEADER and truncate to its
 *          leader's epoch end.) Fixed at open today.
 *   epoch  the leader epoch stamped into every appended batch and recorded in leader-epoch-checkpoint at open
 *          (sl_log_epoch_assign). A single node leads every partition in epoch SL_PART_SINGLE_NODE_EPOCH.
 *
 * THE HW RULE is one function, hw_rule() in partition.c, from what this partition has been told: the end of
 * what is written (LEO, set by sl_partition_append) and the end of what is durable (set by
 * sl_partition_durable). Today, with one replica:
 *     sync durability    HW = durable end   (a record is visible exactly when its produce is acknowledged)
 *     async durability   HW = written end   (visible and acknowledged as soon as it is written)
 * Replication changes the HW rule there and nowhere else (HW = what the in-sync replicas all hold).
 * At open the HW starts from the one partition.ckpt persisted (the log clamps it to [log start, LEO] after
 * recovery), then the rule applies to what recovery left: everything recovered is durable, so the HW is the
 * log end, as it always was.
 *
 * INVARIANTS
 *   1. The HW never goes down and never passes the LEO.
 *   2. A produce passed to sl_partition_append (which returned 0) completes exactly once: with 0 when the HW
 *      passes its last offset, with SL_EFAILED when a sync of the log failed first, or with the rc given to
 *      sl_partition_close. Produces of one partition complete in offset order.
 *   3. A watch fires at most once: with 0 when the HW passes its offset, or with sl_partition_close's rc.
 *      Fires run under wait_mu; w->part_ is cleared only after the fire has returned (see
 *      sl_partition_unwatch: issue 11).
 *   4. When the HW advances, it is published (readers see it, sl_log_set_hw, watches fired) before the
 *      produces it covers are handed back, and the caller wakes subscribers (done->advanced, the broker's data
 *      hook) before it runs them: subscribers are woken before producers are answered.
 *
 * THREADS
 *   sl_partition_append: any thread; appends are serialized by append_mu (and so are sl_partition_housekeep
 *   and sl_partition_set_limits, the other appender-side calls). sl_partition_durable / _sync_failed: the
 *   flusher thread or a sync helper, while it owns the partition's sync (one at a time per partition).
 *   Watches, reads and getters: any thread. sl_partition_open/close: one thread, nothing else running on p.
 *
 * LOCK ORDER: the broker's topics_lock (read: p stays alive) -> append_mu -> wait_mu. The broker's fl_mu,
 * sw_mu and hk_mu are never held together with a partition lock. Watch fire callbacks run under wait_mu (and
 * under topics_lock read); produce done callbacks never run here except in sl_partition_close: the caller
 * runs the sl_part_done lists it gets back once it holds no broker lock (sl_part_done_run), because a done
 * callback may take a lock that is held while calling into the broker (the group coordinator's). */
#ifndef SL_SERVER_PARTITION_H
#define SL_SERVER_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/broker.h"
#include "server/config.h"
#include "storage/log.h"
#include "storage/types.h"

/* The epoch a single node leads every partition in. */
#define SL_PART_SINGLE_NODE_EPOCH 0

enum sl_part_role {
    SL_PART_LEADER, /* takes appends; the only role until replication adds SL_PART_FOLLOWER */
};

struct sl_partition;

/* Produces whose outcome is decided, detached from their partition, to run in order once the caller holds
 * no broker lock. Embedded by the caller; sl_part_done_init before first use. */
struct sl_part_done {
    struct sl_produce *head, **tail;
    bool advanced; /* the HW advanced: wake subscribers before running the list */
};

void sl_part_done_init(struct sl_part_done *d);
/* Moves every produce of from to the end of to (from is emptied; advanced is or-ed into to). */
void sl_part_done_move(struct sl_part_done *to, struct sl_part_done *from);
/* Calls done(req, rc) for every produce in order and empties d. No lock of the broker may be held. */
void sl_part_done_run(struct sl_part_done *d);

/* Opens (and recovers) the log of lc, records the leader epoch, and sets the HW (header: at open). A log
 * opened read-only (disk full: SL_EFAILED from the epoch record) is served, logged. Returns 0 and *out (freed by
 * sl_partition_close), or an error from the log (logged with the directory). */
int sl_partition_open(const struct sl_log_cfg *lc, enum sl_durability durability, sl_epoch_t epoch,
                      struct sl_partition **out);
/* Fires every watch with rc, completes every pending produce with rc (on this thread, before returning),
 * closes the log cleanly and frees p. Returns sl_log_close's result (p is freed regardless). Nothing else may
 * use p any more. */
int sl_partition_close(struct sl_partition *p, int rc);

enum sl_part_role sl_partition_role(const struct sl_partition *p);
sl_epoch_t sl_partition_epoch(const struct sl_partition *p);
/* The HW (atomic load). Any thread. */
sl_offset_t sl_partition_hw(struct sl_partition *p);
/* The log, for the flusher's I/O (sl_log_sync_data, sl_log_checkpoint) and the read-only getters. Borrowed:
 * valid until sl_partition_close. Appender-side log calls go through this file, never through this pointer. */
struct sl_log *sl_partition_log(struct sl_partition *p);

/* Appends one finished batch (modified in place: offsets and this partition's epoch) and arranges for
 * req->done: req->first/last are set; req goes onto done at once when the HW already covers it (async
 * durability), else it waits for the HW (done->advanced tells whether this append moved it). Returns 0, or
 * SL_ENOTLEADER, SL_EBADBATCH, SL_ETOOBIG, SL_EFENCED, SL_EFAILED, -errno (req untouched, done never runs).
 * Any thread; takes append_mu, then wait_mu. */
int sl_partition_append(struct sl_partition *p, uint8_t *batch, size_t n, struct sl_produce *req,
                        struct sl_part_done *done);
/* The flusher's report: everything below end is durable. Applies the HW rule, fires the watches the new HW
 * passes and moves the produces it covers onto done. Takes wait_mu. */
void sl_partition_durable(struct sl_partition *p, sl_offset_t end, struct sl_part_done *done);
/* The flusher's report that a sync failed (the log is FAILED): every pending produce goes onto done with rc.
 * Takes wait_mu. */
void sl_partition_sync_failed(struct sl_partition *p, int rc, struct sl_part_done *done);

/* Arms w to fire once the HW exceeds offset. Returns false when armed; true when the HW already exceeds it:
 * w is not armed then, and the caller fires it (w->fire(w, 0)) once it holds no lock. Takes wait_mu. */
bool sl_partition_watch(struct sl_partition *p, sl_offset_t offset, struct sl_watch *w);
/* Disarms w (whatever partition armed it). Returns 0 if it was removed before firing, -ENOENT if it already
 * fired or was never armed. After return the fire callback is not running and never will: a fire in progress is
 * waited for (wait_mu). The caller keeps the partition alive (the broker's topics_lock, read). */
int sl_partition_unwatch(struct sl_watch *w);

/* Reads whole batches from 'from' below the HW (sl_broker_fetch's contract). Any thread. */
int sl_partition_fetch(struct sl_partition *p, sl_offset_t from, size_t max_bytes, struct sl_buf *out,
                       sl_offset_t *hw_out);
/* Log start offset and HW. Any thread. */
void sl_partition_offsets(struct sl_partition *p, sl_offset_t *start, sl_offset_t *end);
/* The earliest offset with timestamp >= ts, at most the HW. Returns 0 or -errno. Any thread. */
int sl_partition_offset_for_time(struct sl_partition *p, int64_t ts, sl_offset_t *out);
/* Fills *out (offsets, size, health). Any thread. */
void sl_partition_info(struct sl_partition *p, struct sl_part_info *out);

/* Rolls the active segment when segment.ms is due, then applies retention, at wall time now_ms. Returns the
 * number of segments deleted (>= 0) or an error. Serialized with appends (append_mu). */
int sl_partition_housekeep(struct sl_partition *p, int64_t now_ms);
/* Changes the log's roll and retention limits (a topic config altered). Serialized with appends. */
void sl_partition_set_limits(struct sl_partition *p, uint64_t segment_bytes, int64_t segment_ms,
                             int64_t retention_ms, int64_t retention_bytes);

#endif
