/* The WebSocket server: one libwebsockets context and vhost, one service thread, the inbox other threads
 * use to reach it, and the per-socket outgoing queue. Sessions are in ws_consume.c and ws_produce.c.
 *
 * STATES (one socket)
 *   FILTER_NETWORK_CONNECTION: the accepted fd is tracked by the mask check (api/ws_mask.h) until CLOSED
 *   FILTER_PROTOCOL_CONNECTION: the URL is parsed into c->t (errors are kept and sent once established)
 *   ESTABLISHED: sl_wsc_open / sl_wsp_open (may fail the socket: error message, then close 4000+status)
 *   RECEIVE*: fragments reassembled into one message, then sl_wsc_message / sl_wsp_message
 *   (an unmasked client frame never reaches RECEIVE: after the service round that held it back,
 *   close_unmasked closes the socket with 1002; on_established does so when it came with the upgrade)
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
#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/budget.h"
#include "api/errmap.h"
#include "api/metrics.h"
#include "api/records.h"
#include "api/ws_mask.h"
#include "server/logging.h"
#include "storage/err.h"

/* Query arguments: at most MAX_ARGS, each at most MAX_ARG_BYTES (name=value, decoded); more is refused with
 * 4414, never ignored. The longest value sluice reads is a group name (255 bytes); the rest of the room is for
 * what browsers and proxies append (cache busters, tokens). */
#define MAX_ARGS 32
#define MAX_ARG_BYTES 1024

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sl_ws *hook_target; /* guarded by: hook_mu */
static bool hook_set;             /* guarded by: hook_mu */

static void rx_release(struct sl_ws_conn *c);

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
    rx_release(c);
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
    for (struct sl_ws_conn *c = ws->conns; c; c = c->next) {
        if (c->wsi && c->rx_in_msg && !c->closing && now - c->rx_started_ms > ws->cfg->ws_idle_timeout_ms)
            sl_ws_fail(c, 408, 408, "Message not completed within %lld ms (ws.idle.timeout.ms).",
                       (long long)ws->cfg->ws_idle_timeout_ms);
        if (c->wsi && c->t.kind == SL_WS_CONSUME && c->established)
            sl_wsc_tick(c, now);
    }
    atomic_store(&ws->data, true); /* a safety net: re-check idle subscribers once a second */
    drain(ws);
    lws_sul_schedule(ws->ctx, 0, &ws->tick, on_tick, LWS_US_PER_SEC);
}

/* ---- the protocol callback ---- */

/* Copies the query arguments (each "name=value", URL-decoded) into malloc'd strings args[0, *nargs). Returns 0,
 * -E2BIG (more than MAX_ARGS arguments, or one longer than MAX_ARG_BYTES; err says which) or -ENOMEM. The
 * whole request must fit libwebsockets' header space (max_http_header_data, below); a longer one is dropped
 * by libwebsockets before this runs. */
static int copy_args(struct lws *wsi, char **args, size_t *nargs, char *err, size_t errlen)
{
    *nargs = 0;
    for (int i = 0;; i++) {
        int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        char probe[2];
        if (flen == 0 && lws_hdr_copy_fragment(wsi, probe, sizeof probe, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            return 0; /* no fragment i: the end */
        if (flen == 0)
            continue; /* an empty argument ("a=1&&b=2") */
        if (*nargs == MAX_ARGS) {
            snprintf(err, errlen, "Too many query parameters (at most %d).", MAX_ARGS);
            return -E2BIG;
        }
        char *a = malloc((size_t)flen + 1);
        if (!a)
            return -ENOMEM;
        if (lws_hdr_copy_fragment(wsi, a, flen + 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
            free(a);
            return -ENOMEM;
        }
        if (flen > MAX_ARG_BYTES) {
            size_t nl = strcspn(a, "=");
            snprintf(err, errlen, "Query parameter '%.*s' is longer than %d bytes.", (int)(nl > 60 ? 60 : nl), a,
                     MAX_ARG_BYTES);
            free(a);
            return -E2BIG;
        }
        args[(*nargs)++] = a;
    }
}

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
    char path[512], err[200];
    char *args[MAX_ARGS];
    size_t nargs = 0;
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) < 0) {
        sl_ws_fail(c, 414, 414, "Request URI too long.");
        return 0;
    }
    int rc = copy_args(wsi, args, &nargs, err, sizeof err);
    if (rc == 0)
        rc = sl_ws_target_parse(path, (const char *const *)args, nargs, &c->t, err, sizeof err);
    for (size_t i = 0; i < nargs; i++)
        free(args[i]);
    if (rc == -E2BIG)
        sl_ws_fail(c, 414, 414, "%s", err);
    else if (rc == -ENOMEM)
        sl_ws_fail_rc(c, rc, NULL);
    else if (rc == -ENOENT)
        sl_ws_fail(c, 404, 404, "%s", err);
    else if (rc)
        sl_ws_fail(c, 400, 400, "%s", err);
    else if (ws->nconns >= (size_t)ws->cfg->ws_max_connections)
        sl_ws_fail(c, 503, 50301, "Too many WebSocket connections (ws.max.connections=%d).",
                   (int)ws->cfg->ws_max_connections);
    return 0;
}

/* The client sent a frame without the mask (RFC 6455 §5.1), which api/ws_mask.c held back: nothing of it or
 * after it reaches libwebsockets, so it is not answered; the socket closes with 1002 once the replies queued
 * before it are out (send_close; the client's close cannot be read any more, so the wait is CLOSE_ACK_SECS). */
static void on_unmasked(struct sl_ws_conn *c)
{
    if (!c->wsi || c->closing)
        return;
    sl_debug("WebSocket %s: unmasked client frame, closing 1002", c->t.topic);
    c->closing = true;
    c->close_code = LWS_CLOSE_STATUS_PROTOCOL_ERR;
    lws_callback_on_writable(c->wsi);
}

/* Service thread, after a round in which recv() held back unmasked frames: closes those sockets. Sockets not
 * yet established are checked when they are (on_established). */
static void close_unmasked(struct sl_ws *ws)
{
    for (struct sl_ws_conn *c = ws->conns; c; c = c->next)
        if (c->wsi && sl_ws_mask_failed(lws_get_socket_fd(c->wsi)))
            on_unmasked(c);
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
    if (sl_ws_mask_failed(lws_get_socket_fd(c->wsi)))
        on_unmasked(c); /* an unmasked frame came with the upgrade request */
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

static size_t max_message(const struct sl_ws *ws)
{
    return (size_t)ws->cfg->ws_max_message_bytes;
}

/* Reassembly buffers up to this size stay with the socket between messages (charged to the budget); larger
 * ones are freed after their message, so idle sockets hold at most this much each. */
#define RX_KEEP 4096

/* Makes room for need bytes in c->rx, taking the growth from the buffer budget before allocating it.
 * Returns 0, -ENOBUFS (the budget is exhausted) or -ENOMEM. */
static int rx_reserve(struct sl_ws_conn *c, size_t need)
{
    if (need <= c->rx.cap)
        return 0;
    size_t cap = c->rx.cap ? c->rx.cap * 2 : RX_KEEP, hi = max_message(c->ws) + 1; /* + the NUL */
    if (cap > hi)
        cap = hi;
    if (cap < need)
        cap = need;
    if (!sl_budget_take(cap - c->rx.cap))
        return -ENOBUFS;
    uint8_t *p = realloc(c->rx.base, cap);
    if (!p) {
        sl_budget_give(cap - c->rx.cap);
        return -ENOMEM;
    }
    c->rx.base = p;
    c->rx.cap = cap;
    return 0;
}

static void rx_release(struct sl_ws_conn *c)
{
    sl_budget_give(c->rx.cap);
    sl_buf_fini(&c->rx);
    c->rx = (struct sl_buf){0};
}

/* Checks n more bytes of a text message for UTF-8 (RFC 3629: no overlongs, surrogates or code points above
 * U+10FFFF), carrying an unfinished sequence to the next piece in c. Returns false at the first bad byte. */
static bool utf8_ok(struct sl_ws_conn *c, const uint8_t *p, size_t n)
{
    uint8_t need = c->utf8_need, lo = c->utf8_lo, hi = c->utf8_hi;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (need) {
            if (b < lo || b > hi)
                return false;
            need--;
            lo = 0x80;
            hi = 0xBF;
            continue;
        }
        lo = 0x80;
        hi = 0xBF;
        if (b < 0x80)
            continue;
        if (b >= 0xC2 && b <= 0xDF)
            need = 1;
        else if (b >= 0xE0 && b <= 0xEF)
            need = 2, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
        else if (b >= 0xF0 && b <= 0xF4)
            need = 3, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
        else
            return false;
    }
    c->utf8_need = need;
    c->utf8_lo = lo;
    c->utf8_hi = hi;
    return true;
}

/* A message over ws.max.message.bytes whose frame announces at most this many times the limit in all is read
 * to its end and dropped (nothing buffered) before it is refused; one announcing more is refused at once. Why
 * read at all: closing while the client is still sending leaves its bytes unread, and the kernel answers a
 * close with unread data by a reset, which can destroy the error before the client reads it (the lws test
 * client lost it 3 times in 5 when a 120 KB message was refused at once). */
#define RX_DRAIN_FACTOR 4

/* One piece of a client message (at most rx_buffer_size bytes; a frame larger than that arrives in several).
 * A message is refused as soon as what arrived plus what its current frame still announces passes
 * ws.max.message.bytes, before anything more is buffered: a frame announcing 2^40 bytes is refused on its
 * first piece. */
static void on_receive(struct sl_ws_conn *c, const void *in, size_t len)
{
    struct lws *wsi = c->wsi;
    int64_t now = sl_ws_now_ms();
    c->last_rx_ms = now;
    if (c->closing)
        return; /* failed: the rest is dropped */
    if (!c->rx_in_msg) { /* the first piece of a message (lws_is_first_fragment is per frame, not piece) */
        c->rx.len = 0;
        c->rx_in_msg = true;
        c->rx_started_ms = now;
        c->rx_skip = false;
        c->rx_dropped = 0;
        c->rx_binary = lws_frame_is_binary(wsi);
        c->utf8_need = 0;
    }
    size_t limit = max_message(c->ws), rest = lws_remaining_packet_payload(wsi);
    bool end = lws_is_final_fragment(wsi) && !rest;
    if (!c->rx_skip && (len > limit - c->rx.len || rest > limit - c->rx.len - len)) {
        c->rx_skip = true;
        c->rx_dropped = c->rx.len;
        rx_release(c);
    }
    if (c->rx_skip) {
        c->rx_dropped += len;
        if (end || c->rx_dropped + rest > (uint64_t)limit * RX_DRAIN_FACTOR) {
            c->rx_in_msg = false;
            sl_ws_fail(c, 413, 413, "Message larger than %zu bytes (ws.max.message.bytes).", limit);
        }
        return;
    }
    int rc = rx_reserve(c, c->rx.len + len + 1);
    if (rc) {
        sl_ws_fail_rc(c, rc, NULL);
        return;
    }
    memcpy(c->rx.base + c->rx.len, in, len);
    c->rx.len += len;
    if (!c->rx_binary && (!utf8_ok(c, in, len) || (end && c->utf8_need))) {
        sl_ws_fail(c, 400, 400, "Text message is not valid UTF-8.");
        c->close_code = LWS_CLOSE_STATUS_INVALID_PAYLOAD; /* 1007, as RFC 6455 §8.1 asks */
        return;
    }
    if (!end)
        return;
    c->rx_in_msg = false;
    c->rx.base[c->rx.len] = '\0'; /* NUL-terminated for the parsers */
    if (c->t.kind == SL_WS_PRODUCE)
        sl_wsp_message(c, (const char *)c->rx.base, c->rx.len);
    else
        sl_wsc_message(c, (const char *)c->rx.base, c->rx.len);
    if (c->rx.cap > RX_KEEP)
        rx_release(c);
    else
        c->rx.len = 0;
}

/* WS_SERVER_DROP_PROTOCOL: libwebsockets is about to close c, before it decides whether to send a close
 * frame (it sends one only when a close reason was set). When neither sluice (c->closing) nor the client
 * (c->peer_closed) asked for the close, the peer is still there (not EOF or reset) and it was not silent for
 * the idle timeout (libwebsockets' ping hang-up), libwebsockets closes because of a framing error it found
 * itself. 4.1.6 then drops the TCP connection without a close frame for some of them (a control frame with a
 * 16- or 64-bit length, i.e. over 125 bytes: RFC 6455 §5.5), so the client saw 1006; set 1002 (protocol
 * error) so the close frame goes out. */
static void on_drop(struct sl_ws *ws, struct sl_ws_conn *c)
{
    if (!c->wsi || !c->established || c->closing || c->peer_closed || atomic_load(&ws->stop))
        return;
    if (sl_ws_now_ms() - c->last_rx_ms >= (int64_t)ws->retry.secs_since_valid_hangup * 1000)
        return;
    char b;
    ssize_t n = recv(lws_get_socket_fd(c->wsi), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        return;
    static const char why[] = "protocol error";
    lws_close_reason(c->wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)why, sizeof why - 1);
}

/* How long a socket that sent its close frame waits for the client's (RFC 6455 §7.1.1: the server should not
 * close TCP first, so that the client reads what came before). */
#define CLOSE_ACK_SECS 1

int sl_ws_write_close(struct lws *wsi, int code)
{
    unsigned char buf[LWS_PRE + 2];
    buf[LWS_PRE] = (unsigned char)(code >> 8);
    buf[LWS_PRE + 1] = (unsigned char)code;
    return lws_write(wsi, buf + LWS_PRE, 2, (enum lws_write_protocol)4 /* LWS_WRITE_CLOSE */) < 0 ? -EIO : 0;
}

/* The last step of a close sluice started, once the queue is flushed: sends the close frame (c->close_code),
 * then keeps reading (and dropping) until the client's close frame arrives (WS_PEER_INITIATED_CLOSE then
 * ends the connection) or CLOSE_ACK_SECS pass. libwebsockets' own path (lws_close_reason() and return -1)
 * closed TCP right after the close frame: undici's WebSocket (Node's), still inflating the permessage-deflate
 * error frame that came before, then saw neither it nor the close code, only 1006 (3 runs of 3). The frame is
 * written as opcode 8 through lws_write (LWS_WRITE_CLOSE, 4, which lws-write.h leaves out of its public enum
 * because lws_close_reason() normally does this). Returns 0, or -1 to close at once (the write failed). */
static int send_close(struct sl_ws_conn *c)
{
    if (c->close_sent)
        return 0;
    if (sl_ws_write_close(c->wsi, c->close_code))
        return -1;
    c->close_sent = true;
    if (c->rx_paused) {
        c->rx_paused = false;
        lws_rx_flow_control(c->wsi, 1); /* the client's close must be read */
    }
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_ACK_SECS);
    return 0;
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
    if (c->closing)
        return send_close(c);
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
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        sl_ws_mask_track((int)(intptr_t)in); /* the accepted socket, before anything is read from it */
        break;
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
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (!*pss)
            return 0;
        (*pss)->peer_closed = true;
        if ((*pss)->close_sent)
            return -1; /* the answer to our close: end without echoing it */
        return sl_ws_peer_close_ok(in, len) ? 0 : (sl_ws_write_close(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR), -1);
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
        if (*pss)
            on_drop(ws, *pss);
        break;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (*pss)
            (*pss)->last_rx_ms = sl_ws_now_ms();
        break;
    case LWS_CALLBACK_CLOSED_HTTP:
        sl_ws_mask_untrack(lws_get_socket_fd(wsi));
        break;
    case LWS_CALLBACK_CLOSED:
        sl_ws_mask_untrack(lws_get_socket_fd(wsi)); /* before libwebsockets closes the fd */
        /* fall through */
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
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return ws ? sl_ws_confirm_upgrade(ws, wsi) : -1;
    case LWS_CALLBACK_HTTP: {
        /* Plain HTTP (api/ws_mask.c reads what follows as the next request's head). Should the mask check
         * still have cut this connection (a body that looked like an upgrade head), it cannot go on: answer,
         * then hang up. */
        bool cut = sl_ws_mask_failed(lws_get_socket_fd(wsi));
        if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "WebSocket endpoints only: /ws/v1/topics/{topic}"))
            return -1;
        return cut || lws_http_transaction_completed(wsi) ? -1 : 0;
    }
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
    while (!atomic_load(&ws->stop)) {
        if (lws_service(ws->ctx, 0) < 0)
            break;
        if (sl_ws_mask_take_failures())
            close_unmasked(ws);
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

int sl_ws_start(const struct sl_config *cfg, struct sl_broker *b, struct sl_groups *g, uint16_t rest_port,
                struct sl_ws **out)
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
        sl_error("cannot open the WebSocket listener on port %d: %s%s", cfg->ws_port, sl_strerror(rc),
                 rc == -EMFILE || rc == -ENFILE ? " (raise the open files limit, ulimit -n)" : "");
        lws_context_destroy(ws->ctx);
        free_ws(ws);
        return rc;
    }
    ws->port = (uint16_t)port;
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
    free_ws(ws);
}
