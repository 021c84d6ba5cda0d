/* storage/segment.c: 20-digit names, append + index entries, scan, truncate, delete with a live reader. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/batch.h"
#include "storage/err.h"
#include "storage/segment.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = sl_test_tmpdir();
}

static void teardown(void)
{
    sl_test_rmrf(tmp);
    free(tmp);
}

/* Appends a 2-record batch at offset base with timestamps ts, ts+1 and returns its size. */
static size_t append_batch(struct sl_seg *s, sl_offset_t base, int64_t ts, uint32_t interval)
{
    struct sl_batch_builder b;
    struct sl_slice out;
    struct sl_batch_hdr h;
    sl_bb_init(&b);
    for (int i = 0; i < 2; i++) {
        struct sl_record r = {.timestamp = ts + i, .value = {(const uint8_t *)"0123456789", 10}};
        ck_assert_int_eq(sl_bb_add(&b, &r), 0);
    }
    ck_assert_int_eq(sl_bb_finish(&b, &out), 0);
    sl_batch_set_base((uint8_t *)out.base, base);
    ck_assert_int_eq(sl_batch_hdr_decode(out.base, out.len, &h), 0);
    ck_assert_int_eq(sl_seg_append(s, out.base, out.len, &h, interval), 0);
    size_t n = out.len;
    sl_bb_fini(&b);
    return n;
}

static bool on_at(const struct sl_batch_hdr *h, void *arg)
{
    return h->base_offset + h->last_offset_delta >= *(sl_offset_t *)arg;
}

START_TEST(seg_names_are_20_digits)
{
    char buf[64];
    sl_seg_name(1234, "log", buf, sizeof buf);
    ck_assert_str_eq(buf, "00000000000000001234.log");
    sl_seg_name(INT64_MAX, "timeindex", buf, sizeof buf);
    ck_assert_str_eq(buf, "09223372036854775807.timeindex");
}
END_TEST

START_TEST(seg_append_indexes_every_interval_and_locates)
{
    struct sl_seg *s;
    ck_assert_int_eq(sl_seg_open(&sl_fileops_posix, tmp, 100, true, &s), 0);
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        n = append_batch(s, 100 + 2 * i, 1000 + 10 * i, (uint32_t)(2 * 100));
    ck_assert_uint_eq(sl_seg_size(s), 20 * n);
    ck_assert_int_eq(sl_seg_next(s), 140);
    ck_assert_int_eq(sl_seg_max_ts(s), 1000 + 190 + 1);
    ck_assert_uint_gt(s->idx.n, 3);
    ck_assert_uint_lt(s->idx.n, 20);
    for (sl_offset_t o = 100; o < 140; o++) {
        uint64_t pos, at_pos;
        sl_offset_t at;
        struct sl_batch_hdr h;
        sl_seg_locate(s, o, &pos, &at);
        ck_assert_int_le(at, o);
        ck_assert_int_eq(pos, (uint64_t)(at - 100) / 2 * n);
        ck_assert_int_eq(sl_seg_scan(s, pos, sl_seg_size(s), on_at, &o, &at_pos, &h), 0);
        ck_assert_int_eq(h.base_offset, o & ~1);
        ck_assert_uint_eq(at_pos, (uint64_t)(o - 100) / 2 * n);
    }
    sl_offset_t past = 140;
    uint64_t end;
    struct sl_batch_hdr h;
    ck_assert_int_eq(sl_seg_scan(s, 0, sl_seg_size(s), on_at, &past, &end, &h), 1);
    ck_assert_uint_eq(end, sl_seg_size(s));
    sl_seg_unref(s);
}
END_TEST

START_TEST(seg_truncate_then_reload_indexes)
{
    struct sl_seg *s, *r;
    ck_assert_int_eq(sl_seg_open(&sl_fileops_posix, tmp, 0, true, &s), 0);
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        n = append_batch(s, 2 * i, 1000 + 10 * i, 100);
    ck_assert_int_eq(sl_seg_truncate(s, 7 * n, 14, 100), 0);
    ck_assert_uint_eq(sl_seg_size(s), 7 * n);
    ck_assert_int_eq(sl_seg_next(s), 14);
    ck_assert_int_eq(sl_seg_max_ts(s), 1000 + 60 + 1);
    ck_assert_int_eq(sl_idx_last_ts(&s->idx) <= 1061, 1);
    append_batch(s, 14, 5000, 100);
    ck_assert_int_eq(sl_seg_next(s), 16);
    ck_assert_int_eq(sl_seg_write_index(s), 0);
    ck_assert_int_eq(sl_seg_open(&sl_fileops_posix, tmp, 0, false, &r), 0);
    ck_assert_uint_eq(sl_seg_size(r), 8 * n);
    ck_assert_int_eq(sl_seg_load_index(r), 0);
    ck_assert_uint_eq(r->idx.n, s->idx.n);
    ck_assert(memcmp(r->idx.e, s->idx.e, s->idx.n * sizeof *s->idx.e) == 0);
    sl_seg_unref(r);
    sl_seg_unref(s);
}
END_TEST

START_TEST(seg_delete_keeps_a_referenced_segment_readable)
{
    struct sl_seg *s;
    ck_assert_int_eq(sl_seg_open(&sl_fileops_posix, tmp, 7, true, &s), 0);
    size_t n = append_batch(s, 7, 1, 100);
    ck_assert_int_eq(sl_seg_write_index(s), 0);
    sl_seg_ref(s); /* a reader */
    ck_assert_int_eq(sl_seg_delete(s), 0);
    sl_seg_unref(s); /* the log's reference */
    char *p = sl_test_path(tmp, "00000000000000000007.log");
    ck_assert_int_ne(access(p, F_OK), 0);
    free(p);
    uint8_t buf[512];
    ck_assert_int_eq(sl_seg_read(s, 0, buf, sizeof buf), (ssize_t)n);
    struct sl_batch_hdr h;
    ck_assert_int_eq(sl_batch_hdr_decode(buf, n, &h), 0);
    ck_assert_int_eq(h.base_offset, 7);
    sl_seg_unref(s); /* last: closes and frees */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("segment");
    TCase *tc = tcase_create("segment");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, seg_names_are_20_digits);
    tcase_add_test(tc, seg_append_indexes_every_interval_and_locates);
    tcase_add_test(tc, seg_truncate_then_reload_indexes);
    tcase_add_test(tc, seg_delete_keeps_a_referenced_segment_readable);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
