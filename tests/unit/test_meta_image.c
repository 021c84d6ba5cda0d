/* Unit tests for server/meta_image.c: each rule of sl_meta_apply (meta_image.h RULES) accepts what it should
 * and refuses what it should with the image unchanged (compared through its snapshot bytes); two images fed
 * the same records are byte-identical; a snapshot restores to the same image; a damaged snapshot is refused
 * (cut short, or with a record that does not apply) and leaves nothing behind. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/meta_image.h"
#include "storage/err.h"
#include "tests/support/testutil.h"

static struct sl_meta_part part(int32_t leader, int32_t le, int32_t pe, int n)
{
    struct sl_meta_part p = {.leader = leader, .leader_epoch = le, .partition_epoch = pe, .nreplicas = (uint8_t)n};
    for (int i = 0; i < n; i++)
        p.replicas[i] = i + 1;
    return p;
}

static struct sl_meta_rec reg(int32_t id, int64_t inc)
{
    struct sl_meta_rec r = {.type = SL_META_REGISTER_BROKER};
    r.broker = (struct sl_meta_broker){.id = id, .incarnation = inc, .rest_port = 8082, .ws_port = 8092,
                                       .cluster_port = 9094};
    snprintf(r.broker.host, sizeof r.broker.host, "n%d", (int)id);
    return r;
}

static struct sl_meta_part three[3];

static struct sl_meta_rec create(const char *name, uint32_t n)
{
    struct sl_meta_rec r = {.type = SL_META_TOPIC_CREATE, .parts = three, .nparts = n};
    for (uint32_t i = 0; i < 3; i++)
        three[i] = part((int32_t)(i % 3) + 1, 0, 0, 3);
    snprintf(r.topic, sizeof r.topic, "%s", name);
    snprintf(r.topic_id, sizeof r.topic_id, "id-%s", name);
    return r;
}

/* The image's snapshot bytes, malloc'd, for "unchanged" and "identical" checks. */
static char *bytes(const struct sl_meta_image *im, size_t *n)
{
    struct sl_buf b = {0};
    ck_assert_int_eq(sl_meta_snapshot(im, &b), 0);
    *n = b.len;
    char *p = malloc(b.len + 1);
    memcpy(p, b.base ? (const char *)b.base : "", b.len);
    sl_buf_fini(&b);
    return p;
}

/* Applying r must fail with want and change nothing. */
static void refused(struct sl_meta_image *im, const struct sl_meta_rec *r, int want)
{
    size_t n0, n1;
    char *before = bytes(im, &n0);
    ck_assert_int_eq(sl_meta_apply(im, r), want);
    char *after = bytes(im, &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert_mem_eq(before, after, n0);
    free(before);
    free(after);
}

START_TEST(meta_brokers_register_fence_and_stale_incarnations)
{
    struct sl_meta_image im = {0};
    struct sl_meta_rec r = reg(2, 10);
    ck_assert_int_eq(sl_meta_apply(&im, &r), 0);
    r = reg(1, 5);
    ck_assert_int_eq(sl_meta_apply(&im, &r), 0);
    ck_assert_uint_eq(im.nbrokers, 2);
    ck_assert_int_eq(im.brokers[0].id, 1); /* sorted */
    struct sl_meta_rec f = {.type = SL_META_FENCE_BROKER, .broker = {.id = 2, .incarnation = 10}};
    ck_assert_int_eq(sl_meta_apply(&im, &f), 0);
    ck_assert(sl_meta_broker(&im, 2)->fenced);
    f.broker.incarnation = 9;
    refused(&im, &f, SL_EFENCED); /* another incarnation's fence */
    f.broker.id = 7;
    refused(&im, &f, -ENOENT);
    r = reg(2, 9);
    refused(&im, &r, SL_EFENCED); /* an older start of node 2 */
    r = reg(2, 11);
    snprintf(r.broker.host, sizeof r.broker.host, "moved");
    ck_assert_int_eq(sl_meta_apply(&im, &r), 0); /* a restart: new endpoints, unfenced */
    ck_assert(!sl_meta_broker(&im, 2)->fenced);
    ck_assert_str_eq(sl_meta_broker(&im, 2)->host, "moved");
    f = (struct sl_meta_rec){.type = SL_META_FENCE_BROKER, .broker = {.id = 2, .incarnation = 11}};
    ck_assert_int_eq(sl_meta_apply(&im, &f), 0);
    f.type = SL_META_UNFENCE_BROKER;
    ck_assert_int_eq(sl_meta_apply(&im, &f), 0);
    ck_assert(!sl_meta_broker(&im, 2)->fenced);
    ck_assert_ptr_null(sl_meta_broker(&im, 3));
    sl_meta_image_fini(&im);
}
END_TEST

START_TEST(meta_topics_create_delete_add_and_config)
{
    struct sl_meta_image im = {0};
    struct sl_meta_rec r = create("b", 2);
    ck_assert_int_eq(sl_meta_apply(&im, &r), 0);
    r = create("a", 1);
    ck_assert_int_eq(sl_meta_apply(&im, &r), 0);
    ck_assert_str_eq(im.topics[0].name, "a");
    refused(&im, &r, SL_EEXISTS);
    r = create("bad name!", 1);
    refused(&im, &r, SL_EBADNAME);
    r = create("c", 0);
    refused(&im, &r, SL_ECONFIG); /* no partitions */
    r = create("c", 1);
    three[0].replicas[1] = three[0].replicas[0];
    refused(&im, &r, SL_ECONFIG); /* a replica twice */
    r = create("c", 1);
    three[0].leader = 9;
    refused(&im, &r, SL_ECONFIG); /* a leader that is no replica */

    struct sl_meta_rec add = create("b", 1);
    add.type = SL_META_PARTITIONS_ADD;
    ck_assert_int_eq(sl_meta_apply(&im, &add), 0);
    ck_assert_uint_eq(sl_meta_topic(&im, "b")->nparts, 3);
    snprintf(add.topic, sizeof add.topic, "zz");
    refused(&im, &add, SL_ENOTOPIC);

    struct sl_meta_rec c = {.type = SL_META_TOPIC_CONFIG, .kv = {"retention.ms", "1000"}};
    snprintf(c.topic, sizeof c.topic, "b");
    ck_assert_int_eq(sl_meta_apply(&im, &c), 0);
    snprintf(c.kv.value, sizeof c.kv.value, "2000");
    ck_assert_int_eq(sl_meta_apply(&im, &c), 0); /* replaces */
    ck_assert_str_eq(sl_meta_config(sl_meta_topic(&im, "b"), "retention.ms"), "2000");
    ck_assert_uint_eq(sl_meta_topic(&im, "b")->nconfigs, 1);
    c.reset = true;
    ck_assert_int_eq(sl_meta_apply(&im, &c), 0);
    ck_assert_ptr_null(sl_meta_config(sl_meta_topic(&im, "b"), "retention.ms"));
    c.kv.key[0] = '\0';
    refused(&im, &c, SL_ECONFIG);

    struct sl_meta_rec d = {.type = SL_META_TOPIC_DELETE};
    snprintf(d.topic, sizeof d.topic, "b");
    snprintf(d.topic_id, sizeof d.topic_id, "id-other");
    refused(&im, &d, SL_ENOTOPIC); /* a delete of an older topic of the same name */
    snprintf(d.topic_id, sizeof d.topic_id, "id-b");
    ck_assert_int_eq(sl_meta_apply(&im, &d), 0);
    ck_assert_ptr_null(sl_meta_topic(&im, "b"));
    ck_assert_uint_eq(im.ntopics, 1);
    sl_meta_image_fini(&im);
}
END_TEST

START_TEST(meta_partition_changes_need_the_next_partition_epoch)
{
    struct sl_meta_image im = {0};
    struct sl_meta_rec r = create("t", 2);
    ck_assert_int_eq(sl_meta_apply(&im, &r), 0);
    struct sl_meta_rec c = {.type = SL_META_PARTITION_CHANGE, .partition = 1, .part = part(3, 1, 1, 3)};
    snprintf(c.topic, sizeof c.topic, "t");
    ck_assert_int_eq(sl_meta_apply(&im, &c), 0); /* leader 2 -> 3, leader epoch 0 -> 1 */
    ck_assert_int_eq(sl_meta_topic(&im, "t")->parts[1].leader, 3);
    refused(&im, &c, SL_EFENCED); /* the same change again: partition epoch 1 is not current + 1 */
    c.part = part(1, 1, 2, 3);
    refused(&im, &c, SL_EFENCED); /* a new leader in the same leader epoch */
    c.part = part(3, 0, 2, 3);
    refused(&im, &c, SL_EFENCED); /* the leader epoch going back */
    c.part = part(3, 1, 2, 3);
    c.part.nreplicas = 2;
    c.part.replicas[0] = 3;
    ck_assert_int_eq(sl_meta_apply(&im, &c), 0); /* an ISR-style change: same leader and epoch, next p-epoch */
    ck_assert_int_eq(sl_meta_topic(&im, "t")->parts[1].nreplicas, 2);
    c.part = part(-1, 2, 3, 2);
    ck_assert_int_eq(sl_meta_apply(&im, &c), 0); /* no live leader */
    c.part = part(5, 3, 4, 2);
    c.partition = 2;
    refused(&im, &c, SL_ENOPART);
    c.partition = 1;
    refused(&im, &c, SL_ECONFIG); /* leader 5 is not a replica */
    snprintf(c.topic, sizeof c.topic, "nope");
    refused(&im, &c, SL_ENOTOPIC);
    struct sl_meta_rec bad = {.type = (enum sl_meta_type)77};
    refused(&im, &bad, SL_ECORRUPT);
    sl_meta_image_fini(&im);
}
END_TEST

/* A history of every record type, applied to im. */
static void history(struct sl_meta_image *im)
{
    struct sl_meta_rec r;
    for (int id = 3; id >= 1; id--) {
        r = reg(id, 100 + id);
        ck_assert_int_eq(sl_meta_apply(im, &r), 0);
    }
    r = (struct sl_meta_rec){.type = SL_META_FENCE_BROKER, .broker = {.id = 2, .incarnation = 102}};
    ck_assert_int_eq(sl_meta_apply(im, &r), 0);
    const char *names[] = {"orders", "audit", "__consumer_offsets"};
    for (int i = 0; i < 3; i++) {
        r = create(names[i], 3);
        ck_assert_int_eq(sl_meta_apply(im, &r), 0);
    }
    r = (struct sl_meta_rec){.type = SL_META_TOPIC_CONFIG, .kv = {"retention.bytes", "123"}};
    snprintf(r.topic, sizeof r.topic, "audit");
    ck_assert_int_eq(sl_meta_apply(im, &r), 0);
    r = (struct sl_meta_rec){.type = SL_META_PARTITION_CHANGE, .partition = 0, .part = part(2, 1, 1, 3)};
    snprintf(r.topic, sizeof r.topic, "orders");
    ck_assert_int_eq(sl_meta_apply(im, &r), 0);
}

START_TEST(meta_same_records_same_image_and_snapshots_restore_it)
{
    struct sl_meta_image a = {0}, b = {0}, c;
    history(&a);
    history(&b);
    size_t na, nb, nc;
    char *sa = bytes(&a, &na), *sb = bytes(&b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(sa, sb, na); /* deterministic: every node holds the same bytes */
    ck_assert_int_eq(sl_meta_restore(&c, (const uint8_t *)sa, na), 0);
    char *sc = bytes(&c, &nc);
    ck_assert_uint_eq(nc, na);
    ck_assert_mem_eq(sc, sa, na);
    ck_assert(sl_meta_broker(&c, 2)->fenced);
    ck_assert_int_eq(sl_meta_topic(&c, "orders")->parts[0].leader_epoch, 1);
    ck_assert_str_eq(sl_meta_config(sl_meta_topic(&c, "audit"), "retention.bytes"), "123");
    sl_meta_image_fini(&c);
    /* damaged: a cut anywhere, or a record that does not apply (the same topic twice) */
    for (size_t cut = 0; cut < na; cut++)
        ck_assert_msg(sl_meta_restore(&c, (const uint8_t *)sa, cut) == SL_ECORRUPT, "cut at %zu of %zu", cut, na);
    ck_assert_uint_eq(c.ntopics, 0);
    struct sl_buf twice = {0}; /* every record twice under one count: the second REGISTER is fine, the second
                                * TOPIC_CREATE of a name does not apply */
    sl_buf_append(&twice, sa, na);
    sl_buf_append(&twice, sa + 4, na - 4);
    uint32_t n2 = (((uint32_t)(uint8_t)sa[0] << 24 | (uint32_t)(uint8_t)sa[1] << 16 | (uint32_t)(uint8_t)sa[2] << 8 |
                    (uint8_t)sa[3]) * 2);
    for (int i = 0; i < 4; i++)
        twice.base[i] = (uint8_t)(n2 >> (24 - 8 * i));
    ck_assert_int_eq(sl_meta_restore(&c, twice.base, twice.len), SL_ECORRUPT);
    ck_assert_uint_eq(c.nbrokers + c.ntopics, 0);
    struct sl_meta_image empty = {0}, back;
    size_t ne;
    char *se = bytes(&empty, &ne);
    ck_assert_uint_eq(ne, 4); /* the empty snapshot: a count of 0 */
    ck_assert_int_eq(sl_meta_restore(&back, (const uint8_t *)se, ne), 0);
    ck_assert_uint_eq(back.nbrokers + back.ntopics, 0);
    free(se);
    sl_buf_fini(&twice);
    free(sa);
    free(sb);
    free(sc);
    sl_meta_image_fini(&a);
    sl_meta_image_fini(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("meta_image");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, meta_brokers_register_fence_and_stale_incarnations);
    tcase_add_test(tc, meta_topics_create_delete_add_and_config);
    tcase_add_test(tc, meta_partition_changes_need_the_next_partition_epoch);
    tcase_add_test(tc, meta_same_records_same_image_and_snapshots_restore_it);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
