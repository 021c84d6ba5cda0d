/* Internal to api/http/http.c and api/rest/rest.c: the server-wide request machinery (libmicrohttpd callbacks, the
 * deadline timer, the list of parked requests). Handlers use api/http/http.h only.
 *
 * THREADS: sl_http_srv_init/fini, timer start/stop and stop_all run on the thread of sl_rest_start/stop; the
 * callbacks run on libmicrohttpd's pool threads. */
#ifndef SL_API_HTTP_INT_H
#define SL_API_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "api/http/conns.h"
#include "api/http/http.h"
#include "api/common/origins.h"
#include "api/http/router.h"

struct sl_http_srv {
    struct sl_api *api;
    int64_t max_body;              /* cfg->rest_max_body_bytes */
    struct sl_origins cors;        /* cors.allowed.origins */
    atomic_bool stopping;          /* also written under tmu */
    atomic_long inflight;          /* requests created and not yet completed (NOTIFY_COMPLETED) */
    struct sl_conns *conns;        /* connection deadlines; set by sl_rest_start before the daemon */
    atomic_llong errlog_second;    /* the monotonic second of the 5xx log lines counted in errlog_count */
    atomic_int errlog_count;       /* 5xx lines logged in that second (at most SL_HTTP_ERRLOG_PER_S) */

    /* the timer and the parked set */
    pthread_mutex_t tmu;
    pthread_cond_t tcv;            /* timer thread wakes: new earliest deadline, quit */
    pthread_cond_t parked_cv;      /* stop_all waits for nparked == 0 */
    struct sl_req **heap;          /* guarded by: tmu; min-heap on deadline */
    size_t nheap, capheap;         /* guarded by: tmu */
    struct sl_req *parked;         /* guarded by: tmu; suspended or parked-stream requests (list) */
    size_t nparked;                /* guarded by: tmu */
    bool timer_quit;               /* guarded by: tmu */
    bool timer_running;
    pthread_t timer;
};

/* Initializes srv for api (parses the CORS list). Returns 0 or -ENOMEM. */
int sl_http_srv_init(struct sl_http_srv *srv, struct sl_api *api);
void sl_http_srv_fini(struct sl_http_srv *srv);
/* The Access-Control-Allow-Origin value for a request from origin (NULL: no Origin header): "*", origin
 * itself, or NULL when it is not allowed. Any thread (the list is read-only after init). */
const char *sl_http_cors_for(const struct sl_http_srv *srv, const char *origin);
/* Starts/stops the deadline timer thread. start returns 0 or -errno. */
int sl_http_timer_start(struct sl_http_srv *srv);
void sl_http_timer_stop(struct sl_http_srv *srv);
/* Marks the server stopping and resumes every parked request with SL_HTTP_WAKE_STOPPING, then waits (at most
 * timeout_ms) until their handlers have picked them up. Returns the number still parked (0 normally). */
size_t sl_http_stop_all(struct sl_http_srv *srv, int64_t timeout_ms);
/* Waits (at most timeout_ms) until every request has completed, i.e. its reply was sent or its client went
 * away: libmicrohttpd drops replies still queued when it stops. Returns the number still in flight. */
long sl_http_drain(struct sl_http_srv *srv, int64_t timeout_ms);

/* libmicrohttpd callbacks; cls is the struct sl_http_srv. */
enum MHD_Result sl_http_on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls);
void sl_http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe);
void sl_http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe);

/* Request states (see http.h STATES). */
enum sl_req_state { SL_REQ_RUNNING, SL_REQ_SUSPENDED, SL_REQ_RESUMING, SL_REQ_PARKED, SL_REQ_DONE };

#define SL_REQ_MAX_HDRS 8

struct sl_req {
    struct sl_http_srv *srv;
    atomic_int refs;
    pthread_mutex_t mu;
    /* guarded by: mu */
    struct MHD_Connection *conn;   /* NULL once DONE */
    enum sl_req_state state;
    bool wake_pending;
    enum sl_http_wake why;         /* reason of the pending wake or of the resume */
    /* guarded by: srv->tmu */
    int64_t deadline;              /* <= 0: none */
    size_t heap_idx;               /* SIZE_MAX: not in the heap */
    bool in_parked;
    struct sl_req *pnext, *pprev;

    /* pool-thread only (one handler call at a time) */
    struct sl_conn *xconn;         /* the connection's deadline record (may be NULL); until completion only */
    bool body_seen;                /* the final access call came */
    sl_http_resume_fn on_resume;
    const char *method;
    char *path;                    /* owned copy */
    char *segs;                    /* owned; split by the router, params point here */
    struct sl_route_match m;
    char *body;                    /* owned */
    size_t body_len, body_cap;
    size_t charged;                /* bytes taken from the budget for body (api/common/budget.h); given back when freed */
    bool over_budget;              /* the budget refused the body: answered 503/50301 */
    bool too_big, body_stopped, streaming_body;
    bool replied, acted, queue_failed, streaming_reply;
    unsigned status;
    int64_t t0_us;
    const char *reply_type;
    bool typed_errors; /* a v2 route: errors use reply_type too (api/http/negotiate.h), not application/json */
    char context[256]; /* sl_http_set_context: what failed, for a 5xx answer; "" = this thread's sl_errctx */
    size_t nhdrs;
    char *hdr_name[SL_REQ_MAX_HDRS], *hdr_value[SL_REQ_MAX_HDRS];
    sl_http_stream_fn stream_read;
    int64_t stream_deadline;       /* sl_http_stream_wake_at; <= 0: a parked stream waits for a wake only */
    void *data;
    void (*data_free)(void *);
};

/* http_wait.c: transitions used by http.c. */
/* Called by the access handler when it finds req RESUMING: takes it off the parked list, sets RUNNING and
 * returns the reason. */
enum sl_http_wake sl_http_take_resume(struct sl_req *req);
/* Called at completion: DONE, off the heap and the parked list. */
void sl_http_mark_done(struct sl_req *req);
/* The MHD content reader of streaming replies; cls is the req. */
ssize_t sl_http_stream_reader(void *cls, uint64_t pos, char *buf, size_t max);
void sl_http_stream_free(void *cls);

#endif
