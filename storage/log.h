/* A partition log: an ordered list of segments in one directory, appended at the end, read anywhere.
 *
 * ON-DISK LAYOUT (one directory per partition, <topic>-<partition>/)
 *   00000000000000000000.log        record batches (batch.h), appended; name = 20-digit base offset
 *   00000000000000000000.index      sparse offset index, 8-byte entries (u32 relative offset, u32 position),
 *                                   big-endian, one every index_interval bytes of log
 *   00000000000000000000.timeindex  12-byte entries (i64 max timestamp so far, u32 relative offset), monotone
 *   leader-epoch-checkpoint         "0\n<count>\n" then "<epoch> <start offset>\n" lines (Kafka's format)
 *   partition.ckpt                  "sluice-partition 1\nrecovery_point N\nhigh_watermark N\nlog_start_offset N\n
 *                                   clean 0|1\n", replaced atomically (tmp + fdatasync + rename + dir fsync)
 *
 * INVARIANTS
 *   1. Offsets are dense within the log: each batch's baseOffset equals the previous batch's last offset + 1.
 *   2. Only the last segment (the active one) is ever appended to; closed segments are immutable until deleted.
 *   3. end offset (LEO) is published with release semantics after the batch bytes are written; a reader that
 *      sees LEO = N can read every batch whose last offset is < N.
 *   4. Bytes below the recovery point were fsynced; recovery only validates from there on.
 *   5. After a failed write or fdatasync the log is FAILED for good: every later write-side call returns
 *      SL_EFAILED; reads go on serving what was written (the caller bounds them by its high watermark).
 *   6. Nothing that failed its CRC is ever returned by sl_log_read(): every read checks the CRC of each batch
 *      it returns and stops before a bad one; a read that starts in a damaged range gets SL_EDAMAGED.
 *   7. Recovery never deletes a byte that passed its CRC (storage/recover.h states its rules): damage inside
 *      the log becomes a hole, a range of offsets reported by sl_log_damage, with the batches on both sides
 *      readable; files that are not segments of this log are moved into <dir>/quarantine/.
 *
 * THREADS
 *   One appender at a time: sl_log_append, sl_log_truncate_to, sl_log_roll_if_due, sl_log_retain,
 *   sl_log_epoch_assign and sl_log_close must be serialized by the caller (the broker's per-partition lock).
 *   sl_log_sync may run concurrently with one appender (the flusher thread). Readers (sl_log_read,
 *   sl_log_offset_for_time, the getters) may run on any thread at any time, concurrently with all of these.
 *
 * FAILURE MODES
 *   Write or fdatasync error (of the log, an index at roll, or a checkpoint) -> FAILED (sticky, logged,
 *   reason in sl_log_fail_reason). No space (or a read-only disk) at open -> opened FAILED: readable,
 *   logged. Torn or corrupt tail -> cut at open, logged with the segment, the byte position and the number
 *   of bytes cut. Corrupt batch, gap or missing segment inside the log -> a hole (sl_log_damage), logged.
 *   A batch found bad by a read -> a hole from then on, logged. Missing or inconsistent index files ->
 *   rebuilt from the log at open. */
#ifndef SL_STORAGE_LOG_H
#define SL_STORAGE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/clock.h"
#include "storage/fileops.h"
#include "storage/report.h"
#include "storage/types.h"

/* Per-log settings; Kafka's topic config names in the comments. Copied by sl_log_open. */
struct sl_log_cfg {
    const char *dir;                  /* the partition directory; created if missing */
    const struct sl_fileops *fops;    /* NULL = sl_fileops_posix */
    struct sl_reporter reporter;        /* fn NULL = silent */
    const struct sl_clock *clock;     /* wall time of segment.ms/retention.ms ages; NULL = sl_clock_posix */
    int64_t (*now_ms)(void);          /* NULL = clock's wall time; when set (older tests), used instead */
    uint64_t segment_bytes;           /* segment.bytes, default 1 GiB */
    int64_t segment_ms;               /* segment.ms, default 7 days; <= 0 = never */
    int64_t retention_ms;             /* retention.ms, default 7 days; < 0 = unlimited */
    int64_t retention_bytes;          /* retention.bytes, default -1 = unlimited */
    uint32_t index_interval_bytes;    /* index.interval.bytes, default 4096 */
    uint32_t max_batch_bytes;         /* largest batch accepted by append, default 1 MiB + overhead */
};

/* Fills *cfg with the defaults above and dir. */
void sl_log_cfg_defaults(struct sl_log_cfg *cfg, const char *dir);

struct sl_log;

/* Opens (creating if needed) the log in cfg->dir and recovers it: loads the checkpoint, validates every
 * batch from the recovery point on, cuts a torn or corrupt tail, rebuilds missing/corrupt indexes.
 * Returns 0 and the log in *out (owned by the caller, released by sl_log_close), or -errno / SL_ECORRUPT. */
int sl_log_open(const struct sl_log_cfg *cfg, struct sl_log **out);

/* Flushes everything, writes a clean checkpoint, closes files and frees l. Returns the first error met (the
 * log is freed regardless). Caller guarantees no concurrent use. */
int sl_log_close(struct sl_log *l);

/* Appends one batch at the end. 'batch' (n bytes, one complete RecordBatch v2 built by sl_bb_finish or
 * received from a peer) is modified in place: its baseOffset and leader epoch are assigned, then it is
 * written to the active segment (rolling first when full or due). Returns 0 with the first and last
 * assigned offsets, or SL_ETOOBIG (n > max_batch_bytes), SL_EBADBATCH (framing/CRC), SL_EFENCED (epoch older
 * than the latest in the epoch cache; a newer epoch is recorded there as Kafka does), SL_EFAILED, -errno.
 * Durability: none yet; durable once sl_log_sync() reports a durable offset > *last_out. One appender. */
int sl_log_append(struct sl_log *l, uint8_t *batch, size_t n, sl_epoch_t epoch, sl_offset_t *first_out,
                  sl_offset_t *last_out);
/* sl_log_append for a batch that is sl_bb_finish's output, unmodified since: storage/batch.h guarantees its CRC
 * and record framing, so only the header is checked (SL_EBADBATCH) and the records are not walked again. Never
 * for bytes that came from outside the process. */
int sl_log_append_built(struct sl_log *l, uint8_t *batch, size_t n, sl_epoch_t epoch, sl_offset_t *first_out,
                        sl_offset_t *last_out);

/* Makes every batch appended before this call durable (fdatasync of each dirty segment) and advances the
 * recovery point; at most once a second it also persists the recovery point (partition.ckpt: two more
 * fsyncs). Returns 0 with the new durable offset (exclusive) in *durable_out, or SL_EFAILED / -errno (and the
 * log becomes FAILED). Safe concurrently with one appender; not with another sl_log_sync(_data). */
int sl_log_sync(struct sl_log *l, sl_offset_t *durable_out);
/* sl_log_sync without the checkpoint, for a caller that answers its producers first and then writes the
 * checkpoint (sl_log_checkpoint) when sl_log_checkpoint_due says so: the flusher, so that partition.ckpt's
 * fsyncs are not on the path of the produces they follow. */
int sl_log_sync_data(struct sl_log *l, sl_offset_t *durable_out);
/* True when a sync advanced the recovery point since the last checkpoint, at least a second ago. Any thread. */
bool sl_log_checkpoint_due(struct sl_log *l);

/* Reads whole batches starting with the one that contains 'from', into out (appended), stopping before
 * max_bytes would be exceeded (but always at least one batch if any is available), before any batch
 * whose last offset is >= upto (pass INT64_MAX for "up to LEO"), and before a bad batch or a hole (the good
 * prefix is returned). Returns 0 (possibly nothing when from >= min(upto, LEO)), SL_EOFFSET if from < log
 * start or from > LEO, SL_EDAMAGED when 'from' lies in a damaged range or the batch holding it fails its
 * CRC (which records the range: sl_log_damage_at names it), -errno. Works on a FAILED log too. The first
 * batch may start before 'from' (the caller skips records below it). Any thread. */
int sl_log_read(struct sl_log *l, sl_offset_t from, size_t max_bytes, sl_offset_t upto, struct sl_buf *out);

/* A damaged range: offsets [from, to) cannot be read; 'to' is the next readable offset. */
struct sl_log_damage {
    sl_offset_t from, to;
    char why[128]; /* "bad CRC in 00000000000000000000.log at byte 4096 (812 bytes skipped)", ... */
};
/* Copies up to max of the damaged ranges (sorted by offset) into out; returns how many there are in all.
 * Any thread. */
size_t sl_log_damage(struct sl_log *l, struct sl_log_damage *out, size_t max);
/* The damaged range holding off. Returns 0 with *out, or -ENOENT. Any thread. */
int sl_log_damage_at(struct sl_log *l, sl_offset_t off, struct sl_log_damage *out);

/* Earliest offset whose timestamp is >= ts, in *out; LEO if none. Returns 0 or -errno. Any thread. */
int sl_log_offset_for_time(struct sl_log *l, int64_t ts, sl_offset_t *out);

/* Removes every record at offset >= off (for replication: truncation to a leader's epoch end). Deletes
 * later segments, truncates the one holding off, fixes indexes, LEO and the epoch cache. A batch is never
 * split: if off falls inside a batch, that whole batch goes and LEO becomes its base offset. off >= LEO is
 * a no-op. Returns 0, SL_EOFFSET (off < log start), SL_EFAILED, -errno. Appender side. */
int sl_log_truncate_to(struct sl_log *l, sl_offset_t off);

/* Applies retention.ms / retention.bytes at time now: deletes whole closed segments that are too old or
 * exceed the byte budget (never the active one), advances the log start offset and checkpoints it.
 * Returns the number of segments deleted (>= 0) or an error. Appender side. */
int sl_log_retain(struct sl_log *l, int64_t now_ms);

/* Rolls the active segment when segment.ms has passed since its first append. Returns 1 if rolled, 0, or an
 * error. Appender side. */
int sl_log_roll_if_due(struct sl_log *l, int64_t now_ms);

/* Changes the roll and retention limits of an open log (a topic config altered at runtime); they apply from
 * the next append / sl_log_retain / sl_log_roll_if_due. Appender side. */
void sl_log_set_limits(struct sl_log *l, uint64_t segment_bytes, int64_t segment_ms, int64_t retention_ms,
                       int64_t retention_bytes);

/* Records that 'epoch' starts at the current LEO in the leader-epoch checkpoint (no-op when it is the
 * latest epoch already). Returns 0 or -errno. Appender side. */
int sl_log_epoch_assign(struct sl_log *l, sl_epoch_t epoch);
/* Latest epoch in the cache (-1 when none) and, for a given epoch, the end offset of that epoch as Kafka's
 * OffsetsForLeaderEpoch computes it. Any thread. */
sl_epoch_t sl_log_latest_epoch(struct sl_log *l);
sl_offset_t sl_log_epoch_end_offset(struct sl_log *l, sl_epoch_t epoch);

/* Writes partition.ckpt now (recovery point, high watermark, log start). Returns 0 or -errno. Appender side. */
int sl_log_checkpoint(struct sl_log *l);
/* The high watermark is kept by the caller (replication decides it) and only persisted here. Any thread. */
void sl_log_set_hw(struct sl_log *l, sl_offset_t hw);
sl_offset_t sl_log_hw(struct sl_log *l);

/* Atomic getters. Any thread. */
sl_offset_t sl_log_start(struct sl_log *l);     /* log start offset */
sl_offset_t sl_log_end(struct sl_log *l);       /* LEO: next offset to assign */
sl_offset_t sl_log_durable(struct sl_log *l);   /* exclusive end of what is fsynced */
uint64_t sl_log_size(struct sl_log *l);         /* bytes of all segments */
uint32_t sl_log_segment_count(struct sl_log *l);
bool sl_log_failed(struct sl_log *l);
/* Why the log is FAILED ("writing a batch in /data/t-0: No space left on device"), "" when it is not. Any
 * thread. */
void sl_log_fail_reason(struct sl_log *l, char *buf, size_t n);
/* The same reason, in place: "" while the log is not FAILED; once it is, a string that never changes again
 * and lives until sl_log_close. Any thread. */
const char *sl_log_fail_why(const struct sl_log *l);
/* Files that recovery moved into <dir>/quarantine/ at the last open. Any thread. */
unsigned sl_log_quarantined(struct sl_log *l);
/* The recovery report of the last open ("cut 17 bytes at 00000000000000000000.log:4096 (bad CRC)", or "").
 * Valid until sl_log_close. */
const char *sl_log_recovery_report(struct sl_log *l);

#endif
