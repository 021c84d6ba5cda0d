/* api/records.c: produce parsing in every format, bad input, batching, and the render round trip. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/records.h"
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

START_TEST(base64_strict)
{
    uint8_t out[64];
    ck_assert_int_eq(sl_base64_decode("Y29uZmx1ZW50", 12, out), 9);
    ck_assert(memcmp(out, "confluent", 9) == 0);
    ck_assert_int_eq(sl_base64_decode("a2Fma2E=", 8, out), 5);
    ck_assert_int_eq(sl_base64_decode("a2Fma2E", 7, out), 5); /* padding optional */
    ck_assert_int_eq(sl_base64_decode("", 0, out), 0);
    ck_assert_int_eq(sl_base64_decode("a2F!", 4, out), -1);
    ck_assert_int_eq(sl_base64_decode("a", 1, out), -1);
    ck_assert_int_eq(sl_base64_decode("a2 F", 4, out), -1);
    ck_assert_int_eq(sl_base64_decode("a2Fma2E==x", 10, out), -1);
    struct sl_buf b = {0};
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
    ck_assert_int_eq(sl_rec_parse_v3(&r, o, NOW, &err), 0);
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
        ck_assert_int_eq(sl_rec_parse_v3(&r, b, NOW, &err), -EINVAL);
        ck_assert_uint_eq(err.status, 400);
        json_decref(b);
    }
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
    sl_rec_partition(&r, 3);
    ck_assert_int_eq(r.items[0].partition, sl_partitioner_keyed("\"foobar\"", 8, 3)); /* json key text */
    ck_assert_int_eq(r.items[1].partition, r.items[4].partition); /* sticky within a request */
    ck_assert_int_eq(r.items[2].err_code, 40402);
    struct sl_rec_batch *b;
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
    sl_rec_partition(&r, 1);
    struct sl_rec_batch *b;
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
    sl_rec_partition(&r, 1);
    struct sl_rec_batch *b;
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

int main(void)
{
    Suite *s = suite_create("records");
    TCase *tc = tcase_create("records");
    tcase_add_test(tc, base64_strict);
    tcase_add_test(tc, formats_from_content_types);
    tcase_add_test(tc, parse_binary);
    tcase_add_test(tc, parse_json_and_text);
    tcase_add_test(tc, parse_rejects_bad_input);
    tcase_add_test(tc, parse_v3);
    tcase_add_test(tc, partitioning_and_batching);
    tcase_add_test(tc, batches_split_at_max_bytes);
    tcase_add_test(tc, render_round_trip);
    tcase_add_test(tc, json_validator_and_time);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
