/* The WebSocket server: one libwebsockets context and vhost, one service thread, the inbox other threads
 * use to reach it, and the per-socket outgoing queue. Sessions are in ws_consume.c and ws_produce.c.
 *
 * STATES (one socket)
 *   FILTER_PROTOCOL_CONNECTION: the URL is parsed into c->t (errors are kept and sent once established)
 *   ESTABLISHED: sl_wsc_open / sl_wsp_open (may fail the socket: error message, then close 4000+status)
 *   RECEIVE*: fragments reassembled into one message, then sl_wsc_message / sl_wsp_message
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
#include "api/ws_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/errmap.h"
#include "api/metrics.h"
#include "api/records.h"
#include "server/logging.h"
#include "storage/err.h"

#define MAX_ARGS 16

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sl_ws *hook_target; /* guarded by: hook_mu */
static bool hook_set;             /* guarded by: hook_mu */

int64_t sl_ws_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The broker's data hook (flusher, sync helper or producing thread). */
static void on_data(void *arg)
{
    pthread_mutex_lock(&hook_mu);
    struct sl_ws *ws = hook_target;
    if (ws) {
        atomic_store_explicit(&ws->data, true, memory_order_release);
        lws_cancel_service(ws->ctx);
    }
    pthread_mutex_unlock(&hook_mu);
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
    sl_buf_fini(&c->rx);
    free(c);
}

void sl_ws_rx_flow(struct sl_ws_conn *c)
{
    if (!c->wsi)
        return;
    bool pause = c->qlen + c->pending >= SL_WS_RX_PAUSE;
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
    sl_ws_fail(c, e->status, e->error_code, "%s", msg ? msg : e->message);
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
static void drain(struct sl_ws *ws)
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
    for (struct sl_ws_conn *c = ws->conns; c; c = c->next)
        if (c->wsi && c->t.kind == SL_WS_CONSUME && c->established)
            sl_wsc_tick(c, now);
    atomic_store(&ws->data, true); /* a safety net: re-check idle subscribers once a second */
    drain(ws);
    lws_sul_schedule(ws->ctx, 0, &ws->tick, on_tick, LWS_US_PER_SEC);
}

/* ---- the protocol callback ---- */

/* FILTER_PROTOCOL_CONNECTION: creates the conn, parses the URL. A parse error is reported once
 * established (a browser sees close codes, not HTTP statuses). */
static int on_filter(struct sl_ws *ws, struct lws *wsi, struct sl_ws_conn **pss)
{
    struct sl_ws_conn *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->ws = ws;
    c->wsi = wsi;
    c->refs = 1;
    c->last_rx_ms = sl_ws_now_ms();
    *pss = c;
    char path[512], frag[MAX_ARGS][300];
    const char *args[MAX_ARGS];
    size_t nargs = 0;
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) < 0) {
        sl_ws_fail(c, 414, 414, "Request URI too long.");
        return 0;
    }
    for (int i = 0; nargs < MAX_ARGS; i++) {
        if (lws_hdr_copy_fragment(wsi, frag[nargs], sizeof frag[nargs], WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            break;
        args[nargs] = frag[nargs];
        nargs++;
    }
    char err[200];
    int rc = sl_ws_target_parse(path, args, nargs, &c->t, err, sizeof err);
    if (rc == -ENOENT)
        sl_ws_fail(c, 404, 404, "%s", err);
    else if (rc)
        sl_ws_fail(c, 400, 400, "%s", err);
    else if (ws->nconns >= (size_t)ws->cfg->ws_max_connections)
        sl_ws_fail(c, 503, 50301, "Too many WebSocket connections (ws.max.connections=%d).",
                   (int)ws->cfg->ws_max_connections);
    return 0;
}

static void on_established(struct sl_ws *ws, struct sl_ws_conn *c)
{
    c->prev = NULL;
    c->next = ws->conns;
    if (ws->conns)
        ws->conns->prev = c;
    ws->conns = c;
    ws->nconns++;
    c->established = true;
    sl_metrics_connection(1);
    if (c->closing) {
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (c->t.kind == SL_WS_PRODUCE)
        sl_wsp_open(c);
    else
        sl_wsc_open(c);
}

static void on_closed(struct sl_ws *ws, struct sl_ws_conn *c)
{
    if (c->established) {
        if (c->t.kind == SL_WS_CONSUME)
            sl_wsc_close(c);
        if (c->prev)
            c->prev->next = c->next;
        else
            ws->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        ws->nconns--;
        sl_metrics_connection(-1);
    }
    c->wsi = NULL;
    sl_ws_conn_unref(c);
}

static int64_t max_message(const struct sl_ws *ws)
{
    return ws->cfg->rest_max_body_bytes;
}

static void on_receive(struct sl_ws_conn *c, const void *in, size_t len)
{
    struct lws *wsi = c->wsi;
    c->last_rx_ms = sl_ws_now_ms();
    if (!c->rx_in_msg) { /* the first piece of a message (lws_is_first_fragment is per frame, not piece) */
        c->rx.len = 0;
        c->rx_skip = false;
        c->rx_in_msg = true;
    }
    if (!c->rx_skip && c->rx.len + len > (size_t)max_message(c->ws)) {
        c->rx_skip = true; /* failed once the message has been read to its end (below) */
        c->rx.len = 0;
    }
    if (!c->rx_skip && sl_buf_append(&c->rx, in, len)) {
        c->rx_skip = true;
        sl_ws_fail(c, 500, 500, "Out of memory.");
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return;
    c->rx_in_msg = false;
    if (c->rx_skip) {
        /* Only now: closing while the client is still sending would leave its bytes unread, and the kernel
         * answers a close with unread data by a reset, which can destroy the error before the client reads
         * it. (A no-op after the out-of-memory failure: the connection is closing already.) */
        sl_ws_fail(c, 413, 413, "Message larger than %lld bytes.", (long long)max_message(c->ws));
        return;
    }
    if (c->closing)
        return;
    if (sl_buf_append(&c->rx, "", 1)) /* NUL-terminate for the parsers */
        return;
    c->rx.len--;
    if (c->t.kind == SL_WS_PRODUCE)
        sl_wsp_message(c, (const char *)c->rx.base, c->rx.len);
    else
        sl_wsc_message(c, (const char *)c->rx.base, c->rx.len);
    if (c->rx.cap > 65536) { /* do not keep a large buffer per idle socket */
        sl_buf_fini(&c->rx);
        c->rx = (struct sl_buf){0};
    } else {
        c->rx.len = 0;
    }
}

/* Returns -1 to close the socket. */
static int on_writeable(struct sl_ws_conn *c)
{
    struct lws *wsi = c->wsi;
    if (c->qhead) {
        struct sl_ws_msg *m = c->qhead;
        c->qhead = m->next;
        if (!c->qhead)
            c->qtail = NULL;
        c->qlen--;
        int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        free(m);
        sl_ws_rx_flow(c);
        if (n < 0)
            return -1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->closing) {
        lws_close_reason(wsi, (enum lws_close_status)c->close_code, NULL, 0);
        return -1;
    }
    if (c->t.kind == SL_WS_CONSUME && c->established && sl_wsc_write(c))
        lws_callback_on_writable(wsi);
    return c->closing && !c->qhead ? (lws_callback_on_writable(wsi), 0) : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *cx = lws_get_context(wsi);
    struct sl_ws *ws = cx ? lws_context_user(cx) : NULL;
    static struct sl_ws_conn *none; /* stays NULL: callbacks without session memory (listener, vhost) */
    struct sl_ws_conn **pss = user ? user : &none;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return user ? on_filter(ws, wsi, pss) : -1;
    case LWS_CALLBACK_ESTABLISHED:
        if (!*pss)
            return -1;
        on_established(ws, *pss);
        break;
    case LWS_CALLBACK_RECEIVE:
        if (*pss && (*pss)->wsi)
            on_receive(*pss, in, len);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (*pss && (*pss)->wsi)
            return on_writeable(*pss);
        break;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (*pss)
            (*pss)->last_rx_ms = sl_ws_now_ms();
        break;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (*pss) {
            on_closed(ws, *pss);
            *pss = NULL;
        }
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (ws)
            drain(ws);
        break;
    case LWS_CALLBACK_HTTP:
        if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "WebSocket endpoints only: /ws/v1/topics/{topic}"))
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    default:
        break;
    }
    return 0;
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
    {"sluice.v1", callback, sizeof(struct sl_ws_conn *), 4096, 0, NULL, TX_PACKET_SIZE},
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
    while (!atomic_load(&ws->stop))
        if (lws_service(ws->ctx, 0) < 0)
            break;
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

int sl_ws_start(const struct sl_config *cfg, struct sl_broker *b, struct sl_groups *g, struct sl_ws **out)
{
    struct sl_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return -ENOMEM;
    ws->cfg = cfg;
    ws->b = b;
    ws->g = g;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->cv, NULL);
    set_retry(ws);
    lws_set_log_level(LLL_ERR, on_lws_log);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->ws_port;
    info.protocols = protocols;
    info.extensions = extensions;
    info.retry_and_idle_policy = &ws->retry;
    info.timeout_secs = 10;
    info.user = ws;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.fd_limit_per_thread = fd_limit(cfg);
    ws->ctx = lws_create_context(&info);
    if (!ws->ctx) {
        sl_error("cannot start the WebSocket server on port %d", cfg->ws_port);
        free(ws);
        return -EADDRINUSE;
    }
    ws->vh = lws_get_vhost_by_name(ws->ctx, "default");
    ws->port = (uint16_t)(ws->vh ? lws_get_vhost_listen_port(ws->vh) : cfg->ws_port);
    pthread_mutex_lock(&hook_mu);
    hook_target = ws;
    if (!hook_set)
        sl_broker_set_data_hook(b, on_data, NULL);
    hook_set = true;
    pthread_mutex_unlock(&hook_mu);
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
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
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
    pthread_mutex_lock(&hook_mu);
    if (hook_target == ws)
        hook_target = NULL;
    pthread_mutex_unlock(&hook_mu);
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
    drain(ws);
    sl_ws_cache_free(ws);
    sl_buf_fini(&ws->scratch);
    if (!quiet) {
        sl_warn("WebSocket server: produces still pending at stop; leaking its state");
        return;
    }
    pthread_mutex_destroy(&ws->mu);
    pthread_cond_destroy(&ws->cv);
    free(ws);
}
