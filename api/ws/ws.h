/* FOLDER api/ws/: the WebSocket port (libwebsockets): the server object (ws.c), one socket's protocol states
 * (ws_socket.c), handshake, frames and masking, consumer and producer sessions, the per-partition cache.
 *
 * The WebSocket server (libwebsockets, port 8092): lifecycle, and the pure parsing of a socket's target URL
 * (shared with SSE). The protocol is DESIGN §6 and openapi/asyncapi.yaml; sessions live in api/ws/ws_consume.c
 * (subscribers) and api/ws/ws_produce.c (producers), the context and its one service thread in api/ws/ws.c.
 *
 * OWNERSHIP: a struct sl_ws is created by sl_ws_start and freed by sl_ws_stop; it owns nothing global, and it
 * is the broker's data hook (sl_broker_set_data_hook) while it runs, so one WebSocket server per broker.
 *
 * THREADS: sl_ws_start/sl_ws_stop are called by main only (start after the REST server, stop before it).
 * Every lws_* call happens on the service thread; other threads (the broker's data hook, produce and commit
 * completions, consumer-group events) only queue work and call lws_cancel_service. The parse functions are
 * pure and reentrant. */
#ifndef SL_API_WS_H
#define SL_API_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/common/from.h"
#include "api/common/origins.h"
#include "api/codec/records.h"
#include "server/broker.h"
#include "server/config.h"
#include "server/groups.h"

struct sl_metrics;
struct sl_ws;

/* Starts listening on cfg->ws_bind, cfg->ws_port (0 = ephemeral) and serving on a new service thread. cfg, b,
 * g and m are borrowed and must outlive the server (g may be NULL: group=... is then refused with 4503; m, the
 * /metrics counters main created and shares with the REST server, counts the sockets and their records).
 * rest_port is the REST server's bound port: pages it serves (the console) may open sockets (see
 * sl_ws_origin_allowed). Registers the broker's data hook (once per process). Returns 0 and *out, or -errno
 * (-EINVAL: ws.bind is not an IP address) / SL_ECONFIG (logged). */
int sl_ws_start(const struct sl_config *cfg, struct sl_broker *b, struct sl_groups *g, struct sl_metrics *m,
                uint16_t rest_port, struct sl_ws **out);
/* The bound port. */
uint16_t sl_ws_port(const struct sl_ws *w);
/* Closes every socket (1001 going away), leaves their groups, waits (bounded) for pending produces and
 * commits to complete, stops the service thread and frees w. */
void sl_ws_stop(struct sl_ws *w);

/* ---- target parsing (exposed for SSE and tests) ---- */

enum sl_ws_kind { SL_WS_CONSUME, SL_WS_PRODUCE };
struct sl_ws_target {
    enum sl_ws_kind kind;
    char topic[SL_TOPIC_NAME_MAX + 1];
    struct sl_from from;      /* default latest */
    bool from_set;
    int32_t partition;        /* -1 = every partition */
    char group[SL_GROUP_NAME_MAX + 1]; /* "" = no group */
    enum sl_fmt fmt;          /* default json */
    int64_t max_in_flight;    /* 0 = the server default */
    bool pull;                /* mode=pull: records only against credit */
};

/* Parses a socket's path (URL-decoded, no query) and its query arguments (each "name=value", decoded) into
 * out. Paths: /ws/v1/topics/{topic} (consume), /ws/v1/topics/{topic}/produce. Returns 0, -ENOENT (no such
 * path: 4404), SL_EBADNAME (invalid topic name) or -EINVAL (a bad argument); err says which. Unknown
 * arguments are ignored (browsers add cache busters). */
int sl_ws_target_parse(const char *path, const char *const *args, size_t nargs, struct sl_ws_target *out, char *err,
                       size_t errlen);

/* ---- handshake checks (api/ws/ws_handshake.c; exposed for tests) ---- */

/* Whether an upgrade with this Origin header (NULL = none) and Host header (NULL = none) may proceed: no
 * Origin (not a browser), an origin in o (case-insensitive, exact), or the server's own console origin:
 * http(s)://H:rest_port where H is the Host header's host and H is an IP address, "localhost" or
 * advertised_host (names a third party could re-point at this server by DNS are not trusted). Pure. */
bool sl_ws_origin_allowed(const struct sl_origins *o, const char *origin, const char *host, uint16_t rest_port,
                          const char *advertised_host);

#endif
