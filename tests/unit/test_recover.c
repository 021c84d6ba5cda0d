/* Recovery at sl_log_open (storage/recover.c), black box through storage/log.h: torn tails above the
 * recovery point cut at every byte, a corrupt batch above it cuts the log there (later segments moved into
 * quarantine/), damage below it or without a checkpoint kept as a reported hole with both sides readable,
 * stray files quarantined, contradicting checkpoints rebuilt, missing or garbage index files rebuilt.
 *
 * Each test builds a log of deterministic batches (tests/support/logcheck.h) across several small segments,
 * damages the closed directory with plain POSIX calls, reopens it and compares with what was appended.
 * "Stale checkpoint" variants put back a partition.ckpt saved while the log was open, before the damaged
 * batches were synced: the state a crash leaves, where the damage lies above the recovery point. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/batch.h"
#include "storage/err.h"
#include "storage/log.h"
#include "tests/support/logcheck.h"
#include "tests/support/testutil.h"

#define NBATCHES 30
#define MAXSEGS 64

static char *tmp;  /* fixture temp dir */
static char *pdir; /* the partition directory inside it */

static void setup(void)
{
    tmp = sl_test_tmpdir();
    pdir = sl_test_path(tmp, "t-0");
    sl_test_clock_set(SL_TLOG_T0);
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(pdir);
    free(tmp);
}

/* ---- log helpers ---- */

static struct sl_log *open_ok(const char *d)
{
    struct sl_log_cfg cfg;
    struct sl_log *l = NULL;
    sl_log_cfg_defaults(&cfg, d);
    cfg.now_ms = sl_test_clock_now;
    cfg.segment_bytes = 1536;
    cfg.index_interval_bytes = 256;
    int rc = sl_log_open(&cfg, &l);
    ck_assert_msg(rc == 0, "sl_log_open(%s) = %s", d, sl_errname(rc));
    return l;
}

static void close_ok(struct sl_log *l)
{
    int rc = sl_log_close(l);
    ck_assert_msg(rc == 0, "sl_log_close = %s", sl_errname(rc));
}

static sl_offset_t append_ok(struct sl_log *l)
{
    sl_offset_t base, last;
    int rc = sl_tlog_append(l, 0, &base, &last);
    ck_assert_msg(rc == 0, "append at %" PRId64 " = %s", base, sl_errname(rc));
    return base;
}

static void sync_ok(struct sl_log *l)
{
    sl_offset_t durable = -1;
    int rc = sl_log_sync(l, &durable);
    ck_assert_msg(rc == 0, "sl_log_sync = %s", sl_errname(rc));
    ck_assert_int_eq(durable, sl_log_end(l));
}

static void check_exact(struct sl_log *l, sl_offset_t leo)
{
    char why[512];
    ck_assert_msg(sl_tlog_check(l, 0, leo, leo, why, sizeof why) == 0, "%s [%s]", why, sl_log_recovery_report(l));
    ck_assert_int_eq(sl_log_end(l), leo);
}

/* Reads every offset of [0, full): offsets in [from, to) give SL_EDAMAGED naming exactly that range, every
 * other one comes back in a batch that passes its CRC, with offsets dense on each side of the hole. */
static void check_hole(struct sl_log *l, sl_offset_t from, sl_offset_t to, sl_offset_t full)
{
    struct sl_buf out = {0};
    struct sl_log_damage d;
    ck_assert_int_eq(sl_log_end(l), full);
    sl_offset_t o = sl_log_start(l);
    while (o < full) {
        out.len = 0;
        int rc = sl_log_read(l, o, 1 << 20, INT64_MAX, &out);
        if (o >= from && o < to) {
            ck_assert_msg(rc == SL_EDAMAGED, "read(%" PRId64 ") in the hole = %s", o, sl_errname(rc));
            ck_assert_int_eq(sl_log_damage_at(l, o, &d), 0);
            ck_assert_msg(d.from == from && d.to == to, "hole [%" PRId64 ", %" PRId64 "), want [%" PRId64 ", %" PRId64 ")",
                          d.from, d.to, from, to);
            o = to;
            continue;
        }
        ck_assert_msg(rc == 0 && out.len > 0, "read(%" PRId64 ") = %s, %zu bytes [%s]", o, sl_errname(rc), out.len,
                      sl_log_recovery_report(l));
        for (size_t pos = 0; pos < out.len;) {
            struct sl_batch_hdr h;
            ck_assert_int_eq(sl_batch_hdr_decode(out.base + pos, out.len - pos, &h), 0);
            size_t n = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
            ck_assert_int_eq(sl_batch_validate(out.base + pos, n), 0);
            ck_assert_int_le(h.base_offset, o);
            ck_assert_int_gt(h.base_offset + h.last_offset_delta, o - 1);
            o = h.base_offset + h.last_offset_delta + 1;
            pos += n;
        }
    }
    sl_buf_fini(&out);
    size_t n = sl_log_damage(l, &d, 1);
    ck_assert_uint_eq(n, from < to ? 1 : 0);
    const char *rep = sl_log_recovery_report(l);
    if (from < to) /* reported by recovery, or (in a segment open does not re-read) by the read that met it */
        ck_assert_msg(strstr(rep, "damaged offsets") || strstr(d.why, "found by a read"),
                      "hole not reported: \"%s\" / \"%s\"", rep, d.why);
}

/* ---- file helpers (plain POSIX: this is the damage, not the code under test) ---- */

static void read_file(const char *path, struct sl_buf *out)
{
    int fd = open(path, O_RDONLY);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    struct stat st;
    ck_assert(fstat(fd, &st) == 0);
    out->len = 0;
    ck_assert(sl_buf_reserve(out, (size_t)st.st_size + 1) == 0);
    ck_assert(pread(fd, out->base, (size_t)st.st_size, 0) == st.st_size);
    out->len = (size_t)st.st_size;
    close(fd);
}

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    ck_assert(write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the files in d ending with suffix (all regular files when suffix is ""). */
static int list_files(const char *d, const char *suffix, char **names, int max)
{
    DIR *dh = opendir(d);
    ck_assert_msg(dh != NULL, "opendir %s: %s", d, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, suffix))
            continue;
        ck_assert(n < max);
        names[n++] = strdup(e->d_name);
    }
    closedir(dh);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    return n;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
}

static void copy_dir(const char *src, const char *dst)
{
    char *names[256];
    struct sl_buf buf = {0};
    sl_test_rmrf(dst);
    ck_assert(mkdir(dst, 0755) == 0);
    int n = list_files(src, "", names, 256);
    for (int i = 0; i < n; i++) {
        char *from = sl_test_path(src, names[i]), *to = sl_test_path(dst, names[i]);
        read_file(from, &buf);
        write_file(to, buf.base, buf.len);
        free(from);
        free(to);
    }
    free_names(names, n);
    sl_buf_fini(&buf);
}

static bool file_exists(const char *d, const char *name)
{
    char *p = sl_test_path(d, name);
    bool ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

/* The segment 'name' was cut to 'pos' bytes (an empty segment may also be gone altogether). */
static void assert_cut_to(const char *d, const char *name, uint64_t pos)
{
    char *p = sl_test_path(d, name);
    struct stat st;
    int rc = stat(p, &st);
    free(p);
    if (rc != 0 && errno == ENOENT && pos == 0)
        return;
    ck_assert_msg(rc == 0, "stat %s: %s", name, strerror(errno));
    ck_assert_msg((uint64_t)st.st_size == pos, "%s is %jd bytes after recovery, want %" PRIu64, name,
                  (intmax_t)st.st_size, pos);
}

static uint64_t file_size(const char *d, const char *name)
{
    char *p = sl_test_path(d, name);
    struct stat st;
    ck_assert_msg(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
    free(p);
    return (uint64_t)st.st_size;
}

/* ---- the on-disk layout, parsed independently of the engine ---- */

struct seg {
    char name[64];
    int first_batch, nbatches;
};

struct bat {
    int seg;
    uint64_t pos;
    uint32_t size;
    sl_offset_t base;
};

struct layout {
    struct seg segs[MAXSEGS];
    struct bat bats[256];
    int nsegs, nbats;
};

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void parse_layout(const char *d, struct layout *lay)
{
    char *names[MAXSEGS];
    struct sl_buf buf = {0};
    memset(lay, 0, sizeof *lay);
    lay->nsegs = list_files(d, ".log", names, MAXSEGS);
    for (int s = 0; s < lay->nsegs; s++) {
        char *p = sl_test_path(d, names[s]);
        snprintf(lay->segs[s].name, sizeof lay->segs[s].name, "%s", names[s]);
        lay->segs[s].first_batch = lay->nbats;
        read_file(p, &buf);
        uint64_t pos = 0;
        while (pos + SL_BATCH_LOG_OVERHEAD <= buf.len) {
            struct bat *b = &lay->bats[lay->nbats++];
            b->seg = s;
            b->pos = pos;
            b->base = (sl_offset_t)be64(buf.base + pos);
            b->size = (uint32_t)(((uint32_t)buf.base[pos + 8] << 24 | (uint32_t)buf.base[pos + 9] << 16 |
                                  (uint32_t)buf.base[pos + 10] << 8 | buf.base[pos + 11]) +
                                 SL_BATCH_LOG_OVERHEAD);
            pos += b->size;
        }
        ck_assert_msg(pos == buf.len, "%s does not end on a batch boundary", names[s]);
        lay->segs[s].nbatches = lay->nbats - lay->segs[s].first_batch;
        free(p);
    }
    free_names(names, lay->nsegs);
    sl_buf_fini(&buf);
}

/* Writes NBATCHES batches, syncing and checkpointing after each; ckpts[i] gets the partition.ckpt written
 * when batches [0, i) were durable (the state a crash right after appending batch i would leave). Closes the
 * log and returns its LEO. */
static sl_offset_t build_log(const char *d, struct sl_buf *ckpts)
{
    struct sl_log *l = open_ok(d);
    char *ckpt = sl_test_path(d, "partition.ckpt");
    for (int i = 0; i < NBATCHES; i++) {
        if (ckpts) {
            ck_assert_int_eq(sl_log_checkpoint(l), 0);
            read_file(ckpt, &ckpts[i]);
        }
        append_ok(l);
        sync_ok(l);
    }
    sl_offset_t leo = sl_log_end(l);
    ck_assert_uint_ge(sl_log_segment_count(l), 4);
    close_ok(l);
    free(ckpt);
    return leo;
}

static void free_ckpts(struct sl_buf *ckpts)
{
    for (int i = 0; i < NBATCHES; i++)
        sl_buf_fini(&ckpts[i]);
}

/* After a cut the log must keep working: the next append lands at the cut and survives a reopen. */
static void append_after_cut(const char *d, struct sl_log *l, sl_offset_t cut)
{
    ck_assert_int_eq(append_ok(l), cut);
    sync_ok(l);
    sl_offset_t leo = sl_log_end(l);
    close_ok(l);
    l = open_ok(d);
    check_exact(l, leo);
    close_ok(l);
}

/* ---- (a) torn tail ---- */

static void torn_tail_every_byte(bool stale_ckpt)
{
    struct sl_buf ckpts[NBATCHES] = {{0}};
    char *pristine = sl_test_path(tmp, "pristine");
    sl_offset_t full = build_log(pdir, ckpts);
    struct layout lay;
    parse_layout(pdir, &lay);
    ck_assert_int_eq(lay.nbats, NBATCHES);
    const struct bat *last = &lay.bats[lay.nbats - 1];
    const char *seg = lay.segs[last->seg].name;
    if (stale_ckpt) {
        char *p = sl_test_path(pdir, "partition.ckpt");
        write_file(p, ckpts[NBATCHES - 1].base, ckpts[NBATCHES - 1].len);
        free(p);
    }
    copy_dir(pdir, pristine);

    for (uint64_t len = last->pos; len <= last->pos + last->size; len++) {
        copy_dir(pristine, pdir);
        char *p = sl_test_path(pdir, seg);
        ck_assert(truncate(p, (off_t)len) == 0);
        free(p);

        struct sl_log *l = open_ok(pdir);
        if (len == last->pos + last->size) {
            check_exact(l, full);
            close_ok(l);
            continue;
        }
        if (!stale_ckpt) { /* below the recovery point: synced records are gone, never handed out again */
            check_hole(l, last->base, full, full);
            ck_assert_int_eq(append_ok(l), full);
            close_ok(l);
            continue;
        }
        ck_assert_msg(sl_log_end(l) == last->base, "cut at %s:%" PRIu64 ": LEO %" PRId64 ", want %" PRId64, seg,
                      len, sl_log_end(l), last->base);
        check_exact(l, last->base);
        assert_cut_to(pdir, seg, last->pos);
        if (len > last->pos) {
            const char *rep = sl_log_recovery_report(l);
            char at[32];
            snprintf(at, sizeof at, "%" PRIu64, last->pos);
            ck_assert_msg(rep && strstr(rep, seg) && strstr(rep, at),
                          "torn tail of %" PRIu64 " bytes at %s:%" PRIu64 " not in the report \"%s\"",
                          len - last->pos, seg, last->pos, rep ? rep : "(null)");
        }
        append_after_cut(pdir, l, last->base);
    }
    free_ckpts(ckpts);
    free(pristine);
}

START_TEST(recover_cuts_torn_tail_at_every_byte_above_recovery_point)
{
    torn_tail_every_byte(true);
}
END_TEST

START_TEST(recover_reports_a_tail_lost_below_the_recovery_point_as_a_hole)
{
    torn_tail_every_byte(false);
}
END_TEST

/* ---- (b) a flipped byte in a middle batch ---- */

static void flipped_byte_cuts_there(bool stale_ckpt)
{
    struct sl_buf ckpts[NBATCHES] = {{0}};
    char *pristine = sl_test_path(tmp, "pristine");
    sl_offset_t full = build_log(pdir, ckpts);
    struct layout lay;
    parse_layout(pdir, &lay);
    ck_assert_int_ge(lay.nsegs, 4);
    /* The middle batch of the second segment: at least two whole segments follow it. */
    int s = 1;
    ck_assert_int_ge(lay.segs[s].nbatches, 3);
    int c = lay.segs[s].first_batch + lay.segs[s].nbatches / 2;
    const struct bat *b = &lay.bats[c];
    if (stale_ckpt) {
        char *p = sl_test_path(pdir, "partition.ckpt");
        write_file(p, ckpts[c].base, ckpts[c].len);
        free(p);
    }
    copy_dir(pdir, pristine);

    /* In the CRC field, the attributes, the timestamps, the middle and the last byte of the records. */
    const uint32_t flips[] = {17, 21, 30, b->size / 2, b->size - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        copy_dir(pristine, pdir);
        char *p = sl_test_path(pdir, lay.segs[s].name);
        int fd = open(p, O_RDWR);
        uint8_t byte;
        ck_assert(pread(fd, &byte, 1, (off_t)(b->pos + flips[i])) == 1);
        byte ^= 0x40;
        ck_assert(pwrite(fd, &byte, 1, (off_t)(b->pos + flips[i])) == 1);
        close(fd);
        free(p);

        struct sl_log *l = open_ok(pdir);
        ck_assert_msg(sl_log_end(l) == b->base,
                      "byte %u of the batch at %" PRId64 " (%s:%" PRIu64 ") flipped: LEO %" PRId64, flips[i],
                      b->base, lay.segs[s].name, b->pos, sl_log_end(l));
        check_exact(l, b->base);
        ck_assert_uint_eq(sl_log_segment_count(l), (uint32_t)s + 1);
        for (int later = s + 1; later < lay.nsegs; later++)
            ck_assert_msg(!file_exists(pdir, lay.segs[later].name), "%s survived the cut", lay.segs[later].name);
        assert_cut_to(pdir, lay.segs[s].name, b->pos);

        struct sl_buf out = {0};
        ck_assert_int_eq(sl_log_read(l, b->base, 1 << 20, INT64_MAX, &out), 0);
        ck_assert_uint_eq(out.len, 0);
        for (sl_offset_t o = b->base + 1; o < full; o += 7) {
            int rc = sl_log_read(l, o, 1 << 20, INT64_MAX, &out);
            ck_assert_msg(rc == SL_EOFFSET, "read(%" PRId64 ") after the cut = %s", o, sl_errname(rc));
            ck_assert_uint_eq(out.len, 0);
        }
        sl_buf_fini(&out);
        const char *rep = sl_log_recovery_report(l);
        ck_assert_msg(rep && strstr(rep, lay.segs[s].name), "cut not reported: \"%s\"", rep ? rep : "(null)");
        append_after_cut(pdir, l, b->base);
    }
    free_ckpts(ckpts);
    free(pristine);
}

START_TEST(recover_cuts_at_flipped_byte_above_recovery_point_and_drops_later_segments)
{
    flipped_byte_cuts_there(true);
}
END_TEST

/* After a clean close everything is below the recovery point, so open does not re-validate it (that would
 * read the whole data dir at every start). A byte that rots there afterwards is still never served: every
 * read checks the CRC of each batch it returns. */
START_TEST(recover_never_serves_a_batch_that_went_bad_below_the_recovery_point)
{
    struct sl_buf ckpts[NBATCHES] = {{0}};
    build_log(pdir, ckpts);
    struct layout lay;
    parse_layout(pdir, &lay);
    int s = 1;
    ck_assert_int_ge(lay.segs[s].nbatches, 3);
    int c = lay.segs[s].first_batch + lay.segs[s].nbatches / 2;
    const struct bat *b = &lay.bats[c];
    char *p = sl_test_path(pdir, lay.segs[s].name);
    int fd = open(p, O_RDWR);
    uint8_t byte;
    ck_assert(pread(fd, &byte, 1, (off_t)(b->pos + b->size / 2)) == 1);
    byte ^= 0x40;
    ck_assert(pwrite(fd, &byte, 1, (off_t)(b->pos + b->size / 2)) == 1);
    close(fd);
    free(p);

    struct sl_log *l = open_ok(pdir);
    struct sl_buf out = {0};
    struct sl_log_damage d;
    ck_assert_int_eq(sl_log_read(l, b->base, 1 << 20, INT64_MAX, &out), SL_EDAMAGED);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_int_eq(sl_log_damage_at(l, b->base, &d), 0);
    ck_assert_int_eq(d.from, b->base);
    ck_assert_int_eq(d.to, lay.bats[c + 1].base); /* the batch after it is the next readable one */
    ck_assert_int_eq(sl_log_read(l, d.to, 1 << 20, INT64_MAX, &out), 0);
    ck_assert_uint_gt(out.len, 0);
    out.len = 0;
    /* A read that starts earlier in the segment stops before the bad batch; what it returns is sound. */
    sl_offset_t from = lay.bats[lay.segs[s].first_batch].base;
    ck_assert_int_eq(sl_log_read(l, from, 1 << 20, INT64_MAX, &out), 0);
    ck_assert_uint_gt(out.len, 0);
    for (size_t pos = 0; pos < out.len;) {
        struct sl_batch_hdr h;
        ck_assert_int_eq(sl_batch_hdr_decode(out.base + pos, out.len - pos, &h), 0);
        size_t n = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
        ck_assert_int_eq(sl_batch_validate(out.base + pos, n), 0);
        ck_assert_int_lt(h.base_offset + h.last_offset_delta, b->base);
        pos += n;
    }
    sl_buf_fini(&out);
    sl_log_close(l);
    free_ckpts(ckpts);
}
END_TEST

/* ---- (c), (d): what reads and time lookups return, before and after ---- */

struct answers {
    struct sl_buf reads[512]; /* sl_log_read(o, 1 byte) for every offset o */
    sl_offset_t times[2048];  /* sl_log_offset_for_time for a sweep of timestamps */
    sl_offset_t leo;
    int ntimes;
};

static int64_t sweep_ts(int i)
{
    return SL_TLOG_T0 - 15 + 3 * i;
}

static void collect(struct sl_log *l, struct answers *a)
{
    a->leo = sl_log_end(l);
    ck_assert_int_le(a->leo, 512);
    for (sl_offset_t o = 0; o < a->leo; o++) {
        a->reads[o].len = 0;
        int rc = sl_log_read(l, o, 1, INT64_MAX, &a->reads[o]);
        ck_assert_msg(rc == 0 && a->reads[o].len > 0, "read(%" PRId64 ") = %s", o, sl_errname(rc));
    }
    a->ntimes = 0;
    while (sweep_ts(a->ntimes) <= sl_tlog_ts(a->leo) + 15) {
        ck_assert_int_lt(a->ntimes, 2048);
        int rc = sl_log_offset_for_time(l, sweep_ts(a->ntimes), &a->times[a->ntimes]);
        ck_assert_msg(rc == 0, "offset_for_time = %s", sl_errname(rc));
        a->ntimes++;
    }
}

/* The record at offset o has timestamp T0 + 10 o, so the earliest offset with ts >= t is ceil((t-T0)/10). */
static void check_times_model(const struct answers *a)
{
    for (int i = 0; i < a->ntimes; i++) {
        int64_t d = sweep_ts(i) - SL_TLOG_T0;
        sl_offset_t want = d <= 0 ? 0 : (d + 9) / 10;
        if (want > a->leo)
            want = a->leo;
        ck_assert_msg(a->times[i] == want, "offset_for_time(T0%+" PRId64 ") = %" PRId64 ", want %" PRId64, d,
                      a->times[i], want);
    }
}

static void check_same(const struct answers *before, const struct answers *after)
{
    ck_assert_int_eq(after->leo, before->leo);
    for (sl_offset_t o = 0; o < before->leo; o++)
        ck_assert_msg(after->reads[o].len == before->reads[o].len &&
                          memcmp(after->reads[o].base, before->reads[o].base, before->reads[o].len) == 0,
                      "read(%" PRId64 ") differs after recovery (%zu vs %zu bytes)", o, after->reads[o].len,
                      before->reads[o].len);
    ck_assert_int_eq(after->ntimes, before->ntimes);
    for (int i = 0; i < before->ntimes; i++)
        ck_assert_msg(after->times[i] == before->times[i],
                      "offset_for_time(T0%+" PRId64 ") = %" PRId64 " after recovery, %" PRId64 " before",
                      sweep_ts(i) - SL_TLOG_T0, after->times[i], before->times[i]);
}

static void answers_fini(struct answers *a)
{
    for (int i = 0; i < 512; i++)
        sl_buf_fini(&a->reads[i]);
}

/* Builds the log and records its answers (checked against the model) into *before. */
static void build_and_collect(struct answers *before)
{
    sl_offset_t leo = build_log(pdir, NULL);
    struct sl_log *l = open_ok(pdir);
    check_exact(l, leo);
    collect(l, before);
    check_times_model(before);
    close_ok(l);
}

static void reopen_and_compare(const struct answers *before)
{
    static struct answers after;
    memset(&after, 0, sizeof after);
    struct sl_log *l = open_ok(pdir);
    check_exact(l, before->leo);
    collect(l, &after);
    check_same(before, &after);
    /* Appends after the rebuild are indexed too. */
    append_ok(l);
    sync_ok(l);
    sl_offset_t leo = sl_log_end(l);
    close_ok(l);
    l = open_ok(pdir);
    check_exact(l, leo);
    close_ok(l);
    answers_fini(&after);
}

static struct answers before;

START_TEST(recover_rebuilds_deleted_index_files)
{
    memset(&before, 0, sizeof before);
    build_and_collect(&before);
    char *names[256];
    int n = list_files(pdir, "index", names, 256); /* .index and .timeindex */
    ck_assert_int_gt(n, 0);
    for (int i = 0; i < n; i++) {
        char *p = sl_test_path(pdir, names[i]);
        ck_assert(unlink(p) == 0);
        free(p);
    }
    free_names(names, n);
    reopen_and_compare(&before);
    answers_fini(&before);
}
END_TEST

START_TEST(recover_rebuilds_garbage_index_files)
{
    memset(&before, 0, sizeof before);
    build_and_collect(&before);
    char *names[256];
    int n = list_files(pdir, "index", names, 256);
    ck_assert_int_gt(n, 0);
    uint32_t x = 12345;
    for (int i = 0; i < n; i++) {
        char *p = sl_test_path(pdir, names[i]);
        uint8_t junk[4096];
        size_t len = file_size(pdir, names[i]);
        len = len < 24 ? 96 : len > sizeof junk ? sizeof junk : len;
        for (size_t k = 0; k < len; k++) {
            x = x * 1103515245u + 12345u;
            junk[k] = (uint8_t)(x >> 16);
        }
        write_file(p, junk, len);
        free(p);
    }
    free_names(names, n);
    reopen_and_compare(&before);
    answers_fini(&before);
}
END_TEST

START_TEST(recover_without_checkpoint_recovers_everything)
{
    memset(&before, 0, sizeof before);
    build_and_collect(&before);
    char *p = sl_test_path(pdir, "partition.ckpt");
    ck_assert(unlink(p) == 0);
    free(p);
    reopen_and_compare(&before);
    ck_assert(file_exists(pdir, "partition.ckpt"));
    answers_fini(&before);
}
END_TEST

/* Without a checkpoint nothing counts as verified: a bad byte in the first segment is found, and, with no
 * recovery point to tell a torn tail from rot, it is a hole: everything after it stays. */
START_TEST(recover_without_checkpoint_validates_from_the_first_segment)
{
    build_log(pdir, NULL);
    struct layout lay;
    parse_layout(pdir, &lay);
    const struct bat *b = &lay.bats[1];
    ck_assert_int_eq(b->seg, 0);
    char *p = sl_test_path(pdir, "partition.ckpt");
    ck_assert(unlink(p) == 0);
    free(p);
    p = sl_test_path(pdir, lay.segs[0].name);
    int fd = open(p, O_RDWR);
    uint8_t byte = 0;
    ck_assert(pread(fd, &byte, 1, (off_t)(b->pos + b->size - 2)) == 1);
    byte ^= 0x01;
    ck_assert(pwrite(fd, &byte, 1, (off_t)(b->pos + b->size - 2)) == 1);
    close(fd);
    free(p);

    sl_offset_t full = lay.bats[lay.nbats - 1].base + 1;
    struct sl_log *l = open_ok(pdir);
    full = sl_log_end(l) > full ? sl_log_end(l) : full;
    check_hole(l, b->base, lay.bats[2].base, full);
    ck_assert_uint_eq(sl_log_segment_count(l), (uint32_t)lay.nsegs);
    close_ok(l);
    l = open_ok(pdir); /* the damaged segment kept no index: the hole is found and reported again */
    check_hole(l, b->base, lay.bats[2].base, full);
    close_ok(l);
}
END_TEST

/* ---- the damage cases that once destroyed intact data (issue 10) ---- */

static void write_stray(const char *name, size_t n)
{
    char *p = sl_test_path(pdir, name);
    uint8_t junk[4096];
    for (size_t i = 0; i < n && i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    write_file(p, junk, n);
    free(p);
}

static bool quarantined(const char *name)
{
    char *q = sl_test_path(pdir, "quarantine");
    bool ok = file_exists(q, name);
    free(q);
    return ok;
}

START_TEST(recover_quarantines_a_stray_file_named_like_a_segment)
{
    sl_offset_t full = build_log(pdir, NULL);
    write_stray("00000000000000000001.log", 100);
    write_stray("notes.txt", 10);
    struct sl_log *l = open_ok(pdir);
    check_exact(l, full);
    ck_assert(quarantined("00000000000000000001.log"));
    ck_assert(quarantined("notes.txt"));
    ck_assert_uint_eq(sl_log_quarantined(l), 2);
    ck_assert_ptr_nonnull(strstr(sl_log_recovery_report(l), "quarantined 00000000000000000001.log"));
    close_ok(l);
}
END_TEST

START_TEST(recover_keeps_the_segments_after_a_missing_one)
{
    sl_offset_t full = build_log(pdir, NULL);
    struct layout lay;
    parse_layout(pdir, &lay);
    char *p = sl_test_path(pdir, lay.segs[1].name);
    ck_assert(unlink(p) == 0);
    free(p);
    struct sl_log *l = open_ok(pdir);
    check_hole(l, lay.bats[lay.segs[1].first_batch].base, lay.bats[lay.segs[2].first_batch].base, full);
    ck_assert_uint_eq(sl_log_segment_count(l), (uint32_t)lay.nsegs - 1);
    ck_assert_int_eq(append_ok(l), full);
    close_ok(l);
}
END_TEST

START_TEST(recover_keeps_everything_after_an_empty_first_segment)
{
    sl_offset_t full = build_log(pdir, NULL);
    struct layout lay;
    parse_layout(pdir, &lay);
    char *p = sl_test_path(pdir, lay.segs[0].name);
    ck_assert(truncate(p, 0) == 0);
    free(p);
    struct sl_log *l = open_ok(pdir);
    ck_assert_int_eq(sl_log_start(l), 0);
    check_hole(l, 0, lay.bats[lay.segs[1].first_batch].base, full);
    close_ok(l);
}
END_TEST

START_TEST(recover_rebuilds_a_checkpoint_that_contradicts_the_files)
{
    sl_offset_t full = build_log(pdir, NULL);
    char *p = sl_test_path(pdir, "partition.ckpt");
    char text[256];
    int n = snprintf(text, sizeof text,
                     "sluice-partition 1\nrecovery_point %" PRId64 "\nhigh_watermark %" PRId64
                     "\nlog_start_offset %" PRId64 "\nclean 1\n", full + 500, full + 500, full + 100);
    write_file(p, text, (size_t)n);
    free(p);
    struct sl_log *l = open_ok(pdir);
    check_exact(l, full);
    ck_assert_int_eq(sl_log_start(l), 0);
    ck_assert_ptr_nonnull(strstr(sl_log_recovery_report(l), "contradicts"));
    close_ok(l);
}
END_TEST

/* A damaged segment below the recovery point (open does not re-read it; the first read that meets the
 * damage records the hole) and a torn tail at the end (cut): both in one open. */
START_TEST(recover_keeps_a_hole_and_cuts_a_torn_tail_in_one_pass)
{
    sl_offset_t full = build_log(pdir, NULL);
    struct layout lay;
    parse_layout(pdir, &lay);
    const struct bat *b = &lay.bats[lay.segs[1].first_batch + 1], *last = &lay.bats[lay.nbats - 1];
    char *p = sl_test_path(pdir, lay.segs[1].name);
    int fd = open(p, O_RDWR);
    uint8_t zero[16] = {0};
    ck_assert(pwrite(fd, zero, sizeof zero, (off_t)b->pos + 4) == (ssize_t)sizeof zero); /* length field too */
    close(fd);
    free(p);
    p = sl_test_path(pdir, lay.segs[last->seg].name);
    ck_assert(truncate(p, (off_t)(last->pos + last->size / 2)) == 0);
    free(p);
    /* As after a crash: the recovery point below the torn batch. */
    p = sl_test_path(pdir, "partition.ckpt");
    char text[256];
    int n = snprintf(text, sizeof text,
                     "sluice-partition 1\nrecovery_point %" PRId64 "\nhigh_watermark %" PRId64
                     "\nlog_start_offset 0\nclean 0\n", last->base, last->base);
    write_file(p, text, (size_t)n);
    free(p);
    (void)full;
    struct sl_log *l = open_ok(pdir);
    check_hole(l, b->base, lay.bats[lay.segs[1].first_batch + 2].base, last->base);
    close_ok(l);
}
END_TEST

/* baseOffset is outside the batch CRC: a batch whose base went bad still passes it. Validation must not
 * resynchronize on it (that made [b, 10^9) a hole and quarantined every later segment as overlapping): the
 * hole is that batch's own offsets. */
START_TEST(recover_a_bad_base_offset_is_a_hole_of_that_batch_only)
{
    sl_offset_t full = build_log(pdir, NULL);
    struct layout lay;
    parse_layout(pdir, &lay);
    int c = lay.segs[1].first_batch + 1;
    const struct bat *b = &lay.bats[c];
    char *p = sl_test_path(pdir, "partition.ckpt"); /* no checkpoint: open validates every byte */
    ck_assert(unlink(p) == 0);
    free(p);
    p = sl_test_path(pdir, lay.segs[1].name);
    int fd = open(p, O_RDWR);
    uint8_t byte;
    ck_assert(pread(fd, &byte, 1, (off_t)b->pos + 4) == 1);
    byte ^= 0x40;
    ck_assert(pwrite(fd, &byte, 1, (off_t)b->pos + 4) == 1);
    close(fd);
    free(p);
    struct sl_log *l = open_ok(pdir);
    check_hole(l, b->base, lay.bats[c + 1].base, full);
    ck_assert_uint_eq(sl_log_quarantined(l), 0);
    ck_assert_uint_eq(sl_log_segment_count(l), (uint32_t)lay.nsegs);
    close_ok(l);
}
END_TEST

static Suite *recover_suite(void)
{
    Suite *s = suite_create("recover");
    TCase *tc = tcase_create("torn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, recover_cuts_torn_tail_at_every_byte_above_recovery_point);
    tcase_add_test(tc, recover_reports_a_tail_lost_below_the_recovery_point_as_a_hole);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, recover_cuts_at_flipped_byte_above_recovery_point_and_drops_later_segments);
    tcase_add_test(tc, recover_never_serves_a_batch_that_went_bad_below_the_recovery_point);
    tcase_add_test(tc, recover_quarantines_a_stray_file_named_like_a_segment);
    tcase_add_test(tc, recover_keeps_the_segments_after_a_missing_one);
    tcase_add_test(tc, recover_keeps_everything_after_an_empty_first_segment);
    tcase_add_test(tc, recover_rebuilds_a_checkpoint_that_contradicts_the_files);
    tcase_add_test(tc, recover_keeps_a_hole_and_cuts_a_torn_tail_in_one_pass);
    tcase_add_test(tc, recover_without_checkpoint_validates_from_the_first_segment);
    tcase_add_test(tc, recover_a_bad_base_offset_is_a_hole_of_that_batch_only);
    suite_add_tcase(s, tc);

    tc = tcase_create("rebuild");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, recover_rebuilds_deleted_index_files);
    tcase_add_test(tc, recover_rebuilds_garbage_index_files);
    tcase_add_test(tc, recover_without_checkpoint_recovers_everything);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(recover_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
