/* sluice extension: GET /topics/{t}/partitions/{p}/records?offset=&max_bytes=&timeout=
 *
 * A stateless, retry-safe read: the same offset always returns the same records (until retention removes
 * them), nothing is remembered between calls. The format follows Accept (json / text / binary v2 types;
 * anything else, or none, is binary). offset is required; an offset outside [log start, HW] is 40002 with the
 * valid range in the message. When offset == HW the request long-polls: one broker watch, suspended until a
 * record arrives or timeout (default 0 = answer [] at once). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http/http.h"
#include "api/http/metrics.h"
#include "api/codec/records.h"
#include "api/http/router.h"
#include "server/broker.h"
#include "storage/err.h"

struct sread {
    struct sl_req *req;
    enum sl_fmt fmt;
    sl_offset_t offset;
    size_t max_bytes;
    int64_t deadline;
    struct sl_watch w;
    bool armed;
};

static enum sl_fmt accept_format(const char *accept)
{
    if (accept && strcasestr(accept, "application/vnd.kafka.json.v2+json"))
        return SL_FMT_JSON;
    if (accept && strcasestr(accept, "application/vnd.kafka.text.v2+json"))
        return SL_FMT_TEXT;
    return SL_FMT_BINARY;
}

static void on_fire(struct sl_watch *w, int rc)
{
    struct sread *st = w->arg;
    sl_http_resume(st->req);
}

static void on_sread_resume(struct sl_req *req, enum sl_http_wake why);

/* Reads and replies; or, with nothing at the HW and time left, watches and suspends. */
static void sread_round(struct sl_req *req, struct sread *st, bool final)
{
    struct sl_api *api = sl_http_api(req);
    const char *topic = sl_http_param(req, "t");
    int32_t p;
    sl_http_param_partition(req, "p", &p); /* validated by the handler */
    struct sl_buf out = {0}, scratch = {0};
    struct sl_render rd = {.out = &out, .fmt = st->fmt, .max_bytes = st->max_bytes};
    sl_offset_t next;
    sl_buf_append(&out, "[", 1);
    int rc = sl_rec_fetch_render(api->broker, &rd, topic, p, st->offset, &scratch, &next);
    sl_buf_fini(&scratch);
    if (rc == 0 && rd.count == 0 && !final) {
        st->w.fire = on_fire;
        st->w.arg = st;
        rc = sl_broker_watch(api->broker, topic, p, st->offset, &st->w);
        st->armed = rc == 0;
        if (rc == 0 && sl_http_suspend(req, st->deadline, on_sread_resume) == 0) {
            sl_buf_fini(&out);
            return;
        }
        if (st->armed)
            sl_broker_unwatch(api->broker, &st->w);
        st->armed = false;
    }
    if (rc) {
        sl_buf_fini(&out);
        sl_offset_t start = 0, hw = 0;
        sl_broker_offsets(api->broker, topic, p, &start, &hw);
        char msg[512];
        if (rc == SL_EOFFSET)
            sl_http_reply_error(req, 400, 40002, "Offset %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "].",
                                st->offset, start, hw);
        else if (rc == SL_EDAMAGED)
            sl_rec_damage_msg(api->broker, topic, p, st->offset, msg, sizeof msg),
                sl_http_reply_error(req, 422, 42209, "%s", msg);
        else
            sl_http_reply_rc(req, rc, NULL);
        return;
    }
    sl_buf_append(&out, "]", 1);
    if (rd.count)
        sl_metrics_records_out(api->metrics, topic, rd.count, rd.used);
    sl_http_reply_buf(req, 200, sl_rec_format_ctype(st->fmt), (char *)out.base, out.len);
}

static void on_sread_resume(struct sl_req *req, enum sl_http_wake why)
{
    struct sread *st = sl_http_data(req);
    if (st->armed)
        sl_broker_unwatch(sl_http_api(req)->broker, &st->w);
    st->armed = false;
    sread_round(req, st, why != SL_HTTP_WAKE_RESUMED || sl_http_now_ms() >= st->deadline);
}

static void on_read(struct sl_req *req)
{
    struct sl_api *api = sl_http_api(req);
    const char *topic = sl_http_param(req, "t");
    int32_t p;
    int64_t offset, max_bytes, timeout;
    if (sl_http_param_partition(req, "p", &p))
        return;
    int32_t cnt = sl_broker_partition_count(api->broker, topic);
    if (cnt < 0 || p >= cnt) {
        sl_http_reply_rc(req, cnt < 0 ? cnt : SL_ENOPART, NULL);
        return;
    }
    if (!sl_http_query(req, "offset")) {
        sl_http_reply_error(req, 400, 400, "Query argument offset is required.");
        return;
    }
    if (sl_http_query_i64(req, "offset", 0, 0, INT64_MAX, &offset) ||
        sl_http_query_i64(req, "max_bytes", 1 << 20, 1, 64 << 20, &max_bytes) ||
        sl_http_query_i64(req, "timeout", 0, 0, 3600000, &timeout))
        return;
    struct sread *st = calloc(1, sizeof *st);
    if (!st) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    st->req = req;
    st->fmt = accept_format(sl_http_header(req, "Accept"));
    st->offset = offset;
    st->max_bytes = (size_t)max_bytes;
    st->deadline = sl_http_now_ms() + timeout;
    sl_http_set_data(req, st, free);
    sread_round(req, st, timeout == 0);
}

void sl_h_records_register(struct sl_router *r)
{
    sl_router_add(r, "GET", "/topics/{t}/partitions/{p}/records", on_read);
}
