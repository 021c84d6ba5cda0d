/* The fan-out cache: each batch of records is rendered once per (topic, partition, format, start offset)
 * and the same frame is written to every subscriber that stands at that position. A feed remembers the last
 * SL_WS_CACHE_SLOTS frames of one (topic, partition, format); subscribers that move in step (the usual case:
 * all caught up, woken by the same append) hit the same frame. A feed also remembers the offset where it last
 * found nothing, until the next data wake (ws->wake_gen): the other subscribers standing there then cost no
 * fetch.
 *
 * THREADS: service thread only (no locks). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws/ws_int.h"
#include "storage/err.h"

struct sl_ws_feed {
    struct sl_ws_feed *next;
    char topic[SL_TOPIC_NAME_MAX + 1];
    int32_t partition;
    enum sl_fmt fmt;
    unsigned victim;
    bool empty;               /* nothing was at empty_from when ws->wake_gen was empty_gen */
    sl_offset_t empty_from;
    uint64_t empty_gen;
    struct sl_ws_frame slot[SL_WS_CACHE_SLOTS];
};

static const char PREFIX[] = "{\"type\":\"records\",\"records\":[";

static struct sl_ws_feed *feed_get(struct sl_ws *ws, const char *topic, int32_t partition, enum sl_fmt fmt)
{
    struct sl_ws_feed **pp = &ws->feeds;
    for (struct sl_ws_feed *f = *pp; f; pp = &f->next, f = f->next)
        if (f->partition == partition && f->fmt == fmt && strcmp(f->topic, topic) == 0) {
            *pp = f->next; /* move to front */
            f->next = ws->feeds;
            ws->feeds = f;
            return f;
        }
    struct sl_ws_feed *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    snprintf(f->topic, sizeof f->topic, "%s", topic);
    f->partition = partition;
    f->fmt = fmt;
    f->next = ws->feeds;
    ws->feeds = f;
    return f;
}

/* Renders a new frame into slot. Returns 0 (slot->buf NULL when nothing) or an error. */
static int render(struct sl_ws *ws, struct sl_ws_feed *f, sl_offset_t from, size_t max_records,
                  struct sl_ws_frame *slot)
{
    sl_offset_t start, hw;
    int rc = sl_broker_offsets(ws->b, f->topic, f->partition, &start, &hw);
    if (rc)
        return rc;
    if (from == hw)
        return 0; /* nothing yet (the common case of a caught-up subscriber): no fetch, no buffer */
    struct sl_buf out = {0};
    rc = sl_buf_reserve(&out, LWS_PRE + 4096);
    if (rc)
        return rc;
    memset(out.base, 0, LWS_PRE);
    out.len = LWS_PRE;
    sl_buf_append(&out, PREFIX, sizeof PREFIX - 1);
    struct sl_render rd = {.out = &out, .fmt = f->fmt, .max_bytes = SL_WS_FRAME_BYTES,
                           .max_records = max_records < SL_WS_FRAME_RECORDS ? max_records : SL_WS_FRAME_RECORDS};
    sl_offset_t next = from;
    rc = sl_rec_fetch_render(ws->b, &rd, f->topic, f->partition, from, &ws->scratch, &next);
    if (rc == 0 && rd.count)
        rc = sl_buf_append(&out, "]}", 2);
    if (rc || rd.count == 0) {
        sl_buf_fini(&out);
        return rc;
    }
    *slot = (struct sl_ws_frame){.from = from, .next = next, .count = rd.count, .bytes = rd.used,
                                 .len = out.len - LWS_PRE, .buf = out.base, .hw = hw, .gen = ws->wake_gen};
    return 0;
}

int sl_ws_cache_get(struct sl_ws *ws, const char *topic, int32_t partition, enum sl_fmt fmt, sl_offset_t from,
                    size_t max_records, const struct sl_ws_frame **out)
{
    *out = NULL;
    struct sl_ws_feed *f = feed_get(ws, topic, partition, fmt);
    if (!f)
        return -ENOMEM;
    for (unsigned i = 0; i < SL_WS_CACHE_SLOTS; i++)
        if (f->slot[i].buf && f->slot[i].from == from && f->slot[i].count <= max_records) {
            *out = &f->slot[i];
            return 0;
        }
    if (f->empty && f->empty_from == from && f->empty_gen == ws->wake_gen)
        return 0;
    struct sl_ws_frame fr = {0};
    int rc = render(ws, f, from, max_records, &fr);
    if (rc || !fr.buf) {
        if (rc == 0) {
            f->empty = true;
            f->empty_from = from;
            f->empty_gen = ws->wake_gen;
        }
        return rc;
    }
    struct sl_ws_frame *slot = &f->slot[f->victim];
    f->victim = (f->victim + 1) % SL_WS_CACHE_SLOTS;
    free(slot->buf);
    *slot = fr;
    *out = slot;
    return 0;
}

void sl_ws_cache_free(struct sl_ws *ws)
{
    while (ws->feeds) {
        struct sl_ws_feed *f = ws->feeds;
        ws->feeds = f->next;
        for (unsigned i = 0; i < SL_WS_CACHE_SLOTS; i++)
            free(f->slot[i].buf);
        free(f);
    }
}
