/* libFuzzer harness: the RecordBatch decoder (storage/batch.h) and the consume renderer sl_rec_render
 * (api/codec/records.h) on arbitrary bytes, as a fetch from a damaged or hostile log would hand them over.
 *
 * INPUT: byte 0 = options (bits 0-1 format, bit 2 recompute the first batch's CRC so the fuzzer gets past
 * sl_batch_validate, bit 3 max_records 1, bit 4 a topic that needs JSON escaping), byte 1 = max_bytes
 * (x 64), bytes 2..9 = 'from' (little-endian), the rest = the batches.
 *
 * CHECKS
 *   1. sl_rec_render returns 0 or SL_ECORRUPT, never overflows (ASan/UBSan), and never leaves len > cap.
 *   2. A single batch that passes sl_batch_validate, with offsets a log could assign (base >= 0, last offset
 *      + 1 representable), renders with 0.
 *   3. On 0: "[" output "]" is a JSON array (jansson) of rd.count objects, whose offsets are >= from (and
 *      increasing for a validated batch: unvalidated bytes may number records in any order), and *next is
 *      the last offset + 1 (or from when nothing was rendered).
 *   4. Round trip (binary format, validated batch): each rendered key/value base64-decodes to the bytes the
 *      batch iterator returns for that offset. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "api/codec/records.h"
#include "storage/batch.h"
#include "storage/crc32c.h"
#include "storage/err.h"
#include "tests/fuzz/fuzz_check.h"

#define OPT_CRC 4
#define OPT_ONE 8
#define OPT_ESC 16

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Recomputes the CRC of the batch at p (n bytes available) when its length fits. */
static void fix_crc(uint8_t *p, size_t n)
{
    if (n < SL_BATCH_HEADER_SIZE)
        return;
    uint64_t sz = (uint64_t)be32(p + 8) + SL_BATCH_LOG_OVERHEAD;
    if (be32(p + 8) > INT32_MAX || sz < 21 || sz > n)
        return;
    uint32_t c = sl_crc32c(0, p + 21, (size_t)sz - 21);
    p[17] = (uint8_t)(c >> 24), p[18] = (uint8_t)(c >> 16), p[19] = (uint8_t)(c >> 8), p[20] = (uint8_t)c;
}

/* The record at offset off in the validated batch, or -1 when it has none. */
static int record_at(const uint8_t *p, size_t n, sl_offset_t off, struct sl_record *out)
{
    struct sl_batch_iter it;
    FUZZ_CHECK(sl_batch_iter_init(&it, p, n) == 0, "a validated batch must iterate");
    while (sl_batch_iter_next(&it, out) > 0)
        if (out->offset == off)
            return 0;
    return -1;
}

/* Check 4 for one field: j is the rendered JSON (a base64 string or null), s the stored bytes. */
static void same_bytes(json_t *j, struct sl_slice s, const char *what)
{
    if (!s.base) {
        FUZZ_CHECK(json_is_null(j), "null %s rendered as non-null", what);
        return;
    }
    FUZZ_CHECK(json_is_string(j), "%s is not a string", what);
    size_t n = json_string_length(j);
    uint8_t *dec = malloc(n / 4 * 3 + 4);
    ssize_t k = sl_base64_decode(json_string_value(j), n, dec);
    FUZZ_CHECK(k >= 0 && (size_t)k == s.len && memcmp(dec, s.base, s.len) == 0, "%s does not round-trip", what);
    free(dec);
}

static void check_output(const struct sl_render *rd, sl_offset_t from, sl_offset_t next, const uint8_t *batch,
                         size_t n, bool validated)
{
    struct sl_buf arr = {0};
    sl_buf_append(&arr, "[", 1);
    sl_buf_append(&arr, rd->out->base, rd->out->len);
    sl_buf_append(&arr, "]", 1);
    json_error_t je;
    json_t *a = json_loadb((const char *)arr.base, arr.len, JSON_ALLOW_NUL, &je); /* "\u0000" is JSON */
    FUZZ_CHECK(json_is_array(a), "rendered output is not a JSON array: %s", je.text);
    FUZZ_CHECK(json_array_size(a) == rd->count, "%zu objects, count %zu", json_array_size(a), rd->count);
    sl_offset_t last = from;
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o) {
        json_int_t off = json_integer_value(json_object_get(o, "offset"));
        FUZZ_CHECK(off >= from && (!validated || i == 0 || off > last), "offset %lld after %lld (from %lld)",
                   (long long)off, (long long)last, (long long)from);
        last = off;
        struct sl_record r;
        if (validated && rd->fmt == SL_FMT_BINARY) {
            FUZZ_CHECK(record_at(batch, n, off, &r) == 0, "rendered offset %lld not in the batch", (long long)off);
            same_bytes(json_object_get(o, "key"), r.key, "key");
            same_bytes(json_object_get(o, "value"), r.value, "value");
        }
    }
    FUZZ_CHECK(next == (rd->count ? last + 1 : from), "next %lld, last %lld", (long long)next, (long long)last);
    json_decref(a);
    sl_buf_fini(&arr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10)
        return 0;
    uint8_t opt = data[0];
    sl_offset_t from = 0;
    for (int i = 7; i >= 0; i--)
        from = (sl_offset_t)((uint64_t)from << 8 | data[2 + i]);
    size_t n = size - 10;
    uint8_t *b = malloc(n ? n : 1); /* exact size: ASan sees any read past the batches */
    memcpy(b, data + 10, n);
    if (opt & OPT_CRC)
        fix_crc(b, n);
    bool validated = n >= SL_BATCH_HEADER_SIZE && sl_batch_validate(b, n) == 0;
    struct sl_batch_hdr h = {0};
    bool sane = validated && sl_batch_hdr_decode(b, n, &h) == 0 && h.base_offset >= 0 &&
                h.base_offset < INT64_MAX - h.last_offset_delta; /* offsets the log could have assigned */
    struct sl_buf out = {0};
    struct sl_render rd = {.out = &out, .fmt = (enum sl_fmt)((opt & 3) % 3), .max_bytes = (size_t)data[1] * 64,
                           .max_records = opt & OPT_ONE ? 1 : 0};
    sl_offset_t next;
    int rc = sl_rec_render(&rd, opt & OPT_ESC ? "t\"\\\x01\xc3" : "events", 3, b, n, from, &next);
    FUZZ_CHECK(rc == 0 || rc == SL_ECORRUPT, "rc %d (%s)", rc, sl_strerror(rc));
    FUZZ_CHECK(out.len <= out.cap, "len %zu > cap %zu", out.len, out.cap);
    FUZZ_CHECK(!sane || rc == 0, "a validated batch failed to render: %s", sl_strerror(rc));
    if (rc == 0)
        check_output(&rd, from, next, b, n, validated);
    sl_buf_fini(&out);
    free(b);
    return 0;
}
