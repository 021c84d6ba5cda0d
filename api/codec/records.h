/* FOLDER api/codec/: the JSON <-> RecordBatch boundary, transport-free: one JSON scanner (rec_scan.c), the v2
 * and v3 grammars, batch building, rendering of consumed records, strict request bodies (jsonbody.c).
 *
 * Produce-body parsing and consume rendering for the REST data plane: the JSON <-> RecordBatch boundary.
 *
 * Embedded formats (Confluent v2 content types, plus text as Strimzi):
 *   binary  application/vnd.kafka.binary.v2+json, application/vnd.kafka.v2+json, application/vnd.kafka+json,
 *           application/octet-stream: key/value are base64 strings (decoded strictly: standard alphabet,
 *           padding optional, nothing else).
 *   json    application/vnd.kafka.json.v2+json, application/json: key/value are any JSON, stored as their
 *           compact JSON text.
 *   text    application/vnd.kafka.text.v2+json: key/value are JSON strings, stored as UTF-8.
 *   In every format JSON null means a null key / value.
 *
 * SPEED: a v2 body is read in one pass by a strict, allocation-free scanner (no parse tree): json-format
 * keys/values are their raw text in the body, text values the string bytes in the body (decoded only when
 * they have escapes), binary values are base64-decoded from the body. Records are then encoded into
 * RecordBatches (storage/batch.h), one or more per partition, each at most the topic's max.message.bytes.
 * v3 objects are still parsed by jansson (one record per object; not the bulk path).
 *
 * FILES (the records codec):
 *   api/codec/records.c      the request (arena, items), formats, error filler
 *   api/rec_scan.{c,h} the JSON scanner the v2 grammar is written on, the validator, byte classes
 *   api/rec_text.{c,h} base64, decimal, JSON string literals, RFC 3339 (included here: public helpers)
 *   api/codec/rec_v2.c       the v2 grammar (sl_rec_parse_v2)
 *   api/codec/rec_v3.c       the v3 grammar (sl_rec_parse_v3, on jansson)
 *   api/codec/rec_build.c    partitioning and RecordBatch encoding (sl_rec_partition, sl_rec_build)
 *   api/codec/rec_render.c   consumed records as v2 JSON (sl_rec_render, sl_rec_fetch_render, sl_rec_damage_msg)
 *   api/codec/rec_int.h      what those files share and no other file uses
 *
 * THREADS: a struct sl_rec_req is used by one thread at a time (it holds jansson values). Rendering
 * functions are reentrant. */
#ifndef SL_API_RECORDS_H
#define SL_API_RECORDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/codec/rec_scan.h"
#include "api/codec/rec_text.h"
#include "server/partitioner.h"
#include "server/produce.h"
#include "storage/batch.h"
#include "storage/types.h"

enum sl_fmt { SL_FMT_BINARY, SL_FMT_JSON, SL_FMT_TEXT };

/* The embedded format of a v2 produce Content-Type (media type only, case-insensitive; parameters
 * ignored). Returns 0 and *out, or -EINVAL for a type that is not a produce type (answer 415). */
int sl_rec_format_from_ctype(const char *ctype, enum sl_fmt *out);
/* The format named in a consumer's "format" field ("binary", "json", "text"; also "string" for text). */
int sl_rec_format_from_name(const char *name, enum sl_fmt *out);
const char *sl_rec_format_name(enum sl_fmt f);
/* The v2 content type of records in format f ("application/vnd.kafka.binary.v2+json", ...). */
const char *sl_rec_format_ctype(enum sl_fmt f);
/* True when an Accept header admits records in format f: absent, "*" types, application/json, or the
 * format's vnd.kafka type (q=0 entries excluded). */
bool sl_rec_accept_ok(const char *accept, enum sl_fmt f);

/* A request-level or per-record error: HTTP status, Confluent error_code, message. */
struct sl_rec_err {
    unsigned status;
    int code;
    char msg[200];
    bool in_data; /* v3: the request's shape was right, a key's or value's data is not what its type says
                   * (not base64, not a string): the REST Proxy answers such a single record 200 with the
                   * error in the body (api/rest/v3produce.h, sl_v3p_status) */
};

/* One parsed record. Slices point into the request (its arena or its jansson tree) or, for v2, into the body
 * given to sl_rec_parse_v2. */
struct sl_rec_item {
    int32_t partition;       /* requested partition, -1 = let the partitioner choose */
    struct sl_record rec;    /* headers: nheaders entries in the arena */
    int err_code;            /* per-record failure (Confluent error_code), 0 = fine */
    const char *err_msg;     /* static text when err_code != 0 */
    size_t batch;            /* after sl_rec_build: index of its batch */
    int32_t index;           /* after sl_rec_build: offset delta within that batch */
    int key_type, value_type; /* v3: the enum sl_rec_v3type of key / value (for delivery reports) */
};

struct sl_arena_blk;

/* A parsed produce request. Init with sl_rec_req_init, release with sl_rec_req_fini. */
struct sl_rec_req {
    json_t *root;             /* owned; borrowed by items (text values) */
    struct sl_arena_blk *arena;
    struct sl_rec_item *items;
    size_t n, cap;
    bool object;              /* v2: the body was valid JSON and an object (set even when parsing failed) */
    struct sl_slice id;       /* v2: the raw JSON text of a top-level "id" member (base NULL: none) */
};

void sl_rec_req_init(struct sl_rec_req *r);
void sl_rec_req_fini(struct sl_rec_req *r);

/* Parses a v2 produce body {"records":[{"key","value","partition","headers":[{"key","value"}],"timestamp"}]}
 * of format fmt (a top-level "id" is kept in r->id; Confluent's key_schema, value_schema, key_schema_id and
 * value_schema_id may be present only as null). now_ms stamps records without a timestamp. max_records limits
 * the count. Returns 0, or -EINVAL with *err filled: 400/400 malformed JSON (exactly what jansson's json_loadb
 * rejects), 422/42206 empty body, 422/422 not an object, any other member at any level ("Unrecognized field:
 * records[3].valeu"), a non-null schema member, records null / not an array / empty, a record of the wrong
 * shape or type, bad base64; 413/413 too many records; 500/50002
 * out of memory. The items' slices may point into body: body must stay valid and unchanged as long as they
 * are used (up to sl_rec_build, which copies). A json-format value is stored as sent minus the whitespace
 * between its tokens (escapes and number spelling kept). */
int sl_rec_parse_v2(struct sl_rec_req *r, const char *body, size_t len, enum sl_fmt fmt, int64_t now_ms,
                    size_t max_records, struct sl_rec_err *err);

enum sl_rec_v3type { SL_V3_NONE, SL_V3_BINARY, SL_V3_JSON, SL_V3_STRING };
const char *sl_rec_v3type_name(int t);

/* Parses one v3 ProduceRequest object {partition_id, headers[{name,value}], key{type,data},
 * value{type,data}, timestamp (RFC 3339)} and appends it as an item; entry: obj is a records:batch entry, which
 * also carries "id". Any other member, at any level, fails ("Unrecognized field: value.datta"), as does a
 * non-null schema-registry member of key or value (subject, schema_id, ...). obj is borrowed (its strings are
 * referenced: keep obj alive by passing ownership with sl_rec_req_keep). Returns 0 or -EINVAL with *err
 * (status 400, code 400: Confluent's v3 reports use the HTTP status as error_code). An item is appended in
 * either case (with err_code set on failure), so items stay 1:1 with the objects given. */
int sl_rec_parse_v3(struct sl_rec_req *r, json_t *obj, bool entry, int64_t now_ms, struct sl_rec_err *err);
/* Makes r hold a reference to j until sl_rec_req_fini (steals the reference). Returns 0 or -ENOMEM. */
int sl_rec_req_keep(struct sl_rec_req *r, json_t *j);

/* Picks the partition of every item: an explicit partition outside [0, partitions) becomes a per-record
 * error 40402; keyed items get murmur2 % partitions; keyless ones the request's sticky partition from pt (server/partitioner.h). */
void sl_rec_partition(struct sl_rec_req *r, int32_t partitions, struct sl_partitioner *pt);

/* Encodes the items without errors into batches of at most max_batch_bytes each, grouped by partition (in
 * item order within a partition). An item too large for max_batch_bytes on its own gets per-record error
 * 42208. Sets each item's batch/index. The batches are struct sl_produce_batch (server/produce.h: what the
 * produce path takes). *out is malloc'd; free with sl_rec_batches_free. Returns 0 or
 * -ENOMEM. Each batch's data is sl_bb_finish's output as it is (CRC and record framing right), so, unmodified,
 * it may be produced with sl_produce.built set (server/broker.h: the log skips the second CRC walk). */
int sl_rec_build(struct sl_rec_req *r, size_t max_batch_bytes, struct sl_produce_batch **out, size_t *n);
void sl_rec_batches_free(struct sl_produce_batch *b, size_t n);

/* ---- rendering consumed records ---- */

/* Renders consumed records as v2 JSON objects {"topic","key","value","partition","offset","timestamp",
 * "headers"}, appended to out, comma-separated (the caller writes '[' and ']'). */
struct sl_render {
    struct sl_buf *out;
    enum sl_fmt fmt;
    size_t max_bytes; /* budget of key + value bytes (as Confluent counts); at least one record is rendered */
    size_t max_records; /* 0 = no limit; else rendering stops (full) after this many records */
    size_t used;
    size_t count;     /* records rendered so far */
    bool full;        /* the budget stopped rendering */
};
/* Renders the records of the whole batches in data[0, n) with offset >= from, until the budget is spent.
 * *next becomes the offset after the last record rendered (from when none). Returns 0, -ENOMEM, or
 * SL_ECORRUPT for a malformed batch, which includes offsets no log assigns: a negative base offset or
 * lastOffsetDelta, a last offset + 1 beyond INT64_MAX, a record whose offsetDelta lies outside
 * [0, lastOffsetDelta]. Records rendered before the malformed batch stay in out. */
int sl_rec_render(struct sl_render *rd, const char *topic, int32_t partition, const uint8_t *data, size_t n,
                  sl_offset_t from, sl_offset_t *next);

struct sl_broker;
/* Fetches topic/partition from 'from' (whole batches, below the HW) and renders what it gets into rd, until
 * the HW or rd's budget. scratch is a reusable buffer. *next is the offset after the last record rendered
 * (from when none). Returns 0, SL_EOFFSET (from outside [log start, HW]), SL_ENOTOPIC, SL_ENOPART, SL_EFAILED,
 * -ENOMEM. Never blocks on data. */
int sl_rec_fetch_render(struct sl_broker *b, struct sl_render *rd, const char *topic, int32_t partition,
                        sl_offset_t from, struct sl_buf *scratch, sl_offset_t *next);

/* Formats the message of a 42209 answer for a read of topic/partition at off that met a damaged range:
 * names the range, why, and the next readable offset. Writes into buf (n bytes). Any thread. */
void sl_rec_damage_msg(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t off, char *buf,
                       size_t n);

#endif
