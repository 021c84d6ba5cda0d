/* One segment of a partition log: the .log file (record batches), its indexes, and its bookkeeping.
 *
 * ON-DISK: <dir>/<20-digit base offset>.log, .index, .timeindex (formats in log.h, batch.h, index.h).
 *
 * INVARIANTS
 *   1. Bytes [0, size) of the .log file are complete batches with dense offsets [base, next).
 *   2. size and next are stored (release) by the appender only after the bytes are written, so a reader
 *      that loads them (acquire) may read every byte below size.
 *   3. The segment is freed when its last reference is dropped; sl_seg_delete pins the fd open and then only
 *      unlinks its files, so a reader holding a reference keeps reading the unlinked file through it.
 *
 * FD CACHE (storage/segfd.c): at most sl_seg_fd_limit segment files are open in the process. Every use of
 * the fd goes through sl_seg_fd_get/put; the least recently used segment that nobody uses and whose bytes
 * are all synced is closed when another must open, and reopened on its next use. A reopen can fail (EMFILE):
 * reads return the error, the log is not failed by it.
 *
 * THREADS: one appender-side thread mutates (append, truncate, write_index, delete); readers call
 *   sl_seg_read / sl_seg_locate / sl_seg_scan and the getters from any thread while holding a reference.
 *   idx is guarded by idx_mu; size, next, max_ts and refs are atomics. */
#ifndef SL_STORAGE_SEGMENT_H
#define SL_STORAGE_SEGMENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage/batch.h"
#include "storage/fileops.h"
#include "storage/index.h"
#include "storage/types.h"

#define SL_SEG_NAME_LEN 20

struct sl_seg {
    const struct sl_fileops *fo;
    char *prefix;             /* "<dir>/<20-digit base>", owned */
    sl_offset_t base;         /* the file name's offset */
    int fd;                   /* .log, O_RDWR, or -1 while the fd cache has it closed; guarded by: fd_mu */
    int fd_users;             /* guarded by: fd_mu; uses in progress (the fd may not be closed) */
    bool fd_pinned;           /* guarded by: fd_mu; deleted: the fd stays open until the last unref */
    bool in_lru;              /* written under segfd.c cache_mu (atomic), read anywhere */
    uint64_t last_use;        /* atomic; segfd.c's use counter at the last use */
    struct sl_seg *lru_prev, *lru_next; /* guarded by: segfd.c cache_mu */
    pthread_mutex_t fd_mu;
    uint64_t size;            /* atomic; written by the appender after the bytes */
    sl_offset_t next;         /* atomic; offset after the last batch */
    int64_t max_ts;           /* atomic; largest batch maxTimestamp, INT64_MIN when empty */
    int64_t first_append_ms;  /* appender: clock at the first append (or at open when non-empty); 0 = none */
    uint64_t since_index;     /* appender: bytes written since the last offset index entry */
    uint64_t synced_size;     /* bytes known fdatasynced; written under the owning log's mu (atomic stores) */
    bool damaged;             /* appender: holds a hole (recover.h); its index files are never kept */
    int refs;                 /* atomic */
    pthread_mutex_t idx_mu;   /* guards idx */
    struct sl_index idx;
};

/* ---- fd cache (segfd.c) ---- */
/* At most max_open segment files open in the process (0 = no limit; the default). Any thread. */
void sl_seg_fd_limit(unsigned max_open);
/* Segment files open now (for /metrics and tests). */
unsigned sl_seg_fd_open_count(void);
/* The segment's fd, opened again if the cache closed it, held open until sl_seg_fd_put. Returns the fd or
 * -errno. Any thread with a ref. */
int sl_seg_fd_get(struct sl_seg *s);
void sl_seg_fd_put(struct sl_seg *s);
/* segment.c: a freshly opened fd enters the cache; the last unref takes it out and closes it. */
void sl_seg_fd_adopt(struct sl_seg *s, int fd);
void sl_seg_fd_release(struct sl_seg *s);
/* The .log file's size on disk, and a raw ftruncate (recovery). Return 0 or -errno. */
int sl_seg_file_size(struct sl_seg *s, uint64_t *len);
int sl_seg_file_truncate(struct sl_seg *s, uint64_t len);

/* Writes "<20-digit base>.<ext>" into buf (at least SL_SEG_NAME_LEN + 12 bytes). */
void sl_seg_name(sl_offset_t base, const char *ext, char *buf, size_t n);
/* "<dir>/<base>.<ext>" of this segment into buf. Returns 0 or -ENAMETOOLONG. */
int sl_seg_path(const struct sl_seg *s, const char *ext, char *buf, size_t n);

/* Opens the segment <dir>/<base>.log: with create, creates it empty (truncating any stale file); otherwise
 * opens the existing file and takes its size (next = base, max_ts unknown: recovery fills them).
 * Returns 0 and *out with one reference owned by the caller, or -errno. Indexes start empty. */
int sl_seg_open(const struct sl_fileops *fo, const char *dir, sl_offset_t base, bool create,
                struct sl_seg **out);
void sl_seg_ref(struct sl_seg *s);
/* Drops a reference; the last one closes the fd and frees s. Any thread. */
void sl_seg_unref(struct sl_seg *s);

static inline uint64_t sl_seg_size(const struct sl_seg *s)
{
    return __atomic_load_n(&s->size, __ATOMIC_ACQUIRE);
}
static inline sl_offset_t sl_seg_next(const struct sl_seg *s)
{
    return __atomic_load_n(&s->next, __ATOMIC_ACQUIRE);
}
static inline int64_t sl_seg_max_ts(const struct sl_seg *s)
{
    return __atomic_load_n(&s->max_ts, __ATOMIC_ACQUIRE);
}

/* Records that a batch [h->base_offset, +last_offset_delta] of n bytes now sits at the end of the file
 * (written by the caller or found by recovery): adds index entries per 'interval', then publishes size,
 * next and max_ts. Returns 0 or -ENOMEM. Appender side. */
int sl_seg_note_batch(struct sl_seg *s, const struct sl_batch_hdr *h, uint64_t n, uint32_t interval);

/* Writes the n-byte batch p at the end of the segment (one pwrite) and notes it (above). Returns 0 or the
 * file error (-errno), in which case the file may hold a partial batch past size. Appender side. */
int sl_seg_append(struct sl_seg *s, const uint8_t *p, size_t n, const struct sl_batch_hdr *h, uint32_t interval);

/* Reads up to n bytes at pos (loops until n or EOF). Returns bytes read or -errno. Any thread with a ref. */
ssize_t sl_seg_read(struct sl_seg *s, uint64_t pos, void *buf, size_t n);

/* Position of a batch at or before offset off (the index floor), and that batch's base offset.
 * Any thread with a ref. */
void sl_seg_locate(struct sl_seg *s, sl_offset_t off, uint64_t *pos, sl_offset_t *base_at);

/* Walks batch headers from pos (a batch start) while pos < end, returning 0 with the first batch for which
 * stop(h, arg) is true (*pos_out its position, *h_out its header), 1 when none before end (*pos_out = end
 * reached), SL_ECORRUPT on a malformed header (*pos_out its position), or -errno. Any thread with a ref. */
int sl_seg_scan(struct sl_seg *s, uint64_t pos, uint64_t end, bool (*stop)(const struct sl_batch_hdr *, void *),
                void *arg, uint64_t *pos_out, struct sl_batch_hdr *h_out);

/* Cuts the segment to its first pos bytes, which end just before offset next: ftruncate, drops index
 * entries at or past the cut, recomputes max_ts and since_index from the remaining tail, rewrites the
 * index files. Returns 0 or -errno. Appender side. */
int sl_seg_truncate(struct sl_seg *s, uint64_t pos, sl_offset_t next, uint32_t interval);

/* fdatasync of the .log. Returns 0 or -errno. Any thread with a ref. */
int sl_seg_sync(struct sl_seg *s);
/* Mirrors the in-memory indexes to the .index/.timeindex files (not fsynced); for a damaged segment removes
 * them instead, so that the next open validates it in full. Appender side. */
int sl_seg_write_index(struct sl_seg *s);
/* Loads the index files, validating them against the log size. Returns as sl_idx_load. Appender side. */
int sl_seg_load_index(struct sl_seg *s);
/* Unlinks the three files (missing ones are fine). The fd stays open until the last unref.
 * Returns 0 or the first -errno. Appender side. */
int sl_seg_delete(struct sl_seg *s);

#endif
