/* A partition's role, epoch, HW rule and completions (contract, threads and lock order in partition.h).
 *
 * STATE (guards)
 *   append_mu   serializes sl_log_append and the other appender-side log calls.
 *   wait_mu     written, durable, the pending produces, the watches, and every store of hw.
 *   hw          atomic: stored under wait_mu, loaded anywhere (readers bound their reads by it).
 *
 * A produce's life: sl_partition_append puts it at the tail of 'pending' (offset order: appends are serialized
 * and enqueue before append_mu is released), then advance() moves every produce the HW covers onto the
 * caller's sl_part_done list; a failed sync or the close moves all of them with an error. */
#include "server/partition.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/logging.h"
#include "server/err.h"

struct sl_partition {
    struct sl_log *log; /* owned */
    enum sl_part_role role;
    sl_epoch_t epoch;
    enum sl_durability durability;
    pthread_mutex_t append_mu;
    pthread_mutex_t wait_mu;
    sl_offset_t written;          /* guarded by: wait_mu; end of what is appended (LEO) */
    sl_offset_t durable;          /* guarded by: wait_mu; end of what the flusher reported durable */
    _Atomic sl_offset_t hw;       /* stored under wait_mu, loaded anywhere */
    struct sl_produce *pend_head; /* guarded by: wait_mu; in offset order */
    struct sl_produce *pend_tail; /* guarded by: wait_mu */
    struct sl_watch *watches;     /* guarded by: wait_mu */
};

/* ---- completion lists ---- */

void sl_part_done_init(struct sl_part_done *d)
{
    d->head = NULL;
    d->tail = &d->head;
    d->advanced = false;
}

void sl_part_done_move(struct sl_part_done *to, struct sl_part_done *from)
{
    if (from->head) {
        *to->tail = from->head;
        to->tail = from->tail;
    }
    to->advanced |= from->advanced;
    sl_part_done_init(from);
}

void sl_part_done_run(struct sl_part_done *d)
{
    struct sl_produce *r = d->head;
    sl_part_done_init(d);
    while (r) {
        struct sl_produce *next = r->next_;
        r->done(r, r->rc_);
        r = next;
    }
}

/* ---- the HW rule ---- */

/* THE HW RULE: the end offset consumers may see, from what this partition knows (partition.h). One replica:
 * sync durability shows what is durable, async what is written. Replication replaces this function. Caller
 * holds wait_mu. */
static sl_offset_t hw_rule(const struct sl_partition *p)
{
    return p->durability == SL_DURABILITY_ASYNC ? p->written : p->durable;
}

/* Moves the pending produces that hw covers (all of them, with rc, when rc != 0) onto done. Caller holds
 * wait_mu. */
static void take_pending(struct sl_partition *p, sl_offset_t hw, int rc, struct sl_part_done *done)
{
    while (p->pend_head && (rc || p->pend_head->wait_for_ <= hw)) {
        struct sl_produce *r = p->pend_head;
        p->pend_head = r->next_;
        r->next_ = NULL;
        r->rc_ = rc;
        r->why = rc == SL_EFAILED ? sl_log_fail_why(p->log) : NULL;
        *done->tail = r;
        done->tail = &r->next_;
    }
    if (!p->pend_head)
        p->pend_tail = NULL;
}

static void unlink_watch(struct sl_partition *p, struct sl_watch *w)
{
    if (w->prev_)
        w->prev_->next_ = w->next_;
    else
        p->watches = w->next_;
    if (w->next_)
        w->next_->prev_ = w->prev_;
}

/* Publishes hw (readers, the log's checkpoint) and fires the watches it passes. Caller holds wait_mu. */
static void publish_hw(struct sl_partition *p, sl_offset_t hw)
{
    atomic_store(&p->hw, hw);
    sl_log_set_hw(p->log, hw);
    struct sl_watch *w = p->watches;
    while (w) {
        struct sl_watch *next = w->next_;
        if (w->offset_ < hw) {
            unlink_watch(p, w);
            w->fire(w, 0);
            __atomic_store_n(&w->part_, NULL, __ATOMIC_RELEASE); /* after fire: see sl_partition_unwatch */
        }
        w = next;
    }
}

/* Applies the HW rule: publishes a higher HW, then hands back what it covers. Caller holds wait_mu. */
static void advance(struct sl_partition *p, struct sl_part_done *done)
{
    sl_offset_t hw = hw_rule(p);
    if (hw > atomic_load(&p->hw)) {
        publish_hw(p, hw);
        done->advanced = true;
    }
    take_pending(p, atomic_load(&p->hw), 0, done);
}

/* ---- open / close ---- */

static void init_state(struct sl_partition *p, struct sl_log *log, enum sl_durability durability,
                       sl_epoch_t epoch)
{
    p->log = log;
    p->role = SL_PART_LEADER;
    p->epoch = epoch;
    p->durability = durability;
    pthread_mutex_init(&p->append_mu, NULL);
    pthread_mutex_init(&p->wait_mu, NULL);
    atomic_store(&p->hw, sl_log_hw(log)); /* persisted, clamped by the log to what recovery left */
    p->written = sl_log_end(log);
    p->durable = sl_log_durable(log); /* recovery syncs what it keeps: the log end */
    struct sl_part_done none;
    sl_part_done_init(&none);
    pthread_mutex_lock(&p->wait_mu);
    advance(p, &none); /* nothing waits yet */
    pthread_mutex_unlock(&p->wait_mu);
}

int sl_partition_open(const struct sl_log_cfg *lc, enum sl_durability durability, sl_epoch_t epoch,
                      struct sl_partition **out)
{
    struct sl_partition *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    struct sl_log *log;
    int rc = sl_log_open(lc, &log);
    if (rc) {
        sl_error("cannot open partition %s: %s", lc->dir, sl_error_message(rc));
        free(p);
        return rc;
    }
    rc = sl_log_epoch_assign(log, epoch);
    if (rc == SL_EFAILED) { /* opened read-only (disk full): serve what it holds */
        char why[192];
        sl_log_fail_reason(log, why, sizeof why);
        sl_error("partition %s is read-only: %s", lc->dir, why);
        rc = 0;
    }
    if (rc) {
        sl_error("cannot write the leader epoch of %s: %s", lc->dir, sl_error_message(rc));
        sl_log_close(log);
        free(p);
        return rc;
    }
    init_state(p, log, durability, epoch);
    *out = p;
    return 0;
}

/* Fires every watch with rc and empties the list. Caller holds wait_mu. */
static void fire_all(struct sl_partition *p, int rc)
{
    while (p->watches) {
        struct sl_watch *w = p->watches;
        p->watches = w->next_;
        if (p->watches)
            p->watches->prev_ = NULL;
        w->fire(w, rc);
        __atomic_store_n(&w->part_, NULL, __ATOMIC_RELEASE); /* after fire: see sl_partition_unwatch */
    }
}

int sl_partition_close(struct sl_partition *p, int rc)
{
    struct sl_part_done done;
    sl_part_done_init(&done);
    pthread_mutex_lock(&p->wait_mu);
    fire_all(p, rc);
    take_pending(p, 0, rc, &done);
    pthread_mutex_unlock(&p->wait_mu);
    sl_part_done_run(&done);
    int crc = sl_log_close(p->log);
    pthread_mutex_destroy(&p->append_mu);
    pthread_mutex_destroy(&p->wait_mu);
    free(p);
    return crc;
}

/* ---- getters ---- */

enum sl_part_role sl_partition_role(const struct sl_partition *p)
{
    return p->role;
}

sl_epoch_t sl_partition_epoch(const struct sl_partition *p)
{
    return p->epoch;
}

sl_offset_t sl_partition_hw(struct sl_partition *p)
{
    return atomic_load(&p->hw);
}

struct sl_log *sl_partition_log(struct sl_partition *p)
{
    return p->log;
}

/* ---- produce ---- */

static void enqueue_pending(struct sl_partition *p, struct sl_produce *req)
{
    req->next_ = NULL;
    if (p->pend_tail)
        p->pend_tail->next_ = req;
    else
        p->pend_head = req;
    p->pend_tail = req;
}

int sl_partition_append(struct sl_partition *p, uint8_t *batch, size_t n, struct sl_produce *req,
                        struct sl_part_done *done)
{
    if (p->role != SL_PART_LEADER)
        return SL_ENOTLEADER;
    pthread_mutex_lock(&p->append_mu);
    int rc = req->built ? sl_log_append_built(p->log, batch, n, p->epoch, &req->first, &req->last)
                        : sl_log_append(p->log, batch, n, p->epoch, &req->first, &req->last);
    if (rc) {
        pthread_mutex_unlock(&p->append_mu);
        return rc;
    }
    pthread_mutex_lock(&p->wait_mu);
    if (req->last + 1 > p->written)
        p->written = req->last + 1;
    req->wait_for_ = req->last + 1;
    enqueue_pending(p, req);
    advance(p, done);
    pthread_mutex_unlock(&p->wait_mu);
    pthread_mutex_unlock(&p->append_mu);
    return 0;
}

void sl_partition_durable(struct sl_partition *p, sl_offset_t end, struct sl_part_done *done)
{
    pthread_mutex_lock(&p->wait_mu);
    if (end > p->durable)
        p->durable = end;
    advance(p, done);
    pthread_mutex_unlock(&p->wait_mu);
}

void sl_partition_sync_failed(struct sl_partition *p, int rc, struct sl_part_done *done)
{
    pthread_mutex_lock(&p->wait_mu);
    take_pending(p, 0, rc, done);
    pthread_mutex_unlock(&p->wait_mu);
}

/* ---- watches ---- */

bool sl_partition_watch(struct sl_partition *p, sl_offset_t offset, struct sl_watch *w)
{
    bool fire_now = false;
    pthread_mutex_lock(&p->wait_mu);
    w->offset_ = offset;
    if (atomic_load(&p->hw) > offset) {
        fire_now = true;
        __atomic_store_n(&w->part_, NULL, __ATOMIC_RELEASE);
    } else {
        w->prev_ = NULL;
        w->next_ = p->watches;
        if (p->watches)
            p->watches->prev_ = w;
        p->watches = w;
        __atomic_store_n(&w->part_, (void *)p, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&p->wait_mu);
    return fire_now;
}

/* A watch's part_ is its partition from arming until its fire has returned: the fire runs under the
 * partition's wait_mu and part_ is cleared after it, still under wait_mu. So part_ == NULL means never armed,
 * fired on the arming thread, or fired and done; and once unwatch holds wait_mu, part_ == p means armed and
 * not firing (issue 11: clearing part_ before the fire let unwatch return while the fire still ran). */
int sl_partition_unwatch(struct sl_watch *w)
{
    int rc = -ENOENT;
    struct sl_partition *p = __atomic_load_n(&w->part_, __ATOMIC_ACQUIRE);
    if (p) {
        pthread_mutex_lock(&p->wait_mu); /* waits for a fire in progress */
        if (__atomic_load_n(&w->part_, __ATOMIC_ACQUIRE) == (void *)p) {
            unlink_watch(p, w);
            __atomic_store_n(&w->part_, NULL, __ATOMIC_RELEASE);
            rc = 0;
        }
        pthread_mutex_unlock(&p->wait_mu);
    }
    return rc;
}

/* ---- reads ---- */

int sl_partition_fetch(struct sl_partition *p, sl_offset_t from, size_t max_bytes, struct sl_buf *out,
                       sl_offset_t *hw_out)
{
    sl_offset_t hw = atomic_load(&p->hw);
    if (hw_out)
        *hw_out = hw;
    if (from > hw || from < sl_log_start(p->log))
        return SL_EOFFSET;
    if (from < hw)
        return sl_log_read(p->log, from, max_bytes, hw, out);
    return 0;
}

void sl_partition_offsets(struct sl_partition *p, sl_offset_t *start, sl_offset_t *end)
{
    *start = sl_log_start(p->log);
    *end = atomic_load(&p->hw);
}

int sl_partition_offset_for_time(struct sl_partition *p, int64_t ts, sl_offset_t *out)
{
    sl_offset_t hw = atomic_load(&p->hw);
    int rc = sl_log_offset_for_time(p->log, ts, out);
    if (rc == 0 && *out > hw)
        *out = hw;
    return rc;
}

void sl_partition_info(struct sl_partition *p, struct sl_part_info *out)
{
    struct sl_log_damage d;
    memset(out, 0, sizeof *out);
    out->log_start = sl_log_start(p->log);
    out->log_end = sl_log_end(p->log);
    out->hw = atomic_load(&p->hw);
    out->size_bytes = sl_log_size(p->log);
    out->segments = sl_log_segment_count(p->log);
    out->failed = sl_log_failed(p->log);
    out->quarantined = sl_log_quarantined(p->log);
    out->damaged_ranges = (uint32_t)sl_log_damage(p->log, &d, 1);
    if (out->failed)
        sl_log_fail_reason(p->log, out->reason, sizeof out->reason);
    else if (out->damaged_ranges)
        snprintf(out->reason, sizeof out->reason, "damaged offsets [%" PRId64 ", %" PRId64 "): %s", d.from, d.to,
                 d.why);
}

/* ---- appender-side maintenance ---- */

int sl_partition_housekeep(struct sl_partition *p, int64_t now_ms)
{
    pthread_mutex_lock(&p->append_mu);
    int rc = sl_log_roll_if_due(p->log, now_ms);
    if (rc >= 0)
        rc = sl_log_retain(p->log, now_ms);
    pthread_mutex_unlock(&p->append_mu);
    return rc;
}

void sl_partition_set_limits(struct sl_partition *p, uint64_t segment_bytes, int64_t segment_ms,
                             int64_t retention_ms, int64_t retention_bytes)
{
    pthread_mutex_lock(&p->append_mu);
    sl_log_set_limits(p->log, segment_bytes, segment_ms, retention_ms, retention_bytes);
    pthread_mutex_unlock(&p->append_mu);
}
