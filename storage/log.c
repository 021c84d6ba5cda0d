/* The partition log (contract in log.h; internals in log_int.h): open, recovery hand-off, append, roll, sync,
 * truncation, epochs and getters. Reads, damage bookkeeping and time lookups are in log_read.c, retention in
 * retention.c.
 *
 * INVARIANTS (in addition to log.h's)
 *   1. segs[nsegs - 1] == active; nsegs >= 1 while open.
 *   2. The appender publishes a batch in this order: pwrite, seg->size/next (release), l->leo (release).
 *      Readers load l->leo (acquire) first, so every batch below it is complete in the file.
 *   3. durable <= leo and recovery_point <= durable; both only advance after an fdatasync covering them,
 *      except that truncate_to lowers all three.
 *   4. Index files are written at roll, close, truncation and recovery only (never on the append path).
 *
 * FAILURE MODES
 *   Any pwrite/fdatasync/ftruncate/checkpoint error on the append or sync side -> FAILED (logged once).
 *   A reader racing truncate_to may get batches that are being truncated away (the caller re-reads LEO). */
#include "storage/log_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/batch.h"
#include "storage/checkpoint.h"
#include "storage/crc32c.h"
#include "storage/err.h"
#include "storage/recover.h"

#define DEFAULT_SEGMENT_BYTES (1ull << 30)
#define WEEK_MS (7LL * 24 * 3600 * 1000)
#define SEG_POS_MAX ((uint64_t)INT32_MAX)

void sl_log_cfg_defaults(struct sl_log_cfg *cfg, const char *dir)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dir = dir;
    cfg->segment_bytes = DEFAULT_SEGMENT_BYTES;
    cfg->segment_ms = WEEK_MS;
    cfg->retention_ms = WEEK_MS;
    cfg->retention_bytes = -1;
    cfg->index_interval_bytes = 4096;
    cfg->max_batch_bytes = (1u << 20) + 1024;
}

/* ---- helpers shared with retention.c ---- */

int64_t log_now(const struct sl_log *l)
{
    if (l->cfg.now_ms)
        return l->cfg.now_ms();
    return sl_clock_wall_ms(l->cfg.clock);
}

void log_say(const struct sl_log *l, enum sl_level lv, const char *fmt, ...)
{
    if (!l->cfg.reporter.fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->cfg.reporter.fn(l->cfg.reporter.ctx, lv, msg);
}

int log_fail(struct sl_log *l, const char *what, int rc)
{
    int expect = 0;
    pthread_mutex_lock(&l->ckpt_mu); /* one writer of fail_why */
    if (__atomic_load_n(&l->failed, __ATOMIC_ACQUIRE) == 0) {
        snprintf(l->fail_why, sizeof l->fail_why, "%s in %s: %s", what, l->dir, sl_strerror(rc));
        l->fail_rc = rc;
    }
    bool first = __atomic_compare_exchange_n(&l->failed, &expect, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    sl_errctx_set(0, "%s", l->fail_why); /* the first reason, on the thread that met this one */
    pthread_mutex_unlock(&l->ckpt_mu);
    if (first)
        log_say(l, SL_LEVEL_ERROR, "log %s FAILED: %s: %s", l->dir, what, sl_strerror(rc));
    return SL_EFAILED;
}

int log_write_ckpt(struct sl_log *l, bool clean)
{
    struct sl_pckpt c;
    pthread_mutex_lock(&l->ckpt_mu);
    __atomic_store_n(&l->ckpt_stale, false, __ATOMIC_RELEASE); /* before reading: a later sync sets it again */
    pthread_mutex_lock(&l->mu);
    c.recovery_point = l->recovery_point;
    pthread_mutex_unlock(&l->mu);
    c.high_watermark = __atomic_load_n(&l->hw, __ATOMIC_ACQUIRE);
    c.log_start = __atomic_load_n(&l->start, __ATOMIC_ACQUIRE);
    c.clean = clean;
    int rc = sl_ckpt_write(l->fo, l->dir, &c);
    __atomic_store_n(&l->last_ckpt_ms, log_now(l), __ATOMIC_RELAXED);
    pthread_mutex_unlock(&l->ckpt_mu);
    return rc ? log_fail(l, "writing " SL_PCKPT_NAME, rc) : 0;
}

int log_write_epochs(struct sl_log *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->epochs.n;
    struct sl_epoch_entry *copy = malloc((n ? n : 1) * sizeof *copy);
    if (copy && n)
        memcpy(copy, l->epochs.e, n * sizeof *copy);
    l->latest_epoch = sl_epochs_latest(&l->epochs);
    pthread_mutex_unlock(&l->mu);
    if (!copy)
        return -ENOMEM;
    int rc = sl_ckpt_epochs_write(l->fo, l->dir, copy, n);
    free(copy);
    return rc ? log_fail(l, "writing " SL_EPOCH_CKPT_NAME, rc) : 0;
}

static bool is_failed(const struct sl_log *l)
{
    return __atomic_load_n(&l->failed, __ATOMIC_ACQUIRE) != 0;
}

/* SL_EFAILED for a call on a failed log, with the reason it failed as this thread's context. fail_why is
 * written once, before the release that set failed, and never again. */
static int refuse_failed(const struct sl_log *l)
{
    sl_errctx_set(0, "%s", l->fail_why);
    return SL_EFAILED;
}

size_t log_find_seg(const struct sl_log *l, sl_offset_t off)
{
    size_t lo = 0, hi = l->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->segs[mid]->base <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

static int push_seg(struct sl_log *l, struct sl_seg *s)
{
    if (l->nsegs == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct sl_seg **p = realloc(l->segs, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        l->segs = p;
        l->cap = cap;
    }
    l->segs[l->nsegs++] = s;
    l->active = s;
    return 0;
}

/* ---- append side ---- */

/* Starts a new active segment at LEO. Returns 0, SL_EFAILED, or -errno (creation failed; log still OK). */
static int roll(struct sl_log *l)
{
    sl_offset_t base = l->leo;
    struct sl_seg *s, *old = l->active;
    int rc = sl_seg_open(l->fo, l->dir, base, true, &s);
    if (rc)
        return rc;
    rc = l->fo->fsync_dir(l->dir);
    if (rc) {
        sl_seg_unref(s);
        return log_fail(l, "fsync of the directory after creating a segment", rc);
    }
    pthread_mutex_lock(&l->mu);
    rc = push_seg(l, s);
    pthread_mutex_unlock(&l->mu);
    if (rc) {
        sl_seg_unref(s);
        return rc;
    }
    /* Index files are rebuildable, but a failed write still means the disk misbehaves: FAILED. */
    if ((rc = sl_seg_write_index(old)))
        return log_fail(l, "writing the indexes of a rolled segment", rc);
    log_say(l, SL_LEVEL_DEBUG, "rolled %s to a new segment at offset %" PRId64, l->dir, base);
    return log_write_ckpt(l, false);
}

static bool roll_due(const struct sl_log *l, int64_t now)
{
    const struct sl_seg *s = l->active;
    return l->cfg.segment_ms > 0 && s->size > 0 && s->first_append_ms != 0 &&
           now - s->first_append_ms >= l->cfg.segment_ms;
}

static int check_epoch(struct sl_log *l, sl_epoch_t epoch)
{
    if (epoch == l->latest_epoch)
        return 0;
    if (epoch < l->latest_epoch)
        return SL_EFENCED;
    return sl_log_epoch_assign(l, epoch);
}

/* sl_log_append and sl_log_append_built: walk says whether the records are checked (CRC and framing). */
static int append(struct sl_log *l, uint8_t *batch, size_t n, sl_epoch_t epoch, bool walk, sl_offset_t *first_out,
                  sl_offset_t *last_out)
{
    struct sl_batch_hdr h;
    if (is_failed(l))
        return refuse_failed(l);
    if (n > l->cfg.max_batch_bytes)
        return SL_ETOOBIG;
    if (n < SL_BATCH_HEADER_SIZE || sl_batch_hdr_decode(batch, n, &h) || (size_t)h.length + 12 != n ||
        (walk && sl_batch_validate(batch, n)))
        return SL_EBADBATCH;
    int rc = check_epoch(l, epoch);
    if (rc)
        return rc;
    struct sl_seg *s = l->active;
    sl_offset_t leo = l->leo;
    int64_t now = l->cfg.segment_ms > 0 ? log_now(l) : 0;
    uint64_t limit = l->cfg.segment_bytes < SEG_POS_MAX ? l->cfg.segment_bytes : SEG_POS_MAX;
    if (s->size > 0 && (s->size + n > limit || roll_due(l, now) ||
                        (uint64_t)(leo + h.last_offset_delta - s->base) > UINT32_MAX)) {
        if ((rc = roll(l)))
            return rc;
        s = l->active;
    }
    sl_batch_set_base(batch, leo);
    sl_batch_set_epoch(batch, epoch);
    h.base_offset = leo;
    h.epoch = epoch;
    rc = sl_seg_append(s, batch, n, &h, l->cfg.index_interval_bytes);
    if (rc)
        return log_fail(l, "writing a batch", rc);
    if (s->first_append_ms == 0)
        s->first_append_ms = now ? now : log_now(l);
    __atomic_store_n(&l->leo, leo + h.last_offset_delta + 1, __ATOMIC_RELEASE);
    if (first_out)
        *first_out = leo;
    if (last_out)
        *last_out = leo + h.last_offset_delta;
    return 0;
}

int sl_log_append(struct sl_log *l, uint8_t *batch, size_t n, sl_epoch_t epoch, sl_offset_t *first_out,
                  sl_offset_t *last_out)
{
    return append(l, batch, n, epoch, true, first_out, last_out);
}

int sl_log_append_built(struct sl_log *l, uint8_t *batch, size_t n, sl_epoch_t epoch, sl_offset_t *first_out,
                        sl_offset_t *last_out)
{
    return append(l, batch, n, epoch, false, first_out, last_out);
}

int sl_log_roll_if_due(struct sl_log *l, int64_t now_ms)
{
    if (is_failed(l))
        return refuse_failed(l);
    if (!roll_due(l, now_ms))
        return 0;
    int rc = roll(l);
    return rc ? rc : 1;
}

/* ---- sync ---- */

struct dirty {
    struct sl_seg *s;
    uint64_t size;
};

/* Under mu: refs the segments with unsynced bytes (newest first; closed ones stop at the first clean). */
static int collect_dirty(struct sl_log *l, struct dirty **out, size_t *n)
{
    size_t cnt = 0;
    for (size_t i = l->nsegs; i-- > 0;) {
        struct sl_seg *s = l->segs[i];
        if (sl_seg_size(s) <= s->synced_size && s != l->active)
            break;
        cnt++;
    }
    struct dirty *d = malloc((cnt ? cnt : 1) * sizeof *d);
    if (!d)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = l->nsegs - cnt; i < l->nsegs; i++) {
        struct sl_seg *s = l->segs[i];
        uint64_t sz = sl_seg_size(s);
        if (sz <= s->synced_size)
            continue;
        sl_seg_ref(s);
        d[k++] = (struct dirty){s, sz};
    }
    *out = d;
    *n = k;
    return 0;
}

static void publish_synced(struct sl_log *l, struct dirty *d, size_t n, sl_offset_t leo, uint64_t gen)
{
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < n; i++)
        if (gen == l->trunc_gen && d[i].s->synced_size < d[i].size)
            __atomic_store_n(&d[i].s->synced_size, d[i].size, __ATOMIC_RELEASE);
    if (gen == l->trunc_gen && leo > l->recovery_point) {
        l->recovery_point = leo;
        if (leo > l->durable)
            __atomic_store_n(&l->durable, leo, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&l->mu);
}

int sl_log_sync_data(struct sl_log *l, sl_offset_t *durable_out)
{
    struct dirty *d = NULL;
    size_t n = 0;
    if (is_failed(l))
        return refuse_failed(l);
    pthread_mutex_lock(&l->mu);
    sl_offset_t leo = __atomic_load_n(&l->leo, __ATOMIC_ACQUIRE);
    uint64_t gen = l->trunc_gen;
    int rc = leo > l->durable ? collect_dirty(l, &d, &n) : 0;
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < n && rc == 0; i++)
        if ((rc = sl_seg_sync(d[i].s)))
            rc = log_fail(l, "fdatasync", rc);
    if (rc == 0 && d) {
        publish_synced(l, d, n, leo, gen);
        __atomic_store_n(&l->ckpt_stale, true, __ATOMIC_RELEASE);
    }
    for (size_t i = 0; i < n; i++)
        sl_seg_unref(d[i].s);
    free(d);
    if (rc == 0 && durable_out)
        *durable_out = __atomic_load_n(&l->durable, __ATOMIC_ACQUIRE);
    return rc;
}

bool sl_log_checkpoint_due(struct sl_log *l)
{
    return __atomic_load_n(&l->ckpt_stale, __ATOMIC_ACQUIRE) &&
           log_now(l) - __atomic_load_n(&l->last_ckpt_ms, __ATOMIC_RELAXED) >= 1000;
}

int sl_log_sync(struct sl_log *l, sl_offset_t *durable_out)
{
    int rc = sl_log_sync_data(l, durable_out);
    if (rc == 0 && sl_log_checkpoint_due(l))
        rc = log_write_ckpt(l, false);
    return rc;
}

/* ---- truncation ---- */

/* Detaches segs[keep..] (returned, caller deletes) and lowers leo/durable/recovery point to new_leo. */
static struct sl_seg **detach_after(struct sl_log *l, size_t keep, sl_offset_t new_leo, size_t *n)
{
    pthread_mutex_lock(&l->mu);
    *n = l->nsegs - keep;
    struct sl_seg **gone = malloc((*n ? *n : 1) * sizeof *gone);
    if (gone) {
        memcpy(gone, l->segs + keep, *n * sizeof *gone);
        l->nsegs = keep;
        l->active = l->segs[keep - 1];
    } else {
        *n = 0;
    }
    l->trunc_gen++;
    log_trim_holes(l, INT64_MIN, new_leo);
    __atomic_store_n(&l->leo, new_leo, __ATOMIC_RELEASE);
    if (l->durable > new_leo)
        __atomic_store_n(&l->durable, new_leo, __ATOMIC_RELEASE);
    if (l->recovery_point > new_leo)
        l->recovery_point = new_leo;
    sl_epochs_truncate_end(&l->epochs, new_leo);
    pthread_mutex_unlock(&l->mu);
    return gone;
}

static int cut_active(struct sl_log *l, struct sl_seg *s, uint64_t pos, sl_offset_t new_leo)
{
    int rc = sl_seg_truncate(s, pos, new_leo, l->cfg.index_interval_bytes);
    if (rc == 0)
        rc = sl_seg_sync(s);
    if (rc)
        return log_fail(l, "truncating a segment", rc);
    pthread_mutex_lock(&l->mu);
    if (s->synced_size > pos)
        __atomic_store_n(&s->synced_size, pos, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int sl_log_truncate_to(struct sl_log *l, sl_offset_t off)
{
    if (is_failed(l))
        return refuse_failed(l);
    if (off < __atomic_load_n(&l->start, __ATOMIC_ACQUIRE))
        return SL_EOFFSET;
    if (off >= l->leo)
        return 0;
    pthread_mutex_lock(&l->mu);
    size_t i = log_find_seg(l, off);
    struct sl_seg *s = l->segs[i];
    pthread_mutex_unlock(&l->mu);
    uint64_t pos;
    sl_offset_t at;
    struct sl_batch_hdr h;
    sl_seg_locate(s, off, &pos, &at);
    struct log_reach r = {off, at};
    int rc = sl_seg_scan(s, pos, sl_seg_size(s), log_on_reaches, &r, &pos, &h);
    if (rc)
        return rc == 1 ? SL_ECORRUPT : rc;
    size_t ngone;
    struct sl_seg **gone = detach_after(l, i + 1, h.base_offset, &ngone);
    if (!gone)
        return -ENOMEM;
    rc = cut_active(l, s, pos, h.base_offset);
    for (size_t k = 0; k < ngone; k++) {
        int drc = sl_seg_delete(gone[k]);
        if (drc && rc == 0)
            rc = log_fail(l, "deleting a truncated segment", drc);
        sl_seg_unref(gone[k]);
    }
    free(gone);
    if (__atomic_load_n(&l->hw, __ATOMIC_ACQUIRE) > h.base_offset)
        __atomic_store_n(&l->hw, h.base_offset, __ATOMIC_RELEASE);
    log_say(l, SL_LEVEL_INFO, "truncated %s to offset %" PRId64, l->dir, h.base_offset);
    if (rc == 0)
        rc = log_write_epochs(l);
    if (rc == 0 && ngone && (rc = l->fo->fsync_dir(l->dir)))
        rc = log_fail(l, "fsync of the directory", rc);
    return rc ? rc : log_write_ckpt(l, false);
}

/* ---- epochs, checkpoint, getters ---- */

int sl_log_epoch_assign(struct sl_log *l, sl_epoch_t epoch)
{
    if (is_failed(l))
        return refuse_failed(l);
    pthread_mutex_lock(&l->mu);
    int rc = sl_epochs_assign(&l->epochs, epoch, l->leo);
    pthread_mutex_unlock(&l->mu);
    if (rc == SL_EFENCED)
        return 0; /* an older epoch is never recorded (Kafka ignores it too) */
    return rc == 1 ? log_write_epochs(l) : rc;
}

sl_epoch_t sl_log_latest_epoch(struct sl_log *l)
{
    pthread_mutex_lock(&l->mu);
    sl_epoch_t e = sl_epochs_latest(&l->epochs);
    pthread_mutex_unlock(&l->mu);
    return e;
}

sl_offset_t sl_log_epoch_end_offset(struct sl_log *l, sl_epoch_t epoch)
{
    pthread_mutex_lock(&l->mu);
    sl_offset_t o = sl_epochs_end_offset(&l->epochs, epoch, __atomic_load_n(&l->leo, __ATOMIC_ACQUIRE));
    pthread_mutex_unlock(&l->mu);
    return o;
}

int sl_log_checkpoint(struct sl_log *l)
{
    if (is_failed(l))
        return refuse_failed(l);
    return log_write_ckpt(l, false);
}

void sl_log_set_hw(struct sl_log *l, sl_offset_t hw)
{
    __atomic_store_n(&l->hw, hw, __ATOMIC_RELEASE);
}

sl_offset_t sl_log_hw(struct sl_log *l)
{
    return __atomic_load_n(&l->hw, __ATOMIC_ACQUIRE);
}

sl_offset_t sl_log_start(struct sl_log *l)
{
    return __atomic_load_n(&l->start, __ATOMIC_ACQUIRE);
}

sl_offset_t sl_log_end(struct sl_log *l)
{
    return __atomic_load_n(&l->leo, __ATOMIC_ACQUIRE);
}

sl_offset_t sl_log_durable(struct sl_log *l)
{
    return __atomic_load_n(&l->durable, __ATOMIC_ACQUIRE);
}

uint64_t sl_log_size(struct sl_log *l)
{
    uint64_t total = 0;
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->nsegs; i++)
        total += sl_seg_size(l->segs[i]);
    pthread_mutex_unlock(&l->mu);
    return total;
}

uint32_t sl_log_segment_count(struct sl_log *l)
{
    pthread_mutex_lock(&l->mu);
    uint32_t n = (uint32_t)l->nsegs;
    pthread_mutex_unlock(&l->mu);
    return n;
}

bool sl_log_failed(struct sl_log *l)
{
    return is_failed(l);
}

const char *sl_log_fail_why(const struct sl_log *l)
{
    return is_failed(l) ? l->fail_why : "";
}

void sl_log_fail_reason(struct sl_log *l, char *buf, size_t n)
{
    pthread_mutex_lock(&l->ckpt_mu);
    snprintf(buf, n, "%s", is_failed(l) ? l->fail_why : "");
    pthread_mutex_unlock(&l->ckpt_mu);
}

unsigned sl_log_quarantined(struct sl_log *l)
{
    return l->quarantined;
}

const char *sl_log_recovery_report(struct sl_log *l)
{
    return l->report.len ? (const char *)l->report.base : "";
}

/* ---- open / close ---- */

static int load_ckpt(struct sl_log *l, struct sl_pckpt *c, bool *have)
{
    int rc = sl_ckpt_read(l->fo, l->dir, c);
    *have = rc == 0;
    if (rc == SL_ECORRUPT)
        log_say(l, SL_LEVEL_WARN, "%s/%s is corrupt; validating every segment", l->dir, SL_PCKPT_NAME);
    if (rc == -ENOENT || rc == SL_ECORRUPT)
        memset(c, 0, sizeof *c), rc = 0;
    return rc;
}

static int load_epochs(struct sl_log *l)
{
    struct sl_epoch_entry *e = NULL;
    size_t n = 0;
    int rc = sl_ckpt_epochs_read(l->fo, l->dir, &e, &n);
    if (rc == SL_ECORRUPT)
        log_say(l, SL_LEVEL_WARN, "%s/%s is corrupt; starting an empty epoch cache", l->dir, SL_EPOCH_CKPT_NAME);
    if (rc == -ENOENT || rc == SL_ECORRUPT)
        rc = 0;
    else if (rc == 0)
        rc = sl_epochs_set(&l->epochs, e, n);
    free(e);
    if (rc == SL_ECORRUPT)
        rc = 0;
    if (rc)
        return rc;
    bool changed = sl_epochs_truncate_end(&l->epochs, l->leo);
    changed |= sl_epochs_truncate_start(&l->epochs, l->start);
    l->latest_epoch = sl_epochs_latest(&l->epochs);
    return changed ? log_write_epochs(l) : 0;
}

/* Makes everything recovered durable (it may only be in the page cache after a process crash). */
static int sync_recovered(struct sl_log *l, sl_offset_t rp)
{
    for (size_t i = 0; i < l->nsegs; i++) {
        struct sl_seg *s = l->segs[i];
        if (sl_seg_next(s) <= rp && i + 1 < l->nsegs)
            continue;
        int rc = sl_seg_sync(s);
        if (rc)
            return rc;
    }
    return 0;
}

static int recover(struct sl_log *l, const struct sl_pckpt *c, bool have, int *write_err)
{
    struct sl_recover_cfg rc_cfg = {l->fo, l->dir, &l->cfg.reporter, have, c->recovery_point, c->log_start,
                                    l->cfg.index_interval_bytes};
    struct sl_recover_out o;
    int rc = sl_recover_dir(&rc_cfg, &o, &l->report);
    if (rc)
        return rc;
    l->segs = o.segs;
    l->nsegs = l->cap = o.n;
    l->holes = o.holes;
    l->nholes = o.nholes;
    l->quarantined = o.quarantined;
    *write_err = o.write_err;
    l->active = l->segs[l->nsegs - 1];
    l->leo = sl_seg_next(l->active);
    l->start = o.log_start > l->leo ? l->leo : o.log_start;
    if (l->active->size)
        l->active->first_append_ms = log_now(l);
    return 0;
}

static void log_free(struct sl_log *l)
{
    for (size_t i = 0; i < l->nsegs; i++)
        sl_seg_unref(l->segs[i]);
    free(l->segs);
    sl_epochs_fini(&l->epochs);
    sl_buf_fini(&l->report);
    free(l->holes);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->ckpt_mu);
    free(l->dir);
    free(l);
}

static int log_alloc(const struct sl_log_cfg *cfg, struct sl_log **out)
{
    struct sl_log *l = calloc(1, sizeof *l);
    if (!l || !(l->dir = strdup(cfg->dir))) {
        free(l);
        return -ENOMEM;
    }
    l->cfg = *cfg;
    l->cfg.dir = l->dir;
    l->fo = cfg->fops ? cfg->fops : &sl_fileops_posix;
    l->cfg.fops = l->fo;
    if (!l->cfg.clock)
        l->cfg.clock = &sl_clock_posix;
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->ckpt_mu, NULL);
    sl_epochs_init(&l->epochs);
    l->latest_epoch = -1;
    *out = l;
    return 0;
}

static bool no_space(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT || rc == -EROFS;
}

/* After recovery: makes what was recovered durable and writes the checkpoints. On a full (or read-only)
 * disk the log stays open, FAILED: what it holds is readable, nothing can be appended. */
static int settle(struct sl_log *l, const struct sl_pckpt *c, bool have, int write_err)
{
    sl_offset_t rp = have && c->recovery_point < l->leo ? c->recovery_point : (have ? l->leo : 0);
    bool dirty = !have || rp < l->leo || l->report.len > 1;
    int rc = 0;
    if (rp < l->leo && (rc = sync_recovered(l, rp)))
        return rc;
    l->recovery_point = l->durable = l->leo;
    for (size_t i = 0; i < l->nsegs; i++)
        __atomic_store_n(&l->segs[i]->synced_size, l->segs[i]->size, __ATOMIC_RELEASE);
    l->hw = have ? (c->high_watermark < l->leo ? c->high_watermark : l->leo) : 0;
    if (l->hw < l->start)
        l->hw = l->start;
    if (write_err)
        log_fail(l, "writing index files at open", write_err);
    if ((rc = load_epochs(l)) == 0 && dirty && !is_failed(l))
        rc = log_write_ckpt(l, false);
    if (rc == SL_EFAILED && no_space(l->fail_rc)) {
        log_say(l, SL_LEVEL_ERROR, "log %s opened read-only: %s", l->dir, l->fail_why);
        rc = 0;
    }
    return rc;
}

int sl_log_open(const struct sl_log_cfg *cfg, struct sl_log **out)
{
    struct sl_log *l;
    struct sl_pckpt c;
    bool have;
    int write_err = 0;
    int rc = log_alloc(cfg, &l);
    if (rc)
        return rc;
    if ((rc = sl_dir_make_all(l->fo, l->dir)) || (rc = load_ckpt(l, &c, &have)) || (rc = recover(l, &c, have, &write_err)) ||
        (rc = settle(l, &c, have, write_err)))
        goto err_free;
    if (l->report.len > 1)
        log_say(l, SL_LEVEL_WARN, "recovered %s: %s", l->dir, (const char *)l->report.base);
    *out = l;
    return 0;
err_free:
    log_free(l);
    return rc;
}

int sl_log_close(struct sl_log *l)
{
    int rc = 0;
    if (!is_failed(l))
        rc = sl_log_sync(l, NULL);
    if (rc == 0 && !is_failed(l))
        rc = sl_seg_write_index(l->active);
    if (rc == 0 && !is_failed(l))
        rc = log_write_ckpt(l, true);
    else if (rc == 0)
        rc = SL_EFAILED;
    log_free(l);
    return rc;
}

void sl_log_set_limits(struct sl_log *l, uint64_t segment_bytes, int64_t segment_ms, int64_t retention_ms,
                       int64_t retention_bytes)
{
    /* Read only by appender-side calls, which the caller serializes with this one. */
    l->cfg.segment_bytes = segment_bytes;
    l->cfg.segment_ms = segment_ms;
    l->cfg.retention_ms = retention_ms;
    l->cfg.retention_bytes = retention_bytes;
}
