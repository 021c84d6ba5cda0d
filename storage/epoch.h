/* The leader-epoch cache: which leader epoch started at which offset (Kafka's LeaderEpochFileCache),
 * in memory; the log persists it with sl_ckpt_epochs_write (checkpoint.h) after every change.
 *
 * INVARIANTS
 *   1. Entries are sorted: epochs strictly increasing, start offsets non-decreasing.
 *
 * THREADS: no lock of its own; the log guards it with its mutex. */
#ifndef SL_STORAGE_EPOCH_H
#define SL_STORAGE_EPOCH_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/checkpoint.h"
#include "storage/types.h"

struct sl_epochs {
    struct sl_epoch_entry *e; /* n of cap */
    size_t n, cap;
};

void sl_epochs_init(struct sl_epochs *c);
void sl_epochs_fini(struct sl_epochs *c);
/* Replaces the content with a copy of n sorted entries (from the checkpoint). Returns 0, -ENOMEM, or
 * SL_ECORRUPT when they are not sorted. */
int sl_epochs_set(struct sl_epochs *c, const struct sl_epoch_entry *e, size_t n);

/* Records that 'epoch' starts at 'start'. Returns 1 if the cache changed, 0 if epoch is already the latest,
 * SL_EFENCED if epoch is older than the latest, -ENOMEM. An entry whose start offset is >= start (left by
 * an earlier leader that wrote nothing) is replaced. */
int sl_epochs_assign(struct sl_epochs *c, sl_epoch_t epoch, sl_offset_t start);
/* Latest epoch, -1 when empty. */
sl_epoch_t sl_epochs_latest(const struct sl_epochs *c);
/* Kafka's OffsetsForLeaderEpoch end offset: leo for the latest epoch, the start offset of the next higher
 * epoch for an older one, -1 when epoch is newer than every entry or the cache is empty. */
sl_offset_t sl_epochs_end_offset(const struct sl_epochs *c, sl_epoch_t epoch, sl_offset_t leo);
/* Drops entries starting at or after end_offset (log truncation). Returns true if anything changed. */
bool sl_epochs_truncate_end(struct sl_epochs *c, sl_offset_t end_offset);
/* Drops entries wholly before start_offset, moving the start of the one covering it up to start_offset
 * (log start advanced by retention). Returns true if anything changed. */
bool sl_epochs_truncate_start(struct sl_epochs *c, sl_offset_t start_offset);

#endif
