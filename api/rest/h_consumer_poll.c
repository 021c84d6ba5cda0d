/* v2 consumer endpoints that read and commit: GET .../records (the long poll), POST/GET .../offsets. The
 * instance endpoints and the shared helpers are in api/rest/h_consumers.c (api/rest/h_consumers_int.h).
 *
 * LONG POLL (GET .../records): fetch from every assigned partition's position; if nothing is there, arm one
 * broker watch per partition (fires when its HW passes the position) and suspend with the timeout as the
 * deadline. A fire resumes the request; on_poll_resume first disarms every watch (after sl_broker_unwatch the
 * callback is not running, so the request is alive for every fire), then fetches again and replies, or
 * re-arms on a spurious wake. No thread ever blocks.
 *
 * COMMIT: the coordinator applies a commit asynchronously (server/groups.h); the request holds a reference
 * while the commit is pending and is resumed by its completion. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest/h_consumers_int.h"
#include "api/http/http.h"
#include "api/http/metrics.h"
#include "api/codec/records.h"
#include "api/http/router.h"
#include "server/broker.h"
#include "server/config.h"
#include "server/groups.h"
#include "server/err.h"

#define MAX_POLL_BYTES (64u << 20) /* consumer.request.max.bytes */

static const char *const COMMIT_BODY[] = {"offsets", NULL};

/* ---- records: the long poll ---- */

struct pwatch {
    struct sl_watch w;
    bool armed;
};

struct poll {
    struct sl_req *req;
    enum sl_fmt fmt;
    size_t max_bytes;
    int64_t deadline;
    struct sl_tpo *pos; /* positions of the last empty poll (owned), where the watches are armed */
    size_t npos;
    struct pwatch *w;   /* npos entries */
    int damaged;        /* index in the last poll's positions of a partition at a damaged range, or -1 */
};

static void poll_free(void *p)
{
    struct poll *st = p;
    free(st->pos);
    free(st->w);
    free(st);
}

/* Renders every assigned partition from its position. Returns the number of records (>= 0) with the body in
 * *out and the new positions in *pos, or an error. */
static int poll_fetch(struct sl_req *req, struct poll *st, struct sl_buf *out, struct sl_tpo **pos, size_t *n)
{
    struct sl_api *api = sl_http_api(req);
    const char *group = sl_http_param(req, "g"), *id = sl_http_param(req, "i");
    bool retried = false;
again:;
    st->damaged = -1;
    int rc = sl_groups_poll_begin(api->groups, group, id, pos, n, NULL);
    if (rc)
        return rc;
    struct sl_buf scratch = {0};
    struct sl_render rd = {.out = out, .fmt = st->fmt, .max_bytes = st->max_bytes};
    bool reset = false;
    out->len = 0;
    sl_buf_append(out, "[", 1);
    for (size_t i = 0; i < *n && !rd.full; i++) {
        size_t before = rd.count, used = rd.used;
        sl_offset_t next;
        rc = sl_rec_fetch_render(api->broker, &rd, (*pos)[i].topic, (*pos)[i].partition, (*pos)[i].offset, &scratch,
                                 &next);
        if (rc == SL_EOFFSET && sl_groups_position_reset(api->groups, group, id, (*pos)[i].topic,
                                                         (*pos)[i].partition) == 0)
            reset = true;
        if (rc == SL_EDAMAGED && st->damaged < 0)
            st->damaged = (int)i;
        if (rc == 0 && rd.count > before) {
            (*pos)[i].offset = next;
            sl_metrics_records_out(api->metrics, (*pos)[i].topic, rd.count - before, rd.used - used);
        }
    }
    sl_buf_fini(&scratch);
    if (rd.count == 0 && reset && !retried) {
        retried = true;
        free(*pos);
        goto again;
    }
    if (rd.count == 0 && st->damaged >= 0)
        return SL_EDAMAGED; /* nothing else to give: say so rather than wait on data that is there */
    if (sl_buf_append(out, "]", 1))
        return -ENOMEM;
    return (int)(rd.count > INT32_MAX ? INT32_MAX : rd.count);
}

static void on_watch_fire(struct sl_watch *w, int rc)
{
    struct poll *st = w->arg;
    sl_http_resume(st->req);
}

static void disarm(struct sl_req *req, struct poll *st)
{
    for (size_t i = 0; i < st->npos; i++) {
        if (st->w[i].armed)
            sl_broker_unwatch(sl_http_api(req)->broker, &st->w[i].w);
        st->w[i].armed = false;
    }
}

/* Arms one watch per partition at its position. */
static int arm(struct sl_req *req, struct poll *st)
{
    if (!(st->w = calloc(st->npos + 1, sizeof *st->w)))
        return -ENOMEM;
    for (size_t i = 0; i < st->npos; i++) {
        st->w[i].w.fire = on_watch_fire;
        st->w[i].w.arg = st;
        st->w[i].armed = sl_broker_watch(sl_http_api(req)->broker, st->pos[i].topic, st->pos[i].partition,
                                         st->pos[i].offset, &st->w[i].w) == 0;
    }
    return 0;
}

static void on_poll_resume(struct sl_req *req, enum sl_http_wake why);

/* One round: reply with records (or [] when final), else arm and suspend. */
static void poll_round(struct sl_req *req, struct poll *st, bool final)
{
    struct sl_buf out = {0};
    struct sl_tpo *pos = NULL;
    size_t n = 0;
    int cnt = poll_fetch(req, st, &out, &pos, &n);
    if (cnt < 0) {
        sl_buf_fini(&out);
        char msg[512];
        if (cnt == SL_EOFFSET)
            sl_http_reply_error(req, 400, 40002, "No committed offset and auto.offset.reset is none; seek first.");
        else if (cnt == SL_EDAMAGED && pos && st->damaged >= 0 && (size_t)st->damaged < n)
            sl_rec_damage_msg(sl_http_api(req)->broker, pos[st->damaged].topic, pos[st->damaged].partition,
                              pos[st->damaged].offset, msg, sizeof msg),
                sl_http_reply_error(req, 422, 42209, "%s", msg);
        else
            sl_hc_reply_rc(req, cnt);
        free(pos);
        return;
    }
    if (cnt > 0 || final) {
        if (cnt > 0)
            sl_groups_poll_advance(sl_http_api(req)->groups, sl_http_param(req, "g"), sl_http_param(req, "i"), pos,
                                   n);
        free(pos);
        sl_http_reply_buf(req, 200, sl_rec_format_ctype(st->fmt), (char *)out.base, out.len);
        return;
    }
    sl_buf_fini(&out);
    free(st->pos);
    free(st->w);
    st->w = NULL;
    st->pos = pos;
    st->npos = n;
    if (arm(req, st) || sl_http_suspend(req, st->deadline, on_poll_resume)) {
        disarm(req, st);
        poll_round(req, st, true);
    }
}

static void on_poll_resume(struct sl_req *req, enum sl_http_wake why)
{
    struct poll *st = sl_http_data(req);
    disarm(req, st);
    poll_round(req, st, why != SL_HTTP_WAKE_RESUMED || sl_http_now_ms() >= st->deadline);
}

static void on_records(struct sl_req *req)
{
    struct sl_member_info mi;
    if (sl_hc_instance(req, &mi))
        return;
    enum sl_fmt fmt;
    sl_rec_format_from_name(mi.cfg.format, &fmt);
    if (!sl_rec_accept_ok(sl_http_header(req, "Accept"), fmt)) {
        sl_http_reply_error(req, 406, 40601, "The requested embedded data format does not match the deserializer "
                            "for this consumer instance (%s).", mi.cfg.format);
        return;
    }
    int64_t timeout, max_bytes;
    if (sl_http_query_i64(req, "timeout", mi.cfg.request_timeout_ms, 0, 3600000, &timeout) ||
        sl_http_query_i64(req, "max_bytes", MAX_POLL_BYTES, 1, MAX_POLL_BYTES, &max_bytes))
        return;
    struct poll *st = calloc(1, sizeof *st);
    if (!st) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    st->req = req;
    st->fmt = fmt;
    st->max_bytes = (size_t)max_bytes;
    st->deadline = sl_http_now_ms() + timeout;
    sl_http_set_data(req, st, poll_free);
    poll_round(req, st, timeout == 0);
}

/* ---- offsets ---- */

struct commit {
    struct sl_commit c;
    struct sl_req *req;
    struct sl_tpo *v;
    size_t n;
    int rc;
    atomic_bool done;
};

static void commit_free(void *p)
{
    struct commit *cs = p;
    free(cs->v);
    free(cs);
}

static void on_commit_done(struct sl_commit *c, int rc)
{
    struct commit *cs = c->arg;
    struct sl_req *req = cs->req;
    cs->rc = rc;
    atomic_store(&cs->done, true);
    sl_http_resume(req);
    sl_http_unref(req);
}

static void on_commit_resume(struct sl_req *req, enum sl_http_wake why)
{
    struct commit *cs = sl_http_data(req);
    if (!atomic_load(&cs->done)) {
        if (why == SL_HTTP_WAKE_STOPPING || sl_http_suspend(req, 0, on_commit_resume))
            sl_http_reply_rc(req, SL_ESTOPPED, NULL);
        return;
    }
    if (cs->rc) {
        sl_http_reply_rc(req, cs->rc, NULL);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < cs->n; i++)
        json_array_append_new(a, json_pack("{s:s,s:i,s:I,s:I}", "topic", cs->v[i].topic, "partition",
                                           (int)cs->v[i].partition, "consumed", (json_int_t)cs->v[i].offset,
                                           "committed", (json_int_t)cs->v[i].offset));
    sl_http_reply_json(req, 200, a);
}

/* 409 naming every refused partition and why (nothing was committed). */
static void reply_refused(struct sl_req *req, int rc, const struct sl_tpo *v, size_t n, const int *why)
{
    char list[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof list - 1; i++)
        if (why[i])
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s-%d (%s)", len ? ", " : "", v[i].topic,
                                    (int)v[i].partition, sl_error_message(why[i]));
    if (rc == SL_EREBALANCE)
        sl_http_reply_error(req, 409, 40904, "Rebalance in progress; nothing was committed: %s. Retry after the "
                            "assignment.", list);
    else
        sl_http_reply_error(req, 409, 40905, "Partitions not assigned to this consumer instance; nothing was "
                            "committed: %s.", list);
}

static void on_commit(struct sl_req *req)
{
    struct sl_member_info mi;
    if (sl_hc_instance(req, &mi))
        return;
    struct commit *cs = calloc(1, sizeof *cs);
    if (!cs) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    cs->req = req;
    sl_http_set_data(req, cs, commit_free);
    size_t len;
    sl_http_body(req, &len);
    int rc;
    if (len == 0) {
        rc = sl_groups_member_positions(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"), &cs->v,
                                        &cs->n);
    } else {
        json_t *b = sl_hc_body_object(req, false, COMMIT_BODY, 422);
        if (!b)
            return;
        rc = sl_hc_parse_tpos(req, b, "offsets", 1, &cs->v, &cs->n);
        json_decref(b);
        if (rc || sl_hc_check_tps(req, cs->v, cs->n))
            return;
    }
    if (rc == 0 && cs->n == 0) {
        atomic_store(&cs->done, true);
        on_commit_resume(req, SL_HTTP_WAKE_RESUMED);
        return;
    }
    cs->c.done = on_commit_done;
    cs->c.arg = cs;
    sl_http_ref(req);
    int *why = rc == 0 ? calloc(cs->n, sizeof *why) : NULL;
    if (rc == 0)
        rc = why ? sl_groups_member_commit(sl_hc_groups(req), sl_http_param(req, "g"), sl_http_param(req, "i"), cs->v,
                                           cs->n, &cs->c, why)
                 : -ENOMEM;
    if (rc) {
        sl_http_unref(req);
        if (rc == SL_EREBALANCE || rc == SL_ENOTASSIGNED)
            reply_refused(req, rc, cs->v, cs->n, why);
        else
            sl_hc_reply_rc(req, rc);
        free(why);
        return;
    }
    free(why);
    if (sl_http_suspend(req, 0, on_commit_resume))
        sl_http_reply_rc(req, SL_ESTOPPED, NULL);
}

static void on_committed_get(struct sl_req *req)
{
    struct sl_member_info mi;
    if (sl_hc_instance(req, &mi))
        return;
    json_t *b = sl_hc_body_object(req, false, SL_HC_PARTITIONS_BODY, 422);
    struct sl_tpo *v;
    size_t n;
    if (!b || sl_hc_parse_tpos(req, b, "partitions", 0, &v, &n)) {
        json_decref(b);
        return;
    }
    json_decref(b);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        sl_offset_t off = sl_groups_committed(sl_hc_groups(req), sl_http_param(req, "g"), v[i].topic, v[i].partition);
        if (off >= 0)
            json_array_append_new(a, json_pack("{s:s,s:i,s:I,s:s}", "topic", v[i].topic, "partition",
                                               (int)v[i].partition, "offset", (json_int_t)off, "metadata", ""));
    }
    free(v);
    sl_http_reply_json(req, 200, json_pack("{s:o}", "offsets", a));
}

void sl_h_consumer_poll_register(struct sl_router *r)
{
    static const struct sl_route_ops records = {.handle = on_records};
    sl_router_add_ops(r, "GET", "/consumers/{g}/instances/{i}/records", &records, SL_ROUTE_NO_HEAD); /* consumes */
    sl_router_add(r, "POST", "/consumers/{g}/instances/{i}/offsets", on_commit);
    sl_router_add(r, "GET", "/consumers/{g}/instances/{i}/offsets", on_committed_get);
}
