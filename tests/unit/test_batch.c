/* Unit tests for storage/batch.c: zig-zag varints, the builder, the validator and the iterator, checked
 * against two batches written out byte by byte from the Kafka RecordBatch v2 layout
 * (https://kafka.apache.org/documentation/#recordbatch) with a CRC computed here, not by sl_crc32c. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/batch.h"
#include "storage/err.h"

/* ---- helpers ---- */

/* Bitwise CRC-32C (reflected polynomial 0x82F63B78, init and final xor ~0), independent of storage/crc32c.c. */
static uint32_t ref_crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static void be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Rewrites batchLength to n - 12 and the CRC over [21, n), so a test can break one thing at a time. */
static void reseal(uint8_t *p, size_t n)
{
    be32_put(p + 8, (uint32_t)(n - 12));
    be32_put(p + 17, ref_crc32c(p + 21, n - 21));
}

static struct sl_slice str(const char *s)
{
    return (struct sl_slice){(const uint8_t *)s, strlen(s)};
}

static const struct sl_slice null_slice = {NULL, 0};

static void assert_slice(struct sl_slice got, struct sl_slice want)
{
    if (!want.base) {
        ck_assert_ptr_null(got.base);
        return;
    }
    ck_assert_ptr_nonnull(got.base);
    ck_assert_uint_eq(got.len, want.len);
    if (want.len)
        ck_assert_mem_eq(got.base, want.base, want.len);
}

/* Iterates the batch and checks every record and header against want[], offsets from base. */
static void assert_records(const uint8_t *p, size_t n, const struct sl_record *want, int count, sl_offset_t base)
{
    struct sl_batch_iter it;
    struct sl_record r;
    struct sl_header h;

    ck_assert_int_eq(sl_batch_iter_init(&it, p, n), 0);
    for (int i = 0; i < count; i++) {
        ck_assert_int_eq(sl_batch_iter_next(&it, &r), 1);
        ck_assert_int_eq(r.offset, base + i);
        ck_assert_int_eq(r.timestamp, want[i].timestamp);
        assert_slice(r.key, want[i].key);
        assert_slice(r.value, want[i].value);
        ck_assert_uint_eq(r.nheaders, want[i].nheaders);
        for (uint32_t j = 0; j < r.nheaders; j++) {
            ck_assert_int_eq(sl_batch_iter_header(&it, j, &h), 0);
            assert_slice(h.key, want[i].headers[j].key.base ? want[i].headers[j].key : str(""));
            assert_slice(h.value, want[i].headers[j].value);
        }
    }
    ck_assert_int_eq(sl_batch_iter_next(&it, &r), 0);
}

/* Builds a batch from recs into b and returns it. */
static struct sl_slice build(struct sl_batch_builder *b, const struct sl_record *recs, int count)
{
    struct sl_slice out;
    sl_bb_init(b);
    for (int i = 0; i < count; i++)
        ck_assert_int_eq(sl_bb_add(b, &recs[i]), 0);
    ck_assert_int_eq(sl_bb_finish(b, &out), 0);
    return out;
}

/* ---- the fixed batches ---- */

/* baseOffset 0, epoch 0, one record: timestamp 1700000000000, key "k", value "hello", header ("h", "v"). */
static const uint8_t kafka_one[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /*  0 baseOffset 0 */
    0x00, 0x00, 0x00, 0x42,                         /*  8 batchLength 66 = 78 - 12 */
    0x00, 0x00, 0x00, 0x00,                         /* 12 partitionLeaderEpoch 0 */
    0x02,                                           /* 16 magic 2 */
    0xc6, 0x22, 0xac, 0xfa,                         /* 17 crc: CRC-32C of bytes [21, 78) */
    0x00, 0x00,                                     /* 21 attributes 0 */
    0x00, 0x00, 0x00, 0x00,                         /* 23 lastOffsetDelta 0 */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* 27 baseTimestamp 1700000000000 = 0x18bcfe56800 */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* 35 maxTimestamp 1700000000000 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* 43 producerId -1 */
    0xff, 0xff,                                     /* 51 producerEpoch -1 */
    0xff, 0xff, 0xff, 0xff,                         /* 53 baseSequence -1 */
    0x00, 0x00, 0x00, 0x01,                         /* 57 recordsCount 1 */
    /* record 0 */
    0x20,                         /* 61 length 16 (zig-zag 32) */
    0x00,                         /* 62 attributes 0 */
    0x00,                         /* 63 timestampDelta 0 */
    0x00,                         /* 64 offsetDelta 0 */
    0x02, 0x6b,                   /* 65 keyLength 1, key "k" */
    0x0a, 0x68, 0x65, 0x6c, 0x6c, /* 67 valueLength 5, value "hello" */
    0x6f,                         /*    ... */
    0x02,                         /* 73 headersCount 1 */
    0x02, 0x68,                   /* 74 header keyLength 1, key "h" */
    0x02, 0x76,                   /* 76 header valueLength 1, value "v" */
};

/* baseOffset 0, epoch 0, two records: (1700000000000, "k", "hello") and (1700000001500, null key, "world"). */
static const uint8_t kafka_two[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /*  0 baseOffset 0 */
    0x00, 0x00, 0x00, 0x4b,                         /*  8 batchLength 75 = 87 - 12 */
    0x00, 0x00, 0x00, 0x00,                         /* 12 partitionLeaderEpoch 0 */
    0x02,                                           /* 16 magic 2 */
    0xcf, 0x3f, 0xbf, 0x1e,                         /* 17 crc: CRC-32C of bytes [21, 87) */
    0x00, 0x00,                                     /* 21 attributes 0 */
    0x00, 0x00, 0x00, 0x01,                         /* 23 lastOffsetDelta 1 */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* 27 baseTimestamp 1700000000000 */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x6d, 0xdc, /* 35 maxTimestamp 1700000001500 = 0x18bcfe56ddc */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* 43 producerId -1 */
    0xff, 0xff,                                     /* 51 producerEpoch -1 */
    0xff, 0xff, 0xff, 0xff,                         /* 53 baseSequence -1 */
    0x00, 0x00, 0x00, 0x02,                         /* 57 recordsCount 2 */
    /* record 0 */
    0x18,                         /* 61 length 12 */
    0x00,                         /* 62 attributes 0 */
    0x00,                         /* 63 timestampDelta 0 */
    0x00,                         /* 64 offsetDelta 0 */
    0x02, 0x6b,                   /* 65 keyLength 1, key "k" */
    0x0a, 0x68, 0x65, 0x6c, 0x6c, /* 67 valueLength 5, value "hello" */
    0x6f,                         /*    ... */
    0x00,                         /* 73 headersCount 0 */
    /* record 1 */
    0x18,                         /* 74 length 12 */
    0x00,                         /* 75 attributes 0 */
    0xb8, 0x17,                   /* 76 timestampDelta 1500 (zig-zag 3000 = 0x38|0x80, 0x17) */
    0x02,                         /* 78 offsetDelta 1 */
    0x01,                         /* 79 keyLength -1: null key */
    0x0a, 0x77, 0x6f, 0x72, 0x6c, /* 80 valueLength 5, value "world" */
    0x64,                         /*    ... */
    0x00,                         /* 86 headersCount 0 */
};

static const struct sl_header one_hdr[] = {{{(const uint8_t *)"h", 1}, {(const uint8_t *)"v", 1}}};
static const struct sl_record one_rec[] = {
    {1700000000000, 0, {(const uint8_t *)"k", 1}, {(const uint8_t *)"hello", 5}, 1, one_hdr},
};
static const struct sl_record two_rec[] = {
    {1700000000000, 0, {(const uint8_t *)"k", 1}, {(const uint8_t *)"hello", 5}, 0, NULL},
    {1700000001500, 0, {NULL, 0}, {(const uint8_t *)"world", 5}, 0, NULL},
};

static void check_fixed(const uint8_t *want, size_t n, const struct sl_record *recs, int count)
{
    struct sl_batch_builder b;
    struct sl_batch_hdr h;

    ck_assert_uint_eq(be32_get(want + 17), ref_crc32c(want + 21, n - 21));
    struct sl_slice out = build(&b, recs, count);
    ck_assert_uint_eq(out.len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(out.base[i] == want[i], "byte %zu: built 0x%02x, spec 0x%02x", i, out.base[i], want[i]);
    sl_bb_fini(&b);

    ck_assert_int_eq(sl_batch_validate(want, n), 0);
    ck_assert_int_eq(sl_batch_hdr_decode(want, n, &h), 0);
    ck_assert_int_eq(h.base_offset, 0);
    ck_assert_int_eq(h.length, (int32_t)n - 12);
    ck_assert_int_eq(h.epoch, 0);
    ck_assert_int_eq(h.magic, 2);
    ck_assert_uint_eq(h.crc, ref_crc32c(want + 21, n - 21));
    ck_assert_int_eq(h.attributes, 0);
    ck_assert_int_eq(h.last_offset_delta, count - 1);
    ck_assert_int_eq(h.base_timestamp, recs[0].timestamp);
    ck_assert_int_eq(h.max_timestamp, recs[count - 1].timestamp);
    ck_assert_int_eq(h.producer_id, -1);
    ck_assert_int_eq(h.producer_epoch, -1);
    ck_assert_int_eq(h.base_sequence, -1);
    ck_assert_int_eq(h.count, count);
    assert_records(want, n, recs, count, 0);
}

START_TEST(batch_fixed_one_record_matches_kafka_spec_bytes)
{
    check_fixed(kafka_one, sizeof(kafka_one), one_rec, 1);
}
END_TEST

START_TEST(batch_fixed_two_records_encode_offset_and_timestamp_deltas)
{
    check_fixed(kafka_two, sizeof(kafka_two), two_rec, 2);
}
END_TEST

/* ---- varints ---- */

static const struct {
    int64_t v;
    size_t size;
} varint_cases[] = {
    {0, 1}, {-1, 1}, {1, 1}, {63, 1}, {-64, 1}, {64, 2}, {-65, 2}, {8191, 2}, {8192, 3},
    {INT32_MAX, 5}, {INT32_MIN, 5}, {(int64_t)INT32_MAX + 1, 5}, {(int64_t)INT32_MIN - 1, 5},
    {INT64_MAX, 10}, {INT64_MIN, 10}, {INT64_MAX / 2, 9}, {INT64_MIN / 2, 9},
};

START_TEST(varint_roundtrips_at_boundaries)
{
    for (size_t i = 0; i < sizeof(varint_cases) / sizeof(varint_cases[0]); i++) {
        uint8_t buf[16];
        int64_t got = 12345;
        size_t n = sl_varint_put(buf, varint_cases[i].v);
        ck_assert_uint_eq(n, varint_cases[i].size);
        ck_assert_uint_eq(sl_varint_size(varint_cases[i].v), n);
        ck_assert_uint_eq(sl_varint_get(buf, buf + n, &got), n);
        ck_assert_int_eq(got, varint_cases[i].v);
        ck_assert_uint_eq(sl_varint_get(buf, buf + sizeof(buf), &got), n); /* stops at its last byte */
    }
}
END_TEST

START_TEST(varint_writes_protobuf_zigzag_bytes)
{
    static const struct {
        int64_t v;
        uint8_t bytes[10];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {-1, {0x01}, 1},
        {1, {0x02}, 1},
        {63, {0x7e}, 1},
        {-64, {0x7f}, 1},
        {64, {0x80, 0x01}, 2},
        {-65, {0x81, 0x01}, 2},
        {INT32_MAX, {0xfe, 0xff, 0xff, 0xff, 0x0f}, 5},
        {INT32_MIN, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
        {INT64_MAX, {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
        {INT64_MIN, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[10];
        int64_t got;
        ck_assert_uint_eq(sl_varint_put(buf, cases[i].v), cases[i].n);
        ck_assert_mem_eq(buf, cases[i].bytes, cases[i].n);
        ck_assert_uint_eq(sl_varint_get(cases[i].bytes, cases[i].bytes + cases[i].n, &got), cases[i].n);
        ck_assert_int_eq(got, cases[i].v);
    }
}
END_TEST

START_TEST(varint_rejects_truncated_input)
{
    for (size_t i = 0; i < sizeof(varint_cases) / sizeof(varint_cases[0]); i++) {
        uint8_t buf[10];
        int64_t got;
        size_t n = sl_varint_put(buf, varint_cases[i].v);
        for (size_t k = 0; k < n; k++) {
            uint8_t *cut = malloc(k ? k : 1); /* exactly k bytes, so ASan sees any overread */
            memcpy(cut, buf, k);
            ck_assert_uint_eq(sl_varint_get(cut, cut + k, &got), 0);
            free(cut);
        }
    }
}
END_TEST

START_TEST(varint_rejects_overlong_input)
{
    static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t bit65[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    static const uint8_t cont10[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00};
    int64_t got;

    ck_assert_uint_eq(sl_varint_get(eleven, eleven + sizeof(eleven), &got), 0);
    ck_assert_uint_eq(sl_varint_get(bit65, bit65 + sizeof(bit65), &got), 0);
    ck_assert_uint_eq(sl_varint_get(cont10, cont10 + sizeof(cont10), &got), 0);
}
END_TEST

/* ---- builder and iterator ---- */

START_TEST(batch_roundtrip_keeps_every_field)
{
    static const struct sl_header hdrs[] = {
        {{(const uint8_t *)"trace", 5}, {(const uint8_t *)"abc", 3}},
        {{(const uint8_t *)"nullval", 7}, {NULL, 0}},
        {{(const uint8_t *)"", 0}, {(const uint8_t *)"", 0}}, /* empty key, empty (not null) value */
    };
    struct sl_record recs[] = {
        {1000, 0, {NULL, 0}, str("v0"), 0, NULL},                /* null key */
        {999, 0, str("k1"), {NULL, 0}, 0, NULL},                 /* null value: tombstone; ts goes back */
        {5000, 0, str("k2"), {(const uint8_t *)"", 0}, 0, NULL}, /* empty value */
        {-3, 0, str(""), str("v3"), 3, hdrs},                    /* empty key, headers, negative ts */
        {5000, 0, {NULL, 0}, {NULL, 0}, 1, hdrs + 1},            /* everything null */
    };
    struct sl_batch_builder b;
    struct sl_batch_hdr h;
    struct sl_slice out = build(&b, recs, 5);

    ck_assert_int_eq(sl_batch_validate(out.base, out.len), 0);
    ck_assert_int_eq(sl_batch_hdr_decode(out.base, out.len, &h), 0);
    ck_assert_int_eq(h.base_timestamp, 1000);
    ck_assert_int_eq(h.max_timestamp, 5000);
    ck_assert_int_eq(h.count, 5);
    ck_assert_int_eq(h.last_offset_delta, 4);
    assert_records(out.base, out.len, recs, 5, 0);
    sl_bb_fini(&b);
}
END_TEST

START_TEST(batch_roundtrip_many_records_with_varied_sizes)
{
    enum { N = 5000 };
    static struct sl_record recs[N];
    static struct sl_header hdrs[N];
    static uint8_t data[4096];
    struct sl_batch_builder b;
    struct sl_batch_hdr h;
    int64_t max_ts = INT64_MIN;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + 7);
    for (int i = 0; i < N; i++) {
        hdrs[i] = (struct sl_header){{data, (size_t)(i % 5)}, {data + 1, (size_t)(i % 300)}};
        recs[i] = (struct sl_record){
            .timestamp = 1700000000000 + (int64_t)((i * 7919) % 100000) - 50000,
            .key = (i % 11) ? (struct sl_slice){data + i % 13, (size_t)(i % 200)} : null_slice,
            .value = (i % 17) ? (struct sl_slice){data, (size_t)((i * 37) % 4000)} : null_slice,
            .nheaders = (uint32_t)(i % 3),
            .headers = hdrs + (i < N - 2 ? i : 0),
        };
        if (recs[i].timestamp > max_ts)
            max_ts = recs[i].timestamp;
    }
    struct sl_slice out = build(&b, recs, N);
    ck_assert_int_eq(sl_batch_validate(out.base, out.len), 0);
    ck_assert_int_eq(sl_batch_hdr_decode(out.base, out.len, &h), 0);
    ck_assert_int_eq(h.count, N);
    ck_assert_int_eq(h.last_offset_delta, N - 1);
    ck_assert_int_eq(h.base_timestamp, recs[0].timestamp);
    ck_assert_int_eq(h.max_timestamp, max_ts);
    assert_records(out.base, out.len, recs, N, 0);
    sl_bb_fini(&b);
}
END_TEST

START_TEST(batch_timestamps_survive_int64_extremes)
{
    struct sl_record recs[] = {
        {INT64_MIN, 0, str("a"), str("1"), 0, NULL},
        {INT64_MAX, 0, str("b"), str("2"), 0, NULL}, /* delta wraps */
        {0, 0, str("c"), str("3"), 0, NULL},
        {-1, 0, str("d"), str("4"), 0, NULL},
    };
    struct sl_batch_builder b;
    struct sl_batch_hdr h;
    struct sl_slice out = build(&b, recs, 4);

    ck_assert_int_eq(sl_batch_validate(out.base, out.len), 0);
    ck_assert_int_eq(sl_batch_hdr_decode(out.base, out.len, &h), 0);
    ck_assert_int_eq(h.base_timestamp, INT64_MIN);
    ck_assert_int_eq(h.max_timestamp, INT64_MAX);
    assert_records(out.base, out.len, recs, 4, 0);
    sl_bb_fini(&b);
}
END_TEST

START_TEST(record_encoded_size_equals_bytes_added)
{
    static const struct sl_header hdrs[] = {{{(const uint8_t *)"h", 1}, {NULL, 0}}, {{NULL, 0}, {(const uint8_t *)"x", 1}}};
    static uint8_t big[70000];
    struct sl_record recs[] = {
        {100, 0, {NULL, 0}, {NULL, 0}, 0, NULL},
        {100 + 100000000, 0, str("key"), {big, sizeof(big)}, 2, hdrs},
        {-5, 0, {big, 63}, {big, 64}, 1, hdrs},
        {7, 0, {big, 8191}, {big, 0}, 0, NULL},
    };
    struct sl_batch_builder b;

    sl_bb_init(&b);
    for (int i = 0; i < 200; i++) {
        const struct sl_record *r = &recs[i % 4];
        size_t before = b.buf.len ? b.buf.len : SL_BATCH_HEADER_SIZE;
        size_t want = sl_record_encoded_size(r, i ? b.base_ts : r->timestamp, b.count);
        ck_assert_int_eq(sl_bb_add(&b, r), 0);
        ck_assert_uint_eq(b.buf.len - before, want);
    }
    sl_bb_fini(&b);
}
END_TEST

START_TEST(batches_next_walks_concatenated_batches_and_stops_at_bad_framing)
{
    struct sl_batch_builder b1, b2;
    struct sl_slice x = build(&b1, one_rec, 1), y = build(&b2, two_rec, 2);
    uint8_t buf[512];
    ck_assert_uint_le(x.len + y.len + 20, sizeof buf);
    memcpy(buf, x.base, x.len);
    memcpy(buf + x.len, y.base, y.len);
    sl_batch_set_base(buf + x.len, 1);
    struct sl_batch_hdr h;
    struct sl_slice got;
    size_t at = 0, n = x.len + y.len + 20; /* 20 bytes of a next batch, cut short by a read limit */
    ck_assert_int_eq(sl_batches_next(buf, n, &at, &h, &got), 1);
    ck_assert(got.base == buf && got.len == x.len && at == x.len && h.count == 1);
    ck_assert_int_eq(sl_batches_next(buf, n, &at, &h, &got), 1);
    ck_assert(got.len == y.len && h.base_offset == 1 && h.count == 2);
    ck_assert_int_eq(sl_batches_next(buf, n, &at, &h, &got), 0);
    ck_assert_uint_eq(at, x.len + y.len);
    /* a length running past the buffer, then offsets a log could not assign */
    at = 0;
    ck_assert_int_eq(sl_batches_next(buf, x.len - 1, &at, &h, &got), SL_ECORRUPT);
    sl_batch_set_base(buf, INT64_MAX);
    ck_assert_int_eq(sl_batches_next(buf, x.len, &at, &h, &got), SL_ECORRUPT);
    sl_batch_set_base(buf, -5);
    ck_assert_int_eq(sl_batches_next(buf, x.len, &at, &h, &got), SL_ECORRUPT);
    ck_assert_uint_eq(at, 0);
    sl_bb_fini(&b1);
    sl_bb_fini(&b2);
}
END_TEST

START_TEST(bb_finish_without_records_is_einval_and_reset_reuses_buffer)
{
    struct sl_batch_builder b;
    struct sl_slice out;

    sl_bb_init(&b);
    ck_assert_int_eq(sl_bb_finish(&b, &out), -EINVAL);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(sl_bb_add(&b, &two_rec[1]), 0);
    sl_bb_reset(&b);
    ck_assert_int_eq(sl_bb_finish(&b, &out), -EINVAL);
    ck_assert_int_eq(sl_bb_add(&b, &one_rec[0]), 0);
    ck_assert_int_eq(sl_bb_finish(&b, &out), 0);
    ck_assert_uint_eq(out.len, sizeof(kafka_one));
    ck_assert_mem_eq(out.base, kafka_one, sizeof(kafka_one));
    sl_bb_fini(&b);
}
END_TEST

START_TEST(set_base_and_epoch_keep_the_crc_valid)
{
    uint8_t buf[sizeof(kafka_two)];
    struct sl_batch_hdr h;

    memcpy(buf, kafka_two, sizeof(buf));
    sl_batch_set_base(buf, 12345678901234);
    sl_batch_set_epoch(buf, 7);
    ck_assert_int_eq(sl_batch_validate(buf, sizeof(buf)), 0);
    ck_assert_mem_eq(buf + 17, kafka_two + 17, 4);
    ck_assert_int_eq(sl_batch_hdr_decode(buf, sizeof(buf), &h), 0);
    ck_assert_int_eq(h.base_offset, 12345678901234);
    ck_assert_int_eq(h.epoch, 7);
    assert_records(buf, sizeof(buf), two_rec, 2, 12345678901234);
    sl_batch_set_epoch(buf, -1);
    ck_assert_int_eq(sl_batch_validate(buf, sizeof(buf)), 0);
    ck_assert_int_eq(sl_batch_hdr_decode(buf, sizeof(buf), &h), 0);
    ck_assert_int_eq(h.epoch, -1);
}
END_TEST

START_TEST(iter_reads_headers_in_any_order)
{
    static const struct sl_header hdrs[] = {
        {{(const uint8_t *)"a", 1}, {(const uint8_t *)"1", 1}},
        {{(const uint8_t *)"bb", 2}, {NULL, 0}},
        {{(const uint8_t *)"ccc", 3}, {(const uint8_t *)"333", 3}},
    };
    struct sl_record rec = {1, 0, str("k"), str("v"), 3, hdrs}, r;
    struct sl_batch_builder b;
    struct sl_batch_iter it;
    struct sl_header h;
    static const uint32_t order[] = {2, 0, 1, 1, 2, 0};
    struct sl_slice out = build(&b, &rec, 1);

    ck_assert_int_eq(sl_batch_iter_init(&it, out.base, out.len), 0);
    ck_assert_int_eq(sl_batch_iter_header(&it, 0, &h), -EINVAL); /* no record yet */
    ck_assert_int_eq(sl_batch_iter_next(&it, &r), 1);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        ck_assert_int_eq(sl_batch_iter_header(&it, order[i], &h), 0);
        assert_slice(h.key, hdrs[order[i]].key);
        assert_slice(h.value, hdrs[order[i]].value);
    }
    ck_assert_int_eq(sl_batch_iter_header(&it, 3, &h), -EINVAL);
    ck_assert_int_eq(sl_batch_iter_next(&it, &r), 0);
    sl_bb_fini(&b);
}
END_TEST

/* ---- validation ---- */

START_TEST(validate_rejects_every_flipped_bit_the_crc_covers)
{
    uint8_t buf[sizeof(kafka_two)];

    for (size_t i = 17; i < sizeof(buf); i++) { /* the CRC field itself, then [21, end) */
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, kafka_two, sizeof(buf));
            buf[i] ^= (uint8_t)(1u << bit);
            ck_assert_msg(sl_batch_validate(buf, sizeof(buf)) == SL_ECORRUPT, "byte %zu bit %d accepted", i, bit);
        }
    }
}
END_TEST

START_TEST(validate_rejects_every_truncation)
{
    for (size_t n = 0; n < sizeof(kafka_two); n++) {
        uint8_t *cut = malloc(n ? n : 1); /* exactly n bytes, so ASan sees any overread */
        memcpy(cut, kafka_two, n);
        ck_assert_int_eq(sl_batch_validate(cut, n), SL_ECORRUPT);
        if (n >= SL_BATCH_HEADER_SIZE) { /* even with batchLength and CRC made consistent */
            reseal(cut, n);
            ck_assert_int_eq(sl_batch_validate(cut, n), SL_ECORRUPT);
        } else {
            struct sl_batch_hdr h;
            ck_assert_int_eq(sl_batch_hdr_decode(cut, n, &h), SL_ECORRUPT);
        }
        free(cut);
    }
}
END_TEST

START_TEST(validate_rejects_bad_magic)
{
    uint8_t buf[sizeof(kafka_one)];
    static const uint8_t bad[] = {0, 1, 3, 0x82, 0xff};

    for (size_t i = 0; i < sizeof(bad); i++) {
        memcpy(buf, kafka_one, sizeof(buf));
        buf[16] = bad[i];
        reseal(buf, sizeof(buf)); /* magic is outside the CRC anyway */
        ck_assert_int_eq(sl_batch_validate(buf, sizeof(buf)), SL_ECORRUPT);
    }
}
END_TEST

START_TEST(validate_rejects_wrong_batch_length)
{
    uint8_t buf[sizeof(kafka_one) + 1];
    static const uint32_t bad[] = {0, 65, 67, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff4};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(buf, kafka_one, sizeof(kafka_one));
        be32_put(buf + 8, bad[i]);
        ck_assert_int_eq(sl_batch_validate(buf, sizeof(kafka_one)), SL_ECORRUPT);
    }
    /* right length for the bytes given, but one trailing byte after the records */
    memcpy(buf, kafka_one, sizeof(kafka_one));
    buf[sizeof(kafka_one)] = 0;
    reseal(buf, sizeof(buf));
    ck_assert_int_eq(sl_batch_validate(buf, sizeof(buf)), SL_ECORRUPT);
}
END_TEST

START_TEST(validate_rejects_compression_and_count_mismatches)
{
    uint8_t buf[sizeof(kafka_two)];
    static const struct {
        size_t at;
        uint32_t v;
    } bad[] = {
        {57, 0},          /* recordsCount 0 */
        {57, 1},          /* recordsCount 1 of 2 */
        {57, 3},          /* recordsCount 3 of 2 */
        {57, 0xffffffff}, /* recordsCount -1 */
        {23, 0},          /* lastOffsetDelta 0 */
        {23, 2},          /* lastOffsetDelta 2 */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(buf, kafka_two, sizeof(buf));
        be32_put(buf + bad[i].at, bad[i].v);
        reseal(buf, sizeof(buf));
        ck_assert_msg(sl_batch_validate(buf, sizeof(buf)) == SL_ECORRUPT, "case %zu accepted", i);
    }
    for (uint8_t codec = 1; codec < 8; codec++) { /* attributes bits 0-2: gzip, snappy, lz4, zstd, ... */
        memcpy(buf, kafka_two, sizeof(buf));
        buf[22] = codec;
        reseal(buf, sizeof(buf));
        ck_assert_int_eq(sl_batch_validate(buf, sizeof(buf)), SL_ECORRUPT);
    }
    /* a header-only batch: recordsCount 0, lastOffsetDelta -1 */
    memcpy(buf, kafka_two, SL_BATCH_HEADER_SIZE);
    be32_put(buf + 57, 0);
    be32_put(buf + 23, 0xffffffff);
    reseal(buf, SL_BATCH_HEADER_SIZE);
    ck_assert_int_eq(sl_batch_validate(buf, SL_BATCH_HEADER_SIZE), SL_ECORRUPT);
    /* control: dropping the second record with count and lastOffsetDelta fixed up is valid */
    memcpy(buf, kafka_two, sizeof(buf));
    be32_put(buf + 57, 1);
    be32_put(buf + 23, 0);
    reseal(buf, 74);
    ck_assert_int_eq(sl_batch_validate(buf, 74), 0);
}
END_TEST

/* A one-record batch around the raw record bytes rec[0..n), with correct batchLength and CRC. Returns size. */
static size_t make_batch(uint8_t *out, const uint8_t *rec, size_t n, uint32_t count)
{
    memcpy(out, kafka_one, SL_BATCH_HEADER_SIZE);
    be32_put(out + 57, count);
    be32_put(out + 23, count - 1);
    memcpy(out + SL_BATCH_HEADER_SIZE, rec, n);
    reseal(out, SL_BATCH_HEADER_SIZE + n);
    return SL_BATCH_HEADER_SIZE + n;
}

START_TEST(validate_rejects_bad_record_framing_under_a_valid_crc)
{
    static const struct {
        const char *what;
        uint8_t bytes[24];
        size_t n;
        int want;
    } cases[] = {
        {"good record", {0x20, 0, 0, 0, 0x02, 'k', 0x0a, 'h', 'e', 'l', 'l', 'o', 0x02, 0x02, 'h', 0x02, 'v'}, 17, 0},
        {"length one too long", {0x22, 0, 0, 0, 0x02, 'k', 0x0a, 'h', 'e', 'l', 'l', 'o', 0x02, 0x02, 'h', 0x02, 'v', 0}, 18, SL_ECORRUPT},
        {"length one too short", {0x1e, 0, 0, 0, 0x02, 'k', 0x0a, 'h', 'e', 'l', 'l', 'o', 0x02, 0x02, 'h', 0x02, 'v'}, 17, SL_ECORRUPT},
        {"length past batch end", {0x24, 0, 0, 0, 0x02, 'k', 0x0a, 'h', 'e', 'l', 'l', 'o', 0x02, 0x02, 'h', 0x02, 'v'}, 17, SL_ECORRUPT},
        {"length negative", {0x01, 0, 0, 0, 0x01, 0x01, 0}, 7, SL_ECORRUPT},
        {"length zero", {0x00}, 1, SL_ECORRUPT},
        {"key length -2", {0x0c, 0, 0, 0, 0x03, 0x01, 0}, 7, SL_ECORRUPT},
        {"key past record", {0x0c, 0, 0, 0, 0x08, 0x01, 0}, 7, SL_ECORRUPT},
        {"value past record", {0x0e, 0, 0, 0, 0x01, 0x06, 'a', 0}, 8, SL_ECORRUPT},
        {"value length -2", {0x0c, 0, 0, 0, 0x01, 0x03, 0}, 7, SL_ECORRUPT},
        {"key length above int32", {0x14, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x20, 0x01, 0}, 11, SL_ECORRUPT},
        {"headers count -1", {0x0c, 0, 0, 0, 0x01, 0x01, 0x01}, 7, SL_ECORRUPT},
        {"headers count 2, one present", {0x12, 0, 0, 0, 0x01, 0x01, 0x04, 0x02, 'h', 0x01}, 10, SL_ECORRUPT},
        {"null header key", {0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x01, 0x01}, 9, SL_ECORRUPT},
        {"header value length -2", {0x12, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 'h', 0x03}, 10, SL_ECORRUPT},
        {"header value past record", {0x12, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 'h', 0x04}, 10, SL_ECORRUPT},
        {"offsetDelta 1 for record 0", {0x0c, 0, 0, 0x02, 0x01, 0x01, 0}, 7, SL_ECORRUPT},
        {"offsetDelta -1 for record 0", {0x0c, 0, 0, 0x01, 0x01, 0x01, 0}, 7, SL_ECORRUPT},
        {"timestampDelta truncated", {0x0c, 0, 0x80, 0x80, 0x80, 0x80, 0x80}, 7, SL_ECORRUPT},
        {"minimal record: nulls, no headers", {0x0c, 0, 0, 0, 0x01, 0x01, 0}, 7, 0},
    };
    uint8_t buf[SL_BATCH_HEADER_SIZE + 24];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = make_batch(buf, cases[i].bytes, cases[i].n, 1);
        uint8_t *exact = malloc(n); /* exact size, so ASan sees any overread */
        memcpy(exact, buf, n);
        ck_assert_msg(sl_batch_validate(exact, n) == cases[i].want, "%s: got %d", cases[i].what,
                      sl_batch_validate(exact, n));
        free(exact);
    }
}
END_TEST

START_TEST(validate_rejects_offset_deltas_out_of_sequence)
{
    /* two minimal records, both with offsetDelta 0 */
    static const uint8_t dup[] = {0x0c, 0, 0, 0, 0x01, 0x01, 0, 0x0c, 0, 0, 0, 0x01, 0x01, 0};
    /* offsetDeltas 0 then 2 */
    static const uint8_t gap[] = {0x0c, 0, 0, 0, 0x01, 0x01, 0, 0x0c, 0, 0, 0x04, 0x01, 0x01, 0};
    static const uint8_t good[] = {0x0c, 0, 0, 0, 0x01, 0x01, 0, 0x0c, 0, 0, 0x02, 0x01, 0x01, 0};
    uint8_t buf[SL_BATCH_HEADER_SIZE + 16];

    ck_assert_int_eq(sl_batch_validate(buf, make_batch(buf, dup, sizeof(dup), 2)), SL_ECORRUPT);
    ck_assert_int_eq(sl_batch_validate(buf, make_batch(buf, gap, sizeof(gap), 2)), SL_ECORRUPT);
    ck_assert_int_eq(sl_batch_validate(buf, make_batch(buf, good, sizeof(good), 2)), 0);
}
END_TEST

/* Kafka: with timestamp type LogAppendTime (attributes bit 3) every record carries the batch's maxTimestamp. */
START_TEST(iter_uses_max_timestamp_under_log_append_time)
{
    uint8_t buf[sizeof(kafka_two)];
    struct sl_batch_iter it;
    struct sl_record r;

    memcpy(buf, kafka_two, sizeof(buf));
    buf[22] = 0x08;
    reseal(buf, sizeof(buf));
    ck_assert_int_eq(sl_batch_validate(buf, sizeof(buf)), 0);
    ck_assert_int_eq(sl_batch_iter_init(&it, buf, sizeof(buf)), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(sl_batch_iter_next(&it, &r), 1);
        ck_assert_int_eq(r.timestamp, 1700000001500);
    }
    ck_assert_int_eq(sl_batch_iter_next(&it, &r), 0);
}
END_TEST

/* The iterator is bounds-checked on its own: on garbage it may return SL_ECORRUPT, never read outside. */
START_TEST(iter_stays_in_bounds_on_corrupt_bytes)
{
    static const uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
    uint8_t *buf = malloc(sizeof(kafka_one));

    for (size_t i = 0; i < sizeof(kafka_one); i++) {
        for (size_t v = 0; v < sizeof(values); v++) {
            struct sl_batch_iter it;
            struct sl_record r;
            struct sl_header h;
            int rc;

            memcpy(buf, kafka_one, sizeof(kafka_one));
            buf[i] = values[v];
            if (sl_batch_iter_init(&it, buf, sizeof(kafka_one)))
                continue;
            while ((rc = sl_batch_iter_next(&it, &r)) == 1)
                for (uint32_t j = 0; j < r.nheaders; j++)
                    ck_assert_int_eq(sl_batch_iter_header(&it, j, &h), 0);
            ck_assert(rc == 0 || rc == SL_ECORRUPT);
        }
    }
    free(buf);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, batch_fixed_one_record_matches_kafka_spec_bytes);
    tcase_add_test(tc, batch_fixed_two_records_encode_offset_and_timestamp_deltas);
    tcase_add_test(tc, varint_roundtrips_at_boundaries);
    tcase_add_test(tc, varint_writes_protobuf_zigzag_bytes);
    tcase_add_test(tc, varint_rejects_truncated_input);
    tcase_add_test(tc, varint_rejects_overlong_input);
    tcase_add_test(tc, batch_roundtrip_keeps_every_field);
    tcase_add_test(tc, batch_roundtrip_many_records_with_varied_sizes);
    tcase_add_test(tc, batch_timestamps_survive_int64_extremes);
    tcase_add_test(tc, record_encoded_size_equals_bytes_added);
    tcase_add_test(tc, bb_finish_without_records_is_einval_and_reset_reuses_buffer);
    tcase_add_test(tc, set_base_and_epoch_keep_the_crc_valid);
    tcase_add_test(tc, iter_reads_headers_in_any_order);
    tcase_add_test(tc, validate_rejects_every_flipped_bit_the_crc_covers);
    tcase_add_test(tc, validate_rejects_every_truncation);
    tcase_add_test(tc, validate_rejects_bad_magic);
    tcase_add_test(tc, validate_rejects_wrong_batch_length);
    tcase_add_test(tc, validate_rejects_compression_and_count_mismatches);
    tcase_add_test(tc, validate_rejects_bad_record_framing_under_a_valid_crc);
    tcase_add_test(tc, validate_rejects_offset_deltas_out_of_sequence);
    tcase_add_test(tc, iter_uses_max_timestamp_under_log_append_time);
    tcase_add_test(tc, iter_stays_in_bounds_on_corrupt_bytes);
    tcase_add_test(tc, batches_next_walks_concatenated_batches_and_stops_at_bad_framing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(batch_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
