/* The /metrics registry (struct sl_metrics) and its Prometheus text rendering (see metrics.h).
 *
 * INVARIANTS
 *   1. The per-route table is sized by sl_metrics_set_routes, before the REST server's traffic; index nroutes
 *      counts unmatched requests. Counters are relaxed atomics: a scrape may see a request's count without its
 *      latency.
 *   2. Topic entries are allocated once and never move or go away until sl_metrics_free, so a counter can be
 *      bumped after the map mutex is dropped.
 *   3. Every counter lives in its struct sl_metrics: the file has no mutable static state, so two registries
 *      in one process never see each other's counts. */
#include "api/http/metrics.h"

#include "api/common/budget.h"
#include "api/http/conns.h"
#include "api/common/procstat.h"
#include "storage/segment.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/http/http.h"
#include "api/http/router.h"
#include "server/broker.h"
#include "server/quorum.h"

static const unsigned statuses[] = {200, 201, 204, 207, 400, 401, 403, 404, 405, 406, 408,
                                    409, 413, 415, 422, 429, 499, 500, 501, 503, 0 /* other */};
#define NSTATUS (sizeof statuses / sizeof statuses[0])
static const double lat_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
#define NBUCKET (sizeof lat_bounds / sizeof lat_bounds[0])

struct route_stats {
    const char *method, *pattern;
    atomic_uint_fast64_t count[NSTATUS];
    atomic_uint_fast64_t bucket[NBUCKET]; /* per bucket, not cumulative */
    atomic_uint_fast64_t sum_us, n;
};

struct topic_stats {
    char *name;
    atomic_uint_fast64_t rin, bin, rout, bout;
};

struct sl_metrics {
    struct route_stats *routes; /* nroutes + 1; written by sl_metrics_set_routes only (invariant 1) */
    size_t nroutes;
    atomic_int_fast64_t open_conns;
    _Atomic(sl_metrics_lag_fn) lag_fn;

    pthread_mutex_t topics_mu;
    struct topic_stats **topics; /* guarded by: topics_mu */
    size_t ntopics, captopics;   /* guarded by: topics_mu */
};

int sl_metrics_new(struct sl_metrics **out)
{
    struct sl_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    int rc = pthread_mutex_init(&m->topics_mu, NULL);
    if (rc) {
        free(m);
        return -rc;
    }
    atomic_init(&m->open_conns, 0);
    atomic_init(&m->lag_fn, NULL);
    *out = m;
    return 0;
}

void sl_metrics_free(struct sl_metrics *m)
{
    if (!m)
        return;
    free(m->routes);
    for (size_t i = 0; i < m->ntopics; i++) {
        free(m->topics[i]->name);
        free(m->topics[i]);
    }
    free(m->topics);
    pthread_mutex_destroy(&m->topics_mu);
    free(m);
}

int sl_metrics_set_routes(struct sl_metrics *m, const struct sl_router *r)
{
    free(m->routes);
    m->nroutes = 0;
    size_t n = sl_router_count(r);
    m->routes = calloc(n + 1, sizeof *m->routes);
    if (!m->routes)
        return -ENOMEM;
    m->nroutes = n;
    for (size_t i = 0; i < n; i++)
        sl_router_route(r, i, &m->routes[i].method, &m->routes[i].pattern, NULL);
    m->routes[n].method = "";
    m->routes[n].pattern = "unmatched";
    return 0;
}

void sl_metrics_request(struct sl_metrics *m, int route, unsigned status, int64_t latency_us)
{
    if (!m->routes)
        return;
    size_t nroutes = m->nroutes;
    struct route_stats *rs = &m->routes[route >= 0 && (size_t)route < nroutes ? (size_t)route : nroutes];
    size_t s = 0;
    while (statuses[s] && statuses[s] != status)
        s++;
    atomic_fetch_add_explicit(&rs->count[s], 1, memory_order_relaxed);
    double secs = (double)latency_us / 1e6;
    size_t b = 0;
    while (b < NBUCKET && secs > lat_bounds[b])
        b++;
    if (b < NBUCKET)
        atomic_fetch_add_explicit(&rs->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rs->sum_us, (uint64_t)(latency_us > 0 ? latency_us : 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&rs->n, 1, memory_order_relaxed);
}

void sl_metrics_connection(struct sl_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->open_conns, delta, memory_order_relaxed);
}

/* Adds an entry for topic (m->topics_mu held). Returns it or NULL on ENOMEM. */
static struct topic_stats *topic_add(struct sl_metrics *m, const char *topic)
{
    if (m->ntopics == m->captopics) {
        size_t cap = m->captopics ? m->captopics * 2 : 32;
        struct topic_stats **nt = realloc(m->topics, cap * sizeof *nt);
        if (!nt)
            return NULL;
        m->topics = nt;
        m->captopics = cap;
    }
    struct topic_stats *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(topic))) {
        free(t);
        return NULL;
    }
    m->topics[m->ntopics++] = t;
    return t;
}

static struct topic_stats *topic_get(struct sl_metrics *m, const char *topic)
{
    struct topic_stats *t = NULL;
    pthread_mutex_lock(&m->topics_mu);
    for (size_t i = 0; i < m->ntopics && !t; i++)
        if (!strcmp(m->topics[i]->name, topic))
            t = m->topics[i];
    if (!t)
        t = topic_add(m, topic);
    pthread_mutex_unlock(&m->topics_mu);
    return t;
}

void sl_metrics_records_in(struct sl_metrics *m, const char *topic, uint64_t records, uint64_t bytes)
{
    struct topic_stats *t = topic_get(m, topic);
    if (!t)
        return;
    atomic_fetch_add_explicit(&t->rin, records, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->bin, bytes, memory_order_relaxed);
}

void sl_metrics_records_out(struct sl_metrics *m, const char *topic, uint64_t records, uint64_t bytes)
{
    struct topic_stats *t = topic_get(m, topic);
    if (!t)
        return;
    atomic_fetch_add_explicit(&t->rout, records, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->bout, bytes, memory_order_relaxed);
}

void sl_metrics_set_lag_source(struct sl_metrics *m, sl_metrics_lag_fn fn)
{
    atomic_store(&m->lag_fn, fn);
}

/* ---- rendering ---- */

struct out {
    struct sl_buf *b;
    int rc;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || o->rc)
        return;
    o->rc = sl_buf_append(o->b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void render_requests(struct out *o, struct sl_metrics *m)
{
    struct route_stats *routes = m->routes;
    size_t nroutes = m->nroutes;
    put(o, "# HELP sluice_http_requests_total HTTP requests by route pattern, method and status.\n"
           "# TYPE sluice_http_requests_total counter\n");
    for (size_t i = 0; routes && i <= nroutes; i++)
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t c = atomic_load_explicit(&routes[i].count[s], memory_order_relaxed);
            if (!c)
                continue;
            char code[16];
            if (statuses[s])
                snprintf(code, sizeof code, "%u", statuses[s]);
            else
                snprintf(code, sizeof code, "other");
            put(o, "sluice_http_requests_total{route=\"%s\",method=\"%s\",code=\"%s\"} %" PRIu64 "\n",
                routes[i].pattern, routes[i].method, code, c);
        }
}

static void render_latency(struct out *o, struct sl_metrics *m)
{
    struct route_stats *routes = m->routes;
    size_t nroutes = m->nroutes;
    put(o, "# HELP sluice_http_request_duration_seconds HTTP request latency by route pattern.\n"
           "# TYPE sluice_http_request_duration_seconds histogram\n");
    for (size_t i = 0; routes && i <= nroutes; i++) {
        struct route_stats *rs = &routes[i];
        uint64_t n = atomic_load_explicit(&rs->n, memory_order_relaxed);
        if (!n)
            continue;
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKET; b++) {
            cum += atomic_load_explicit(&rs->bucket[b], memory_order_relaxed);
            put(o, "sluice_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                rs->pattern, rs->method, lat_bounds[b], cum);
        }
        put(o, "sluice_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
            rs->pattern, rs->method, n);
        put(o, "sluice_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n", rs->pattern,
            rs->method, (double)atomic_load_explicit(&rs->sum_us, memory_order_relaxed) / 1e6);
        put(o, "sluice_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %" PRIu64 "\n", rs->pattern,
            rs->method, n);
    }
}

static void render_topics(struct out *o, struct sl_metrics *m)
{
    static const char *const fam[4][2] = {
        {"sluice_topic_records_in_total", "Records produced to the topic."},
        {"sluice_topic_bytes_in_total", "Bytes (key, value, headers) produced to the topic."},
        {"sluice_topic_records_out_total", "Records consumed from the topic."},
        {"sluice_topic_bytes_out_total", "Bytes (key, value, headers) consumed from the topic."},
    };
    pthread_mutex_lock(&m->topics_mu);
    for (int f = 0; f < 4; f++) {
        put(o, "# HELP %s %s\n# TYPE %s counter\n", fam[f][0], fam[f][1], fam[f][0]);
        for (size_t i = 0; i < m->ntopics; i++) {
            struct topic_stats *t = m->topics[i];
            atomic_uint_fast64_t *v = f == 0 ? &t->rin : f == 1 ? &t->bin : f == 2 ? &t->rout : &t->bout;
            put(o, "%s{topic=\"%s\"} %" PRIu64 "\n", fam[f][0], t->name,
                (uint64_t)atomic_load_explicit(v, memory_order_relaxed));
        }
    }
    pthread_mutex_unlock(&m->topics_mu);
}

static void render_fsync(struct out *o, struct sl_broker *b)
{
    struct sl_broker_stats st;
    memset(&st, 0, sizeof st);
    if (b)
        sl_broker_stats(b, &st);
    put(o, "# HELP sluice_fsync_duration_seconds Latency of the log fsyncs (group commit).\n"
           "# TYPE sluice_fsync_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < 16; i++) {
        cum += st.fsync_hist[i];
        put(o, "sluice_fsync_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", (double)(64ull << i) / 1e6, cum);
    }
    put(o, "sluice_fsync_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", st.fsyncs > cum ? st.fsyncs : cum);
    put(o, "sluice_fsync_duration_seconds_sum %.6f\n", (double)st.fsync_ns_total / 1e9);
    put(o, "sluice_fsync_duration_seconds_count %" PRIu64 "\n", st.fsyncs > cum ? st.fsyncs : cum);
    put(o, "# HELP sluice_produce_batches_total Record batches appended.\n"
           "# TYPE sluice_produce_batches_total counter\nsluice_produce_batches_total %" PRIu64 "\n",
        st.produce_batches);
}

static void render_health(struct out *o, struct sl_broker *b)
{
    struct sl_part_health *h = NULL;
    size_t n = 0;
    if (!b || sl_broker_health(b, &h, &n))
        return;
    put(o, "# HELP sluice_partition_failed 1 for a partition that failed after an I/O error (read-only).\n"
           "# TYPE sluice_partition_failed gauge\n");
    for (size_t i = 0; i < n; i++)
        if (h[i].info.failed)
            put(o, "sluice_partition_failed{topic=\"%s\",partition=\"%d\"} 1\n", h[i].topic, h[i].partition);
    put(o, "# HELP sluice_partition_damaged_ranges Damaged ranges of offsets in a partition's log.\n"
           "# TYPE sluice_partition_damaged_ranges gauge\n");
    for (size_t i = 0; i < n; i++)
        if (h[i].info.damaged_ranges)
            put(o, "sluice_partition_damaged_ranges{topic=\"%s\",partition=\"%d\"} %u\n", h[i].topic,
                h[i].partition, h[i].info.damaged_ranges);
    put(o, "# HELP sluice_partition_quarantined_files Files recovery moved into a partition's quarantine/.\n"
           "# TYPE sluice_partition_quarantined_files gauge\n");
    for (size_t i = 0; i < n; i++)
        if (h[i].info.quarantined)
            put(o, "sluice_partition_quarantined_files{topic=\"%s\",partition=\"%d\"} %u\n", h[i].topic,
                h[i].partition, h[i].info.quarantined);
    put(o, "# HELP sluice_quarantined_dirs Partition directories moved into <data>/quarantine/ at start (no topic "
           "owns them).\n# TYPE sluice_quarantined_dirs gauge\nsluice_quarantined_dirs %u\n",
        sl_broker_quarantined_dirs(b));
    free(h);
}

/* The metadata quorum as this node sees it; nothing on a one-node cluster. */
static void render_quorum(struct out *o, struct sl_quorum *q)
{
    if (!q)
        return;
    struct sl_quorum_status st;
    sl_quorum_status(q, &st);
    put(o, "# HELP sluice_quorum_role This node's role in the metadata quorum (1 for the current one).\n"
           "# TYPE sluice_quorum_role gauge\n");
    for (int r = SL_QUORUM_UNAVAILABLE; r <= SL_QUORUM_LEADER; r++)
        put(o, "sluice_quorum_role{role=\"%s\"} %d\n", sl_quorum_role_name((enum sl_quorum_role)r), (int)st.role == r);
    put(o, "# HELP sluice_quorum_term The quorum's current term.\n# TYPE sluice_quorum_term gauge\n"
           "sluice_quorum_term %" PRIu64 "\n"
           "# HELP sluice_quorum_commit_index The highest metadata log index known committed.\n"
           "# TYPE sluice_quorum_commit_index gauge\nsluice_quorum_commit_index %" PRIu64 "\n"
           "# HELP sluice_quorum_applied_index The highest metadata log index applied on this node.\n"
           "# TYPE sluice_quorum_applied_index gauge\nsluice_quorum_applied_index %" PRIu64 "\n"
           "# HELP sluice_quorum_leader_id The node id of the quorum leader (-1: none known).\n"
           "# TYPE sluice_quorum_leader_id gauge\nsluice_quorum_leader_id %d\n",
        st.term, st.commit_index, st.applied_index, (int)st.leader_id);
    unsigned live, fenced;
    sl_quorum_broker_counts(q, &live, &fenced);
    put(o, "# HELP sluice_cluster_brokers Nodes registered in the metadata quorum, by state.\n"
           "# TYPE sluice_cluster_brokers gauge\nsluice_cluster_brokers{state=\"live\"} %u\n"
           "sluice_cluster_brokers{state=\"fenced\"} %u\n",
        live, fenced);
}

/* The process collector's standard families (what Prometheus client libraries export), from /proc/self.
 * When /proc cannot be read only the start time is given (sluice's own start, start_ms). */
static void render_process(struct out *o, int64_t start_ms)
{
    struct sl_procstat ps;
    bool ok = sl_procstat_read(&ps) == 0;
    if (ok) {
        put(o, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
               "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n", ps.cpu_seconds);
        put(o, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
               "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %" PRIu64 "\n",
            ps.resident_bytes);
        put(o, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
               "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %" PRIu64 "\n",
            ps.virtual_bytes);
        put(o, "# HELP process_open_fds Number of open file descriptors.\n"
               "# TYPE process_open_fds gauge\nprocess_open_fds %" PRIu64 "\n", ps.open_fds);
        put(o, "# HELP process_max_fds Maximum number of open file descriptors (RLIMIT_NOFILE soft limit).\n"
               "# TYPE process_max_fds gauge\n");
        if (ps.max_fds == UINT64_MAX)
            put(o, "process_max_fds +Inf\n");
        else
            put(o, "process_max_fds %" PRIu64 "\n", ps.max_fds);
    }
    put(o, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
           "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n",
        ok ? ps.start_time : (double)start_ms / 1000.0);
}

static void on_lag(void *ctx, const char *group, const char *topic, int32_t partition, int64_t lag)
{
    put(ctx, "sluice_consumer_lag{group=\"%s\",topic=\"%s\",partition=\"%d\"} %" PRId64 "\n", group, topic,
        partition, lag);
}

int sl_metrics_render(struct sl_metrics *m, struct sl_api *api, struct sl_buf *b)
{
    struct out o = {.b = b};
    render_requests(&o, m);
    render_latency(&o, m);
    put(&o, "# HELP sluice_http_open_connections Open HTTP connections.\n"
            "# TYPE sluice_http_open_connections gauge\nsluice_http_open_connections %" PRId64 "\n",
        (int64_t)atomic_load(&m->open_conns));
    render_topics(&o, m);
    render_fsync(&o, api ? api->broker : NULL);
    render_health(&o, api ? api->broker : NULL);
    render_quorum(&o, api ? api->quorum : NULL);
    put(&o, "# HELP sluice_buffer_memory_bytes Client bytes buffered by all connections (buffer.memory.max.bytes).\n"
            "# TYPE sluice_buffer_memory_bytes gauge\nsluice_buffer_memory_bytes %" PRIu64 "\n"
            "# HELP sluice_buffer_memory_limit_bytes The budget (0 = unlimited).\n"
            "# TYPE sluice_buffer_memory_limit_bytes gauge\nsluice_buffer_memory_limit_bytes %" PRIu64 "\n"
            "# HELP sluice_buffer_memory_refusals_total Requests refused because the budget was exhausted.\n"
            "# TYPE sluice_buffer_memory_refusals_total counter\nsluice_buffer_memory_refusals_total %" PRIu64 "\n",
        sl_budget_used(), sl_budget_limit(), sl_budget_refusals());
    struct sl_conns_stats cst;
    sl_conns_stats(&cst);
    put(&o, "# HELP sluice_rest_deadline_closes_total REST connections ended by a deadline (api/http/conns.c).\n"
            "# TYPE sluice_rest_deadline_closes_total counter\n"
            "sluice_rest_deadline_closes_total{deadline=\"header\"} %" PRIu64 "\n"
            "sluice_rest_deadline_closes_total{deadline=\"body\"} %" PRIu64 "\n"
            "sluice_rest_deadline_closes_total{deadline=\"idle\"} %" PRIu64 "\n",
        cst.header, cst.body, cst.idle);
    put(&o, "# HELP sluice_open_segment_files Segment files open now (log.max.open.segments bounds them).\n"
            "# TYPE sluice_open_segment_files gauge\nsluice_open_segment_files %u\n",
        sl_seg_fd_open_count());
    put(&o, "# HELP sluice_consumer_lag Log end offset minus committed offset, per group and partition.\n"
            "# TYPE sluice_consumer_lag gauge\n");
    sl_metrics_lag_fn fn = atomic_load(&m->lag_fn);
    if (fn && api)
        fn(api, on_lag, &o);
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    int64_t start = api ? api->started_ms : now_ms;
    put(&o, "# HELP sluice_uptime_seconds Seconds since the server started.\n"
            "# TYPE sluice_uptime_seconds gauge\nsluice_uptime_seconds %.3f\n",
        (double)(now_ms - start) / 1000.0);
    render_process(&o, start);
    return o.rc;
}
