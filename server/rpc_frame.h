/* The node-to-node RPC's framing (cluster.port, issue 14): one small binary frame per request or response
 * over TCP, as ../shared/reference/replication.md §3 argues (neither HTTP nor Kafka's Fetch fits: one
 * connection per node pair carries many requests at once, matched by id, with raw RecordBatch payloads).
 * Pure functions: no I/O, no threads.
 *
 * FORMAT (big-endian):
 *   u32 length      bytes after this field: SL_RPC_HDR_SIZE - 4 + payload, at most SL_RPC_MAX_FRAME
 *   u8  version     SL_RPC_VERSION
 *   u8  flags       bit 0: a response; the other bits are 0
 *   u16 api         what is asked (enum sl_rpc_api); a response carries its request's
 *   u32 request_id  chosen by the client, unique among its requests in flight on the connection; echoed
 *   i32 status      a response's outcome (0, or a sluice code: storage/err.h, server/err.h); 0 in a request
 *   payload         the api's own body (length - 12 bytes)
 * A stream of frames is parsed incrementally: a prefix is "more", anything else that breaks the format
 * (a length below the header or above the limit, another version, unknown flag bits) is SL_ECORRUPT and the
 * connection is closed: the peer is not speaking this protocol (or not this version of it). */
#ifndef SL_SERVER_RPC_FRAME_H
#define SL_SERVER_RPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/types.h"

#define SL_RPC_VERSION 1
#define SL_RPC_HDR_SIZE 16
#define SL_RPC_MAX_FRAME (64u << 20) /* a fetch response carries at most this much */

enum sl_rpc_api {
    SL_RPC_PING = 1,    /* empty both ways: liveness and round-trip time */
    SL_RPC_PROPOSE = 2, /* a metadata record (server/meta_rec.h) for the quorum leader to propose */
    SL_RPC_HEARTBEAT = 3, /* i32 node id, i64 incarnation: "still here", to the controller */
};

struct sl_rpc_hdr {
    bool response;
    uint16_t api;
    uint32_t request_id;
    int32_t status;
};

/* Appends one frame (h, then n payload bytes) to out. Returns 0, -EINVAL (n over the limit; nothing
 * appended) or -ENOMEM. */
int sl_rpc_frame_encode(const struct sl_rpc_hdr *h, const void *payload, size_t n, struct sl_buf *out);

/* Parses the frame at the start of p[0, n): returns 1 with *h, *payload (into p) and *plen, and *used the
 * bytes it took; 0 when p holds only a prefix of one (read more); SL_ECORRUPT (see FORMAT). */
int sl_rpc_frame_parse(const uint8_t *p, size_t n, struct sl_rpc_hdr *h, const uint8_t **payload, size_t *plen,
                       size_t *used);

#endif
