/* Produce handlers: v2 POST /topics/{t}[/partitions/{p}], v3 POST /v3/clusters/{cid}/topics/{t}/records
 * (one record, or many concatenated JSON objects streamed in one request) and .../records:batch.
 *
 * STAGES (every endpoint): parse the body (api/records.c) -> encode batches -> sl_broker_produce each ->
 * suspend -> the produce done callbacks (flusher thread) record offsets and resume the request when the last
 * one is in -> reply. A produce is answered only once durable (sync) or written (async), as the broker says.
 *
 * v3 streaming: the body is read chunk by chunk (streaming-body mode); every complete JSON object is parsed
 * and produced as soon as it has arrived, so records are stored while the upload goes on. libmicrohttpd
 * 0.9.75 cannot send a response before the request body is complete, so the delivery reports (one per
 * record, in order, each with its own error_code; HTTP 200) are streamed once the body has ended, each as
 * soon as its record is durable.
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
#include <time.h>

#include "api/errmap.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/records.h"
#include "api/router.h"
#include "server/broker.h"
#include "server/config.h"
#include "storage/err.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t batch_bytes(const struct sl_rec_batch *b)
{
    return b->len > SL_BATCH_HEADER_SIZE ? b->len - SL_BATCH_HEADER_SIZE : 0;
}

/* ================= v2 ================= */

struct v2batch {
    struct sl_produce prod;
    struct v2state *st;
    int rc;
};

struct v2state {
    struct sl_req *req;
    char topic[SL_TOPIC_NAME_MAX + 1];
    struct sl_rec_req r;
    struct sl_rec_batch *b;
    size_t nb;
    struct v2batch *pb;
    atomic_size_t pending; /* batches in flight + 1 while the handler issues them */
};

static void v2state_free(void *p)
{
    struct v2state *st = p;
    sl_rec_req_fini(&st->r);
    sl_rec_batches_free(st->b, st->nb);
    free(st->pb);
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
    char tmp[256];
    int n;
    int code = it->err_code;
    const char *msg = it->err_msg;
    if (!code && st->pb[it->batch].rc) {
        const struct sl_errmap *m = sl_errmap_get(st->pb[it->batch].rc);
        code = m->error_code;
        msg = m->message;
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
                       sl_dec_append(o, st->pb[it->batch].prod.first + it->index) || sl_buf_append(o, "}", 1)
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
    int first_rc = 0;
    bool any_ok = st->nb == 0;
    for (size_t i = 0; i < st->nb; i++) {
        if (st->pb[i].rc == 0) {
            any_ok = true;
            sl_metrics_records_in(st->topic, (uint64_t)st->b[i].count, batch_bytes(&st->b[i]));
        } else if (!first_rc) {
            first_rc = st->pb[i].rc;
        }
    }
    if (!any_ok) {
        sl_http_reply_rc(req, first_rc, NULL);
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
    sl_http_reply_buf(req, 200, "application/vnd.kafka.v2+json", (char *)o.base, o.len);
}

static void on_v2_done(struct sl_produce *prod, int rc)
{
    struct v2batch *pb = prod->arg;
    struct v2state *st = pb->st;
    struct sl_req *req = st->req;
    pb->rc = rc;
    if (atomic_fetch_sub(&st->pending, 1) == 1)
        sl_http_resume(req);
    sl_http_unref(req);
}

static void on_v2_resume(struct sl_req *req, enum sl_http_wake why)
{
    struct v2state *st = sl_http_data(req);
    if (atomic_load(&st->pending) == 0) {
        v2_reply(req, st);
        return;
    }
    if (why == SL_HTTP_WAKE_STOPPING || sl_http_suspend(req, 0, on_v2_resume))
        sl_http_reply_rc(req, SL_ESTOPPED, NULL);
}

/* Issues every batch; replies at once when all completed inline, else suspends. */
static void v2_submit(struct sl_req *req, struct v2state *st)
{
    struct sl_broker *b = sl_http_api(req)->broker;
    atomic_store(&st->pending, st->nb + 1);
    for (size_t i = 0; i < st->nb; i++) {
        struct v2batch *pb = &st->pb[i];
        pb->st = st;
        pb->prod.done = on_v2_done;
        pb->prod.arg = pb;
        sl_http_ref(req);
        int rc = sl_broker_produce(b, st->topic, st->b[i].partition, st->b[i].data, st->b[i].len, &pb->prod);
        if (rc) {
            pb->rc = rc;
            atomic_fetch_sub(&st->pending, 1);
            sl_http_unref(req);
        }
    }
    if (atomic_fetch_sub(&st->pending, 1) == 1) {
        v2_reply(req, st);
        return;
    }
    if (sl_http_suspend(req, 0, on_v2_resume))
        sl_http_reply_rc(req, SL_ESTOPPED, NULL);
}

/* Partition count and max.message.bytes of topic; replies 40401 and returns non-zero when unknown. */
static int topic_limits(struct sl_req *req, const char *topic, int32_t *parts, size_t *max_bytes)
{
    struct sl_topic_info ti;
    int rc = sl_broker_topic_info(sl_http_api(req)->broker, topic, &ti);
    if (rc) {
        sl_http_reply_rc(req, rc, NULL);
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
    struct sl_rec_err err;
    const struct sl_config *cfg = sl_http_api(req)->cfg;
    if (sl_rec_parse_v2(&st->r, body, len, fmt, wall_ms(), (size_t)cfg->rest_max_records, &err)) {
        sl_http_reply_error(req, err.status, err.code, "%s", err.msg);
        return;
    }
    for (size_t i = 0; fixed >= 0 && i < st->r.n; i++)
        st->r.items[i].partition = fixed;
    sl_rec_partition(&st->r, parts);
    if (sl_rec_build(&st->r, max_bytes, &st->b, &st->nb) ||
        !(st->pb = calloc(st->nb + 1, sizeof *st->pb))) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    v2_submit(req, st);
}

/* ================= v3 ================= */

/* One record's delivery report. guarded by: v3state.mu once produced. */
struct v3rep {
    int32_t partition;
    sl_offset_t offset;
    int64_t ts;
    int ktype, vtype;
    size_t ksize, vsize;
    bool has_key, has_value;
    bool ready;
    unsigned status; /* 200, or the error's status */
    int code;        /* error_code (Confluent v3: the HTTP status) */
    char *msg;       /* owned; error message */
    char *id;        /* records:batch entry id (owned) */
};

struct v3state {
    struct sl_req *req;
    struct sl_api *api;
    char topic[SL_TOPIC_NAME_MAX + 1];
    char cluster[64];
    int32_t parts;
    size_t max_bytes;
    bool batch_mode;     /* records:batch */
    pthread_mutex_t mu;
    struct v3rep *reps;  /* guarded by: mu */
    size_t n, cap;       /* guarded by: mu */
    size_t pending;      /* guarded by: mu; batches in flight */
    size_t sent;         /* stream reader only */
    struct sl_buf in;    /* unparsed body bytes (body callback only) */
    bool stop_parsing;   /* body callback only: a framing error ended the stream */
    struct sl_buf out;   /* stream reader only: formatted, not yet written */
    size_t out_at;
};

struct v3batch {
    struct sl_produce prod;
    struct v3state *st;
    size_t n;
    size_t *rep;  /* report index of each record of the batch, in batch order */
    int rc;
};

static void v3state_free(void *p)
{
    struct v3state *st = p;
    for (size_t i = 0; i < st->n; i++) {
        free(st->reps[i].msg);
        free(st->reps[i].id);
    }
    free(st->reps);
    sl_buf_fini(&st->in);
    sl_buf_fini(&st->out);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* Appends a report slot (mu held). Returns its index or -1. */
static ssize_t rep_new(struct v3state *st)
{
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 16;
        struct v3rep *v = realloc(st->reps, nc * sizeof *v);
        if (!v)
            return -1;
        st->reps = v;
        st->cap = nc;
    }
    memset(&st->reps[st->n], 0, sizeof st->reps[0]);
    return (ssize_t)st->n++;
}

static void rep_fail(struct v3rep *r, unsigned status, int code, const char *msg)
{
    r->status = status;
    r->code = code;
    free(r->msg);
    r->msg = strdup(msg ? msg : "error");
    r->ready = true;
}

static void on_v3_done(struct sl_produce *prod, int rc)
{
    struct v3batch *vb = prod->arg;
    struct v3state *st = vb->st;
    struct sl_req *req = st->req;
    const struct sl_errmap *m = rc ? sl_errmap_get(rc) : NULL;
    uint64_t bytes = 0;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < vb->n; i++) {
        struct v3rep *r = &st->reps[vb->rep[i]];
        bytes += r->ksize + r->vsize;
        if (rc) {
            rep_fail(r, m->status, (int)m->status, m->message);
        } else {
            r->offset = prod->first + (sl_offset_t)i;
            r->status = 200;
            r->ready = true;
        }
    }
    st->pending--;
    pthread_mutex_unlock(&st->mu);
    if (rc == 0)
        sl_metrics_records_in(st->topic, vb->n, bytes);
    free(vb->rep);
    free(vb);
    sl_http_resume(req);
    sl_http_stream_wake(req);
    sl_http_unref(req);
}

/* Fills the reports of the items (first report index base) and produces the batches. */
static void v3_submit(struct v3state *st, struct sl_rec_req *r, size_t base)
{
    struct sl_rec_batch *b = NULL;
    size_t nb = 0;
    sl_rec_partition(r, st->parts);
    int rc = sl_rec_build(r, st->max_bytes, &b, &nb);
    struct v3batch **vbs = calloc(nb + 1, sizeof *vbs);
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < r->n; i++) {
        struct sl_rec_item *it = &r->items[i];
        struct v3rep *rep = &st->reps[base + i];
        if (rep->ready)
            continue; /* failed while parsing */
        rep->partition = it->partition;
        rep->ts = it->rec.timestamp;
        rep->ktype = it->key_type;
        rep->vtype = it->value_type;
        rep->has_key = it->rec.key.base != NULL;
        rep->has_value = it->rec.value.base != NULL;
        rep->ksize = it->rec.key.len;
        rep->vsize = it->rec.value.len;
        if (it->err_code == 40402)
            rep_fail(rep, 404, 404, "This server does not host this topic-partition.");
        else if (it->err_code)
            rep_fail(rep, 413, 413, it->err_msg);
        else if (rc || !vbs)
            rep_fail(rep, 500, 500, "out of memory");
    }
    for (size_t k = 0; rc == 0 && vbs && k < nb; k++) {
        vbs[k] = calloc(1, sizeof *vbs[k]);
        if (vbs[k] && !(vbs[k]->rep = calloc((size_t)b[k].count + 1, sizeof *vbs[k]->rep))) {
            free(vbs[k]);
            vbs[k] = NULL;
        }
    }
    for (size_t i = 0; rc == 0 && vbs && i < r->n; i++) {
        struct sl_rec_item *it = &r->items[i];
        if (!st->reps[base + i].ready && vbs[it->batch])
            vbs[it->batch]->rep[it->index] = base + i;
        else if (!st->reps[base + i].ready)
            rep_fail(&st->reps[base + i], 500, 500, "out of memory");
    }
    pthread_mutex_unlock(&st->mu);
    for (size_t k = 0; rc == 0 && vbs && k < nb; k++) {
        struct v3batch *vb = vbs[k];
        if (!vb)
            continue;
        vb->st = st;
        vb->n = (size_t)b[k].count;
        vb->prod.done = on_v3_done;
        vb->prod.arg = vb;
        pthread_mutex_lock(&st->mu);
        st->pending++;
        pthread_mutex_unlock(&st->mu);
        sl_http_ref(st->req);
        int prc = sl_broker_produce(st->api->broker, st->topic, b[k].partition, b[k].data, b[k].len, &vb->prod);
        if (prc)
            on_v3_done(&vb->prod, prc); /* done never runs on an error return: complete it here */
    }
    free(vbs);
    sl_rec_batches_free(b, nb);
}

/* Parses one complete JSON object of len bytes at p into a report and a produce (batch of one object per
 * call; a body chunk's objects are grouped by the caller). */
static void v3_take(struct v3state *st, struct sl_rec_req *r, const char *p, size_t len, const char *id)
{
    json_error_t je;
    struct sl_rec_err err;
    pthread_mutex_lock(&st->mu);
    ssize_t k = rep_new(st);
    pthread_mutex_unlock(&st->mu);
    if (k < 0)
        return;
    json_t *o = json_loadb(p, len, 0, &je);
    int rc = o ? sl_rec_parse_v3(r, o, wall_ms(), &err) : -EINVAL;
    if (!o)
        snprintf(err.msg, sizeof err.msg, "Malformed JSON: %s", je.text);
    if (o)
        sl_rec_req_keep(r, o);
    else
        sl_rec_parse_v3(r, NULL, 0, &(struct sl_rec_err){0}); /* keeps items 1:1 with reports */
    pthread_mutex_lock(&st->mu);
    if (rc)
        rep_fail(&st->reps[k], 400, 400, err.msg);
    if (id)
        st->reps[k].id = strdup(id);
    pthread_mutex_unlock(&st->mu);
}

/* Length of the complete JSON object at the start of p[0, n) (after whitespace), 0 when incomplete, -1 when
 * the text cannot start an object. */
static ssize_t object_end(const char *p, size_t n, size_t *skip)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t' || p[i] == ','))
        i++;
    *skip = i;
    if (i == n)
        return 0;
    if (p[i] != '{')
        return -1;
    int depth = 0;
    bool str = false, esc = false;
    for (size_t j = i; j < n; j++) {
        char c = p[j];
        if (str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return (ssize_t)(j + 1 - i);
        }
    }
    return 0;
}

/* Consumes every complete object buffered in st->in; at_end: the rest is an error. */
static void v3_drain(struct v3state *st, bool at_end)
{
    struct sl_rec_req r;
    size_t at = 0, base = st->n;
    sl_rec_req_init(&r);
    while (!st->stop_parsing) {
        size_t skip;
        ssize_t len = object_end((const char *)st->in.base + at, st->in.len - at, &skip);
        at += skip;
        if (len > 0) {
            v3_take(st, &r, (const char *)st->in.base + at, (size_t)len, NULL);
            at += (size_t)len;
            continue;
        }
        bool rest = at < st->in.len;
        size_t limit = st->max_bytes * 2 + 65536;
        if (len < 0 || (at_end && rest) || st->in.len - at > limit) {
            pthread_mutex_lock(&st->mu);
            ssize_t k = rep_new(st);
            if (k >= 0)
                rep_fail(&st->reps[k], len == 0 && !at_end ? 413 : 400, len == 0 && !at_end ? 413 : 400,
                         len == 0 && !at_end ? "Record too large." : "Malformed JSON: expected a JSON object");
            pthread_mutex_unlock(&st->mu);
            sl_rec_parse_v3(&r, NULL, 0, &(struct sl_rec_err){0});
            st->stop_parsing = true;
        }
        break;
    }
    if (r.n)
        v3_submit(st, &r, base);
    sl_rec_req_fini(&r);
    if (at) {
        memmove(st->in.base, st->in.base + at, st->in.len - at);
        st->in.len -= at;
    }
}

static struct v3state *v3state_new(struct sl_req *req, bool batch_mode)
{
    struct v3state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->req = req;
    st->api = sl_http_api(req);
    st->batch_mode = batch_mode;
    pthread_mutex_init(&st->mu, NULL);
    sl_http_set_data(req, st, v3state_free);
    return st;
}

/* Checks cluster id, topic and content type; fills st. Replies and returns non-zero on failure. */
static int v3_check(struct sl_req *req, struct v3state *st)
{
    const char *cid = sl_http_param(req, "cid"), *topic = sl_http_param(req, "t");
    if (strcmp(cid, sl_broker_cluster_id(st->api->broker)) != 0) {
        sl_http_reply_error(req, 404, 404, "Cluster %s not found.", cid);
        return -ENOENT;
    }
    if (!sl_http_content_type_json(req)) {
        sl_http_reply_error(req, 415, 415, "HTTP 415 Unsupported Media Type");
        return -EINVAL;
    }
    snprintf(st->topic, sizeof st->topic, "%s", topic);
    snprintf(st->cluster, sizeof st->cluster, "%s", cid);
    return topic_limits(req, topic, &st->parts, &st->max_bytes);
}

static void on_v3_begin(struct sl_req *req)
{
    struct v3state *st = v3state_new(req, false);
    if (!st)
        sl_http_reply_rc(req, -ENOMEM, NULL);
    else
        v3_check(req, st);
}

static int on_v3_body(struct sl_req *req, const char *data, size_t len)
{
    struct v3state *st = sl_http_data(req);
    if (!st || st->stop_parsing)
        return 1;
    if (sl_buf_append(&st->in, data, len)) {
        st->stop_parsing = true;
        return 1;
    }
    v3_drain(st, false);
    return st->stop_parsing;
}

/* Formats report i into st->out (mu held). */
static void v3_format(struct v3state *st, const struct v3rep *r, bool single)
{
    char tmp[640], ts[40];
    int n;
    if (r->status != 200) {
        n = snprintf(tmp, sizeof tmp, "{\"error_code\":%d,\"message\":", r->code);
        sl_buf_append(&st->out, tmp, (size_t)n);
        sl_json_str_append(&st->out, (const uint8_t *)r->msg, strlen(r->msg));
        sl_buf_append(&st->out, single ? "}" : "}\n", single ? 1 : 2);
        return;
    }
    sl_rfc3339_format(r->ts, ts, sizeof ts);
    char k[80] = "null", v[80] = "null";
    if (r->has_key)
        snprintf(k, sizeof k, "{\"type\":\"%s\",\"size\":%zu}", sl_rec_v3type_name(r->ktype), r->ksize);
    if (r->has_value)
        snprintf(v, sizeof v, "{\"type\":\"%s\",\"size\":%zu}", sl_rec_v3type_name(r->vtype), r->vsize);
    n = snprintf(tmp, sizeof tmp,
                 "{\"error_code\":200,\"cluster_id\":\"%s\",\"topic_name\":\"%s\",\"partition_id\":%" PRId32
                 ",\"offset\":%" PRId64 ",\"timestamp\":\"%s\",\"key\":%s,\"value\":%s}%s",
                 st->cluster, st->topic, r->partition, r->offset, ts, k, v, single ? "" : "\n");
    sl_buf_append(&st->out, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static ssize_t on_v3_stream(struct sl_req *req, char *buf, size_t max)
{
    struct v3state *st = sl_http_data(req);
    pthread_mutex_lock(&st->mu);
    while (st->sent < st->n && st->reps[st->sent].ready && st->out.len - st->out_at < max)
        v3_format(st, &st->reps[st->sent++], false);
    bool finished = st->sent == st->n;
    pthread_mutex_unlock(&st->mu);
    size_t avail = st->out.len - st->out_at;
    if (avail == 0) {
        st->out.len = st->out_at = 0;
        return finished || sl_http_stopping(req) ? SL_HTTP_STREAM_END : 0;
    }
    size_t n = avail < max ? avail : max;
    memcpy(buf, st->out.base + st->out_at, n);
    st->out_at += n;
    return (ssize_t)n;
}

static void on_v3_single_resume(struct sl_req *req, enum sl_http_wake why)
{
    struct v3state *st = sl_http_data(req);
    pthread_mutex_lock(&st->mu);
    bool ready = st->reps[0].ready;
    pthread_mutex_unlock(&st->mu);
    if (!ready && why != SL_HTTP_WAKE_STOPPING && sl_http_suspend(req, 0, on_v3_single_resume) == 0)
        return;
    if (!ready) {
        sl_http_reply_rc(req, SL_ESTOPPED, NULL);
        return;
    }
    struct v3rep *r = &st->reps[0];
    v3_format(st, r, true);
    sl_http_reply_copy(req, r->status == 200 ? 200 : r->status, "application/json", st->out.base, st->out.len);
}

static void on_v3_records(struct sl_req *req)
{
    struct v3state *st = sl_http_data(req);
    if (!st) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    v3_drain(st, true);
    if (st->n == 0) {
        sl_http_reply_error(req, 400, 400, "Payload error. Request body is empty. Data is required.");
        return;
    }
    if (st->n == 1) {
        on_v3_single_resume(req, SL_HTTP_WAKE_RESUMED);
        return;
    }
    sl_http_reply_stream(req, 200, "application/json", on_v3_stream);
}

/* ---- records:batch ---- */

static int batch_entries(struct sl_req *req, struct v3state *st, json_t *entries)
{
    struct sl_rec_req r;
    size_t n = json_array_size(entries);
    if (!json_is_array(entries) || n == 0) {
        sl_http_reply_error(req, 400, 400, "entries must be a non-empty array");
        return -EINVAL;
    }
    if (n > (size_t)st->api->cfg->rest_max_records) {
        sl_http_reply_error(req, 400, 400, "Too many entries: %zu (max %d)", n, st->api->cfg->rest_max_records);
        return -EINVAL;
    }
    sl_rec_req_init(&r);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        const char *id = json_string_value(json_object_get(e, "id"));
        bool dup = false;
        for (size_t j = 0; id && j < i; j++)
            dup |= strcmp(id, json_string_value(json_object_get(json_array_get(entries, j), "id")) ?: "") == 0;
        char *dumped = json_dumps(e, JSON_COMPACT);
        v3_take(st, &r, dumped ? dumped : "", dumped ? strlen(dumped) : 0, id ? id : "");
        free(dumped);
        if (!id || !*id || strlen(id) > 80 || dup)
            rep_fail(&st->reps[st->n - 1], 400, 400,
                     dup ? "Entry ids must be distinct." : "Entry id must be a string of 1 to 80 characters.");
    }
    for (size_t i = 0; i < r.n; i++) /* an id failure must not be produced */
        if (st->reps[i].ready && !r.items[i].err_code)
            r.items[i].err_code = 400;
    v3_submit(st, &r, 0);
    sl_rec_req_fini(&r);
    return 0;
}

static void batch_reply(struct sl_req *req, struct v3state *st)
{
    json_t *ok = json_array(), *bad = json_array();
    char ts[40];
    for (size_t i = 0; i < st->n; i++) {
        struct v3rep *r = &st->reps[i];
        if (r->status != 200) {
            json_array_append_new(bad, json_pack("{s:s,s:i,s:s}", "id", r->id ? r->id : "", "error_code", r->code,
                                                 "message", r->msg ? r->msg : ""));
            continue;
        }
        sl_rfc3339_format(r->ts, ts, sizeof ts);
        json_t *s = json_pack("{s:s,s:s,s:s,s:i,s:I,s:s}", "id", r->id, "cluster_id", st->cluster, "topic_name",
                              st->topic, "partition_id", (int)r->partition, "offset", (json_int_t)r->offset,
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
    struct v3state *st = sl_http_data(req);
    pthread_mutex_lock(&st->mu);
    size_t pending = st->pending;
    pthread_mutex_unlock(&st->mu);
    if (pending && why != SL_HTTP_WAKE_STOPPING && sl_http_suspend(req, 0, on_batch_resume) == 0)
        return;
    if (pending)
        sl_http_reply_rc(req, SL_ESTOPPED, NULL);
    else
        batch_reply(req, st);
}

static void on_v3_batch(struct sl_req *req)
{
    struct v3state *st = v3state_new(req, true);
    if (!st) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    if (v3_check(req, st))
        return;
    json_t *body = sl_http_body_json(req, JSON_OBJECT);
    if (!body)
        return;
    int rc = batch_entries(req, st, json_object_get(body, "entries"));
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
    sl_router_add_ops(r, "POST", "/v3/clusters/{cid}/topics/{t}/records", &v3, 0);
    sl_router_add(r, "POST", "/v3/clusters/{cid}/topics/{t}/records:batch", on_v3_batch);
}
