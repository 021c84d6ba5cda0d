/* libFuzzer harness: the v2 produce body parser sl_rec_parse_v2 (api/codec/records.h; also the WebSocket producer's
 * message parser), then sl_rec_build and the renderer, on arbitrary bodies.
 *
 * INPUT: byte 0 = format (mod 3) and, in bits 2-7, the batch size limit (x 64 bytes, + 128); the rest = body.
 *
 * CHECKS
 *   1. The scanner accepts exactly what jansson's json_loadb(flags 0) accepts (the header's contract):
 *      jansson rejects <=> 400 (except the empty body: 422). Bodies with a NUL byte are skipped: jansson 2.14 skips a NUL right after a
 *      number (tests/unit/test_records.c, scanner_accepts_what_jansson_accepts).
 *   2. On success: one item per element of "records"; a json-format value is the same JSON value as
 *      jansson's; text and binary values are the string's (decoded) bytes.
 *   3. Parse -> build -> iterate round trip: every batch passes sl_batch_validate, holds the items without
 *      per-record errors, in order, with the same keys and values.
 *   4. Each batch renders (sl_rec_render) without error into a JSON array of its record count. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "api/codec/records.h"
#include "storage/batch.h"
#include "tests/fuzz/fuzz_check.h"

static bool same_slice(struct sl_slice a, struct sl_slice b)
{
    return (a.base == NULL) == (b.base == NULL) && a.len == b.len && (a.len == 0 || !memcmp(a.base, b.base, a.len));
}

/* Check 2 for one value: v is jansson's, s the parsed bytes. */
static void check_value(json_t *v, struct sl_slice s, enum sl_fmt fmt)
{
    if (!v || json_is_null(v)) {
        FUZZ_CHECK(s.base == NULL, "null value parsed as %zu bytes", s.len);
        return;
    }
    if (fmt == SL_FMT_JSON) {
        json_t *mine = json_loadb((const char *)s.base, s.len, JSON_DECODE_ANY, NULL);
        FUZZ_CHECK(mine && json_equal(mine, v), "json value differs: %.*s", (int)s.len, (const char *)s.base);
        json_decref(mine);
        return;
    }
    const char *str = json_string_value(v);
    size_t n = json_string_length(v);
    if (fmt == SL_FMT_BINARY) {
        uint8_t *dec = malloc(n / 4 * 3 + 4);
        ssize_t k = sl_base64_decode(str, n, dec);
        FUZZ_CHECK(k >= 0 && (size_t)k == s.len && !memcmp(dec, s.base, s.len), "binary value differs");
        free(dec);
    } else {
        FUZZ_CHECK(s.len == n && !memcmp(s.base, str, n), "text value differs");
    }
}

static void check_render(const struct sl_produce_batch *b, enum sl_fmt fmt)
{
    struct sl_buf out = {0};
    sl_buf_append(&out, "[", 1);
    struct sl_render rd = {.out = &out, .fmt = fmt, .max_bytes = SIZE_MAX};
    sl_offset_t next;
    FUZZ_CHECK(sl_rec_render(&rd, "events", b->partition, b->data, b->len, 0, &next) == 0, "render failed");
    sl_buf_append(&out, "]", 1);
    json_t *a = json_loadb((const char *)out.base, out.len, JSON_ALLOW_NUL, NULL); /* "\u0000" is JSON */
    FUZZ_CHECK(json_is_array(a) && json_array_size(a) == (size_t)b->count && next == b->count,
               "rendered %zu of %d records", json_array_size(a), b->count);
    json_decref(a);
    sl_buf_fini(&out);
}

/* Check 3: the batches hold exactly the good items, in item order per partition. */
static void check_build(struct sl_rec_req *r, size_t max_batch, enum sl_fmt fmt)
{
    struct sl_produce_batch *b = NULL;
    size_t nb = 0;
    sl_rec_partition(r, 4, &(struct sl_partitioner){0});
    if (sl_rec_build(r, max_batch, &b, &nb))
        return; /* -ENOMEM only */
    for (size_t k = 0; k < nb; k++) {
        FUZZ_CHECK(sl_batch_validate(b[k].data, b[k].len) == 0, "batch %zu does not validate", k);
        check_render(&b[k], fmt);
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct sl_rec_item *it = &r->items[i];
        if (it->err_code)
            continue;
        FUZZ_CHECK(it->batch < nb && b[it->batch].partition == it->partition, "item %zu: bad batch", i);
        struct sl_batch_iter bi;
        struct sl_record rec;
        FUZZ_CHECK(sl_batch_iter_init(&bi, b[it->batch].data, b[it->batch].len) == 0, "iter");
        for (int32_t k = 0; k <= it->index; k++)
            FUZZ_CHECK(sl_batch_iter_next(&bi, &rec) == 1, "item %zu: record %d missing", i, it->index);
        FUZZ_CHECK(same_slice(rec.key, it->rec.key) && same_slice(rec.value, it->rec.value) &&
                       rec.nheaders == it->rec.nheaders && rec.timestamp == it->rec.timestamp,
                   "item %zu differs after build", i);
    }
    sl_rec_batches_free(b, nb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum sl_fmt fmt = (enum sl_fmt)(data[0] % 3);
    size_t max_batch = 128 + (size_t)(data[0] >> 2) * 64;
    size_t len = size - 1;
    char *body = malloc(len ? len : 1); /* exact size: ASan sees any read past the body */
    memcpy(body, data + 1, len);
    struct sl_rec_req r;
    struct sl_rec_err err = {0};
    sl_rec_req_init(&r);
    int rc = sl_rec_parse_v2(&r, body, len, fmt, 1700000000000, 1000, &err);
    FUZZ_CHECK(rc == 0 || (rc == -EINVAL && err.status >= 400 && err.status < 600), "rc %d status %u", rc,
               err.status);
    json_t *root = json_loadb(body, len, 0, NULL);
    if (len > 0 && !memchr(body, '\0', len)) { /* an empty body is 422 by contract */
        FUZZ_CHECK(!root == (rc != 0 && err.status == 400), "jansson %s, scanner rc %d status %u (%s)",
                   root ? "accepts" : "rejects", rc, err.status, err.msg);
    }
    if (rc == 0 && root) {
        json_t *recs = json_object_get(root, "records");
        FUZZ_CHECK(r.n == json_array_size(recs), "%zu items for %zu records", r.n, json_array_size(recs));
        for (size_t i = 0; i < r.n; i++)
            check_value(json_object_get(json_array_get(recs, i), "value"), r.items[i].rec.value, fmt);
    }
    if (rc == 0)
        check_build(&r, max_batch, fmt);
    json_decref(root);
    sl_rec_req_fini(&r);
    free(body);
    return 0;
}
