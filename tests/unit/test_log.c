/* storage/log.c through log.h: append/read, rolls, truncation, time lookups, reopen, index rebuild,
 * sticky failure. Each test gets a fresh temp dir and a fake clock. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/batch.h"
#include "storage/checkpoint.h"
#include "storage/err.h"
#include "storage/log.h"
#include "tests/support/testutil.h"

#define T0 1700000000000LL

static char *tmp;

static void setup(void)
{
    tmp = sl_test_tmpdir();
    sl_test_clock_set(T0);
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
}

static struct sl_log_cfg cfg_small(uint64_t seg_bytes, uint32_t interval)
{
    struct sl_log_cfg c;
    sl_log_cfg_defaults(&c, tmp);
    c.now_ms = sl_test_clock_now;
    c.segment_bytes = seg_bytes;
    c.index_interval_bytes = interval;
    return c;
}

static struct sl_log *open_cfg(const struct sl_log_cfg *c)
{
    struct sl_log *l = NULL;
    int rc = sl_log_open(c, &l);
    ck_assert_msg(rc == 0, "open: %s", sl_errname(rc));
    return l;
}

/* A batch of nrec records, record i with timestamp ts + i and a vlen-byte value. Returns the log's base. */
static int append_e(struct sl_log *l, int nrec, int64_t ts, size_t vlen, sl_epoch_t epoch, sl_offset_t *first)
{
    struct sl_batch_builder b;
    struct sl_slice out;
    uint8_t *val = malloc(vlen + 1);
    memset(val, 'v', vlen);
    sl_bb_init(&b);
    for (int i = 0; i < nrec; i++) {
        struct sl_record r = {.timestamp = ts + i, .value = {val, vlen}};
        ck_assert_int_eq(sl_bb_add(&b, &r), 0);
    }
    ck_assert_int_eq(sl_bb_finish(&b, &out), 0);
    uint8_t *copy = malloc(out.len);
    memcpy(copy, out.base, out.len);
    sl_offset_t last = -1;
    int rc = sl_log_append(l, copy, out.len, epoch, first, &last);
    ck_assert(rc != 0 || last - *first + 1 == nrec);
    free(copy);
    free(val);
    sl_bb_fini(&b);
    return rc;
}

static sl_offset_t append_n(struct sl_log *l, int nrec, int64_t ts, size_t vlen)
{
    sl_offset_t first = -1;
    int rc = append_e(l, nrec, ts, vlen, 0, &first);
    ck_assert_msg(rc == 0, "append: %s", sl_errname(rc));
    return first;
}

/* Walks the batches in buf: count, first base, last offset. */
struct walk {
    int nbatches;
    sl_offset_t first, last;
};

static struct walk walk_batches(const struct sl_buf *buf)
{
    struct walk w = {0, -1, -1};
    size_t pos = 0;
    while (pos < buf->len) {
        struct sl_batch_hdr h;
        ck_assert_int_eq(sl_batch_hdr_decode(buf->base + pos, buf->len - pos, &h), 0);
        size_t n = (size_t)h.length + 12;
        ck_assert_uint_le(pos + n, buf->len);
        ck_assert_int_eq(sl_batch_validate(buf->base + pos, n), 0);
        if (w.first < 0)
            w.first = h.base_offset;
        else
            ck_assert_int_eq(h.base_offset, w.last + 1);
        w.last = h.base_offset + h.last_offset_delta;
        w.nbatches++;
        pos += n;
    }
    return w;
}

static struct walk read_walk(struct sl_log *l, sl_offset_t from, size_t max, sl_offset_t upto)
{
    struct sl_buf out = {0};
    int rc = sl_log_read(l, from, max, upto, &out);
    ck_assert_msg(rc == 0, "read(%" PRId64 "): %s", from, sl_errname(rc));
    struct walk w = walk_batches(&out);
    sl_buf_fini(&out);
    return w;
}

START_TEST(log_append_assigns_dense_offsets_and_reads_back)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    struct sl_log *l = open_cfg(&c);
    ck_assert_int_eq(sl_log_end(l), 0);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(append_n(l, 5, T0 + i * 10, 50), i * 5);
    ck_assert_int_eq(sl_log_end(l), 100);
    struct walk w = read_walk(l, 0, 1 << 20, INT64_MAX);
    ck_assert_int_eq(w.nbatches, 20);
    ck_assert_int_eq(w.first, 0);
    ck_assert_int_eq(w.last, 99);
    /* From the middle of a batch: the batch holding it comes first. */
    w = read_walk(l, 37, 1 << 20, INT64_MAX);
    ck_assert_int_eq(w.first, 35);
    /* At LEO: nothing; past LEO: SL_EOFFSET. */
    w = read_walk(l, 100, 1 << 20, INT64_MAX);
    ck_assert_int_eq(w.nbatches, 0);
    struct sl_buf out = {0};
    ck_assert_int_eq(sl_log_read(l, 101, 1 << 20, INT64_MAX, &out), SL_EOFFSET);
    sl_buf_fini(&out);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

/* sl_log_append_built takes sl_bb_finish's output as it is and assigns offsets like sl_log_append; both refuse
 * a batch whose length does not match n; a flipped value byte is what only sl_log_append's record walk (the CRC)
 * catches, and that walk is what the built path saves. */
START_TEST(log_append_built_checks_the_header_only)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    struct sl_log *l = open_cfg(&c);
    struct sl_batch_builder b;
    struct sl_slice out;
    uint8_t val[32];
    memset(val, 'v', sizeof val);
    sl_bb_init(&b);
    struct sl_record r = {.timestamp = T0, .value = {val, sizeof val}};
    ck_assert_int_eq(sl_bb_add(&b, &r), 0);
    ck_assert_int_eq(sl_bb_finish(&b, &out), 0);
    uint8_t *copy = malloc(out.len);
    sl_offset_t first = -1, last = -1;
    memcpy(copy, out.base, out.len);
    ck_assert_int_eq(sl_log_append_built(l, copy, out.len, 0, &first, &last), 0);
    ck_assert_int_eq(first, 0);
    ck_assert_int_eq(last, 0);
    memcpy(copy, out.base, out.len);
    ck_assert_int_eq(sl_log_append_built(l, copy, out.len - 1, 0, &first, &last), SL_EBADBATCH);
    ck_assert_int_eq(sl_log_append(l, copy, out.len - 1, 0, &first, &last), SL_EBADBATCH);
    memcpy(copy, out.base, out.len);
    copy[out.len - 2] ^= 1; /* inside the value: covered by the CRC */
    ck_assert_int_eq(sl_log_append(l, copy, out.len, 0, &first, &last), SL_EBADBATCH);
    memcpy(copy, out.base, out.len);
    ck_assert_int_eq(sl_log_append_built(l, copy, out.len, 0, &first, &last), 0);
    ck_assert_int_eq(first, 1);
    struct walk w = read_walk(l, 0, 1 << 20, INT64_MAX);
    ck_assert_int_eq(w.nbatches, 2);
    ck_assert_int_eq(w.last, 1);
    free(copy);
    sl_bb_fini(&b);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

START_TEST(log_read_max_bytes_smaller_than_a_batch_returns_that_batch)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    struct sl_log *l = open_cfg(&c);
    for (int i = 0; i < 4; i++)
        append_n(l, 10, T0, 200);
    struct walk w = read_walk(l, 0, 1, INT64_MAX);
    ck_assert_int_eq(w.nbatches, 1);
    ck_assert_int_eq(w.last, 9);
    w = read_walk(l, 15, 1, INT64_MAX);
    ck_assert_int_eq(w.nbatches, 1);
    ck_assert_int_eq(w.first, 10);
    /* Room for two and a half batches: two. */
    struct sl_buf out = {0};
    ck_assert_int_eq(sl_log_read(l, 0, 1, INT64_MAX, &out), 0);
    size_t one = out.len;
    out.len = 0;
    ck_assert_int_eq(sl_log_read(l, 0, one * 5 / 2, INT64_MAX, &out), 0);
    ck_assert_uint_eq(out.len, 2 * one);
    sl_buf_fini(&out);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

START_TEST(log_read_respects_upto)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    struct sl_log *l = open_cfg(&c);
    for (int i = 0; i < 10; i++)
        append_n(l, 10, T0, 20);
    struct walk w = read_walk(l, 0, 1 << 20, 50);
    ck_assert_int_eq(w.last, 49);
    w = read_walk(l, 0, 1 << 20, 55); /* the batch 50..59 ends past upto */
    ck_assert_int_eq(w.last, 49);
    w = read_walk(l, 50, 1 << 20, 50);
    ck_assert_int_eq(w.nbatches, 0);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

START_TEST(log_rolls_on_segment_bytes)
{
    struct sl_log_cfg c = cfg_small(1000, 100);
    struct sl_log *l = open_cfg(&c);
    for (int i = 0; i < 30; i++)
        append_n(l, 2, T0, 100); /* ~290 bytes each: 3 per segment */
    ck_assert_uint_eq(sl_log_segment_count(l), 10);
    char *p = sl_test_path(tmp, "00000000000000000006.log");
    ck_assert_int_eq(access(p, F_OK), 0);
    free(p);
    struct walk w = read_walk(l, 0, 1 << 30, INT64_MAX);
    ck_assert_int_eq(w.last, 5); /* one segment per read */
    for (sl_offset_t o = 0; o < 60; o++) {
        w = read_walk(l, o, 1, INT64_MAX);
        ck_assert_int_eq(w.first, o & ~1);
    }
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

START_TEST(log_rolls_on_segment_ms)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    c.segment_ms = 1000;
    struct sl_log *l = open_cfg(&c);
    append_n(l, 1, T0, 10);
    sl_test_clock_advance(999);
    append_n(l, 1, T0, 10);
    ck_assert_uint_eq(sl_log_segment_count(l), 1);
    ck_assert_int_eq(sl_log_roll_if_due(l, sl_test_clock_now()), 0);
    sl_test_clock_advance(1);
    append_n(l, 1, T0, 10); /* rolls first */
    ck_assert_uint_eq(sl_log_segment_count(l), 2);
    sl_test_clock_advance(1000);
    ck_assert_int_eq(sl_log_roll_if_due(l, sl_test_clock_now()), 1);
    ck_assert_uint_eq(sl_log_segment_count(l), 3);
    /* An empty active segment never rolls. */
    sl_test_clock_advance(5000);
    ck_assert_int_eq(sl_log_roll_if_due(l, sl_test_clock_now()), 0);
    ck_assert_int_eq(read_walk(l, 2, 1, INT64_MAX).first, 2);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

static void truncate_and_continue(sl_offset_t cut, sl_offset_t want_leo, uint32_t want_segs)
{
    struct sl_log_cfg c = cfg_small(1000, 100);
    struct sl_log *l = open_cfg(&c);
    for (int i = 0; i < 30; i++)
        append_n(l, 2, T0 + i, 100); /* 3 batches = 6 offsets per segment */
    ck_assert_int_eq(sl_log_truncate_to(l, cut), 0);
    ck_assert_int_eq(sl_log_end(l), want_leo);
    ck_assert_uint_eq(sl_log_segment_count(l), want_segs);
    struct sl_buf out = {0};
    ck_assert_int_eq(sl_log_read(l, want_leo + 1, 1 << 20, INT64_MAX, &out), SL_EOFFSET);
    sl_buf_fini(&out);
    ck_assert_int_eq(append_n(l, 3, T0 + 100, 10), want_leo);
    ck_assert_int_eq(append_n(l, 3, T0 + 101, 10), want_leo + 3);
    ck_assert_int_eq(read_walk(l, 0, 1 << 30, INT64_MAX).first, 0);
    for (sl_offset_t o = 0; o < want_leo + 6; o++) {
        struct walk w = read_walk(l, o, 1, INT64_MAX);
        ck_assert_int_le(w.first, o);
        ck_assert_int_ge(w.last, o);
    }
    ck_assert_int_eq(sl_log_close(l), 0);
    l = open_cfg(&c);
    ck_assert_int_eq(sl_log_end(l), want_leo + 6);
    ck_assert_str_eq(sl_log_recovery_report(l), "");
    ck_assert_int_eq(read_walk(l, want_leo, 1, INT64_MAX).last, want_leo + 2);
    ck_assert_int_eq(sl_log_close(l), 0);
}

START_TEST(log_truncate_in_the_middle_of_a_segment)
{
    truncate_and_continue(9, 8, 2); /* offset 9 lies in batch 8..9: the whole batch goes */
}
END_TEST

START_TEST(log_truncate_exactly_at_a_segment_boundary)
{
    truncate_and_continue(12, 12, 3); /* segment 12 is emptied and stays the active one */
}
END_TEST

START_TEST(log_truncate_at_or_past_leo_is_a_noop_and_below_start_is_an_error)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    struct sl_log *l = open_cfg(&c);
    append_n(l, 4, T0, 10);
    ck_assert_int_eq(sl_log_truncate_to(l, 4), 0);
    ck_assert_int_eq(sl_log_truncate_to(l, 100), 0);
    ck_assert_int_eq(sl_log_end(l), 4);
    ck_assert_int_eq(sl_log_truncate_to(l, -1), SL_EOFFSET);
    ck_assert_int_eq(sl_log_truncate_to(l, 0), 0);
    ck_assert_int_eq(sl_log_end(l), 0);
    ck_assert_int_eq(append_n(l, 1, T0, 10), 0);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

static sl_offset_t off_for(struct sl_log *l, int64_t ts)
{
    sl_offset_t o;
    ck_assert_int_eq(sl_log_offset_for_time(l, ts, &o), 0);
    return o;
}

START_TEST(log_offset_for_time_before_exact_between_after)
{
    struct sl_log_cfg c = cfg_small(1000, 100);
    struct sl_log *l = open_cfg(&c);
    /* Batch i: 4 records at T0 + 100 i + {0, 10, 20, 30} (timestamps step 10 inside a batch). */
    for (int i = 0; i < 40; i++) {
        struct sl_batch_builder b;
        struct sl_slice out;
        sl_bb_init(&b);
        for (int k = 0; k < 4; k++) {
            struct sl_record r = {.timestamp = T0 + 100 * i + 10 * k, .value = {(const uint8_t *)"x", 1}};
            ck_assert_int_eq(sl_bb_add(&b, &r), 0);
        }
        ck_assert_int_eq(sl_bb_finish(&b, &out), 0);
        ck_assert_int_eq(sl_log_append(l, (uint8_t *)out.base, out.len, 0, NULL, NULL), 0);
        sl_bb_fini(&b);
    }
    ck_assert_uint_gt(sl_log_segment_count(l), 2);
    for (int pass = 0; pass < 2; pass++) {
        ck_assert_int_eq(off_for(l, 0), 0);
        ck_assert_int_eq(off_for(l, T0 - 1), 0);
        ck_assert_int_eq(off_for(l, T0), 0);
        ck_assert_int_eq(off_for(l, T0 + 10), 1);
        ck_assert_int_eq(off_for(l, T0 + 11), 2);
        ck_assert_int_eq(off_for(l, T0 + 31), 4);
        ck_assert_int_eq(off_for(l, T0 + 100 * 17 + 20), 17 * 4 + 2);
        ck_assert_int_eq(off_for(l, T0 + 100 * 17 + 50), 18 * 4);
        for (int i = 0; i < 40 * 4; i++)
            ck_assert_int_eq(off_for(l, T0 + 100 * (i / 4) + 10 * (i % 4)), i);
        ck_assert_int_eq(off_for(l, T0 + 100 * 39 + 30), 159);
        ck_assert_int_eq(off_for(l, T0 + 100 * 39 + 31), 160); /* after the last: LEO */
        ck_assert_int_eq(sl_log_close(l), 0);
        l = open_cfg(&c);
    }
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

/* Reads of every offset with max_bytes 1, concatenated, plus LEO and log start. */
static void snapshot(struct sl_log *l, struct sl_buf *all)
{
    all->len = 0;
    for (sl_offset_t o = sl_log_start(l); o < sl_log_end(l); o++)
        ck_assert_int_eq(sl_log_read(l, o, 1, INT64_MAX, all), 0);
    for (int64_t t = T0 - 5; t < T0 + 400; t += 3) {
        sl_offset_t x = off_for(l, t);
        sl_buf_append(all, &x, sizeof x);
    }
}

static void reopen_identical(bool delete_indexes)
{
    struct sl_log_cfg c = cfg_small(3000, 128);
    struct sl_log *l = open_cfg(&c);
    for (int i = 0; i < 60; i++)
        append_n(l, 3, T0 + 5 * i, 60);
    struct sl_buf before = {0}, after = {0};
    snapshot(l, &before);
    sl_offset_t leo = sl_log_end(l), start = sl_log_start(l);
    uint32_t nseg = sl_log_segment_count(l);
    ck_assert_uint_gt(nseg, 2);
    ck_assert_int_eq(sl_log_close(l), 0);
    if (delete_indexes) {
        char cmd[4300];
        snprintf(cmd, sizeof cmd, "rm -f %s/*.index %s/*.timeindex", tmp, tmp);
        ck_assert_int_eq(system(cmd), 0);
    }
    l = open_cfg(&c);
    ck_assert_int_eq(sl_log_end(l), leo);
    ck_assert_int_eq(sl_log_start(l), start);
    ck_assert_int_eq(sl_log_durable(l), leo);
    ck_assert_uint_eq(sl_log_segment_count(l), nseg);
    ck_assert_str_eq(sl_log_recovery_report(l), "");
    snapshot(l, &after);
    ck_assert_uint_eq(before.len, after.len);
    ck_assert(memcmp(before.base, after.base, before.len) == 0);
    if (delete_indexes) {
        char *p = sl_test_path(tmp, "00000000000000000000.index");
        ck_assert_int_eq(access(p, F_OK), 0); /* rebuilt on disk too */
        free(p);
    }
    ck_assert_int_eq(append_n(l, 1, T0, 10), leo);
    ck_assert_int_eq(sl_log_close(l), 0);
    sl_buf_fini(&before);
    sl_buf_fini(&after);
}

START_TEST(log_reopen_after_clean_close_is_identical)
{
    reopen_identical(false);
}
END_TEST

START_TEST(log_deleted_index_files_are_rebuilt_with_identical_lookups)
{
    reopen_identical(true);
}
END_TEST

START_TEST(log_sync_publishes_the_durable_offset)
{
    struct sl_log_cfg c = cfg_small(1000, 100);
    struct sl_log *l = open_cfg(&c);
    sl_offset_t d = -1;
    ck_assert_int_eq(sl_log_sync(l, &d), 0);
    ck_assert_int_eq(d, 0);
    for (int i = 0; i < 10; i++)
        append_n(l, 2, T0, 100);
    ck_assert_int_eq(sl_log_durable(l), 0);
    ck_assert_int_eq(sl_log_sync(l, &d), 0);
    ck_assert_int_eq(d, 20);
    ck_assert_int_eq(sl_log_durable(l), 20);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

static sl_offset_t ckpt_recovery_point(void)
{
    struct sl_pckpt k;
    ck_assert_int_eq(sl_ckpt_read(&sl_fileops_posix, tmp, &k), 0);
    return k.recovery_point;
}

/* sl_log_sync_data leaves partition.ckpt alone; the checkpoint is due a second after the last one once a
 * sync advanced the recovery point, and writing it clears that. */
START_TEST(log_sync_data_defers_the_checkpoint_to_the_caller)
{
    struct sl_log_cfg c = cfg_small(1000, 100);
    struct sl_log *l = open_cfg(&c);
    sl_offset_t d = -1;
    ck_assert_int_eq(sl_log_checkpoint(l), 0);
    sl_test_clock_advance(5000);
    ck_assert(!sl_log_checkpoint_due(l)); /* nothing synced since */
    append_n(l, 3, T0, 100);
    ck_assert_int_eq(sl_log_sync_data(l, &d), 0);
    ck_assert_int_eq(d, 3);
    ck_assert_int_eq(ckpt_recovery_point(), 0);
    ck_assert(sl_log_checkpoint_due(l));
    ck_assert_int_eq(sl_log_checkpoint(l), 0);
    ck_assert_int_eq(ckpt_recovery_point(), 3);
    ck_assert(!sl_log_checkpoint_due(l));
    append_n(l, 2, T0, 100);
    ck_assert_int_eq(sl_log_sync_data(l, &d), 0);
    sl_test_clock_advance(999);
    ck_assert(!sl_log_checkpoint_due(l)); /* under a second since the last one */
    sl_test_clock_advance(1);
    ck_assert(sl_log_checkpoint_due(l));
    ck_assert_int_eq(sl_log_sync(l, &d), 0); /* sl_log_sync writes it itself */
    ck_assert_int_eq(ckpt_recovery_point(), 5);
    ck_assert(!sl_log_checkpoint_due(l));
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

/* ---- sticky failure: a fileops table whose fdatasync fails once armed ---- */

static int fail_armed;

static int failing_fdatasync(int fd)
{
    if (__atomic_load_n(&fail_armed, __ATOMIC_SEQ_CST))
        return -EIO;
    return sl_fileops_posix.fdatasync(fd);
}

START_TEST(log_failed_fdatasync_is_sticky)
{
    struct sl_fileops fo = sl_fileops_posix;
    fo.fdatasync = failing_fdatasync;
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    c.fops = &fo;
    fail_armed = 0;
    struct sl_log *l = open_cfg(&c);
    append_n(l, 2, T0, 10);
    fail_armed = 1;
    sl_offset_t d;
    ck_assert_int_eq(sl_log_sync(l, &d), SL_EFAILED);
    fail_armed = 0; /* even once the disk "recovers", the log stays failed */
    ck_assert(sl_log_failed(l));
    ck_assert_int_eq(sl_log_sync(l, &d), SL_EFAILED);
    struct sl_buf out = {0};
    ck_assert_int_eq(sl_log_read(l, 0, 100, INT64_MAX, &out), 0); /* what was written stays readable */
    ck_assert_uint_gt(out.len, 0);
    sl_buf_fini(&out);
    char why[192];
    sl_log_fail_reason(l, why, sizeof why);
    ck_assert_msg(strstr(why, "fdatasync"), "fail reason \"%s\"", why);
    uint8_t junk[100] = {0};
    ck_assert_int_eq(sl_log_append(l, junk, sizeof junk, 0, NULL, NULL), SL_EFAILED);
    ck_assert_int_eq(sl_log_truncate_to(l, 0), SL_EFAILED);
    ck_assert_int_eq(sl_log_retain(l, T0), SL_EFAILED);
    ck_assert_int_eq(sl_log_roll_if_due(l, T0), SL_EFAILED);
    ck_assert_int_eq(sl_log_checkpoint(l), SL_EFAILED);
    ck_assert_int_eq(sl_log_close(l), SL_EFAILED);
}
END_TEST

START_TEST(log_rejects_bad_and_oversized_batches)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    c.max_batch_bytes = 500;
    struct sl_log *l = open_cfg(&c);
    struct sl_batch_builder b;
    struct sl_slice out;
    sl_bb_init(&b);
    struct sl_record r = {.timestamp = T0, .value = {(const uint8_t *)"hello", 5}};
    ck_assert_int_eq(sl_bb_add(&b, &r), 0);
    ck_assert_int_eq(sl_bb_finish(&b, &out), 0);
    uint8_t *p = (uint8_t *)out.base;
    p[out.len - 1] ^= 1;
    ck_assert_int_eq(sl_log_append(l, p, out.len, 0, NULL, NULL), SL_EBADBATCH);
    p[out.len - 1] ^= 1;
    ck_assert_int_eq(sl_log_append(l, p, out.len - 1, 0, NULL, NULL), SL_EBADBATCH);
    uint8_t big[600] = {0};
    ck_assert_int_eq(sl_log_append(l, big, sizeof big, 0, NULL, NULL), SL_ETOOBIG);
    ck_assert_int_eq(sl_log_end(l), 0);
    ck_assert_int_eq(sl_log_append(l, p, out.len, 0, NULL, NULL), 0);
    ck_assert_int_eq(sl_log_end(l), 1);
    sl_bb_fini(&b);
    ck_assert(!sl_log_failed(l));
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

START_TEST(log_epochs_are_recorded_and_truncated)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 4096);
    struct sl_log *l = open_cfg(&c);
    sl_offset_t first;
    ck_assert_int_eq(sl_log_latest_epoch(l), -1);
    ck_assert_int_eq(sl_log_epoch_end_offset(l, 0), -1);
    append_n(l, 5, T0, 10);
    ck_assert_int_eq(sl_log_latest_epoch(l), 0);
    ck_assert_int_eq(sl_log_epoch_assign(l, 3), 0);
    ck_assert_int_eq(append_e(l, 5, T0, 10, 0, &first), SL_EFENCED); /* older than the latest epoch */
    ck_assert_int_eq(append_e(l, 5, T0, 10, 3, &first), 0);
    ck_assert_int_eq(first, 5);
    ck_assert_int_eq(append_e(l, 2, T0, 10, 5, &first), 0);
    ck_assert_int_eq(sl_log_latest_epoch(l), 5);
    ck_assert_int_eq(sl_log_epoch_end_offset(l, 0), 5);
    ck_assert_int_eq(sl_log_epoch_end_offset(l, 1), 5);
    ck_assert_int_eq(sl_log_epoch_end_offset(l, 3), 10);
    ck_assert_int_eq(sl_log_epoch_end_offset(l, 5), 12);
    ck_assert_int_eq(sl_log_epoch_end_offset(l, 6), -1);
    ck_assert_int_eq(sl_log_close(l), 0);
    l = open_cfg(&c); /* persisted in leader-epoch-checkpoint */
    ck_assert_int_eq(sl_log_latest_epoch(l), 5);
    ck_assert_int_eq(sl_log_epoch_end_offset(l, 3), 10);
    ck_assert_int_eq(sl_log_truncate_to(l, 7), 0); /* the batch 5..9 goes whole, and epoch 3 with it */
    ck_assert_int_eq(sl_log_end(l), 5);
    ck_assert_int_eq(sl_log_latest_epoch(l), 0);
    ck_assert_int_eq(sl_log_epoch_end_offset(l, 0), 5);
    ck_assert_int_eq(sl_log_close(l), 0);
    l = open_cfg(&c);
    ck_assert_int_eq(sl_log_latest_epoch(l), 0);
    ck_assert_int_eq(sl_log_close(l), 0);
}
END_TEST

/* ---- reads below the recovery point meet a header or index entry that went bad (issue 10) ---- */

#define BAD_N 40

/* One segment of BAD_N one-record batches of equal size, cleanly closed: open re-reads only the tail after
 * the last index entry, so damage to batch 3 is met by reads. Returns the batch size. */
static size_t build_equal_batches(const char *dir)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 512);
    c.dir = dir;
    struct sl_log *l = open_cfg(&c);
    for (int i = 0; i < BAD_N; i++)
        append_n(l, 1, T0 + i, 100);
    size_t size = (size_t)(sl_log_size(l) / BAD_N);
    ck_assert_int_eq(sl_log_close(l), 0);
    return size;
}

static void xor_at(const char *dir, const char *name, uint64_t pos, uint8_t x)
{
    char *p = sl_test_path(dir, name);
    FILE *f = fopen(p, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, (long)pos, SEEK_SET), 0);
    int b = fgetc(f);
    ck_assert_int_ne(b, EOF);
    ck_assert_int_eq(fseek(f, (long)pos, SEEK_SET), 0);
    ck_assert_int_ne(fputc(b ^ x, f), EOF);
    fclose(f);
    free(p);
}

/* Every offset but bad reads back as its own batch; bad (when >= 0) reads as SL_EDAMAGED. */
static void check_reads_around(const char *dir, sl_offset_t bad)
{
    struct sl_log_cfg c = cfg_small(1 << 20, 512);
    c.dir = dir;
    struct sl_log *l = open_cfg(&c);
    struct sl_buf out = {0};
    for (sl_offset_t o = BAD_N - 1; o >= 0; o--) { /* from the end: no read has met the damage yet */
        out.len = 0;
        int rc = sl_log_read(l, o, 1, INT64_MAX, &out);
        if (o == bad) {
            ck_assert_msg(rc == SL_EDAMAGED, "read(%" PRId64 ") of the bad batch = %s", o, sl_errname(rc));
            continue;
        }
        ck_assert_msg(rc == 0 && out.len > 0, "read(%" PRId64 ") = %s, %zu bytes", o, sl_errname(rc), out.len);
        struct walk w = walk_batches(&out);
        ck_assert_int_eq(w.first, o);
    }
    sl_buf_fini(&out);
    ck_assert_int_eq(sl_log_close(l), 0);
}

START_TEST(log_read_is_not_misled_by_a_bad_header_or_index_entry_below_the_recovery_point)
{
    /* baseOffset, batchLength, lastOffsetDelta of batch 3; then the first index entry's position. */
    static const struct {
        uint32_t at;
        uint8_t x;
    } flips[] = {{4, 0x40}, {9, 0x58}, {23, 0x40}};
    for (size_t i = 0; i <= sizeof flips / sizeof flips[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "v%zu", i);
        char *dir = sl_test_path(tmp, name);
        size_t size = build_equal_batches(dir);
        if (i < sizeof flips / sizeof flips[0])
            xor_at(dir, "00000000000000000000.log", 3 * size + flips[i].at, flips[i].x);
        else /* still increasing, but pointing into the middle of a batch */
            xor_at(dir, "00000000000000000000.index", 7, 0x01);
        check_reads_around(dir, i < sizeof flips / sizeof flips[0] ? 3 : -1);
        free(dir);
    }
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, log_append_assigns_dense_offsets_and_reads_back);
    tcase_add_test(tc, log_append_built_checks_the_header_only);
    tcase_add_test(tc, log_read_max_bytes_smaller_than_a_batch_returns_that_batch);
    tcase_add_test(tc, log_read_respects_upto);
    tcase_add_test(tc, log_rolls_on_segment_bytes);
    tcase_add_test(tc, log_rolls_on_segment_ms);
    tcase_add_test(tc, log_truncate_in_the_middle_of_a_segment);
    tcase_add_test(tc, log_truncate_exactly_at_a_segment_boundary);
    tcase_add_test(tc, log_truncate_at_or_past_leo_is_a_noop_and_below_start_is_an_error);
    tcase_add_test(tc, log_offset_for_time_before_exact_between_after);
    tcase_add_test(tc, log_reopen_after_clean_close_is_identical);
    tcase_add_test(tc, log_deleted_index_files_are_rebuilt_with_identical_lookups);
    tcase_add_test(tc, log_sync_publishes_the_durable_offset);
    tcase_add_test(tc, log_sync_data_defers_the_checkpoint_to_the_caller);
    tcase_add_test(tc, log_failed_fdatasync_is_sticky);
    tcase_add_test(tc, log_rejects_bad_and_oversized_batches);
    tcase_add_test(tc, log_epochs_are_recorded_and_truncated);
    tcase_add_test(tc, log_read_is_not_misled_by_a_bad_header_or_index_entry_below_the_recovery_point);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
