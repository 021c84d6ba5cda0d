/* server/groups.c and server/rebalance.c: assignment, revoke-then-assign rebalances and generations, expiry,
 * positions, durable commits and who may commit what during a rebalance. */
#include <check.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/broker.h"
#include "server/config.h"
#include "server/groups.h"
#include "storage/err.h"
#include "tests/support/brokerutil.h"
#include "tests/support/testutil.h"

static char *dir;
static struct sl_config cfg;
static struct sl_broker *broker;
static struct sl_groups *groups;

static int64_t fake_now(void) { return sl_test_clock_now(); }

static void open_all(void)
{
    ck_assert_int_eq(sl_broker_open(&cfg, &sl_fileops_posix, &sl_clock_posix, &broker), 0);
    struct sl_groups_cfg gc = {
        .session_timeout_ms = 1000, .rebalance_timeout_ms = 800, .now_ms = fake_now, .no_sweeper = true};
    ck_assert_int_eq(sl_groups_open(broker, &gc, &groups), 0);
}

static void close_all(void)
{
    sl_groups_close(groups);
    sl_broker_close(broker);
    groups = NULL;
    broker = NULL;
}

static void setup(void)
{
    dir = sl_test_tmpdir();
    sl_tb_config(&cfg, dir, SL_DURABILITY_SYNC);
    open_all();
    char err[128];
    ck_assert_int_eq(sl_broker_topic_create(broker, "t", 6, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_broker_topic_create(broker, "u", 2, NULL, 0, false, err, sizeof err), 0);
}

static void teardown(void)
{
    if (broker)
        close_all();
    sl_config_fini(&cfg);
    sl_test_rmrf(dir);
    free(dir);
}

static struct sl_member_cfg rest_cfg(enum sl_offset_reset reset, bool auto_commit)
{
    struct sl_member_cfg mc = {.kind = SL_MEMBER_REST, .reset = reset, .auto_commit = auto_commit};
    strcpy(mc.format, "binary");
    return mc;
}

/* Every member of group acknowledges its revoke, which completes a pending rebalance. */
static void ack_all(const char *group)
{
    struct sl_group_desc d;
    ck_assert_int_eq(sl_groups_describe(groups, group, &d), 0);
    for (size_t i = 0; i < d.nmembers; i++)
        ck_assert_int_eq(sl_groups_revoke_ack(groups, group, d.members[i].id), 0);
    sl_groups_desc_fini(&d);
}

static void join_sub_only(const char *group, const char *id, const char *topic, bool auto_commit)
{
    struct sl_member_cfg mc = rest_cfg(SL_RESET_EARLIEST, auto_commit);
    const char *topics[] = {topic};
    ck_assert_int_eq(sl_groups_join(groups, group, id, &mc, NULL), 0);
    ck_assert_int_eq(sl_groups_subscribe(groups, group, id, topics, 1, NULL), 0);
}

/* Joins, subscribes, and lets the rebalance complete. */
static void join_sub(const char *group, const char *id, const char *topic)
{
    join_sub_only(group, id, topic, false);
    ack_all(group);
}

static size_t assigned(const char *group, const char *id, uint64_t *gen, struct sl_tp **v)
{
    size_t n = 0;
    struct sl_tp *tmp;
    ck_assert_int_eq(sl_groups_assignment(groups, group, id, &tmp, &n, gen), 0);
    if (v)
        *v = tmp;
    else
        free(tmp);
    return n;
}

START_TEST(range_assignment_splits_partitions)
{
    join_sub("g", "a", "t");
    join_sub("g", "b", "t");
    join_sub("g", "c", "t");
    join_sub("g", "d", "t");
    struct sl_tp *va, *vd;
    ck_assert_uint_eq(assigned("g", "a", NULL, &va), 2); /* 6 / 4: the first two get 2 */
    ck_assert_uint_eq(assigned("g", "b", NULL, NULL), 2);
    ck_assert_uint_eq(assigned("g", "c", NULL, NULL), 1);
    ck_assert_uint_eq(assigned("g", "d", NULL, &vd), 1);
    ck_assert_int_eq(va[0].partition, 0);
    ck_assert_int_eq(va[1].partition, 1);
    ck_assert_int_eq(vd[0].partition, 5);
    free(va);
    free(vd);
}
END_TEST

static void check_disjoint(const char *group, const char *const *ids, size_t n, int32_t parts)
{
    int owner[64];
    memset(owner, -1, sizeof owner);
    uint64_t gen0 = 0;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        struct sl_tp *v;
        uint64_t gen;
        size_t k = assigned(group, ids[i], &gen, &v);
        if (i == 0)
            gen0 = gen;
        ck_assert_uint_eq(gen, gen0);
        for (size_t j = 0; j < k; j++) {
            ck_assert_int_eq(owner[v[j].partition], -1);
            owner[v[j].partition] = (int)i;
        }
        total += k;
        free(v);
    }
    ck_assert_uint_eq(total, (size_t)parts);
}

START_TEST(leave_rebalances_and_bumps_generation)
{
    join_sub("g", "a", "t");
    join_sub("g", "b", "t");
    const char *ids[] = {"a", "b"};
    check_disjoint("g", ids, 2, 6);
    uint64_t g1;
    ck_assert_uint_eq(assigned("g", "a", &g1, NULL), 3);
    ck_assert_int_eq(sl_groups_leave(groups, "g", "b"), 0);
    uint64_t g2;
    ck_assert_uint_eq(assigned("g", "a", &g2, NULL), 6);
    ck_assert_uint_gt(g2, g1);
    ck_assert_int_eq(sl_groups_leave(groups, "g", "b"), SL_ENOMEMBER);
}
END_TEST

START_TEST(expiry_hands_partitions_over)
{
    join_sub("g", "a", "t");
    join_sub("g", "b", "t");
    uint64_t g1;
    ck_assert_uint_eq(assigned("g", "a", &g1, NULL), 3);
    sl_test_clock_advance(600);
    ck_assert_uint_eq(assigned("g", "a", NULL, NULL), 3); /* touches a */
    sl_test_clock_advance(600);
    ck_assert_uint_eq(sl_groups_sweep(groups), 1); /* b idle 1200 ms > 1000 */
    uint64_t g2;
    ck_assert_uint_eq(assigned("g", "a", &g2, NULL), 6);
    ck_assert_uint_gt(g2, g1);
    struct sl_member_info mi;
    ck_assert_int_eq(sl_groups_member(groups, "g", "b", &mi), SL_ENOMEMBER);
}
END_TEST

START_TEST(partitions_added_rebalance)
{
    join_sub("g", "a", "u");
    join_sub("g", "b", "u");
    uint64_t g1, g2;
    ck_assert_uint_eq(assigned("g", "a", &g1, NULL), 1);
    char err[128];
    ck_assert_int_eq(sl_broker_topic_add_partitions(broker, "u", 4, err, sizeof err), 0);
    ck_assert_uint_eq(assigned("g", "a", NULL, NULL), 1); /* planned: b gives u-1 up first */
    ack_all("g");
    ck_assert_uint_eq(assigned("g", "a", &g2, NULL), 2);
    ck_assert_uint_gt(g2, g1);
    const char *ids[] = {"a", "b"};
    check_disjoint("g", ids, 2, 4);
}
END_TEST

START_TEST(pattern_and_manual_are_exclusive)
{
    struct sl_member_cfg mc = rest_cfg(SL_RESET_EARLIEST, false);
    ck_assert_int_eq(sl_groups_join(groups, "g", "a", &mc, NULL), 0);
    ck_assert_int_eq(sl_groups_join(groups, "g", "a", &mc, NULL), SL_EEXISTS);
    ck_assert_int_eq(sl_groups_subscribe(groups, "g", "a", NULL, 0, "[tu]"), 0);
    ck_assert_uint_eq(assigned("g", "a", NULL, NULL), 8);
    struct sl_tp *subs;
    size_t n;
    ck_assert_int_eq(sl_groups_subscription(groups, "g", "a", &subs, &n), 0);
    ck_assert_uint_eq(n, 2);
    free(subs);
    const char *topics[] = {"t"};
    ck_assert_int_eq(sl_groups_subscribe(groups, "g", "a", topics, 1, NULL), SL_EEXISTS);
    struct sl_tp tp = {"t", 1};
    ck_assert_int_eq(sl_groups_assign(groups, "g", "a", &tp, 1), SL_ESTATE);
    ck_assert_int_eq(sl_groups_unsubscribe(groups, "g", "a"), 0);
    ck_assert_int_eq(sl_groups_assign(groups, "g", "a", &tp, 1), 0);
    ck_assert_uint_eq(assigned("g", "a", NULL, NULL), 1);
    ck_assert_int_eq(sl_groups_subscribe(groups, "g", "a", topics, 1, NULL), SL_EEXISTS);
    struct sl_tp bad = {"t", 9};
    ck_assert_int_eq(sl_groups_assign(groups, "g", "a", &bad, 1), SL_ENOPART);
    ck_assert_int_eq(sl_groups_unsubscribe(groups, "g", "a"), 0);
    ck_assert_int_eq(sl_groups_subscribe(groups, "g", "a", NULL, 0, "(unclosed"), -EINVAL);
}
END_TEST

START_TEST(positions_follow_reset_and_seek)
{
    sl_offset_t first, last;
    ck_assert_int_eq(sl_tb_produce_wait(broker, "u", 0, "r", 5, &first, &last), 0);
    struct sl_member_cfg early = rest_cfg(SL_RESET_EARLIEST, false), late = rest_cfg(SL_RESET_LATEST, false);
    struct sl_member_cfg none = rest_cfg(SL_RESET_NONE, false);
    struct sl_tp tp = {"u", 0};
    ck_assert_int_eq(sl_groups_join(groups, "g1", "e", &early, NULL), 0);
    ck_assert_int_eq(sl_groups_join(groups, "g2", "l", &late, NULL), 0);
    ck_assert_int_eq(sl_groups_join(groups, "g3", "n", &none, NULL), 0);
    ck_assert_int_eq(sl_groups_assign(groups, "g1", "e", &tp, 1), 0);
    ck_assert_int_eq(sl_groups_assign(groups, "g2", "l", &tp, 1), 0);
    ck_assert_int_eq(sl_groups_assign(groups, "g3", "n", &tp, 1), 0);
    struct sl_tpo *pos;
    size_t n;
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g1", "e", &pos, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(pos[0].offset, 0);
    free(pos);
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g2", "l", &pos, &n, NULL), 0);
    ck_assert_int_eq(pos[0].offset, 5);
    free(pos);
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g3", "n", &pos, &n, NULL), SL_EOFFSET);
    struct sl_tpo seek = {"u", 0, 3};
    ck_assert_int_eq(sl_groups_seek(groups, "g3", "n", &seek, 1), 0);
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g3", "n", &pos, &n, NULL), 0);
    ck_assert_int_eq(pos[0].offset, 3);
    free(pos);
    struct sl_tpo other = {"t", 0, 3};
    ck_assert_int_eq(sl_groups_seek(groups, "g3", "n", &other, 1), SL_ESTATE);
}
END_TEST

/* Flips one byte inside the records of the n-th batch of <dir>/<part>/00000000000000000000.log. */
static void flip_in_batch(const char *part, int n)
{
    char *pd = sl_test_path(dir, part), *p = sl_test_path(pd, "00000000000000000000.log");
    FILE *f = fopen(p, "r+b");
    ck_assert_ptr_nonnull(f);
    long pos = 0;
    for (int i = 0; i < n; i++) {
        uint8_t h[12];
        ck_assert(fseek(f, pos, SEEK_SET) == 0 && fread(h, 1, 12, f) == 12);
        pos += 12 + (long)((uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11]);
    }
    ck_assert(fseek(f, pos + 64, SEEK_SET) == 0);
    int c = fgetc(f);
    ck_assert(fseek(f, pos + 64, SEEK_SET) == 0);
    fputc(c ^ 0x20, f);
    fclose(f);
    free(p);
    free(pd);
}

/* A flipped byte in the middle of __consumer_offsets after a clean stop (issue 10: the committed offset rolled
 * back from 59 to 29, silently): the commits after the damaged one still count, and the damage is reported. */
START_TEST(commits_after_a_damaged_record_still_count)
{
    for (int i = 1; i <= 60; i++) {
        struct sl_tpo o = {"t", 0, i};
        ck_assert_int_eq(sl_groups_commit_wait(groups, "g", &o, 1), 0);
    }
    close_all();
    flip_in_batch("__consumer_offsets-0", 30);
    open_all();
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 0), 60);
    struct sl_part_info pi;
    ck_assert_int_eq(sl_broker_partition_info(broker, "__consumer_offsets", 0, &pi), 0);
    ck_assert_uint_eq(pi.damaged_ranges, 1);
    ck_assert_ptr_nonnull(strstr(pi.reason, "damaged offsets [30, 31)"));
}
END_TEST

/* Issue 10: a re-created topic was read from the old committed offset. */
START_TEST(deleting_a_topic_deletes_its_committed_offsets)
{
    char err[128];
    struct sl_tpo offs[] = {{"t", 0, 40}, {"t", 5, 3}, {"u", 1, 2}};
    ck_assert_int_eq(sl_groups_commit_wait(groups, "g", offs, 3), 0);
    ck_assert_int_eq(sl_groups_commit_wait(groups, "h", offs, 1), 0);
    join_sub("g", "m", "t");
    struct sl_tpo *pos;
    size_t n;
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "m", &pos, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (pos[i].partition == 0)
            ck_assert_int_eq(pos[i].offset, 40);
    free(pos);
    ck_assert_int_eq(sl_broker_topic_delete(broker, "t"), 0);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 0), -1);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 5), -1);
    ck_assert_int_eq(sl_groups_committed(groups, "h", "t", 0), -1);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "u", 1), 2); /* other topics keep theirs */
    ck_assert_int_eq(sl_broker_topic_create(broker, "t", 6, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "m", &pos, &n, NULL), 0);
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(pos[i].offset, 0); /* the new topic is read from its start, not from 40 */
    free(pos);
    close_all(); /* the tombstones are durable: nothing comes back on replay */
    open_all();
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 0), -1);
    ck_assert_int_eq(sl_groups_committed(groups, "h", "t", 0), -1);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "u", 1), 2);
}
END_TEST

/* A topic deleted while its tombstones never got written (no coordinator, or a crash): the next open deletes
 * the offsets of a topic that does not exist, durably. */
START_TEST(offsets_of_a_topic_that_no_longer_exists_are_deleted_at_open)
{
    struct sl_tpo offs[] = {{"t", 0, 40}, {"u", 1, 2}};
    ck_assert_int_eq(sl_groups_commit_wait(groups, "g", offs, 2), 0);
    sl_groups_close(groups);
    ck_assert_int_eq(sl_broker_topic_delete(broker, "t"), 0); /* no coordinator: no tombstones */
    struct sl_groups_cfg gc = {.session_timeout_ms = 1000, .now_ms = fake_now, .no_sweeper = true};
    ck_assert_int_eq(sl_groups_open(broker, &gc, &groups), 0);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 0), -1);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "u", 1), 2);
    char err[128];
    close_all();
    open_all();
    ck_assert_int_eq(sl_broker_topic_create(broker, "t", 1, NULL, 0, false, err, sizeof err), 0);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 0), -1);
}
END_TEST

/* Issue 10: a forged record produced to __consumer_offsets became a group's committed offset. */
START_TEST(clients_cannot_write_the_offsets_topic)
{
    size_t len;
    uint8_t *batch = sl_tb_batch("forged", 1, 1, &len);
    struct sl_produce req = {0};
    ck_assert_int_eq(sl_broker_produce(broker, "__consumer_offsets", 0, batch, len, &req), SL_EINTERNAL);
    ck_assert_int_eq(sl_broker_produce_internal(broker, "t", 0, batch, len, &req), SL_ENOTOPIC);
    free(batch);
}
END_TEST

START_TEST(commits_survive_reopen)
{
    struct sl_tpo offs[] = {{"t", 0, 7}, {"t", 3, 11}, {"u", 1, 2}};
    ck_assert_int_eq(sl_groups_commit_wait(groups, "g", offs, 3), 0);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 3), 11);
    struct sl_tpo upd = {"t", 3, 12};
    ck_assert_int_eq(sl_groups_commit_wait(groups, "g", &upd, 1), 0);
    ck_assert_int_eq(sl_groups_commit_wait(groups, "other", offs, 1), 0);
    close_all();
    open_all();
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 0), 7);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 3), 12);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "u", 1), 2);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "u", 0), -1);
    ck_assert_int_eq(sl_groups_committed(groups, "other", "t", 0), 7);
    struct sl_tpo *all;
    size_t n;
    ck_assert_int_eq(sl_groups_committed_all(groups, "g", &all, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(all[2].topic, "u");
    free(all);
    struct sl_group_desc *list;
    ck_assert_int_eq(sl_groups_list(groups, &list, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[0].name, "g");
    sl_groups_desc_free_all(list, n);
    /* a member starts from the committed offset */
    struct sl_member_cfg mc = rest_cfg(SL_RESET_LATEST, false);
    struct sl_tp tp = {"t", 3};
    ck_assert_int_eq(sl_groups_join(groups, "g", "m", &mc, NULL), 0);
    ck_assert_int_eq(sl_groups_assign(groups, "g", "m", &tp, 1), 0);
    struct sl_tpo *pos;
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "m", &pos, &n, NULL), 0);
    ck_assert_int_eq(pos[0].offset, 12);
    free(pos);
    ck_assert_int_eq(sl_groups_commit_wait(groups, "g", offs, 0), -EINVAL);
}
END_TEST

static bool committed_is(void *arg)
{
    return sl_groups_committed(groups, "g", "u", 0) == *(sl_offset_t *)arg;
}

START_TEST(auto_commit_on_poll_and_leave)
{
    struct sl_member_cfg mc = rest_cfg(SL_RESET_EARLIEST, true);
    struct sl_tp tp = {"u", 0};
    ck_assert_int_eq(sl_groups_join(groups, "g", "a", &mc, NULL), 0);
    ck_assert_int_eq(sl_groups_assign(groups, "g", "a", &tp, 1), 0);
    struct sl_tpo *pos;
    size_t n;
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "a", &pos, &n, NULL), 0);
    pos[0].offset = 4;
    ck_assert_int_eq(sl_groups_poll_advance(groups, "g", "a", pos, n), 0);
    free(pos);
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "a", &pos, &n, NULL), 0); /* commits 4 */
    free(pos);
    sl_offset_t want = 4;
    ck_assert(sl_test_wait_until(committed_is, &want, 5000));
    struct sl_tpo adv = {"u", 0, 9};
    ck_assert_int_eq(sl_groups_poll_advance(groups, "g", "a", &adv, 1), 0);
    ck_assert_int_eq(sl_groups_leave(groups, "g", "a"), 0);
    want = 9;
    ck_assert(sl_test_wait_until(committed_is, &want, 5000));
}
END_TEST

struct evlog {
    int rebalances, revokes, expired;
};
static void on_ev(void *arg, enum sl_group_event ev, uint64_t gen)
{
    struct evlog *l = arg;
    if (ev == SL_GROUP_EV_REBALANCE)
        l->rebalances++;
    else if (ev == SL_GROUP_EV_REVOKE)
        l->revokes++;
    else
        l->expired++;
}

START_TEST(ws_member_is_notified)
{
    struct evlog la = {0}, lb = {0};
    struct sl_member_cfg a = {.kind = SL_MEMBER_WS, .on_event = on_ev, .arg = &la};
    struct sl_member_cfg b = {.kind = SL_MEMBER_WS, .on_event = on_ev, .arg = &lb};
    char ida[SL_MEMBER_ID_MAX + 1], idb[SL_MEMBER_ID_MAX + 1];
    const char *topics[] = {"t"};
    ck_assert_int_eq(sl_groups_join(groups, "g", NULL, &a, ida), 0);
    ck_assert_int_eq(sl_groups_join(groups, "g", NULL, &b, idb), 0);
    ck_assert_str_ne(ida, idb);
    ck_assert_int_eq(sl_groups_subscribe(groups, "g", ida, topics, 1, NULL), 0);
    ck_assert_int_eq(la.rebalances, 1);
    ck_assert_int_eq(sl_groups_subscribe(groups, "g", idb, topics, 1, NULL), 0);
    ck_assert_int_eq(la.revokes, 1); /* a gives 3 partitions up before b gets them */
    ck_assert_int_eq(lb.revokes, 0);
    ck_assert_int_eq(la.rebalances, 1);
    ck_assert_int_eq(lb.rebalances, 0);
    ck_assert_int_eq(sl_groups_revoke_ack(groups, "g", ida), 0);
    ck_assert_int_eq(la.rebalances, 2);
    ck_assert_int_eq(lb.rebalances, 1);
    sl_test_clock_advance(500);
    struct sl_member_info mi;
    ck_assert_int_eq(sl_groups_member(groups, "g", ida, &mi), 0);
    sl_test_clock_advance(600);
    ck_assert_uint_eq(sl_groups_sweep(groups), 1);
    ck_assert_int_eq(lb.expired, 1);
    ck_assert_int_eq(la.rebalances, 3);
}
END_TEST

struct commit_wait {
    struct sl_commit c;
    _Atomic int done;
    int rc;
};
static void on_commit_waited(struct sl_commit *c, int rc)
{
    struct commit_wait *w = c->arg;
    w->rc = rc;
    atomic_store(&w->done, 1);
}
static bool commit_waited(void *arg) { return atomic_load(&((struct commit_wait *)arg)->done); }

/* Member id commits t-p at off and waits until it is durable: the commit's verdict. */
static int commit_as(const char *id, int32_t p, sl_offset_t off, int *why)
{
    struct sl_tpo e = {"t", p, off};
    struct commit_wait w = {.c = {.done = on_commit_waited}};
    w.c.arg = &w;
    int rc = sl_groups_member_commit(groups, "g", id, &e, 1, &w.c, why);
    if (rc == 0) {
        ck_assert(sl_test_wait_until(commit_waited, &w, 5000));
        rc = w.rc;
    }
    return rc;
}

static bool always_false(void *arg)
{
    (void)arg;
    return false;
}

START_TEST(a_rebalance_revokes_before_it_assigns)
{
    struct evlog la = {0};
    struct sl_member_cfg a = rest_cfg(SL_RESET_EARLIEST, false);
    a.on_event = on_ev;
    a.arg = &la;
    const char *topics[] = {"t"};
    ck_assert_int_eq(sl_groups_join(groups, "g", "a", &a, NULL), 0);
    ck_assert_int_eq(sl_groups_subscribe(groups, "g", "a", topics, 1, NULL), 0);
    uint64_t g1, g2;
    ck_assert_uint_eq(assigned("g", "a", &g1, NULL), 6);
    join_sub_only("g", "b", "t", false);
    /* planned: a keeps t-0..2, gives t-3..5 to b; until a acknowledges, nothing moves */
    ck_assert_int_eq(la.revokes, 1);
    ck_assert_uint_eq(assigned("g", "a", &g2, NULL), 6);
    ck_assert_uint_eq(assigned("g", "b", NULL, NULL), 0);
    ck_assert_uint_eq(g2, g1);
    struct sl_tp *rv;
    size_t nr;
    ck_assert_int_eq(sl_groups_revoking(groups, "g", "a", &rv, &nr, NULL), 0);
    ck_assert_uint_eq(nr, 3);
    ck_assert_int_eq(rv[0].partition, 3);
    free(rv);
    int why = 1;
    ck_assert_int_eq(commit_as("a", 5, 7, &why), 0); /* a may still commit what it gives up */
    ck_assert_int_eq(why, 0);
    ck_assert_int_eq(commit_as("b", 5, 8, &why), SL_EREBALANCE); /* b does not own it yet */
    ck_assert_int_eq(why, SL_EREBALANCE);
    ck_assert_int_eq(commit_as("nobody", 5, 8, NULL), SL_ENOMEMBER);
    ck_assert_int_eq(sl_groups_revoke_ack(groups, "g", "a"), 0);
    ck_assert_uint_eq(assigned("g", "a", &g2, NULL), 3);
    ck_assert_uint_eq(assigned("g", "b", NULL, NULL), 3);
    ck_assert_uint_gt(g2, g1);
    ck_assert_int_eq(commit_as("a", 5, 9, &why), SL_ENOTASSIGNED); /* gone to b */
    ck_assert_int_eq(why, SL_ENOTASSIGNED);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 5), 7);
    ck_assert_int_eq(commit_as("b", 5, 9, NULL), 0);
    /* b starts t-5 where a committed */
    struct sl_tpo *pos;
    size_t n;
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "b", &pos, &n, NULL), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(pos[2].partition, 5);
    ck_assert_int_eq(pos[2].offset, 9);
    free(pos);
}
END_TEST

START_TEST(an_unacknowledged_revoke_ends_at_the_rebalance_timeout)
{
    join_sub("g", "a", "t");
    join_sub_only("g", "b", "t", false);
    ck_assert_uint_eq(assigned("g", "b", NULL, NULL), 0);
    sl_test_clock_advance(500); /* touches keep both alive (session 1000 ms) */
    ck_assert_uint_eq(assigned("g", "a", NULL, NULL), 6);
    ck_assert_uint_eq(sl_groups_sweep(groups), 0);
    ck_assert_uint_eq(assigned("g", "b", NULL, NULL), 0); /* 500 < rebalance timeout 800 */
    sl_test_clock_advance(400);
    ck_assert_uint_eq(sl_groups_sweep(groups), 0);
    ck_assert_uint_eq(assigned("g", "a", NULL, NULL), 3);
    ck_assert_uint_eq(assigned("g", "b", NULL, NULL), 3);
}
END_TEST

START_TEST(a_rest_poll_acknowledges_and_auto_commits_the_revoke)
{
    join_sub_only("g", "a", "u", true);
    struct sl_tpo *pos;
    size_t n;
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "a", &pos, &n, NULL), 0);
    ck_assert_uint_eq(n, 2);
    pos[0].offset = 3;
    pos[1].offset = 5;
    ck_assert_int_eq(sl_groups_poll_advance(groups, "g", "a", pos, n), 0); /* a handed out u-0 < 3, u-1 < 5 */
    free(pos);
    join_sub_only("g", "b", "u", false);
    ck_assert_uint_eq(assigned("g", "b", NULL, NULL), 0);
    /* a's next poll: it has had its records; u-1 is no longer read, its position is committed, then handed */
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "a", &pos, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(pos[0].partition, 0);
    free(pos);
    for (int i = 0; i < 500 && assigned("g", "b", NULL, NULL) == 0; i++) {
        sl_test_wait_until(always_false, NULL, 10);
        sl_groups_sweep(groups); /* no sweeper thread here: settle once the auto-commit is durable */
    }
    ck_assert_uint_eq(assigned("g", "b", NULL, NULL), 1);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "u", 1), 5);
    ck_assert_int_eq(sl_groups_poll_begin(groups, "g", "b", &pos, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(pos[0].offset, 5);
    free(pos);
}
END_TEST

START_TEST(partitions_no_member_manages_take_anyone_s_commit)
{
    join_sub("g", "a", "u");
    int why;
    ck_assert_int_eq(commit_as("a", 2, 4, &why), 0); /* t-2: the group does not read t */
    join_sub("g", "b", "t");                          /* now b does */
    ck_assert_int_eq(commit_as("a", 2, 5, &why), SL_ENOTASSIGNED);
    ck_assert_int_eq(sl_groups_committed(groups, "g", "t", 2), 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("groups");
    TCase *tc = tcase_create("groups");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, range_assignment_splits_partitions);
    tcase_add_test(tc, leave_rebalances_and_bumps_generation);
    tcase_add_test(tc, expiry_hands_partitions_over);
    tcase_add_test(tc, partitions_added_rebalance);
    tcase_add_test(tc, pattern_and_manual_are_exclusive);
    tcase_add_test(tc, positions_follow_reset_and_seek);
    tcase_add_test(tc, commits_survive_reopen);
    tcase_add_test(tc, commits_after_a_damaged_record_still_count);
    tcase_add_test(tc, deleting_a_topic_deletes_its_committed_offsets);
    tcase_add_test(tc, offsets_of_a_topic_that_no_longer_exists_are_deleted_at_open);
    tcase_add_test(tc, clients_cannot_write_the_offsets_topic);
    tcase_add_test(tc, auto_commit_on_poll_and_leave);
    tcase_add_test(tc, ws_member_is_notified);
    tcase_add_test(tc, a_rebalance_revokes_before_it_assigns);
    tcase_add_test(tc, an_unacknowledged_revoke_ends_at_the_rebalance_timeout);
    tcase_add_test(tc, a_rest_poll_acknowledges_and_auto_commits_the_revoke);
    tcase_add_test(tc, partitions_no_member_manages_take_anyone_s_commit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
