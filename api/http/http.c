/* Per-request state, the libmicrohttpd access handler (dispatch through the router), body handling, CORS
 * and reply helpers. Suspend/resume, the deadline timer and streaming replies are in api/http/http_wait.c.
 *
 * BODY HANDLING (libmicrohttpd calls the access handler: once with headers, N times with body chunks, once
 * more with none; replies may be queued only in the first or the final call):
 *   1. first call: match the route; 404/405 and CORS preflights are answered at once; a Content-Length above
 *      rest.max.body.bytes is answered 413 before the body is read, one the buffer budget (api/common/budget.h)
 *      cannot hold 503/50301 (the whole length is taken from the budget here); the route's begin hook may
 *      reply.
 *   2. chunk calls: buffered (or handed to the route's body callback in streaming mode); a chunked body that
 *      grows past the limit is drained and marked too_big, one whose growth the budget refuses is drained
 *      and marked over_budget (each growth of the buffer is taken from the budget before the realloc).
 *   3. final call: 413 when too_big, 503/50301 when over_budget, else the route's handler; later calls after
 *      a resume run on_resume.
 * The budget gets the body's bytes back when the request's memory is freed (its last reference, normally at
 * completion).
 *
 * FAILURE MODES: a reply that cannot be queued (connection gone) makes the access handler return MHD_NO, and
 * libmicrohttpd closes the connection; a handler that neither replies nor suspends is answered 500. */
#include "api/http/http.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/common/budget.h"
#include "api/common/errmap.h"
#include "api/http/http_guard.h"
#include "api/http/http_int.h"
#include "api/http/metrics.h"
#include "api/http/negotiate.h"
#include "api/http/recv_hook.h"
#include "server/config.h"
#include "server/logging.h"
#include "storage/clock.h"
#include "storage/err.h"

/* The HTTP layer's times, all from the one clock seam (storage/clock.h). */
static int64_t now_us(void)
{
    return sl_clock_mono_ns(&sl_clock_posix) / 1000;
}

int64_t sl_http_now_ms(void)
{
    return sl_clock_mono_ms(&sl_clock_posix);
}

int64_t sl_http_wall_ms(void)
{
    return sl_clock_wall_ms(&sl_clock_posix);
}

/* ---- server init: CORS list ---- */

int sl_http_srv_init(struct sl_http_srv *srv, struct sl_api *api)
{
    memset(srv, 0, sizeof *srv);
    srv->api = api;
    srv->max_body = api->cfg->rest_max_body_bytes;
    atomic_init(&srv->stopping, false);
    pthread_mutex_init(&srv->tmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->tcv, &ca);
    pthread_cond_init(&srv->parked_cv, &ca);
    pthread_condattr_destroy(&ca);
    return sl_origins_init(&srv->cors, api->cfg->cors_allowed_origins ? api->cfg->cors_allowed_origins : "");
}

void sl_http_srv_fini(struct sl_http_srv *srv)
{
    sl_origins_fini(&srv->cors);
    free(srv->heap);
    pthread_cond_destroy(&srv->tcv);
    pthread_cond_destroy(&srv->parked_cv);
    pthread_mutex_destroy(&srv->tmu);
}

const char *sl_http_cors_for(const struct sl_http_srv *srv, const char *origin)
{
    if (!origin || !sl_origins_match(&srv->cors, origin))
        return NULL;
    return srv->cors.any ? "*" : origin;
}

/* The allowed origin to echo for this request, or NULL. */
static const char *cors_origin(struct sl_req *req)
{
    return sl_http_cors_for(req->srv, sl_http_header(req, "Origin"));
}

/* ---- request lifetime ---- */

static struct sl_req *req_new(struct sl_http_srv *srv, struct MHD_Connection *conn, const char *url,
                              const char *method)
{
    struct sl_req *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->path = strdup(url);
    req->segs = strdup(url);
    if (!req->path || !req->segs) {
        free(req->path);
        free(req->segs);
        free(req);
        return NULL;
    }
    atomic_fetch_add(&srv->inflight, 1); /* undone in sl_http_on_completed */
    req->srv = srv;
    atomic_init(&req->refs, 1);
    pthread_mutex_init(&req->mu, NULL);
    req->conn = conn;
    req->state = SL_REQ_RUNNING;
    req->heap_idx = SIZE_MAX;
    req->method = method; /* libmicrohttpd keeps it for the request's life */
    req->t0_us = now_us();
    req->reply_type = "application/json";
    req->m.route = -1;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req->xconn = ci ? ci->socket_context : NULL;
    sl_conn_head_done(req->xconn);
    return req;
}

void sl_http_ref(struct sl_req *req)
{
    atomic_fetch_add_explicit(&req->refs, 1, memory_order_relaxed);
}

void sl_http_unref(struct sl_req *req)
{
    if (atomic_fetch_sub_explicit(&req->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (req->data_free)
        req->data_free(req->data);
    for (size_t i = 0; i < req->nhdrs; i++) {
        free(req->hdr_name[i]);
        free(req->hdr_value[i]);
    }
    free(req->body);
    sl_budget_give(req->charged);
    free(req->path);
    free(req->segs);
    pthread_mutex_destroy(&req->mu);
    free(req);
}

/* ---- accessors ---- */

struct sl_api *sl_http_api(struct sl_req *req)
{
    return req->srv->api;
}

const char *sl_http_method(struct sl_req *req)
{
    return req->method;
}

const char *sl_http_path(struct sl_req *req)
{
    return req->path;
}

const char *sl_http_route(struct sl_req *req)
{
    return req->m.pattern ? req->m.pattern : "";
}

const char *sl_http_param(struct sl_req *req, const char *name)
{
    return sl_route_param(&req->m, name);
}

const char *sl_http_query(struct sl_req *req, const char *name)
{
    const char *v = NULL;
    size_t len = 0;
    if (!req->conn)
        return NULL;
    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, &len) != MHD_YES)
        return NULL;
    return v ? v : "";
}

const char *sl_http_header(struct sl_req *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *sl_http_body(struct sl_req *req, size_t *len)
{
    if (len)
        *len = req->body_len;
    return req->body ? req->body : "";
}

bool sl_http_content_type_is(struct sl_req *req, const char *mt)
{
    const char *ct = sl_http_header(req, "Content-Type");
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen(mt);
    if (strncasecmp(ct, mt, n))
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

bool sl_http_content_type_json(struct sl_req *req)
{
    return sl_http_ctype_json(sl_http_header(req, "Content-Type"));
}

bool sl_http_ctype_json(const char *ct)
{
    if (!ct)
        return true;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    if (n == 16 && !strncasecmp(ct, "application/json", 16))
        return true;
    return n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5);
}

void sl_http_set_data(struct sl_req *req, void *data, void (*free_fn)(void *data))
{
    if (req->data_free && req->data != data)
        req->data_free(req->data);
    req->data = data;
    req->data_free = free_fn;
}

void *sl_http_data(struct sl_req *req)
{
    return req->data;
}

bool sl_http_stopping(struct sl_req *req)
{
    return atomic_load(&req->srv->stopping);
}

bool sl_http_replied(struct sl_req *req)
{
    return req->replied;
}

/* ---- replies ---- */

void sl_http_add_header(struct sl_req *req, const char *name, const char *value)
{
    if (req->nhdrs == SL_REQ_MAX_HDRS)
        return;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return;
    }
    req->hdr_name[req->nhdrs] = n;
    req->hdr_value[req->nhdrs++] = v;
}

const char *sl_http_reply_type(struct sl_req *req)
{
    return req->reply_type;
}

void sl_http_set_reply_type(struct sl_req *req, const char *content_type)
{
    req->reply_type = content_type;
}

/* Adds the common headers to resp, queues it and destroys our reference. */
static int queue(struct sl_req *req, unsigned status, const char *ctype, struct MHD_Response *resp)
{
    req->acted = true;
    if (!resp || req->replied || !req->conn) {
        if (resp)
            MHD_destroy_response(resp);
        req->queue_failed = true;
        return -EIO;
    }
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    const char *origin = cors_origin(req);
    if (origin) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        if (strcmp(origin, "*"))
            MHD_add_response_header(resp, "Vary", "Origin");
    }
    for (size_t i = 0; i < req->nhdrs; i++)
        MHD_add_response_header(resp, req->hdr_name[i], req->hdr_value[i]);
    enum MHD_Result ok = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    req->replied = true;
    req->status = status;
    if (ok != MHD_YES) {
        req->queue_failed = true;
        return -EIO;
    }
    return 0;
}

int sl_http_reply_buf(struct sl_req *req, unsigned status, const char *content_type, char *buf, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(buf);
    return queue(req, status, content_type, resp);
}

int sl_http_reply_copy(struct sl_req *req, unsigned status, const char *content_type, const void *p, size_t len)
{
    return queue(req, status, content_type,
                 MHD_create_response_from_buffer(len, (void *)p, MHD_RESPMEM_MUST_COPY));
}

int sl_http_reply_empty(struct sl_req *req, unsigned status)
{
    return queue(req, status, NULL, MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT));
}

int sl_http_reply_json(struct sl_req *req, unsigned status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!s) {
        static const char oom[] = "{\"error_code\":50003,\"message\":\"Out of memory; retry.\"}";
        return queue(req, 503, "application/json",
                     MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT));
    }
    return sl_http_reply_buf(req, status, req->reply_type, s, strlen(s));
}

void sl_http_set_context(struct sl_req *req, const char *context)
{
    snprintf(req->context, sizeof req->context, "%s", context ? context : "");
}

enum { SL_HTTP_ERRLOG_PER_S = 20 }; /* 5xx log lines per second; a full disk fails every produce */

/* A 5xx answer says what failed (the request's context, else what this thread's last failure recorded,
 * storage/err.h) after its message, and is logged with it: the client and the operator see the same line. */
static void add_context(struct sl_req *req, unsigned status, char *msg, size_t cap)
{
    if (status < 500)
        return;
    const char *ctx = req->context[0] ? req->context : sl_errctx();
    size_t n = strlen(msg);
    if (ctx[0] && !strstr(msg, ctx) && n + 4 < cap)
        snprintf(msg + n, cap - n, " (%s)", ctx);
    if (status == 503)
        return; /* retriable (budget, shutdown, memory): the client retries, the metrics count them */
    long long sec = sl_http_now_ms() / 1000;
    long long was = atomic_exchange(&req->srv->errlog_second, sec);
    if (was != sec)
        atomic_store(&req->srv->errlog_count, 0);
    if (atomic_fetch_add(&req->srv->errlog_count, 1) < SL_HTTP_ERRLOG_PER_S)
        sl_warn("%s %s answered %u: %s", req->method ? req->method : "?", req->path ? req->path : "?", status, msg);
}

static int reply_error_v(struct sl_req *req, unsigned status, int error_code, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    add_context(req, status, msg, sizeof msg);
    json_t *j = json_object();
    json_object_set_new(j, "error_code", json_integer(error_code));
    json_object_set_new(j, "message", json_string(msg));
    if (req->typed_errors)
        return sl_http_reply_json(req, status, j);
    const char *saved = req->reply_type;
    req->reply_type = "application/json";
    int rc = sl_http_reply_json(req, status, j);
    req->reply_type = saved;
    return rc;
}

int sl_http_reply_error(struct sl_req *req, unsigned status, int error_code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = reply_error_v(req, status, error_code, fmt, ap);
    va_end(ap);
    return rc;
}

int sl_http_reply_rc(struct sl_req *req, int rc, const char *fmt, ...)
{
    const struct sl_errmap *m = sl_errmap_get(rc);
    if (!fmt)
        return sl_http_reply_error(req, m->status, m->error_code, "%s", m->message);
    va_list ap;
    va_start(ap, fmt);
    int r = reply_error_v(req, m->status, m->error_code, fmt, ap);
    va_end(ap);
    return r;
}

int sl_http_reply_stream(struct sl_req *req, unsigned status, const char *content_type, sl_http_stream_fn read)
{
    req->stream_read = read;
    req->streaming_reply = true;
    sl_http_ref(req); /* dropped by sl_http_stream_free when libmicrohttpd destroys the response */
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sl_http_stream_reader, req, sl_http_stream_free);
    if (!resp)
        sl_http_unref(req);
    return queue(req, status, content_type, resp);
}

/* ---- parsing helpers ---- */

static const char *type_name(int type)
{
    switch (type) {
    case JSON_OBJECT: return "a JSON object";
    case JSON_ARRAY: return "a JSON array";
    case JSON_STRING: return "a JSON string";
    case JSON_INTEGER: return "an integer";
    default: return "a JSON value";
    }
}

json_t *sl_http_body_json(struct sl_req *req, int type)
{
    size_t len;
    const char *body = sl_http_body(req, &len);
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i == len) {
        sl_http_reply_error(req, 400, 400, "Malformed JSON: the request body is empty.");
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(body, len, JSON_DECODE_ANY, &err);
    if (!j) {
        sl_http_reply_error(req, 400, 400, "Malformed JSON: %s (line %d, column %d).", err.text, err.line,
                            err.column);
        return NULL;
    }
    if (type >= 0 && (int)json_typeof(j) != type) {
        json_decref(j);
        sl_http_reply_error(req, 400, 400, "The request body must be %s.", type_name(type));
        return NULL;
    }
    return j;
}

int sl_http_query_i64(struct sl_req *req, const char *name, int64_t dflt, int64_t min, int64_t max, int64_t *out)
{
    const char *v = sl_http_query(req, name);
    if (!v) {
        *out = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < min || x > max) {
        sl_http_reply_error(req, 400, 40002, "Query parameter '%s' must be an integer in [%" PRId64 ", %" PRId64 "].",
                            name, min, max);
        return SL_ECONFIG;
    }
    *out = x;
    return 0;
}

int sl_http_param_partition(struct sl_req *req, const char *name, int32_t *out)
{
    const char *v = sl_http_param(req, name);
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : -1;
    if (!v || !*v || *end || errno || x < 0 || x > INT32_MAX || !isdigit((unsigned char)*v)) {
        sl_http_reply_rc(req, SL_ENOPART, NULL);
        return SL_ENOPART;
    }
    *out = (int32_t)x;
    return 0;
}

/* ---- dispatch ---- */

static enum MHD_Result result(struct sl_req *req)
{
    return req->queue_failed ? MHD_NO : MHD_YES;
}

/* Runs fn (handler or on_resume) and enforces "reply or suspend". */
static enum MHD_Result run(struct sl_req *req, sl_handler_fn fn)
{
    req->acted = false;
    sl_errctx_clear();
    fn(req);
    if (!req->acted)
        sl_http_reply_error(req, 500, 50002, "Internal error: the handler for %s %s did not reply.", req->method,
                            sl_http_route(req));
    return result(req);
}

static enum MHD_Result run_resume(struct sl_req *req)
{
    sl_http_resume_fn fn = req->on_resume;
    req->on_resume = NULL;
    enum sl_http_wake why = sl_http_take_resume(req);
    req->acted = false;
    sl_errctx_clear();
    fn(req, why);
    if (!req->acted)
        sl_http_reply_error(req, 500, 50002, "Internal error: a resumed %s %s did not reply.", req->method,
                            sl_http_route(req));
    return result(req);
}

static enum MHD_Result preflight(struct sl_req *req)
{
    const char *origin = cors_origin(req);
    if (origin) {
        const char *hdrs = sl_http_header(req, "Access-Control-Request-Headers");
        sl_http_add_header(req, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
        sl_http_add_header(req, "Access-Control-Allow-Headers", hdrs ? hdrs : "Content-Type, Accept");
        sl_http_add_header(req, "Access-Control-Max-Age", "600");
    }
    sl_http_reply_empty(req, 204);
    return result(req);
}

/* Takes the body buffer's capacity cap from the budget (what is not taken yet). false: refused. */
static bool charge(struct sl_req *req, size_t cap)
{
    if (cap <= req->charged)
        return true;
    if (!sl_budget_take(cap - req->charged))
        return false;
    req->charged = cap;
    return true;
}

/* Drops the buffered body (and its budget bytes): the request is answered with an error instead. */
static void drop_body(struct sl_req *req)
{
    free(req->body);
    req->body = NULL;
    req->body_len = req->body_cap = 0;
    sl_budget_give(req->charged);
    req->charged = 0;
}

static enum MHD_Result first_call(struct sl_req *req)
{
    struct sl_router *r = req->srv->api->router;
    if (!strcmp(req->method, "OPTIONS"))
        return preflight(req);
    char allow[128];
    switch (sl_router_match(r, req->method, req->segs, &req->m, allow, sizeof allow)) {
    case SL_ROUTE_NOT_FOUND:
        sl_http_reply_error(req, 404, 404, "HTTP 404 Not Found");
        return result(req);
    case SL_ROUTE_BAD_METHOD:
        sl_http_add_header(req, "Allow", allow);
        sl_http_reply_error(req, 405, 405, "HTTP 405 Method Not Allowed");
        return result(req);
    case SL_ROUTE_FOUND:
        break;
    }
    const char *negotiated = sl_neg_route_type(req->m.pattern, sl_http_header(req, "Accept"));
    if (negotiated) { /* a v2 route: successes and errors in the negotiated type (api/http/negotiate.h) */
        req->reply_type = negotiated;
        req->typed_errors = true;
    }
    req->streaming_body = req->m.ops->body != NULL;
    const char *cl = sl_http_header(req, "Content-Length");
    long long cl_n = cl && !req->streaming_body ? strtoll(cl, NULL, 10) : 0;
    if (cl_n > req->srv->max_body) {
        sl_http_reply_error(req, 413, 413, "Request body too large: the limit is %" PRId64 " bytes.",
                            req->srv->max_body);
        return result(req);
    }
    if (cl_n > 0 && !charge(req, (size_t)cl_n + 1)) {
        sl_http_reply_rc(req, -ENOBUFS, NULL);
        return result(req);
    }
    if (req->m.ops->begin) {
        req->acted = false;
        req->m.ops->begin(req);
        return result(req);
    }
    return MHD_YES;
}

static void take_chunk(struct sl_req *req, const char *data, size_t n)
{
    if (req->replied)
        return; /* answered early: drain */
    if (req->streaming_body) {
        if (!req->body_stopped && req->m.ops->body(req, data, n))
            req->body_stopped = true;
        return;
    }
    if (req->too_big || req->over_budget)
        return;
    if ((int64_t)(req->body_len + n) > req->srv->max_body) {
        req->too_big = true;
        drop_body(req);
        return;
    }
    if (req->body_len + n + 1 > req->body_cap) {
        /* a Content-Length body was charged whole: one allocation of that size */
        size_t cap = req->body_cap ? req->body_cap : req->charged > 4096 ? req->charged : 4096;
        while (cap < req->body_len + n + 1)
            cap *= 2;
        if (!charge(req, cap)) {
            req->over_budget = true;
            drop_body(req);
            return;
        }
        char *nb = realloc(req->body, cap);
        if (!nb) {
            req->too_big = true; /* answered as 413: we could not hold it */
            return;
        }
        req->body = nb;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    req->body[req->body_len] = '\0';
}

enum MHD_Result sl_http_on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct sl_http_srv *srv = cls;
    struct sl_req *req = *con_cls;
    if (!req) {
        req = req_new(srv, conn, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        enum MHD_Result res = sl_http_guard_head(req, version) ? result(req) : first_call(req);
        if (req->replied) /* answered before the body: libmicrohttpd does not read it */
            sl_conn_body_done(req->xconn);
        return res;
    }
    if (*upload_data_size) {
        take_chunk(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->on_resume) /* only set while suspended: this call is the resume */
        return run_resume(req);
    if (!req->body_seen) {
        req->body_seen = true;
        sl_conn_body_done(req->xconn);
    }
    if (req->replied)
        return result(req);
    if (req->too_big) {
        sl_http_reply_error(req, 413, 413, "Request body too large: the limit is %" PRId64 " bytes.",
                            srv->max_body);
        return result(req);
    }
    if (req->over_budget) {
        sl_http_reply_rc(req, -ENOBUFS, NULL);
        return result(req);
    }
    return run(req, req->m.ops->handle);
}

void sl_http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    struct sl_http_srv *srv = cls;
    struct sl_req *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    sl_http_mark_done(req);
    sl_conn_request_done(req->xconn);
    unsigned status = req->replied ? req->status : sl_conn_timed_out(req->xconn) ? 408 : 499;
    sl_metrics_request(srv->api->metrics, req->m.route, status, now_us() - req->t0_us);
    req->xconn = NULL; /* the connection may close and free it from now on */
    sl_http_unref(req);
    atomic_fetch_sub(&srv->inflight, 1);
}

long sl_http_drain(struct sl_http_srv *srv, int64_t timeout_ms)
{
    int64_t deadline = sl_http_now_ms() + timeout_ms;
    long n;
    while ((n = atomic_load(&srv->inflight)) > 0 && sl_http_now_ms() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return n;
}

void sl_http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    struct sl_http_srv *srv = cls;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        sl_metrics_connection(srv->api->metrics, 1);
        *socket_context = ci && srv->conns ? sl_conns_open(srv->conns, ci->connect_fd) : NULL;
        if (ci) /* its requests reach libmicrohttpd checked (api/http/recv_hook.h); on failure unchecked */
            sl_recv_hook_http(ci->connect_fd);
        return;
    }
    if (ci)
        sl_recv_hook_forget(ci->connect_fd);
    sl_metrics_connection(srv->api->metrics, -1);
    sl_conns_close(srv->conns, *socket_context);
    *socket_context = NULL;
}
