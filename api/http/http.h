/* FOLDER api/http/: the HTTP machinery of the REST port -- the front listener (front.c), the HTTP/1.1 head and
 * chunked checks (http1.c, http_track.c, http_guard.c, refuse.c, recv_hook.c), the libmicrohttpd core and the
 * per-request API handlers use (this header), suspends and waits (http_wait.c), connection deadlines (conns.c),
 * the route table (router.c), content negotiation (negotiate.c) and the /metrics counters (metrics.c). It knows
 * no resource: those are api/rest/.
 *
 * Per-request state and helpers for REST handlers (libmicrohttpd underneath; handlers never see it).
 *
 * A handler is registered on the router (api/http/router.h) and reads: parse -> validate -> call -> reply. It runs
 * on a libmicrohttpd pool thread, once the whole body has arrived (or chunk by chunk in streaming-body mode),
 * and must end in exactly one of:
 *   - a reply:   sl_http_reply_json / _buf / _copy / _empty / _error / _rc / _stream;
 *   - a suspend: sl_http_suspend(req, deadline, on_resume) -- the request parks without blocking a thread
 *                and on_resume runs later on a pool thread, where again it replies or suspends.
 * Returning without either is a bug, answered 500.
 *
 * STATES (one request; transitions under the request's mutex)
 *
 *     RUNNING --sl_http_suspend--> SUSPENDED --resume / deadline / stop--> RESUMING --pool thread--> RUNNING
 *        |                                                                             (on_resume runs)
 *        +--reply--> REPLIED --response sent or connection lost--> DONE (NOTIFY_COMPLETED)
 *
 * INVARIANTS
 *   1. on_resume runs at most once per sl_http_suspend, on a pool thread, never concurrently with a handler
 *      of the same request.
 *   2. sl_http_resume on a request that is RUNNING records a pending wake: the next sl_http_suspend parks
 *      and resumes at once, so a wake that races ahead of the suspend is never lost. Wakes can therefore be
 *      spurious: on_resume re-checks its condition (and may suspend again with the same deadline).
 *   3. After DONE, sl_http_resume and sl_http_stream_wake are no-ops. The request's memory (and its user
 *      data) lives until the last reference is dropped: a foreign thread that may call sl_http_resume later
 *      holds a reference (sl_http_ref) and drops it (sl_http_unref) when it no longer can.
 *   4. Once the server is stopping (sl_rest_stop), every suspended request is resumed with
 *      SL_HTTP_WAKE_STOPPING and sl_http_suspend returns SL_ESTOPPED: the handler answers (503 or an empty
 *      long poll) instead of waiting.
 *
 * THREADS: a struct sl_req is used by its handler on pool threads only, except sl_http_resume,
 * sl_http_stream_wake, sl_http_ref and sl_http_unref, which are safe from any thread (broker callbacks,
 * flusher, timers). Everything returned by an accessor is valid until the request's handler returns for the
 * last time (i.e. until it replies), unless stated otherwise. jansson values never leave the thread. */
#ifndef SL_API_HTTP_H
#define SL_API_HTTP_H

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sl_broker;
struct sl_config;
struct sl_groups;
struct sl_metrics;
struct sl_quorum;
struct sl_router;

/* What every handler may reach: the server's shared context. One per REST server; lives from sl_rest_start
 * to sl_rest_stop. Fields are set before the first request and read-only afterwards, except where noted. */
struct sl_api {
    const struct sl_config *cfg;
    struct sl_broker *broker;
    struct sl_groups *groups;   /* the coordinator main opened, borrowed (sl_rest_start); never NULL */
    struct sl_quorum *quorum;   /* the metadata quorum, borrowed (sl_rest_start); NULL on a one-node cluster */
    struct sl_metrics *metrics; /* the /metrics counters main created, borrowed (sl_rest_start); never NULL */
    struct sl_router *router;
    _Atomic uint16_t rest_port; /* atomic: the bound port, stored once the front listens, when its threads
                                 * (and libmicrohttpd's) already run; 0 before */
    /* "http://<advertised.host>:<rest_port>": the base of every URL sluice returns, never built from a
     * request's Host header (which the client controls). Published with a release store once the port is
     * known; read it with sl_api_base_url. */
    _Atomic(const char *) base_url;
    char base_url_buf[320];
    char advertised_host[256]; /* its host part, without brackets; written before base_url is published */
    _Atomic uint16_t ws_port;   /* atomic; 0 until sl_rest_set_ws_port */
    int64_t started_ms;         /* wall clock at start, for uptime */
};

/* api->base_url, or "http://localhost" for a request that raced the start (before the port was known). */
static inline const char *sl_api_base_url(struct sl_api *api)
{
    const char *u = atomic_load(&api->base_url);
    return u ? u : "http://localhost";
}

/* api->advertised_host, read after the acquire load that publishes it. */
static inline const char *sl_api_advertised_host(struct sl_api *api)
{
    return atomic_load(&api->base_url) ? api->advertised_host : "localhost";
}

/* One HTTP request; opaque. */
struct sl_req;

/* ---- reading the request ---- */

struct sl_api *sl_http_api(struct sl_req *req);
/* "GET", "POST", ... */
const char *sl_http_method(struct sl_req *req);
/* The request path, percent-decoded by libmicrohttpd, without the query string. */
const char *sl_http_path(struct sl_req *req);
/* The route pattern that matched ("/topics/{t}"), or "" when none did. Static lifetime. */
const char *sl_http_route(struct sl_req *req);
/* The value of path parameter {name} of the matched route, or NULL. */
const char *sl_http_param(struct sl_req *req, const char *name);
/* The decoded value of query argument name (?name=value), NULL when absent, "" for a bare ?name. */
const char *sl_http_query(struct sl_req *req, const char *name);
/* A request header (case-insensitive name), or NULL. */
const char *sl_http_header(struct sl_req *req, const char *name);
/* The buffered body and its length (NUL-terminated at body[len] for convenience; "" when there is none).
 * Empty in streaming-body mode. */
const char *sl_http_body(struct sl_req *req, size_t *len);
/* True when the request's Content-Type media type (parameters ignored, case-insensitive) equals mt. */
bool sl_http_content_type_is(struct sl_req *req, const char *mt);
/* True when the request has a JSON Content-Type: application/json or any application/...+json (the
 * Confluent vnd.kafka types), or when it has no Content-Type at all. */
bool sl_http_content_type_json(struct sl_req *req);
/* The same test on a Content-Type header value (NULL: absent). */
bool sl_http_ctype_json(const char *content_type);

/* Parses the buffered body as one JSON value of the given jansson type (JSON_OBJECT, JSON_ARRAY, ...; -1 =
 * any). On failure it replies itself -- 400 {"error_code":400,"message":"Malformed JSON: ..."} for bad JSON or
 * an empty body, 400 "... must be a JSON object" for the wrong type -- and returns NULL; the handler then
 * just returns. Returns a new reference the caller decrefs. */
json_t *sl_http_body_json(struct sl_req *req, int type);

/* Parses a query argument as a signed 64-bit decimal in [min, max]. Returns 0 and *out (dflt when absent),
 * or replies 400 naming the argument and returns SL_ECONFIG (the handler then returns). */
int sl_http_query_i64(struct sl_req *req, const char *name, int64_t dflt, int64_t min, int64_t max, int64_t *out);
/* Parses a path parameter as a partition id (0..INT32_MAX). Returns 0 and *out, or replies
 * 404/40402 "Partition not found." and returns SL_ENOPART. */
int sl_http_param_partition(struct sl_req *req, const char *name, int32_t *out);

/* ---- per-request user data ---- */

/* Attaches data to req; free_fn (may be NULL) runs when the last reference to req is dropped, on whichever
 * thread drops it. Replaces (and frees) any previous data. */
void sl_http_set_data(struct sl_req *req, void *data, void (*free_fn)(void *data));
void *sl_http_data(struct sl_req *req);

/* ---- replying (pool thread, in the handler or in on_resume; exactly once) ---- */

/* Adds a response header to the reply that follows (e.g. Location). Both strings are copied. */
void sl_http_add_header(struct sl_req *req, const char *name, const char *value);

/* Replies status with j serialized compactly, Content-Type application/json (or the type set by
 * sl_http_set_reply_type). Steals j (also on error). Returns 0, or -EIO when the connection is gone or the
 * reply could not be queued (the connection is closed; nothing else to do). */
int sl_http_reply_json(struct sl_req *req, unsigned status, json_t *j);
/* Replies status with len bytes of buf; takes ownership of the malloc'd buf (freed by the server). */
int sl_http_reply_buf(struct sl_req *req, unsigned status, const char *content_type, char *buf, size_t len);
/* Replies status with a copy of len bytes of p. */
int sl_http_reply_copy(struct sl_req *req, unsigned status, const char *content_type, const void *p, size_t len);
/* Replies status with no body (204, ...). */
int sl_http_reply_empty(struct sl_req *req, unsigned status);
/* Replies status with {"error_code":error_code,"message":<printf fmt>}, as application/json, or on a v2
 * route in the negotiated type (as the Confluent REST Proxy does). */
int sl_http_reply_error(struct sl_req *req, unsigned status, int error_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Replies the HTTP status and Confluent error_code that api/common/errmap.h gives for the sluice code rc, with the
 * message fmt (NULL: the table's default message, e.g. "Topic not found."). */
int sl_http_reply_rc(struct sl_req *req, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Every 5xx answer (sl_http_reply_error, sl_http_reply_rc) carries what failed after its message, as
 * "message (fdatasync /data/t-0/00000000000000000000.log: Input/output error)", and is logged with it. The
 * context is the one set here (copied; for a failure that happened on another thread, e.g. a produce the
 * flusher failed), else the replying thread's sl_errctx (storage/err.h), which the dispatcher clears before
 * each handler call. NULL or "" forgets a context set before. */
void sl_http_set_context(struct sl_req *req, const char *context);
/* Content-Type used by sl_http_reply_json (default "application/json"; on the v2 routes the type negotiated
 * from Accept, api/http/negotiate.h, which error replies then use as well); the string must be static. */
void sl_http_set_reply_type(struct sl_req *req, const char *content_type);
const char *sl_http_reply_type(struct sl_req *req);
/* True once a reply was queued. */
bool sl_http_replied(struct sl_req *req);

/* ---- suspend / resume ---- */

enum sl_http_wake {
    SL_HTTP_WAKE_RESUMED,  /* sl_http_resume was called (possibly spuriously: re-check) */
    SL_HTTP_WAKE_TIMEOUT,  /* the deadline passed */
    SL_HTTP_WAKE_STOPPING, /* the server is stopping: reply now, do not suspend again */
};
typedef void (*sl_http_resume_fn)(struct sl_req *req, enum sl_http_wake why);

/* Monotonic clock in milliseconds, the clock of deadlines. */
int64_t sl_http_now_ms(void);
/* Wall clock in milliseconds since the epoch (record timestamps). */
int64_t sl_http_wall_ms(void);

/* Parks req without blocking the thread until sl_http_resume, the deadline (absolute, sl_http_now_ms() clock;
 * <= 0: none) or server stop, then runs on_resume(req, why) on a pool thread. Call from the handler (or from
 * on_resume) only, as its last action on req. Returns 0, or SL_ESTOPPED when the server is stopping (not
 * suspended: reply instead), or -EINVAL when already replied. */
int sl_http_suspend(struct sl_req *req, int64_t deadline_ms, sl_http_resume_fn on_resume);
/* Wakes req: on_resume(req, SL_HTTP_WAKE_RESUMED) follows on a pool thread. Any thread. No-op when the
 * request is done; a pending wake when it is running (INVARIANT 2). The caller must hold a reference or
 * otherwise know req is alive (e.g. it is unwatched by on_resume before the reply). */
void sl_http_resume(struct sl_req *req);
/* Reference counting of the request's memory (not of the connection). Any thread. */
void sl_http_ref(struct sl_req *req);
void sl_http_unref(struct sl_req *req);
/* True once the server is stopping. Any thread. */
bool sl_http_stopping(struct sl_req *req);

/* ---- streaming responses (chunked; v3 streaming produce reports, SSE) ---- */

#define SL_HTTP_STREAM_END ((ssize_t)-1)   /* the response is complete */
#define SL_HTTP_STREAM_ERROR ((ssize_t)-2) /* abort the connection */
/* Fills up to max bytes of buf. Returns the bytes written (> 0), 0 when nothing is available yet (the
 * response parks until sl_http_stream_wake; no busy loop), SL_HTTP_STREAM_END or SL_HTTP_STREAM_ERROR. Runs
 * on a pool thread; must not block. When sl_http_stopping(req), it should end the stream. */
typedef ssize_t (*sl_http_stream_fn)(struct sl_req *req, char *buf, size_t max);

/* Replies status with a chunked body produced by read (see above). Counts as the reply. Returns 0 or -EIO. */
int sl_http_reply_stream(struct sl_req *req, unsigned status, const char *content_type, sl_http_stream_fn read);
/* Tells a parked stream that data is available: read is called again soon. Any thread; a wake while the
 * stream is not parked is remembered; no-op after DONE. The caller must keep req alive (hold a reference). */
void sl_http_stream_wake(struct sl_req *req);
/* Asks that a stream which parks (its read returned 0) be woken at deadline_ms (absolute, sl_http_now_ms()
 * clock) if nothing woke it before: read is then called again (SSE heartbeats). Replaces the previous
 * deadline; <= 0 clears it. Call from read, on its pool thread. */
void sl_http_stream_wake_at(struct sl_req *req, int64_t deadline_ms);

#endif
