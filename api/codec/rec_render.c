/* Rendering consumed records as v2 JSON (contract: api/codec/records.h, sl_rec_render / sl_rec_fetch_render).
 * Writes JSON text by hand into an sl_buf (no jansson): values are copied as base64, as raw JSON text (when
 * they are valid JSON, sl_json_valid), or as escaped strings. */
#include "api/codec/rec_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "server/broker.h"
#include "storage/err.h"

/* ---- rendering ----
 *
 * SPEED: JSON is written straight into rd->out behind inline capacity checks (room, put): no snprintf, no call
 * per piece; numbers by sl_dec_put; strings by sl_json_str_append (plain runs 8 bytes at a time); base64 by
 * sl_b64_put (12 bits per lookup); json-format values are checked by sl_json_valid (iterative, table-driven)
 * before they are copied as they are. What is the same for every record of a call is worked out once per call
 * (struct rhead): ",\"partition\":P,\"offset\":" formatted, and whether the topic needs escaping at all.
 * The output is byte for byte what the snprintf-based renderer wrote (tests/unit/test_records.c keeps that
 * renderer as the oracle of a differential test). */

/* Bytes of a record's JSON from its offset to its headers: ",\"timestamp\":", ",\"headers\":" and two
 * numbers of at most 20 bytes. */
#define REC_TAIL_MAX (sizeof ",\"timestamp\":" - 1 + 20 + sizeof ",\"headers\":" - 1 + 20)

/* What every record of one sl_rec_render call shares. */
struct rhead {
    const char *topic;
    size_t topic_len;
    bool topic_plain; /* every byte plain: its JSON string is the topic between quotes */
    uint8_t mid[48];  /* ,"partition":<partition>,"offset": */
    size_t mid_len;
};

static int render_bytes(struct sl_buf *o, enum sl_fmt fmt, struct sl_slice s)
{
    if (!s.base)
        return rec_put(o, "null", 4);
    if (fmt == SL_FMT_BINARY) {
        if (rec_room(o, (s.len + 2) / 3 * 4 + 2))
            return -ENOMEM;
        uint8_t *w = o->base + o->len;
        *w++ = '"';
        w = sl_b64_put(w, s.base, s.len);
        *w++ = '"';
        o->len = (size_t)(w - o->base);
        return 0;
    }
    if (fmt == SL_FMT_JSON && sl_json_valid(s.base, s.len))
        return rec_put(o, s.base, s.len);
    return sl_json_str_append(o, s.base, s.len); /* text, or json-format bytes that are not JSON */
}

static int render_headers(struct sl_buf *o, struct sl_batch_iter *it, const struct sl_record *r)
{
    int rc = rec_put(o, "[", 1);
    for (uint32_t i = 0; rc == 0 && i < r->nheaders; i++) {
        struct sl_header h;
        rc = sl_batch_iter_header(it, i, &h);
        if (rc == 0)
            rc = i ? rec_put(o, ",{\"key\":", 8) : rec_put(o, "{\"key\":", 7);
        if (rc == 0)
            rc = sl_json_str_append(o, h.key.base, h.key.len);
        if (rc == 0)
            rc = rec_put(o, ",\"value\":", 9);
        if (rc == 0)
            rc = render_bytes(o, SL_FMT_BINARY, h.value);
        if (rc == 0)
            rc = rec_put(o, "}", 1);
    }
    return rc ? rc : rec_put(o, "]", 1);
}

/* Appends {"topic":<topic>,"key": with a comma before it when a record precedes it. */
static int render_head(struct sl_render *rd, const struct rhead *hd)
{
    struct sl_buf *o = rd->out;
    if (!hd->topic_plain) {
        int rc = rd->count ? rec_put(o, ",{\"topic\":", 10) : rec_put(o, "{\"topic\":", 9);
        if (rc == 0)
            rc = sl_json_str_append(o, (const uint8_t *)hd->topic, hd->topic_len);
        return rc ? rc : rec_put(o, ",\"key\":", 7);
    }
    if (rec_room(o, 11 + hd->topic_len + 8))
        return -ENOMEM;
    uint8_t *w = o->base + o->len;
    if (rd->count)
        *w++ = ',';
    w = (uint8_t *)memcpy(w, "{\"topic\":\"", 10) + 10;
    w = (uint8_t *)memcpy(w, hd->topic, hd->topic_len) + hd->topic_len;
    w = (uint8_t *)memcpy(w, "\",\"key\":", 8) + 8;
    o->len = (size_t)(w - o->base);
    return 0;
}

static int render_one(struct sl_render *rd, const struct rhead *hd, struct sl_batch_iter *it,
                      const struct sl_record *r)
{
    struct sl_buf *o = rd->out;
    int rc = render_head(rd, hd);
    if (rc == 0)
        rc = render_bytes(o, rd->fmt, r->key);
    if (rc == 0)
        rc = rec_put(o, ",\"value\":", 9);
    if (rc == 0)
        rc = render_bytes(o, rd->fmt, r->value);
    if (rc == 0 && (rc = rec_room(o, hd->mid_len + REC_TAIL_MAX)) == 0) {
        uint8_t *w = (uint8_t *)memcpy(o->base + o->len, hd->mid, hd->mid_len) + hd->mid_len;
        w = sl_dec_put(w, r->offset);
        w = (uint8_t *)memcpy(w, ",\"timestamp\":", 13) + 13;
        w = sl_dec_put(w, r->timestamp);
        w = (uint8_t *)memcpy(w, ",\"headers\":", 11) + 11;
        o->len = (size_t)(w - o->base);
    }
    if (rc == 0)
        rc = render_headers(o, it, r);
    return rc ? rc : rec_put(o, "}", 1);
}

static void rhead_init(struct rhead *hd, const char *topic, int32_t partition)
{
    static const char p[] = ",\"partition\":", off[] = ",\"offset\":";
    hd->topic = topic;
    hd->topic_len = strlen(topic);
    hd->topic_plain = true;
    for (size_t i = 0; i < hd->topic_len; i++)
        hd->topic_plain &= (sl_jcls[(uint8_t)topic[i]] & SL_JP) != 0;
    uint8_t *w = (uint8_t *)memcpy(hd->mid, p, sizeof p - 1) + sizeof p - 1;
    w = sl_dec_put(w, partition);
    w = (uint8_t *)memcpy(w, off, sizeof off - 1) + sizeof off - 1;
    hd->mid_len = (size_t)(w - hd->mid);
}

int sl_rec_render(struct sl_render *rd, const char *topic, int32_t partition, const uint8_t *data, size_t n,
                  sl_offset_t from, sl_offset_t *next)
{
    struct rhead hd;
    size_t at = 0;
    rhead_init(&hd, topic, partition);
    *next = from;
    while (!rd->full) {
        struct sl_batch_hdr h;
        struct sl_batch_iter it;
        struct sl_record r;
        struct sl_slice bs;
        int rc = sl_batches_next(data, n, &at, &h, &bs);
        if (rc <= 0)
            return rc;
        if (h.base_offset + h.last_offset_delta < from)
            continue;
        rc = sl_batch_iter_init(&it, bs.base, bs.len);
        int more;
        while (rc == 0 && (more = sl_batch_iter_next(&it, &r)) > 0) {
            if (r.offset < h.base_offset || r.offset > h.base_offset + h.last_offset_delta) {
                rc = SL_ECORRUPT; /* an offsetDelta outside the batch (unvalidated bytes) */
                break;
            }
            if (r.offset < from)
                continue;
            size_t cost = r.key.len + r.value.len;
            if ((rd->count && rd->used + cost > rd->max_bytes) || (rd->max_records && rd->count >= rd->max_records)) {
                rd->full = true;
                break;
            }
            rc = render_one(rd, &hd, &it, &r);
            rd->used += cost;
            rd->count++;
            *next = r.offset + 1;
        }
        if (rc == 0 && more < 0)
            rc = more;
        if (rc)
            return rc;
    }
    return 0;
}

int sl_rec_fetch_render(struct sl_broker *b, struct sl_render *rd, const char *topic, int32_t partition,
                        sl_offset_t from, struct sl_buf *scratch, sl_offset_t *next)
{
    sl_offset_t cur = from, hw = from;
    int rc = 0;
    while (!rd->full) {
        size_t budget = rd->max_bytes > rd->used ? rd->max_bytes - rd->used : 0;
        size_t fetch = budget < 65536 ? 65536 : budget > (16u << 20) ? (16u << 20) : budget;
        scratch->len = 0;
        rc = sl_broker_fetch(b, topic, partition, cur, fetch, scratch, &hw);
        if (rc == SL_EDAMAGED && cur > from)
            rc = 0; /* the good prefix first; the next read from cur reports the damage */
        if (rc || scratch->len == 0)
            break;
        sl_offset_t nx;
        rc = sl_rec_render(rd, topic, partition, scratch->base, scratch->len, cur, &nx);
        if (rc || nx == cur)
            break;
        cur = nx;
        if (cur >= hw)
            break;
    }
    *next = cur;
    return rc;
}

void sl_rec_damage_msg(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t off, char *buf,
                       size_t n)
{
    sl_offset_t from, to;
    char why[160];
    if (sl_broker_damage_at(b, topic, partition, off, &from, &to, why, sizeof why) == 0)
        snprintf(buf, n,
                 "Offsets [%" PRId64 ", %" PRId64 ") of %s-%" PRId32 " are in a damaged range of the log (%s); the "
                 "next readable offset is %" PRId64 ".",
                 from, to, topic, partition, why, to);
    else
        snprintf(buf, n, "Offset %" PRId64 " of %s-%" PRId32 " is in a damaged range of the log.", off, topic,
                 partition);
}
