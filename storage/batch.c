/* Kafka RecordBatch v2: the builder used on the produce path, the validator every incoming or recovered
 * batch goes through, and the iterator readers use. The byte layout is in storage/batch.h.
 *
 * INVARIANTS
 *   1. sl_record_encoded_size() and sl_bb_add() share body_size(), so a limit checked with the first holds
 *      for what the second writes (asserted after each write).
 *   2. Every read of record bytes goes through a bounded reader (rd_*), limited by the record's own length
 *      varint; neither the validator nor the iterator trusts a length it has not bounded.
 *   3. sl_bb_add() reserves the whole record (and the header, for the first one) before writing, so an
 *      error leaves the builder unchanged.
 *
 * FAILURE MODES
 *   A record whose length varint disagrees with its fields, a null header key, an offsetDelta out of
 *   sequence or bytes after the last record are SL_ECORRUPT, as is a bad CRC. Fields above Kafka's int32
 *   limits are refused by the builder with SL_ETOOBIG. */
#include "storage/batch.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "storage/crc32c.h"
#include "storage/err.h"

/* Byte offsets of the fixed header fields. */
enum {
    OFF_BASE_OFFSET = 0,
    OFF_LENGTH = 8,
    OFF_EPOCH = 12,
    OFF_MAGIC = 16,
    OFF_CRC = 17,
    OFF_ATTRIBUTES = 21,
    OFF_LAST_OFFSET_DELTA = 23,
    OFF_BASE_TIMESTAMP = 27,
    OFF_MAX_TIMESTAMP = 35,
    OFF_PRODUCER_ID = 43,
    OFF_PRODUCER_EPOCH = 51,
    OFF_BASE_SEQUENCE = 53,
    OFF_COUNT = 57,
};

#define ATTR_COMPRESSION 0x07
#define ATTR_LOG_APPEND_TIME 0x08
#define VARINT_MAX_BYTES 10

/* ---- big-endian fixed fields ---- */

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ---- zig-zag varints ---- */

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63));
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

size_t sl_varint_size(int64_t v)
{
    unsigned bits = 64 - (unsigned)__builtin_clzll(zigzag(v) | 1);
    return (bits + 6) / 7;
}

size_t sl_varint_put(uint8_t *p, int64_t v)
{
    uint64_t u = zigzag(v);
    size_t n = 0;

    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

size_t sl_varint_get(const uint8_t *p, const uint8_t *end, int64_t *v)
{
    size_t avail = end > p ? (size_t)(end - p) : 0;
    uint64_t u = 0;

    if (avail && p[0] < 0x80) { /* the common one-byte case */
        *v = unzigzag(p[0]);
        return 1;
    }
    for (size_t i = 0; i < VARINT_MAX_BYTES && i < avail; i++) {
        uint8_t b = p[i];
        if (i == VARINT_MAX_BYTES - 1 && b > 1)
            return 0; /* bits beyond 64, or an 11th byte */
        u |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = unzigzag(u);
            return i + 1;
        }
    }
    return 0;
}

/* ---- bounded readers over [*pp, end) ---- */

static int rd_varlong(const uint8_t **pp, const uint8_t *end, int64_t *v)
{
    size_t n = sl_varint_get(*pp, end, v);
    if (!n)
        return SL_ECORRUPT;
    *pp += n;
    return 0;
}

/* Kafka's "varint" fields are 32-bit. */
static int rd_varint(const uint8_t **pp, const uint8_t *end, int32_t *v)
{
    int64_t x;
    if (rd_varlong(pp, end, &x) || x < INT32_MIN || x > INT32_MAX)
        return SL_ECORRUPT;
    *v = (int32_t)x;
    return 0;
}

/* A length-prefixed byte string; length -1 is a null (base NULL) where nullable. */
static int rd_bytes(const uint8_t **pp, const uint8_t *end, bool nullable, struct sl_slice *s)
{
    int32_t len;
    if (rd_varint(pp, end, &len))
        return SL_ECORRUPT;
    if (len == -1 && nullable) {
        s->base = NULL;
        s->len = 0;
        return 0;
    }
    if (len < 0 || (size_t)(end - *pp) < (size_t)len)
        return SL_ECORRUPT;
    s->base = *pp;
    s->len = (size_t)len;
    *pp += len;
    return 0;
}

static int rd_header(const uint8_t **pp, const uint8_t *end, struct sl_header *h)
{
    if (rd_bytes(pp, end, false, &h->key) || rd_bytes(pp, end, true, &h->value))
        return SL_ECORRUPT;
    return 0;
}

/* One record, decoded in place by parse_record(). */
struct rec_view {
    int64_t ts_delta;
    int32_t offset_delta;
    struct sl_slice key;
    struct sl_slice value;
    uint32_t nheaders;
    const uint8_t *headers_at;
    const uint8_t *end;
};

/* Parses the record at *pp, which must lie within end, and checks that its length varint covers exactly its
 * fields, headers included. Advances *pp past the record only on success. */
static int parse_record(const uint8_t **pp, const uint8_t *end, struct rec_view *rv)
{
    const uint8_t *p = *pp, *rend;
    int32_t len, nh;
    struct sl_header h;

    if (rd_varint(&p, end, &len) || len < 1 || (size_t)(end - p) < (size_t)len)
        return SL_ECORRUPT;
    rend = p + len;
    p++; /* attributes: unused in v2 */
    if (rd_varlong(&p, rend, &rv->ts_delta) || rd_varint(&p, rend, &rv->offset_delta) ||
        rd_bytes(&p, rend, true, &rv->key) || rd_bytes(&p, rend, true, &rv->value) ||
        rd_varint(&p, rend, &nh) || nh < 0)
        return SL_ECORRUPT;
    rv->headers_at = p;
    for (int32_t i = 0; i < nh; i++)
        if (rd_header(&p, rend, &h))
            return SL_ECORRUPT;
    if (p != rend)
        return SL_ECORRUPT;
    rv->nheaders = (uint32_t)nh;
    rv->end = rend;
    *pp = rend;
    return 0;
}

/* ---- builder ---- */

static int64_t ts_delta(int64_t ts, int64_t base_ts)
{
    return (int64_t)((uint64_t)ts - (uint64_t)base_ts); /* wraps like Java's long; the reader wraps back */
}

/* Encoded size of a length-prefixed byte string. */
static size_t bytes_size(const struct sl_slice *s, bool nullable)
{
    if (nullable && !s->base)
        return 1;
    return sl_varint_size((int64_t)s->len) + s->len;
}

/* Bytes of the record after its length varint. */
static size_t body_size(const struct sl_record *r, int64_t base_ts, int32_t offset_delta)
{
    size_t n = 1 + sl_varint_size(ts_delta(r->timestamp, base_ts)) + sl_varint_size(offset_delta) +
               bytes_size(&r->key, true) + bytes_size(&r->value, true) + sl_varint_size(r->nheaders);

    for (uint32_t i = 0; i < r->nheaders; i++)
        n += bytes_size(&r->headers[i].key, false) + bytes_size(&r->headers[i].value, true);
    return n;
}

size_t sl_record_encoded_size(const struct sl_record *r, int64_t base_ts, int32_t offset_delta)
{
    size_t body = body_size(r, base_ts, offset_delta);
    return sl_varint_size((int64_t)body) + body;
}

/* Kafka's int32 lengths: any single field above INT32_MAX cannot be encoded. */
static bool fields_too_big(const struct sl_record *r)
{
    if (r->key.len > INT32_MAX || r->value.len > INT32_MAX || r->nheaders > INT32_MAX)
        return true;
    for (uint32_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].key.len > INT32_MAX || r->headers[i].value.len > INT32_MAX)
            return true;
    return false;
}

static uint8_t *put_bytes(uint8_t *p, const struct sl_slice *s, bool nullable)
{
    if (nullable && !s->base)
        return p + sl_varint_put(p, -1);
    p += sl_varint_put(p, (int64_t)s->len);
    if (s->len)
        memcpy(p, s->base, s->len);
    return p + s->len;
}

static uint8_t *put_record(uint8_t *p, const struct sl_record *r, size_t body, int64_t base_ts, int32_t delta)
{
    p += sl_varint_put(p, (int64_t)body);
    *p++ = 0; /* attributes */
    p += sl_varint_put(p, ts_delta(r->timestamp, base_ts));
    p += sl_varint_put(p, delta);
    p = put_bytes(p, &r->key, true);
    p = put_bytes(p, &r->value, true);
    p += sl_varint_put(p, r->nheaders);
    for (uint32_t i = 0; i < r->nheaders; i++) {
        p = put_bytes(p, &r->headers[i].key, false); /* Kafka has no null header key: NULL is "" */
        p = put_bytes(p, &r->headers[i].value, true);
    }
    return p;
}

void sl_bb_init(struct sl_batch_builder *b)
{
    memset(b, 0, sizeof(*b));
}

void sl_bb_reset(struct sl_batch_builder *b)
{
    b->buf.len = 0;
    b->count = 0;
    b->base_ts = b->max_ts = 0;
}

int sl_bb_add(struct sl_batch_builder *b, const struct sl_record *r)
{
    int64_t base_ts = b->count ? b->base_ts : r->timestamp;
    size_t hdr = b->count ? 0 : SL_BATCH_HEADER_SIZE;
    size_t body, need;
    int rc;

    if (b->count == INT32_MAX || fields_too_big(r))
        return SL_ETOOBIG;
    body = body_size(r, base_ts, b->count);
    need = sl_varint_size((int64_t)body) + body;
    if (body > INT32_MAX || b->buf.len + hdr + need - SL_BATCH_LOG_OVERHEAD > INT32_MAX)
        return SL_ETOOBIG;
    rc = sl_buf_reserve(&b->buf, hdr + need);
    if (rc)
        return rc;
    if (!b->count) {
        b->buf.len = SL_BATCH_HEADER_SIZE; /* filled by sl_bb_finish() */
        b->base_ts = b->max_ts = r->timestamp;
    }

    uint8_t *end = put_record(b->buf.base + b->buf.len, r, body, base_ts, b->count);
    assert(end == b->buf.base + b->buf.len + need);
    (void)end;
    b->buf.len += need;
    if (r->timestamp > b->max_ts)
        b->max_ts = r->timestamp;
    b->count++;
    return 0;
}

int sl_bb_finish(struct sl_batch_builder *b, struct sl_slice *out)
{
    uint8_t *p = b->buf.base;
    size_t n = b->buf.len;

    if (!b->count)
        return -EINVAL;
    put_be64(p + OFF_BASE_OFFSET, 0);
    put_be32(p + OFF_LENGTH, (uint32_t)(n - SL_BATCH_LOG_OVERHEAD));
    put_be32(p + OFF_EPOCH, 0);
    p[OFF_MAGIC] = SL_BATCH_MAGIC;
    put_be16(p + OFF_ATTRIBUTES, 0);
    put_be32(p + OFF_LAST_OFFSET_DELTA, (uint32_t)(b->count - 1));
    put_be64(p + OFF_BASE_TIMESTAMP, (uint64_t)b->base_ts);
    put_be64(p + OFF_MAX_TIMESTAMP, (uint64_t)b->max_ts);
    put_be64(p + OFF_PRODUCER_ID, UINT64_MAX);     /* -1 */
    put_be16(p + OFF_PRODUCER_EPOCH, UINT16_MAX);  /* -1 */
    put_be32(p + OFF_BASE_SEQUENCE, UINT32_MAX);   /* -1 */
    put_be32(p + OFF_COUNT, (uint32_t)b->count);
    put_be32(p + OFF_CRC, sl_crc32c(0, p + OFF_ATTRIBUTES, n - OFF_ATTRIBUTES));
    out->base = p;
    out->len = n;
    return 0;
}

void sl_bb_fini(struct sl_batch_builder *b)
{
    sl_buf_fini(&b->buf);
    b->count = 0;
}

/* ---- header, validation, in-place rewrites ---- */

int sl_batch_hdr_decode(const uint8_t *p, size_t n, struct sl_batch_hdr *h)
{
    if (n < SL_BATCH_HEADER_SIZE)
        return SL_ECORRUPT;
    h->base_offset = (sl_offset_t)get_be64(p + OFF_BASE_OFFSET);
    h->length = (int32_t)get_be32(p + OFF_LENGTH);
    h->epoch = (sl_epoch_t)get_be32(p + OFF_EPOCH);
    h->magic = (int8_t)p[OFF_MAGIC];
    h->crc = get_be32(p + OFF_CRC);
    h->attributes = (int16_t)get_be16(p + OFF_ATTRIBUTES);
    h->last_offset_delta = (int32_t)get_be32(p + OFF_LAST_OFFSET_DELTA);
    h->base_timestamp = (int64_t)get_be64(p + OFF_BASE_TIMESTAMP);
    h->max_timestamp = (int64_t)get_be64(p + OFF_MAX_TIMESTAMP);
    h->producer_id = (int64_t)get_be64(p + OFF_PRODUCER_ID);
    h->producer_epoch = (int16_t)get_be16(p + OFF_PRODUCER_EPOCH);
    h->base_sequence = (int32_t)get_be32(p + OFF_BASE_SEQUENCE);
    h->count = (int32_t)get_be32(p + OFF_COUNT);
    return 0;
}

int sl_batches_next(const uint8_t *p, size_t n, size_t *at, struct sl_batch_hdr *h, struct sl_slice *batch)
{
    if (*at > n || n - *at < SL_BATCH_HEADER_SIZE)
        return 0;
    sl_batch_hdr_decode(p + *at, n - *at, h);
    size_t sz = (size_t)h->length + SL_BATCH_LOG_OVERHEAD;
    if (h->length < 0 || sz > n - *at || h->base_offset < 0 || h->last_offset_delta < 0 ||
        h->base_offset >= INT64_MAX - h->last_offset_delta)
        return SL_ECORRUPT;
    *batch = (struct sl_slice){p + *at, sz};
    *at += sz;
    return 1;
}

int sl_batch_validate(const uint8_t *p, size_t n)
{
    struct sl_batch_hdr h;
    struct rec_view rv;
    const uint8_t *q, *end;

    if (sl_batch_hdr_decode(p, n, &h) || h.length < 0 ||
        (size_t)h.length + SL_BATCH_LOG_OVERHEAD != n || h.magic != SL_BATCH_MAGIC ||
        (h.attributes & ATTR_COMPRESSION) || h.count < 1 || h.last_offset_delta != h.count - 1)
        return SL_ECORRUPT;
    if (sl_crc32c(0, p + OFF_ATTRIBUTES, n - OFF_ATTRIBUTES) != h.crc)
        return SL_ECORRUPT;
    q = p + SL_BATCH_HEADER_SIZE;
    end = p + n;
    for (int32_t i = 0; i < h.count; i++)
        if (parse_record(&q, end, &rv) || rv.offset_delta != i)
            return SL_ECORRUPT;
    return q == end ? 0 : SL_ECORRUPT;
}

void sl_batch_set_base(uint8_t *p, sl_offset_t base)
{
    put_be64(p + OFF_BASE_OFFSET, (uint64_t)base);
}

void sl_batch_set_epoch(uint8_t *p, sl_epoch_t epoch)
{
    put_be32(p + OFF_EPOCH, (uint32_t)epoch);
}

/* ---- iterator ---- */

int sl_batch_iter_init(struct sl_batch_iter *it, const uint8_t *p, size_t n)
{
    struct sl_batch_hdr *h = &it->hdr;

    memset(it, 0, sizeof(*it));
    if (sl_batch_hdr_decode(p, n, h) || h->length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD ||
        (size_t)h->length + SL_BATCH_LOG_OVERHEAD > n || h->magic != SL_BATCH_MAGIC ||
        (h->attributes & ATTR_COMPRESSION) || h->count < 0)
        return SL_ECORRUPT;
    it->p = p + SL_BATCH_HEADER_SIZE;
    it->end = p + (size_t)h->length + SL_BATCH_LOG_OVERHEAD;
    it->left = h->count;
    return 0;
}

int sl_batch_iter_next(struct sl_batch_iter *it, struct sl_record *r)
{
    struct rec_view rv;

    if (!it->left)
        return it->p == it->end ? 0 : SL_ECORRUPT;
    if (parse_record(&it->p, it->end, &rv))
        return SL_ECORRUPT; /* it->p stays put: every later call fails the same way */
    it->left--;
    if (it->hdr.attributes & ATTR_LOG_APPEND_TIME)
        r->timestamp = it->hdr.max_timestamp; /* Kafka: the broker's time applies to every record */
    else
        r->timestamp = (int64_t)((uint64_t)it->hdr.base_timestamp + (uint64_t)rv.ts_delta);
    r->offset = (sl_offset_t)((uint64_t)it->hdr.base_offset + (uint64_t)(int64_t)rv.offset_delta);
    r->key = rv.key;
    r->value = rv.value;
    r->nheaders = rv.nheaders;
    r->headers = NULL;
    it->headers_at = it->hdr_next = rv.headers_at;
    it->rec_end = rv.end;
    it->nheaders = rv.nheaders;
    it->hdr_i = 0;
    return 1;
}

int sl_batch_iter_header(struct sl_batch_iter *it, uint32_t i, struct sl_header *h)
{
    if (i >= it->nheaders)
        return -EINVAL;
    if (i < it->hdr_i) { /* going back: rescan from the first header */
        it->hdr_next = it->headers_at;
        it->hdr_i = 0;
    }
    for (; it->hdr_i <= i; it->hdr_i++) {
        if (rd_header(&it->hdr_next, it->rec_end, h)) {
            it->hdr_next = it->headers_at;
            it->hdr_i = 0;
            return SL_ECORRUPT;
        }
    }
    return 0;
}
