/* Server-Sent Events on the REST port: GET /sse/v1/topics/{topic}?from=&partition=&group=&format=
 *
 * The reply is a chunked text/event-stream. Each event carries one frame of records of one partition,
 * exactly the WebSocket "records" message, and an id with the position after it of every partition the
 * stream reads ("0:42,1:17": partition:next-offset):
 *     id: 0:42,1:17
 *     event: records
 *     data: {"type":"records","records":[...]}
 * A reconnect with Last-Event-ID: <that id> resumes each named partition exactly there (it wins over from).
 * Without a group, the stream starts with a "position" event carrying the id of where it starts, so a client
 * that reconnects before any record arrived (from=latest through a proxy that cut it) resumes from there and
 * misses nothing produced in between:
 *     id: 0:40,1:17
 *     event: position
 *     data: {"type":"position","positions":[{"partition":0,"offset":40},{"partition":1,"offset":17}]}
 * (an event with data, not a bare id: line, which the spec allows but the npm eventsource client ignores).
 * A stream that sent nothing for sse.heartbeat.ms gets a comment, ": heartbeat", which keeps proxies from
 * cutting it as idle and lets the server notice a client that went away.
 * With group=g the stream is a member (kind SL_MEMBER_WS, auto-commit) of g and reads its assignment, as a
 * REST consumer instance does: positions come from sl_groups_poll_begin and move with poll_advance.
 *
 * THREADS: the stream callback runs on REST pool threads, one call at a time. When nothing is available it
 * arms a broker watch per partition and parks; a watch firing (flusher thread) or a rebalance (coordinator)
 * wakes the stream. Watches are disarmed at the start of every call and in free_state, which runs when the
 * request's last reference drops; sl_broker_unwatch waits for a running fire, so fire never outlives the
 * request. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common/from.h"
#include "api/http/http.h"
#include "api/codec/records.h"
#include "api/http/router.h"
#include "api/http/metrics.h"
#include "server/broker.h"
#include "server/config.h"
#include "server/groups.h"
#include "storage/err.h"

#define SSE_MAX_PARTS 1024

struct sse_cursor {
    int32_t partition;
    sl_offset_t next;
    struct sl_watch w;
    bool armed;
};

struct sse {
    struct sl_req *req;
    struct sl_api *api;
    char topic[SL_TOPIC_NAME_MAX + 1];
    char group[SL_GROUP_NAME_MAX + 1];
    char member[SL_MEMBER_ID_MAX + 1];
    bool joined;
    enum sl_fmt fmt;
    struct sse_cursor *cur;
    size_t ncur, rr;
    struct sl_buf out, scratch;
    size_t out_off;
    int64_t heartbeat_ms;  /* sse.heartbeat.ms */
    int64_t last_out_ms;   /* sl_http_now_ms() when the last event or heartbeat was rendered */
};

static void disarm(struct sse *s)
{
    for (size_t i = 0; i < s->ncur; i++)
        if (s->cur[i].armed) {
            sl_broker_unwatch(s->api->broker, &s->cur[i].w);
            s->cur[i].armed = false;
        }
}

static void free_state(void *p)
{
    struct sse *s = p;
    disarm(s);
    if (s->joined)
        sl_groups_leave(s->api->groups, s->group, s->member);
    free(s->cur);
    sl_buf_fini(&s->out);
    sl_buf_fini(&s->scratch);
    free(s);
}

static void on_fire(struct sl_watch *w, int rc)
{
    struct sse *s = w->arg;
    sl_http_stream_wake(s->req);
}

static void on_group_event(void *arg, enum sl_group_event ev, uint64_t generation)
{
    struct sse *s = arg;
    sl_http_stream_wake(s->req);
}

/* Group mode: replaces the cursors by the member's positions. */
static int refresh_group(struct sse *s)
{
    struct sl_tpo *pos;
    size_t n;
    int rc = sl_groups_poll_begin(s->api->groups, s->group, s->member, &pos, &n, NULL);
    if (rc)
        return rc;
    struct sse_cursor *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        free(pos);
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(pos[i].topic, s->topic) == 0)
            v[k++] = (struct sse_cursor){.partition = pos[i].partition, .next = pos[i].offset};
    free(s->cur);
    free(pos);
    s->cur = v;
    s->ncur = k;
    return 0;
}

static void append_id(struct sse *s)
{
    char num[48];
    sl_buf_append(&s->out, "id: ", 4);
    for (size_t i = 0; i < s->ncur; i++) {
        int n = snprintf(num, sizeof num, "%s%d:%" PRId64, i ? "," : "", (int)s->cur[i].partition, s->cur[i].next);
        sl_buf_append(&s->out, num, (size_t)n);
    }
    sl_buf_append(&s->out, "\n", 1);
}

/* Renders the position event (see the file header) into s->out. Returns 0 or -ENOMEM. */
static int render_position(struct sse *s)
{
    char num[80];
    s->out.len = 0;
    s->out_off = 0;
    append_id(s);
    static const char head[] = "event: position\ndata: {\"type\":\"position\",\"positions\":[";
    sl_buf_append(&s->out, head, sizeof head - 1);
    for (size_t i = 0; i < s->ncur; i++) {
        int n = snprintf(num, sizeof num, "%s{\"partition\":%d,\"offset\":%" PRId64 "}", i ? "," : "",
                         (int)s->cur[i].partition, s->cur[i].next);
        sl_buf_append(&s->out, num, (size_t)n);
    }
    return sl_buf_append(&s->out, "]}\n\n", 4) ? -ENOMEM : 0;
}

/* Renders the next event into s->out. Returns 1 (an event), 0 (nothing available) or an error. */
static int next_event(struct sse *s)
{
    static const char head[] = "event: records\ndata: {\"type\":\"records\",\"records\":[";
    for (size_t k = 0; k < s->ncur; k++) {
        struct sse_cursor *c = &s->cur[(s->rr + k) % s->ncur];
        s->out.len = 0;
        s->out_off = 0;
        sl_buf_append(&s->out, head, sizeof head - 1);
        struct sl_render rd = {.out = &s->out, .fmt = s->fmt, .max_bytes = 256u << 10, .max_records = 512};
        sl_offset_t next;
        int rc = sl_rec_fetch_render(s->api->broker, &rd, s->topic, c->partition, c->next, &s->scratch, &next);
        if (rc == SL_EOFFSET) {
            sl_offset_t start, hw;
            if (sl_broker_offsets(s->api->broker, s->topic, c->partition, &start, &hw) == 0 && c->next < start)
                c->next = start;
            continue;
        }
        if (rc) {
            s->out.len = 0;
            return rc;
        }
        if (rd.count == 0)
            continue;
        c->next = next;
        sl_buf_append(&s->out, "]}\n", 3);
        append_id(s);
        if (sl_buf_append(&s->out, "\n", 1))
            return -ENOMEM;
        s->rr = (s->rr + k + 1) % s->ncur;
        sl_metrics_records_out(s->api->metrics, s->topic, rd.count, rd.used);
        if (s->joined) {
            struct sl_tpo p = {.partition = c->partition, .offset = next};
            snprintf(p.topic, sizeof p.topic, "%s", s->topic);
            sl_groups_poll_advance(s->api->groups, s->group, s->member, &p, 1);
        }
        return 1;
    }
    s->out.len = 0; /* nothing: no half-built event may be taken for output */
    return 0;
}

static void arm(struct sse *s)
{
    for (size_t i = 0; i < s->ncur; i++) {
        struct sse_cursor *c = &s->cur[i];
        c->w.fire = on_fire;
        c->w.arg = s;
        c->armed = sl_broker_watch(s->api->broker, s->topic, c->partition, c->next, &c->w) == 0;
    }
}

static ssize_t copy_out(struct sse *s, char *buf, size_t max)
{
    size_t n = s->out.len - s->out_off;
    n = n < max ? n : max;
    memcpy(buf, s->out.base + s->out_off, n);
    s->out_off += n;
    return (ssize_t)n;
}

static ssize_t on_read(struct sl_req *req, char *buf, size_t max)
{
    struct sse *s = sl_http_data(req);
    if (s->out_off < s->out.len)
        return copy_out(s, buf, max);
    disarm(s);
    if (sl_http_stopping(req))
        return SL_HTTP_STREAM_END;
    if (s->joined && refresh_group(s))
        return SL_HTTP_STREAM_END;
    int rc = next_event(s);
    if (rc < 0)
        return SL_HTTP_STREAM_END;
    int64_t now = sl_http_now_ms();
    if (rc == 0 && now - s->last_out_ms >= s->heartbeat_ms) {
        static const char hb[] = ": heartbeat\n\n";
        s->out.len = 0;
        s->out_off = 0;
        if (sl_buf_append(&s->out, hb, sizeof hb - 1))
            return SL_HTTP_STREAM_END;
        rc = 1;
    }
    if (rc > 0) {
        s->last_out_ms = now;
        return copy_out(s, buf, max);
    }
    arm(s);
    sl_http_stream_wake_at(s->req, s->last_out_ms + s->heartbeat_ms);
    return 0;
}

/* Applies Last-Event-ID ("p:next,..."): positions of the partitions it names. Returns 0 or -EINVAL. */
static int apply_last_id(struct sse *s, const char *id)
{
    while (*id) {
        char *end;
        long p = strtol(id, &end, 10);
        if (end == id || *end != ':')
            return -EINVAL;
        long long off = strtoll(end + 1, &end, 10);
        if ((*end && *end != ',') || off < 0)
            return -EINVAL;
        for (size_t i = 0; i < s->ncur; i++)
            if (s->cur[i].partition == p)
                s->cur[i].next = off;
        id = *end ? end + 1 : end;
    }
    return 0;
}

/* Positions every partition (or the one asked for) at 'from'. Returns 0 or an SL_E code. */
static int position(struct sse *s, int32_t parts, int32_t only, const struct sl_from *f)
{
    s->cur = calloc((size_t)parts, sizeof *s->cur);
    if (!s->cur)
        return -ENOMEM;
    for (int32_t p = only >= 0 ? only : 0; p < (only >= 0 ? only + 1 : parts); p++) {
        sl_offset_t start, hw, at = 0;
        int rc = sl_broker_offsets(s->api->broker, s->topic, p, &start, &hw);
        if (rc)
            return rc;
        switch (f->kind) {
        case SL_FROM_LATEST: at = hw; break;
        case SL_FROM_EARLIEST: at = start; break;
        case SL_FROM_OFFSET: at = f->value < start ? start : f->value; break;
        case SL_FROM_TIME: rc = sl_broker_offset_for_time(s->api->broker, s->topic, p, f->value, &at); break;
        }
        if (rc)
            return rc;
        s->cur[s->ncur++] = (struct sse_cursor){.partition = p, .next = at};
    }
    return 0;
}

static int join_group(struct sse *s, const struct sl_from *f)
{
    if (!s->api->groups)
        return SL_ESTOPPED;
    struct sl_member_cfg mc = {.kind = SL_MEMBER_WS, .auto_commit = true, .on_event = on_group_event, .arg = s,
                               .reset = f->kind == SL_FROM_EARLIEST ? SL_RESET_EARLIEST : SL_RESET_LATEST};
    snprintf(mc.format, sizeof mc.format, "%s", sl_rec_format_name(s->fmt));
    int rc = sl_groups_join(s->api->groups, s->group, NULL, &mc, s->member);
    if (rc)
        return rc;
    s->joined = true;
    const char *topics[1] = {s->topic};
    rc = sl_groups_subscribe(s->api->groups, s->group, s->member, topics, 1, NULL);
    return rc ? rc : refresh_group(s);
}

static void on_sse(struct sl_req *req)
{
    struct sl_api *api = sl_http_api(req);
    const char *topic = sl_http_param(req, "topic"), *from = sl_http_query(req, "from");
    const char *group = sl_http_query(req, "group"), *fmt = sl_http_query(req, "format");
    const char *last = sl_http_header(req, "Last-Event-ID");
    struct sl_from f = {SL_FROM_LATEST, 0};
    int64_t only;
    if (sl_http_query_i64(req, "partition", -1, -1, INT32_MAX, &only))
        return;
    struct sse *s = calloc(1, sizeof *s);
    if (!s) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    s->req = req;
    s->api = api;
    s->fmt = SL_FMT_JSON;
    s->heartbeat_ms = api->cfg && api->cfg->sse_heartbeat_ms > 0 ? api->cfg->sse_heartbeat_ms : 15000;
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    snprintf(s->group, sizeof s->group, "%s", group ? group : "");
    sl_http_set_data(req, s, free_state);
    if ((from && sl_from_parse(from, &f)) || (fmt && sl_rec_format_from_name(fmt, &s->fmt)) ||
        (group && (!*group || only >= 0))) {
        sl_http_reply_error(req, 400, 400, "Invalid from, format, group or partition.");
        return;
    }
    int32_t parts = sl_broker_partition_count(api->broker, topic);
    if (parts < 0 || only >= parts) {
        sl_http_reply_rc(req, parts < 0 ? parts : SL_ENOPART, NULL);
        return;
    }
    int rc = group ? join_group(s, &f) : position(s, parts, (int32_t)only, &f);
    if (rc == 0 && last && !group && apply_last_id(s, last))
        rc = -EINVAL;
    if (rc) {
        sl_http_reply_rc(req, rc, NULL);
        return;
    }
    if (!group && render_position(s)) {
        sl_http_reply_rc(req, -ENOMEM, NULL);
        return;
    }
    s->last_out_ms = sl_http_now_ms();
    sl_http_add_header(req, "Cache-Control", "no-cache");
    sl_http_add_header(req, "X-Accel-Buffering", "no");
    sl_http_reply_stream(req, 200, "text/event-stream", on_read);
}

void sl_h_sse_register(struct sl_router *r);
void sl_h_sse_register(struct sl_router *r)
{
    /* Hidden from the OpenAPI route check: the stream is documented in openapi/asyncapi.yaml. */
    static const struct sl_route_ops ops = {.handle = on_sse};
    sl_router_add_ops(r, "GET", "/sse/v1/topics/{topic}", &ops, SL_ROUTE_HIDDEN | SL_ROUTE_NO_HEAD); /* a stream */
}
