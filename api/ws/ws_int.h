/* Internals shared by api/ws/ws.c (context, service thread, inbox, outgoing queue), api/ws/ws_consume.c
 * (subscribers and the shared frame cache) and api/ws/ws_produce.c (producers). Not for other files.
 *
 * OWNERSHIP: a struct sl_ws_conn is heap-allocated per socket and reference-counted on the service thread
 * only: the socket holds one reference until LWS_CALLBACK_CLOSED (then c->wsi = NULL), every pending produce
 * or commit holds one until the service thread takes its completion from the inbox.
 *
 * THREADS: everything here is service-thread-only except the fields marked atomic and the inbox (ws->mu). */
#ifndef SL_API_WS_INT_H
#define SL_API_WS_INT_H

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>

#include "api/ws/ws.h"
#include "storage/clock.h"

#define SL_WS_FRAME_RECORDS 512      /* most records in one pushed frame */
#define SL_WS_FRAME_BYTES (256u << 10) /* key + value budget of one pushed frame */
#define SL_WS_CACHE_SLOTS 8          /* frames remembered per (topic, partition, format) */
#define SL_WS_RX_PAUSE 64            /* queued replies + pending requests that pause reading a socket */

/* One outgoing message, with LWS_PRE bytes of headroom before data. */
struct sl_ws_msg {
    struct sl_ws_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len */
};

/* A read position of a subscriber on one partition. */
struct sl_ws_cursor {
    uint32_t topic;       /* index into conn->topics */
    int32_t partition;
    sl_offset_t next;     /* next offset to push */
    sl_offset_t acked;    /* everything below is acknowledged */
    bool revoked;         /* a pending rebalance takes it away: no more pushes (commits still go) */
};

struct sl_ws;

struct sl_ws_conn {
    struct sl_ws *ws;
    struct lws *wsi;          /* NULL once closed */
    int refs;
    struct sl_ws_conn *next, *prev; /* ws->conns */
    struct sl_ws_target t;
    bool established;
    /* closing: the queue drains, then the socket closes with close_code */
    bool closing;
    int close_code;
    bool close_sent;          /* our close frame is out: waiting for the client's (ws.c send_close) */
    /* outgoing control messages (sent before records) */
    struct sl_ws_msg *qhead, *qtail;
    size_t qlen;
    size_t pending;           /* produce/commit requests not yet answered */
    bool rx_paused;
    /* incoming message reassembly; rx.cap bytes are taken from the buffer budget (api/common/budget.h) */
    struct sl_buf rx;
    bool rx_in_msg;           /* pieces of a message are arriving */
    int64_t rx_started_ms;    /* when its first piece arrived: it must end within ws.idle.timeout.ms */
    bool rx_skip;             /* the message is too large: its rest is read and dropped, then 4413 */
    uint64_t rx_dropped;      /* bytes of it dropped so far */
    bool rx_binary;           /* the message is binary (text is checked for UTF-8 here, not by libwebsockets) */
    uint8_t utf8_need, utf8_lo, utf8_hi; /* UTF-8 check across pieces: continuation bytes due, next byte's range */
    bool peer_closed;         /* the client sent a close frame */
    int64_t last_rx_ms;
    int64_t valid_ms;         /* last lws_validity_confirmed (rate-limited: it re-sorts lws's timer list) */
    /* subscriber */
    char **topics;            /* owned; the subscription */
    size_t ntopics;
    struct sl_ws_cursor *cur; /* owned */
    size_t ncur;
    size_t rr;                /* round-robin start */
    int64_t max_in_flight;
    int64_t credit;           /* pull mode: records the client asked for */
    bool want_data;           /* found nothing to send: wake on new data */
    bool started;             /* cursors positioned (and, in a group, the assignment sent) */
    int64_t window_full_since;/* ms when the window filled, 0 = not full */
    /* group membership */
    char member[SL_MEMBER_ID_MAX + 1];
    bool joined;
    atomic_bool rebalance;    /* set by on_event (coordinator thread) */
    atomic_bool revoke;       /* likewise: a pending rebalance takes partitions away */
    atomic_bool expired;
    uint64_t generation;
    int64_t last_touch_ms;
};

/* A completion travelling from a broker thread to the service thread. */
struct sl_ws_op {
    struct sl_ws_op *next;
    struct sl_ws_conn *c;     /* holds a reference */
    void (*complete)(struct sl_ws_op *op); /* service thread; frees op */
};

struct sl_ws_feed;

struct sl_ws {
    const struct sl_config *cfg;
    struct sl_broker *b;
    struct sl_groups *g;
    struct sl_metrics *metrics; /* borrowed (sl_ws_start): the /metrics counters, shared with the REST server */
    struct lws_context *ctx;
    struct lws_vhost *vh;
    pthread_t th;
    atomic_bool stop;
    uint16_t port;
    uint16_t rest_port;       /* the REST server's port: its pages' origin is allowed */
    struct sl_origins origins; /* cors.allowed.origins, checked on every upgrade */
    lws_retry_bo_t retry;
    lws_sorted_usec_list_t tick;
    /* inbox */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct sl_ws_op *inbox;   /* guarded by: mu */
    size_t outstanding;       /* guarded by: mu; ops started, not yet completed by a broker thread */
    atomic_bool data;         /* some HW advanced */
    uint64_t wake_gen;        /* service thread: data wakes drained so far (ws_cache.c's staleness clock) */
    atomic_bool groups_dirty; /* some member has a rebalance or expiry flag */
    /* service thread */
    struct sl_ws_conn *conns;
    size_t nconns;
    struct sl_ws_feed *feeds;
    struct sl_buf scratch;
};

/* Monotonic ms for the WebSocket server's deadlines, from the one clock seam (storage/clock.h). */
static inline int64_t sl_ws_now_ms(void)
{
    return sl_clock_mono_ms(&sl_clock_posix);
}

/* ---- ws.c ---- */
void sl_ws_conn_ref(struct sl_ws_conn *c);
void sl_ws_conn_unref(struct sl_ws_conn *c);
/* Queues a text message (copied) for c and asks for a writable callback. Returns 0 or -ENOMEM. */
int sl_ws_send(struct sl_ws_conn *c, const char *text, size_t len);
/* Queues {"type":"error",["id":id,]"error_code":code,"message":msg}; id is raw JSON or NULL. */
void sl_ws_send_error(struct sl_ws_conn *c, const char *id, int code, const char *msg);
/* Sends an error, then closes with 4000 + status once the queue is flushed. */
void sl_ws_fail(struct sl_ws_conn *c, unsigned status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Fails c with the error map's entry for rc. */
void sl_ws_fail_rc(struct sl_ws_conn *c, int rc, const char *msg);
/* Counts an operation a broker thread will complete (sl_ws_post). */
void sl_ws_op_begin(struct sl_ws *ws);
/* Any thread: hands op to the service thread and wakes it. */
void sl_ws_post(struct sl_ws *ws, struct sl_ws_op *op);
/* Pauses or resumes reading c according to its backlog. */
void sl_ws_rx_flow(struct sl_ws_conn *c);

/* Runs every queued completion (sl_ws_post) on the service thread. */
void sl_ws_drain(struct sl_ws *ws);

/* ---- ws_socket.c: one socket in libwebsockets' protocol callback ---- */
/* The "sluice.v1" protocol callback. Service thread. */
int sl_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/* After a service round in which recv() held back unmasked frames (api/ws/ws_mask.h): closes those sockets with
 * 1002. Sockets not yet established are checked when they are. */
void sl_ws_close_unmasked(struct sl_ws *ws);
/* Frees c's reassembly buffer (the receive budget it held is returned). */
void sl_ws_rx_release(struct sl_ws_conn *c);

/* Writes a close frame with code (no reason) through lws_write; libwebsockets does not close the connection
 * for it. Service thread, inside a callback of wsi. Returns 0 or -EIO. */
int sl_ws_write_close(struct lws *wsi, int code);

/* ---- ws_frames.c: RFC 6455 checks libwebsockets 4.1.6 does not make (the mask bit: api/ws/ws_mask.h) ---- */
/* Whether a client close frame's payload (in, len) is valid (RFC 6455 §5.5.1, §7.4): empty, or a code sent on
 * the wire (1000-1003, 1007-1014, 3000-4999) and a reason. A 1-byte payload or another code is a protocol
 * error: answered with 1002, not echoed. Pure. */
bool sl_ws_peer_close_ok(const void *in, size_t len);

/* ---- ws_consume.c ---- */
/* The socket is established: resolve the topic, join the group, position cursors. */
void sl_wsc_open(struct sl_ws_conn *c);
/* One complete client message. */
void sl_wsc_message(struct sl_ws_conn *c, const char *msg, size_t len);
/* Writable and no control message queued: pushes at most one frame. Returns true when more may follow. */
bool sl_wsc_write(struct sl_ws_conn *c);
/* The socket closed: leave the group. */
void sl_wsc_close(struct sl_ws_conn *c);
/* Periodic (1 s): touch group membership, close sockets that stopped acknowledging. */
void sl_wsc_tick(struct sl_ws_conn *c, int64_t now);
/* Handles revoke/rebalance/expiry flags. */
void sl_wsc_group_events(struct sl_ws_conn *c);

/* ---- ws_cache.c: rendered frames shared by subscribers at the same position ---- */
struct sl_ws_frame {
    sl_offset_t from, next;   /* records [from, next) */
    size_t count;             /* records in the frame */
    size_t bytes;             /* key + value bytes, for metrics */
    size_t len;               /* text length after the LWS_PRE headroom */
    unsigned char *buf;       /* owned: LWS_PRE + len */
    sl_offset_t hw;           /* the HW read just before rendering */
    uint64_t gen;             /* ws->wake_gen when rendered */
};
/* True when a subscriber that just pushed fr has everything below the HW: no data wake was drained since fr
 * was rendered (ws->wake_gen), and fr ends at the HW read before rendering. Anything appended later fires the
 * data hook, whose drain runs after the current callback and wakes subscribers that set want_data. */
static inline bool sl_ws_frame_at_hw(const struct sl_ws *ws, const struct sl_ws_frame *fr)
{
    return fr->gen == ws->wake_gen && fr->next >= fr->hw;
}
/* The frame {"type":"records","records":[...]} of topic/partition in format fmt starting at 'from', with at
 * most max_records records (> 0): a cached one when a subscriber already asked for it, else rendered (and
 * cached). *out is NULL when there is nothing at 'from' yet; a feed remembers that answer until the next data
 * wake is drained (ws->wake_gen), so the subscribers of one feed cost one fetch per wake, not one each.
 * The frame stays valid until the next call.
 * Returns 0, SL_EOFFSET (from outside [log start, HW]), SL_ENOTOPIC, SL_ENOPART, SL_EFAILED, -ENOMEM. */
int sl_ws_cache_get(struct sl_ws *ws, const char *topic, int32_t partition, enum sl_fmt fmt, sl_offset_t from,
                    size_t max_records, const struct sl_ws_frame **out);
void sl_ws_cache_free(struct sl_ws *ws);

/* ---- ws_handshake.c ---- */
/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: checks the upgrade request (Sec-WebSocket-Version, Origin). Returns 0 (go
 * on with the upgrade), 1 (refused: an HTTP error response was written) or -1 (hang up). */
int sl_ws_confirm_upgrade(struct sl_ws *ws, struct lws *wsi);

/* ---- ws_produce.c ---- */
void sl_wsp_open(struct sl_ws_conn *c);
void sl_wsp_message(struct sl_ws_conn *c, const char *msg, size_t len);

#endif
