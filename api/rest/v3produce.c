/* v3 produce state machine (api/rest/v3produce.h): body bytes -> complete JSON objects -> records -> batches ->
 * sl_broker_produce, and the delivery reports in order.
 *
 * PIPELINE (transport thread): sl_v3p_feed appends to `in`; drain() cuts every complete top-level JSON
 * object (api/rest/v3split.h: brace depth outside strings), parses each into a report slot and an item of a
 * request, and submit() groups the items into batches per partition and produces them. on_done (flusher
 * thread) fills the offsets and marks the reports ready; sl_v3p_format turns ready reports into JSON text.
 *
 * INVARIANT: reports are created in body order and formatted in that order; a report is formatted only when
 * ready, so a slow record holds back the reports behind it (the order Confluent's clients rely on). */
#include "api/rest/v3produce.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common/budget.h"
#include "api/common/errmap.h"
#include "api/http/metrics.h"
#include "api/rest/v3split.h"
#include "server/broker.h"
#include "server/produce.h"
#include "storage/err.h"

/* One sl_v3p_submit: its batches, their produce set, and the report number of each record of each batch. */
struct v3sub {
    struct sl_v3p *p;
    struct sl_produce_batch *b;
    size_t nb;
    size_t **rep; /* rep[k][j]: report number of record j of batch k */
};

struct sl_v3p *sl_v3p_new(struct sl_api *api, const struct sl_v3hooks *hooks)
{
    struct sl_v3p *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->api = api;
    p->hooks = *hooks;
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

/* Frees the input buffer and gives its bytes back to the budget. */
static void in_free(struct sl_v3p *p)
{
    sl_buf_fini(&p->in);
    sl_budget_give(p->charged);
    p->charged = 0;
}

/* Takes the input buffer's growth from the budget after it grew; false when refused (the buffer is then
 * freed at once: the stream ends with a 503/50301 report). */
static bool in_charge(struct sl_v3p *p)
{
    if (p->in.cap > p->charged && !sl_budget_take(p->in.cap - p->charged)) {
        in_free(p);
        return false;
    }
    p->charged = p->in.cap > p->charged ? p->in.cap : p->charged;
    return true;
}

void sl_v3p_free(struct sl_v3p *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->total - p->first; i++) {
        free(p->reps[i].msg);
        free(p->reps[i].id);
    }
    free(p->reps);
    in_free(p);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Report number i (mu held; first <= i < total). */
static struct sl_v3rep *rep_at(struct sl_v3p *p, size_t i)
{
    return &p->reps[i - p->first];
}

/* Appends a report slot (mu held). Returns its number or -ENOMEM. */
static ssize_t rep_new(struct sl_v3p *p)
{
    size_t held = p->total - p->first;
    if (held == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        struct sl_v3rep *v = realloc(p->reps, nc * sizeof *v);
        if (!v)
            return -ENOMEM;
        p->reps = v;
        p->cap = nc;
    }
    memset(&p->reps[held], 0, sizeof p->reps[0]);
    return (ssize_t)p->total++;
}

static void rep_fail(struct sl_v3rep *r, unsigned status, int code, const char *msg)
{
    r->status = status;
    r->code = code;
    free(r->msg);
    r->msg = strdup(msg ? msg : "error");
    r->ready = true;
}

void sl_v3p_fail(struct sl_v3p *p, size_t i, unsigned status, int code, const char *msg)
{
    pthread_mutex_lock(&p->mu);
    rep_fail(rep_at(p, i), status, code, msg);
    pthread_mutex_unlock(&p->mu);
}

/* Batch k is in (any thread): its reports become ready, the transport is woken. */
static void on_batch(struct sl_produce_set *set, size_t k, int rc)
{
    struct v3sub *sub = set->arg;
    struct sl_v3p *p = sub->p;
    const struct sl_errmap *m = rc ? sl_errmap_get(rc) : NULL;
    char buf[512];
    const char *msg = m ? sl_errmap_message(m, sl_produce_set_context(set, k), buf, sizeof buf) : NULL;
    size_t n = (size_t)sub->b[k].count;
    uint64_t bytes = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < n; i++) {
        struct sl_v3rep *r = rep_at(p, sub->rep[k][i]);
        bytes += r->ksize + r->vsize;
        if (rc) {
            rep_fail(r, m->status, m->error_code, msg); /* 50002 as v2, not 500 */
        } else {
            r->offset = set->slots[k].prod.first + (sl_offset_t)i;
            r->status = 200;
            r->ready = true;
        }
    }
    p->pending--;
    pthread_mutex_unlock(&p->mu);
    if (rc == 0)
        sl_metrics_records_in(p->api->metrics, p->topic, n, bytes);
    p->hooks.wake(p->hooks.arg);
}

static void sub_free(struct v3sub *sub)
{
    for (size_t k = 0; sub->rep && k < sub->nb; k++)
        free(sub->rep[k]);
    free(sub->rep);
    sl_rec_batches_free(sub->b, sub->nb);
    free(sub);
}

/* Every batch of the submission is in: free it and drop the transport's reference. */
static void on_sub_done(struct sl_produce_set *set)
{
    struct v3sub *sub = set->arg;
    struct sl_v3hooks hooks = sub->p->hooks;
    sl_produce_set_free(set);
    sub_free(sub);
    hooks.release(hooks.arg);
}

/* Copies what the report says about item it (mu held); fails it when parsing or building did. */
static void rep_fill(struct sl_v3rep *rep, const struct sl_rec_item *it, bool build_failed)
{
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
    else if (build_failed)
        rep_fail(rep, 500, 500, "out of memory");
}

/* The submission of batches b: room for the report numbers of every record; NULL when out of memory (b is
 * then freed). */
static struct v3sub *sub_new(struct sl_v3p *p, struct sl_produce_batch *b, size_t nb)
{
    struct v3sub *sub = calloc(1, sizeof *sub);
    if (!sub) {
        sl_rec_batches_free(b, nb);
        return NULL;
    }
    *sub = (struct v3sub){.p = p, .b = b, .nb = nb, .rep = calloc(nb + 1, sizeof *sub->rep)};
    bool ok = sub->rep != NULL;
    for (size_t k = 0; ok && k < nb; k++)
        ok = (sub->rep[k] = calloc((size_t)b[k].count + 1, sizeof *sub->rep[k])) != NULL;
    if (!ok) {
        sub_free(sub);
        return NULL;
    }
    return sub;
}

/* Fills the reports of r's items (reports from base on); with sub, maps each record to its report. */
static void reps_map(struct sl_v3p *p, struct sl_rec_req *r, size_t base, struct v3sub *sub)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < r->n; i++) {
        struct sl_v3rep *rep = rep_at(p, base + i);
        if (rep->ready)
            continue;
        rep_fill(rep, &r->items[i], !sub);
        if (!rep->ready)
            sub->rep[r->items[i].batch][r->items[i].index] = base + i;
    }
    pthread_mutex_unlock(&p->mu);
}

void sl_v3p_submit(struct sl_v3p *p, struct sl_rec_req *r, size_t base)
{
    struct sl_produce_batch *b = NULL;
    size_t nb = 0;
    sl_rec_partition(r, p->parts, p->pt);
    struct v3sub *sub = sl_rec_build(r, p->max_bytes, &b, &nb) ? NULL : sub_new(p, b, nb);
    struct sl_produce_set *set = sub ? sl_produce_set_new(b, nb, on_sub_done, sub) : NULL;
    if (sub && !set) {
        sub_free(sub);
        sub = NULL;
    }
    reps_map(p, r, base, sub);
    if (set && nb == 0) { /* every record failed before producing: nothing to submit */
        sl_produce_set_free(set);
        sub_free(sub);
        set = NULL;
    }
    if (!set)
        return;
    set->on_batch = on_batch;
    pthread_mutex_lock(&p->mu);
    p->pending += nb;
    pthread_mutex_unlock(&p->mu);
    p->hooks.hold(p->hooks.arg);
    sl_produce_submit(p->api->broker, p->topic, set);
}

/* One record: o parsed (owned; NULL when the text was not JSON, msg says why). */
static void take(struct sl_v3p *p, struct sl_rec_req *r, json_t *o, const char *msg, const char *id)
{
    struct sl_rec_err err = {0};
    pthread_mutex_lock(&p->mu);
    ssize_t k = rep_new(p);
    pthread_mutex_unlock(&p->mu);
    if (k < 0) {
        json_decref(o);
        return;
    }
    int rc = o ? sl_rec_parse_v3(r, o, id != NULL, sl_http_wall_ms(), &err) : -EINVAL;
    if (!o)
        snprintf(err.msg, sizeof err.msg, "%s", msg);
    if (o)
        sl_rec_req_keep(r, o);
    else
        sl_rec_parse_v3(r, NULL, false, 0, &(struct sl_rec_err){0}); /* keeps items 1:1 with reports */
    pthread_mutex_lock(&p->mu);
    if (rc) {
        rep_fail(rep_at(p, (size_t)k), 400, 400, err.msg);
        rep_at(p, (size_t)k)->in_data = err.in_data;
    }
    if (id)
        rep_at(p, (size_t)k)->id = strdup(id);
    pthread_mutex_unlock(&p->mu);
}

void sl_v3p_take(struct sl_v3p *p, struct sl_rec_req *r, const char *text, size_t len, const char *id)
{
    json_error_t je;
    char msg[200] = "";
    json_t *o = json_loadb(text, len, 0, &je);
    if (!o)
        snprintf(msg, sizeof msg, "Malformed JSON: %s", je.text);
    take(p, r, o, msg, id);
}

void sl_v3p_take_json(struct sl_v3p *p, struct sl_rec_req *r, json_t *o, const char *id)
{
    take(p, r, json_incref(o), "", id);
}

/* Ends parsing with one failed report: a framing error, an object over the record limit, a broken body. r:
 * the request being parsed by drain (it gets an empty item, keeping items 1:1 with reports), or NULL. */
static void stop_code(struct sl_v3p *p, struct sl_rec_req *r, unsigned status, int code, const char *msg)
{
    pthread_mutex_lock(&p->mu);
    ssize_t k = rep_new(p);
    if (k >= 0)
        rep_fail(rep_at(p, (size_t)k), status, code, msg);
    pthread_mutex_unlock(&p->mu);
    if (r)
        sl_rec_parse_v3(r, NULL, false, 0, &(struct sl_rec_err){0});
    p->stop_parsing = true;
}

static void stop_with(struct sl_v3p *p, struct sl_rec_req *r, unsigned status, const char *msg)
{
    stop_code(p, r, status, (int)status, msg);
}

/* The unparsed input from byte at on; NULL while nothing was ever buffered (NULL + 0 is undefined in C). */
static const char *in_at(const struct sl_v3p *p, size_t at)
{
    return p->in.base ? (const char *)p->in.base + at : NULL;
}

/* Consumes every complete object buffered in p->in; at_end: the rest is an error. */
static void drain(struct sl_v3p *p, bool at_end)
{
    struct sl_rec_req r;
    size_t at = 0, base = p->total;
    sl_rec_req_init(&r);
    while (!p->stop_parsing) {
        size_t skip, len;
        int rc = sl_v3split_next(in_at(p, at), p->in.len - at, &skip, &len);
        at += skip;
        if (rc == 0 && len > 0) {
            sl_v3p_take(p, &r, in_at(p, at), len, NULL);
            at += len;
            continue;
        }
        bool rest = at < p->in.len;
        if (rc < 0 || (at_end && rest))
            stop_with(p, &r, 400, "Malformed JSON: expected a JSON object");
        else if (p->in.len - at > p->max_bytes * 2 + 65536)
            stop_with(p, &r, 413, "Record too large.");
        break;
    }
    if (r.n)
        sl_v3p_submit(p, &r, base);
    sl_rec_req_fini(&r);
    if (at) {
        memmove(p->in.base, p->in.base + at, p->in.len - at);
        p->in.len -= at;
    }
}

bool sl_v3p_feed(struct sl_v3p *p, const char *data, size_t len)
{
    if (p->stop_parsing || p->ended)
        return true;
    if (sl_buf_append(&p->in, data, len)) {
        stop_with(p, NULL, 500, "out of memory");
        return true;
    }
    if (!in_charge(p)) {
        const struct sl_errmap *m = sl_errmap_get(-ENOBUFS);
        stop_code(p, NULL, m->status, m->error_code, m->message);
        return true;
    }
    drain(p, false);
    return p->stop_parsing;
}

bool sl_v3p_partial(const struct sl_v3p *p)
{
    for (size_t i = 0; i < p->in.len; i++) {
        uint8_t ch = p->in.base[i];
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
            return true;
    }
    return false;
}

size_t sl_v3p_records(const struct sl_v3p *p)
{
    return p->total;
}

void sl_v3p_end(struct sl_v3p *p)
{
    if (p->ended)
        return;
    drain(p, true);
    p->ended = true;
    in_free(p);
}

void sl_v3p_abort(struct sl_v3p *p, unsigned status, const char *msg)
{
    if (p->ended)
        return;
    if (!p->stop_parsing)
        stop_with(p, NULL, status, msg);
    p->ended = true;
    in_free(p);
}

int sl_v3p_target(struct sl_v3p *p, const char *cid, const char *topic, bool ctype_json, struct sl_rec_err *e)
{
    if (strcmp(cid, sl_broker_cluster_id(p->api->broker)) != 0) {
        *e = (struct sl_rec_err){.status = 404, .code = 404};
        snprintf(e->msg, sizeof e->msg, "Cluster %.64s not found.", cid);
        return -ENOENT;
    }
    if (!ctype_json) {
        *e = (struct sl_rec_err){.status = 415, .code = 415, .msg = "HTTP 415 Unsupported Media Type"};
        return -EPROTONOSUPPORT;
    }
    struct sl_topic_info ti;
    int rc = sl_broker_topic_info(p->api->broker, topic, &ti);
    if (rc == 0 && ti.internal)
        rc = SL_EINTERNAL;
    if (rc) {
        const struct sl_errmap *m = sl_errmap_get(rc);
        *e = (struct sl_rec_err){.status = m->status, .code = m->error_code};
        snprintf(e->msg, sizeof e->msg, "%s", m->message);
        return rc;
    }
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    snprintf(p->cluster, sizeof p->cluster, "%s", cid);
    p->parts = ti.partitions;
    p->pt = sl_broker_partitioner(p->api->broker);
    p->max_bytes = (size_t)ti.cfg.max_message_bytes;
    return 0;
}

size_t sl_v3p_pending(struct sl_v3p *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->pending;
    pthread_mutex_unlock(&p->mu);
    return n;
}

bool sl_v3p_done(struct sl_v3p *p)
{
    pthread_mutex_lock(&p->mu);
    bool done = p->ended && p->pending == 0 && p->sent == p->total;
    pthread_mutex_unlock(&p->mu);
    return done;
}

bool sl_v3p_ready(struct sl_v3p *p, size_t i)
{
    pthread_mutex_lock(&p->mu);
    bool ready = i >= p->first && i < p->total && rep_at(p, i)->ready;
    pthread_mutex_unlock(&p->mu);
    return ready;
}

unsigned sl_v3p_status(struct sl_v3p *p, size_t i)
{
    pthread_mutex_lock(&p->mu);
    unsigned s = rep_at(p, i)->in_data ? 200 : rep_at(p, i)->status;
    pthread_mutex_unlock(&p->mu);
    return s;
}

/* Appends report r as JSON (mu held). */
static void format_one(struct sl_v3p *p, const struct sl_v3rep *r, struct sl_buf *out, bool single)
{
    char tmp[640], ts[40];
    int n;
    if (r->status != 200) {
        n = snprintf(tmp, sizeof tmp, "{\"error_code\":%d,\"message\":", r->code);
        sl_buf_append(out, tmp, (size_t)n);
        sl_json_str_append(out, (const uint8_t *)r->msg, strlen(r->msg));
        sl_buf_append(out, single ? "}" : "}\n", single ? 1 : 2);
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
                 p->cluster, p->topic, r->partition, r->offset, ts, k, v, single ? "" : "\n");
    sl_buf_append(out, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Drops formatted reports once they are most of the array (mu held). Report numbers stay valid. */
static void compact(struct sl_v3p *p)
{
    size_t gone = p->sent - p->first;
    if (gone < 1024 || gone * 2 < p->total - p->first)
        return;
    for (size_t i = 0; i < gone; i++) {
        free(p->reps[i].msg);
        free(p->reps[i].id);
    }
    memmove(p->reps, p->reps + gone, (p->total - p->sent) * sizeof p->reps[0]);
    p->first = p->sent;
}

size_t sl_v3p_format(struct sl_v3p *p, struct sl_buf *out, size_t want, bool single)
{
    size_t k = 0;
    pthread_mutex_lock(&p->mu);
    while (p->sent < p->total && rep_at(p, p->sent)->ready && out->len < want) {
        format_one(p, rep_at(p, p->sent), out, single);
        p->sent++;
        k++;
    }
    compact(p);
    pthread_mutex_unlock(&p->mu);
    return k;
}
