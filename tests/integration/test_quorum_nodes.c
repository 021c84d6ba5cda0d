/* The metadata quorum in the real binary: three sluice processes on 127.0.0.1, each a voter of
 * controller.quorum.voters with its own data dir. They elect one leader, which /v1/info (quorum.role,
 * quorum.leader_id, quorum.term) and /metrics (sluice_quorum_*) show alike on every node; the leader killed
 * with SIGKILL, the other two elect a new one in a higher term; the killed node restarted on its data dir
 * rejoins as a follower of the new leader; every node stops cleanly on SIGTERM. Each node registers itself
 * through the quorum (the leader directly, the others by an RPC PROPOSE to the leader's cluster port): every
 * node's /v3/clusters/{id}/brokers lists the three with their REST ports, one of them the controller (the
 * quorum leader), and v2 GET /brokers their ids; a follower killed is listed "fenced" after
 * broker.session.timeout.ms and "live" again once restarted; the restarted leader registers again with its
 * new port; SIGTERM on the leader hands its leadership over before it exits (controlled shutdown); /ready is
 * 200 once a node is registered, 503 "joining" on a voter that has no majority. A
 * one-node start has "quorum": null and lists itself alone. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define N 3
#define CID "SluiceQuorumTestClust1" /* one cluster id for the three nodes (the quorum does not hand one out yet) */

static struct sl_proc nodes[N];
static bool up[N];

static void start_all(void)
{
    char voters[256], ids[N][8];
    uint16_t ports[N];
    for (int i = 0; i < N; i++)
        ports[i] = sl_test_free_port();
    snprintf(voters, sizeof voters, "controller.quorum.voters=1@127.0.0.1:%u,2@127.0.0.1:%u,3@127.0.0.1:%u",
             ports[0], ports[1], ports[2]);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", i + 1);
        const char *extra[] = {"--node-id", ids[i], "--set", voters, "--set", "cluster.port=0",
                               "--set", "cluster.id=" CID, "--set", "broker.session.timeout.ms=1500", NULL};
        sl_proc_start(&nodes[i], NULL, extra);
        up[i] = true;
    }
}

static void stop_all(void)
{
    for (int i = 0; i < N; i++) {
        if (up[i])
            sl_proc_stop(&nodes[i]); /* asserts exit status 0 */
        up[i] = false;
        sl_proc_free(&nodes[i]);
    }
}

struct view {
    char role[16];
    long long term;
    int leader; /* -1: none */
};

static bool view_of(int i, struct view *v)
{
    json_t *j = NULL;
    long st = sl_http_json(&nodes[i], "GET", "/v1/info", NULL, &j);
    json_t *q = json_object_get(j, "quorum");
    bool ok = st == 200 && json_is_object(q);
    if (ok) {
        snprintf(v->role, sizeof v->role, "%s", json_string_value(json_object_get(q, "role")));
        v->term = json_integer_value(json_object_get(q, "term"));
        json_t *l = json_object_get(q, "leader_id");
        v->leader = json_is_integer(l) ? (int)json_integer_value(l) : -1;
    }
    json_decref(j);
    return ok;
}

/* Waits (15 s) until the live nodes agree on one leader among them other than not_this; returns its index. */
static int agreed_leader(int not_this, long long *term)
{
    for (int t = 0; t < 300; t++) {
        int leader = -1, leaders = 0, agree = 0, live = 0;
        struct view v[N];
        for (int i = 0; i < N; i++) {
            if (!up[i] || !view_of(i, &v[i]))
                continue;
            live++;
            if (!strcmp(v[i].role, "leader"))
                leader = i, leaders++;
        }
        for (int i = 0; leaders == 1 && i < N; i++)
            agree += up[i] && v[i].leader == leader + 1;
        if (leaders == 1 && agree == live && leader != not_this) {
            *term = v[leader].term;
            return leader;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("the nodes did not agree on one leader");
    return -1;
}

/* Waits (15 s) until node i lists the three nodes with their current REST ports, live (but node index
 * fenced, when >= 0: "fenced"), and the controller flag on ctrl alone. */
static void wait_brokers_fenced(int i, int ctrl, int fenced)
{
    char last[4096] = "";
    for (int t = 0; t < 300; t++) {
        json_t *j = NULL;
        long st = sl_http_json(&nodes[i], "GET", "/v3/clusters/" CID "/brokers", NULL, &j);
        json_t *data = json_object_get(j, "data");
        int match = 0;
        for (size_t k = 0; st == 200 && k < json_array_size(data); k++) {
            json_t *b = json_array_get(data, k);
            int id = (int)json_integer_value(json_object_get(b, "broker_id"));
            if (id < 1 || id > N)
                continue;
            bool ok = json_integer_value(json_object_get(b, "port")) == nodes[id - 1].rest_port &&
                      json_integer_value(json_object_get(b, "ws_port")) == nodes[id - 1].ws_port &&
                      !strcmp(json_string_value(json_object_get(b, "host")), "127.0.0.1") &&
                      !strcmp(json_string_value(json_object_get(b, "state")), id - 1 == fenced ? "fenced" : "live") &&
                      json_is_true(json_object_get(b, "is_controller")) == (id - 1 == ctrl) &&
                      json_integer_value(json_object_get(b, "cluster_port")) > 0;
            match += ok;
        }
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        snprintf(last, sizeof last, "%s", s ? s : "(no JSON)");
        free(s);
        bool done = match == N && json_array_size(data) == N;
        json_decref(j);
        if (done)
            return;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("node %d does not list the three brokers: %s", i + 1, last);
}

static void wait_brokers(int i, int ctrl)
{
    wait_brokers_fenced(i, ctrl, -1);
}

START_TEST(three_nodes_elect_fail_over_and_rejoin)
{
    start_all();
    long long term1, term2;
    int l1 = agreed_leader(-1, &term1);
    ck_assert_int_ge(term1, 1);
    json_t *j = NULL;
    char body[65536];
    struct sl_resp r;
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", nodes[l1].base);
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, NULL, &r), 200);
    snprintf(body, sizeof body, "%.*s", (int)r.len, r.body);
    sl_resp_fini(&r);
    ck_assert_msg(strstr(body, "sluice_quorum_role{role=\"leader\"} 1\n"), "no leader role in /metrics");
    snprintf(url, sizeof url, "sluice_quorum_leader_id %d\n", l1 + 1);
    ck_assert_msg(strstr(body, url), "no leader id in /metrics");
    for (int i = 0; i < N; i++)
        wait_brokers(i, l1);
    for (int i = 0; i < N; i++) { /* registered and caught up: ready */
        long st = 0;
        for (int t = 0; t < 100 && (st = sl_http_json(&nodes[i], "GET", "/ready", NULL, NULL)) != 200; t++) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        ck_assert_int_eq(st, 200);
    }
    ck_assert_int_eq(sl_http_json(&nodes[0], "GET", "/brokers", NULL, &j), 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "brokers")), 3);
    json_decref(j);
    j = NULL;

    /* a follower killed: the controller fences it after broker.session.timeout.ms; back, it is live again */
    int f = (l1 + 1) % N;
    sl_proc_kill(&nodes[f]);
    up[f] = false;
    wait_brokers_fenced(l1, l1, f);
    ck_assert_int_eq(sl_http_json(&nodes[l1], "GET", "/v1/info", NULL, &j), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "quorum"), "fenced_brokers")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "quorum"), "live_brokers")), 2);
    json_decref(j);
    j = NULL;
    snprintf(url, sizeof url, "%s/metrics", nodes[l1].base);
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, NULL, &r), 200);
    ck_assert_msg(strstr(r.body, "sluice_cluster_brokers{state=\"fenced\"} 1\n"), "no fenced count in /metrics");
    sl_resp_fini(&r);
    sl_proc_start_again(&nodes[f]);
    up[f] = true;
    for (int i = 0; i < N; i++)
        wait_brokers(i, l1);

    sl_proc_kill(&nodes[l1]); /* SIGKILL */
    up[l1] = false;
    int l2 = agreed_leader(l1, &term2);
    ck_assert_int_ne(l2, l1);
    ck_assert_int_gt(term2, term1);

    sl_proc_start_again(&nodes[l1]); /* same data dir, same settings */
    up[l1] = true;
    long long term3;
    ck_assert_int_eq(agreed_leader(-1, &term3), l2); /* rejoined as a follower of the new leader */
    struct view v;
    ck_assert(view_of(l1, &v));
    ck_assert_str_eq(v.role, "follower");
    for (int i = 0; i < N; i++)
        wait_brokers(i, l2); /* its new registration: new ports, the new controller */

    /* controlled shutdown: SIGTERM on the leader hands the leadership over before it exits */
    sl_proc_stop(&nodes[l2]); /* asserts exit status 0 */
    up[l2] = false;
    char *log = sl_proc_stderr(&nodes[l2]);
    ck_assert_msg(strstr(log, "leadership handed to node"), "no hand-off line:\n%s", log);
    free(log);
    long long term4;
    ck_assert_int_ne(agreed_leader(l2, &term4), l2);
    (void)j;
    stop_all();
}
END_TEST

START_TEST(a_voter_without_a_majority_is_joining)
{
    char voters[160];
    snprintf(voters, sizeof voters, "controller.quorum.voters=1@127.0.0.1:%u,2@127.0.0.1:%u,3@127.0.0.1:%u",
             sl_test_free_port(), sl_test_free_port(), sl_test_free_port());
    const char *extra[] = {"--node-id", "1", "--set", voters, "--set", "cluster.port=0", NULL};
    struct sl_proc p;
    sl_proc_start(&p, NULL, extra); /* its two peers never start: no leader, ever */
    json_t *j = NULL;
    ck_assert_int_eq(sl_http_json(&p, "GET", "/ready", NULL, &j), 503);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "joining");
    ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "no metadata quorum leader is known yet");
    json_decref(j);
    ck_assert_int_eq(sl_http_json(&p, "GET", "/healthy", NULL, NULL), 200); /* alive, just not ready */
    sl_proc_stop(&p);
    sl_proc_free(&p);
}
END_TEST

START_TEST(a_one_node_start_has_no_quorum)
{
    struct sl_proc p;
    sl_proc_start(&p, NULL, NULL);
    json_t *j = NULL;
    ck_assert_int_eq(sl_http_json(&p, "GET", "/v1/info", NULL, &j), 200);
    ck_assert(json_is_null(json_object_get(j, "quorum")));
    json_decref(j);
    char path[128];
    char *cid = sl_proc_cluster_id(&p);
    snprintf(path, sizeof path, "/v3/clusters/%s/brokers", cid);
    ck_assert_int_eq(sl_http_json(&p, "GET", path, NULL, &j), 200);
    json_t *b = json_array_get(json_object_get(j, "data"), 0);
    ck_assert_int_eq(json_array_size(json_object_get(j, "data")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "port")), p.rest_port);
    ck_assert(json_is_true(json_object_get(b, "is_controller")));
    json_decref(j);
    free(cid);
    sl_proc_stop(&p);
    sl_proc_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("quorum_nodes");
    TCase *tc = tcase_create("processes");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, three_nodes_elect_fail_over_and_rejoin);
    tcase_add_test(tc, a_one_node_start_has_no_quorum);
    tcase_add_test(tc, a_voter_without_a_majority_is_joining);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
