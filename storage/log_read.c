/* The partition log's read side (contract in log.h; internals in log_int.h): sl_log_read serves whole
 * batches below a limit, checking each batch it serves (CRC and framing) the first time it is read from a
 * segment that recovery did not validate; damage it meets becomes a hole (sl_log_damage, sl_log_damage_at)
 * and reads resume past it; sl_log_offset_for_time walks the time index then the batches.
 *
 * INVARIANTS: see log.c (readers load l->leo, acquire, before reading anything below it). Segments are
 * referenced (get_seg) for the whole time they are read, so retention and truncation may detach them
 * concurrently: the file stays open until the last reference is dropped. */
#include "storage/log_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/batch.h"
#include "storage/crc32c.h"
#include "storage/err.h"
#include "storage/recover.h"

/* Refs and returns the segment holding off (or the one after 'after' when after != NULL). NULL if none. */
static struct sl_seg *get_seg(struct sl_log *l, sl_offset_t off, const struct sl_seg *after)
{
    struct sl_seg *s = NULL;
    pthread_mutex_lock(&l->mu);
    size_t i = log_find_seg(l, off);
    if (after) {
        while (i < l->nsegs && l->segs[i]->base <= after->base)
            i++;
    }
    if (i < l->nsegs) {
        s = l->segs[i];
        sl_seg_ref(s);
    }
    pthread_mutex_unlock(&l->mu);
    return s;
}

/* ---- damaged ranges ---- */

/* The hole holding off, copied into *out. Caller holds mu. */
static bool hole_find(const struct sl_log *l, sl_offset_t off, struct sl_hole *out)
{
    for (size_t i = 0; i < l->nholes; i++)
        if (l->holes[i].from <= off && off < l->holes[i].to) {
            if (out)
                *out = l->holes[i];
            return true;
        }
    return false;
}

/* The file position that reads of offsets >= from in segment s must not start before (holes in s), and in
 * *base_out the base offset of the batch there (s->base at position 0). */
static uint64_t resume_floor(struct sl_log *l, const struct sl_seg *s, sl_offset_t from, sl_offset_t *base_out)
{
    uint64_t pos = 0;
    *base_out = s->base;
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->nholes; i++)
        if (l->holes[i].seg_base == s->base && l->holes[i].to <= from && l->holes[i].resume_pos > pos) {
            pos = l->holes[i].resume_pos;
            *base_out = l->holes[i].to;
        }
    pthread_mutex_unlock(&l->mu);
    return pos;
}

void log_trim_holes(struct sl_log *l, sl_offset_t start, sl_offset_t end)
{
    size_t k = 0;
    for (size_t i = 0; i < l->nholes; i++) {
        struct sl_hole h = l->holes[i];
        if (h.to <= start || h.from >= end)
            continue;
        if (h.to > end)
            h.to = end;
        l->holes[k++] = h;
    }
    l->nholes = k;
}

static int hole_insert(struct sl_log *l, const struct sl_hole *h)
{
    struct sl_hole *v = realloc(l->holes, (l->nholes + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t i = l->nholes;
    while (i > 0 && v[i - 1].from > h->from) {
        v[i] = v[i - 1];
        i--;
    }
    v[i] = *h;
    l->holes = v;
    l->nholes++;
    return 0;
}

/* A read met a bad batch at file position bad of s whose offsets start at off: finds where the next valid
 * batch starts, records the hole (unless one already holds off) and reports it; the hole holding off in
 * *out. Returns SL_EDAMAGED (or -errno / -ENOMEM). */
static int note_damage_hole(struct sl_log *l, struct sl_seg *s, uint64_t bad, sl_offset_t off, const char *why,
                            struct sl_hole *out)
{
    uint64_t q, end = sl_seg_size(s);
    struct sl_batch_hdr h;
    int rc = sl_recover_resync(s, bad + 1, end, off + 1, &q, &h);
    if (rc < 0)
        return rc;
    struct sl_hole hole = {off, rc == 0 ? h.base_offset : sl_seg_next(s), s->base, rc == 0 ? q : end, ""};
    snprintf(hole.why, sizeof hole.why, "%s in %s.log at byte %" PRIu64 " (found by a read)", why,
             strrchr(s->prefix, '/') ? strrchr(s->prefix, '/') + 1 : s->prefix, bad);
    pthread_mutex_lock(&l->mu);
    bool known = hole_find(l, off, out);
    rc = known || hole.to <= off ? 0 : hole_insert(l, &hole);
    pthread_mutex_unlock(&l->mu);
    if (rc)
        return rc;
    if (!known)
        *out = hole;
    if (!known)
        log_say(l, SL_LEVEL_ERROR, "log %s: damaged offsets [%" PRId64 ", %" PRId64 "): %s", l->dir, hole.from,
                hole.to, hole.why);
    return SL_EDAMAGED;
}

static int note_damage(struct sl_log *l, struct sl_seg *s, uint64_t bad, sl_offset_t off, const char *why)
{
    struct sl_hole h;
    return note_damage_hole(l, s, bad, off, why, &h);
}

bool log_on_reaches(const struct sl_batch_hdr *h, void *arg)
{
    struct log_reach *r = arg;
    if (h->base_offset + h->last_offset_delta >= r->target)
        return true;
    r->next = h->base_offset + h->last_offset_delta + 1;
    return false;
}

/* log_on_reaches for reads: also stops at a header whose base offset does not follow (gap set), which means the
 * walk trusted a corrupt batchLength or index entry. */
struct read_reach {
    struct log_reach r;
    bool gap;
};

static bool on_read_reaches(const struct sl_batch_hdr *h, void *arg)
{
    struct read_reach *rr = arg;
    if (h->base_offset != rr->r.next)
        return rr->gap = true;
    return log_on_reaches(h, &rr->r);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static sl_offset_t be64(const uint8_t *p)
{
    return (sl_offset_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Bytes of whole batches at the start of p[0..n) whose last offset is < limit, that fit in max, whose
 * offsets follow each other, and whose magic and CRC-32C are right: a batch that fails its CRC is never
 * served, even one below the recovery point that went bad on disk after it was fsynced. *corrupt is set
 * when the first batch fails. */
static size_t whole_batches(const uint8_t *p, size_t n, size_t max, sl_offset_t limit, bool *corrupt)
{
    size_t keep = 0;
    sl_offset_t expect = 0;
    *corrupt = false;
    while (n - keep >= SL_BATCH_HEADER_SIZE) {
        const uint8_t *b = p + keep;
        size_t total = (size_t)be32(b + 8) + SL_BATCH_LOG_OVERHEAD; /* batchLength */
        sl_offset_t base = be64(b), last = base + (int32_t)be32(b + 23); /* + lastOffsetDelta */
        if (keep && base != expect)
            break; /* a hole: the read ends before it */
        if (total > n - keep || last >= limit || (keep && keep + total > max))
            break;
        if (total < SL_BATCH_HEADER_SIZE || b[16] != SL_BATCH_MAGIC ||
            be32(b + 17) != sl_crc32c(0, b + 21, total - 21)) {
            *corrupt = keep == 0;
            break;
        }
        keep += total;
        expect = last + 1;
    }
    return keep;
}

/* Whether the batch at pos of s (before end) is whole, carries base offset expect and passes its CRC; its
 * header in *h, its size in *n. Returns 0 (good), SL_ECORRUPT (bad), or -errno / -ENOMEM. */
static int batch_good(struct sl_seg *s, uint64_t pos, uint64_t end, sl_offset_t expect, struct sl_buf *b,
                      struct sl_batch_hdr *h, size_t *n)
{
    uint8_t hb[SL_BATCH_HEADER_SIZE];
    ssize_t got = end - pos >= sizeof hb ? sl_seg_read(s, pos, hb, sizeof hb) : 0;
    if (got < 0)
        return (int)got;
    if (got < (ssize_t)sizeof hb || sl_batch_hdr_decode(hb, sizeof hb, h) || h->magic != SL_BATCH_MAGIC ||
        h->base_offset != expect || h->length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD ||
        h->last_offset_delta < 0 || (uint64_t)h->length + SL_BATCH_LOG_OVERHEAD > end - pos)
        return SL_ECORRUPT;
    *n = (size_t)h->length + SL_BATCH_LOG_OVERHEAD;
    int rc = sl_buf_reserve(b, *n);
    if (rc)
        return rc;
    if ((got = sl_seg_read(s, pos, b->base, *n)) < 0)
        return (int)got;
    return got == (ssize_t)*n && sl_batch_validate(b->base, *n) == 0 ? 0 : SL_ECORRUPT;
}

/* The slow path of read_seg, for when the header walk from the index contradicts itself (a batchLength or
 * an index entry that went bad below the recovery point, where open does not re-read): walks s from its
 * floor validating every batch, CRC included, records each bad stretch met as a hole, and stops at the
 * batch holding from. Costs a read of the segment up to from; only damaged segments take it. Returns 0
 * (*pos_out, *h_out), 1 when s holds nothing at or after from, SL_EDAMAGED when from lies in a bad stretch,
 * or -errno / -ENOMEM. */
static int walk_checked(struct sl_log *l, struct sl_seg *s, sl_offset_t from, uint64_t end, uint64_t *pos_out,
                        struct sl_batch_hdr *h_out)
{
    sl_offset_t expect;
    uint64_t pos = resume_floor(l, s, from, &expect);
    struct sl_buf b = {0};
    int rc = 1;
    while (pos < end) {
        struct sl_batch_hdr h;
        struct sl_hole hole;
        size_t n = 0;
        int bad = batch_good(s, pos, end, expect, &b, &h, &n);
        if (bad == 0 && h.base_offset + h.last_offset_delta >= from) {
            *pos_out = pos;
            *h_out = h;
            rc = 0;
            break;
        }
        if (bad == 0) {
            pos += n;
            expect = h.base_offset + h.last_offset_delta + 1;
            continue;
        }
        rc = bad != SL_ECORRUPT ? bad : note_damage_hole(l, s, pos, expect, "bad batch", &hole);
        if (rc != SL_EDAMAGED || from < hole.to)
            break;
        rc = 1;
        if (hole.seg_base != s->base || hole.resume_pos <= pos)
            break;
        pos = hole.resume_pos;
        expect = hole.to;
    }
    sl_buf_fini(&b);
    return rc;
}

#define FIRST_BAD 2 /* serve(): the batch holding from fails validation */

/* Appends batches from the one at pos (header h, holding from) to out. Returns 1 (done: batches appended,
 * or nothing to return before limit), FIRST_BAD, or -errno. A later bad batch just ends the read. */
static int serve(struct sl_seg *s, uint64_t pos, uint64_t end, const struct sl_batch_hdr *h, size_t max_bytes,
                 sl_offset_t limit, struct sl_buf *out)
{
    size_t first = (size_t)h->length + SL_BATCH_LOG_OVERHEAD;
    if (first > end - pos) /* below size every batch is whole: the batchLength went bad */
        return FIRST_BAD;
    if (h->base_offset + h->last_offset_delta >= limit) { /* nothing yet, unless the delta went bad */
        struct sl_buf b = {0};
        struct sl_batch_hdr h2;
        size_t n;
        int rc = batch_good(s, pos, end, h->base_offset, &b, &h2, &n);
        sl_buf_fini(&b);
        return rc == SL_ECORRUPT ? FIRST_BAD : rc < 0 ? rc : 1;
    }
    size_t want = end - pos < max_bytes ? (size_t)(end - pos) : max_bytes;
    if (want < first)
        want = first;
    int rc = sl_buf_reserve(out, want);
    if (rc)
        return rc;
    ssize_t got = sl_seg_read(s, pos, out->base + out->len, want);
    if (got < 0)
        return (int)got;
    bool corrupt;
    out->len += whole_batches(out->base + out->len, (size_t)got, want, limit, &corrupt);
    return corrupt ? FIRST_BAD : 1;
}

/* Reads from one segment. Returns 1 if done (batches appended, or nothing can follow), 0 when s holds
 * nothing at or after from (try the next segment), SL_EDAMAGED when from lies in a bad stretch (recorded as
 * a hole), or an error. The fast path walks headers from the index; whenever what it finds contradicts
 * itself or fails validation, walk_checked finds the batch holding from the slow, validated way. */
static int read_seg(struct sl_log *l, struct sl_seg *s, sl_offset_t from, size_t max_bytes, sl_offset_t limit,
                    struct sl_buf *out)
{
    uint64_t pos, end = sl_seg_size(s);
    sl_offset_t floor_base;
    uint64_t floor = resume_floor(l, s, from, &floor_base);
    struct read_reach r = {{from, 0}, false};
    struct sl_batch_hdr h;
    sl_seg_locate(s, from, &pos, &r.r.next);
    if (floor > pos) {
        pos = floor;
        r.r.next = floor_base;
    }
    int rc = sl_seg_scan(s, pos, end, on_read_reaches, &r, &pos, &h);
    bool slow = rc == SL_ECORRUPT || (rc == 0 && r.gap) || (rc == 1 && pos != end);
    if (rc == 0 && !slow && (rc = serve(s, pos, end, &h, max_bytes, limit, out)) != FIRST_BAD)
        return rc;
    if (slow || rc == FIRST_BAD)
        rc = walk_checked(l, s, from, end, &pos, &h);
    if (rc)
        return rc == 1 ? 0 : rc;
    rc = serve(s, pos, end, &h, max_bytes, limit, out);
    return rc == FIRST_BAD ? note_damage(l, s, pos, h.base_offset, "bad CRC") : rc;
}

int sl_log_read(struct sl_log *l, sl_offset_t from, size_t max_bytes, sl_offset_t upto, struct sl_buf *out)
{
    sl_offset_t leo = __atomic_load_n(&l->leo, __ATOMIC_ACQUIRE);
    if (from < __atomic_load_n(&l->start, __ATOMIC_ACQUIRE) || from > leo)
        return SL_EOFFSET;
    sl_offset_t limit = upto < leo ? upto : leo;
    if (from >= limit)
        return 0;
    pthread_mutex_lock(&l->mu);
    bool damaged = hole_find(l, from, NULL);
    pthread_mutex_unlock(&l->mu);
    if (damaged)
        return SL_EDAMAGED;
    struct sl_seg *s = get_seg(l, from, NULL);
    int rc = 0;
    while (s) {
        rc = read_seg(l, s, from, max_bytes, limit, out);
        struct sl_seg *next = rc == 0 ? get_seg(l, from, s) : NULL;
        sl_seg_unref(s);
        s = next;
    }
    return rc < 0 ? rc : 0;
}

size_t sl_log_damage(struct sl_log *l, struct sl_log_damage *out, size_t max)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->nholes;
    for (size_t i = 0; i < n && i < max; i++) {
        out[i].from = l->holes[i].from;
        out[i].to = l->holes[i].to;
        snprintf(out[i].why, sizeof out[i].why, "%s", l->holes[i].why);
    }
    pthread_mutex_unlock(&l->mu);
    return n;
}

int sl_log_damage_at(struct sl_log *l, sl_offset_t off, struct sl_log_damage *out)
{
    struct sl_hole h;
    pthread_mutex_lock(&l->mu);
    bool found = hole_find(l, off, &h);
    pthread_mutex_unlock(&l->mu);
    if (!found)
        return -ENOENT;
    out->from = h.from;
    out->to = h.to;
    snprintf(out->why, sizeof out->why, "%s", h.why);
    return 0;
}

static bool on_ts_reaches(const struct sl_batch_hdr *h, void *arg)
{
    return h->max_timestamp >= *(const int64_t *)arg;
}

/* The first offset with timestamp >= ts in the batch h at pos of s. */
static int first_in_batch(struct sl_seg *s, uint64_t pos, const struct sl_batch_hdr *h, int64_t ts,
                          sl_offset_t *out)
{
    size_t n = (size_t)h->length + SL_BATCH_LOG_OVERHEAD;
    uint8_t *b = malloc(n);
    if (!b)
        return -ENOMEM;
    struct sl_batch_iter it;
    struct sl_record r;
    int rc = sl_seg_read(s, pos, b, n) == (ssize_t)n ? sl_batch_iter_init(&it, b, n) : -EIO;
    *out = h->base_offset + h->last_offset_delta;
    while (rc == 0 && (rc = sl_batch_iter_next(&it, &r)) == 1) {
        if (r.timestamp >= ts) {
            *out = r.offset;
            break;
        }
        rc = 0;
    }
    free(b);
    return rc < 0 ? rc : 0;
}

int sl_log_offset_for_time(struct sl_log *l, int64_t ts, sl_offset_t *out)
{
    struct sl_seg *s = NULL;
    sl_offset_t leo = __atomic_load_n(&l->leo, __ATOMIC_ACQUIRE);
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->nsegs && !s; i++)
        if (sl_seg_max_ts(l->segs[i]) >= ts && l->segs[i]->base < leo)
            sl_seg_ref(s = l->segs[i]);
    pthread_mutex_unlock(&l->mu);
    *out = leo;
    if (!s)
        return 0;
    struct sl_tidx_entry te = {0, 0};
    pthread_mutex_lock(&s->idx_mu);
    sl_idx_tlookup(&s->idx, ts, &te);
    pthread_mutex_unlock(&s->idx_mu);
    uint64_t pos;
    sl_offset_t at;
    struct sl_batch_hdr h;
    sl_seg_locate(s, s->base + te.rel, &pos, &at);
    int rc = sl_seg_scan(s, pos, sl_seg_size(s), on_ts_reaches, &ts, &pos, &h);
    if (rc == 0 && h.base_offset < leo)
        rc = first_in_batch(s, pos, &h, ts, out);
    sl_seg_unref(s);
    sl_offset_t start = __atomic_load_n(&l->start, __ATOMIC_ACQUIRE);
    if (*out < start)
        *out = start;
    return rc < 0 ? rc : 0;
}
