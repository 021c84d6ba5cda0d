/* Sparse offset index and time index of one segment: in-memory arrays, mirrored to .index/.timeindex files.
 *
 * ON-DISK FORMAT (big-endian, no header; the file length is entries * entry size)
 *   .index      8 bytes per entry:   u32 relative offset (offset - segment base), u32 byte position in .log
 *   .timeindex  12 bytes per entry:  i64 largest timestamp of the segment up to and including the batch at
 *                                    the relative offset, u32 relative offset
 *
 * INVARIANTS
 *   1. Offset entries are strictly increasing in both rel and pos; every pos is the first byte of a batch
 *      whose baseOffset is base + rel.
 *   2. Time entries are strictly increasing in ts and in rel; every time entry's rel also has an offset entry.
 *   3. The files may lag the arrays (they are written by sl_idx_write, at roll, close, truncation and after
 *      a rebuild; never fsynced): they are hints that sl_idx_load validates and recovery rebuilds.
 *
 * THREADS: a struct sl_index has no lock of its own; its owner (struct sl_seg) guards it with seg->idx_mu. */
#ifndef SL_STORAGE_INDEX_H
#define SL_STORAGE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/fileops.h"

#define SL_IDX_ENTRY_SIZE 8
#define SL_TIDX_ENTRY_SIZE 12

struct sl_idx_entry {
    uint32_t rel;
    uint32_t pos;
};

struct sl_tidx_entry {
    int64_t ts;
    uint32_t rel;
};

struct sl_index {
    struct sl_idx_entry *e; /* offset entries, n of cap */
    uint32_t n, cap;
    struct sl_tidx_entry *t; /* time entries, tn of tcap */
    uint32_t tn, tcap;
};

/* Embedded: init/fini. init cannot fail (arrays grow lazily). */
void sl_idx_init(struct sl_index *x);
void sl_idx_fini(struct sl_index *x);
/* Forgets every entry (keeps the arrays). */
void sl_idx_clear(struct sl_index *x);

/* Appends an offset entry. rel and pos must exceed the last entry's (else -EINVAL). Returns 0 or -ENOMEM. */
int sl_idx_add(struct sl_index *x, uint32_t rel, uint32_t pos);
/* Appends a time entry. ts and rel must exceed the last entry's (else -EINVAL). Returns 0 or -ENOMEM. */
int sl_idx_tadd(struct sl_index *x, int64_t ts, uint32_t rel);

/* Floor lookup: the last offset entry with entry.rel <= rel. Returns true and fills *out, or false (none:
 * start from position 0, relative offset 0). */
bool sl_idx_lookup(const struct sl_index *x, uint32_t rel, struct sl_idx_entry *out);
/* The last time entry with entry.ts < ts: every batch before it (and it) has timestamps < ts, so a search
 * for the first timestamp >= ts may start at its rel. Returns true and fills *out, or false (start at 0). */
bool sl_idx_tlookup(const struct sl_index *x, int64_t ts, struct sl_tidx_entry *out);
/* Largest timestamp recorded in the time index, or INT64_MIN when empty. */
int64_t sl_idx_last_ts(const struct sl_index *x);

/* Drops every offset entry whose rel >= rel_end or pos >= pos_end, and every time entry whose rel >= rel_end
 * or no longer has an offset entry. */
void sl_idx_truncate(struct sl_index *x, uint32_t rel_end, uint64_t pos_end);

/* Loads both files into x (replacing its content) and validates them: length a multiple of the entry
 * size, strictly monotone, positions < log_size, every time entry's rel present in the offset index.
 * Returns 0, -ENOENT (a file is missing), SL_ECORRUPT (inconsistent: caller rebuilds), -ENOMEM, -errno.
 * On error x is left empty. */
int sl_idx_load(struct sl_index *x, const struct sl_fileops *fo, const char *idx_path, const char *tidx_path,
                uint64_t log_size);

/* Writes both arrays to their files (created if missing, truncated to exactly the entries). Not fsynced.
 * Returns 0 or -errno. */
int sl_idx_write(const struct sl_index *x, const struct sl_fileops *fo, const char *idx_path,
                 const char *tidx_path);

#endif
