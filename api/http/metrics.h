/* The counters of GET /metrics (Prometheus text exposition format 0.0.4).
 *
 * Families: sluice_http_requests_total{route,method,code}, sluice_http_request_duration_seconds{route}
 * (histogram), sluice_http_open_connections, sluice_topic_records_in_total{topic},
 * sluice_topic_bytes_in_total{topic}, sluice_topic_records_out_total{topic}, sluice_topic_bytes_out_total{topic},
 * sluice_fsync_duration_seconds (histogram, from sl_broker_stats), sluice_produce_batches_total,
 * sluice_consumer_lag{group,topic,partition} (from the lag hook), sluice_uptime_seconds, the partition
 * health and buffer-memory gauges, sluice_open_segment_files, and the process collector's standard families
 * (process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
 * process_max_fds, process_start_time_seconds; api/common/procstat.h). README "Metrics" lists each with its meaning.
 *
 * OWNERSHIP: a struct sl_metrics is created by sl_metrics_new and freed by sl_metrics_free, both called by
 * server/main.c: it is created before the REST and WebSocket servers start and freed after both have stopped.
 * The servers borrow it (sl_rest_start, sl_ws_start; the REST server's handlers reach it as api->metrics), so it
 * must outlive them. Nothing in it is process-wide: several can exist in one process and count independently.
 *
 * THREADS: every function is thread-safe, except that sl_metrics_free runs once no other thread uses m, and
 * sl_metrics_set_routes never beside sl_metrics_request or sl_metrics_render (the REST server calls it before
 * its first request; the WebSocket server never touches the route tables). Counters are relaxed atomics; the per-topic map is behind one mutex
 * (per object) held only for a lookup. One object serves the REST and WebSocket servers of a process. */
#ifndef SL_API_METRICS_H
#define SL_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/types.h"

struct sl_api;
struct sl_metrics;
struct sl_router;

/* Allocates a registry with every counter at zero and no route table (requests are not counted until
 * sl_metrics_set_routes). Returns 0 and *out, or -ENOMEM. The caller owns *out and frees it with
 * sl_metrics_free. */
int sl_metrics_new(struct sl_metrics **out);
/* Frees m, its route tables and its topic map. NULL is a no-op. No other thread may use m any more. */
void sl_metrics_free(struct sl_metrics *m);

/* Sizes m's per-route tables for the routes of r (the REST server calls it once r is complete, before its
 * first request; again after a restart of the REST server is fine). Replaces the previous tables: the route
 * counters start from zero, the others (topics, connections) go on. Only the route strings are kept (static,
 * see sl_router_route): r may be freed afterwards. One REST server per m. Returns 0 or -ENOMEM (the previous
 * tables are then gone: requests are not counted). */
int sl_metrics_set_routes(struct sl_metrics *m, const struct sl_router *r);

/* One finished HTTP request: route index (sl_route_match.route, -1 = unmatched), status, latency. */
void sl_metrics_request(struct sl_metrics *m, int route, unsigned status, int64_t latency_us);
/* Open HTTP and WebSocket connections, +1 / -1. */
void sl_metrics_connection(struct sl_metrics *m, int delta);

/* Records and bytes (key + value + headers as stored) produced to / consumed from topic (copied on first use;
 * a topic entry that cannot be allocated is not counted). */
void sl_metrics_records_in(struct sl_metrics *m, const char *topic, uint64_t records, uint64_t bytes);
void sl_metrics_records_out(struct sl_metrics *m, const char *topic, uint64_t records, uint64_t bytes);

/* The consumer-lag source: a function that calls emit once per (group, topic, partition) with the lag
 * (log end offset - committed offset). Set by the consumer-group module of the REST server while it runs;
 * NULL = no lag samples. */
typedef void (*sl_metrics_lag_emit_fn)(void *ctx, const char *group, const char *topic, int32_t partition,
                                       int64_t lag);
typedef void (*sl_metrics_lag_fn)(struct sl_api *api, sl_metrics_lag_emit_fn emit, void *ctx);
void sl_metrics_set_lag_source(struct sl_metrics *m, sl_metrics_lag_fn fn);

/* Appends the whole exposition text of m to out. api (borrowed; NULL: no broker families, no lag, uptime 0)
 * gives the broker, the lag source's argument and the start time. Returns 0 or -ENOMEM. */
int sl_metrics_render(struct sl_metrics *m, struct sl_api *api, struct sl_buf *out);

#endif
