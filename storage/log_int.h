/* The partition log's internals, shared by log.c, log_read.c and retention.c only. Not for other layers.
 *
 * STATES
 *   OPEN --(write/fdatasync/checkpoint error: log_fail)--> FAILED (sticky; only sl_log_close leaves it)
 *
 * Guards (see log.h THREADS for who calls what):
 *   mu        segs/nsegs/cap, every seg->synced_size, recovery_point, trunc_gen, epochs. Held briefly; never
 *             across a file operation except the in-memory index and segment list updates.
 *   ckpt_mu   serializes partition.ckpt writes (the flusher and the appender side both write it) and the
 *             writes of last_ckpt_ms.
 *   atomics   leo, start, durable, hw, failed, ckpt_stale; last_ckpt_ms is also read without ckpt_mu. */
#ifndef SL_STORAGE_LOG_INT_H
#define SL_STORAGE_LOG_INT_H

#include <pthread.h>

#include "storage/epoch.h"
#include "storage/log.h"
#include "storage/recover.h"
#include "storage/segment.h"

struct sl_log {
    struct sl_log_cfg cfg;          /* cfg.dir points at dir */
    char *dir;                      /* owned */
    const struct sl_fileops *fo;
    pthread_mutex_t mu;
    struct sl_seg **segs;           /* guarded by mu; sorted by base; last = active */
    size_t nsegs, cap;              /* guarded by mu */
    struct sl_seg *active;          /* written by the appender side under mu; read by it without */
    sl_offset_t leo;                /* atomic; written by the appender side */
    sl_offset_t start;              /* atomic */
    sl_offset_t durable;            /* atomic; written under mu */
    sl_offset_t hw;                 /* atomic */
    int failed;                     /* atomic */
    sl_offset_t recovery_point;     /* guarded by mu */
    uint64_t trunc_gen;             /* guarded by mu; bumped by truncate_to so a racing sync publishes nothing */
    struct sl_epochs epochs;        /* guarded by mu */
    sl_epoch_t latest_epoch;        /* appender side: cache of sl_epochs_latest */
    pthread_mutex_t ckpt_mu;
    int64_t last_ckpt_ms;           /* written under ckpt_mu; read atomically */
    bool ckpt_stale;                /* atomic; a sync advanced the recovery point since the last checkpoint */
    struct sl_buf report;           /* NUL-terminated recovery report; immutable after open */
    struct sl_hole *holes;          /* guarded by mu; damaged ranges (recover.h), sorted by from */
    size_t nholes;                  /* guarded by mu */
    unsigned quarantined;           /* files recovery moved into quarantine/; immutable after open */
    char fail_why[320];             /* guarded by ckpt_mu; written once, by the log_fail that entered FAILED */
    int fail_rc;                    /* guarded by ckpt_mu; the error behind it */
};

/* Index of the segment holding off: the last one with base <= off (0 if none). Caller holds mu. */
size_t log_find_seg(const struct sl_log *l, sl_offset_t off);

/* Header walk state for sl_seg_scan: stops at the batch that reaches target; next is the offset the next
 * header should carry. */
struct log_reach {
    sl_offset_t target;
    sl_offset_t next;
};
/* sl_seg_scan's callback over a struct log_reach: true (stop) at the first batch whose last offset >= target. */
bool log_on_reaches(const struct sl_batch_hdr *h, void *arg);

/* Drops the holes wholly below start and the parts of holes at or past end (retention, truncation).
 * Caller holds mu. */
void log_trim_holes(struct sl_log *l, sl_offset_t start, sl_offset_t end);

int64_t log_now(const struct sl_log *l);
void log_say(const struct sl_log *l, enum sl_level lv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Enters FAILED (once; logs what failed) and returns SL_EFAILED. */
int log_fail(struct sl_log *l, const char *what, int rc);
/* Writes partition.ckpt from the current state (clean as given). Any error makes the log FAILED. */
int log_write_ckpt(struct sl_log *l, bool clean);
/* Writes leader-epoch-checkpoint from a snapshot of the cache. Any error makes the log FAILED. */
int log_write_epochs(struct sl_log *l);

#endif
