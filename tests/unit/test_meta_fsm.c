/* Unit tests for server/meta_fsm.c under libraft's simulated cluster (raft/fixture.h: in-memory disks and
 * network, simulated time): three voters elect a leader, records proposed to it are applied by every node
 * with the same results and identical images; a refused record is committed and refused everywhere; the
 * leader killed, the other two elect a new one and go on; a voter that was down while snapshots truncated
 * the log comes back, is restored from a snapshot and holds the same image; a record proposed to a
 * follower is SL_ENOTLEADER. */
#include <check.h>
#include <raft/fixture.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/meta_fsm.h"
#include "storage/err.h"
#include "tests/support/testutil.h"

#define N 3

static struct raft_fixture f;
static struct sl_meta_fsm fsms[N];

/* libraft's fixture traces every step to stderr; a test that passes stays quiet. */
static void quiet(struct raft_tracer *t, int type, const void *info)
{
    (void)t;
    (void)type;
    (void)info;
}
static struct raft_tracer silent = {.version = 2, .emit = quiet};

static void setup(void)
{
    memset(&f, 0, sizeof f); /* raft_fixture_initialize does not zero everything in every version */
    ck_assert_int_eq(raft_fixture_initialize(&f), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(sl_meta_fsm_init(&fsms[i]), 0);
        ck_assert_int_eq(raft_fixture_grow(&f, &fsms[i].fsm), 0);
    }
    struct raft_configuration conf;
    ck_assert_int_eq(raft_fixture_configuration(&f, N, &conf), 0);
    ck_assert_int_eq(raft_fixture_bootstrap(&f, &conf), 0);
    raft_configuration_close(&conf);
    for (unsigned i = 0; i < N; i++)
        raft_fixture_get(&f, i)->tracer = &silent;
    ck_assert_int_eq(raft_fixture_start(&f), 0);
    ck_assert(raft_fixture_step_until_has_leader(&f, 10000));
}

static void teardown(void)
{
    raft_fixture_close(&f);
    for (int i = 0; i < N; i++)
        sl_meta_fsm_fini(&fsms[i]);
}

struct done {
    bool called;
    int status, result;
};

static void on_applied(struct raft_apply *req, int status, void *result)
{
    struct done *d = req->data;
    d->called = true;
    d->status = status;
    d->result = (int)(intptr_t)result;
}

static struct sl_meta_rec topic(const char *name, struct sl_meta_part *p)
{
    *p = (struct sl_meta_part){.leader = 1, .nreplicas = 3, .replicas = {1, 2, 3}};
    struct sl_meta_rec r = {.type = SL_META_TOPIC_CREATE, .parts = p, .nparts = 1};
    snprintf(r.topic, sizeof r.topic, "%s", name);
    return r;
}

/* Proposes rec to the current leader and steps until every live node applied it; returns the result. */
static int propose(const struct sl_meta_rec *rec)
{
    unsigned li = raft_fixture_leader_index(&f);
    ck_assert_uint_lt(li, N);
    struct raft *r = raft_fixture_get(&f, li);
    struct raft_apply *req = malloc(sizeof *req);
    struct done d = {0};
    req->data = &d;
    ck_assert_int_eq(sl_meta_propose(r, req, rec, on_applied), 0);
    for (int t = 0; t < 2000 && !d.called; t++)
        raft_fixture_step(&f);
    ck_assert(d.called);
    ck_assert_int_eq(d.status, 0);
    raft_index idx = raft_last_applied(r);
    for (unsigned i = 0; i < N; i++)
        if (raft_fixture_alive(&f, i))
            ck_assert(raft_fixture_step_until_applied(&f, i, idx, 10000));
    free(req);
    return d.result;
}

static int snap(const struct sl_meta_image *im, void *arg)
{
    return sl_meta_snapshot(im, arg);
}

/* The images of the live nodes (or of all when all is true) are byte-identical. */
static void assert_same_images(bool all)
{
    struct sl_buf b[N] = {{0}};
    int first = -1;
    for (int i = 0; i < N; i++) {
        if (!all && !raft_fixture_alive(&f, (unsigned)i))
            continue;
        ck_assert_int_eq(sl_meta_fsm_read(&fsms[i], snap, &b[i]), 0);
        if (first < 0)
            first = i;
        ck_assert_uint_eq(b[i].len, b[first].len);
        ck_assert_mem_eq(b[i].base, b[first].base, b[i].len);
    }
    for (int i = 0; i < N; i++)
        sl_buf_fini(&b[i]);
}

START_TEST(meta_fsm_every_node_applies_the_same_records)
{
    struct sl_meta_part p;
    for (int id = 1; id <= 3; id++) {
        struct sl_meta_rec r = {.type = SL_META_REGISTER_BROKER, .broker = {.id = id, .incarnation = 1}};
        ck_assert_int_eq(propose(&r), 0);
    }
    struct sl_meta_rec t = topic("orders", &p);
    ck_assert_int_eq(propose(&t), 0);
    ck_assert_int_eq(propose(&t), SL_EEXISTS); /* committed, refused by every node alike */
    assert_same_images(true);
    for (int i = 0; i < N; i++) {
        ck_assert_uint_eq(fsms[i].refused, 1);
        ck_assert_uint_eq(fsms[i].image.ntopics, 1);
        ck_assert_uint_eq(fsms[i].image.nbrokers, 3);
    }
    /* a follower does not take proposals */
    unsigned follower = (raft_fixture_leader_index(&f) + 1) % N;
    struct raft_apply req;
    ck_assert_int_eq(sl_meta_propose(raft_fixture_get(&f, follower), &req, &t, on_applied), SL_ENOTLEADER);
}
END_TEST

START_TEST(meta_fsm_goes_on_after_the_leader_dies)
{
    struct sl_meta_part p;
    struct sl_meta_rec t = topic("before", &p);
    ck_assert_int_eq(propose(&t), 0);
    unsigned old = raft_fixture_leader_index(&f);
    raft_fixture_kill(&f, old);
    ck_assert(raft_fixture_step_until_has_no_leader(&f, 10000));
    ck_assert(raft_fixture_step_until_has_leader(&f, 10000));
    ck_assert_uint_ne(raft_fixture_leader_index(&f), old);
    t = topic("after", &p);
    ck_assert_int_eq(propose(&t), 0);
    assert_same_images(false);
    ck_assert_uint_eq(fsms[raft_fixture_leader_index(&f)].image.ntopics, 2);
    ck_assert_uint_eq(fsms[old].image.ntopics, 1); /* dead: missed it */
}
END_TEST

START_TEST(meta_fsm_a_voter_back_after_snapshots_is_restored_from_one)
{
    for (unsigned i = 0; i < N; i++) {
        raft_set_snapshot_threshold(raft_fixture_get(&f, i), 8);
        raft_set_snapshot_trailing(raft_fixture_get(&f, i), 2);
    }
    unsigned down = (raft_fixture_leader_index(&f) + 1) % N; /* a follower */
    raft_fixture_kill(&f, down);
    struct sl_meta_part p;
    char name[32];
    for (int k = 0; k < 40; k++) {
        snprintf(name, sizeof name, "t%02d", k);
        struct sl_meta_rec t = topic(name, &p);
        ck_assert_int_eq(propose(&t), 0);
    }
    raft_fixture_revive(&f, down);
    struct raft *leader = raft_fixture_get(&f, raft_fixture_leader_index(&f));
    ck_assert(raft_fixture_step_until_applied(&f, down, raft_last_applied(leader), 20000));
    ck_assert_uint_ge(fsms[down].restores, 1); /* caught up through InstallSnapshot, not entry by entry */
    assert_same_images(true);
    ck_assert_uint_eq(fsms[down].image.ntopics, 40);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("meta_fsm");
    TCase *tc = tcase_create("fixture");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, meta_fsm_every_node_applies_the_same_records);
    tcase_add_test(tc, meta_fsm_goes_on_after_the_leader_dies);
    tcase_add_test(tc, meta_fsm_a_voter_back_after_snapshots_is_restored_from_one);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
