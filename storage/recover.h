/* Recovery of a partition directory at open: find the segments, validate what may be torn, cut it.
 *
 * Which bytes are validated (CRC, framing, offset continuity), per segment in base-offset order:
 *   - every byte when there is no checkpoint, and in segments whose base is >= the recovery point;
 *   - in the segment holding the recovery point, from the index entry at or before it;
 *   - in segments wholly below it, only the tail after the last index entry (which also checks that entry).
 * The first invalid byte is cut (ftruncate) and every later segment deleted; a report line names each.
 * Indexes that are missing or fail sl_idx_load validation are rebuilt from the log (logged, not reported).
 *
 * FAILURE MODES: a file error while recovering is returned (-errno) and the log does not open. */
#ifndef SL_STORAGE_RECOVER_H
#define SL_STORAGE_RECOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/fileops.h"
#include "storage/segment.h"
#include "storage/types.h"

struct sl_logger;

struct sl_recover_cfg {
    const struct sl_fileops *fo;
    const char *dir;
    const struct sl_logger *logger; /* may be NULL */
    bool have_ckpt;                 /* false: validate everything */
    sl_offset_t recovery_point;
    sl_offset_t log_start;          /* segments wholly below it are deleted */
    uint32_t index_interval;
};

/* Result of validating one segment. */
struct sl_recover_cut {
    bool cut;
    uint64_t pos;       /* where the segment now ends */
    uint64_t bytes;     /* how many bytes were cut */
    char reason[96];    /* "bad CRC", "truncated batch", ... */
};

/* Validates the segment's batches from pos (a batch start whose base offset is expect; the segment's
 * size/next/index must already describe [0, pos)), noting each valid batch (index entries, size, next,
 * max_ts) and cutting the file at the first invalid byte. Returns 0 with *cut filled, or -errno. */
int sl_recover_segment(struct sl_seg *s, uint64_t pos, sl_offset_t expect, uint32_t interval,
                       struct sl_recover_cut *cut);

/* Lists, opens and recovers every segment of c->dir. Returns 0 with *segs (malloc'd array of *n segments,
 * one reference each, owned by the caller; possibly empty) and report text appended to *report
 * (NUL-terminated, "" when nothing was cut or deleted), or -errno. */
int sl_recover_dir(const struct sl_recover_cfg *c, struct sl_seg ***segs, size_t *n, struct sl_buf *report);

#endif
