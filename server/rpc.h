/* The node-to-node RPC on cluster.port (issue 14): frames of server/rpc_frame.h over TCP. This first cut
 * serves one request at a time per server and makes one connection per call; the pooled, multiplexed
 * connections replica fetching needs come with issue 15 and keep this interface.
 *
 * SERVER: a thread polls the listener and up to SL_RPC_MAX_CONNS connections; each complete request frame
 * goes to the handler, whose status and reply payload go back in a response frame with the request's id
 * and api. A connection that sends a malformed frame, or more than SL_RPC_MAX_FRAME, is closed.
 *
 * THREADS: the handler runs on the server's thread and may block (a PROPOSE waits for the quorum); calls
 * from any thread. */
#ifndef SL_SERVER_RPC_H
#define SL_SERVER_RPC_H

#include <stdint.h>

#include "server/rpc_frame.h"

#define SL_RPC_MAX_CONNS 64

/* Handles one request: returns the response's status (0 or a sluice code) and may append a reply payload. */
typedef int32_t (*sl_rpc_handler)(void *ctx, uint16_t api, const uint8_t *payload, size_t n, struct sl_buf *reply);

struct sl_rpc_server;

/* Listens on bind_host:port (port 0: ephemeral) and serves. Returns 0 with *out, or -errno (the address is
 * taken, ...). */
int sl_rpc_server_start(const char *bind_host, uint16_t port, sl_rpc_handler handler, void *ctx,
                        struct sl_rpc_server **out);
/* The bound port. */
uint16_t sl_rpc_server_port(const struct sl_rpc_server *s);
/* Stops serving, closes every connection, joins the thread, frees s (NULL is a no-op). */
void sl_rpc_server_stop(struct sl_rpc_server *s);

/* One call to host:port: sends the request, waits for its response (at most timeout_ms in all). Returns 0 with
 * *status and the reply payload appended to reply, or -ECONNREFUSED / -ETIMEDOUT / -errno (connect, send,
 * receive) or SL_ECORRUPT (not a response to this request). */
int sl_rpc_call(const char *host, uint16_t port, uint16_t api, const void *payload, size_t n, int timeout_ms,
                int32_t *status, struct sl_buf *reply);

#endif
