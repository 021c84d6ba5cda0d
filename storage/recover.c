/* Recovery at open (see recover.h for the rules and what is validated).
 *
 * INVARIANTS
 *   1. After sl_recover_dir every returned segment holds, below its size, only batches that passed
 *      sl_batch_validate (in the validated ranges) and the corrupt stretches named by the holes; offsets
 *      increase across segments, and every offset between two segments is inside a hole.
 *   2. A cut never happens because of a bad index: an index entry whose batch does not carry the expected
 *      base offset makes that segment's index rebuilt from byte 0 instead.
 *   3. Nothing is unlinked but a tail that fails validation with nothing valid after it (copied into
 *      quarantine/ first when a CRC-valid batch sits in it), empty files, and segments wholly below a log
 *      start that the checkpoint and the files agree on.
 *
 * FAILURE MODES: -errno from the file layer aborts recovery (the segments opened so far are released),
 *   except index writes failing for lack of space (out->write_err). */
#include "storage/recover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static sl_offset_t be64(const uint8_t *p)
{
    return (sl_offset_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static void say(const struct sl_reporter *lg, enum sl_level lv, const char *msg)
{
    if (lg && lg->fn)
        lg->fn(lg->ctx, lv, msg);
}

static const char *base_name(const struct sl_seg *s)
{
    const char *name = strrchr(s->prefix, '/');
    return name ? name + 1 : s->prefix;
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

/* Whether the header at p could start a batch of s at file position pos (cheap checks before the CRC). */
static bool plausible(const struct sl_seg *s, const uint8_t *p, uint64_t pos, uint64_t end, sl_offset_t min_base)
{
    uint32_t len = be32(p + 8);
    sl_offset_t base = be64(p);
    int32_t delta = (int32_t)be32(p + 23);
    if (p[16] != SL_BATCH_MAGIC || len < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD || len > INT32_MAX)
        return false;
    uint64_t total = (uint64_t)len + SL_BATCH_LOG_OVERHEAD;
    return total <= end - pos && pos + total <= UINT32_MAX && base >= min_base && base >= s->base && delta >= 0 &&
           (uint64_t)(base - s->base) + (uint64_t)delta <= UINT32_MAX;
}

int sl_recover_resync(struct sl_seg *s, uint64_t pos, uint64_t end, sl_offset_t min_base, uint64_t *q,
                      struct sl_batch_hdr *h)
{
    struct window w = {0};
    int rc = 1;
    for (; pos + SL_BATCH_HEADER_SIZE <= end; pos++) {
        int wrc = window_get(s, &w, pos, SL_BATCH_HEADER_SIZE, end);
        if (wrc) {
            rc = wrc;
            break;
        }
        if (!plausible(s, w.buf + (pos - w.pos), pos, end, min_base))
            continue;
        uint64_t total = (uint64_t)be32(w.buf + (pos - w.pos) + 8) + SL_BATCH_LOG_OVERHEAD;
        if ((wrc = window_get(s, &w, pos, total, end))) {
            rc = wrc;
            break;
        }
        const uint8_t *p = w.buf + (pos - w.pos);
        if (sl_batch_validate(p, (size_t)total) == 0) {
            sl_batch_hdr_decode(p, SL_BATCH_HEADER_SIZE, h);
            *q = pos;
            rc = 0;
            break;
        }
    }
    free(w.buf);
    return rc;
}

static int hole_push(struct sl_hole **v, size_t *n, const struct sl_hole *h)
{
    struct sl_hole *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    nv[(*n)++] = *h;
    *v = nv;
    return 0;
}

/* The corrupt stretch at pos: resynchronizes at the next valid batch (a hole; next_pos and expect advance)
 * or, when none follows, marks a bad tail. Returns 0, or -errno. */
static int skip_damage(struct sl_seg *s, uint64_t pos, uint64_t file_end, sl_offset_t *expect, uint64_t *next_pos,
                       struct sl_recover_cut *cut, struct sl_hole **holes, size_t *nholes)
{
    uint64_t q;
    struct sl_batch_hdr h;
    int rc = sl_recover_resync(s, pos, file_end, *expect, &q, &h);
    if (rc < 0)
        return rc;
    s->damaged = true;
    if (rc == 1) {
        cut->bad_tail = true;
        cut->bytes = file_end - pos;
        return 0;
    }
    sl_offset_t to = h.base_offset;
    if (q == pos) { /* CRC-valid but not the expected offset: the baseOffset (outside the CRC) went bad */
        to = *expect + h.last_offset_delta + 1;
        q = pos + (uint64_t)h.length + SL_BATCH_LOG_OVERHEAD;
    }
    struct sl_hole hole = {*expect, to, s->base, q, ""};
    snprintf(hole.why, sizeof hole.why, "%.60s in %.24s.log at byte %" PRIu64 " (%" PRIu64 " bytes skipped)",
             cut->reason, base_name(s), pos, q - pos);
    if ((rc = hole_push(holes, nholes, &hole)))
        return rc;
    s->size = q; /* the skipped bytes stay in the file, inside the segment, never served */
    s->since_index = UINT64_MAX / 2; /* forces an index entry at q, where reads past the hole start */
    *expect = to;
    *next_pos = q;
    return 0;
}

/* Validates the batch at pos; returns its size (0: invalid, reason in cut->reason) and header in *h. */
static int batch_at(struct sl_seg *s, struct window *w, uint64_t pos, uint64_t file_end, sl_offset_t expect,
                    struct sl_recover_cut *cut, struct sl_batch_hdr *h, uint64_t *total)
{
    uint64_t need = file_end - pos < SL_BATCH_HEADER_SIZE ? file_end - pos : SL_BATCH_HEADER_SIZE;
    int rc = window_get(s, w, pos, need, file_end);
    if (rc)
        return rc;
    const uint8_t *p = w->buf + (pos - w->pos);
    if (need == SL_BATCH_HEADER_SIZE) {
        uint64_t want = (uint64_t)be32(p + 8) + SL_BATCH_LOG_OVERHEAD;
        if (want <= file_end - pos && want <= (uint64_t)INT32_MAX + SL_BATCH_LOG_OVERHEAD) {
            if ((rc = window_get(s, w, pos, want, file_end)))
                return rc;
            p = w->buf + (pos - w->pos);
        }
    }
    *total = check_batch(p, file_end - pos, expect, cut->reason, sizeof cut->reason);
    if (*total && (sl_batch_hdr_decode(p, SL_BATCH_HEADER_SIZE, h) || pos + *total > UINT32_MAX ||
                   h->base_offset + h->last_offset_delta - s->base > UINT32_MAX)) {
        snprintf(cut->reason, sizeof cut->reason, "segment over 4 GiB");
        *total = 0;
    }
    return 0;
}

int sl_recover_segment(struct sl_seg *s, uint64_t pos, sl_offset_t expect, uint32_t interval, sl_offset_t tail_from,
                       bool cut_tail, struct sl_recover_cut *cut, struct sl_hole **holes, size_t *nholes)
{
    struct window w = {0};
    uint64_t file_end;
    memset(cut, 0, sizeof *cut);
    int rc = sl_seg_file_size(s, &file_end);
    while (rc == 0 && pos < file_end) {
        struct sl_batch_hdr h;
        uint64_t total;
        if ((rc = batch_at(s, &w, pos, file_end, expect, cut, &h, &total)))
            break;
        if (total == 0 && expect >= tail_from) {
            cut->bad_tail = true;
            cut->bytes = file_end - pos;
            break;
        }
        if (total == 0) {
            rc = skip_damage(s, pos, file_end, &expect, &pos, cut, holes, nholes);
            if (rc || cut->bad_tail)
                break;
            continue;
        }
        if ((rc = sl_seg_note_batch(s, &h, total, interval)))
            break;
        expect = h.base_offset + h.last_offset_delta + 1;
        pos += total;
    }
    free(w.buf);
    cut->pos = pos;
    if (rc == 0 && cut->bad_tail && cut_tail) {
        cut->cut = true;
        rc = sl_seg_file_truncate(s, pos);
    }
    return rc;
}

/* ---- quarantine ---- */

static int join(char *buf, size_t n, const char *a, const char *b, const char *c)
{
    int w = snprintf(buf, n, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* A free path quarantine/<name>[.N] under dir, in buf. */
static int free_slot(const struct sl_fileops *fo, const char *dir, const char *name, char *buf, size_t n)
{
    char qd[4200];
    int rc = join(qd, sizeof qd, dir, SL_QUARANTINE_DIR, NULL);
    if (rc == 0 && (rc = fo->mkdir(qd, 0755)) == -EEXIST)
        rc = 0;
    for (unsigned i = 0; rc == 0; i++) {
        int w = i ? snprintf(buf, n, "%s/%s.%u", qd, name, i) : snprintf(buf, n, "%s/%s", qd, name);
        if (w < 0 || (size_t)w >= n)
            return -ENAMETOOLONG;
        int fd = fo->open(buf, O_RDONLY, 0);
        if (fd == -ENOENT)
            return 0;
        if (fd < 0)
            return fd;
        fo->close(fd);
    }
    return rc;
}

int sl_recover_quarantine(const struct sl_fileops *fo, const char *dir, const char *name)
{
    char from[4200], to[4200], qd[4200];
    int rc = join(from, sizeof from, dir, name, NULL);
    if (rc == 0)
        rc = free_slot(fo, dir, name, to, sizeof to);
    if (rc == 0)
        rc = fo->rename(from, to);
    if (rc == 0)
        rc = join(qd, sizeof qd, dir, SL_QUARANTINE_DIR, NULL);
    if (rc == 0)
        rc = fo->fsync_dir(qd);
    if (rc == 0)
        rc = fo->fsync_dir(dir);
    return rc;
}

/* Copies bytes [pos, end) of s into quarantine/<name>.tail-<pos> (durably). Returns 0 or -errno. */
static int save_tail(struct sl_seg *s, const char *dir, uint64_t pos, uint64_t end)
{
    char name[64], path[4200];
    snprintf(name, sizeof name, "%s.log.tail-%" PRIu64, base_name(s), pos);
    int rc = free_slot(s->fo, dir, name, path, sizeof path);
    if (rc)
        return rc;
    int fd = s->fo->open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return fd;
    uint8_t *buf = malloc(SCAN_CHUNK);
    rc = buf ? 0 : -ENOMEM;
    for (uint64_t at = pos; rc == 0 && at < end;) {
        size_t want = end - at < SCAN_CHUNK ? (size_t)(end - at) : SCAN_CHUNK;
        ssize_t r = sl_seg_read(s, at, buf, want);
        rc = r <= 0 ? (r < 0 ? (int)r : -EIO) : s->fo->pwrite(fd, buf, (size_t)r, at - pos);
        at += r > 0 ? (uint64_t)r : 0;
    }
    free(buf);
    if (rc == 0)
        rc = s->fo->fdatasync(fd);
    s->fo->close(fd);
    return rc;
}

/* ---- the directory ---- */

static void report_add(struct sl_buf *r, const char *line)
{
    if (r->len && r->base[r->len - 1] == '\0')
        r->len--;
    if (r->len)
        sl_buf_append(r, "; ", 2);
    sl_buf_append(r, line, strlen(line) + 1);
}

static int cmp_off(const void *a, const void *b)
{
    sl_offset_t x = *(const sl_offset_t *)a, y = *(const sl_offset_t *)b;
    return x < y ? -1 : x > y;
}

static bool is_seg_name(const char *nm, const char *ext)
{
    return strlen(nm) == SL_SEG_NAME_LEN + 1 + strlen(ext) && nm[SL_SEG_NAME_LEN] == '.' &&
           strcmp(nm + SL_SEG_NAME_LEN + 1, ext) == 0 && strspn(nm, "0123456789") == SL_SEG_NAME_LEN &&
           strtoull(nm, NULL, 10) <= INT64_MAX;
}

/* Files of the partition other than segments, which recovery leaves alone. */
static bool is_own_file(const char *nm)
{
    static const char *const own[] = {".", "..", "partition.ckpt", "leader-epoch-checkpoint", "topic.id",
                                      SL_QUARANTINE_DIR};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (!strcmp(nm, own[i]))
            return true;
    size_t n = strlen(nm);
    return (n > 4 && !strcmp(nm + n - 4, ".tmp")) || is_seg_name(nm, "index") || is_seg_name(nm, "timeindex");
}

/* The base offsets of every "<20 digits>.log" in dir, sorted; every other unknown file is quarantined. */
static int list_bases(const char *dir, const struct sl_fileops *fo, sl_offset_t **out, size_t *n,
                      struct sl_recover_out *o, struct sl_buf *report)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    sl_offset_t *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        const char *nm = de->d_name;
        if (!is_seg_name(nm, "log")) {
            if (is_own_file(nm))
                continue;
            char line[400];
            rc = sl_recover_quarantine(fo, dir, nm);
            snprintf(line, sizeof line, "quarantined %.256s (not a file of this partition)", nm);
            report_add(report, line);
            o->quarantined++;
            continue;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            sl_offset_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
        }
        v[cnt++] = (sl_offset_t)strtoull(nm, NULL, 10);
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

/* Where validation of s starts: the index entry at or before the recovery point (or the last one when s is
 * wholly below it), or byte 0. Returns whether an entry is used. */
static bool start_entry(const struct sl_recover_cfg *c, struct sl_seg *s, sl_offset_t next_base, bool last,
                        struct sl_idx_entry *e)
{
    bool full = !c->have_ckpt || s->base >= c->recovery_point, have = false;
    bool holds_rp = !full && (last || next_base > c->recovery_point);
    if (full)
        return false;
    int rc = sl_seg_load_index(s);
    if (rc == 0) {
        pthread_mutex_lock(&s->idx_mu);
        if (holds_rp)
            have = sl_idx_lookup(&s->idx, (uint32_t)(c->recovery_point - s->base), e);
        else if ((have = s->idx.n > 0))
            *e = s->idx.e[s->idx.n - 1];
        pthread_mutex_unlock(&s->idx_mu);
        if (have && !entry_ok(s, *e))
            rc = SL_ECORRUPT;
    }
    if (rc) {
        char msg[256];
        snprintf(msg, sizeof msg, "rebuilding indexes of %s.log (%s)", s->prefix, sl_strerror(rc));
        say(c->reporter, SL_LEVEL_INFO, msg);
        have = false;
    }
    return have;
}

static bool no_space(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT || rc == -EROFS;
}

/* Recovers segment s; 'last' says whether it is the last candidate. Fills *cut, appends holes. */
static int recover_one(const struct sl_recover_cfg *c, struct sl_seg *s, sl_offset_t next_base, bool last,
                       struct sl_recover_cut *cut, struct sl_recover_out *o)
{
    struct sl_idx_entry e = {0, 0};
    bool have = start_entry(c, s, next_base, last, &e);
    if (!have)
        e = (struct sl_idx_entry){0, 0};
    rewind_to(s, have, e);
    uint32_t n0 = s->idx.n, tn0 = s->idx.tn;
    sl_offset_t tail_from = c->have_ckpt ? c->recovery_point : INT64_MAX;
    int rc = sl_recover_segment(s, e.pos, s->base + e.rel, c->index_interval, tail_from, false, cut, &o->holes,
                                &o->nholes);
    if (rc == 0 && (!have || s->idx.n != n0 || s->idx.tn != tn0 || cut->bad_tail || s->damaged)) {
        rc = sl_seg_write_index(s);
        if (no_space(rc)) {
            if (!o->write_err)
                o->write_err = rc;
            rc = 0;
        }
    }
    return rc;
}

/* Cuts the bad tail of the last segment (saving it first when a CRC-valid batch sits in it). */
static int cut_tail(const struct sl_recover_cfg *c, struct sl_seg *s, struct sl_recover_cut *cut,
                    struct sl_buf *report)
{
    uint64_t end = cut->pos + cut->bytes, q;
    struct sl_batch_hdr h;
    char line[400];
    int rc = sl_recover_resync(s, cut->pos, end, INT64_MIN, &q, &h);
    bool saved = rc == 0;
    if (rc == 0)
        rc = save_tail(s, c->dir, cut->pos, end);
    if (rc == 1)
        rc = 0;
    if (rc == 0)
        rc = sl_seg_file_truncate(s, cut->pos);
    if (rc)
        return rc;
    cut->cut = true;
    snprintf(line, sizeof line, "cut %" PRIu64 " bytes at %s.log:%" PRIu64 " (%s)%s", cut->bytes, base_name(s),
             cut->pos, cut->reason, saved ? "; a copy is in " SL_QUARANTINE_DIR "/" : "");
    report_add(report, line);
    return 0;
}

/* The running state of sl_recover_dir's pass over the candidates. */
struct pass {
    const struct sl_recover_cfg *c;
    struct sl_recover_out *o;
    struct sl_buf *report;
    bool have_expect;
    bool ended;                /* damage past the recovery point ended the log: later files are not part of it */
    sl_offset_t expect;        /* where the next segment should start */
    char gap_why[128];         /* why the offsets after the previous segment are missing, "" = unknown */
    struct sl_recover_cut last_cut;
};

static int drop_seg(struct pass *ps, struct sl_seg *s, const char *why, bool quarantine)
{
    char line[400], name[SL_SEG_NAME_LEN + 8];
    snprintf(name, sizeof name, "%s.log", base_name(s));
    snprintf(line, sizeof line, "%s %s (%" PRIu64 " bytes, %s)", quarantine ? "quarantined" : "deleted", name,
             s->size, why);
    report_add(ps->report, line);
    int rc = 0;
    if (quarantine) {
        rc = sl_recover_quarantine(ps->c->fo, ps->c->dir, name);
        ps->o->quarantined++;
    }
    int drc = sl_seg_delete(s);
    sl_seg_unref(s);
    return rc ? rc : drc;
}

static int add_hole(struct pass *ps, sl_offset_t from, sl_offset_t to, const char *why)
{
    struct sl_hole h = {from, to, -1, 0, ""};
    snprintf(h.why, sizeof h.why, "%s", why);
    return hole_push(&ps->o->holes, &ps->o->nholes, &h);
}

static int keep_seg(struct pass *ps, struct sl_seg *s)
{
    struct sl_seg **v = realloc(ps->o->segs, (ps->o->n + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    v[ps->o->n++] = s;
    ps->o->segs = v;
    return 0;
}

/* One candidate segment file with base offset base ('next_base' of the following one, or INT64_MAX). */
static int pass_one(struct pass *ps, sl_offset_t base, sl_offset_t next_base)
{
    const struct sl_recover_cfg *c = ps->c;
    bool last = next_base == INT64_MAX;
    struct sl_seg *s;
    int rc = sl_seg_open(c->fo, c->dir, base, false, &s);
    if (rc)
        return rc;
    if (c->have_ckpt && !last && next_base <= c->log_start)
        return drop_seg(ps, s, "below the log start", false);
    if (ps->have_expect && base < ps->expect)
        return drop_seg(ps, s, "overlaps the segment before it", true);
    if (ps->have_expect && base > ps->expect && c->have_ckpt && ps->expect >= c->recovery_point)
        ps->ended = true; /* a gap past the recovery point: what follows was never synced in order */
    if (ps->ended)
        return drop_seg(ps, s, "past the end of the log", s->size > 0);
    struct sl_recover_cut cut;
    if ((rc = recover_one(c, s, next_base, last, &cut, ps->o))) {
        sl_seg_unref(s);
        return rc;
    }
    if (s->size == 0 && !last) {
        if (!ps->have_expect)
            ps->expect = base, ps->have_expect = true;
        snprintf(ps->gap_why, sizeof ps->gap_why, "%s.log %s", base_name(s),
                 cut.bad_tail ? "holds no valid batch" : "is empty");
        return drop_seg(ps, s, cut.bad_tail ? cut.reason : "empty", cut.bad_tail);
    }
    if (ps->have_expect && base > ps->expect) {
        char why[128];
        snprintf(why, sizeof why, "%s", ps->gap_why[0] ? ps->gap_why : "segment file missing");
        if ((rc = add_hole(ps, ps->expect, base, why))) {
            sl_seg_unref(s);
            return rc;
        }
    }
    if ((rc = keep_seg(ps, s))) {
        sl_seg_unref(s);
        return rc;
    }
    ps->expect = sl_seg_next(s);
    ps->have_expect = true;
    ps->last_cut = cut;
    ps->gap_why[0] = '\0';
    if (cut.bad_tail && c->have_ckpt && ps->expect >= c->recovery_point)
        ps->ended = true;
    if (cut.bad_tail)
        snprintf(ps->gap_why, sizeof ps->gap_why, "%s at the end of %s.log:%" PRIu64, cut.reason, base_name(s),
                 cut.pos);
    return 0;
}

/* After the pass: cut the bad tail of the last segment, account for synced records that are gone, and
 * make sure there is an active segment at the end offset. */
static int finish(struct pass *ps)
{
    const struct sl_recover_cfg *c = ps->c;
    struct sl_recover_out *o = ps->o;
    struct sl_seg *lastseg = o->n ? o->segs[o->n - 1] : NULL;
    int rc = 0;
    if (lastseg && ps->last_cut.bad_tail && (rc = cut_tail(c, lastseg, &ps->last_cut, ps->report)))
        return rc;
    o->end = lastseg ? sl_seg_next(lastseg) : ps->have_expect ? ps->expect : 0;
    if (c->have_ckpt && o->end < c->log_start)
        o->end = c->log_start;
    if (c->have_ckpt && c->recovery_point > o->end) {
        char why[128];
        snprintf(why, sizeof why, "records up to the recovery point %" PRId64 " were fsynced and are missing",
                 c->recovery_point);
        if ((rc = add_hole(ps, o->end, c->recovery_point, why)))
            return rc;
        o->end = c->recovery_point;
    }
    if (lastseg && sl_seg_next(lastseg) == o->end)
        return 0;
    if (lastseg && lastseg->size == 0) { /* an empty segment below the end holds nothing: replace it */
        o->n--;
        if ((rc = drop_seg(ps, lastseg, "empty", false)))
            return rc;
    }
    struct sl_seg *s;
    if ((rc = sl_seg_open(c->fo, c->dir, o->end, true, &s)))
        return rc;
    if ((rc = keep_seg(ps, s))) {
        sl_seg_unref(s);
        return rc;
    }
    return c->fo->fsync_dir(c->dir);
}

/* A checkpoint agrees with the files when its log start is the base of a segment (retention only ever
 * advances it to one) or there are none, and its recovery point is not below it. */
static bool ckpt_agrees(const struct sl_recover_cfg *c, const sl_offset_t *bases, size_t nb)
{
    if (c->recovery_point < c->log_start)
        return false;
    if (nb == 0)
        return true;
    for (size_t i = 0; i < nb; i++)
        if (bases[i] == c->log_start)
            return true;
    return false;
}

static void report_holes(const struct sl_recover_out *o, struct sl_buf *report)
{
    for (size_t i = 0; i < o->nholes; i++) {
        char line[300];
        snprintf(line, sizeof line, "damaged offsets [%" PRId64 ", %" PRId64 "): %s", o->holes[i].from,
                 o->holes[i].to, o->holes[i].why);
        report_add(report, line);
    }
}

int sl_recover_dir(const struct sl_recover_cfg *c0, struct sl_recover_out *out, struct sl_buf *report)
{
    struct sl_recover_cfg c = *c0;
    sl_offset_t *bases = NULL;
    size_t nb = 0;
    memset(out, 0, sizeof *out);
    int rc = list_bases(c.dir, c.fo, &bases, &nb, out, report);
    if (rc)
        return rc;
    if (c.have_ckpt && !ckpt_agrees(&c, bases, nb)) {
        char line[200];
        snprintf(line, sizeof line, "partition.ckpt (log start %" PRId64 ", recovery point %" PRId64
                 ") contradicts the segment files; rebuilt from them", c.log_start, c.recovery_point);
        report_add(report, line);
        c.have_ckpt = false;
        out->ckpt_ignored = true;
    }
    struct pass ps = {&c, out, report, c.have_ckpt, false, c.log_start, "", {0}};
    for (size_t i = 0; rc == 0 && i < nb; i++)
        rc = pass_one(&ps, bases[i], i + 1 < nb ? bases[i + 1] : INT64_MAX);
    if (rc == 0)
        rc = finish(&ps);
    out->log_start = c.have_ckpt ? c.log_start : out->n ? out->segs[0]->base : out->end;
    if (out->nholes && out->holes[0].from < out->log_start)
        out->log_start = out->holes[0].from;
    if (rc == 0)
        report_holes(out, report);
    if (report->len == 0)
        rc = rc ? rc : sl_buf_append(report, "", 1);
    free(bases);
    if (rc)
        sl_recover_out_fini(out);
    return rc;
}

void sl_recover_out_fini(struct sl_recover_out *out)
{
    for (size_t i = 0; i < out->n; i++)
        sl_seg_unref(out->segs[i]);
    free(out->segs);
    free(out->holes);
    memset(out, 0, sizeof *out);
}
