/* The REST server's lifecycle (api/rest/rest.h): build the route table, start the modules, the deadline timer,
 * the libmicrohttpd daemon (without a listen socket), the streaming-produce registry and the listener that
 * hands connections to either (api/http/front.c); stop them in the order libmicrohttpd requires.
 *
 * STOP ORDER (libmicrohttpd aborts when stopped with suspended connections):
 *   1. sl_rest_quiesce: the front stops -- no new connections; in-flight requests go on.
 *   2. sl_rest_stop: sl_http_stop_all -- every suspended request is resumed with SL_HTTP_WAKE_STOPPING and
 *      answers (503, or an empty long poll); nothing suspends any more. Streaming produces stop reading and
 *      send the reports of what they received.
 *      Then wait (bounded) until every request has completed, so those answers are actually sent.
 *   3. MHD_stop_daemon, the timer, the modules (no request runs any more), free. */
#include "api/rest/rest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#include "api/http/front.h"
#include "api/http/http_int.h"
#include "api/http/metrics.h"
#include "api/rest/produce_stream.h"
#include "api/http/router.h"
#include "server/logging.h"

struct sl_rest {
    struct sl_api api;
    struct sl_http_srv srv;
    struct MHD_Daemon *d;
    struct sl_streams *streams;
    struct sl_front *front;
    bool modules_started;
    bool quiesced;
};

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sl_warn("libmicrohttpd: %s", msg);
}

/* Fills *ss from "addr" and port; returns its length, or 0 when addr does not parse. */
static socklen_t bind_addr(const char *addr, int port, struct sockaddr_storage *ss, bool *v6)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *v6 = false;
        return sizeof *a4;
    }
    if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return sizeof *a6;
    }
    return 0;
}

/* advertised.host (checked by server/config.c), else the bind address unless it is a wildcard, else
 * localhost; IPv6 literals bracketed. */
static void set_base_url(struct sl_api *api, const struct sl_config *cfg, const char *bind)
{
    const char *host = cfg->advertised_host && *cfg->advertised_host ? cfg->advertised_host : bind;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
        host = "localhost";
    snprintf(api->advertised_host, sizeof api->advertised_host, "%s", host);
    bool v6 = strchr(host, ':') != NULL;
    snprintf(api->base_url_buf, sizeof api->base_url_buf, "http://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)atomic_load(&api->rest_port));
    atomic_store(&api->base_url, api->base_url_buf); /* publishes both buffers */
}

/* The front's stream taker: the v3 streaming produce (api/rest/produce_stream.h). */
static int take_stream(void *streams, int fd)
{
    return sl_streams_take(streams, fd);
}

static int start_daemon(struct sl_rest *r, const struct sl_config *cfg)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    const char *bind = cfg->rest_bind && *cfg->rest_bind ? cfg->rest_bind : "0.0.0.0";
    if (!bind_addr(bind, cfg->rest_port, &ss, &v6)) {
        sl_error("rest.bind '%s' is not an IPv4 or IPv6 address", bind);
        return -EINVAL;
    }
    unsigned threads = cfg->rest_threads >= 2 ? (unsigned)cfg->rest_threads : 2u; /* a lone 0.9.75 thread stalled */
    /* libmicrohttpd's own timeout (reset by every byte either way) only backs api/http/conns.c up, for a reply
     * that nobody reads: past every deadline of ours, so that ours act first. */
    int64_t slowest = cfg->rest_header_timeout_ms;
    slowest = cfg->rest_body_timeout_ms > slowest ? cfg->rest_body_timeout_ms : slowest;
    slowest = cfg->rest_idle_timeout_ms > slowest ? cfg->rest_idle_timeout_ms : slowest;
    unsigned mhd_timeout = (unsigned)((slowest + 999) / 1000 + 1);
    /* poll, not epoll: with connections handed over by MHD_add_connection (api/http/front.c accepts), 0.9.75's
     * epoll workers left whole bursts of them unread until the connection timeout (256 connections opened at
     * once: every request stalled in 2 runs of 3; each socket registered, its request in the receive queue,
     * both workers asleep in epoll_wait). poll mode never did, and serves 64 connections as fast or faster
     * (62 k vs 57 k single-record requests/s); its cost grows with idle keep-alive connections (2,000 idle
     * ones: 23 k/s, where epoll kept 55 k/s). */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    if (v6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    r->d = MHD_start_daemon(flags, 0, NULL, NULL, sl_http_on_access, &r->srv,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->rest_max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0u,
                            MHD_OPTION_CONNECTION_TIMEOUT, mhd_timeout,
                            /* 16 KiB: the pool is allocated whole per connection and libmicrohttpd
                             * clears all of it when a request ends, so an idle kept-alive connection
                             * holds the whole pool resident: 64 KiB made ~76 KB per idle connection,
                             * 16 KiB ~19 KB (release build; tests/integration/test_rest_memory.c). The
                             * per-request memset shrinks too (256 KiB cost ~10 us/request). Heads up
                             * to ~12 KB still fit (the front peeks at 8 KiB); uploads arrive in ~8 KB
                             * chunks. */
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024,
                            MHD_OPTION_NOTIFY_COMPLETED, sl_http_on_completed, &r->srv,
                            MHD_OPTION_NOTIFY_CONNECTION, sl_http_on_connection, &r->srv,
                            MHD_OPTION_END);
    if (!r->d)
        return errno ? -errno : -EIO;
    const struct sl_streams_cfg scfg = {(size_t)cfg->rest_max_streams, cfg->rest_header_timeout_ms,
                                        cfg->rest_body_timeout_ms, cfg->rest_idle_timeout_ms};
    int rc = sl_streams_new(&r->srv, &scfg, &r->streams);
    const struct sl_front_streams taker = {take_stream, r->streams};
    if (!rc)
        rc = sl_front_start((struct sockaddr *)&ss, v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                            1024, (size_t)cfg->rest_max_connections, cfg->rest_header_timeout_ms, r->d, &taker,
                            r->api.router, &r->front);
    if (rc)
        return rc;
    atomic_store(&r->api.rest_port, sl_front_port(r->front));
    set_base_url(&r->api, cfg, bind);
    return 0;
}

static void free_rest(struct sl_rest *r)
{
    sl_front_stop(r->front);
    if (r->d)
        MHD_stop_daemon(r->d);
    sl_streams_free(r->streams);
    sl_conns_stop(r->srv.conns);
    sl_http_timer_stop(&r->srv);
    if (r->modules_started)
        sl_router_modules_stop(r->api.router, &r->api);
    sl_router_free(r->api.router);
    sl_http_srv_fini(&r->srv);
    free(r);
}

int sl_rest_start(const struct sl_config *cfg, struct sl_broker *b, struct sl_groups *groups, struct sl_metrics *m,
                  struct sl_quorum *quorum, struct sl_rest **out)
{
    struct sl_rest *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->api.cfg = cfg;
    r->api.broker = b;
    r->api.groups = groups;
    r->api.metrics = m;
    r->api.quorum = quorum;
    atomic_init(&r->api.ws_port, 0);
    atomic_init(&r->api.rest_port, 0);
    r->api.started_ms = (int64_t)time(NULL) * 1000;
    int rc = sl_router_new(&r->api.router);
    if (rc) {
        free(r);
        return rc;
    }
    sl_routes_register_all(r->api.router);
    if ((rc = sl_http_srv_init(&r->srv, &r->api)) || (rc = sl_metrics_set_routes(m, r->api.router)))
        goto err;
    if ((rc = sl_router_modules_start(r->api.router, &r->api)))
        goto err;
    r->modules_started = true;
    if ((rc = sl_http_timer_start(&r->srv)))
        goto err;
    const struct sl_conns_cfg ccfg = {cfg->rest_header_timeout_ms, cfg->rest_body_timeout_ms,
                                      cfg->rest_idle_timeout_ms};
    if ((rc = sl_conns_start(&ccfg, &r->srv.conns)))
        goto err;
    if ((rc = start_daemon(r, cfg)))
        goto err;
    *out = r;
    return 0;
err:
    free_rest(r);
    return rc;
}

const char *sl_rest_advertised_host(struct sl_rest *r)
{
    return sl_api_advertised_host(&r->api);
}

uint16_t sl_rest_port(const struct sl_rest *r)
{
    return atomic_load(&r->api.rest_port);
}

void sl_rest_set_ws_port(struct sl_rest *r, uint16_t port)
{
    atomic_store(&r->api.ws_port, port);
}

void sl_rest_quiesce(struct sl_rest *r)
{
    if (r->quiesced)
        return;
    r->quiesced = true;
    sl_front_stop(r->front);
    r->front = NULL;
}

void sl_rest_stop(struct sl_rest *r)
{
    if (!r)
        return;
    sl_rest_quiesce(r);
    size_t left = sl_http_stop_all(&r->srv, 5000);
    if (left)
        sl_warn("REST stop: %zu requests still suspended after 5 s", left);
    if ((left = sl_streams_stop(r->streams, 5000)))
        sl_warn("REST stop: %zu streaming produces still running after 5 s", left);
    long pending = sl_http_drain(&r->srv, 3000); /* let the woken requests' replies go out */
    if (pending)
        sl_warn("REST stop: %ld requests still in flight after 3 s", pending);
    free_rest(r);
}
