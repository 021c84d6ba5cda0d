/* The node-to-node RPC's framing (see rpc_frame.h for the FORMAT). */
#include "server/rpc_frame.h"

#include <errno.h>

#include "storage/endian.h"
#include "storage/err.h"


int sl_rpc_frame_encode(const struct sl_rpc_hdr *h, const void *payload, size_t n, struct sl_buf *out)
{
    if (n > SL_RPC_MAX_FRAME - (SL_RPC_HDR_SIZE - 4))
        return -EINVAL;
    uint8_t hdr[SL_RPC_HDR_SIZE];
    sl_be32_put(hdr, (uint32_t)(SL_RPC_HDR_SIZE - 4 + n));
    hdr[4] = SL_RPC_VERSION;
    hdr[5] = h->response ? 1 : 0;
    hdr[6] = (uint8_t)(h->api >> 8);
    hdr[7] = (uint8_t)h->api;
    sl_be32_put(hdr + 8, h->request_id);
    sl_be32_put(hdr + 12, (uint32_t)h->status);
    size_t at = out->len;
    int rc = sl_buf_append(out, hdr, sizeof hdr);
    if (rc == 0 && n)
        rc = sl_buf_append(out, payload, n);
    if (rc)
        out->len = at;
    return rc;
}

int sl_rpc_frame_parse(const uint8_t *p, size_t n, struct sl_rpc_hdr *h, const uint8_t **payload, size_t *plen,
                       size_t *used)
{
    if (n < 4)
        return 0;
    uint32_t len = sl_be32_get(p);
    if (len < SL_RPC_HDR_SIZE - 4 || len > SL_RPC_MAX_FRAME)
        return SL_ECORRUPT;
    if (n >= 6 && (p[4] != SL_RPC_VERSION || (p[5] & ~1u)))
        return SL_ECORRUPT; /* said as soon as it can be seen, not after a frame of garbage */
    if (n - 4 < len)
        return 0;
    h->response = p[5] & 1;
    h->api = (uint16_t)(p[6] << 8 | p[7]);
    h->request_id = sl_be32_get(p + 8);
    h->status = (int32_t)sl_be32_get(p + 12);
    *payload = p + SL_RPC_HDR_SIZE;
    *plen = len - (SL_RPC_HDR_SIZE - 4);
    *used = 4 + (size_t)len;
    return 1;
}
