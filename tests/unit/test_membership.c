/* Unit tests for server/membership.c: three quorum instances and their memberships in one process on
 * 127.0.0.1. Every node registers (the leader directly, the others by RPC PROPOSE to the leader's cluster
 * port) with its ports and incarnation; the RPC answers PING, refuses a PROPOSE on a follower with
 * SL_ENOTLEADER and a malformed HEARTBEAT or record with SL_ECORRUPT; a follower whose membership stops is
 * fenced by the controller after the session timeout, and unfenced when it comes back with a new
 * incarnation. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/logging.h"
#include "server/membership.h"
#include "server/rpc.h"
#include "storage/err.h"
#include "tests/support/testutil.h"

#define N 3

static char *dir;
static struct sl_voters voters;
static struct sl_meta_fsm fsms[N];
static struct sl_quorum *qs[N];
static struct sl_membership *ms[N];

static void start_member(int i, int64_t incarnation)
{
    struct sl_membership_cfg c = {.quorum = qs[i], .bind_host = "127.0.0.1", .advertised_host = "127.0.0.1",
                                  .rest_port = (uint16_t)(8000 + i), .ws_port = (uint16_t)(9000 + i),
                                  .incarnation = incarnation, .session_timeout_ms = 600};
    ck_assert_int_eq(sl_membership_start(&c, &ms[i]), 0);
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    sl_logging_set_level(SL_LEVEL_ERROR);
    dir = sl_test_tmpdir();
    voters.n = N;
    for (int i = 0; i < N; i++) {
        voters.v[i] = (struct sl_voter){.id = i + 1, .port = sl_test_free_port()};
        snprintf(voters.v[i].host, sizeof voters.v[i].host, "127.0.0.1");
    }
    for (int i = 0; i < N; i++) {
        char d[1024];
        snprintf(d, sizeof d, "%s/n%d", dir, i);
        ck_assert_int_eq(sl_meta_fsm_init(&fsms[i]), 0);
        struct sl_quorum_cfg c = {.node_id = i + 1, .voters = &voters, .dir = d, .election_ms = 300,
                                  .heartbeat_ms = 50, .fsm = &fsms[i]};
        ck_assert_int_eq(sl_quorum_start(&c, &qs[i]), 0);
    }
    for (int i = 0; i < N; i++)
        start_member(i, 100 + i);
}

static void teardown(void)
{
    for (int i = 0; i < N; i++)
        sl_membership_stop(ms[i]);
    for (int i = 0; i < N; i++) {
        sl_quorum_stop(qs[i]);
        sl_meta_fsm_fini(&fsms[i]);
    }
    sl_test_rmrf(dir);
    free(dir);
}

struct want {
    int32_t id;
    int64_t incarnation;
    bool fenced;
};

static int matches(const struct sl_meta_image *im, void *arg)
{
    const struct want *w = arg;
    const struct sl_meta_broker *b = sl_meta_broker(im, w->id);
    return b && b->incarnation == w->incarnation && b->fenced == w->fenced && b->cluster_port > 0 &&
           b->rest_port == 8000 + w->id - 1;
}

/* Waits (10 s) until every node's image holds node id's registration as w says. */
static void wait_state(struct want w)
{
    for (int t = 0; t < 1000; t++) {
        int ok = 0;
        for (int i = 0; i < N; i++)
            ok += sl_quorum_read(qs[i], matches, &w);
        if (ok == N)
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("node %d is not registered with incarnation %lld, fenced %d", (int)w.id, (long long)w.incarnation,
                 w.fenced);
}

static int leader_index(void)
{
    for (int t = 0; t < 1000; t++) {
        for (int i = 0; i < N; i++) {
            struct sl_quorum_status st;
            sl_quorum_status(qs[i], &st);
            if (st.role == SL_QUORUM_LEADER)
                return i;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

START_TEST(membership_registers_every_node_and_fences_a_silent_one)
{
    for (int i = 0; i < N; i++)
        wait_state((struct want){i + 1, 100 + i, false});
    for (int i = 0; i < N; i++)
        ck_assert(sl_quorum_member(qs[i]));
    int l = leader_index();
    ck_assert_int_ge(l, 0);
    int f = (l + 1) % N;
    sl_membership_stop(ms[f]); /* silent from now on (its quorum instance still runs) */
    ms[f] = NULL;
    wait_state((struct want){f + 1, 100 + f, true});
    start_member(f, 200 + f); /* back, a new incarnation */
    wait_state((struct want){f + 1, 200 + f, false});
}
END_TEST

START_TEST(membership_rpc_answers_and_refuses)
{
    int l = leader_index();
    ck_assert_int_ge(l, 0);
    int f = (l + 1) % N;
    struct sl_buf reply = {0}, rec = {0};
    int32_t st = -1;
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_membership_cluster_port(ms[f]), SL_RPC_PING, NULL, 0, 2000, &st,
                                 &reply), 0);
    ck_assert_int_eq(st, 0);
    struct sl_meta_part p = {.leader = 1, .nreplicas = 1, .replicas = {1}};
    struct sl_meta_rec r = {.type = SL_META_TOPIC_CREATE, .parts = &p, .nparts = 1};
    snprintf(r.topic, sizeof r.topic, "via-rpc");
    ck_assert_int_eq(sl_meta_rec_encode(&r, &rec), 0);
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_membership_cluster_port(ms[f]), SL_RPC_PROPOSE, rec.base, rec.len,
                                 2000, &st, &reply), 0);
    ck_assert_int_eq(st, SL_ENOTLEADER);
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_membership_cluster_port(ms[l]), SL_RPC_PROPOSE, rec.base, rec.len,
                                 5000, &st, &reply), 0);
    ck_assert_int_eq(st, 0); /* the leader proposed it: committed */
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_membership_cluster_port(ms[l]), SL_RPC_PROPOSE, rec.base, rec.len,
                                 5000, &st, &reply), 0);
    ck_assert_int_eq(st, SL_EEXISTS); /* and refused the second time, as every node refuses it */
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_membership_cluster_port(ms[l]), SL_RPC_PROPOSE, "x", 1, 2000, &st,
                                 &reply), 0);
    ck_assert_int_eq(st, SL_ECORRUPT);
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_membership_cluster_port(ms[l]), SL_RPC_HEARTBEAT, "xyz", 3, 2000,
                                 &st, &reply), 0);
    ck_assert_int_eq(st, SL_ECORRUPT);
    ck_assert_int_eq(sl_rpc_call("127.0.0.1", sl_membership_cluster_port(ms[l]), 77, NULL, 0, 2000, &st, &reply), 0);
    ck_assert_int_eq(st, -ENOSYS);
    sl_buf_fini(&reply);
    sl_buf_fini(&rec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("membership");
    TCase *tc = tcase_create("loopback");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, membership_registers_every_node_and_fences_a_silent_one);
    tcase_add_test(tc, membership_rpc_answers_and_refuses);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
