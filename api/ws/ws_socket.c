/* One WebSocket socket's life in libwebsockets' protocol callback (sl_ws_callback; the states are listed in
 * api/ws/ws.c's header): the upgrade filter (query arguments, target URL, connection cap), establishment, the
 * reassembly of fragmented client messages with their UTF-8 check and receive budget, writes, and the close
 * handshake sluice starts. Service thread only (ws.c, invariant 1). */
#include "api/ws/ws_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common/budget.h"
#include "api/http/metrics.h"
#include "api/ws/ws_mask.h"
#include "server/logging.h"
#include "storage/err.h"

/* Query arguments: at most MAX_ARGS, each at most MAX_ARG_BYTES (name=value, decoded); more is refused with
 * 4414, never ignored. The longest value sluice reads is a group name (255 bytes); the rest of the room is for
 * what browsers and proxies append (cache busters, tokens). */
#define MAX_ARGS 32
#define MAX_ARG_BYTES 1024

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

/* The client sent a frame without the mask (RFC 6455 §5.1), which api/ws/ws_mask.c held back: nothing of it or
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
void sl_ws_close_unmasked(struct sl_ws *ws)
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
    sl_metrics_connection(ws->metrics, 1);
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
        sl_metrics_connection(ws->metrics, -1);
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

void sl_ws_rx_release(struct sl_ws_conn *c)
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
        sl_ws_rx_release(c);
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
        sl_ws_rx_release(c);
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

int sl_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *cx = lws_get_context(wsi);
    struct sl_ws *ws = cx ? lws_context_user(cx) : NULL;
    static struct sl_ws_conn *none; /* stays NULL: callbacks without session memory (listener, vhost) */
    struct sl_ws_conn **pss = user ? user : &none;
    sl_errctx_clear(); /* a 5xx close says what failed in this callback, never in an earlier one */
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
            sl_ws_drain(ws);
        break;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return ws ? sl_ws_confirm_upgrade(ws, wsi) : -1;
    case LWS_CALLBACK_HTTP: {
        /* Plain HTTP (api/ws/ws_mask.c reads what follows as the next request's head). Should the mask check
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
