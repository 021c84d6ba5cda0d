/* libFuzzer harness: the v3 produce body as api/rest/v3produce.c's drain() reads it -- cut into objects by
 * sl_v3split_next (api/rest/v3split.h), each loaded by jansson and parsed by sl_rec_parse_v3 (api/codec/records.h) --
 * then sl_rec_build, on arbitrary bodies.
 *
 * CHECKS
 *   1. Items stay 1:1 with the objects given (also for objects jansson rejects, as drain() keeps them).
 *   2. A parsed record's key and value are what its {type, data} says: STRING the string's bytes, BINARY
 *      the base64-decoded bytes, JSON a text that loads to a value equal to data; a parsed "timestamp"
 *      formats back (sl_rfc3339_format) to a text that parses to the same milliseconds.
 *   3. Parse -> build -> iterate round trip: every batch passes sl_batch_validate and holds each good item
 *      at its (batch, index) with the same key, value, header count and timestamp. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "api/codec/records.h"
#include "api/rest/v3split.h"
#include "storage/batch.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_OBJECTS 64

static bool same_slice(struct sl_slice a, struct sl_slice b)
{
    return (a.base == NULL) == (b.base == NULL) && a.len == b.len && (a.len == 0 || !memcmp(a.base, b.base, a.len));
}

/* Check 2 for one field: j is the object's "key" or "value", s what was parsed. */
static void check_field(json_t *j, struct sl_slice s, int type)
{
    json_t *data = json_object_get(j, "data");
    if (!j || json_is_null(j) || !data || json_is_null(data)) {
        FUZZ_CHECK(s.base == NULL, "absent data parsed as %zu bytes", s.len);
        return;
    }
    if (type == SL_V3_JSON) {
        json_t *mine = json_loadb((const char *)s.base, s.len, JSON_DECODE_ANY, NULL);
        FUZZ_CHECK(mine && json_equal(mine, data), "JSON data differs");
        json_decref(mine);
    } else if (type == SL_V3_STRING) {
        FUZZ_CHECK(s.len == json_string_length(data) && !memcmp(s.base, json_string_value(data), s.len),
                   "STRING data differs");
    } else {
        size_t n = json_string_length(data);
        uint8_t *dec = malloc(n / 4 * 3 + 4);
        ssize_t k = sl_base64_decode(json_string_value(data), n, dec);
        FUZZ_CHECK(type == SL_V3_BINARY && k >= 0 && (size_t)k == s.len && !memcmp(dec, s.base, s.len),
                   "BINARY data differs");
        free(dec);
    }
}

static void check_timestamp(json_t *o, int64_t ms)
{
    if (!json_is_string(json_object_get(o, "timestamp")) || ms < 0 || ms > 253402300799999) /* year 9999 */
        return;
    char text[40];
    int64_t again;
    sl_rfc3339_format(ms, text, sizeof text);
    FUZZ_CHECK(sl_rfc3339_parse(text, &again) == 0 && again == ms, "%lld -> %s -> %lld", (long long)ms, text,
               (long long)again);
}

static void check_build(struct sl_rec_req *r)
{
    struct sl_produce_batch *b = NULL;
    size_t nb = 0;
    sl_rec_partition(r, 3, &(struct sl_partitioner){0});
    if (sl_rec_build(r, 1024, &b, &nb))
        return; /* -ENOMEM only */
    for (size_t k = 0; k < nb; k++)
        FUZZ_CHECK(sl_batch_validate(b[k].data, b[k].len) == 0, "batch %zu does not validate", k);
    for (size_t i = 0; i < r->n; i++) {
        const struct sl_rec_item *it = &r->items[i];
        if (it->err_code)
            continue;
        struct sl_batch_iter bi;
        struct sl_record rec;
        FUZZ_CHECK(it->batch < nb && sl_batch_iter_init(&bi, b[it->batch].data, b[it->batch].len) == 0, "iter");
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
    char *body = malloc(size ? size : 1); /* exact size: ASan sees any read past the body */
    memcpy(body, data, size);
    struct sl_rec_req r;
    json_t *objs[MAX_OBJECTS];
    size_t nobj = 0, at = 0, skip, len;
    sl_rec_req_init(&r);
    while (nobj < MAX_OBJECTS && sl_v3split_next(body + at, size - at, &skip, &len) == 0 && len) {
        struct sl_rec_err err = {0};
        json_t *o = json_loadb(body + at + skip, len, 0, NULL);
        int rc = sl_rec_parse_v3(&r, o, false, 1700000000000, &err); /* NULL (not JSON) is a failed item, as in drain */
        FUZZ_CHECK(rc == 0 || (rc == -EINVAL && err.status >= 400), "rc %d status %u", rc, err.status);
        FUZZ_CHECK(r.n == nobj + 1, "%zu items after %zu objects", r.n, nobj + 1);
        if (rc == 0) {
            const struct sl_rec_item *it = &r.items[nobj];
            check_field(json_object_get(o, "key"), it->rec.key, it->key_type);
            check_field(json_object_get(o, "value"), it->rec.value, it->value_type);
            check_timestamp(o, it->rec.timestamp);
        }
        objs[nobj++] = o;
        at += skip + len;
    }
    check_build(&r);
    sl_rec_req_fini(&r);
    for (size_t i = 0; i < nobj; i++)
        json_decref(objs[i]);
    free(body);
    return 0;
}
