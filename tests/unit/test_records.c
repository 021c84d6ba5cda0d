/* api/codec/records.c: produce parsing in every format, bad input, batching, and the render round trip; the v2 scanner
 * on nasty input and against jansson as the oracle; the renderer and its helpers (validator, string escaping,
 * base64, decimal) against the code they replaced, as the oracle, on random and mutated input. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec/records.h"
#include "server/partitioner.h"
#include "storage/batch.h"
#include "storage/err.h"

#define NOW 1700000000000LL

static int parse2(struct sl_rec_req *r, const char *body, enum sl_fmt fmt, struct sl_rec_err *err)
{
    sl_rec_req_init(r);
    return sl_rec_parse_v2(r, body, strlen(body), fmt, NOW, 1000, err);
}

static void slice_is(struct sl_slice s, const char *want)
{
    ck_assert_ptr_nonnull(s.base);
    ck_assert_uint_eq(s.len, strlen(want));
    ck_assert(memcmp(s.base, want, s.len) == 0);
}

START_TEST(dec_append_writes_what_printf_writes)
{
    const int64_t vals[] = {0, 1, -1, 9, 10, 99, 100, 123456789, -987654321, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        struct sl_buf b = {0};
        char want[32];
        snprintf(want, sizeof want, "%" PRId64, vals[i]);
        ck_assert_int_eq(sl_dec_append(&b, vals[i]), 0);
        ck_assert_uint_eq(b.len, strlen(want));
        ck_assert_int_eq(memcmp(b.base, want, b.len), 0);
        sl_buf_fini(&b);
    }
    /* every width and sign: 10^k - 1, 10^k, 10^k + 1, and random values of every bit length, appended */
    struct sl_buf b = {0};
    char want[64 * 24 * 3 * 2];
    size_t wl = 0;
    uint64_t x = 0x2545f4914f6cdd1du;
    for (int k = 0; k < 64; k++) {
        uint64_t p10 = 1;
        for (int j = 0; j < k % 19; j++)
            p10 *= 10;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v[3] = {(int64_t)p10 - 1, (int64_t)p10 + (k & 1), (int64_t)(x >> (k % 64))};
        for (int j = 0; j < 3; j++)
            for (int sign = 0; sign < 2; sign++) {
                int64_t y = sign ? -v[j] : v[j];
                wl += (size_t)snprintf(want + wl, sizeof want - wl, "%" PRId64 ",", y);
                ck_assert_int_eq(sl_dec_append(&b, y) | sl_buf_append(&b, ",", 1), 0);
            }
    }
    ck_assert_uint_eq(b.len, wl);
    ck_assert_int_eq(memcmp(b.base, want, wl), 0);
    sl_buf_fini(&b);
}
END_TEST

START_TEST(base64_strict)
{
    uint8_t out[64];
    ck_assert_int_eq(sl_base64_decode("Y29uZmx1ZW50", 12, out), 9);
    ck_assert(memcmp(out, "confluent", 9) == 0);
    ck_assert_int_eq(sl_base64_decode("a2Fma2E=", 8, out), 5);
    ck_assert_int_eq(sl_base64_decode("a2Fma2E", 7, out), 5); /* padding optional */
    ck_assert_int_eq(sl_base64_decode("", 0, out), 0);
    ck_assert_int_eq(sl_base64_decode("a2F!", 4, out), -EINVAL);
    ck_assert_int_eq(sl_base64_decode("a", 1, out), -EINVAL);
    ck_assert_int_eq(sl_base64_decode("a2 F", 4, out), -EINVAL);
    ck_assert_int_eq(sl_base64_decode("a2Fma2E==x", 10, out), -EINVAL);
    struct sl_buf b = {0};
    ck_assert_int_eq(sl_base64_append(&b, NULL, 0), 0); /* nothing into an unallocated buffer: no NULL + 0 */
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(sl_base64_append(&b, (const uint8_t *)"kafka", 5), 0);
    ck_assert_uint_eq(b.len, 8);
    ck_assert(memcmp(b.base, "a2Fma2E=", 8) == 0);
    sl_buf_fini(&b);
}
END_TEST

START_TEST(formats_from_content_types)
{
    enum sl_fmt f;
    ck_assert_int_eq(sl_rec_format_from_ctype("application/vnd.kafka.binary.v2+json", &f), 0);
    ck_assert_int_eq(f, SL_FMT_BINARY);
    ck_assert_int_eq(sl_rec_format_from_ctype("application/vnd.kafka.v2+json; charset=utf-8", &f), 0);
    ck_assert_int_eq(f, SL_FMT_BINARY);
    ck_assert_int_eq(sl_rec_format_from_ctype("application/vnd.kafka+json", &f), 0);
    ck_assert_int_eq(f, SL_FMT_BINARY);
    ck_assert_int_eq(sl_rec_format_from_ctype("Application/JSON", &f), 0);
    ck_assert_int_eq(f, SL_FMT_JSON);
    ck_assert_int_eq(sl_rec_format_from_ctype("application/vnd.kafka.json.v2+json", &f), 0);
    ck_assert_int_eq(f, SL_FMT_JSON);
    ck_assert_int_eq(sl_rec_format_from_ctype("application/vnd.kafka.text.v2+json", &f), 0);
    ck_assert_int_eq(f, SL_FMT_TEXT);
    ck_assert_int_eq(sl_rec_format_from_ctype("text/plain", &f), -EINVAL);
    ck_assert_int_eq(sl_rec_format_from_ctype("application/vnd.kafka.avro.v2+json", &f), -EINVAL);
    ck_assert(sl_rec_accept_ok(NULL, SL_FMT_JSON));
    ck_assert(sl_rec_accept_ok("application/vnd.kafka.json.v2+json", SL_FMT_JSON));
    ck_assert(!sl_rec_accept_ok("application/vnd.kafka.binary.v2+json", SL_FMT_JSON));
    ck_assert(sl_rec_accept_ok("text/html, */*", SL_FMT_TEXT));
    ck_assert(!sl_rec_accept_ok("application/vnd.kafka.json.v2+json;q=0", SL_FMT_JSON));
    ck_assert(sl_rec_accept_ok("application/vnd.kafka.v2+json", SL_FMT_BINARY));
}
END_TEST

START_TEST(parse_binary)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    const char *body = "{\"records\":[{\"key\":\"a2V5\",\"value\":\"Y29uZmx1ZW50\"},{\"value\":\"a2Fma2E=\","
                       "\"partition\":1,\"timestamp\":5,\"headers\":[{\"key\":\"h\",\"value\":\"dg==\"},"
                       "{\"key\":\"n\",\"value\":null}]}]}";
    ck_assert_int_eq(parse2(&r, body, SL_FMT_BINARY, &err), 0);
    ck_assert_uint_eq(r.n, 2);
    slice_is(r.items[0].rec.key, "key");
    slice_is(r.items[0].rec.value, "confluent");
    ck_assert_int_eq(r.items[0].partition, -1);
    ck_assert_int_eq(r.items[0].rec.timestamp, NOW);
    ck_assert_ptr_null(r.items[1].rec.key.base);
    ck_assert_int_eq(r.items[1].partition, 1);
    ck_assert_int_eq(r.items[1].rec.timestamp, 5);
    ck_assert_uint_eq(r.items[1].rec.nheaders, 2);
    slice_is(r.items[1].rec.headers[0].value, "v");
    ck_assert_ptr_null(r.items[1].rec.headers[1].value.base);
    sl_rec_req_fini(&r);
}
END_TEST

START_TEST(parse_json_and_text)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"key\":{\"id\": 1},\"value\":[1, \"x\", null]},{\"value\":null}]}",
                            SL_FMT_JSON, &err), 0);
    slice_is(r.items[0].rec.key, "{\"id\":1}");
    slice_is(r.items[0].rec.value, "[1,\"x\",null]");
    ck_assert_ptr_null(r.items[1].rec.value.base);
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"key\":\"k\",\"value\":\"h\\u00e9llo\"}]}", SL_FMT_TEXT, &err), 0);
    slice_is(r.items[0].rec.value, "h\xc3\xa9llo");
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"value\":42}]}", SL_FMT_TEXT, &err), -EINVAL);
    ck_assert_uint_eq(err.status, 422);
    sl_rec_req_fini(&r);
}
END_TEST

static void bad(const char *body, enum sl_fmt fmt, unsigned status, int code)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    ck_assert_int_eq(parse2(&r, body, fmt, &err), -EINVAL);
    ck_assert_uint_eq(err.status, status);
    ck_assert_int_eq(err.code, code);
    ck_assert(err.msg[0]);
    sl_rec_req_fini(&r);
}

START_TEST(parse_rejects_bad_input)
{
    bad("{\"records\":[{\"value\":\"!!!\"}]}", SL_FMT_BINARY, 422, 422);
    bad("{\"records\":[{\"key\":\"a\",\"value\":\"YQ==\"}]}", SL_FMT_BINARY, 422, 422);
    bad("{\"records\":[{\"value\":1}]}", SL_FMT_BINARY, 422, 422);
    bad("{\"records\":[", SL_FMT_BINARY, 400, 400);
    bad("", SL_FMT_BINARY, 422, 42206);
    bad("[]", SL_FMT_JSON, 422, 422);
    bad("{}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":{}}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[1]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"partition\":-1}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"partition\":\"0\"}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"timestamp\":\"x\"}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"headers\":{}}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"headers\":[{\"key\":1}]}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"headers\":[{\"key\":\"h\",\"value\":\"@@\"}]}]}", SL_FMT_JSON, 422, 422);
    struct sl_rec_req r;
    struct sl_rec_err err;
    sl_rec_req_init(&r);
    const char *body = "{\"records\":[{\"value\":1},{\"value\":2},{\"value\":3}]}";
    ck_assert_int_eq(sl_rec_parse_v2(&r, body, strlen(body), SL_FMT_JSON, NOW, 2, &err), -EINVAL);
    ck_assert_uint_eq(err.status, 413);
    sl_rec_req_fini(&r);
}
END_TEST

START_TEST(parse_v3)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    sl_rec_req_init(&r);
    json_t *o = json_loads("{\"partition_id\":1,\"headers\":[{\"name\":\"h\",\"value\":\"dg==\"}],"
                           "\"key\":{\"type\":\"BINARY\",\"data\":\"Zm9vYmFy\"},"
                           "\"value\":{\"type\":\"JSON\",\"data\":{\"foo\":\"bar\"}},"
                           "\"timestamp\":\"2021-02-05T19:14:42Z\"}", 0, NULL);
    ck_assert_int_eq(sl_rec_parse_v3(&r, o, false, NOW, &err), 0);
    ck_assert_int_eq(sl_rec_req_keep(&r, o), 0);
    ck_assert_int_eq(r.items[0].partition, 1);
    slice_is(r.items[0].rec.key, "foobar");
    slice_is(r.items[0].rec.value, "{\"foo\":\"bar\"}");
    ck_assert_int_eq(r.items[0].rec.timestamp, 1612552482000LL);
    ck_assert_int_eq(r.items[0].key_type, SL_V3_BINARY);
    ck_assert_str_eq(sl_rec_v3type_name(r.items[0].value_type), "JSON");
    const char *bads[] = {
        "{\"key\":{\"type\":\"BINARY\",\"data\":\"1\"}}", "{\"value\":{\"type\":\"AVRO\",\"data\":\"x\"}}",
        "{\"value\":{\"data\":\"x\"}}", "{\"value\":\"x\"}", "{\"partition_id\":\"x\"}", "{\"timestamp\":12}",
        "{\"value\":{\"type\":\"STRING\",\"data\":5}}", "[1]",
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        json_t *b = json_loads(bads[i], 0, NULL);
        ck_assert_ptr_nonnull(b);
        ck_assert_int_eq(sl_rec_parse_v3(&r, b, false, NOW, &err), -EINVAL);
        ck_assert_uint_eq(err.status, 400);
        json_decref(b);
    }
    sl_rec_req_fini(&r);
}
END_TEST

/* A body that does not say what the user meant is an error naming the member, never a guess: a typo would
 * otherwise store a record with a null value. */
START_TEST(unknown_members_are_rejected_and_named)
{
    static const char *const v2[][2] = {
        {"{\"records\":[{\"valeu\":\"x\"}]}", "records[0].valeu"},
        {"{\"records\":[{\"value\":1},{\"value\":2,\"partiton\":1}]}", "records[1].partiton"},
        {"{\"records\":[{\"value\":1,\"headers\":[{\"key\":\"h\",\"valu\":null}]}]}", "records[0].headers[0].valu"},
        {"{\"recods\":[{\"value\":1}],\"records\":[{\"value\":1}]}", "recods"},
        {"{\"records\":[{\"value\":1}],\"value_schema\":\"{}\"}", "value_schema"},
        {"{\"records\":[{\"value\":1}],\"key_schema_id\":3}", "key_schema_id"},
    };
    for (size_t i = 0; i < sizeof v2 / sizeof v2[0]; i++) {
        struct sl_rec_req r;
        struct sl_rec_err err;
        ck_assert_msg(parse2(&r, v2[i][0], SL_FMT_JSON, &err) == -EINVAL, "accepted: %s", v2[i][0]);
        ck_assert_msg(err.status == 422 && err.code == 422, "%s: %u %d", v2[i][0], err.status, err.code);
        ck_assert_msg(strstr(err.msg, v2[i][1]), "%s: message '%s' does not name %s", v2[i][0], err.msg, v2[i][1]);
        sl_rec_req_fini(&r);
    }
    static const char *const v3[][2] = {
        {"{\"valeu\":{\"type\":\"STRING\",\"data\":\"x\"}}", "Unrecognized field: valeu"},
        {"{\"records\":[{\"value\":\"x\"}]}", "Unrecognized field: records (a v2 body?"},
        {"{\"value\":{\"type\":\"STRING\",\"datta\":\"x\"}}", "value.datta"},
        {"{\"key\":{\"type\":\"STRING\",\"data\":\"k\",\"schema_id\":1}}", "key.schema_id is not supported"},
        {"{\"headers\":[{\"name\":\"h\",\"vale\":null}]}", "record.headers[0].vale"},
        {"{\"id\":\"1\",\"value\":null}", "Unrecognized field: id"},
    };
    for (size_t i = 0; i < sizeof v3 / sizeof v3[0]; i++) {
        struct sl_rec_req r;
        struct sl_rec_err err;
        sl_rec_req_init(&r);
        json_t *o = json_loads(v3[i][0], 0, NULL);
        ck_assert_ptr_nonnull(o);
        ck_assert_msg(sl_rec_parse_v3(&r, o, false, NOW, &err) == -EINVAL, "accepted: %s", v3[i][0]);
        ck_assert_msg(err.status == 400 && err.code == 400, "%s: %u %d", v3[i][0], err.status, err.code);
        ck_assert_msg(strstr(err.msg, v3[i][1]), "%s: message '%s' does not say %s", v3[i][0], err.msg, v3[i][1]);
        json_decref(o);
        sl_rec_req_fini(&r);
    }
    struct sl_rec_req r;
    struct sl_rec_err err;
    sl_rec_req_init(&r);
    json_t *o = json_loads("{\"id\":\"1\",\"value\":null,\"key\":{\"type\":\"STRING\",\"data\":\"k\",\"schema\":null}}",
                           0, NULL);
    ck_assert_int_eq(sl_rec_parse_v3(&r, o, true, NOW, &err), 0); /* a batch entry carries its id */
    json_decref(o);
    sl_rec_req_fini(&r);
}
END_TEST

START_TEST(partitioning_and_batching)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"key\":\"foobar\",\"value\":1},{\"value\":2},{\"value\":3,"
                                "\"partition\":7},{\"value\":4,\"partition\":0},{\"value\":5}]}",
                            SL_FMT_JSON, &err), 0);
    sl_rec_partition(&r, 3, &(struct sl_partitioner){0});
    ck_assert_int_eq(r.items[0].partition, sl_partitioner_keyed("\"foobar\"", 8, 3)); /* json key text */
    ck_assert_int_eq(r.items[1].partition, r.items[4].partition); /* sticky within a request */
    ck_assert_int_eq(r.items[2].err_code, 40402);
    struct sl_produce_batch *b;
    size_t nb;
    ck_assert_int_eq(sl_rec_build(&r, 1 << 20, &b, &nb), 0);
    int32_t total = 0;
    for (size_t i = 0; i < nb; i++) {
        ck_assert_int_eq(sl_batch_validate(b[i].data, b[i].len), 0);
        total += b[i].count;
        if (i)
            ck_assert_int_gt(b[i].partition, b[i - 1].partition);
    }
    ck_assert_int_eq(total, 4);
    ck_assert_int_eq(b[r.items[4].batch].partition, r.items[4].partition);
    ck_assert_uint_eq(r.items[4].batch, r.items[1].batch);
    ck_assert_int_gt(r.items[4].index, r.items[1].index);
    sl_rec_batches_free(b, nb);
    sl_rec_req_fini(&r);
}
END_TEST

START_TEST(batches_split_at_max_bytes)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    char body[8192];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"records\":[");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"partition\":0,\"value\":\"%0100d\"}", i ? "," : "", i);
    n += (size_t)snprintf(body + n, sizeof body - n, ",{\"partition\":0,\"value\":\"%0900d\"}]}", 1);
    ck_assert_int_eq(parse2(&r, body, SL_FMT_TEXT, &err), 0);
    sl_rec_partition(&r, 1, &(struct sl_partitioner){0});
    struct sl_produce_batch *b;
    size_t nb;
    ck_assert_int_eq(sl_rec_build(&r, 600, &b, &nb), 0);
    ck_assert_uint_gt(nb, 3);
    for (size_t i = 0; i < nb; i++)
        ck_assert_uint_le(b[i].len, 600);
    ck_assert_int_eq(r.items[20].err_code, 42208);
    sl_rec_batches_free(b, nb);
    sl_rec_req_fini(&r);
}
END_TEST

/* Builds one batch from a parsed request (base offset 10) and renders it in fmt from 'from'. */
static char *round_trip(const char *body, enum sl_fmt in, enum sl_fmt out, sl_offset_t from, size_t max,
                        size_t *count)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    ck_assert_int_eq(parse2(&r, body, in, &err), 0);
    sl_rec_partition(&r, 1, &(struct sl_partitioner){0});
    struct sl_produce_batch *b;
    size_t nb;
    ck_assert_int_eq(sl_rec_build(&r, 1 << 20, &b, &nb), 0);
    ck_assert_uint_eq(nb, 1);
    sl_batch_set_base(b[0].data, 10);
    struct sl_buf o = {0};
    struct sl_render rd = {.out = &o, .fmt = out, .max_bytes = max};
    sl_offset_t next;
    ck_assert_int_eq(sl_rec_render(&rd, "t", 0, b[0].data, b[0].len, from, &next), 0);
    *count = rd.count;
    sl_buf_append(&o, "", 1);
    sl_rec_batches_free(b, nb);
    sl_rec_req_fini(&r);
    return (char *)o.base;
}

/* A batch whose offsets no log would assign is corrupt, not an overflow (found by tests/fuzz/fuzz_render). */
START_TEST(render_rejects_offsets_that_do_not_fit)
{
    static const sl_offset_t bases[] = {INT64_MAX - 1, INT64_MAX - 2, INT64_MIN, -1};
    struct sl_rec_req r;
    struct sl_rec_err err;
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"value\":\"YQ==\"},{\"value\":\"Yg==\"},{\"value\":null}]}",
                            SL_FMT_BINARY, &err), 0);
    sl_rec_partition(&r, 1, &(struct sl_partitioner){0});
    struct sl_produce_batch *b;
    size_t nb;
    ck_assert_int_eq(sl_rec_build(&r, 1 << 20, &b, &nb), 0);
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        struct sl_buf o = {0};
        struct sl_render rd = {.out = &o, .fmt = SL_FMT_BINARY, .max_bytes = 1 << 20};
        sl_offset_t next;
        sl_batch_set_base(b[0].data, bases[i]);
        ck_assert_int_eq(sl_rec_render(&rd, "t", 0, b[0].data, b[0].len, 0, &next), SL_ECORRUPT);
        ck_assert_int_eq(sl_rec_render(&rd, "t", 0, b[0].data, b[0].len, INT64_MAX, &next), SL_ECORRUPT);
        ck_assert_uint_eq(rd.count, 0);
        sl_buf_fini(&o);
    }
    sl_batch_set_base(b[0].data, INT64_MAX - 3); /* the largest base whose last offset + 1 fits */
    struct sl_buf o = {0};
    struct sl_render rd = {.out = &o, .fmt = SL_FMT_BINARY, .max_bytes = 1 << 20};
    sl_offset_t next;
    ck_assert_int_eq(sl_rec_render(&rd, "t", 0, b[0].data, b[0].len, 0, &next), 0);
    ck_assert_uint_eq(rd.count, 3);
    ck_assert_int_eq(next, INT64_MAX);
    sl_buf_fini(&o);
    sl_rec_batches_free(b, nb);
    sl_rec_req_fini(&r);
}
END_TEST

START_TEST(render_round_trip)
{
    size_t n;
    char *s = round_trip("{\"records\":[{\"key\":\"a2V5\",\"value\":\"Y29uZmx1ZW50\",\"timestamp\":7,"
                         "\"headers\":[{\"key\":\"h\",\"value\":\"dg==\"}]},{\"value\":null}]}",
                         SL_FMT_BINARY, SL_FMT_BINARY, 0, 1 << 20, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(s, "{\"topic\":\"t\",\"key\":\"a2V5\",\"value\":\"Y29uZmx1ZW50\",\"partition\":0,\"offset\":10,"
                        "\"timestamp\":7,\"headers\":[{\"key\":\"h\",\"value\":\"dg==\"}]},"
                        "{\"topic\":\"t\",\"key\":null,\"value\":null,\"partition\":0,\"offset\":11,\"timestamp\":"
                        "1700000000000,\"headers\":[]}");
    free(s);
    s = round_trip("{\"records\":[{\"value\":{\"a\":[1,2]}},{\"value\":\"x\\\"y\"}]}", SL_FMT_JSON, SL_FMT_JSON, 11,
                   1 << 20, &n);
    ck_assert_uint_eq(n, 1); /* offset 10 skipped */
    ck_assert_ptr_nonnull(strstr(s, "\"value\":\"x\\\"y\""));
    free(s);
    s = round_trip("{\"records\":[{\"value\":{\"a\":[1,2]}}]}", SL_FMT_JSON, SL_FMT_JSON, 0, 1 << 20, &n);
    ck_assert_ptr_nonnull(strstr(s, "\"value\":{\"a\":[1,2]}"));
    free(s);
    s = round_trip("{\"records\":[{\"value\":\"line\\nbreak \\u00e9\"}]}", SL_FMT_TEXT, SL_FMT_TEXT, 0, 1 << 20, &n);
    ck_assert_ptr_nonnull(strstr(s, "\"value\":\"line\\nbreak \xc3\xa9\""));
    free(s);
    /* binary bytes that are not JSON render as a JSON string in the json format */
    s = round_trip("{\"records\":[{\"value\":\"bm90IGpzb24=\"}]}", SL_FMT_BINARY, SL_FMT_JSON, 0, 1 << 20, &n);
    ck_assert_ptr_nonnull(strstr(s, "\"value\":\"not json\""));
    free(s);
    /* the byte budget stops rendering, but at least one record comes back */
    s = round_trip("{\"records\":[{\"value\":\"aaaa\"},{\"value\":\"bbbb\"},{\"value\":\"cccc\"}]}", SL_FMT_TEXT,
                   SL_FMT_TEXT, 0, 5, &n);
    ck_assert_uint_eq(n, 1);
    free(s);
    s = round_trip("{\"records\":[{\"value\":\"aaaa\"},{\"value\":\"bbbb\"}]}", SL_FMT_TEXT, SL_FMT_TEXT, 0, 8, &n);
    ck_assert_uint_eq(n, 2);
    free(s);
}
END_TEST

START_TEST(json_validator_and_time)
{
    const char *good[] = {"1", "-0.5e+3", "\"a\\u00e9\"", "{\"a\":[true,false,null]}", " [ ] ", "{}"};
    const char *badv[] = {"", "01", "{", "[1,]", "{\"a\"}", "tru", "\"\x01\"", "1 2", "\"\\x\"", "{1:2}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(sl_json_valid((const uint8_t *)good[i], strlen(good[i])), "%s", good[i]);
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++)
        ck_assert_msg(!sl_json_valid((const uint8_t *)badv[i], strlen(badv[i])), "%s", badv[i]);
    int64_t ms;
    ck_assert_int_eq(sl_rfc3339_parse("2021-02-05T19:14:42.5+01:00", &ms), 0);
    ck_assert_int_eq(ms, 1612552482000LL - 3600000 + 500);
    ck_assert_int_eq(sl_rfc3339_parse("2021-02-05", &ms), -EINVAL);
    char buf[40];
    sl_rfc3339_format(1612552482000LL, buf, sizeof buf);
    ck_assert_str_eq(buf, "2021-02-05T19:14:42Z");
    sl_rfc3339_format(1612552482123LL, buf, sizeof buf);
    ck_assert_str_eq(buf, "2021-02-05T19:14:42.123Z");
}
END_TEST

/* ---- the v2 scanner (one pass over the body, no jansson) ---- */

/* Parses body from an exact-size heap copy (a read past its end is caught by ASan). The items may point into
 * the copy: release both with done(). */
static char *held;

static int parse_exact(struct sl_rec_req *r, const char *body, size_t len, enum sl_fmt fmt, struct sl_rec_err *err)
{
    free(held);
    held = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(held);
    memcpy(held, body, len);
    sl_rec_req_init(r);
    return sl_rec_parse_v2(r, held, len, fmt, NOW, 1000, err);
}

static void done(struct sl_rec_req *r)
{
    sl_rec_req_fini(r);
    free(held);
    held = NULL;
}

static void malformed(const char *body)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    for (enum sl_fmt f = SL_FMT_BINARY; f <= SL_FMT_TEXT; f++) {
        ck_assert_msg(parse_exact(&r, body, strlen(body), f, &err) == -EINVAL, "accepted: %s", body);
        ck_assert_msg(err.status == 400 && err.code == 400, "%s: %u %d %s", body, err.status, err.code, err.msg);
        ck_assert(strncmp(err.msg, "Malformed JSON: ", 16) == 0);
        done(&r);
    }
}

/* Parses one json-format record {"value": v} and checks the stored bytes. */
static void json_value_is(const char *v, const char *want)
{
    char body[512];
    struct sl_rec_req r;
    struct sl_rec_err err;
    snprintf(body, sizeof body, "{\"records\":[{\"value\":%s}]}", v);
    ck_assert_msg(parse_exact(&r, body, strlen(body), SL_FMT_JSON, &err) == 0, "%s: %s", v, err.msg);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_msg(r.items[0].rec.value.len == strlen(want) && memcmp(r.items[0].rec.value.base, want,
                  strlen(want)) == 0, "%s stored as %.*s", v, (int)r.items[0].rec.value.len,
                  (const char *)r.items[0].rec.value.base);
    done(&r);
}

START_TEST(scanner_rejects_malformed_json_with_400)
{
    static const char *const bodies[] = {
        " ", "\n\t", "1", "\"records\"", "null", "true", /* jansson wants an object or array on top */
        "{\"records\":[{\"value\":1}]} x", "{\"records\":[{\"value\":1}]}}", "{} {}", "[]]", "{\"a\":1,}",
        "{\"records\":[{\"value\":1},]}", "{\"records\" [{\"value\":1}]}", "{records:[]}", "{'records':[]}",
        "{\"records\":[{\"value\":01}]}", "{\"records\":[{\"value\":-}]}", "{\"records\":[{\"value\":1.}]}",
        "{\"records\":[{\"value\":.5}]}", "{\"records\":[{\"value\":+1}]}", "{\"records\":[{\"value\":1e}]}",
        "{\"records\":[{\"value\":1e+}]}", "{\"records\":[{\"value\":-01}]}", "{\"records\":[{\"value\":0x10}]}",
        "{\"records\":[{\"value\":NaN}]}", "{\"records\":[{\"value\":Infinity}]}", "{\"records\":[{\"value\":tru}]}",
        "{\"records\":[{\"value\":nul}]}", "{\"records\":[{\"value\":truex}]}", "{\"records\":[{\"value\":True}]}",
        "{\"records\":[{\"value\":9223372036854775808}]}", "{\"records\":[{\"value\":-9223372036854775809}]}",
        "{\"records\":[{\"value\":123456789012345678901234567890}]}", "{\"records\":[{\"value\":1e309}]}",
        "{\"records\":[{\"value\":-2e308}]}", "{\"records\":[{\"value\":1.8e308}]}",
        "{\"records\":[{\"value\":1000000000000000000000000000000000000000000000000000000000000000000e300}]}",
        "{\"records\":[{\"value\":\"\\x\"}]}", "{\"records\":[{\"value\":\"\\u12\"}]}",
        "{\"records\":[{\"value\":\"\\u12g4\"}]}", "{\"records\":[{\"value\":\"\\u0000\"}]}",
        "{\"records\":[{\"value\":\"\\ud800\"}]}", "{\"records\":[{\"value\":\"\\udc00\"}]}",
        "{\"records\":[{\"value\":\"\\ud800\\u0041\"}]}", "{\"records\":[{\"value\":\"\\ud800x\"}]}",
        "{\"records\":[{\"value\":\"a\tb\"}]}", "{\"records\":[{\"value\":\"a\nb\"}]}",
        "{\"records\":[{\"value\":\"\xc0\x80\"}]}", "{\"records\":[{\"value\":\"\xed\xa0\x80\"}]}",
        "{\"records\":[{\"value\":\"\xf5\x80\x80\x80\"}]}", "{\"records\":[{\"value\":\"\xe2\x82\"}]}",
        "{\"records\":[{\"value\":\"\x80\"}]}", "{\"records\":[{\"value\":\"abc}]}", "{\"rec\\u0000\":1}",
        "\xef\xbb\xbf{\"records\":[{\"value\":1}]}", /* no BOM either */
        "{\"records\":[{\"value\":[1 2]}]}", "{\"records\":[{\"value\":{\"a\" 1}}]}",
        "{\"records\":[{\"value\":{1:2}}]}",
        /* a record that fails alone (422) loses to a syntax error later in the body */
        "{\"records\":[{\"value\":5},{\"value\":\"YQ==\"},{\"value\":}]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        malformed(bodies[i]);
    struct sl_rec_req r;
    struct sl_rec_err err;
    const char nul[] = "{\"records\":[{\"value\":\"a\0b\"}]}"; /* a raw NUL byte in a string */
    ck_assert_int_eq(parse_exact(&r, nul, sizeof nul - 1, SL_FMT_TEXT, &err), -EINVAL);
    ck_assert_uint_eq(err.status, 400);
    done(&r);
    const char tail[] = "{\"records\":[{\"value\":\"a\"}]}\0"; /* a NUL after the object */
    ck_assert_int_eq(parse_exact(&r, tail, sizeof tail - 1, SL_FMT_TEXT, &err), -EINVAL);
    ck_assert_uint_eq(err.status, 400);
    done(&r);
}
END_TEST

START_TEST(scanner_numbers_in_every_form_are_stored_as_sent)
{
    static const char *const nums[] = {"0", "-0", "7", "-7", "1.5", "-1.5e-3", "1E+2", "1e2", "0.0e0", "2E-0",
                                       "123456789012345678", "9223372036854775807", "-9223372036854775808",
                                       "1e308", "1.7976931348623157e308", "-1.7976931348623157E+308", "1e-400",
                                       "0.00000000000000000000000000001e330", "0e99999999999999999999"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        json_value_is(nums[i], nums[i]);
    json_value_is("true", "true");
    json_value_is("false", "false");
    json_value_is("\"s\"", "\"s\"");
    json_value_is("\"\\u00e9\\/\"", "\"\\u00e9\\/\""); /* escapes kept as sent: the same JSON value */
    /* partition and timestamp take integers only; an out-of-range integer is malformed JSON (jansson's rule) */
    bad("{\"records\":[{\"value\":1,\"partition\":1.0}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"partition\":1e0}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"partition\":2147483648}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"partition\":-0.0}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"timestamp\":-1}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"timestamp\":5.5}]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1,\"timestamp\":99999999999999999999}]}", SL_FMT_JSON, 400, 400);
    bad("{\"records\":[{\"value\":1.5}]}", SL_FMT_TEXT, 422, 422);
    bad("{\"records\":[{\"value\":-0}]}", SL_FMT_BINARY, 422, 422);
    struct sl_rec_req r;
    struct sl_rec_err err;
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"value\":1,\"partition\":2147483647,\"timestamp\":"
                                "9223372036854775807},{\"value\":1,\"partition\":-0,\"timestamp\":0}]}",
                            SL_FMT_JSON, &err), 0);
    ck_assert_int_eq(r.items[0].partition, INT32_MAX);
    ck_assert_int_eq(r.items[0].rec.timestamp, INT64_MAX);
    ck_assert_int_eq(r.items[1].partition, 0);
    ck_assert_int_eq(r.items[1].rec.timestamp, 0);
    sl_rec_req_fini(&r);
}
END_TEST

START_TEST(scanner_escapes_and_unicode_decode_to_utf8)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    /* text values and header keys decode every escape; surrogate pairs become one 4-byte sequence */
    const char *body = "{\"records\":[{\"key\":\"plain\",\"value\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC"
                       "\\ud83d\\ude00 \xc3\xa9\xf0\x9f\x98\x80\\u007f\",\"headers\":[{\"key\":\"h\\u00e9\","
                       "\"value\":\"dg\\u003d\\u003d\"}]}]}";
    ck_assert_int_eq(parse_exact(&r, body, strlen(body), SL_FMT_TEXT, &err), 0);
    done(&r);
    ck_assert_int_eq(parse2(&r, body, SL_FMT_TEXT, &err), 0);
    slice_is(r.items[0].rec.key, "plain");
    /* no escapes: a slice of the body */
    ck_assert_ptr_eq(r.items[0].rec.key.base, (const uint8_t *)strstr(body, "plain"));
    slice_is(r.items[0].rec.value, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xc3\xa9\xf0\x9f\x98\x80\x7f");
    slice_is(r.items[0].rec.headers[0].key, "h\xc3\xa9");
    slice_is(r.items[0].rec.headers[0].value, "v"); /* base64 after unescaping, as jansson-era */
    sl_rec_req_fini(&r);
    /* keys are compared decoded: "v\u0061lue" is "value", "rec\u006frds" is "records" */
    ck_assert_int_eq(parse2(&r, "{\"rec\\u006frds\":[{\"v\\u0061lue\":\"YQ==\",\"\\u006b\\u0065y\":\"Yg==\"}]}",
                            SL_FMT_BINARY, &err), 0);
    slice_is(r.items[0].rec.value, "a");
    slice_is(r.items[0].rec.key, "b");
    sl_rec_req_fini(&r);
    /* an escape, a multi-byte character, a quote or a control character at every offset of a long string
     * (the scanner looks at 8 bytes at a time) */
    for (int at = 0; at < 24; at++) {
        char body2[128], want[64];
        memset(want, 'a', 30);
        want[30] = 0;
        want[at] = '\n';
        snprintf(body2, sizeof body2, "{\"records\":[{\"value\":\"%.*s\\n%s\"}]}", at, want, want + at + 1);
        ck_assert_int_eq(parse2(&r, body2, SL_FMT_TEXT, &err), 0);
        slice_is(r.items[0].rec.value, want);
        sl_rec_req_fini(&r);
        memset(want, 'a', 30);
        snprintf(body2, sizeof body2, "{\"records\":[{\"value\":\"%.*s\xc3\xa9%s\"}]}", at, want, want + at + 1);
        ck_assert_int_eq(parse2(&r, body2, SL_FMT_TEXT, &err), 0);
        ck_assert_uint_eq(r.items[0].rec.value.len, 31);
        sl_rec_req_fini(&r);
        snprintf(body2, sizeof body2, "{\"records\":[{\"value\":\"%.*s\x1f%s\"}]}", at, want, want + at + 1);
        malformed(body2);
        snprintf(body2, sizeof body2, "{\"records\":[{\"value\":\"%.*s\"%s\"}]}", at, want, want + at + 1);
        malformed(body2);
    }
    /* empty strings are empty, not null */
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"key\":\"\",\"value\":\"\"}]}", SL_FMT_TEXT, &err), 0);
    ck_assert_ptr_nonnull(r.items[0].rec.key.base);
    ck_assert_uint_eq(r.items[0].rec.value.len, 0);
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"value\":\"\"}]}", SL_FMT_BINARY, &err), 0);
    ck_assert_ptr_nonnull(r.items[0].rec.value.base);
    ck_assert_uint_eq(r.items[0].rec.value.len, 0);
    sl_rec_req_fini(&r);
}
END_TEST

START_TEST(scanner_whitespace_everywhere)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    const char *body = " \n\t\r{ \"records\" :\n[ { \"key\" : { \"a b\" : [ 1 , \"x y\" , { } , [ ] ] } ,\r\n"
                       "\t\"value\" : \"v\" , \"partition\" : 2 , \"timestamp\" : 9 , \"headers\" : [ { \"key\" : "
                       "\"h\" , \"value\" : null } ] } , { } ] , \"key_schema\" : null } \n ";
    ck_assert_int_eq(parse_exact(&r, body, strlen(body), SL_FMT_JSON, &err), 0);
    done(&r);
    ck_assert_int_eq(parse2(&r, body, SL_FMT_JSON, &err), 0);
    ck_assert_uint_eq(r.n, 2);
    slice_is(r.items[0].rec.key, "{\"a b\":[1,\"x y\",{},[]]}"); /* compacted; spaces in strings kept */
    slice_is(r.items[0].rec.value, "\"v\"");
    ck_assert_int_eq(r.items[0].partition, 2);
    ck_assert_int_eq(r.items[0].rec.timestamp, 9);
    ck_assert_uint_eq(r.items[0].rec.nheaders, 1);
    ck_assert_ptr_null(r.items[0].rec.headers[0].value.base);
    ck_assert_ptr_null(r.items[1].rec.value.base);
    ck_assert_int_eq(r.items[1].rec.timestamp, NOW);
    sl_rec_req_fini(&r);
    /* a compact container is stored as a slice of the body, not copied */
    const char *compact = "{\"records\":[{\"value\":{\"a\":[1,2]}}]}";
    ck_assert_int_eq(parse2(&r, compact, SL_FMT_JSON, &err), 0);
    ck_assert_ptr_eq(r.items[0].rec.value.base, (const uint8_t *)strstr(compact, "{\"a\""));
    sl_rec_req_fini(&r);
}
END_TEST

/* Wraps v in n arrays as a record's value. */
static char *nested_body(int n)
{
    char *b = malloc((size_t)n * 2 + 64);
    int k = sprintf(b, "{\"records\":[{\"value\":");
    memset(b + k, '[', (size_t)n);
    memset(b + k + n, ']', (size_t)n);
    strcpy(b + k + 2 * n, "}]}");
    return b;
}

START_TEST(scanner_nesting_depth_is_limited_as_jansson)
{
    /* top object, records array and record object are 3 levels; jansson allows 2048 */
    struct sl_rec_req r;
    struct sl_rec_err err;
    char *b = nested_body(2045);
    ck_assert_int_eq(parse_exact(&r, b, strlen(b), SL_FMT_JSON, &err), 0);
    ck_assert_uint_eq(r.items[0].rec.value.len, 2 * 2045);
    done(&r);
    free(b);
    b = nested_body(2046);
    malformed(b);
    free(b);
    b = nested_body(200000); /* no recursion: deep input costs no stack */
    malformed(b);
    free(b);
    b = malloc(2 * 2049 + 1);
    memset(b, '[', 2048);
    memset(b + 2048, ']', 2048);
    b[4096] = 0;
    bad(b, SL_FMT_JSON, 422, 422); /* valid (depth 2048) but not an object */
    memset(b, '[', 2049);
    memset(b + 2049, ']', 2049);
    b[4098] = 0;
    malformed(b);
    free(b);
}
END_TEST

START_TEST(scanner_truncated_or_extended_bodies)
{
    static const char *const bodies[] = {
        ("{\"records\":[{\"key\":\"a2V5\",\"value\":\"Y29uZmx1ZW50\",\"partition\":1,\"timestamp\":-0,"
         "\"headers\":[{\"key\":\"h\\u00e9\",\"value\":\"dg==\"},{\"key\":\"n\",\"value\":null}]},{\"value\":null}],"
         "\"value_schema_id\":null}"),
        ("{ \"records\" : [ { \"value\" : { \"a\" : [ 1 , 2.5 , \"\\ud83d\\ude00\" , null , true , false , "
         "{ \"y\" : -1.5e+7 } ] } } ] }"),
        "{\"records\":[{\"value\":\"\xe2\x82\xac\"},{\"value\":\"x\"}]}",
    };
    struct sl_rec_req r;
    struct sl_rec_err err;
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        size_t n = strlen(bodies[b]);
        enum sl_fmt f = b == 0 ? SL_FMT_BINARY : b == 1 ? SL_FMT_JSON : SL_FMT_TEXT;
        ck_assert_int_eq(parse_exact(&r, bodies[b], n, f, &err), 0);
        done(&r);
        ck_assert_int_eq(parse_exact(&r, bodies[b], 0, f, &err), -EINVAL);
        ck_assert_int_eq(err.code, 42206);
        done(&r);
        for (size_t len = 1; len < n; len++) { /* every strict prefix is malformed, and read in bounds */
            int rc = parse_exact(&r, bodies[b], len, f, &err);
            ck_assert_msg(rc == -EINVAL && err.status == 400, "body %zu cut at %zu: %d %u", b, len, rc, err.status);
            done(&r);
        }
        char ext[1024];
        snprintf(ext, sizeof ext, "%s \r\n\t", bodies[b]);
        ck_assert_int_eq(parse_exact(&r, ext, strlen(ext), f, &err), 0); /* trailing whitespace is fine */
        done(&r);
        static const char *const tails[] = {"x", ",", "{}", "]", "}", "0", "\"\"", " null"};
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            snprintf(ext, sizeof ext, "%s%s", bodies[b], tails[t]);
            malformed(ext);
        }
    }
}
END_TEST

START_TEST(scanner_duplicate_keys_last_one_wins)
{
    /* as jansson (json_loadb without JSON_REJECT_DUPLICATES): a repeated member replaces the earlier one, also
     * for the errors it would have caused */
    struct sl_rec_req r;
    struct sl_rec_err err;
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"value\":5,\"value\":\"YQ==\",\"partition\":\"x\",\"partition\":1,"
                                "\"headers\":3,\"headers\":[{\"key\":1,\"key\":\"k\",\"value\":\"!\","
                                "\"value\":null}]}]}",
                            SL_FMT_BINARY, &err), 0);
    slice_is(r.items[0].rec.value, "a");
    ck_assert_int_eq(r.items[0].partition, 1);
    slice_is(r.items[0].rec.headers[0].key, "k");
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"records\":[1,{}],\"records\":[{\"value\":2},{\"value\":3}]}", SL_FMT_JSON, &err),
                     0);
    ck_assert_uint_eq(r.n, 2);
    slice_is(r.items[0].rec.value, "2");
    sl_rec_req_fini(&r);
    bad("{\"records\":[{\"value\":1}],\"records\":null}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1}],\"records\":[]}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1}],\"records\":{}}", SL_FMT_JSON, 422, 422);
    bad("{\"records\":[{\"value\":1}],\"records\":[{\"value\":\"x\"}]}", SL_FMT_BINARY, 422, 422);
    /* the top-level id (WebSocket produce) is its raw JSON text, compacted */
    ck_assert_int_eq(parse2(&r, "{\"id\":1,\"records\":[{\"value\":1}],\"id\":{ \"a\" : \"b c\" }}", SL_FMT_JSON,
                            &err), 0);
    ck_assert(r.object);
    slice_is(r.id, "{\"a\":\"b c\"}");
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"id\":\"x\",\"records\":[]}", SL_FMT_JSON, &err), -EINVAL);
    ck_assert(r.object);
    slice_is(r.id, "\"x\"");
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "[{\"id\":1}]", SL_FMT_JSON, &err), -EINVAL);
    ck_assert(!r.object);
    ck_assert_ptr_null(r.id.base);
    sl_rec_req_fini(&r);
}
END_TEST

START_TEST(scanner_error_precedence_matches_jansson_era)
{
    /* syntax (400) > not an object / records null / not an array / empty (422) > count (413) > first bad record */
    struct sl_rec_req r;
    struct sl_rec_err err;
    sl_rec_req_init(&r);
    const char *body = "{\"records\":[{\"value\":\"!\"},{\"value\":1},{\"value\":2}]}";
    ck_assert_int_eq(sl_rec_parse_v2(&r, body, strlen(body), SL_FMT_BINARY, NOW, 2, &err), -EINVAL);
    ck_assert_uint_eq(err.status, 413);
    ck_assert_ptr_nonnull(strstr(err.msg, "3"));
    sl_rec_req_fini(&r);
    bad("{\"records\":[{\"value\":1},{\"value\":2,\"partition\":-1},{\"value\":\"x\",\"timestamp\":\"t\"}]}",
        SL_FMT_JSON, 422, 422);
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"value\":1},{\"value\":2,\"partition\":-1},{\"timestamp\":\"t\"}]}",
                            SL_FMT_JSON, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "records[1].partition must be a non-negative integer");
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"headers\":[{\"key\":\"k\"},{\"key\":\"k\",\"value\":7}],"
                                "\"key\":\"!!\",\"timestamp\":1}]}", SL_FMT_BINARY, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "records[0].key is not a valid base64 string");
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"headers\":[{\"key\":\"k\"},{\"key\":\"k\",\"value\":7}]}]}",
                            SL_FMT_BINARY, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "records[0].headers[1].value must be a base64 string");
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"records\":[{\"headers\":[[]]}]}", SL_FMT_BINARY, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "records[0].headers[0].key must be a string");
    sl_rec_req_fini(&r);
    ck_assert_int_eq(parse2(&r, "{\"records\":[{},\"x\"]}", SL_FMT_BINARY, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "records[1] must be a JSON object");
    sl_rec_req_fini(&r);
}
END_TEST

/* jansson as the oracle: the scanner accepts exactly what json_loadb(flags 0) accepts, and a parsed body's
 * records carry the values jansson sees (json: the same JSON value; text: the same bytes; binary: the same
 * base64 string decoded), with the same partition, timestamp and headers. */
static void same_as_jansson(const char *body, size_t len, enum sl_fmt fmt)
{
    struct sl_rec_req r;
    struct sl_rec_err err;
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    int rc = parse_exact(&r, body, len, fmt, &err);
    if (!root) {
        ck_assert_msg(rc == -EINVAL && err.status == 400, "jansson rejects (%s), scanner %d %u: %.*s", je.text, rc,
                      err.status, (int)len, body);
        done(&r);
        return;
    }
    ck_assert_msg(rc == 0 || err.status != 400, "jansson accepts, scanner says %s: %.*s", err.msg, (int)len, body);
    json_t *recs = json_object_get(root, "records");
    for (size_t i = 0; rc == 0 && i < r.n; i++) {
        json_t *e = json_array_get(recs, i), *v = json_object_get(e, "value"), *p = json_object_get(e, "partition");
        const struct sl_record *rec = &r.items[i].rec;
        ck_assert_uint_eq(r.n, json_array_size(recs));
        ck_assert_int_eq(r.items[i].partition, json_is_integer(p) ? (int)json_integer_value(p) : -1);
        if (!v || json_is_null(v)) {
            ck_assert_ptr_null(rec->value.base);
        } else if (fmt == SL_FMT_JSON) {
            json_t *mine = json_loadb((const char *)rec->value.base, rec->value.len, JSON_DECODE_ANY, NULL);
            ck_assert_msg(mine && json_equal(mine, v), "value %zu differs: %.*s", i, (int)len, body);
            json_decref(mine);
        } else {
            uint8_t dec[512];
            const char *s = json_string_value(v);
            size_t n = json_string_length(v);
            if (fmt == SL_FMT_BINARY && n < sizeof dec) {
                ck_assert_int_eq(sl_base64_decode(s, n, dec), (ssize_t)rec->value.len);
                s = (const char *)dec;
                n = rec->value.len;
            }
            ck_assert(rec->value.len == n && memcmp(rec->value.base, s, n) == 0);
        }
        ck_assert_uint_eq(rec->nheaders, json_array_size(json_object_get(e, "headers")));
        for (uint32_t h = 0; h < rec->nheaders; h++) {
            json_t *k = json_object_get(json_array_get(json_object_get(e, "headers"), h), "key");
            ck_assert(rec->headers[h].key.len == json_string_length(k) &&
                      memcmp(rec->headers[h].key.base, json_string_value(k), json_string_length(k)) == 0);
        }
    }
    json_decref(root);
    done(&r);
}

START_TEST(scanner_accepts_what_jansson_accepts)
{
    static const char *const seeds[] = {
        ("{\"records\":[{\"key\":\"a2V5\",\"value\":\"Y29uZmx1ZW50\",\"partition\":1,\"timestamp\":5,"
         "\"headers\":[{\"key\":\"h\\u00e9\",\"value\":\"dg==\"}]},{\"value\":null}]}"),
        "{\"records\":[{\"value\":{\"a\":[1,-2.5e-3,\"\\ud83d\\ude00\",true,false,null,{}]}},{\"value\":\"x\\ny\"}]}",
        "{ \"records\" : [ { \"value\" : \"\xc3\xa9\\\"\" , \"key\" : 0 } ] , \"id\" : [ 1 ] }",
        "[{\"records\":[]}]",
    };
    /* every seed, every prefix, and every position replaced by each interesting byte, in every format. Not a
     * NUL byte: jansson 2.14 skips one right after a number or literal ("{\"a\":0<NUL>}" loads), a quirk of its
     * stream buffer; the scanner rejects every raw NUL (scanner_rejects_malformed_json_with_400). */
    static const char subst[] = {'"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', '9', '-', '.', 'e', 'u', 'n',
                                 '\n', '\x01', '\x7f', '\x80', '\xc3', '\xa9', 'E', '+'};
    char buf[512];
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        size_t n = strlen(seeds[s]);
        for (enum sl_fmt f = SL_FMT_BINARY; f <= SL_FMT_TEXT; f++) {
            for (size_t len = 1; len <= n; len++)
                same_as_jansson(seeds[s], len, f);
            for (size_t at = 0; at < n; at++) {
                for (size_t k = 0; k < sizeof subst; k++) {
                    memcpy(buf, seeds[s], n);
                    buf[at] = subst[k];
                    same_as_jansson(buf, n, f);
                }
            }
        }
    }
}
END_TEST

/* ---- the renderer before the speed work, kept as the oracle of the differential tests below ----
 * Copied from api/codec/records.c as it was (snprintf numbers and escapes, a recursive validator, one sl_buf_append
 * per piece), renamed old_*. The new code must write the same bytes and keep the same counters for any input. */

static const char old_b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int old_base64_append(struct sl_buf *b, const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0; /* the one change to the oracle: the old code computed NULL + 0 here (clang UBSan) */
    if (sl_buf_reserve(b, (n + 2) / 3 * 4))
        return -ENOMEM;
    char *o = (char *)b->base + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = old_b64chars[v >> 18];
        *o++ = old_b64chars[(v >> 12) & 63];
        *o++ = old_b64chars[(v >> 6) & 63];
        *o++ = old_b64chars[v & 63];
    }
    if (n - i) {
        uint32_t v = (uint32_t)p[i] << 16 | (n - i == 2 ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = old_b64chars[v >> 18];
        *o++ = old_b64chars[(v >> 12) & 63];
        *o++ = n - i == 2 ? old_b64chars[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)((uint8_t *)o - b->base);
    return 0;
}

static size_t old_utf8_len(const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!n || (size_t)(end - p) < n || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

static int old_json_str_append(struct sl_buf *b, const uint8_t *p, size_t n)
{
    if (sl_buf_reserve(b, n + 2))
        return -ENOMEM;
    b->base[b->len++] = '"';
    const uint8_t *end = p + n;
    while (p < end) {
        const uint8_t *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run && sl_buf_append(b, run, (size_t)(p - run)))
            return -ENOMEM;
        if (p == end)
            break;
        char esc[8];
        size_t el;
        if (*p >= 0x80) {
            size_t ul = old_utf8_len(p, end);
            if (ul ? sl_buf_append(b, p, ul) : sl_buf_append(b, "\xef\xbf\xbd", 3))
                return -ENOMEM;
            p += ul ? ul : 1;
            continue;
        }
        if (*p == '"' || *p == '\\')
            el = (size_t)snprintf(esc, sizeof esc, "\\%c", *p);
        else if (*p == '\n')
            el = (size_t)snprintf(esc, sizeof esc, "\\n");
        else if (*p == '\r')
            el = (size_t)snprintf(esc, sizeof esc, "\\r");
        else if (*p == '\t')
            el = (size_t)snprintf(esc, sizeof esc, "\\t");
        else
            el = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
        if (sl_buf_append(b, esc, el))
            return -ENOMEM;
        p++;
    }
    return sl_buf_append(b, "\"", 1);
}

struct old_jv {
    const uint8_t *p, *end;
    int depth;
};

static void old_jv_ws(struct old_jv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
        v->p++;
}

static bool old_jv_lit(struct old_jv *v, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(v->end - v->p) < n || memcmp(v->p, lit, n) != 0)
        return false;
    v->p += n;
    return true;
}

static bool old_jv_string(struct old_jv *v)
{
    v->p++;
    while (v->p < v->end) {
        uint8_t c = *v->p;
        if (c == '"') {
            v->p++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (++v->p >= v->end)
                return false;
            if (*v->p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (v->p + i >= v->end || !isxdigit(v->p[i]))
                        return false;
                v->p += 5;
            } else if (strchr("\"\\/bfnrt", *v->p) && *v->p) {
                v->p++;
            } else {
                return false;
            }
        } else if (c >= 0x80) {
            size_t ul = old_utf8_len(v->p, v->end);
            if (!ul)
                return false;
            v->p += ul;
        } else {
            v->p++;
        }
    }
    return false;
}

static bool old_jv_digits(struct old_jv *v)
{
    const uint8_t *s = v->p;
    while (v->p < v->end && isdigit(*v->p))
        v->p++;
    return v->p > s;
}

static bool old_jv_number(struct old_jv *v)
{
    if (*v->p == '-')
        v->p++;
    if (v->p < v->end && *v->p == '0')
        v->p++;
    else if (!old_jv_digits(v))
        return false;
    if (v->p < v->end && *v->p == '.') {
        v->p++;
        if (!old_jv_digits(v))
            return false;
    }
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
            v->p++;
        if (!old_jv_digits(v))
            return false;
    }
    return true;
}

static bool old_jv_value(struct old_jv *v);

static bool old_jv_container(struct old_jv *v, uint8_t close, bool object)
{
    if (++v->depth > 512)
        return false;
    v->p++;
    old_jv_ws(v);
    if (v->p < v->end && *v->p == close) {
        v->p++;
        v->depth--;
        return true;
    }
    for (;;) {
        if (object) {
            old_jv_ws(v);
            if (v->p >= v->end || *v->p != '"' || !old_jv_string(v))
                return false;
            old_jv_ws(v);
            if (v->p >= v->end || *v->p++ != ':')
                return false;
        }
        if (!old_jv_value(v))
            return false;
        old_jv_ws(v);
        if (v->p >= v->end)
            return false;
        if (*v->p == close) {
            v->p++;
            v->depth--;
            return true;
        }
        if (*v->p++ != ',')
            return false;
    }
}

static bool old_jv_value(struct old_jv *v)
{
    old_jv_ws(v);
    if (v->p >= v->end)
        return false;
    switch (*v->p) {
    case '{':
        return old_jv_container(v, '}', true);
    case '[':
        return old_jv_container(v, ']', false);
    case '"':
        return old_jv_string(v);
    case 't':
        return old_jv_lit(v, "true");
    case 'f':
        return old_jv_lit(v, "false");
    case 'n':
        return old_jv_lit(v, "null");
    default:
        return (*v->p == '-' || isdigit(*v->p)) && old_jv_number(v);
    }
}

static bool old_json_valid(const uint8_t *p, size_t n)
{
    struct old_jv v = {p, p + n, 0};
    if (!old_jv_value(&v))
        return false;
    old_jv_ws(&v);
    return v.p == v.end;
}

static int old_render_bytes(struct sl_buf *o, enum sl_fmt fmt, struct sl_slice s)
{
    if (!s.base)
        return sl_buf_append(o, "null", 4);
    if (fmt == SL_FMT_BINARY) {
        int rc = sl_buf_append(o, "\"", 1);
        if (rc == 0)
            rc = old_base64_append(o, s.base, s.len);
        return rc ? rc : sl_buf_append(o, "\"", 1);
    }
    if (fmt == SL_FMT_JSON && old_json_valid(s.base, s.len))
        return sl_buf_append(o, s.base, s.len);
    return old_json_str_append(o, s.base, s.len);
}

static int old_render_headers(struct sl_buf *o, struct sl_batch_iter *it, const struct sl_record *r)
{
    int rc = sl_buf_append(o, "[", 1);
    for (uint32_t i = 0; rc == 0 && i < r->nheaders; i++) {
        struct sl_header h;
        rc = sl_batch_iter_header(it, i, &h);
        if (rc == 0)
            rc = sl_buf_append(o, i ? ",{\"key\":" : "{\"key\":", i ? 8 : 7);
        if (rc == 0)
            rc = old_json_str_append(o, h.key.base, h.key.len);
        if (rc == 0)
            rc = sl_buf_append(o, ",\"value\":", 9);
        if (rc == 0)
            rc = old_render_bytes(o, SL_FMT_BINARY, h.value);
        if (rc == 0)
            rc = sl_buf_append(o, "}", 1);
    }
    return rc ? rc : sl_buf_append(o, "]", 1);
}

static int old_render_one(struct sl_render *rd, const char *topic, int32_t partition, struct sl_batch_iter *it,
                          const struct sl_record *r)
{
    struct sl_buf *o = rd->out;
    char num[96];
    int rc = sl_buf_append(o, rd->count ? ",{\"topic\":" : "{\"topic\":", rd->count ? 10 : 9);
    if (rc == 0)
        rc = old_json_str_append(o, (const uint8_t *)topic, strlen(topic));
    if (rc == 0)
        rc = sl_buf_append(o, ",\"key\":", 7);
    if (rc == 0)
        rc = old_render_bytes(o, rd->fmt, r->key);
    if (rc == 0)
        rc = sl_buf_append(o, ",\"value\":", 9);
    if (rc == 0)
        rc = old_render_bytes(o, rd->fmt, r->value);
    int n = snprintf(num, sizeof num, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"timestamp\":%" PRId64
                     ",\"headers\":", partition, r->offset, r->timestamp);
    if (rc == 0)
        rc = sl_buf_append(o, num, (size_t)n);
    if (rc == 0)
        rc = old_render_headers(o, it, r);
    return rc ? rc : sl_buf_append(o, "}", 1);
}

static int old_rec_render(struct sl_render *rd, const char *topic, int32_t partition, const uint8_t *data, size_t n,
                          sl_offset_t from, sl_offset_t *next)
{
    size_t at = 0;
    *next = from;
    while (at + SL_BATCH_HEADER_SIZE <= n && !rd->full) {
        struct sl_batch_hdr h;
        struct sl_batch_iter it;
        struct sl_record r;
        int rc = sl_batch_hdr_decode(data + at, n - at, &h);
        size_t sz = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
        if (rc || h.length < 0 || sz > n - at)
            return SL_ECORRUPT;
        if (h.base_offset + h.last_offset_delta < from) {
            at += sz;
            continue;
        }
        rc = sl_batch_iter_init(&it, data + at, sz);
        int more;
        while (rc == 0 && (more = sl_batch_iter_next(&it, &r)) > 0) {
            if (r.offset < from)
                continue;
            size_t cost = r.key.len + r.value.len;
            if ((rd->count && rd->used + cost > rd->max_bytes) || (rd->max_records && rd->count >= rd->max_records)) {
                rd->full = true;
                break;
            }
            rc = old_render_one(rd, topic, partition, &it, &r);
            rd->used += cost;
            rd->count++;
            *next = r.offset + 1;
        }
        if (rc == 0 && more < 0)
            rc = more;
        if (rc)
            return rc;
        at += sz;
    }
    return 0;
}

/* ---- differential tests: new code against the old_* oracle ---- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* Bytes that take every path of the string writers and the validator: plain ASCII, the JSON punctuation, the
 * escapable and control bytes, DEL, and the pieces of valid and invalid UTF-8 (leads, continuations, the
 * overlong / surrogate / beyond-U+10FFFF leads). */
static const uint8_t nasty[] = {'a', 'Z', ' ', '0', '9', '"', '\\', '/', 'u', 'b', 'f', 'n', 'r', 't', 'e', 'E',
                                '{', '}', '[', ']', ',', ':', '-', '+', '.', '\n', '\r', '\t', 0x00, 0x01, 0x08,
                                0x0c, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xc3, 0xa9, 0xe0, 0xa0, 0xed, 0x9f,
                                0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff};

/* Fills p[0, n) with random bytes: mostly plain ASCII (so runs cross 8-byte words), else from nasty[]. */
static void rnd_bytes(uint8_t *p, size_t n)
{
    unsigned plain_pct = rnd() % 100;
    for (size_t i = 0; i < n; i++)
        p[i] = rnd() % 100 < plain_pct ? (uint8_t)(' ' + 1 + rnd() % 90) : nasty[rnd() % sizeof nasty];
}

static const char *const json_seeds[] = {
    "0", "-0", "1.5e+10", "-12.25E-3", "123456789012345678901234567890", "true", "false", "null", "\"\"",
    "\"plain text that is long enough to cross a few words\"",
    "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\"",
    "\"utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd\"", "[]", "{}", " [ 1 , 2 ] ", "\t{\"a\" :\n[true]}\r",
    "{\"id\":1,\"user\":\"user-00042\",\"score\":87.5,\"tags\":[\"a\",\"bb\"],\"active\":true,\"note\":null}",
    "[[[[[[[[[[[[[[[[{\"deep\":[[[{}]]]}]]]]]]]]]]]]]]]]", "{\"a\":{\"b\":{\"c\":[1,{\"d\":\"e\"},[]]}}}",
};

/* A random JSON-ish text into p (capacity cap): a seed, maybe mutated (a byte replaced, inserted, dropped or
 * the text cut), or random bytes. Returns its length. */
static size_t rnd_jsonish(uint8_t *p, size_t cap)
{
    size_t n;
    unsigned how = rnd() % 8;
    if (how == 0) {
        n = rnd() % 40;
        rnd_bytes(p, n);
        return n;
    }
    const char *s = json_seeds[rnd() % (sizeof json_seeds / sizeof json_seeds[0])];
    n = strlen(s);
    ck_assert_uint_lt(n + 1, cap);
    memcpy(p, s, n);
    if (how == 1 && n) {
        p[rnd() % n] = nasty[rnd() % sizeof nasty];
    } else if (how == 2) {
        size_t at = rnd() % (n + 1);
        memmove(p + at + 1, p + at, n - at);
        p[at] = nasty[rnd() % sizeof nasty];
        n++;
    } else if (how == 3 && n) {
        size_t at = rnd() % n;
        memmove(p + at, p + at + 1, n - at - 1);
        n--;
    } else if (how == 4) {
        n = rnd() % (n + 1);
    }
    return n;
}

static bool same(const struct sl_buf *a, const struct sl_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->base, b->base, a->len) == 0);
}

/* A malloc'd copy of p[0, n) of exactly n bytes, so that a sanitizer build catches a read past the end. */
static uint8_t *exact(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

static bool new_json_valid(const uint8_t *p, size_t n)
{
    uint8_t *c = exact(p, n);
    bool v = sl_json_valid(c, n);
    free(c);
    return v;
}

/* Containers nested d deep around 0: "[[...0...]]" or objects {"k":...}. */
static size_t nested(uint8_t *p, int d, bool obj)
{
    size_t n = 0;
    for (int i = 0; i < d; i++)
        n += (size_t)sprintf((char *)p + n, obj && i % 2 ? "{\"k\":" : "[");
    p[n++] = '0';
    for (int i = d - 1; i >= 0; i--)
        p[n++] = obj && i % 2 ? '}' : ']';
    return n;
}

START_TEST(json_valid_agrees_with_old_validator)
{
    static uint8_t buf[8192];
    size_t valid = 0, invalid = 0;
    rng_state = 0x1234567887654321u;
    for (int i = 0; i < 300000; i++) {
        size_t n = rnd_jsonish(buf, sizeof buf);
        bool want = old_json_valid(buf, n);
        ck_assert_msg(new_json_valid(buf, n) == want, "differs (old %d): %.*s", want, (int)n, buf);
        if (want)
            valid++;
        else
            invalid++;
    }
    ck_assert_uint_gt(valid, 30000); /* both outcomes are well represented */
    ck_assert_uint_gt(invalid, 30000);
    /* the depth limit: 512 containers pass, 513 do not, arrays and objects alike, and every prefix */
    for (int obj = 0; obj < 2; obj++) {
        for (int d = 510; d <= 514; d++) {
            size_t n = nested(buf, d, obj);
            ck_assert_int_eq(sl_json_valid(buf, n), d <= 512);
            ck_assert_int_eq(old_json_valid(buf, n), d <= 512);
        }
        size_t n = nested(buf, 512, obj);
        for (size_t len = 0; len < n; len++)
            ck_assert_int_eq(new_json_valid(buf, len), old_json_valid(buf, len));
    }
}
END_TEST

START_TEST(json_str_append_escapes_as_before)
{
    static uint8_t in[700];
    rng_state = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 100000; i++) {
        size_t n = rnd() % 4 ? rnd() % 40 : rnd() % sizeof in, pre = rnd() % 300;
        rnd_bytes(in, n);
        struct sl_buf got = {0}, want = {0};
        /* a prefix (any bytes) so that the string starts anywhere in the buffer and growth happens mid-string */
        ck_assert_int_eq(sl_buf_append(&got, in, pre) | sl_buf_append(&want, in, pre), 0);
        uint8_t *c = exact(in + i % 2, n ? n - i % 2 : 0);
        ck_assert_int_eq(sl_json_str_append(&got, c, n ? n - i % 2 : 0), 0);
        free(c);
        ck_assert_int_eq(old_json_str_append(&want, in + i % 2, n ? n - i % 2 : 0), 0);
        ck_assert_msg(same(&got, &want), "differs: %.*s / %.*s", (int)got.len, got.base, (int)want.len, want.base);
        sl_buf_fini(&got);
        sl_buf_fini(&want);
    }
    struct sl_buf b = {0}; /* the escapes themselves, spelled out */
    const char *esc = "\"\\\n\r\t\b\f\x01\x1f\x7f\xc3\xa9\xc3(\xed\xa0\x80/";
    ck_assert_int_eq(sl_json_str_append(&b, (const uint8_t *)esc, 18), 0);
    ck_assert_uint_eq(b.len, 53);
    ck_assert(memcmp(b.base, "\"\\\"\\\\\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\x7f\xc3\xa9\xef\xbf\xbd("
                             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd/\"", 53) == 0);
    sl_buf_fini(&b);
}
END_TEST

START_TEST(base64_append_encodes_as_before)
{
    uint8_t in[300], dec[310];
    rng_state = 42;
    for (size_t n = 0; n < sizeof in; n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)rnd();
        struct sl_buf got = {0}, want = {0};
        ck_assert_int_eq(sl_buf_append(&got, "ab", n % 3) | sl_buf_append(&want, "ab", n % 3), 0);
        uint8_t *c = exact(in, n);
        ck_assert_int_eq(sl_base64_append(&got, c, n), 0);
        free(c);
        ck_assert_int_eq(old_base64_append(&want, in, n), 0);
        ck_assert_uint_eq(got.len, (n + 2) / 3 * 4 + n % 3);
        ck_assert(same(&got, &want));
        if (n) /* got.base is NULL for n == 0 (n % 3 == 0 too): no NULL + 0 */
            ck_assert_int_eq(sl_base64_decode((const char *)got.base + n % 3, got.len - n % 3, dec), (ssize_t)n);
        ck_assert(n == 0 || memcmp(dec, in, n) == 0);
        sl_buf_fini(&got);
        sl_buf_fini(&want);
    }
}
END_TEST

/* Every byte value (and every pair, before two continuation bytes) in every syntactic position: the validator
 * and the string writer agree with the old code on all of them. '#' marks the hole. */
START_TEST(every_byte_in_every_position_as_before)
{
    static const char *const holes[] = {
        "#", "[#]", "[1,#]", "{\"a\":#}", "{#:1}", "{\"a\"#1}", "{\"a\":1#}", "[1#]", "1#", "-#", "-0#", "1.#",
        "1.5#", "1e#", "1E+#", "1e-5#", "t#ue", "fals#", "nul#", "\"#\"", "\"ab#cdefghij\"", "\"\\#\"",
        "\"\\u#000\"", "\"\\u0#00\"", "\"\\u00#0\"", "\"\\u000#\"", "\"\\u000#", " # ", "#1", "[]#",
        "\"0123456#89abcdef\"", "\"01234567#9abcdef\"", "\"#\x80\x80\x80\"",
    };
    uint8_t t[64];
    for (size_t h = 0; h < sizeof holes / sizeof holes[0]; h++) {
        size_t n = strlen(holes[h]), at = (size_t)(strchr(holes[h], '#') - holes[h]);
        memcpy(t, holes[h], n);
        for (int c = 0; c < 256; c++) {
            t[at] = (uint8_t)c;
            ck_assert_msg(new_json_valid(t, n) == old_json_valid(t, n), "byte %02x in %s", c, holes[h]);
            struct sl_buf got = {0}, want = {0};
            uint8_t *e = exact(t, n);
            ck_assert_int_eq(sl_json_str_append(&got, e, n) | old_json_str_append(&want, t, n), 0);
            ck_assert_msg(same(&got, &want), "byte %02x in %s", c, holes[h]);
            free(e);
            sl_buf_fini(&got);
            sl_buf_fini(&want);
        }
    }
    /* every pair XY in "XY\x80\x80": every UTF-8 lead against every second byte, inside a JSON string for the
     * validator and as text for the string writer */
    for (int x = 0; x < 256; x++)
        for (int y = 0; y < 256; y++) {
            uint8_t q[6] = {'"', (uint8_t)x, (uint8_t)y, 0x80, 0x80, '"'};
            ck_assert_msg(new_json_valid(q, 6) == old_json_valid(q, 6), "%02x %02x", x, y);
            struct sl_buf got = {0}, want = {0};
            ck_assert_int_eq(sl_json_str_append(&got, q + 1, 4) | old_json_str_append(&want, q + 1, 4), 0);
            ck_assert_msg(same(&got, &want), "%02x %02x", x, y);
            sl_buf_fini(&got);
            sl_buf_fini(&want);
        }
}
END_TEST

/* A random key / value / header value: null, empty, JSON-ish, nasty bytes, or a long mostly-plain text. */
static struct sl_slice rnd_field(uint8_t *p, size_t cap)
{
    switch (rnd() % 6) {
    case 0:
        return (struct sl_slice){NULL, 0};
    case 1:
        return (struct sl_slice){p, 0};
    case 2:
    case 3:
        return (struct sl_slice){p, rnd_jsonish(p, cap)};
    default: {
        size_t n = rnd() % (cap < 600 ? cap : 600);
        rnd_bytes(p, n);
        return (struct sl_slice){p, n};
    }
    }
}

/* Up to 3 batches of 1..12 random records, base offsets increasing from a random point, in buf. Returns the
 * first offset. */
static sl_offset_t rnd_batches(struct sl_buf *buf)
{
    static uint8_t field[40][700];
    sl_offset_t base = (sl_offset_t)(rnd() % 3 ? rnd() % 1000 : (uint64_t)rnd() << 20), first = base;
    int nb = 1 + (int)(rnd() % 3);
    buf->len = 0;
    for (int b = 0; b < nb; b++) {
        struct sl_batch_builder bb;
        sl_bb_init(&bb);
        int nr = 1 + (int)(rnd() % 12);
        for (int i = 0; i < nr; i++) {
            struct sl_header h[3];
            int f = 0;
            struct sl_record r = {.timestamp = rnd() % 4 ? NOW + (int64_t)(rnd() % 100000) - 50000
                                                         : (int64_t)(rnd() % 3) - 1 - (int64_t)rnd() * 1000};
            r.key = rnd_field(field[f++], sizeof field[0]);
            r.value = rnd_field(field[f++], sizeof field[0]);
            r.nheaders = rnd() % 4 ? 0 : 1 + rnd() % 3;
            for (uint32_t k = 0; k < r.nheaders; k++) {
                size_t kl = rnd() % 12;
                rnd_bytes(field[f], kl);
                h[k].key = (struct sl_slice){field[f++], kl};
                h[k].value = rnd_field(field[f++], sizeof field[0]);
            }
            r.headers = h;
            ck_assert_int_eq(sl_bb_add(&bb, &r), 0);
        }
        struct sl_slice s;
        ck_assert_int_eq(sl_bb_finish(&bb, &s), 0);
        size_t at = buf->len;
        ck_assert_int_eq(sl_buf_append(buf, s.base, s.len), 0);
        sl_batch_set_base(buf->base + at, base);
        base += nr;
        sl_bb_fini(&bb);
    }
    return first;
}

START_TEST(render_writes_what_the_old_renderer_wrote)
{
    static const char *const topics[] = {"t", "orders", "a.b-c_D9", "", "we\"ird\\topic\n", "t\xc3\xb8pic\x01",
                                         "a-topic-name-long-enough-to-need-more-than-a-few-words-of-copying"};
    static const int32_t parts[] = {0, 7, 123, INT32_MAX, -1};
    struct sl_buf data = {0};
    size_t rendered = 0, stopped = 0;
    rng_state = 0xfeedfacecafebeefu;
    for (int i = 0; i < 6000; i++) {
        sl_offset_t first = rnd_batches(&data);
        const char *topic = topics[rnd() % (sizeof topics / sizeof topics[0])];
        int32_t part = parts[rnd() % (sizeof parts / sizeof parts[0])];
        enum sl_fmt fmt = (enum sl_fmt)(rnd() % 3);
        sl_offset_t from = first + (sl_offset_t)(rnd() % 8) - 1;
        struct sl_buf got = {0}, want = {0};
        struct sl_render a = {.out = &got, .fmt = fmt, .max_bytes = rnd() % 2 ? SIZE_MAX : rnd() % 2000,
                              .max_records = rnd() % 3 ? 0 : rnd() % 10};
        if (rnd() % 4 == 0) { /* a continuation: records of an earlier call are already out */
            a.count = 1 + rnd() % 3;
            a.used = rnd() % 500;
            ck_assert_int_eq(sl_buf_append(&got, "[{}", 3), 0);
            ck_assert_int_eq(sl_buf_append(&want, "[{}", 3), 0);
        }
        struct sl_render b = a;
        b.out = &want;
        sl_offset_t na = -5, nb = -6;
        int rca = sl_rec_render(&a, topic, part, data.base, data.len, from, &na);
        int rcb = old_rec_render(&b, topic, part, data.base, data.len, from, &nb);
        ck_assert_int_eq(rca, rcb);
        ck_assert_int_eq(na, nb);
        ck_assert_uint_eq(a.count, b.count);
        ck_assert_uint_eq(a.used, b.used);
        ck_assert_int_eq(a.full, b.full);
        ck_assert_msg(same(&got, &want), "fmt %d differs:\n%.*s\n%.*s", fmt, (int)got.len, got.base,
                      (int)want.len, want.base);
        rendered += a.count;
        stopped += a.full;
        sl_buf_fini(&got);
        sl_buf_fini(&want);
    }
    ck_assert_uint_gt(rendered, 6000); /* the comparisons covered records, and budgets that stopped rendering */
    ck_assert_uint_gt(stopped, 500);
    /* a cut batch is SL_ECORRUPT for both, after the same output */
    rnd_batches(&data);
    for (size_t cut = 1; cut < 80 && cut < data.len; cut += 7) {
        struct sl_buf got = {0}, want = {0};
        struct sl_render a = {.out = &got, .fmt = SL_FMT_TEXT, .max_bytes = SIZE_MAX}, b = a;
        b.out = &want;
        sl_offset_t na, nb;
        ck_assert_int_eq(sl_rec_render(&a, "t", 0, data.base, data.len - cut, 0, &na),
                         old_rec_render(&b, "t", 0, data.base, data.len - cut, 0, &nb));
        ck_assert(na == nb && a.count == b.count && same(&got, &want));
        sl_buf_fini(&got);
        sl_buf_fini(&want);
    }
    sl_buf_fini(&data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("records");
    TCase *tc = tcase_create("records");
    tcase_add_test(tc, dec_append_writes_what_printf_writes);
    tcase_add_test(tc, base64_strict);
    tcase_add_test(tc, formats_from_content_types);
    tcase_add_test(tc, parse_binary);
    tcase_add_test(tc, parse_json_and_text);
    tcase_add_test(tc, parse_rejects_bad_input);
    tcase_add_test(tc, parse_v3);
    tcase_add_test(tc, unknown_members_are_rejected_and_named);
    tcase_add_test(tc, partitioning_and_batching);
    tcase_add_test(tc, batches_split_at_max_bytes);
    tcase_add_test(tc, render_round_trip);
    tcase_add_test(tc, render_rejects_offsets_that_do_not_fit);
    tcase_add_test(tc, json_validator_and_time);
    tcase_add_test(tc, scanner_rejects_malformed_json_with_400);
    tcase_add_test(tc, scanner_numbers_in_every_form_are_stored_as_sent);
    tcase_add_test(tc, scanner_escapes_and_unicode_decode_to_utf8);
    tcase_add_test(tc, scanner_whitespace_everywhere);
    tcase_add_test(tc, scanner_nesting_depth_is_limited_as_jansson);
    tcase_add_test(tc, scanner_truncated_or_extended_bodies);
    tcase_add_test(tc, scanner_duplicate_keys_last_one_wins);
    tcase_add_test(tc, scanner_error_precedence_matches_jansson_era);
    tcase_add_test(tc, scanner_accepts_what_jansson_accepts);
    tcase_add_test(tc, json_valid_agrees_with_old_validator);
    tcase_add_test(tc, json_str_append_escapes_as_before);
    tcase_add_test(tc, base64_append_encodes_as_before);
    tcase_add_test(tc, every_byte_in_every_position_as_before);
    tcase_add_test(tc, render_writes_what_the_old_renderer_wrote);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
