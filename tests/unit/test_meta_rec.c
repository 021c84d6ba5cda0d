/* Unit tests for server/meta_rec.c: every record type survives encode -> decode unchanged; decoding refuses
 * every prefix of a valid record, a trailing byte, an unknown version or type, a string over its bound, an
 * embedded NUL and counts over their limits, without allocating what a hostile length claims; encoding
 * refuses fields over their bounds and appends nothing then. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/meta_rec.h"
#include "storage/err.h"
#include "tests/support/testutil.h"

static struct sl_meta_part part(int32_t leader, int32_t le, int32_t pe, int n)
{
    struct sl_meta_part p = {.leader = leader, .leader_epoch = le, .partition_epoch = pe, .nreplicas = (uint8_t)n};
    for (int i = 0; i < n; i++)
        p.replicas[i] = i + 1;
    return p;
}

static struct sl_meta_part parts[3];
static struct sl_meta_kv cfgs[2] = {{"retention.ms", "60000"}, {"cleanup.policy", "delete"}};

/* One record of each type, with every field set to something other than zero. */
static struct sl_meta_rec sample(enum sl_meta_type t)
{
    struct sl_meta_rec r = {.type = t};
    parts[0] = part(1, 3, 7, 3);
    parts[1] = part(2, 1, 1, 2);
    parts[2] = part(-1, 0, 4, 1);
    r.broker = (struct sl_meta_broker){.id = 3, .incarnation = 0x0102030405060708LL, .host = "node-3.local",
                                       .rest_port = 8082, .ws_port = 8092, .cluster_port = 9094};
    snprintf(r.topic, sizeof r.topic, "orders.v1");
    snprintf(r.topic_id, sizeof r.topic_id, "AAAAAAAAAAAAAAAAAAAAAB");
    if (t == SL_META_TOPIC_CREATE || t == SL_META_PARTITIONS_ADD) {
        r.parts = parts;
        r.nparts = 3;
    }
    if (t == SL_META_TOPIC_CREATE) {
        r.configs = cfgs;
        r.nconfigs = 2;
    }
    r.kv = cfgs[0];
    r.partition = 2;
    r.part = part(2, 9, 11, 3);
    return r;
}

static void encode(const struct sl_meta_rec *r, struct sl_buf *b)
{
    b->len = 0;
    ck_assert_int_eq(sl_meta_rec_encode(r, b), 0);
}

static void assert_same(enum sl_meta_type t, const struct sl_meta_rec *a, const struct sl_meta_rec *d)
{
    ck_assert_int_eq(d->type, t);
    if (t <= SL_META_UNFENCE_BROKER) {
        ck_assert_int_eq(d->broker.id, a->broker.id);
        ck_assert(d->broker.incarnation == a->broker.incarnation);
    }
    if (t == SL_META_REGISTER_BROKER) {
        ck_assert_str_eq(d->broker.host, a->broker.host);
        ck_assert_int_eq(d->broker.rest_port, 8082);
        ck_assert_int_eq(d->broker.ws_port, 8092);
        ck_assert_int_eq(d->broker.cluster_port, 9094);
    }
    if (t >= SL_META_TOPIC_CREATE)
        ck_assert_str_eq(d->topic, a->topic);
    if (t == SL_META_TOPIC_CREATE || t == SL_META_TOPIC_DELETE)
        ck_assert_str_eq(d->topic_id, a->topic_id);
    ck_assert_uint_eq(d->nparts, a->nparts);
    for (uint32_t i = 0; i < d->nparts; i++)
        ck_assert_mem_eq(&d->parts[i], &a->parts[i], sizeof d->parts[i]);
    ck_assert_uint_eq(d->nconfigs, a->nconfigs);
    for (uint16_t i = 0; i < d->nconfigs; i++) {
        ck_assert_str_eq(d->configs[i].key, a->configs[i].key);
        ck_assert_str_eq(d->configs[i].value, a->configs[i].value);
    }
    if (t == SL_META_TOPIC_CONFIG) {
        ck_assert_str_eq(d->kv.key, a->kv.key);
        ck_assert_str_eq(d->kv.value, a->kv.value);
        ck_assert(!d->reset);
    }
    if (t == SL_META_PARTITION_CHANGE) {
        ck_assert_int_eq(d->partition, 2);
        ck_assert_mem_eq(&d->part, &a->part, sizeof d->part);
    }
}

START_TEST(meta_rec_every_type_round_trips)
{
    struct sl_buf b = {0};
    for (int t = SL_META_REGISTER_BROKER; t <= SL_META_PARTITION_CHANGE; t++) {
        struct sl_meta_rec r = sample((enum sl_meta_type)t), d;
        encode(&r, &b);
        ck_assert_int_eq(sl_meta_rec_decode(b.base, b.len, &d), 0);
        assert_same((enum sl_meta_type)t, &r, &d);
        ck_assert_str_ne(sl_meta_type_name((enum sl_meta_type)t), "?");
        sl_meta_rec_fini(&d);
    }
    struct sl_meta_rec r = sample(SL_META_TOPIC_CONFIG), d;
    r.reset = true;
    encode(&r, &b);
    ck_assert_int_eq(sl_meta_rec_decode(b.base, b.len, &d), 0);
    ck_assert(d.reset);
    ck_assert_str_eq(d.kv.value, ""); /* a reset carries no value */
    sl_buf_fini(&b);
}
END_TEST

START_TEST(meta_rec_decode_refuses_every_prefix_and_trailing_bytes)
{
    struct sl_buf b = {0};
    for (int t = SL_META_REGISTER_BROKER; t <= SL_META_PARTITION_CHANGE; t++) {
        struct sl_meta_rec r = sample((enum sl_meta_type)t), d;
        encode(&r, &b);
        for (size_t n = 0; n < b.len; n++)
            ck_assert_msg(sl_meta_rec_decode(b.base, n, &d) == SL_ECORRUPT, "%s: prefix %zu of %zu accepted",
                          sl_meta_type_name((enum sl_meta_type)t), n, b.len);
        sl_buf_append(&b, "x", 1);
        ck_assert_int_eq(sl_meta_rec_decode(b.base, b.len, &d), SL_ECORRUPT);
    }
    sl_buf_fini(&b);
}
END_TEST

START_TEST(meta_rec_decode_refuses_bad_versions_types_strings_and_counts)
{
    struct sl_buf b = {0};
    struct sl_meta_rec d, r = sample(SL_META_TOPIC_DELETE);
    encode(&r, &b);
    b.base[0] = 2; /* a future version */
    ck_assert_int_eq(sl_meta_rec_decode(b.base, b.len, &d), SL_ECORRUPT);
    b.base[0] = SL_META_VERSION;
    b.base[1] = 99; /* an unknown type */
    ck_assert_int_eq(sl_meta_rec_decode(b.base, b.len, &d), SL_ECORRUPT);
    b.base[1] = SL_META_TOPIC_DELETE;
    b.base[5] = '\0'; /* inside the topic name (after version, type and the u16 length) */
    ck_assert_int_eq(sl_meta_rec_decode(b.base, b.len, &d), SL_ECORRUPT);

    /* a topic name longer than SL_TOPIC_NAME_MAX, hand-written */
    uint8_t big[2 + 2 + 300 + 2] = {SL_META_VERSION, SL_META_TOPIC_DELETE, 300 >> 8, 300 & 0xff};
    memset(big + 4, 'a', 300);
    ck_assert_int_eq(sl_meta_rec_decode(big, sizeof big, &d), SL_ECORRUPT);

    /* TOPIC_CREATE claiming 2^32-1 partitions in a few bytes: refused before any allocation of that size */
    uint8_t huge[] = {SL_META_VERSION, SL_META_TOPIC_CREATE, 0, 1, 'a', 0, 0, 0xff, 0xff, 0xff, 0xff};
    ck_assert_int_eq(sl_meta_rec_decode(huge, sizeof huge, &d), SL_ECORRUPT);
    /* a PART with more replicas than SL_META_MAX_REPLICAS */
    r = sample(SL_META_PARTITION_CHANGE);
    encode(&r, &b);
    size_t nrep_at = b.len - 1 - 3 * 4; /* u8 nreplicas precedes the 3 replica ids */
    ck_assert_int_eq(b.base[nrep_at], 3);
    b.base[nrep_at] = SL_META_MAX_REPLICAS + 1;
    ck_assert_int_eq(sl_meta_rec_decode(b.base, b.len, &d), SL_ECORRUPT);
    sl_buf_fini(&b);
}
END_TEST

START_TEST(meta_rec_encode_refuses_fields_over_their_bounds)
{
    struct sl_buf b = {0};
    sl_buf_append(&b, "keep", 4);
    struct sl_meta_rec r = sample(SL_META_PARTITION_CHANGE);
    r.part.nreplicas = SL_META_MAX_REPLICAS + 1;
    ck_assert_int_eq(sl_meta_rec_encode(&r, &b), -EINVAL);
    r = sample(SL_META_TOPIC_CREATE);
    r.nconfigs = SL_META_MAX_CONFIGS + 1;
    ck_assert_int_eq(sl_meta_rec_encode(&r, &b), -EINVAL);
    r.type = (enum sl_meta_type)42;
    ck_assert_int_eq(sl_meta_rec_encode(&r, &b), -EINVAL);
    ck_assert_uint_eq(b.len, 4); /* nothing appended by a refused encode */
    ck_assert_str_eq(sl_meta_type_name((enum sl_meta_type)42), "?");
    sl_buf_fini(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("meta_rec");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, meta_rec_every_type_round_trips);
    tcase_add_test(tc, meta_rec_decode_refuses_every_prefix_and_trailing_bytes);
    tcase_add_test(tc, meta_rec_decode_refuses_bad_versions_types_strings_and_counts);
    tcase_add_test(tc, meta_rec_encode_refuses_fields_over_their_bounds);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
