/* The damage matrix (issue 10): randomized damage to a partition directory, one invariant after every
 * reopen. Proves, for every damage kind and both ways a log can stop, that recovery (storage/recover.h)
 * keeps its rules and that reads never serve a wrong byte.
 *
 * ROUND
 *   1. Build a log of 150-350 deterministic batches (tests/support/logcheck.h: each batch is a pure
 *      function of its base offset) across many small segments with small index intervals, through faultfs,
 *      syncing and checkpointing at random moments and once before the last 1-30 (unsynced) appends.
 *   2. Stop it: a clean close, or a crash (faultfs crash mode: the close's first fdatasync fails and the
 *      disk stops changing), optionally after a torn append, optionally followed by a power cut (unsynced
 *      .log bytes dropped).
 *   3. Parse what is on disk into a model (every complete batch: offsets, segment, position, size) and read
 *      the recovery point R from partition.ckpt.
 *   4. Apply one or two damage kinds: truncation of a segment; one flipped byte in a .log, .index,
 *      .timeindex, partition.ckpt or leader-epoch-checkpoint; a deleted segment, index file, checkpoint;
 *      a stray file named like a segment or with an unparseable name.
 *   5. Reopen and check THE invariant:
 *      (a) every batch the damage did not touch is readable at its base offset, byte for byte, unless it
 *          lies in a legitimately cut tail: with a trusted checkpoint (recovery point R_eff as recovery will
 *          read it), the batches from the first damaged batch at or past R_eff on (rules 1 and 3: below the
 *          recovery point damage is a hole, past it the tail is cut); without one, nothing; and batches
 *          below a consistent log start (rule 1). After a clean stop R is the end, so nothing intact may go.
 *      (b) a scan of [log start, LEO) only ever returns batches equal to the ones appended; every offset it
 *          cannot read is inside a range named by sl_log_damage_at.
 *      (c) every damaged batch still below LEO reads as SL_EDAMAGED inside a reported range; a cut that
 *          leaves bad bytes is in the recovery report; stray files are quarantined and reported. Damage to
 *          rebuildable files alone (indexes, checkpoints) loses nothing (that is (a) with no damaged batch).
 *      (d) the log accepts appends after the reopen, they read back, and they survive one more reopen.
 *
 * KNOWN LIMIT OF THE FORMAT: partitionLeaderEpoch (batch bytes 12-15) is outside the batch CRC (Kafka's
 * format, so that a leader can stamp it), so a byte flipped there cannot be detected: such a batch may be
 * served with exactly that difference, and nothing else.
 *
 * REPLAY: the seed is printed at the start (stderr "seed=<n>"); SLUICE_SEED=<n> replays the whole test,
 * and SLUICE_ROUND=<r> with it runs only round r (every round draws from its own generator, seeded by
 * (seed, round)). On failure the damaged directory, as it was before the reopen, is copied to
 * /tmp/sluice-damage-<seed>-<round>/ and the message names it with the damage applied. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/batch.h"
#include "storage/checkpoint.h"
#include "storage/err.h"
#include "storage/log.h"
#include "tests/support/faultfs.h"
#include "tests/support/logcheck.h"
#include "tests/support/testutil.h"

#define RANDOM_ROUNDS 120
#define MAXBATS 400
#define MAXSEGS 128
#define NAPPEND 3
#define NO_RP INT64_MAX

/* ---- a small deterministic generator (splitmix64) ---- */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t x = (r->s += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Uniform in [0, n), n > 0. */
static uint32_t rnd(struct rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

/* ---- the model of one round ---- */

enum stop { STOP_CLEAN, STOP_CRASH, STOP_CRASH_TORN, STOP_POWER_CUT, STOP_N };

enum kind {
    K_TRUNC,
    K_FLIP_LOG,
    K_FLIP_INDEX,
    K_FLIP_TIMEINDEX,
    K_FLIP_CKPT,
    K_FLIP_EPOCHS,
    K_DEL_SEG,
    K_DEL_INDEX,
    K_DEL_CKPT,
    K_STRAY_SEG,
    K_STRAY_NAME,
    K_N
};

static const char *const kind_names[K_N] = {"truncate", "flip .log", "flip .index", "flip .timeindex",
                                            "flip partition.ckpt", "flip leader-epoch-checkpoint",
                                            "delete segment", "delete index", "delete checkpoint",
                                            "stray segment", "stray name"};
static const char *const stop_names[STOP_N] = {"clean close", "crash", "crash after a torn append",
                                               "crash and power cut"};

struct mbat {
    sl_offset_t base, last;
    int seg;
    uint32_t pos, size;
    bool damaged;    /* some of its bytes changed or are gone */
    bool bad_bytes;  /* the damage left bytes in the file that fail validation (detectable) */
    bool epoch_only; /* only partitionLeaderEpoch changed (undetectable, see the header) */
};

struct mseg {
    sl_offset_t base;
    char name[32];
};

struct round {
    unsigned seed;
    int no;
    struct rng rng;
    char *dir;      /* the partition directory */
    char *snap;     /* copy of the damaged directory before the reopen */
    enum stop stop;
    struct mbat bats[MAXBATS];
    struct mseg segs[MAXSEGS];
    int nbats, nsegs;
    sl_offset_t end;     /* offset after the last complete batch on disk */
    sl_offset_t rp;      /* recovery point of partition.ckpt before the damage */
    sl_offset_t rp_eff;  /* what recovery will trust after the damage (NO_RP: no trusted checkpoint) */
    sl_offset_t ls_eff;  /* log start recovery will trust (0 without one) */
    char strays[2][64];  /* stray files that must be quarantined */
    int nstrays;
    char desc[512];      /* stop mode and damage, for failure messages */
    struct sl_log_cfg cfg;
};

/* ---- failure: keep the history ---- */

static char *tmp;

static void copy_dir(const char *src, const char *dst);

static void __attribute__((noreturn, format(printf, 2, 3))) fail_round(struct round *rd, const char *fmt, ...)
{
    char msg[1024], keep[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(keep, sizeof keep, "/tmp/sluice-damage-%u-%d", rd->seed, rd->no);
    sl_test_rmrf(keep);
    copy_dir(rd->snap, keep);
    ck_abort_msg("seed %u round %d (%s): %s; the damaged directory is kept in %s (replay: SLUICE_SEED=%u "
                 "SLUICE_ROUND=%d)", rd->seed, rd->no, rd->desc, msg, keep, rd->seed, rd->no);
}

#define REQUIRE(rd, cond, ...)                                                                                      \
    do {                                                                                                           \
        if (!(cond))                                                                                               \
            fail_round(rd, __VA_ARGS__);                                                                                 \
    } while (0)

static void note(struct round *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct round *rd, const char *fmt, ...)
{
    size_t n = strlen(rd->desc);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rd->desc + n, sizeof rd->desc - n, fmt, ap);
    va_end(ap);
}

/* ---- plain POSIX file helpers (the damage, not the code under test) ---- */

static size_t read_all(const char *path, uint8_t **out)
{
    int fd = open(path, O_RDONLY);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    struct stat st;
    ck_assert(fstat(fd, &st) == 0);
    *out = malloc((size_t)st.st_size + 1);
    ck_assert(*out != NULL);
    ck_assert(pread(fd, *out, (size_t)st.st_size, 0) == st.st_size);
    close(fd);
    return (size_t)st.st_size;
}

static void write_all(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    ck_assert(write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static void copy_dir(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    ck_assert_msg(d != NULL, "opendir %s: %s", src, strerror(errno));
    ck_assert(mkdir(dst, 0755) == 0 || errno == EEXIST);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *from = sl_test_path(src, e->d_name), *to = sl_test_path(dst, e->d_name);
        struct stat st;
        if (e->d_name[0] != '.' && stat(from, &st) == 0 && S_ISREG(st.st_mode)) {
            uint8_t *buf;
            size_t n = read_all(from, &buf);
            write_all(to, buf, n);
            free(buf);
        }
        free(from);
        free(to);
    }
    closedir(d);
}

static int64_t file_len(const struct round *rd, const char *name)
{
    char *p = sl_test_path(rd->dir, name);
    struct stat st;
    int rc = stat(p, &st);
    free(p);
    return rc == 0 ? (int64_t)st.st_size : -1;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Sorted names of the regular files in d ending with suffix, into names[max][32]. */
static int list_files(const char *d, const char *suffix, char (*names)[32], int max)
{
    DIR *dh = opendir(d);
    ck_assert_msg(dh != NULL, "opendir %s: %s", d, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL)
        if (e->d_name[0] != '.' && has_suffix(e->d_name, suffix) && strlen(e->d_name) < 32 && n < max)
            snprintf(names[n++], 32, "%.31s", e->d_name);
    closedir(dh);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    return n;
}

/* ---- building and stopping the log ---- */

static void cfg_for(struct round *rd, const struct sl_fileops *fo)
{
    sl_log_cfg_defaults(&rd->cfg, rd->dir);
    rd->cfg.fops = fo;
    rd->cfg.now_ms = sl_test_clock_now;
    rd->cfg.segment_bytes = 4096 + rnd(&rd->rng, 4096);
    rd->cfg.index_interval_bytes = 256 + rnd(&rd->rng, 768);
}

/* Appends the batches, syncing and checkpointing now and then; ends with unsynced appends. */
static void build(struct round *rd, struct sl_log *l)
{
    int n = 150 + (int)rnd(&rd->rng, 200), unsynced = 1 + (int)rnd(&rd->rng, 30);
    for (int i = 0; i < n; i++) {
        sl_offset_t base, last, durable;
        int rc = sl_tlog_append(l, 0, &base, &last);
        ck_assert_msg(rc == 0, "append at %" PRId64 " = %s", base, sl_errname(rc));
        if (i == n - unsynced - 1 || (i < n - unsynced && rnd(&rd->rng, 25) == 0)) {
            sl_test_clock_advance(rnd(&rd->rng, 2) ? 1500 : 10);
            ck_assert_int_eq(sl_log_sync(l, &durable), 0);
            if (rnd(&rd->rng, 3) == 0)
                ck_assert_int_eq(sl_log_checkpoint(l), 0);
        }
    }
}

static void stop_log(struct round *rd, struct sl_log *l)
{
    if (rd->stop == STOP_CLEAN) {
        ck_assert_int_eq(sl_log_close(l), 0);
        return;
    }
    sl_faultfs_set_crash(true);
    if (rd->stop == STOP_CRASH_TORN) { /* the armed pwrite writes half the batch, then the process is dead */
        sl_faultfs_arm(SL_FAULT_WRITE, 1);
        sl_offset_t base, last;
        ck_assert_int_ne(sl_tlog_append(l, 0, &base, &last), 0);
    } else {
        sl_faultfs_arm(SL_FAULT_SYNC, 1);
    }
    ck_assert_int_ne(sl_log_close(l), 0);
    ck_assert(sl_faultfs_fired());
    if (rd->stop == STOP_POWER_CUT)
        sl_faultfs_power_cut(".log");
    sl_faultfs_reset();
}

/* ---- the model: what is on disk before the damage ---- */

static void parse_seg(struct round *rd, int s)
{
    char *p = sl_test_path(rd->dir, rd->segs[s].name);
    uint8_t *buf;
    size_t len = read_all(p, &buf), pos = 0;
    struct sl_buf want = {0};
    free(p);
    while (pos + SL_BATCH_HEADER_SIZE <= len) {
        struct sl_batch_hdr h;
        ck_assert_int_eq(sl_batch_hdr_decode(buf + pos, len - pos, &h), 0);
        size_t size = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
        if (pos + size > len)
            break; /* the torn append */
        ck_assert_int_eq(sl_tlog_gen(h.base_offset, 0, &want), 0);
        ck_assert_msg(want.len == size && memcmp(want.base, buf + pos, size) == 0, "build: batch %" PRId64
                      " on disk is not the one appended", h.base_offset);
        ck_assert_msg(rd->nbats == 0 || h.base_offset == rd->bats[rd->nbats - 1].last + 1,
                      "build: offsets not dense at %" PRId64, h.base_offset);
        ck_assert(rd->nbats < MAXBATS);
        rd->bats[rd->nbats++] = (struct mbat){h.base_offset, h.base_offset + h.last_offset_delta, s,
                                              (uint32_t)pos, (uint32_t)size, false, false, false};
        pos += size;
    }
    sl_buf_fini(&want);
    free(buf);
}

static void parse_model(struct round *rd)
{
    char names[MAXSEGS][32];
    rd->nsegs = list_files(rd->dir, ".log", names, MAXSEGS);
    rd->nbats = 0;
    for (int s = 0; s < rd->nsegs; s++) {
        snprintf(rd->segs[s].name, sizeof rd->segs[s].name, "%s", names[s]);
        rd->segs[s].base = (sl_offset_t)strtoll(names[s], NULL, 10);
        parse_seg(rd, s);
    }
    ck_assert_int_gt(rd->nbats, 100);
    ck_assert_int_ge(rd->nsegs, 4);
    rd->end = rd->bats[rd->nbats - 1].last + 1;
    struct sl_pckpt c;
    ck_assert_int_eq(sl_ckpt_read(&sl_fileops_posix, rd->dir, &c), 0);
    ck_assert_msg(c.recovery_point <= rd->end && c.log_start == 0, "build: checkpoint rp %" PRId64 ", end %"
                  PRId64, c.recovery_point, rd->end);
    ck_assert(rd->stop != STOP_CLEAN || (c.clean && c.recovery_point == rd->end));
    rd->rp = c.recovery_point;
}

/* ---- damage ---- */

/* A random existing file among the model's segments with this extension and at least min bytes, or -1. */
static int pick_seg_file(struct round *rd, const char *ext, int64_t min, char *name, size_t n)
{
    int cand[MAXSEGS], k = 0;
    for (int s = 0; s < rd->nsegs; s++) {
        char nm[40];
        snprintf(nm, sizeof nm, "%.20s.%s", rd->segs[s].name, ext);
        if (file_len(rd, nm) >= min)
            cand[k++] = s;
    }
    if (k == 0)
        return -1;
    int s = cand[rnd(&rd->rng, (uint32_t)k)];
    snprintf(name, n, "%.20s.%s", rd->segs[s].name, ext);
    return s;
}

static void mark_bytes(struct round *rd, int seg, uint64_t from, uint64_t to, bool bad_bytes)
{
    for (int i = 0; i < rd->nbats; i++) {
        struct mbat *b = &rd->bats[i];
        if (b->seg == seg && b->pos + b->size > from && b->pos < to) {
            b->damaged = true;
            b->bad_bytes |= bad_bytes && b->pos < from;
        }
    }
}

static void flip_byte(struct round *rd, const char *name, uint64_t *at)
{
    char *p = sl_test_path(rd->dir, name);
    int fd = open(p, O_RDWR);
    struct stat st;
    ck_assert(fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0);
    uint64_t pos = rnd(&rd->rng, (uint32_t)st.st_size);
    uint8_t byte, x = (uint8_t)(1 + rnd(&rd->rng, 255));
    ck_assert(pread(fd, &byte, 1, (off_t)pos) == 1);
    byte ^= x;
    ck_assert(pwrite(fd, &byte, 1, (off_t)pos) == 1);
    close(fd);
    free(p);
    *at = pos;
    note(rd, " [flip %s:%" PRIu64 " ^0x%02x]", name, pos, x);
}

static void damage_flip_log(struct round *rd)
{
    char name[40];
    uint64_t at;
    int s = pick_seg_file(rd, "log", 1, name, sizeof name);
    if (s < 0)
        return;
    flip_byte(rd, name, &at);
    for (int i = 0; i < rd->nbats; i++) {
        struct mbat *b = &rd->bats[i];
        if (b->seg != s || at < b->pos || at >= (uint64_t)b->pos + b->size)
            continue;
        if (at - b->pos >= 12 && at - b->pos < 16 && !b->damaged)
            b->epoch_only = true;
        else
            b->damaged = b->bad_bytes = true;
    }
}

static void damage_truncate(struct round *rd)
{
    char name[40];
    int s = pick_seg_file(rd, "log", 1, name, sizeof name);
    if (s < 0)
        return;
    uint64_t pos = rnd(&rd->rng, (uint32_t)file_len(rd, name));
    char *p = sl_test_path(rd->dir, name);
    ck_assert(truncate(p, (off_t)pos) == 0);
    free(p);
    note(rd, " [truncate %s to %" PRIu64 "]", name, pos);
    mark_bytes(rd, s, pos, UINT64_MAX, true);
}

static void damage_delete(struct round *rd, const char *name)
{
    char *p = sl_test_path(rd->dir, name);
    ck_assert_msg(unlink(p) == 0, "unlink %s: %s", p, strerror(errno));
    free(p);
    note(rd, " [delete %s]", name);
}

static void damage_flip_named(struct round *rd, const char *name)
{
    uint64_t at;
    if (file_len(rd, name) > 0)
        flip_byte(rd, name, &at);
}

static void damage_stray(struct round *rd, bool seg_like)
{
    static const char *const odd[] = {"notes.txt", "0001.log", "00000000000000000000.log.bak",
                                      "00000000000000000000.LOG", "partition.ckpt~", "1e3.log"};
    char name[64];
    if (seg_like && rnd(&rd->rng, 2)) { /* between two segments */
        int k = (int)rnd(&rd->rng, (uint32_t)rd->nsegs - 1);
        sl_offset_t gap = rd->segs[k + 1].base - rd->segs[k].base;
        snprintf(name, sizeof name, "%020" PRId64 ".log", rd->segs[k].base + 1 + rnd(&rd->rng, (uint32_t)gap - 1));
    } else {
        snprintf(name, sizeof name, "%s", seg_like ? "00000000000000000001.log" : odd[rnd(&rd->rng, 6)]);
    }
    if (file_len(rd, name) >= 0 || rd->nstrays == 2)
        return;
    uint8_t junk[256];
    size_t n = seg_like ? 100 : 1 + rnd(&rd->rng, 200);
    for (size_t i = 0; i < n; i++)
        junk[i] = (uint8_t)rng_next(&rd->rng);
    char *p = sl_test_path(rd->dir, name);
    write_all(p, junk, n);
    free(p);
    snprintf(rd->strays[rd->nstrays++], sizeof rd->strays[0], "%s", name);
    note(rd, " [stray %s, %zu bytes]", name, n);
}

static void damage_delete_kind(struct round *rd, enum kind k)
{
    char name[40];
    int s;
    if (k == K_DEL_SEG && (s = pick_seg_file(rd, "log", 0, name, sizeof name)) >= 0) {
        damage_delete(rd, name);
        mark_bytes(rd, s, 0, UINT64_MAX, false);
    } else if (k == K_DEL_INDEX && pick_seg_file(rd, rnd(&rd->rng, 2) ? "index" : "timeindex", 0, name,
                                                 sizeof name) >= 0) {
        damage_delete(rd, name);
    } else if (k == K_DEL_CKPT) {
        const char *f = rnd(&rd->rng, 3) ? SL_PCKPT_NAME : SL_EPOCH_CKPT_NAME;
        if (file_len(rd, f) >= 0)
            damage_delete(rd, f);
    }
}

static void apply(struct round *rd, enum kind k)
{
    char name[40];
    note(rd, " %s", kind_names[k]);
    switch (k) {
    case K_TRUNC: damage_truncate(rd); break;
    case K_FLIP_LOG: damage_flip_log(rd); break;
    case K_FLIP_INDEX:
    case K_FLIP_TIMEINDEX:
        if (pick_seg_file(rd, k == K_FLIP_INDEX ? "index" : "timeindex", 1, name, sizeof name) >= 0)
            damage_flip_named(rd, name);
        break;
    case K_FLIP_CKPT: damage_flip_named(rd, SL_PCKPT_NAME); break;
    case K_FLIP_EPOCHS: damage_flip_named(rd, SL_EPOCH_CKPT_NAME); break;
    case K_STRAY_SEG:
    case K_STRAY_NAME: damage_stray(rd, k == K_STRAY_SEG); break;
    default: damage_delete_kind(rd, k); break;
    }
}

/* What recovery will trust of the (possibly damaged) checkpoint: recover.h rule 4, and load_ckpt in log.c
 * (a checkpoint that does not parse is no checkpoint). */
static void effective_ckpt(struct round *rd)
{
    struct sl_pckpt c;
    rd->rp_eff = NO_RP;
    rd->ls_eff = 0;
    if (sl_ckpt_read(&sl_fileops_posix, rd->dir, &c) != 0 || c.recovery_point < c.log_start)
        return;
    char names[MAXSEGS + 4][32];
    int n = list_files(rd->dir, ".log", names, MAXSEGS + 4);
    bool agrees = false;
    for (int i = 0; i < n; i++)
        agrees |= strlen(names[i]) == 24 && strspn(names[i], "0123456789") == 20 &&
                  strtoll(names[i], NULL, 10) == c.log_start;
    if (agrees || n == 0) {
        rd->rp_eff = c.recovery_point;
        rd->ls_eff = c.log_start;
    }
}

/* ---- the invariant ---- */

static bool same_batch(const struct mbat *b, const uint8_t *p, size_t n, struct sl_buf *want)
{
    ck_assert_int_eq(sl_tlog_gen(b->base, 0, want), 0);
    if (n < want->len)
        return false;
    if (b->epoch_only) /* bytes 12-15 are outside the CRC: see the header */
        return memcmp(want->base, p, 12) == 0 && memcmp(want->base + 16, p + 16, want->len - 16) == 0;
    return memcmp(want->base, p, want->len) == 0;
}

/* The first damaged batch at or past the trusted recovery point: the start of the tail recovery may cut. */
static sl_offset_t cut_from(const struct round *rd)
{
    for (int i = 0; i < rd->nbats; i++)
        if (rd->bats[i].damaged && rd->bats[i].base >= rd->rp_eff)
            return rd->bats[i].base;
    return INT64_MAX;
}

/* (a) every intact batch outside a legitimately cut tail reads back at its offset, byte for byte. */
static void check_intact(struct round *rd, struct sl_log *l)
{
    struct sl_buf out = {0}, want = {0};
    sl_offset_t cut = cut_from(rd);
    for (int i = 0; i < rd->nbats; i++) {
        const struct mbat *b = &rd->bats[i];
        if (b->damaged)
            continue;
        out.len = 0;
        int rc = sl_log_read(l, b->base, 1, INT64_MAX, &out);
        bool optional = b->base >= cut || b->last < rd->ls_eff;
        if (optional && (rc != 0 || out.len == 0))
            continue;
        REQUIRE(rd, rc == 0 && out.len > 0, "intact batch %" PRId64 " (%s:%" PRIu32 ") unreadable: %s, %zu bytes "
                "(R_eff %" PRId64 ", LEO %" PRId64 ") [report: %s]", b->base, rd->segs[b->seg].name, b->pos,
                sl_errname(rc), out.len, rd->rp_eff, sl_log_end(l), sl_log_recovery_report(l));
        REQUIRE(rd, same_batch(b, out.base, out.len, &want), "read(%" PRId64 ") returned other bytes (%zu)",
                b->base, out.len);
    }
    sl_buf_fini(&out);
    sl_buf_fini(&want);
}

static const struct mbat *model_at(const struct round *rd, sl_offset_t base)
{
    for (int i = 0; i < rd->nbats; i++)
        if (rd->bats[i].base == base)
            return &rd->bats[i];
    return NULL;
}

/* Checks the batches of one successful read, from offset *o; advances *o. */
static void check_served(struct round *rd, const struct sl_buf *out, sl_offset_t *o, struct sl_buf *want)
{
    for (size_t pos = 0; pos < out->len;) {
        struct sl_batch_hdr h;
        REQUIRE(rd, sl_batch_hdr_decode(out->base + pos, out->len - pos, &h) == 0, "read(%" PRId64 ") returned "
                "an undecodable batch", *o);
        size_t n = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
        const struct mbat *b = model_at(rd, h.base_offset);
        REQUIRE(rd, n <= out->len - pos && sl_batch_validate(out->base + pos, n) == 0, "served a batch at %"
                PRId64 " that fails validation", h.base_offset);
        REQUIRE(rd, b && !b->damaged && b->size == n && same_batch(b, out->base + pos, n, want),
                "served a batch at %" PRId64 " (%zu bytes) that is not the one appended there%s", h.base_offset, n,
                b && b->damaged ? " (it was damaged)" : "");
        REQUIRE(rd, h.base_offset <= *o && b->last >= *o, "read(%" PRId64 ") served the batch [%" PRId64 ", %"
                PRId64 "]", *o, b->base, b->last);
        *o = b->last + 1;
        pos += n;
    }
}

/* (b) a scan of [log start, LEO): everything served is what was appended; the rest is in a named range. */
static void check_scan(struct round *rd, struct sl_log *l)
{
    struct sl_buf out = {0}, want = {0};
    sl_offset_t o = sl_log_start(l), leo = sl_log_end(l);
    while (o < leo) {
        out.len = 0;
        int rc = sl_log_read(l, o, 8192, INT64_MAX, &out);
        if (rc == SL_EDAMAGED) {
            struct sl_log_damage d;
            REQUIRE(rd, sl_log_damage_at(l, o, &d) == 0 && d.from <= o && d.to > o, "read(%" PRId64 ") = "
                    "SL_EDAMAGED but no damaged range holds it", o);
            o = d.to;
            continue;
        }
        REQUIRE(rd, rc == 0 && out.len > 0, "scan: read(%" PRId64 ") = %s, %zu bytes, LEO %" PRId64, o,
                sl_errname(rc), out.len, leo);
        check_served(rd, &out, &o, &want);
    }
    sl_buf_fini(&out);
    sl_buf_fini(&want);
}

/* (c) damage is reported: damaged batches below LEO read as SL_EDAMAGED in a named range; a cut that left
 * bad bytes is in the report; strays are quarantined and named. */
static void check_reported(struct round *rd, struct sl_log *l)
{
    struct sl_buf out = {0};
    const char *rep = sl_log_recovery_report(l);
    for (int i = 0; i < rd->nbats; i++) {
        const struct mbat *b = &rd->bats[i];
        if (!b->damaged)
            continue;
        if (b->base < sl_log_start(l)) {
            REQUIRE(rd, rd->rp_eff == NO_RP || b->last < rd->ls_eff, "damaged batch %" PRId64 " fell below the "
                    "log start %" PRId64 " unreported", b->base, sl_log_start(l));
            continue;
        }
        if (b->base >= sl_log_end(l)) {
            REQUIRE(rd, !b->bad_bytes || rep[0], "damaged batch %" PRId64 " cut without a report", b->base);
            continue;
        }
        out.len = 0;
        int rc = sl_log_read(l, b->base, 1, INT64_MAX, &out);
        struct sl_log_damage d;
        REQUIRE(rd, rc == SL_EDAMAGED && out.len == 0, "damaged batch %" PRId64 ": read = %s, %zu bytes [report: "
                "%s]", b->base, sl_errname(rc), out.len, rep);
        REQUIRE(rd, sl_log_damage_at(l, b->base, &d) == 0 && d.from <= b->base && d.to > b->base,
                "damaged batch %" PRId64 " in no damaged range", b->base);
    }
    sl_buf_fini(&out);
    for (int i = 0; i < rd->nstrays; i++) {
        char *q = sl_test_path(rd->dir, "quarantine"), *p = sl_test_path(q, rd->strays[i]);
        REQUIRE(rd, access(p, F_OK) == 0 && strstr(rep, rd->strays[i]) && sl_log_quarantined(l) > 0,
                "stray %s not quarantined and reported [report: %s]", rd->strays[i], rep);
        free(p);
        free(q);
    }
}

static void check_appended(struct round *rd, struct sl_log *l, const sl_offset_t *bases, sl_epoch_t epoch)
{
    struct sl_buf out = {0}, want = {0};
    for (int i = 0; i < NAPPEND; i++) {
        out.len = 0;
        int rc = sl_log_read(l, bases[i], 1, INT64_MAX, &out);
        ck_assert_int_eq(sl_tlog_gen(bases[i], epoch, &want), 0);
        REQUIRE(rd, rc == 0 && out.len >= want.len && memcmp(out.base, want.base, want.len) == 0,
                "batch appended at %" PRId64 " after the reopen reads back as %s, %zu bytes", bases[i],
                sl_errname(rc), out.len);
    }
    sl_buf_fini(&out);
    sl_buf_fini(&want);
}

/* (d) appends work after the reopen, read back, and survive another reopen. Closes l. */
static void check_appends(struct round *rd, struct sl_log *l)
{
    sl_epoch_t epoch = sl_log_latest_epoch(l) < 0 ? 0 : sl_log_latest_epoch(l);
    sl_offset_t bases[NAPPEND], last;
    for (int i = 0; i < NAPPEND; i++) {
        int rc = sl_tlog_append(l, epoch, &bases[i], &last);
        REQUIRE(rd, rc == 0, "append at %" PRId64 " after the reopen = %s", bases[i], sl_errname(rc));
    }
    check_appended(rd, l, bases, epoch);
    int rc = sl_log_close(l);
    REQUIRE(rd, rc == 0, "close after the appends = %s", sl_errname(rc));
    rc = sl_log_open(&rd->cfg, &l);
    REQUIRE(rd, rc == 0, "second reopen = %s", sl_errname(rc));
    check_appended(rd, l, bases, epoch);
    ck_assert_int_eq(sl_log_close(l), 0);
}

/* ---- rounds ---- */

static void round_init(struct round *rd, unsigned seed, int no)
{
    char name[32];
    memset(rd, 0, sizeof *rd);
    rd->seed = seed;
    rd->no = no;
    rd->rng.s = ((uint64_t)seed << 32) ^ (uint64_t)no * 0x2545f4914f6cdd1dULL;
    snprintf(name, sizeof name, "r%d", no);
    rd->dir = sl_test_path(tmp, name);
    snprintf(name, sizeof name, "r%d-damaged", no);
    rd->snap = sl_test_path(tmp, name);
}

static void round_fini(struct round *rd)
{
    sl_test_rmrf(rd->dir);
    sl_test_rmrf(rd->snap);
    free(rd->dir);
    free(rd->snap);
}

/* One round: build, stop, damage with kinds[0..nk), reopen, check. */
static void run_round(unsigned seed, int no, enum stop stop, const enum kind *kinds, int nk)
{
    static struct round rd;
    struct sl_log *l;
    round_init(&rd, seed, no);
    rd.stop = stop;
    sl_faultfs_reset();
    cfg_for(&rd, &sl_faultfs);
    ck_assert_int_eq(sl_log_open(&rd.cfg, &l), 0);
    build(&rd, l);
    stop_log(&rd, l);
    parse_model(&rd);
    note(&rd, "%s, R %" PRId64 ", end %" PRId64 ", %d segments, segment_bytes %" PRIu64 ", interval %" PRIu32 ";",
         stop_names[stop], rd.rp, rd.end, rd.nsegs, rd.cfg.segment_bytes, rd.cfg.index_interval_bytes);
    for (int i = 0; i < nk; i++)
        apply(&rd, kinds[i]);
    effective_ckpt(&rd);
    copy_dir(rd.dir, rd.snap);
    rd.cfg.fops = NULL; /* reopen on the plain disk */
    int rc = sl_log_open(&rd.cfg, &l);
    REQUIRE(&rd, rc == 0, "reopen = %s", sl_errname(rc));
    REQUIRE(&rd, !sl_log_failed(l), "reopened FAILED");
    check_intact(&rd, l);
    check_scan(&rd, l);
    check_reported(&rd, l);
    check_appends(&rd, l);
    round_fini(&rd);
}

static unsigned the_seed; /* chosen in main, before Check forks the tests */

static unsigned test_seed(void)
{
    const char *env = getenv("SLUICE_SEED");
    unsigned s = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    fprintf(stderr, "seed=%u\n", s);
    return s;
}

/* SLUICE_ROUND=<r> runs only round r. */
static bool wanted(int no)
{
    const char *env = getenv("SLUICE_ROUND");
    return !env || atoi(env) == no;
}

static void setup(void)
{
    tmp = sl_test_tmpdir();
    sl_test_clock_set(SL_TLOG_T0);
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
    sl_faultfs_reset();
}

/* Every kind alone, after a clean close and after each kind of crash: rounds 0 .. K_N * STOP_N - 1. */
START_TEST(damage_matrix_every_kind_after_every_stop)
{
    for (int k = 0; k < K_N; k++)
        for (int s = 0; s < STOP_N; s++) {
            int no = k * STOP_N + s;
            enum kind kind = (enum kind)k;
            if (wanted(no))
                run_round(the_seed, no, (enum stop)s, &kind, 1);
        }
}
END_TEST

/* One or two kinds at random, a random stop: rounds 1000 .. 1000 + RANDOM_ROUNDS - 1. */
START_TEST(damage_matrix_random_rounds)
{
    for (int i = 0; i < RANDOM_ROUNDS; i++) {
        int no = 1000 + i;
        struct rng pick = {((uint64_t)the_seed << 32) ^ (uint64_t)no};
        enum kind kinds[2] = {(enum kind)rnd(&pick, K_N), (enum kind)rnd(&pick, K_N)};
        enum stop stop = (enum stop)rnd(&pick, STOP_N);
        if (wanted(no))
            run_round(the_seed, no, stop, kinds, 1 + (int)rnd(&pick, 2));
    }
}
END_TEST

static Suite *matrix_suite(void)
{
    Suite *s = suite_create("damage_matrix");
    TCase *tc = tcase_create("matrix");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, damage_matrix_every_kind_after_every_stop);
    tcase_add_test(tc, damage_matrix_random_rounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    the_seed = test_seed();
    SRunner *sr = srunner_create(matrix_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
