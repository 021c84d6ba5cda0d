/* sluice: parse the configuration, check the data dir's identity, open the broker, start the REST server,
 * wait for a signal, stop. The one place that wires the layers together.
 *
 * Exit status: 0 after a clean stop; 2 for a bad setting or a data dir that belongs to another node or
 * cluster (one "sluice: ..." line on stderr); 1 when something fails to start or stop.
 *
 * Signals: SIGINT/SIGTERM are blocked in every thread and taken by a small signal thread. The first one
 * starts a clean stop (stop accepting, answer or fail in-flight requests, flush, close, exit 0); a second
 * one exits at once (status 130/143). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/common/budget.h"
#include "api/http/metrics.h"
#include "api/rest/rest.h"
#include "api/ws/ws.h"
#include "server/broker.h"
#include "server/config.h"
#include "server/data_identity.h"
#include "server/groups.h"
#include "server/err.h"
#include "server/logging.h"
#include "server/membership.h"
#include "server/meta_fsm.h"
#include "server/quorum.h"

extern char **environ;

static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;
static int stop_signal; /* guarded by: stop_mu */

static void *signal_main(void *arg)
{
    sigset_t *set = arg;
    for (;;) {
        int sig;
        if (sigwait(set, &sig))
            continue;
        pthread_mutex_lock(&stop_mu);
        int first = stop_signal == 0;
        stop_signal = sig;
        pthread_cond_signal(&stop_cv);
        pthread_mutex_unlock(&stop_mu);
        if (!first) {
            sl_warn("second signal %d: exiting at once", sig);
            _exit(128 + sig);
        }
        sl_info("signal %d: stopping (send it again to exit at once)", sig);
    }
    return NULL;
}

static int wait_for_signal(sigset_t *set)
{
    pthread_t th;
    int rc = pthread_create(&th, NULL, signal_main, set);
    if (rc)
        return -rc;
    pthread_detach(th);
    pthread_mutex_lock(&stop_mu);
    while (!stop_signal)
        pthread_cond_wait(&stop_cv, &stop_mu);
    pthread_mutex_unlock(&stop_mu);
    return 0;
}

/* The consumer-group coordinator over b, configured from cfg (consumer.instance.timeout.ms is the session
 * timeout; a rebalance.timeout.ms of 0 means "the groups default"). Logs its own failure. */
static int open_groups(const struct sl_config *cfg, struct sl_broker *b, struct sl_groups **out)
{
    int64_t rt = cfg->rebalance_timeout_ms;
    struct sl_groups_cfg gc = {.session_timeout_ms = cfg->consumer_instance_timeout_ms,
                               .rebalance_timeout_ms = rt ? rt : -1};
    return sl_groups_open(b, &gc, out);
}

/* With controller.quorum.voters and this node among them: its metadata quorum instance, on
 * <data>/quorum and its voter port (server/quorum.h). *out stays NULL on a one-node cluster and on a
 * non-voter, which is said once: joining as a non-voter is not built yet. Logs its own failure. */
static int start_quorum(const struct sl_config *cfg, struct sl_meta_fsm *fsm, struct sl_quorum **out)
{
    *out = NULL;
    if (cfg->voters.n == 0)
        return 0;
    if (!sl_voters_find(&cfg->voters, cfg->node_id)) {
        sl_warn("node %ld is not one of the %zu voters of controller.quorum.voters, and joining as a non-voter is "
                "not built yet (issue 14): running without the metadata quorum", (long)cfg->node_id,
                cfg->voters.n);
        return 0;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/quorum", cfg->data_dir);
    struct sl_quorum_cfg qc = {.node_id = cfg->node_id, .voters = &cfg->voters, .dir = dir, .fsm = fsm};
    int rc = sl_quorum_start(&qc, out);
    if (rc)
        sl_error("cannot start the metadata quorum in %s: %s", dir, sl_error_message(rc));
    else
        sl_info("metadata quorum: node %ld of %zu voters, log in %s", (long)cfg->node_id, cfg->voters.n, dir);
    return rc;
}

/* With a quorum: the cluster port's RPC and this node's registration (server/membership.h), once the REST
 * and WebSocket ports it registers are bound. Logs its own failure. */
static int start_membership(const struct sl_config *cfg, struct sl_quorum *q, struct sl_rest *rest,
                            struct sl_ws *ws, struct sl_membership **out)
{
    *out = NULL;
    if (!q)
        return 0;
    struct sl_membership_cfg mc = {.quorum = q,
                                   .bind_host = cfg->rest_bind && *cfg->rest_bind ? cfg->rest_bind : "0.0.0.0",
                                   .cluster_port = (uint16_t)cfg->cluster_port,
                                   .advertised_host = sl_rest_advertised_host(rest),
                                   .rest_port = sl_rest_port(rest),
                                   .ws_port = sl_ws_port(ws),
                                   .incarnation = sl_clock_wall_ms(&sl_clock_posix),
                                   .session_timeout_ms = cfg->broker_session_timeout_ms};
    int rc = sl_membership_start(&mc, out);
    if (rc)
        sl_error("cannot listen on cluster.port %d: %s", cfg->cluster_port, sl_error_message(rc));
    else
        sl_info("cluster RPC on port %u", (unsigned)sl_membership_cluster_port(*out));
    return rc;
}

/* Opens the broker on cfg->data_dir and records the directory's identity (server/data_identity.h; checked
 * before, by main). Logs its own failure; *out is NULL then. */
static int open_broker(const struct sl_config *cfg, struct sl_broker **out)
{
    char err[512];
    int rc = sl_broker_open(cfg, &sl_fileops_posix, &sl_clock_posix, out);
    if (rc) {
        sl_error("cannot open the broker in %s: %s", cfg->data_dir, sl_error_message(rc));
        return rc;
    }
    rc = sl_data_identity_record(&sl_fileops_posix, cfg->data_dir, sl_broker_cluster_id(*out), cfg->node_id, err,
                                 sizeof err);
    if (rc) {
        sl_error("%s", err);
        sl_broker_close(*out);
        *out = NULL;
        return rc;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sl_config cfg;
    char err[512];
    int rc = sl_config_load(&cfg, argc, argv, environ, err, sizeof err);
    if (rc == 0 && cfg.help) {
        sl_config_fini(&cfg);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "sluice: %s\n", err);
        sl_config_fini(&cfg);
        return 2;
    }
    sl_logging_set_level(cfg.log_level);
    sl_budget_init((uint64_t)cfg.buffer_memory_max_bytes);

    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);

    struct sl_broker *b = NULL;
    struct sl_groups *groups = NULL;
    struct sl_metrics *metrics = NULL;
    struct sl_rest *rest = NULL;
    struct sl_ws *ws = NULL;
    struct sl_meta_fsm fsm;
    struct sl_quorum *quorum = NULL;
    struct sl_membership *membership = NULL;
    /* Another node's or cluster's data dir is refused like a bad setting: one line, exit 2. */
    if ((rc = sl_data_identity_check(&sl_fileops_posix, &cfg, err, sizeof err))) {
        fprintf(stderr, "sluice: %s\n", err);
        sl_config_fini(&cfg);
        return rc == SL_ECONFIG ? 2 : 1;
    }
    if ((rc = sl_meta_fsm_init(&fsm)))
        goto out_config;
    if ((rc = open_broker(&cfg, &b)))
        goto out;
    if ((rc = open_groups(&cfg, b, &groups)))
        goto out_broker;
    if ((rc = start_quorum(&cfg, &fsm, &quorum)))
        goto out_groups;
    if ((rc = sl_metrics_new(&metrics))) {
        sl_error("cannot allocate the /metrics counters: %s", sl_error_message(rc));
        goto out_quorum;
    }
    rc = sl_rest_start(&cfg, b, groups, metrics, quorum, &rest);
    if (rc) {
        sl_error("cannot start the REST server on port %d: %s", cfg.rest_port, sl_error_message(rc));
        goto out_metrics;
    }
    rc = sl_ws_start(&cfg, b, groups, metrics, sl_rest_port(rest), &ws);
    if (rc) {
        sl_error("cannot start the WebSocket server on port %d: %s", cfg.ws_port, sl_error_message(rc));
        goto out_rest;
    }
    sl_rest_set_ws_port(rest, sl_ws_port(ws));
    if ((rc = start_membership(&cfg, quorum, rest, ws, &membership)))
        goto out_ws;
    sl_info("sluice %s node %d, data in %s", SLUICE_VERSION, cfg.node_id, cfg.data_dir);
    /* One line with the bound ports; tests and scripts read it. */
    sl_info("sluice listening rest_port=%u ws_port=%u", (unsigned)sl_rest_port(rest), (unsigned)sl_ws_port(ws));

    rc = wait_for_signal(&set);
    sl_membership_stop(membership); /* before the quorum it proposes to */
    membership = NULL;
out_ws:
    sl_rest_quiesce(rest);
    sl_ws_stop(ws);
out_rest:
    sl_rest_stop(rest);
out_metrics:
    sl_metrics_free(metrics); /* after both servers: neither counts anything any more */
out_quorum:
    sl_quorum_stop(quorum); /* after the REST server: no request reads its status any more */
out_groups:
    sl_groups_close(groups); /* after the REST and WebSocket servers: no request or socket uses it any more */
out_broker:
    sl_broker_close(b);
out:
    sl_meta_fsm_fini(&fsm);
out_config:
    if (rc == 0)
        sl_info("stopped cleanly");
    sl_config_fini(&cfg);
    return rc ? 1 : 0;
}
