/* Recovery of a partition directory at open: find the segments, validate what may be torn, keep every
 * byte that passed its CRC, report the rest.
 *
 * RULES (the README's recovery section states them for operators)
 *   1. Recovery never deletes a byte that passed its CRC. The only bytes it removes are the tail: from the
 *      first invalid byte or gap past the recovery point (only unsynced bytes can be torn there), or, below
 *      it, invalid bytes that no valid batch follows (if a CRC-valid batch does sit in a cut tail, the tail
 *      is copied into quarantine/ first; later segment files past the tail are quarantined, or deleted
 *      when empty), and segments wholly below a consistent log start offset (retention crashed between
 *      its checkpoint and the unlink).
 *   2. A file that is not a segment of this log is moved into <dir>/quarantine/ and reported: a name that
 *      is not "<20 digits>.log|index|timeindex" nor one of the partition's own files, a segment whose range
 *      overlaps the one before it, a non-empty segment in which no batch passes its CRC (not the last one),
 *      an empty segment that is not the last one.
 *   3. Damage inside the log, below the recovery point or anywhere without a trusted checkpoint (a corrupt
 *      batch, a gap between segments, a missing segment, bytes that were fsynced and are gone) is a hole: the offsets [from, to) are unreadable, the batches on both sides
 *      stay, and the hole is reported (sl_log_damage). Inside a segment, validation resynchronizes at the
 *      next position where a CRC-valid batch with a higher offset starts; a batch that passes its CRC where
 *      the next one must start but names another base offset (a field outside the CRC) is itself the
 *      damage: the hole is its own offsets, from the one expected there.
 *   4. The checkpoint is a hint checked against the files: a log start that is not the base offset of one
 *      of the segments, or a recovery point below it, makes recovery ignore the checkpoint (full
 *      validation; reported). A recovery point past the end of what the files hold means fsynced data is
 *      missing: the hole [end, recovery point) is reported and the log continues at the recovery point, so
 *      offsets that consumers may have seen are never handed out twice.
 *   5. A segment with a hole never keeps index files, so the next open validates it in full and reports
 *      the hole again.
 *
 * Which bytes are validated, per segment in base-offset order: every byte without a (consistent)
 * checkpoint and in segments whose base is >= the recovery point; in the segment holding the recovery
 * point, from the index entry at or before it; in segments wholly below it, the tail after the last index
 * entry. A clean stop does not exempt a log from read-time checks: sl_log_read checks every batch it serves.
 *
 * FAILURE MODES: a file error while recovering is returned (-errno) and the log does not open, except a
 * failed write of rebuildable index files (ENOSPC, EDQUOT, EROFS), which is returned in write_err so that
 * the log opens read-only. */
#ifndef SL_STORAGE_RECOVER_H
#define SL_STORAGE_RECOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/fileops.h"
#include "storage/segment.h"
#include "storage/types.h"

struct sl_reporter;

#define SL_QUARANTINE_DIR "quarantine"

struct sl_recover_cfg {
    const struct sl_fileops *fo;
    const char *dir;
    const struct sl_reporter *reporter; /* may be NULL */
    bool have_ckpt;                 /* false: validate everything */
    sl_offset_t recovery_point;
    sl_offset_t log_start;
    uint32_t index_interval;
};

/* An unreadable range of offsets [from, to). Reads at or past 'to' in segment seg_base start no earlier
 * than file position resume_pos. */
struct sl_hole {
    sl_offset_t from, to;
    sl_offset_t seg_base;
    uint64_t resume_pos;
    char why[128];
};

/* Result of validating one segment. */
struct sl_recover_cut {
    bool cut;           /* the tail was cut (truncated) */
    bool bad_tail;      /* the segment ends in invalid bytes with no valid batch after them */
    uint64_t pos;       /* where the valid part of the segment now ends */
    uint64_t bytes;     /* how many bytes are invalid at the end */
    char reason[96];    /* "bad CRC", "truncated batch", ... of the first invalid batch */
};

struct sl_recover_out {
    struct sl_seg **segs;     /* malloc'd, one reference each, sorted, offsets increasing; may be empty */
    size_t n;
    struct sl_hole *holes;    /* malloc'd, sorted by from */
    size_t nholes;
    sl_offset_t log_start;    /* the log start to use */
    sl_offset_t end;          /* where appends continue (>= the last segment's next offset) */
    unsigned quarantined;     /* files moved into quarantine/ */
    bool ckpt_ignored;        /* the checkpoint contradicted the files */
    int write_err;            /* first -ENOSPC/-EDQUOT/-EROFS met writing index files, 0 if none */
};

/* Validates the segment's batches from pos (a batch start whose base offset is expect; the segment's
 * size/next/index must already describe [0, pos)), noting each valid batch (index entries, size, next,
 * max_ts). A corrupt stretch below offset tail_from that a valid batch follows becomes a hole appended to
 * *holes (s->damaged is set); at or past tail_from (the recovery point), or with nothing valid after it,
 * it is the bad tail: cut when cut_tail, else left past s->size. Returns 0 with *cut filled, or -errno /
 * -ENOMEM. */
int sl_recover_segment(struct sl_seg *s, uint64_t pos, sl_offset_t expect, uint32_t interval, sl_offset_t tail_from,
                       bool cut_tail, struct sl_recover_cut *cut, struct sl_hole **holes, size_t *nholes);

/* Finds the first position q in [pos, end) of s where a batch starts that passes sl_batch_validate and has
 * a base offset >= min_base (and fits the segment's 32-bit relative offsets). Returns 0 with *q and *h,
 * 1 when there is none, or -errno. Any thread with a reference on s. */
int sl_recover_resync(struct sl_seg *s, uint64_t pos, uint64_t end, sl_offset_t min_base, uint64_t *q,
                      struct sl_batch_hdr *h);

/* Moves <dir>/<name> to <dir>/quarantine/<name>[.N] (never overwriting) and fsyncs both directories.
 * Returns 0 or -errno. */
int sl_recover_quarantine(const struct sl_fileops *fo, const char *dir, const char *name);

/* Lists, opens and recovers every segment of c->dir by the rules above. Returns 0 with *out filled (free
 * with sl_recover_out_fini unless the caller took the arrays) and report lines appended to *report
 * (NUL-terminated, "" when nothing was cut, quarantined or found damaged), or -errno. */
int sl_recover_dir(const struct sl_recover_cfg *c, struct sl_recover_out *out, struct sl_buf *report);
void sl_recover_out_fini(struct sl_recover_out *out);

#endif
