/* FOLDER api/rest/: the REST resources, one h_*.c per resource (v2 and v3 of the Confluent REST Proxy), the
 * route list (routes.c), the v3 building blocks (v3links.c, v3produce.c, v3split.c), the streaming v3 produce
 * (produce_stream.c) and the REST server's lifecycle (this header).
 *
 * The REST server (libmicrohttpd, port 8082): lifecycle only. Routes live in api/rest/h_*.c.
 *
 * THREADS: sl_rest_start/quiesce/stop are called by main only. Requests run on libmicrohttpd's poll thread
 * pool (>= 2 threads; see api/rest/rest.c for why poll and why 2). Waiting requests are suspended, never blocked. */
#ifndef SL_API_REST_H
#define SL_API_REST_H

#include <stdint.h>

#include "server/broker.h"
#include "server/config.h"

struct sl_rest;

struct sl_groups;
struct sl_metrics;
struct sl_quorum;

/* Starts listening on cfg->rest_bind:cfg->rest_port (0 = ephemeral) and serving. cfg, b, groups (the
 * consumer-group coordinator, opened by main on b) and m (the /metrics counters, created by main and shared
 * with the WebSocket server) are borrowed and must outlive the server: close groups and free m only after
 * sl_rest_stop. Sizes m's route tables for its routes (sl_metrics_set_routes) and sets m's consumer-lag source
 * until sl_rest_stop. quorum (NULL on a one-node cluster) is borrowed the same way: stop it after sl_rest_stop.
 * Returns 0 and *out, or -errno (e.g. -EADDRINUSE) with the reason logged. */
int sl_rest_start(const struct sl_config *cfg, struct sl_broker *b, struct sl_groups *groups, struct sl_metrics *m,
                  struct sl_quorum *quorum, struct sl_rest **out);
/* The bound port (the ephemeral one when 0 was asked for). */
uint16_t sl_rest_port(const struct sl_rest *r);
/* Tells the server the WebSocket port, for GET /v1/info. */
/* The host the REST server tells clients (advertised.host, else its bind address, else localhost); lives as
 * long as r. */
const char *sl_rest_advertised_host(struct sl_rest *r);
void sl_rest_set_ws_port(struct sl_rest *r, uint16_t port);
/* Stops accepting new connections; in-flight requests go on. */
void sl_rest_quiesce(struct sl_rest *r);
/* Answers every suspended request (long polls end empty, produces waiting for durability are completed or
 * failed with 503), stops the daemon and frees r. */
void sl_rest_stop(struct sl_rest *r);

#endif
