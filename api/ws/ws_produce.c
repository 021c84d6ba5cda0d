/* Producer sessions: ws://host/ws/v1/topics/{topic}/produce?format=json|binary|string
 *
 * Each client message {"id":…,"records":[{"key","value","partition","headers","timestamp"}]} is parsed,
 * partitioned and encoded exactly as a REST v2 produce (api/codec/records.h: same formats, partitioner and
 * limits), submitted through server/produce.h, and answered once every batch is durable:
 *   {"type":"ack","id":…,"offsets":[{"partition":p,"offset":o} | {"partition":p,"offset":null,
 *    "error_code":c,"message":m}]}          (one entry per record, in request order)
 *   {"type":"error","id":…,"error_code":c,"message":m}   (the request failed as a whole; the socket stays)
 * A message that is not JSON closes the socket (4400); one larger than ws.max.message.bytes 4413.
 *
 * THREADS: parse and submit on the service thread; the broker's done callbacks (flusher thread) count down
 * and post the op to the inbox; the ack is composed on the service thread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common/errmap.h"
#include "api/http/metrics.h"
#include "api/ws/ws_int.h"
#include "server/produce.h"
#include "storage/clock.h"
#include "storage/err.h"

struct item {
    int32_t partition;
    size_t batch;
    int32_t index;
    int err_code;
    const char *err_msg;
};

struct produce_op {
    struct sl_ws_op op;
    char *id;                /* raw JSON of the client's id, or NULL */
    struct sl_produce_batch *batches;
    size_t nb;
    struct sl_produce_set *set;
    struct item *items;
    size_t n;
    uint64_t bytes;
};

static void op_free(struct produce_op *o)
{
    sl_produce_set_free(o->set);
    sl_rec_batches_free(o->batches, o->nb);
    free(o->items);
    free(o->id);
    free(o);
}

/* Every batch is in (any thread): the ack is composed on the service thread. */
static void on_produced(struct sl_produce_set *set)
{
    struct produce_op *o = set->arg;
    sl_ws_post(o->op.c->ws, &o->op);
}

static void append_entry(struct sl_buf *b, const struct produce_op *o, size_t i)
{
    char num[96];
    const struct item *it = &o->items[i];
    const struct sl_produce_slot *s = it->err_code ? NULL : &o->set->slots[it->batch];
    int code = it->err_code;
    const char *msg = it->err_msg;
    char with_context[512];
    if (s && s->rc) {
        const struct sl_errmap *e = sl_errmap_get(s->rc);
        code = e->error_code;
        msg = sl_errmap_message(e, sl_produce_set_context(o->set, it->batch), with_context, sizeof with_context);
    }
    int n = code ? snprintf(num, sizeof num, "%s{\"partition\":%d,\"offset\":null,\"error_code\":%d,\"message\":",
                            i ? "," : "", (int)it->partition, code)
                 : snprintf(num, sizeof num, "%s{\"partition\":%d,\"offset\":%" PRId64 "}", i ? "," : "",
                            (int)it->partition, s->prod.first + it->index);
    sl_buf_append(b, num, (size_t)n);
    if (code) {
        sl_json_str_append(b, (const uint8_t *)(msg ? msg : "error"), strlen(msg ? msg : "error"));
        sl_buf_append(b, "}", 1);
    }
}

static void produce_complete(struct sl_ws_op *op)
{
    struct produce_op *o = (struct produce_op *)op;
    struct sl_ws_conn *c = op->c;
    struct sl_buf b = {0};
    sl_buf_append(&b, "{\"type\":\"ack\",\"id\":", 19);
    sl_buf_append(&b, o->id ? o->id : "null", strlen(o->id ? o->id : "null"));
    sl_buf_append(&b, ",\"offsets\":[", 12);
    for (size_t i = 0; i < o->n; i++)
        append_entry(&b, o, i);
    if (sl_buf_append(&b, "]}", 2) == 0)
        sl_ws_send(c, (const char *)b.base, b.len);
    sl_buf_fini(&b);
    size_t ok = sl_produce_set_ok_records(o->set);
    if (ok)
        sl_metrics_records_in(c->ws->metrics, c->t.topic, ok, o->bytes);
    op_free(o);
}

void sl_wsp_open(struct sl_ws_conn *c)
{
    struct sl_topic_info ti;
    if (sl_broker_topic_info(c->ws->b, c->t.topic, &ti))
        sl_ws_fail(c, 404, 40401, "Topic '%s' not found.", c->t.topic);
    else if (ti.internal)
        sl_ws_fail(c, 403, 40301, "Topic '%s' is internal: clients cannot produce to it.", c->t.topic);
}

/* Builds the op from a parsed request: partitions, batches, per-item results. Returns 0 or an error. */
static int build(struct sl_ws_conn *c, struct sl_rec_req *r, struct produce_op *o)
{
    struct sl_topic_info ti;
    int rc = sl_broker_topic_info(c->ws->b, c->t.topic, &ti);
    if (rc)
        return rc;
    sl_rec_partition(r, ti.partitions, sl_broker_partitioner(c->ws->b));
    rc = sl_rec_build(r, (size_t)ti.cfg.max_message_bytes, &o->batches, &o->nb);
    if (rc)
        return rc;
    o->n = r->n;
    o->items = calloc(r->n ? r->n : 1, sizeof *o->items);
    o->set = sl_produce_set_new(o->batches, o->nb, on_produced, o);
    if (!o->items || !o->set)
        return -ENOMEM;
    for (size_t i = 0; i < r->n; i++) {
        const struct sl_rec_item *it = &r->items[i];
        o->items[i] = (struct item){.partition = it->partition, .batch = it->batch, .index = it->index,
                                    .err_code = it->err_code, .err_msg = it->err_msg};
        if (!it->err_code)
            o->bytes += it->rec.key.len + it->rec.value.len;
    }
    return 0;
}

static void submit(struct sl_ws_conn *c, struct produce_op *o)
{
    o->op.c = c;
    o->op.complete = produce_complete;
    sl_ws_conn_ref(c);
    c->pending++;
    sl_ws_op_begin(c->ws);
    sl_produce_submit(c->ws->b, c->t.topic, o->set);
    sl_ws_rx_flow(c);
}

void sl_wsp_message(struct sl_ws_conn *c, const char *msg, size_t len)
{
    struct sl_rec_req r;
    struct sl_rec_err err = {0};
    sl_rec_req_init(&r);
    int rc = sl_rec_parse_v2(&r, msg, len, c->t.fmt, sl_clock_wall_ms(&sl_clock_posix), (size_t)c->ws->cfg->rest_max_records, &err);
    char *id = r.id.base ? strndup((const char *)r.id.base, r.id.len) : NULL;
    struct produce_op *o = NULL;
    if (rc && !r.object) {
        sl_ws_fail(c, err.status == 413 ? 413 : 400, err.code ? err.code : 400, "%s",
                   err.msg[0] ? err.msg : "Malformed JSON.");
    } else if (rc) {
        sl_ws_send_error(c, id, err.code, err.msg);
    } else if (!(o = calloc(1, sizeof *o)) || (rc = build(c, &r, o))) {
        const struct sl_errmap *e = sl_errmap_get(rc ? rc : -ENOMEM);
        sl_ws_send_error(c, id, e->error_code, e->message);
        if (o)
            op_free(o);
    } else {
        o->id = id;
        id = NULL;
        submit(c, o);
    }
    free(id);
    sl_rec_req_fini(&r);
}
