/* Kafka RecordBatch v2: the on-disk and in-memory format of every record in sluice.
 *
 * ON-DISK FORMAT (big-endian; byte offsets within the batch)
 *    0  int64   baseOffset            offset of the first record (assigned by the log on append)
 *    8  int32   batchLength           bytes after this field (total batch size - 12)
 *   12  int32   partitionLeaderEpoch  leader epoch of the appender (assigned by the log on append)
 *   16  int8    magic                 2
 *   17  uint32  crc                   CRC-32C of bytes [21, end)
 *   21  int16   attributes            bits 0-2 compression (0 = none, the only one supported), bit 3 timestamp
 *                                     type, bit 4 transactional, bit 5 control; sluice writes 0
 *   23  int32   lastOffsetDelta       offset delta of the last record (= records count - 1 here)
 *   27  int64   baseTimestamp         timestamp of the first record (ms since epoch)
 *   35  int64   maxTimestamp          largest record timestamp
 *   43  int64   producerId            -1
 *   51  int16   producerEpoch         -1
 *   53  int32   baseSequence          -1
 *   57  int32   recordsCount
 *   61  records, each:
 *         varint  length              bytes of the record after this field
 *         int8    attributes          0
 *         varlong timestampDelta      timestamp - baseTimestamp
 *         varint  offsetDelta         offset - baseOffset
 *         varint  keyLength           -1 = null key
 *         bytes   key
 *         varint  valueLength         -1 = null value
 *         bytes   value
 *         varint  headersCount
 *         each header: varint keyLength, bytes key (UTF-8), varint valueLength (-1 = null), bytes value
 *   Varints are zig-zag encoded (protobuf sint32/sint64).
 *
 * INVARIANTS
 *   1. baseOffset and partitionLeaderEpoch lie outside the CRC, so the log assigns them in place without
 *      recomputing it (sl_batch_set_base / sl_batch_set_epoch).
 *   2. A batch that passed sl_batch_validate() has a correct CRC and every record parses within its bounds. */
#ifndef SL_STORAGE_BATCH_H
#define SL_STORAGE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/types.h"

#define SL_BATCH_HEADER_SIZE 61
#define SL_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define SL_BATCH_MAGIC 2

struct sl_header {
    struct sl_slice key;
    struct sl_slice value; /* value.base == NULL: a null header value */
};

/* One record as the caller gives it to the builder or gets it from the iterator.
 * key.base == NULL means a null key; value.base == NULL a null value (a tombstone). */
struct sl_record {
    int64_t timestamp;
    sl_offset_t offset; /* filled by the iterator; ignored by the builder */
    struct sl_slice key;
    struct sl_slice value;
    uint32_t nheaders;
    const struct sl_header *headers; /* builder: nheaders entries; iterator: see sl_batch_iter_header() */
};

/* The fixed header, decoded. */
struct sl_batch_hdr {
    sl_offset_t base_offset;
    int32_t length; /* batchLength: total size is length + 12 */
    sl_epoch_t epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t count;
};

/* Builds one batch in an owned buffer. Single-threaded; embed it and init/fini. */
struct sl_batch_builder {
    struct sl_buf buf;
    int32_t count;
    int64_t base_ts;
    int64_t max_ts;
};

void sl_bb_init(struct sl_batch_builder *b);
/* Forgets the records added so far; keeps the buffer for reuse. */
void sl_bb_reset(struct sl_batch_builder *b);
/* Appends one record (copying its bytes). Returns 0, -ENOMEM, or SL_ETOOBIG if a field, the record or the
 * batch would exceed Kafka's int32 limits (INT32_MAX bytes / records); on error b is unchanged. The first
 * record sets baseTimestamp. A header key with base NULL is written as "" (Kafka has no null header keys). */
int sl_bb_add(struct sl_batch_builder *b, const struct sl_record *r);
/* Fills the header (baseOffset 0, epoch 0, CRC computed) and returns the finished batch in *out, valid
 * until the next call on b. Returns 0, or -EINVAL when no record was added. */
int sl_bb_finish(struct sl_batch_builder *b, struct sl_slice *out);
void sl_bb_fini(struct sl_batch_builder *b);

/* Size in bytes that sl_bb_add would add for r (record encoding incl. its length varint; not the 61-byte
 * header the first add also reserves), for limits. offset_delta is the builder's current count. */
size_t sl_record_encoded_size(const struct sl_record *r, int64_t base_ts, int32_t offset_delta);

/* Decodes the fixed header of the batch at p (needs n >= SL_BATCH_HEADER_SIZE). Checks nothing but the
 * sizes: returns 0, or SL_ECORRUPT if n is too short. */
int sl_batch_hdr_decode(const uint8_t *p, size_t n, struct sl_batch_hdr *h);

/* Full check of the batch at p, which must be exactly n bytes: lengths, magic 2, compression none, CRC,
 * count >= 1 and lastOffsetDelta == count - 1, and every record's framing (its length covers exactly its
 * fields; lengths >= -1 and in bounds, header keys not null; offsetDelta == its index; records end at n).
 * Returns 0 or SL_ECORRUPT (bad CRC or framing). */
int sl_batch_validate(const uint8_t *p, size_t n);

/* Walks a buffer of concatenated batches (what sl_log_read returns): the batch at *at. Returns 1 with *h its
 * header, *batch its bytes and *at moved past it; 0 when fewer than SL_BATCH_HEADER_SIZE bytes remain at *at
 * (the end, or a batch cut short by a read limit); SL_ECORRUPT when the header's length is negative or runs
 * past n, or its offsets are not ones a log could assign (base < 0, lastOffsetDelta < 0, or the offset after
 * its last record past INT64_MAX). Checks no CRC: the bytes are read-validated or must be validated. */
int sl_batches_next(const uint8_t *p, size_t n, size_t *at, struct sl_batch_hdr *h, struct sl_slice *batch);

/* Rewrites baseOffset / partitionLeaderEpoch in place (outside the CRC). */
void sl_batch_set_base(uint8_t *p, sl_offset_t base);
void sl_batch_set_epoch(uint8_t *p, sl_epoch_t epoch);

/* Iterates the records of one validated batch. Views point into the batch and are valid as long as it is. */
struct sl_batch_iter {
    const uint8_t *p, *end;
    struct sl_batch_hdr hdr;
    int32_t left;
    const uint8_t *headers_at; /* raw headers of the current record */
    const uint8_t *rec_end;    /* end of the current record */
    const uint8_t *hdr_next;   /* next header to read, the hdr_i-th: sequential header reads are O(1) */
    uint32_t nheaders, hdr_i;
};
/* Returns 0, or SL_ECORRUPT if p does not start with a well-formed batch header (magic 2, no compression)
 * whose batch fits in n bytes; bytes after the batch are ignored. Every read is bounds-checked, but the CRC
 * is not: call sl_batch_validate() first on untrusted bytes. */
int sl_batch_iter_init(struct sl_batch_iter *it, const uint8_t *p, size_t n);
/* Returns 1 with *r filled (r->headers NULL; use sl_batch_iter_header), 0 at the end, SL_ECORRUPT. */
int sl_batch_iter_next(struct sl_batch_iter *it, struct sl_record *r);
/* Fills *h with the i-th header (i < r->nheaders) of the record last returned. Returns 0, SL_ECORRUPT, or
 * -EINVAL if i is out of range. */
int sl_batch_iter_header(struct sl_batch_iter *it, uint32_t i, struct sl_header *h);

/* Varint helpers (zig-zag), exposed for tests. put: writes sl_varint_size(v) (<= 10) bytes at p and returns
 * that count. get: returns bytes read, or 0 if truncated at end or overlong (more than 10 bytes, or bits
 * beyond 64). */
size_t sl_varint_put(uint8_t *p, int64_t v);
size_t sl_varint_get(const uint8_t *p, const uint8_t *end, int64_t *v);
size_t sl_varint_size(int64_t v);

#endif
