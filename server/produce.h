/* The one produce submission path: a request's batches (one per partition touched, or more when a partition's
 * records exceed max.message.bytes) go to the broker together and complete together. Every client-facing
 * produce -- REST v2, REST v3 (each chunk of records it cuts), WebSocket -- submits through here; this is the
 * place where acks, min.insync.replicas and forwarding to a partition's leader will be decided (issue 13).
 *
 * USE
 *   struct sl_produce_set *s = sl_produce_set_new(batches, nb, on_done, arg);   (optionally s->on_batch)
 *   sl_produce_submit(broker, topic, s);
 *   ... on_done(s) runs exactly once, when every batch has completed (with 0 or an error, see slots[i].rc);
 *   it may run inside sl_produce_submit (every batch refused, or written and durable at once) or later on the
 *   flusher thread. on_done owns s from then on and frees it with sl_produce_set_free.
 *
 * OWNERSHIP: the set borrows the batches array (the caller keeps it alive until on_done and frees it after);
 * the batches are modified in place by the broker (offsets, epoch, CRC). The set owns its slots.
 *
 * THREADS: sl_produce_submit on any thread; on_batch and on_done on the submitting thread or a flusher thread,
 * on_batch(i) once per batch (possibly concurrently for different i), on_done after the last on_batch. */
#ifndef SL_SERVER_PRODUCE_H
#define SL_SERVER_PRODUCE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "server/broker.h"

/* One finished RecordBatch (storage/batch.h) for one partition, as the codec (api/codec/records.h) builds it. */
struct sl_produce_batch {
    int32_t partition;
    uint8_t *data; /* owned by whoever built it (malloc'd); modified in place by the broker */
    size_t len;
    int32_t count; /* records in it */
};

struct sl_produce_set;
/* Called once per batch i when it completed: rc 0 (slots[i].prod.first/.last set) or an error of
 * sl_broker_produce or of its completion (SL_EFAILED, SL_ESTOPPED, ...). */
typedef void (*sl_produce_batch_fn)(struct sl_produce_set *s, size_t i, int rc);
typedef void (*sl_produce_done_fn)(struct sl_produce_set *s);

struct sl_produce_slot {
    struct sl_produce prod; /* .first/.last: the offsets given, valid when rc == 0 */
    int rc;
    char *context;          /* malloc'd, owned by the set: what failed when rc != 0 and it is known, else NULL */
    struct sl_produce_set *set;
};

struct sl_produce_set {
    const struct sl_produce_batch *batches; /* borrowed, nb of them */
    size_t nb;
    struct sl_produce_slot *slots;          /* nb of them, one per batch */
    sl_produce_batch_fn on_batch;           /* optional */
    sl_produce_done_fn on_done;             /* required */
    void *arg;                              /* for the caller */
    atomic_size_t left_;                    /* private: batches not yet complete, + 1 while submitting */
};

/* A set over nb batches (nb may be 0: on_done then runs at submit). Returns NULL when out of memory. */
struct sl_produce_set *sl_produce_set_new(const struct sl_produce_batch *batches, size_t nb,
                                          sl_produce_done_fn on_done, void *arg);
void sl_produce_set_free(struct sl_produce_set *s);

/* Hands every batch of s to the broker for topic (client topics only: an internal topic fails each batch
 * with SL_EINTERNAL) and arranges for on_batch/on_done as described above. Never fails as a whole: a batch
 * the broker refuses completes at once with the broker's rc. */
void sl_produce_submit(struct sl_broker *b, const char *topic, struct sl_produce_set *s);

/* Records in the batches that completed with 0. Call from on_done. */
size_t sl_produce_set_ok_records(const struct sl_produce_set *s);
/* rc of the first batch that failed, or 0 when none did. Call from on_done. */
int sl_produce_set_first_error(const struct sl_produce_set *s);
/* What failed for batch i ("fdatasync in /data/t-0: Input/output error", "create /data/t-0/...log: No space
 * left on device"), or "" when it succeeded or nothing more is known than its rc: for the message of a 5xx
 * answer (api/http/http.h sl_http_set_context). Call from on_batch(i), on_done or later, until the set is
 * freed. The first failed batch's: sl_produce_set_first_context. */
const char *sl_produce_set_context(const struct sl_produce_set *s, size_t i);
const char *sl_produce_set_first_context(const struct sl_produce_set *s);

#endif
