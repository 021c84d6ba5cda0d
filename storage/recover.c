/* Recovery at open (see recover.h for what is validated and why).
 *
 * INVARIANTS
 *   1. After sl_recover_dir every returned segment holds only batches that passed sl_batch_validate (in the
 *      validated ranges), with offsets dense across segments.
 *   2. A cut never happens because of a bad index: an index entry whose batch does not carry the expected
 *      base offset makes that segment's index rebuilt from byte 0 instead.
 *
 * FAILURE MODES: -errno from the file layer aborts recovery (the segments opened so far are released). */
#include "storage/recover.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/batch.h"
#include "storage/crc32c.h"
#include "storage/err.h"
#include "storage/log.h"

#define SCAN_CHUNK (1u << 20)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void say(const struct sl_logger *lg, enum sl_level lv, const char *msg)
{
    if (lg && lg->fn)
        lg->fn(lg->ctx, lv, msg);
}

/* Holds file bytes [pos, pos + len) of one segment. */
struct window {
    uint8_t *buf;
    size_t cap;
    uint64_t pos, len;
};

/* Makes [pos, pos + n) available in w (n <= file end - pos). Returns 0 or -errno/-ENOMEM. */
static int window_get(struct sl_seg *s, struct window *w, uint64_t pos, uint64_t n, uint64_t file_end)
{
    if (pos >= w->pos && pos + n <= w->pos + w->len)
        return 0;
    uint64_t want = file_end - pos < SCAN_CHUNK ? file_end - pos : SCAN_CHUNK;
    if (want < n)
        want = n;
    if (want > w->cap) {
        uint8_t *p = realloc(w->buf, (size_t)want);
        if (!p)
            return -ENOMEM;
        w->buf = p;
        w->cap = (size_t)want;
    }
    ssize_t r = sl_seg_read(s, pos, w->buf, (size_t)want);
    if (r < 0)
        return (int)r;
    w->pos = pos;
    w->len = (uint64_t)r;
    return w->len >= n ? 0 : -EIO;
}

/* Checks the batch at p (avail bytes of file left). Returns its total size, or 0 with a reason. */
static uint64_t check_batch(const uint8_t *p, uint64_t avail, sl_offset_t expect, char *why, size_t whyn)
{
    if (avail < SL_BATCH_HEADER_SIZE) {
        snprintf(why, whyn, "torn batch header");
        return 0;
    }
    uint32_t len = be32(p + 8);
    uint64_t total = (uint64_t)len + SL_BATCH_LOG_OVERHEAD;
    struct sl_batch_hdr h;
    if (len < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD || len > INT32_MAX ||
        sl_batch_hdr_decode(p, SL_BATCH_HEADER_SIZE, &h)) {
        snprintf(why, whyn, "bad batch length %" PRIu32, len);
        return 0;
    }
    if (h.magic != SL_BATCH_MAGIC) {
        snprintf(why, whyn, "bad magic %d", h.magic);
        return 0;
    }
    if (total > avail) {
        snprintf(why, whyn, "truncated batch");
        return 0;
    }
    if (h.base_offset != expect) {
        snprintf(why, whyn, "offset gap: expected %" PRId64 ", found %" PRId64, expect, h.base_offset);
        return 0;
    }
    if (sl_batch_validate(p, (size_t)total)) {
        bool crc_ok = sl_crc32c(0, p + 21, (size_t)total - 21) == h.crc;
        snprintf(why, whyn, crc_ok ? "bad record framing" : "bad CRC");
        return 0;
    }
    return total;
}

int sl_recover_segment(struct sl_seg *s, uint64_t pos, sl_offset_t expect, uint32_t interval,
                       struct sl_recover_cut *cut)
{
    struct window w = {0};
    uint64_t file_end;
    memset(cut, 0, sizeof *cut);
    int rc = s->fo->fsize(s->fd, &file_end);
    while (rc == 0 && pos < file_end) {
        uint64_t need = file_end - pos < SL_BATCH_HEADER_SIZE ? file_end - pos : SL_BATCH_HEADER_SIZE;
        if ((rc = window_get(s, &w, pos, need, file_end)))
            break;
        const uint8_t *p = w.buf + (pos - w.pos);
        uint64_t total;
        if (need == SL_BATCH_HEADER_SIZE) {
            uint64_t want = (uint64_t)be32(p + 8) + SL_BATCH_LOG_OVERHEAD;
            if (want <= file_end - pos && want <= (uint64_t)INT32_MAX + SL_BATCH_LOG_OVERHEAD) {
                if ((rc = window_get(s, &w, pos, want, file_end)))
                    break;
                p = w.buf + (pos - w.pos);
            }
        }
        total = check_batch(p, file_end - pos, expect, cut->reason, sizeof cut->reason);
        struct sl_batch_hdr h;
        if (total && (sl_batch_hdr_decode(p, SL_BATCH_HEADER_SIZE, &h) || pos + total > UINT32_MAX ||
                      h.base_offset + h.last_offset_delta - s->base > UINT32_MAX)) {
            snprintf(cut->reason, sizeof cut->reason, "segment over 4 GiB");
            total = 0;
        }
        if (total == 0) {
            cut->cut = true;
            cut->bytes = file_end - pos;
            break;
        }
        if ((rc = sl_seg_note_batch(s, &h, total, interval)))
            break;
        expect = h.base_offset + h.last_offset_delta + 1;
        pos += total;
    }
    free(w.buf);
    cut->pos = pos;
    if (rc == 0 && cut->cut)
        rc = s->fo->ftruncate(s->fd, pos);
    return rc;
}

static int cmp_off(const void *a, const void *b)
{
    sl_offset_t x = *(const sl_offset_t *)a, y = *(const sl_offset_t *)b;
    return x < y ? -1 : x > y;
}

/* The base offsets of every "<20 digits>.log" in dir, sorted. */
static int list_bases(const char *dir, sl_offset_t **out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    sl_offset_t *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (strlen(nm) != SL_SEG_NAME_LEN + 4 || strcmp(nm + SL_SEG_NAME_LEN, ".log") != 0 ||
            strspn(nm, "0123456789") != SL_SEG_NAME_LEN)
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            sl_offset_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
        }
        unsigned long long b = strtoull(nm, NULL, 10);
        if (b > INT64_MAX)
            continue;
        v[cnt++] = (sl_offset_t)b;
    }
    closedir(d);
    if (rc) {
        free(v);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_off);
    *out = v;
    *n = cnt;
    return 0;
}

static void report_add(struct sl_buf *r, const char *line)
{
    if (r->len && r->base[r->len - 1] == '\0')
        r->len--;
    if (r->len)
        sl_buf_append(r, "; ", 2);
    sl_buf_append(r, line, strlen(line) + 1);
}

/* Rewinds s to the batch at index entry e (or to byte 0 when !have): keeps entries up to it. */
static void rewind_to(struct sl_seg *s, bool have, struct sl_idx_entry e)
{
    if (!have)
        e = (struct sl_idx_entry){0, 0};
    pthread_mutex_lock(&s->idx_mu);
    if (have)
        sl_idx_truncate(&s->idx, e.rel + 1, (uint64_t)e.pos + 1);
    else
        sl_idx_clear(&s->idx);
    int64_t ts = sl_idx_last_ts(&s->idx);
    pthread_mutex_unlock(&s->idx_mu);
    s->size = e.pos;
    s->next = s->base + e.rel;
    s->max_ts = ts;
    s->since_index = 0;
}

/* True when the batch at e.pos carries base offset base + e.rel. */
static bool entry_ok(struct sl_seg *s, struct sl_idx_entry e)
{
    uint8_t hb[SL_BATCH_HEADER_SIZE];
    struct sl_batch_hdr h;
    if (sl_seg_read(s, e.pos, hb, sizeof hb) != (ssize_t)sizeof hb || sl_batch_hdr_decode(hb, sizeof hb, &h))
        return false;
    return h.base_offset == s->base + e.rel && h.magic == SL_BATCH_MAGIC;
}

/* Recovers segment s; 'last' says whether it is the last one. Fills *cut. */
static int recover_one(const struct sl_recover_cfg *c, struct sl_seg *s, sl_offset_t next_base, bool last,
                       struct sl_recover_cut *cut)
{
    bool full = !c->have_ckpt || s->base >= c->recovery_point, have = false;
    bool holds_rp = !full && (last || next_base > c->recovery_point);
    struct sl_idx_entry e = {0, 0};
    char msg[256];
    if (!full) {
        int rc = sl_seg_load_index(s);
        if (rc == 0) {
            pthread_mutex_lock(&s->idx_mu);
            if (holds_rp)
                have = sl_idx_lookup(&s->idx, (uint32_t)(c->recovery_point - s->base), &e);
            else if ((have = s->idx.n > 0))
                e = s->idx.e[s->idx.n - 1];
            pthread_mutex_unlock(&s->idx_mu);
            if (have && !entry_ok(s, e))
                rc = SL_ECORRUPT;
        }
        if (rc) {
            snprintf(msg, sizeof msg, "rebuilding indexes of %s.log (%s)", s->prefix, sl_strerror(rc));
            say(c->logger, SL_LOG_INFO, msg);
            have = false;
        }
    }
    if (!have)
        e = (struct sl_idx_entry){0, 0};
    rewind_to(s, have, e);
    uint32_t n0 = s->idx.n, tn0 = s->idx.tn;
    int rc = sl_recover_segment(s, e.pos, s->base + e.rel, c->index_interval, cut);
    if (rc == 0 && (full || !have || s->idx.n != n0 || s->idx.tn != tn0 || cut->cut))
        rc = sl_seg_write_index(s);
    return rc;
}

static int delete_seg(struct sl_seg *s, struct sl_buf *report, const char *why)
{
    char line[256];
    const char *name = strrchr(s->prefix, '/');
    snprintf(line, sizeof line, "deleted %s.log (%" PRIu64 " bytes, %s)", name ? name + 1 : s->prefix,
             s->size, why);
    report_add(report, line);
    int rc = sl_seg_delete(s);
    sl_seg_unref(s);
    return rc;
}

static void report_cut(struct sl_seg *s, const struct sl_recover_cut *cut, struct sl_buf *report)
{
    char line[320];
    const char *name = strrchr(s->prefix, '/');
    snprintf(line, sizeof line, "cut %" PRIu64 " bytes at %s.log:%" PRIu64 " (%s)", cut->bytes,
             name ? name + 1 : s->prefix, cut->pos, cut->reason);
    report_add(report, line);
}

/* Recovers segs[0..n) in order; deletes everything after a cut or an offset discontinuity. *n shrinks. */
static int recover_all(const struct sl_recover_cfg *c, struct sl_seg **segs, size_t *n, struct sl_buf *report)
{
    size_t i = 0, cnt = *n;
    int rc = 0;
    for (; i < cnt && rc == 0; i++) {
        struct sl_recover_cut cut;
        bool last = i + 1 == cnt;
        rc = recover_one(c, segs[i], last ? INT64_MAX : segs[i + 1]->base, last, &cut);
        if (rc)
            break;
        if (cut.cut)
            report_cut(segs[i], &cut, report);
        if (!last && (cut.cut || segs[i + 1]->base != segs[i]->next)) {
            const char *why = cut.cut ? "after a cut" : "offset discontinuity";
            for (size_t j = i + 1; j < cnt; j++) {
                int drc = delete_seg(segs[j], report, why);
                if (rc == 0)
                    rc = drc;
            }
            cnt = i + 1;
        }
    }
    *n = cnt;
    return rc;
}

int sl_recover_dir(const struct sl_recover_cfg *c, struct sl_seg ***segs_out, size_t *n_out,
                   struct sl_buf *report)
{
    sl_offset_t *bases = NULL;
    size_t nb = 0, n = 0;
    struct sl_seg **segs = NULL;
    int rc = list_bases(c->dir, &bases, &nb);
    if (rc)
        return rc;
    if (nb && !(segs = calloc(nb, sizeof *segs)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < nb; i++) {
        /* Wholly below the log start: retention deleted it but crashed before the unlink. */
        if (i + 1 < nb && bases[i + 1] <= c->log_start) {
            struct sl_seg *s;
            if ((rc = sl_seg_open(c->fo, c->dir, bases[i], false, &s)) == 0)
                rc = delete_seg(s, report, "below the log start");
            continue;
        }
        rc = sl_seg_open(c->fo, c->dir, bases[i], false, &segs[n]);
        if (rc == 0)
            n++;
    }
    if (rc == 0)
        rc = recover_all(c, segs, &n, report);
    if (report->len == 0)
        rc = rc ? rc : sl_buf_append(report, "", 1);
    free(bases);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            sl_seg_unref(segs[i]);
        free(segs);
        return rc;
    }
    *segs_out = segs;
    *n_out = n;
    return 0;
}
