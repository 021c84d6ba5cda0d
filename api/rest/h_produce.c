/* Produce handlers: v2 POST /topics/{t}[/partitions/{p}], v3 POST /v3/clusters/{cid}/topics/{t}/records
 * (one record, or many concatenated JSON objects in one request) and .../records:batch. The v3 parsing,
 * producing and reports are transport-neutral (api/rest/v3produce.c); this file is their libmicrohttpd side.
 *
 * STAGES (every endpoint): parse the body (api/codec/records.c) -> encode batches -> sl_broker_produce each ->
 * suspend -> the produce done callbacks (flusher thread) record offsets and resume the request when the last
 * one is in -> reply. A produce is answered only once durable (sync) or written (async), as the broker says.
 *
 * v3: the body is read chunk by chunk (streaming-body mode); every complete JSON object is parsed and
 * produced as soon as it has arrived. One record with a Content-Length is answered by its report alone
 * (status = the report's). Otherwise (several records, or any chunked body) the reply is HTTP 200 with one
 * report per line, in order. libmicrohttpd 0.9.75 cannot answer before the request body is complete, so here
 * the reports flow once the body has ended; a chunked upload that opens its connection is served instead by
 * api/rest/produce_stream.c, which sends each report while the upload goes on (api/http/front.c routes it).
 *
 * LIFETIME: per-request state is the request's user data; every produce in flight holds a reference to the
 * request (sl_http_ref), dropped by its done callback, so the state outlives every callback.
 *
 * FAILURE MODES: a request that fails as a whole answers non-2xx (bad JSON 400, wrong types 422, unknown
 * topic 40401, unknown partition 40402, every batch rejected by the broker -> errmap); per-record failures
 * (v2: unknown partition 40402, record over max.message.bytes 42208, a batch failing while others succeed)
 * carry error_code/error in offsets[] with HTTP 200. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common/errmap.h"
#include "api/http/http.h"
#include "api/http/metrics.h"
#include "api/codec/records.h"
#include "api/http/router.h"
#include "api/rest/v3produce.h"
#include "server/broker.h"
#include "server/config.h"
#include "server/produce.h"
#include "storage/err.h"

static uint64_t batch_bytes(const struct sl_produce_batch *b)
{
    return b->len > SL_BATCH_HEADER_SIZE ? b->len - SL_BATCH_HEADER_SIZE : 0;
}

/* ================= v2 ================= */

struct v2state {
    struct sl_req *req;
    char topic[SL_TOPIC_NAME_MAX + 1];
    struct sl_rec_req r;
    struct sl_produce_batch *b;
    size_t nb;
    struct sl_produce_set *set; /* NULL until submitted */
    atomic_bool complete;       /* set by on_v2_done */
};

static void v2state_free(void *p)
{
    struct v2state *st = p;
    sl_rec_req_fini(&st->r);
    sl_produce_set_free(st->set);
    sl_rec_batches_free(st->b, st->nb);
    free(st);
}

static void on_v2_begin(struct sl_req *req)
{
    enum sl_fmt f;
    const char *ct = sl_http_header(req, "Content-Type");
    if (sl_rec_format_from_ctype(ct, &f))
        sl_http_reply_error(req, 415, 415, "HTTP 415 Unsupported Media Type: %s is not a produce content type "
                            "(binary, json or text v2)", ct ? ct : "(none)");
}

/* Appends one offsets[] entry for item i. */
static int v2_entry(struct sl_buf *o, const struct v2state *st, size_t i)
{
    const struct sl_rec_item *it = &st->r.items[i];
    const struct sl_produce_slot *slot = it->err_code ? NULL : &st->set->slots[it->batch];
    char tmp[256];
    int n;
    int code = it->err_code;
    const char *msg = it->err_msg;
    char with_context[512];
    if (slot && slot->rc) {
        const struct sl_errmap *m = sl_errmap_get(slot->rc);
        code = m->error_code;
        msg = sl_errmap_message(m, sl_produce_set_context(st->set, it->batch), with_context, sizeof with_context);
    }
    if (code && it->partition >= 0 && code != 40402)
        n = snprintf(tmp, sizeof tmp, "%s{\"partition\":%" PRId32 ",\"offset\":null,\"error_code\":%d,\"error\":",
                     i ? "," : "", it->partition, code);
    else if (code)
        n = snprintf(tmp, sizeof tmp, "%s{\"partition\":null,\"offset\":null,\"error_code\":%d,\"error\":",
                     i ? "," : "", code);
    else /* the common case, once per record: no printf */
        return sl_buf_append(o, i ? ",{\"partition\":" : "{\"partition\":", i ? 14 : 13) ||
                       sl_dec_append(o, it->partition) || sl_buf_append(o, ",\"offset\":", 10) ||
                       sl_dec_append(o, slot->prod.first + it->index) || sl_buf_append(o, "}", 1)
                   ? -ENOMEM
                   : 0;
    int rc = sl_buf_append(o, tmp, (size_t)n);
    if (rc == 0 && code) {
        rc = sl_json_str_append(o, (const uint8_t *)msg, strlen(msg));
        if (rc == 0)
            rc = sl_buf_append(o, "}", 1);
    }
    return rc;
}

static void v2_reply(struct sl_req *req, struct v2state *st)
{
    struct sl_metrics *m = sl_http_api(req)->metrics;
    for (size_t i = 0; i < st->nb; i++)
        if (st->set->slots[i].rc == 0)
            sl_metrics_records_in(m, st->topic, (uint64_t)st->b[i].count, batch_bytes(&st->b[i]));
    if (st->nb && sl_produce_set_ok_records(st->set) == 0) {
        sl_http_set_context(req, sl_produce_set_first_context(st->set));
        sl_http_reply_rc(req, sl_produce_set_first_error(st->set), NULL);
        return;
    }
    struct sl_buf o = {0};
    static const char head[] = "{\"key_schema_id\":null,\"value_schema_id\":null,\"offsets\":[";
    int rc = sl_buf_reserve(&o, st->r.n * 32 + sizeof head);
    if (rc == 0)
        rc = sl_buf_append(&o, head, sizeof head - 1);
    for (size_t i = 0; rc == 0 && i < st->r.n; i++)
        rc = v2_entry(&o, st, i);
    if (rc == 0)
        rc = sl_buf_append(&o, "]}", 2);
    if (rc) {
        sl_buf_fini(&o);
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    sl_http_reply_buf(req, 200, sl_http_reply_type(req), (char *)o.base, o.len);
}

/* Every batch is in (any thread): wake the request, drop the reference the submission held. */
static void on_v2_done(struct sl_produce_set *set)
{
    struct v2state *st = set->arg;
    struct sl_req *req = st->req;
    atomic_store(&st->complete, true);
    sl_http_resume(req);
    sl_http_unref(req);
}

static void on_v2_resume(struct sl_req *req, enum sl_http_wake why)
{
    struct v2state *st = sl_http_data(req);
    if (atomic_load(&st->complete)) {
        v2_reply(req, st);
        return;
    }
    if (why == SL_HTTP_WAKE_STOPPING || sl_http_suspend(req, 0, on_v2_resume))
        sl_http_reply_rc(req, SL_ESTOPPED, NULL);
}

/* Submits every batch; replies at once when all completed inline, else suspends. */
static void v2_submit(struct sl_req *req, struct v2state *st)
{
    sl_http_ref(req); /* dropped by on_v2_done */
    sl_produce_submit(sl_http_api(req)->broker, st->topic, st->set);
    on_v2_resume(req, SL_HTTP_WAKE_RESUMED);
}

/* Partition count and max.message.bytes of topic; replies 40401 and returns the code it answered when unknown. */
static int topic_limits(struct sl_req *req, const char *topic, int32_t *parts, size_t *max_bytes)
{
    struct sl_topic_info ti;
    int rc = sl_broker_topic_info(sl_http_api(req)->broker, topic, &ti);
    if (rc == 0 && ti.internal)
        rc = SL_EINTERNAL;
    if (rc) {
        sl_http_reply_rc(req, rc, rc == SL_EINTERNAL ? "Topic '%s' is internal: clients cannot produce to it." : NULL,
                         topic);
        return rc;
    }
    *parts = ti.partitions;
    *max_bytes = (size_t)ti.cfg.max_message_bytes;
    return 0;
}

static void on_v2_produce(struct sl_req *req)
{
    const char *topic = sl_http_param(req, "t");
    enum sl_fmt fmt;
    int32_t parts, fixed = -1;
    size_t max_bytes, len;
    if (sl_rec_format_from_ctype(sl_http_header(req, "Content-Type"), &fmt)) {
        on_v2_begin(req);
        return;
    }
    if (topic_limits(req, topic, &parts, &max_bytes))
        return;
    if (sl_http_param(req, "p")) {
        if (sl_http_param_partition(req, "p", &fixed))
            return;
        if (fixed >= parts) {
            sl_http_reply_rc(req, SL_ENOPART, NULL);
            return;
        }
    }
    struct v2state *st = calloc(1, sizeof *st);
    if (!st) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    sl_rec_req_init(&st->r);
    st->req = req;
    snprintf(st->topic, sizeof st->topic, "%s", topic);
    sl_http_set_data(req, st, v2state_free);
    const char *body = sl_http_body(req, &len);
    struct sl_rec_err err = {0};
    const struct sl_config *cfg = sl_http_api(req)->cfg;
    if (sl_rec_parse_v2(&st->r, body, len, fmt, sl_http_wall_ms(), (size_t)cfg->rest_max_records, &err)) {
        sl_http_reply_error(req, err.status, err.code, "%s", err.msg);
        return;
    }
    for (size_t i = 0; fixed >= 0 && i < st->r.n; i++)
        st->r.items[i].partition = fixed;
    sl_rec_partition(&st->r, parts, sl_broker_partitioner(sl_http_api(req)->broker));
    if (sl_rec_build(&st->r, max_bytes, &st->b, &st->nb) ||
        !(st->set = sl_produce_set_new(st->b, st->nb, on_v2_done, st))) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    v2_submit(req, st);
}

/* ================= v3 ================= */

/* The libmicrohttpd side of a v3 produce: the transport-neutral state (api/rest/v3produce.h) and the reply text
 * not yet handed to libmicrohttpd. The request's user data. */
struct v3req {
    struct sl_req *req;
    struct sl_v3p *p;
    bool chunked;       /* the body came chunked: always the streamed form of the reports */
    struct sl_buf out;  /* stream reader only: formatted, not yet written */
    size_t out_at;
};

static void v3req_free(void *arg)
{
    struct v3req *v = arg;
    sl_v3p_free(v->p);
    sl_buf_fini(&v->out);
    free(v);
}

static void hook_hold(void *arg)
{
    sl_http_ref(arg);
}

static void hook_release(void *arg)
{
    sl_http_unref(arg);
}

static void hook_wake(void *arg)
{
    sl_http_resume(arg);
    sl_http_stream_wake(arg);
}

/* Attaches a new v3req to req and checks the target. Replies and returns NULL on failure. */
static struct v3req *v3req_new(struct sl_req *req)
{
    struct v3req *v = calloc(1, sizeof *v);
    const struct sl_v3hooks hooks = {.hold = hook_hold, .release = hook_release, .wake = hook_wake, .arg = req};
    if (v && !(v->p = sl_v3p_new(sl_http_api(req), &hooks))) {
        free(v);
        v = NULL;
    }
    if (!v) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return NULL;
    }
    v->req = req;
    const char *te = sl_http_header(req, "Transfer-Encoding");
    v->chunked = te && strcasestr(te, "chunked");
    sl_http_set_data(req, v, v3req_free);
    struct sl_rec_err e;
    if (sl_v3p_target(v->p, sl_http_param(req, "cid"), sl_http_param(req, "t"), sl_http_content_type_json(req),
                      &e)) {
        sl_http_reply_error(req, e.status, e.code, "%s", e.msg);
        return NULL;
    }
    return v;
}

static void on_v3_begin(struct sl_req *req)
{
    v3req_new(req);
}

static int on_v3_body(struct sl_req *req, const char *data, size_t len)
{
    struct v3req *v = sl_http_data(req);
    return !v || sl_v3p_feed(v->p, data, len);
}

static ssize_t on_v3_stream(struct sl_req *req, char *buf, size_t max)
{
    struct v3req *v = sl_http_data(req);
    sl_v3p_format(v->p, &v->out, v->out_at + max, false);
    size_t avail = v->out.len - v->out_at;
    if (avail == 0) {
        v->out.len = v->out_at = 0;
        return sl_v3p_done(v->p) || sl_http_stopping(req) ? SL_HTTP_STREAM_END : 0;
    }
    size_t n = avail < max ? avail : max;
    memcpy(buf, v->out.base + v->out_at, n);
    v->out_at += n;
    return (ssize_t)n;
}

static void on_v3_single_resume(struct sl_req *req, enum sl_http_wake why)
{
    struct v3req *v = sl_http_data(req);
    bool ready = sl_v3p_ready(v->p, 0);
    if (!ready && why != SL_HTTP_WAKE_STOPPING && sl_http_suspend(req, 0, on_v3_single_resume) == 0)
        return;
    if (!ready) {
        sl_http_reply_rc(req, SL_ESTOPPED, NULL);
        return;
    }
    unsigned status = sl_v3p_status(v->p, 0);
    sl_v3p_format(v->p, &v->out, SIZE_MAX, true);
    sl_http_reply_copy(req, status, "application/json", v->out.base, v->out.len);
}

static void on_v3_records(struct sl_req *req)
{
    struct v3req *v = sl_http_data(req);
    if (!v) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    sl_v3p_end(v->p);
    if (v->p->total == 0) {
        sl_http_reply_error(req, 400, 400, "Payload error. Request body is empty. Data is required.");
        return;
    }
    if (v->p->total == 1 && !v->chunked) {
        on_v3_single_resume(req, SL_HTTP_WAKE_RESUMED);
        return;
    }
    sl_http_reply_stream(req, 200, "application/json", on_v3_stream);
}

/* ---- records:batch ---- */

static int batch_entries(struct sl_req *req, struct sl_v3p *p, json_t *entries)
{
    struct sl_rec_req r;
    size_t n = json_array_size(entries);
    if (!json_is_array(entries) || n == 0) {
        sl_http_reply_error(req, 400, 400, "entries must be a non-empty array");
        return -EINVAL;
    }
    if (n > (size_t)p->api->cfg->rest_max_records) {
        sl_http_reply_error(req, 400, 400, "Too many entries: %zu (max %d)", n, p->api->cfg->rest_max_records);
        return -EINVAL;
    }
    sl_rec_req_init(&r);
    json_t *seen = json_object(); /* ids so far: jansson's seeded hash table, so distinctness is linear */
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        const char *id = json_string_value(json_object_get(e, "id"));
        bool dup = id && json_object_get(seen, id);
        if (id && !dup)
            json_object_set_new(seen, id, json_true());
        sl_v3p_take_json(p, &r, e, id ? id : "");
        if (!id || !*id || strlen(id) > 80 || dup)
            sl_v3p_fail(p, p->total - 1, 400, 400,
                        dup ? "Entry ids must be distinct." : "Entry id must be a string of 1 to 80 characters.");
    }
    json_decref(seen);
    for (size_t i = 0; i < r.n; i++) /* an id failure must not be produced */
        if (sl_v3p_ready(p, i) && !r.items[i].err_code)
            r.items[i].err_code = 400;
    sl_v3p_submit(p, &r, 0);
    sl_rec_req_fini(&r);
    return 0;
}

/* The 207 reply. Runs once nothing is pending, so the reports no longer change. */
static void batch_reply(struct sl_req *req, struct sl_v3p *p)
{
    json_t *ok = json_array(), *bad = json_array();
    char ts[40];
    for (size_t i = 0; i < p->total; i++) {
        struct sl_v3rep *r = &p->reps[i];
        if (r->status != 200) {
            json_array_append_new(bad, json_pack("{s:s,s:i,s:s}", "id", r->id ? r->id : "", "error_code", r->code,
                                                 "message", r->msg ? r->msg : ""));
            continue;
        }
        sl_rfc3339_format(r->ts, ts, sizeof ts);
        json_t *s = json_pack("{s:s,s:s,s:s,s:i,s:I,s:s}", "id", r->id, "cluster_id", p->cluster, "topic_name",
                              p->topic, "partition_id", (int)r->partition, "offset", (json_int_t)r->offset,
                              "timestamp", ts);
        json_object_set_new(s, "key", r->has_key ? json_pack("{s:s,s:I}", "type", sl_rec_v3type_name(r->ktype),
                                                            "size", (json_int_t)r->ksize) : json_null());
        json_object_set_new(s, "value", r->has_value ? json_pack("{s:s,s:I}", "type", sl_rec_v3type_name(r->vtype),
                                                                "size", (json_int_t)r->vsize) : json_null());
        json_array_append_new(ok, s);
    }
    sl_http_reply_json(req, 207, json_pack("{s:o,s:o}", "successes", ok, "failures", bad));
}

static void on_batch_resume(struct sl_req *req, enum sl_http_wake why)
{
    struct v3req *v = sl_http_data(req);
    size_t pending = sl_v3p_pending(v->p);
    if (pending && why != SL_HTTP_WAKE_STOPPING && sl_http_suspend(req, 0, on_batch_resume) == 0)
        return;
    if (pending)
        sl_http_reply_rc(req, SL_ESTOPPED, NULL);
    else
        batch_reply(req, v->p);
}

static void on_v3_batch(struct sl_req *req)
{
    struct v3req *v = v3req_new(req);
    if (!v)
        return;
    json_t *body = sl_http_body_json(req, JSON_OBJECT);
    if (!body)
        return;
    int rc = batch_entries(req, v->p, json_object_get(body, "entries"));
    json_decref(body);
    if (rc == 0)
        on_batch_resume(req, SL_HTTP_WAKE_RESUMED);
}

void sl_h_produce_register(struct sl_router *r)
{
    static const struct sl_route_ops v2 = {.begin = on_v2_begin, .handle = on_v2_produce};
    static const struct sl_route_ops v3 = {.begin = on_v3_begin, .body = on_v3_body, .handle = on_v3_records};
    sl_router_add_ops(r, "POST", "/topics/{t}", &v2, 0);
    sl_router_add_ops(r, "POST", "/topics/{t}/partitions/{p}", &v2, 0);
    sl_router_add_ops(r, "POST", "/v3/clusters/{cid}/topics/{t}/records", &v3, SL_ROUTE_STREAM);
    sl_router_add(r, "POST", "/v3/clusters/{cid}/topics/{t}/records:batch", on_v3_batch);
}
