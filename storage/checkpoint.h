/* The two small checkpoint files of a partition directory.
 *
 * ON-DISK FORMAT (text, '\n'-terminated lines, no other whitespace)
 *   partition.ckpt            "sluice-partition 1\n"
 *                             "recovery_point <N>\n" "high_watermark <N>\n" "log_start_offset <N>\n"
 *                             "clean 0|1\n"         (N: decimal, 0 <= N < 2^63)
 *   leader-epoch-checkpoint   "0\n<count>\n" then count lines "<epoch> <start offset>\n" (Kafka's format),
 *                             epochs strictly increasing, start offsets non-decreasing
 *
 * Both are replaced atomically with sl_file_replace (tmp + fdatasync + rename + dir fsync), so a reader sees
 * the old or the new content, never a mix. Parsing is strict: anything unexpected is SL_ECORRUPT.
 * THREADS: stateless functions; callers serialize writes of the same file. */
#ifndef SL_STORAGE_CHECKPOINT_H
#define SL_STORAGE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/fileops.h"
#include "storage/types.h"

#define SL_PCKPT_NAME "partition.ckpt"
#define SL_EPOCH_CKPT_NAME "leader-epoch-checkpoint"

struct sl_pckpt {
    sl_offset_t recovery_point;
    sl_offset_t high_watermark;
    sl_offset_t log_start;
    bool clean;
};

struct sl_epoch_entry {
    sl_epoch_t epoch;
    sl_offset_t start;
};

/* Writes <dir>/partition.ckpt durably. Returns 0 or -errno. */
int sl_ckpt_write(const struct sl_fileops *fo, const char *dir, const struct sl_pckpt *c);
/* Reads <dir>/partition.ckpt. Returns 0, -ENOENT, SL_ECORRUPT, or -errno. */
int sl_ckpt_read(const struct sl_fileops *fo, const char *dir, struct sl_pckpt *c);
/* Formats / parses the content (exposed for tests). format returns the length written (< n) or -ENOSPC. */
int sl_ckpt_format(const struct sl_pckpt *c, char *buf, size_t n);
int sl_ckpt_parse(const char *text, size_t len, struct sl_pckpt *c);

/* Writes <dir>/leader-epoch-checkpoint durably from n entries. Returns 0 or -errno. */
int sl_ckpt_epochs_write(const struct sl_fileops *fo, const char *dir, const struct sl_epoch_entry *e, size_t n);
/* Reads it into a malloc'd array (*out, freed by the caller; NULL when n is 0). Returns 0, -ENOENT,
 * SL_ECORRUPT, -ENOMEM or -errno. */
int sl_ckpt_epochs_read(const struct sl_fileops *fo, const char *dir, struct sl_epoch_entry **out, size_t *n);
/* Parses the content (exposed for tests); same ownership and returns as sl_ckpt_epochs_read. */
int sl_ckpt_epochs_parse(const char *text, size_t len, struct sl_epoch_entry **out, size_t *n);

#endif
