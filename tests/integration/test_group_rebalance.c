/* Rebalances without redelivery (issue 12's reproduction), against the real binary: a topic of 4 partitions;
 * members that commit every frame as soon as it arrives join and leave a group while records flow; no record
 * may be delivered twice, and every record must be delivered. Members are WebSocket sockets (which answer
 * `revoke` with `revoked`, or, as an old client, never do) and REST consumer instances (whose next poll is the
 * acknowledgement). Also: a commit the group cannot apply names its partitions and leaves the socket open. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/testutil.h"
#include "tests/support/ws_testutil.h"

#define PARTS 4
#define MAXOFF 512

static struct sl_proc proc;
static int seen[PARTS][MAXOFF]; /* deliveries of each record, over all members */
static int produced;            /* records per partition so far */

struct member {
    struct sl_wscl *ws; /* a socket, or NULL for a REST instance */
    char rest[32];      /* the REST instance name */
    bool acks_revokes;
    int revokes;
    json_t *deferred; /* when not NULL: commit messages held back (sent by flush_commits) */
};

static void start(const char *rebalance_timeout)
{
    char set[64];
    snprintf(set, sizeof set, "rebalance.timeout.ms=%s", rebalance_timeout);
    const char *const extra[] = {"--set", set, NULL};
    sl_proc_start(&proc, NULL, extra);
    sl_wt_create_topic(&proc, "rb", PARTS);
    memset(seen, 0, sizeof seen);
    produced = 0;
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

/* n more records in every partition. */
static void produce(int n)
{
    char buf[16384];
    size_t len = 0;
    buf[len++] = '[';
    for (int p = 0; p < PARTS; p++)
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s{\"value\":%d,\"partition\":%d}",
                                    len > 1 ? "," : "", produced + i, p);
    snprintf(buf + len, sizeof buf - len, "]");
    sl_wt_produce(&proc, "rb", buf);
    produced += n;
}

/* Counts the records and returns the commit entries (the offset after the last record of each partition). */
static json_t *deliver(json_t *recs)
{
    json_int_t next[PARTS] = {-1, -1, -1, -1};
    size_t i;
    json_t *e;
    json_array_foreach(recs, i, e) {
        int p = (int)json_integer_value(json_object_get(e, "partition"));
        json_int_t o = json_integer_value(json_object_get(e, "offset"));
        ck_assert(p >= 0 && p < PARTS && o >= 0 && o < MAXOFF);
        seen[p][o]++;
        next[p] = o + 1;
    }
    json_t *offs = json_array();
    for (int p = 0; p < PARTS; p++)
        if (next[p] >= 0)
            json_array_append_new(offs, json_pack("{s:s,s:i,s:I}", "topic", "rb", "partition", p, "offset",
                                                  (json_int_t)next[p]));
    return offs;
}

static struct member *ws_member(const char *group, bool acks_revokes)
{
    struct member *m = calloc(1, sizeof *m);
    char path[128];
    snprintf(path, sizeof path, "/ws/v1/topics/rb?group=%s&from=earliest", group);
    m->ws = sl_wt_connect(&proc, path);
    m->acks_revokes = acks_revokes;
    return m;
}

static struct member *rest_member(const char *group, const char *name)
{
    struct member *m = calloc(1, sizeof *m);
    snprintf(m->rest, sizeof m->rest, "%s", name);
    char path[128], body[256];
    snprintf(path, sizeof path, "/consumers/%s", group);
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"format\":\"json\",\"auto.offset.reset\":\"earliest\",\"auto.commit.enable\":\"false\"}",
             name);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, body, NULL), 200);
    snprintf(path, sizeof path, "/consumers/%s/instances/%s/subscription", group, name);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topics\":[\"rb\"]}", NULL), 204);
    return m;
}

/* One WebSocket message: records are delivered and committed at once; a revoke is answered when the member
 * does that. Returns false when nothing arrived within ms. */
static bool ws_step(struct member *m, int ms)
{
    json_t *msg = sl_wt_next(m->ws, ms);
    if (!msg)
        return false;
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (strcmp(type, "records") == 0) {
        json_t *offs = deliver(json_object_get(msg, "records"));
        json_t *cm = json_pack("{s:s,s:o}", "type", "commit", "offsets", offs);
        if (m->deferred) {
            json_array_append_new(m->deferred, cm);
        } else {
            char *text = json_dumps(cm, JSON_COMPACT);
            ck_assert_int_eq(sl_wscl_send(m->ws, text), 0);
            free(text);
            json_decref(cm);
        }
    } else if (strcmp(type, "revoke") == 0) {
        m->revokes++;
        if (m->acks_revokes)
            ck_assert_int_eq(sl_wscl_send(m->ws, "{\"type\":\"revoked\"}"), 0);
    } else if (strcmp(type, "error") == 0) {
        ck_abort_msg("error from the server: %s", json_string_value(json_object_get(msg, "message")));
    }
    json_decref(msg);
    return true;
}

/* One REST poll; what it got is committed before the next poll. */
static bool rest_step(struct member *m, const char *group)
{
    char path[160];
    json_t *recs;
    snprintf(path, sizeof path, "/consumers/%s/instances/%s/records?timeout=50", group, m->rest);
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, NULL, &recs), 200);
    bool got = json_array_size(recs) > 0;
    json_t *offs = deliver(recs);
    json_decref(recs);
    if (got) {
        json_t *b = json_pack("{s:o}", "offsets", offs);
        char *text = json_dumps(b, JSON_COMPACT);
        snprintf(path, sizeof path, "/consumers/%s/instances/%s/offsets", group, m->rest);
        ck_assert_int_eq(sl_http_json(&proc, "POST", path, text, NULL), 200);
        free(text);
        json_decref(b);
    } else {
        json_decref(offs);
    }
    return got;
}

static int delivered_distinct(void)
{
    int n = 0;
    for (int p = 0; p < PARTS; p++)
        for (int o = 0; o < produced; o++)
            n += seen[p][o] > 0;
    return n;
}

/* Runs every member for about ms; stops early once every record was delivered and the members are quiet. */
static void run(struct member **ms, size_t n, const char *group, int ms_total)
{
    int64_t end = sl_test_mono_ms() + ms_total;
    while (sl_test_mono_ms() < end) {
        bool any = false;
        for (size_t i = 0; i < n; i++)
            any |= ms[i]->ws ? ws_step(ms[i], 20) : rest_step(ms[i], group);
        if (!any && delivered_distinct() == PARTS * produced)
            break;
    }
}

static void assert_once_each(void)
{
    for (int p = 0; p < PARTS; p++)
        for (int o = 0; o < produced; o++) {
            ck_assert_msg(seen[p][o] > 0, "record %d-%d was never delivered", p, o);
            ck_assert_msg(seen[p][o] == 1, "record %d-%d was delivered %d times", p, o, seen[p][o]);
        }
}

/* Sends the commits held back, in order, and stops holding them back. */
static void flush_commits(struct member *m)
{
    size_t i;
    json_t *cm;
    json_array_foreach(m->deferred, i, cm) {
        char *text = json_dumps(cm, JSON_COMPACT);
        ck_assert_int_eq(sl_wscl_send(m->ws, text), 0);
        free(text);
    }
    json_decref(m->deferred);
    m->deferred = NULL;
}

static void member_free(struct member *m)
{
    if (m->ws)
        sl_wscl_free(m->ws);
    free(m);
}

/* The reproduction: A reads all 40 and commits each frame; B joins while those commits are on their
 * way (A holds them back until B is in); then A closes. */
static void two_sockets(bool a_acks)
{
    produce(10);
    struct member *a = ws_member("g2", a_acks);
    struct member *v[2] = {a, NULL};
    a->deferred = json_array();
    run(v, 1, "g2", 300); /* A has the 40 records, not yet committed */
    ck_assert_int_eq(delivered_distinct(), 40);
    v[1] = ws_member("g2", true);
    usleep(100 * 1000); /* B has joined: the rebalance is planned */
    flush_commits(a);
    run(v, 2, "g2", 4000);
    if (a_acks)
        ck_assert_int_eq(a->revokes, 1);
    produce(10); /* after the rebalance: each member reads its own partitions */
    run(v, 2, "g2", 4000);
    assert_once_each();
    member_free(a); /* B takes all four, from the committed offsets */
    v[0] = v[1];
    produce(10);
    run(v, 1, "g2", 4000);
    assert_once_each();
    member_free(v[0]);
}

START_TEST(two_sockets_no_redelivery)
{
    start("10000");
    two_sockets(true);
}
END_TEST

/* A client that knows nothing of revoke: its commits still land before the rebalance.timeout.ms handover.
 * SLUICE_TEST_REBALANCE_TIMEOUT=0 runs it with the handover at once (the behaviour before revokes): it must
 * then fail, A's late commits being refused and B re-reading them. */
START_TEST(two_sockets_no_redelivery_without_revoked_answers)
{
    start(getenv("SLUICE_TEST_REBALANCE_TIMEOUT") ? getenv("SLUICE_TEST_REBALANCE_TIMEOUT") : "1500");
    two_sockets(false);
}
END_TEST

START_TEST(three_sockets_joining_and_leaving_while_records_flow)
{
    start("10000");
    struct member *v[3] = {ws_member("g3", true), NULL, NULL};
    produce(5);
    run(v, 1, "g3", 200);
    v[1] = ws_member("g3", true);
    produce(5);
    run(v, 2, "g3", 300);
    v[2] = ws_member("g3", true);
    produce(5);
    run(v, 3, "g3", 3000);
    produce(5);
    run(v, 3, "g3", 3000);
    assert_once_each();
    member_free(v[0]); /* the first leaves mid-stream */
    v[0] = v[2];
    produce(5);
    run(v, 2, "g3", 3000);
    member_free(v[1]);
    produce(5);
    run(v, 1, "g3", 3000);
    assert_once_each();
    member_free(v[0]);
}
END_TEST

START_TEST(rest_instance_and_sockets_mixed)
{
    start("10000");
    produce(10);
    struct member *v[3] = {rest_member("gm", "r1"), NULL, NULL};
    run(v, 1, "gm", 200);
    v[1] = ws_member("gm", true);
    produce(5);
    run(v, 2, "gm", 3000);
    v[2] = ws_member("gm", true);
    produce(5);
    run(v, 3, "gm", 3000);
    assert_once_each();
    ck_assert_int_eq(sl_http_json(&proc, "DELETE", "/consumers/gm/instances/r1", NULL, NULL), 204);
    free(v[0]);
    v[0] = v[2];
    produce(5);
    run(v, 2, "gm", 3000);
    assert_once_each();
    member_free(v[0]);
    member_free(v[1]);
}
END_TEST

/* The group's committed offset of rb-p, from the v2 API of a throwaway instance (-1 when none). */
static json_int_t committed_of(const char *group, int p)
{
    char path[128], body[128];
    snprintf(path, sizeof path, "/consumers/%s", group);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"name\":\"peek\",\"format\":\"json\"}", NULL), 200);
    snprintf(path, sizeof path, "/consumers/%s/instances/peek/offsets", group);
    snprintf(body, sizeof body, "{\"partitions\":[{\"topic\":\"rb\",\"partition\":%d}]}", p);
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, body, &j), 200);
    json_t *o = json_array_get(json_object_get(j, "offsets"), 0);
    json_int_t off = o ? json_integer_value(json_object_get(o, "offset")) : -1;
    json_decref(j);
    snprintf(path, sizeof path, "/consumers/%s/instances/peek", group);
    ck_assert_int_eq(sl_http_json(&proc, "DELETE", path, NULL, NULL), 204);
    return off;
}

/* Reads messages until an error arrives; returns it (the caller decrefs). Other messages are dropped. */
static json_t *error_of(struct sl_wscl *c)
{
    return sl_wt_expect(c, "error", 5000);
}

START_TEST(refused_commits_name_partitions_and_keep_the_socket)
{
    start("10000");
    produce(2);
    struct member *a = ws_member("gr", true);
    json_t *as = sl_wt_expect(a->ws, "assignment", 5000);
    json_decref(as);
    struct member *b = ws_member("gr", false); /* b never answers revokes */
    json_t *rv = sl_wt_expect(a->ws, "revoke", 5000);
    ck_assert_ptr_nonnull(rv);
    json_decref(rv);
    /* b is getting partitions 2 and 3 but does not own them yet: 40904 */
    ck_assert_int_eq(sl_wscl_send(b->ws, "{\"type\":\"commit\",\"offsets\":[{\"partition\":3,\"offset\":1}]}"), 0);
    json_t *e = error_of(b->ws);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "error_code")), 40904);
    json_t *p = json_array_get(json_object_get(e, "partitions"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "partition")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "error_code")), 40904);
    json_decref(e);
    /* a may still commit 3 until it answers */
    ck_assert_int_eq(sl_wscl_send(a->ws, "{\"type\":\"commit\",\"offsets\":[{\"partition\":3,\"offset\":1}]}"), 0);
    json_t *cm = sl_wt_expect(a->ws, "committed", 5000);
    ck_assert_ptr_nonnull(cm);
    json_decref(cm);
    ck_assert_int_eq(sl_wscl_send(a->ws, "{\"type\":\"revoked\"}"), 0);
    json_t *na = sl_wt_expect(b->ws, "assignment", 5000);
    ck_assert_ptr_nonnull(na);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(na, "partitions"), 1), "offset")),
                     1); /* b starts partition 3 where a committed */
    json_decref(na);
    /* now partition 3 is b's: a's commit is refused as a whole (0 is a's, 3 is not), and a keeps its socket */
    ck_assert_int_eq(sl_wscl_send(a->ws, "{\"type\":\"commit\",\"offsets\":[{\"partition\":0,\"offset\":2},"
                                          "{\"partition\":3,\"offset\":2}]}"),
                     0);
    e = error_of(a->ws);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "error_code")), 40905);
    ck_assert_int_eq(json_array_size(json_object_get(e, "partitions")), 1);
    json_decref(e);
    json_t *j;
    ck_assert_int_eq(sl_wscl_send(a->ws, "{\"type\":\"commit\",\"offsets\":[{\"partition\":0,\"offset\":2}]}"), 0);
    cm = sl_wt_expect(a->ws, "committed", 5000); /* still open and serving */
    ck_assert_ptr_nonnull(cm);
    json_decref(cm);
    /* REST: an instance (not subscribed) committing b's partition gets 409/40905, nothing committed */
    ck_assert_int_eq(sl_http_json(&proc, "POST", "/consumers/gr", "{\"name\":\"r9\",\"format\":\"json\"}", NULL),
                     200);
    ck_assert_int_eq(sl_http_json(&proc, "POST", "/consumers/gr/instances/r9/offsets",
                                  "{\"offsets\":[{\"topic\":\"rb\",\"partition\":3,\"offset\":2}]}", &j),
                     409);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 40905);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "rb-3"));
    json_decref(j);
    ck_assert_int_eq(committed_of("gr", 3), 1);
    member_free(a);
    member_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("group_rebalance");
    TCase *tc = tcase_create("group_rebalance");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, two_sockets_no_redelivery);
    tcase_add_test(tc, two_sockets_no_redelivery_without_revoked_answers);
    tcase_add_test(tc, three_sockets_joining_and_leaving_while_records_flow);
    tcase_add_test(tc, rest_instance_and_sockets_mixed);
    tcase_add_test(tc, refused_commits_name_partitions_and_keep_the_socket);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
