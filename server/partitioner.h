/* Kafka's default partitioner, so a keyed record lands on the partition a Kafka client would pick.
 *
 * Keyed records: (murmur2(key) & 0x7fffffff) % partitions, with murmur2 exactly as Kafka's
 * org.apache.kafka.common.utils.Utils.murmur2 (seed 0x9747b28c, 32-bit signed Java arithmetic; an empty key is
 * hashed like any other, only a null key counts as keyless).
 * Keyless records: sticky per request. A caller asks sl_partitioner_sticky() once per request and sends every
 * keyless record of that request to the partition it returns; successive requests rotate round robin over the
 * partitions (one atomic counter per struct sl_partitioner: the broker owns one, sl_broker_partitioner), so keyless load spreads evenly across requests while each
 * request still becomes a single batch, which is what Kafka's sticky partitioner aims for.
 *
 * THREADS: every function is thread-safe and lock-free. */
#ifndef SL_SERVER_PARTITIONER_H
#define SL_SERVER_PARTITIONER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka's murmur2 of n bytes at p (p may be NULL when n == 0). */
int32_t sl_murmur2(const void *p, size_t n);

/* The partition of a keyed record: (murmur2(key) & 0x7fffffff) % partitions. partitions must be > 0. */
int32_t sl_partitioner_keyed(const void *key, size_t n, int32_t partitions);

/* The sticky partitioner's state: zero-initialised (or {0}) it starts at partition 0. */
struct sl_partitioner {
    atomic_uint_fast32_t next;
};

/* The partition for the keyless records of one request (round robin across calls on pt). partitions must be
 * > 0. */
int32_t sl_partitioner_sticky(struct sl_partitioner *pt, int32_t partitions);

#endif
