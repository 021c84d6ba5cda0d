/* The WebSocket server: one libwebsockets context and vhost, one service thread, the inbox other threads
 * use to reach it, and the per-socket outgoing queue. The protocol callback (one socket's states, below) is in
 * ws_socket.c; sessions are in ws_consume.c and ws_produce.c.
 *
 * STATES (one socket)
 *   FILTER_NETWORK_CONNECTION: the accepted fd is tracked by the mask check (api/ws/ws_mask.h) until CLOSED
 *   FILTER_PROTOCOL_CONNECTION: the URL is parsed into c->t (errors are kept and sent once established)
 *   ESTABLISHED: sl_wsc_open / sl_wsp_open (may fail the socket: error message, then close 4000+status)
 *   RECEIVE*: fragments reassembled into one message, then sl_wsc_message / sl_wsp_message
 *   (an unmasked client frame never reaches RECEIVE: after the service round that held it back,
 *   sl_ws_close_unmasked closes the socket with 1002; on_established does so when it came with the upgrade)
 *   SERVER_WRITEABLE: one queued control message, else one record frame (sl_wsc_write)
 *   CLOSED: c->wsi = NULL, group left, reference dropped
 *
 * INVARIANTS
 *   1. Every lws_* call except lws_cancel_service runs on the service thread.
 *   2. At most one frame per socket sits in libwebsockets' output buffer: frames are written only from
 *      SERVER_WRITEABLE, which libwebsockets withholds while earlier output is unsent (so a socket that
 *      does not read costs one frame, and its cursors stay behind in the log).
 *   3. Broker-thread completions (produce, commit) reach a socket only through the inbox; each holds a
 *      reference on its conn, so a socket that closed meanwhile is skipped, never touched after free. */
#include "api/ws/ws_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/common/errmap.h"
#include "api/codec/records.h"
#include "api/ws/ws_mask.h"
#include "server/logging.h"
#include "server/err.h"
#include "storage/clock.h"

/* The broker's data hook (flusher, sync helper or producing thread), set from sl_ws_start to sl_ws_stop. */
static void on_data(void *arg)
{
    struct sl_ws *ws = arg;
    atomic_store_explicit(&ws->data, true, memory_order_release);
    lws_cancel_service(ws->ctx);
}

/* ---- references, queue, errors ---- */

void sl_ws_conn_ref(struct sl_ws_conn *c)
{
    c->refs++;
}

void sl_ws_conn_unref(struct sl_ws_conn *c)
{
    if (--c->refs)
        return;
    for (size_t i = 0; i < c->ntopics; i++)
        free(c->topics[i]);
    free(c->topics);
    free(c->cur);
    while (c->qhead) {
        struct sl_ws_msg *m = c->qhead;
        c->qhead = m->next;
        free(m);
    }
    sl_ws_rx_release(c);
    free(c);
}

void sl_ws_rx_flow(struct sl_ws_conn *c)
{
    if (!c->wsi)
        return;
    bool pause = c->qlen + c->pending >= SL_WS_RX_PAUSE && !c->close_sent;
    if (pause != c->rx_paused) {
        c->rx_paused = pause;
        lws_rx_flow_control(c->wsi, pause ? 0 : 1);
    }
}

int sl_ws_send(struct sl_ws_conn *c, const char *text, size_t len)
{
    if (!c->wsi || c->closing)
        return 0;
    struct sl_ws_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return -ENOMEM;
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (c->qtail)
        c->qtail->next = m;
    else
        c->qhead = m;
    c->qtail = m;
    c->qlen++;
    sl_ws_rx_flow(c);
    lws_callback_on_writable(c->wsi);
    return 0;
}

void sl_ws_send_error(struct sl_ws_conn *c, const char *id, int code, const char *msg)
{
    struct sl_buf b = {0};
    char num[32];
    sl_buf_append(&b, "{\"type\":\"error\"", 15);
    if (id) {
        sl_buf_append(&b, ",\"id\":", 6);
        sl_buf_append(&b, id, strlen(id));
    }
    int n = snprintf(num, sizeof num, ",\"error_code\":%d", code);
    sl_buf_append(&b, num, (size_t)n);
    sl_buf_append(&b, ",\"message\":", 11);
    sl_json_str_append(&b, (const uint8_t *)msg, strlen(msg));
    if (sl_buf_append(&b, "}", 1) == 0)
        sl_ws_send(c, (const char *)b.base, b.len);
    sl_buf_fini(&b);
}

void sl_ws_fail(struct sl_ws_conn *c, unsigned status, int code, const char *fmt, ...)
{
    if (c->closing)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_ws_send_error(c, NULL, code, msg);
    c->closing = true;
    c->close_code = 4000 + (int)status;
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
}

void sl_ws_fail_rc(struct sl_ws_conn *c, int rc, const char *msg)
{
    const struct sl_errmap *e = sl_errmap_get(rc);
    char buf[512];
    if (!msg) /* a 5xx says what failed, as the REST answers do (api/http/http.h) */
        msg = sl_errmap_message(e, sl_errctx(), buf, sizeof buf);
    if (e->status >= 500 && e->status != 503)
        sl_warn("WebSocket closed with %d: %s", 4000 + (int)e->status, msg);
    sl_ws_fail(c, e->status, e->error_code, "%s", msg);
}

/* ---- inbox ---- */

void sl_ws_op_begin(struct sl_ws *ws)
{
    pthread_mutex_lock(&ws->mu);
    ws->outstanding++;
    pthread_mutex_unlock(&ws->mu);
}

void sl_ws_post(struct sl_ws *ws, struct sl_ws_op *op)
{
    pthread_mutex_lock(&ws->mu);
    op->next = ws->inbox;
    ws->inbox = op;
    ws->outstanding--;
    pthread_cond_broadcast(&ws->cv);
    if (ws->ctx)
        lws_cancel_service(ws->ctx);
    pthread_mutex_unlock(&ws->mu);
}

/* Service thread: completes posted ops (oldest first), group events, data wakes. */
void sl_ws_drain(struct sl_ws *ws)
{
    pthread_mutex_lock(&ws->mu);
    struct sl_ws_op *op = ws->inbox, *rev = NULL;
    ws->inbox = NULL;
    pthread_mutex_unlock(&ws->mu);
    while (op) {
        struct sl_ws_op *next = op->next;
        op->next = rev;
        rev = op;
        op = next;
    }
    while (rev) {
        struct sl_ws_op *next = rev->next;
        struct sl_ws_conn *c = rev->c;
        c->pending--;
        rev->complete(rev);
        sl_ws_rx_flow(c);
        sl_ws_conn_unref(c);
        rev = next;
    }
    if (atomic_exchange(&ws->groups_dirty, false))
        for (struct sl_ws_conn *c = ws->conns; c; c = c->next)
            sl_wsc_group_events(c);
    if (!atomic_exchange_explicit(&ws->data, false, memory_order_acquire))
        return;
    ws->wake_gen++;
    for (struct sl_ws_conn *c = ws->conns; c; c = c->next)
        if (c->want_data && c->wsi) {
            c->want_data = false;
            lws_callback_on_writable(c->wsi);
        }
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct sl_ws *ws = lws_container_of(sul, struct sl_ws, tick);
    int64_t now = sl_ws_now_ms();
    for (struct sl_ws_conn *c = ws->conns; c; c = c->next) {
        if (c->wsi && c->rx_in_msg && !c->closing && now - c->rx_started_ms > ws->cfg->ws_idle_timeout_ms)
            sl_ws_fail(c, 408, 408, "Message not completed within %lld ms (ws.idle.timeout.ms).",
                       (long long)ws->cfg->ws_idle_timeout_ms);
        if (c->wsi && c->t.kind == SL_WS_CONSUME && c->established)
            sl_wsc_tick(c, now);
    }
    atomic_store(&ws->data, true); /* a safety net: re-check idle subscribers once a second */
    sl_ws_drain(ws);
    lws_sul_schedule(ws->ctx, 0, &ws->tick, on_tick, LWS_US_PER_SEC);
}

/* ---- lifecycle ---- */

/* tx_packet_size: libwebsockets caps each send() at this (0 means rx_buffer_size, 4 KiB), buffering the
 * rest of a frame (a copy) and sending it one cap per poll round: with 4 KiB a 100 KB frame cost 25
 * poll+send rounds (strace of a catch-up). It is only a cap, nothing is allocated for it. Not larger than
 * 64 KiB: with 4 MiB (one send() per frame) libwebsockets 4.1.6 sometimes spun forever in its forced-service
 * loop after 10,000 subscribers disconnected at once (recv() = 0 on a socket it kept for flushing before
 * close; 9 hangs in 20 runs), never in 10 runs with 64 KiB nor in 8 with 4 KiB. */
#define TX_PACKET_SIZE (64u << 10)

static const struct lws_protocols protocols[] = {
    {"sluice.v1", sl_ws_callback, sizeof(struct sl_ws_conn *), 4096, 0, NULL, TX_PACKET_SIZE},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_extension extensions[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate,
     "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
    {NULL, NULL, NULL},
};

static void on_lws_log(int level, const char *line)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", line);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (level & LLL_ERR)
        sl_warn("libwebsockets: %s", msg);
    else
        sl_debug("libwebsockets: %s", msg);
}

/* libwebsockets' fd table size. Below the process's fd limit (ulimit -n), libwebsockets 4.1 switches to its
 * "slow fds" mode, where every fd -> connection lookup (one per poll event) scans the table of live
 * connections: with 1,000 acking subscribers wsi_from_fd was 4.7 % of the service thread (perf), O(sockets)
 * per event and so O(sockets^2) per fan-out wave. A table as large as the fd limit is indexed by fd instead;
 * it costs 16 bytes per possible fd (1 MiB at 65,536), so above FD_TABLE_MAX fds the slow mode stays. The
 * connection cap (ws.max.connections) is enforced in on_filter either way. */
#define FD_TABLE_MAX (1L << 18)

static unsigned fd_limit(const struct sl_config *cfg)
{
    long want = (long)cfg->ws_max_connections + 64, open_max = sysconf(_SC_OPEN_MAX);
    return (unsigned)(open_max > want && open_max <= FD_TABLE_MAX ? open_max : want);
}

static void *service_main(void *arg)
{
    struct sl_ws *ws = arg;
    lws_sul_schedule(ws->ctx, 0, &ws->tick, on_tick, LWS_US_PER_SEC);
    while (!atomic_load(&ws->stop)) {
        if (lws_service(ws->ctx, 0) < 0)
            break;
        if (sl_ws_mask_take_failures())
            sl_ws_close_unmasked(ws);
    }
    return NULL;
}

static void set_retry(struct sl_ws *ws)
{
    int64_t s = ws->cfg->ws_idle_timeout_ms / 1000;
    if (s < 2)
        s = 2;
    ws->retry.secs_since_valid_ping = (uint16_t)(s / 2);
    ws->retry.secs_since_valid_hangup = (uint16_t)s;
}

/* True when this process holds a listening TCP socket bound to port. libwebsockets 4.1.6 reports a listener it
 * could not bind as an error, but one it could not even create (socket() failing with EMFILE under a low fd
 * limit) only as a log line: lws_create_context succeeds and the vhost just does not listen. So the listener is
 * checked here, among the process's own fds. */
static bool listening_on(uint16_t port)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return true; /* cannot tell: trust libwebsockets */
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        int fd = atoi(e->d_name), on = 0;
        socklen_t olen = sizeof on;
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d))
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) || !on ||
            getsockname(fd, (struct sockaddr *)&sa, &salen))
            continue;
        if (sa.ss_family == AF_INET)
            found = ntohs(((struct sockaddr_in *)&sa)->sin_port) == port;
        else if (sa.ss_family == AF_INET6)
            found = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port) == port;
    }
    closedir(d);
    return found;
}

/* Why a listener could not be opened: the errno of a socket() tried now (EMFILE under a low fd limit). */
static int listener_errno(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    close(fd);
    return SL_EFAILED;
}

/* The interface libwebsockets binds to for ws.bind: NULL (every interface, IPv4 and IPv6) for a wildcard, else
 * the address itself. Returns false when ws.bind is not an IPv4 or IPv6 address. */
static bool bind_iface(const struct sl_config *cfg, const char **iface)
{
    const char *b = cfg->ws_bind && *cfg->ws_bind ? cfg->ws_bind : "0.0.0.0";
    unsigned char a[16];
    if (inet_pton(AF_INET, b, a) != 1 && inet_pton(AF_INET6, b, a) != 1)
        return false;
    *iface = strcmp(b, "0.0.0.0") == 0 || strcmp(b, "::") == 0 ? NULL : b;
    return true;
}

static void free_ws(struct sl_ws *ws)
{
    sl_origins_fini(&ws->origins);
    pthread_mutex_destroy(&ws->mu);
    pthread_cond_destroy(&ws->cv);
    free(ws);
}

int sl_ws_start(const struct sl_config *cfg, struct sl_broker *b, struct sl_groups *g, struct sl_metrics *m,
                uint16_t rest_port, struct sl_ws **out)
{
    const char *iface;
    if (!bind_iface(cfg, &iface)) {
        sl_error("ws.bind '%s' is not an IPv4 or IPv6 address", cfg->ws_bind);
        return -EINVAL;
    }
    struct sl_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return -ENOMEM;
    ws->cfg = cfg;
    ws->b = b;
    ws->g = g;
    ws->metrics = m;
    ws->rest_port = rest_port;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->cv, NULL);
    if (sl_origins_init(&ws->origins, cfg->cors_allowed_origins ? cfg->cors_allowed_origins : "")) {
        free_ws(ws);
        return -ENOMEM;
    }
    set_retry(ws);
    lws_set_log_level(LLL_ERR, on_lws_log);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->ws_port;
    info.iface = iface;
    info.protocols = protocols;
    info.extensions = extensions;
    info.retry_and_idle_policy = &ws->retry;
    info.timeout_secs = 10; /* the HTTP upgrade must complete within it, however slowly its bytes arrive */
    /* The request line and headers of an upgrade must fit this (libwebsockets drops a longer request without a
     * reply); 16 KiB lets any query that copy_args refuses with a message reach it. */
    info.max_http_header_data = 16384;
    info.user = ws;
    /* No LWS_SERVER_OPTION_VALIDATE_UTF8: on_receive checks text itself (1007), so that every close that
     * libwebsockets starts on its own is a framing error (on_drop: 1002). */
    info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.fd_limit_per_thread = fd_limit(cfg);
    unsigned char a4[4];
    if (iface && inet_pton(AF_INET, iface, a4) == 1)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6; /* else 4.1.6 ignores an IPv4 iface (binds every one) */
    ws->ctx = lws_create_context(&info);
    if (!ws->ctx) {
        sl_error("cannot start the WebSocket server on port %d (ws.bind %s)", cfg->ws_port, cfg->ws_bind);
        free_ws(ws);
        return -EADDRINUSE;
    }
    ws->vh = lws_get_vhost_by_name(ws->ctx, "default");
    int port = ws->vh ? lws_get_vhost_listen_port(ws->vh) : 0;
    if (port <= 0 || !listening_on((uint16_t)port)) {
        int rc = listener_errno();
        sl_error("cannot open the WebSocket listener on port %d: %s%s", cfg->ws_port, sl_error_message(rc),
                 rc == -EMFILE || rc == -ENFILE ? " (raise the open files limit, ulimit -n)" : "");
        lws_context_destroy(ws->ctx);
        free_ws(ws);
        return rc;
    }
    ws->port = (uint16_t)port;
    sl_broker_set_data_hook(b, on_data, ws);
    int rc = pthread_create(&ws->th, NULL, service_main, ws);
    if (rc) {
        sl_ws_stop(ws);
        return -rc;
    }
    *out = ws;
    return 0;
}

uint16_t sl_ws_port(const struct sl_ws *w)
{
    return w->port;
}

/* Waits (at most 10 s) until no produce or commit is outstanding on a broker thread. */
static bool wait_outstanding(struct sl_ws *ws)
{
    struct timespec dl;
    sl_clock_deadline(&dl, 10000);
    pthread_mutex_lock(&ws->mu);
    while (ws->outstanding)
        if (pthread_cond_timedwait(&ws->cv, &ws->mu, &dl))
            break;
    bool ok = ws->outstanding == 0;
    pthread_mutex_unlock(&ws->mu);
    return ok;
}

void sl_ws_stop(struct sl_ws *ws)
{
    if (!ws)
        return;
    if (ws->port) /* set together with the data hook */
        sl_broker_set_data_hook(ws->b, NULL, NULL); /* on return, on_data is done with ws */
    atomic_store(&ws->stop, true);
    if (ws->th) {
        lws_cancel_service(ws->ctx);
        pthread_join(ws->th, NULL);
    }
    bool quiet = wait_outstanding(ws);
    /* Destroying the context closes every socket (CLOSED runs here, on this thread: the service thread is
     * gone) and so leaves their groups. */
    lws_sul_cancel(&ws->tick);
    struct lws_context *ctx = ws->ctx;
    lws_context_destroy(ctx);
    pthread_mutex_lock(&ws->mu);
    ws->ctx = NULL;
    pthread_mutex_unlock(&ws->mu);
    sl_ws_drain(ws);
    sl_ws_cache_free(ws);
    sl_buf_fini(&ws->scratch);
    if (!quiet) {
        sl_warn("WebSocket server: produces still pending at stop; leaking its state");
        return;
    }
    free_ws(ws);
}
