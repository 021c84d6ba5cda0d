/* Big-endian (network order) integers in byte buffers: the one implementation every on-disk and on-wire
 * format of sluice uses (index files, metadata records and snapshots, quorum entries, the cluster RPC).
 * Pure, header-only; p must hold the bytes read or written. */
#ifndef SL_STORAGE_ENDIAN_H
#define SL_STORAGE_ENDIAN_H

#include <stdint.h>

static inline void sl_be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t sl_be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void sl_be64_put(uint8_t *p, uint64_t v)
{
    sl_be32_put(p, (uint32_t)(v >> 32));
    sl_be32_put(p + 4, (uint32_t)v);
}

static inline uint64_t sl_be64_get(const uint8_t *p)
{
    return (uint64_t)sl_be32_get(p) << 32 | sl_be32_get(p + 4);
}

#endif
