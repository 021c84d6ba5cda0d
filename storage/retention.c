/* Retention: deletes whole closed segments by age (retention.ms) and by total size (retention.bytes).
 *
 * Age of a segment = now - the largest record timestamp in it (Kafka's rule); a segment without batches is
 * never deleted by age. Size rule (Kafka's): the oldest segment goes while the log without it still holds
 * >= retention.bytes. Deletion is always a prefix of the closed segments; the active one is never deleted.
 *
 * Order of effects: detach the segments and advance the log start (readers get SL_EOFFSET below it at
 * once), rewrite partition.ckpt, trim the epoch cache, then unlink the files. A reader still holding a
 * segment reads it through its open fd. A crash after the checkpoint but before the unlinks leaves files
 * below the log start, which recovery deletes.
 *
 * FAILURE MODES: a checkpoint error makes the log FAILED; an unlink error is logged and returned. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "storage/err.h"
#include "storage/log_int.h"

static bool expired(const struct sl_log *l, const struct sl_seg *s, int64_t now)
{
    int64_t ts = sl_seg_max_ts(s);
    return l->cfg.retention_ms >= 0 && ts != INT64_MIN && now - ts > l->cfg.retention_ms;
}

/* Under mu: how many leading segments go. */
static size_t count_deletable(const struct sl_log *l, int64_t now)
{
    uint64_t total = 0;
    for (size_t i = 0; i < l->nsegs; i++)
        total += sl_seg_size(l->segs[i]);
    size_t k = 0;
    for (; k + 1 < l->nsegs; k++) {
        const struct sl_seg *s = l->segs[k];
        uint64_t sz = sl_seg_size(s);
        bool over = l->cfg.retention_bytes >= 0 && total - sz >= (uint64_t)l->cfg.retention_bytes;
        if (!over && !expired(l, s, now))
            break;
        total -= sz;
    }
    return k;
}

/* Under mu: moves segs[0..k) to gone and advances the log start. Returns whether the epoch cache changed. */
static bool detach_prefix(struct sl_log *l, size_t k, struct sl_seg **gone)
{
    memcpy(gone, l->segs, k * sizeof *gone);
    memmove(l->segs, l->segs + k, (l->nsegs - k) * sizeof *l->segs);
    l->nsegs -= k;
    sl_offset_t start = l->segs[0]->base;
    if (start > __atomic_load_n(&l->start, __ATOMIC_ACQUIRE))
        __atomic_store_n(&l->start, start, __ATOMIC_RELEASE);
    if (l->recovery_point < start)
        l->recovery_point = start;
    log_trim_holes(l, start, INT64_MAX);
    if (__atomic_load_n(&l->hw, __ATOMIC_ACQUIRE) < start)
        __atomic_store_n(&l->hw, start, __ATOMIC_RELEASE);
    return sl_epochs_truncate_start(&l->epochs, start);
}

int sl_log_retain(struct sl_log *l, int64_t now_ms)
{
    if (sl_log_failed(l))
        return SL_EFAILED;
    pthread_mutex_lock(&l->mu);
    size_t k = count_deletable(l, now_ms);
    struct sl_seg **gone = k ? malloc(k * sizeof *gone) : NULL;
    bool epochs_changed = gone && detach_prefix(l, k, gone);
    pthread_mutex_unlock(&l->mu);
    if (k == 0)
        return 0;
    if (!gone)
        return -ENOMEM;
    int rc = log_write_ckpt(l, false);
    if (rc == 0 && epochs_changed)
        rc = log_write_epochs(l);
    for (size_t i = 0; i < k; i++) {
        int drc = sl_seg_delete(gone[i]);
        if (drc) {
            log_say(l, SL_LEVEL_WARN, "retention: deleting %s.log: %s", gone[i]->prefix, sl_strerror(drc));
            rc = rc ? rc : drc;
        }
        sl_seg_unref(gone[i]);
    }
    free(gone);
    log_say(l, SL_LEVEL_INFO, "retention deleted %zu segment(s) of %s; log start offset now %" PRId64, k, l->dir,
            sl_log_start(l));
    return rc ? rc : (int)k;
}
