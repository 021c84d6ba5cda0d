/* Kafka's default partitioner (see server/partitioner.h). murmur2 is computed on uint32_t, which gives the
 * same bits as Java's wrapping int arithmetic; '>>>' is a logical shift on the unsigned value. */
#include "server/partitioner.h"

#include <stdatomic.h>

int32_t sl_murmur2(const void *p, size_t n)
{
    const uint8_t *d = p;
    const uint32_t m = 0x5bd1e995u;
    const int r = 24;
    uint32_t h = 0x9747b28cu ^ (uint32_t)n;
    size_t n4 = n / 4;

    for (size_t i = 0; i < n4; i++) {
        const uint8_t *q = d + i * 4;
        uint32_t k = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    size_t t = n & ~(size_t)3; /* an index, not d + t: d may be NULL when n == 0, and NULL + 0 is UB in C */
    switch (n % 4) {
    case 3:
        h ^= (uint32_t)d[t + 2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)d[t + 1] << 8;
        /* fall through */
    case 1:
        h ^= (uint32_t)d[t];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t sl_partitioner_keyed(const void *key, size_t n, int32_t partitions)
{
    uint32_t positive = (uint32_t)sl_murmur2(key, n) & 0x7fffffffu;
    return (int32_t)(positive % (uint32_t)partitions);
}

int32_t sl_partitioner_sticky(struct sl_partitioner *pt, int32_t partitions)
{
    uint32_t v = (uint32_t)atomic_fetch_add_explicit(&pt->next, 1, memory_order_relaxed);
    return (int32_t)(v % (uint32_t)partitions);
}
