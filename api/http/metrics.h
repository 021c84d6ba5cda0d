/* Process-wide counters for GET /metrics (Prometheus text exposition format 0.0.4).
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
 * THREADS: every function is thread-safe. Counters are relaxed atomics; the per-topic map is behind one
 * mutex held only for a lookup. There is one metrics registry per process (REST and WebSocket share it). */
#ifndef SL_API_METRICS_H
#define SL_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/types.h"

struct sl_api;
struct sl_router;

/* Sizes the per-route tables for the routes of r (call once r is complete, before traffic; again after a
 * restart of the REST server in the same process is fine). Returns 0 or -ENOMEM. */
int sl_metrics_init(const struct sl_router *r);
/* Frees the per-route tables and the topic map. */
void sl_metrics_fini(void);

/* One finished HTTP request: route index (sl_route_match.route, -1 = unmatched), status, latency. */
void sl_metrics_request(int route, unsigned status, int64_t latency_us);
/* Open HTTP connections, +1 / -1. */
void sl_metrics_connection(int delta);

/* Records and bytes (key + value + headers as stored) produced to / consumed from topic. */
void sl_metrics_records_in(const char *topic, uint64_t records, uint64_t bytes);
void sl_metrics_records_out(const char *topic, uint64_t records, uint64_t bytes);

/* The consumer-lag source: a function that calls emit once per (group, topic, partition) with the lag
 * (log end offset - committed offset). Set by the consumer-group module; NULL = no lag samples. */
typedef void (*sl_metrics_lag_emit_fn)(void *ctx, const char *group, const char *topic, int32_t partition,
                                       int64_t lag);
typedef void (*sl_metrics_lag_fn)(struct sl_api *api, sl_metrics_lag_emit_fn emit, void *ctx);
void sl_metrics_set_lag_source(sl_metrics_lag_fn fn);

/* Appends the whole exposition text to out. Returns 0 or -ENOMEM. */
int sl_metrics_render(struct sl_api *api, struct sl_buf *out);

#endif
