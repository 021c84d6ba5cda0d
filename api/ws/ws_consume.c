/* Subscriber sessions: ws://host/ws/v1/topics/{topic}?from=&partition=&group=&format=&max_in_flight=&mode=
 *
 * A session has one cursor per partition it reads (all partitions of its topics, one partition, or its
 * group assignment). On each writable callback it pushes at most one frame (api/ws/ws_cache.c: shared across
 * subscribers) for the next cursor, round robin, that has records below the HW, within the flow-control
 * window: at most max_in_flight records pushed and not yet acknowledged (in pull mode also within the
 * credit the client granted). A cursor that finds nothing marks the session want_data; the broker's data
 * hook then asks for a writable callback again. A one-cursor session whose frame reached the HW marks itself
 * want_data at once (sl_ws_frame_at_hw) instead of spending a writable round to find nothing, and an ack to
 * a session in want_data asks for no writable callback: only new data can give it something to send.
 *
 * GROUPS: with group=g the session is a member (kind SL_MEMBER_WS) of g in server/groups, subscribed to its
 * topics. A rebalance revokes before it assigns (server/rebalance.c): the coordinator's on_event sets
 * c->revoke or c->rebalance (any thread), and the service thread, before every push,
 *   - on revoke: marks the cursors of the partitions being taken away (no more pushes from them) and sends
 *     {"type":"revoke","generation":n,"partitions":[{topic,partition,offset}]}, offset being the next one it
 *     would have pushed; the client commits what it processed and answers {"type":"revoked"} (or the
 *     rebalance.timeout.ms ends the wait);
 *   - on rebalance (the plan installed): fetches the assignment, keeps the cursors of partitions it still
 *     owns, starts new ones at the group's committed offset (else 'from'), and sends
 *     {"type":"assignment","generation":n,"partitions":[...]} before any record of the new generation.
 *   A commit the coordinator refuses (a partition now another member's, or being handed to this one) gets
 *   {"type":"error","error_code":40905|40904,"message":...,"partitions":[{topic,partition,offset,error_code,
 *   reason}]} and the socket stays open.
 *
 * FAILURE MODES: unknown topic/partition 4404, bad arguments or messages 4400, a group without a coordinator
 * 4503, an expired member 4408, a window full (no ack) for longer than ws.idle.timeout.ms 1008 (policy). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/common/errmap.h"
#include "api/http/metrics.h"
#include "api/ws/ws_int.h"
#include "server/err.h"

/* ---- cursors ---- */

static int topic_index(struct sl_ws_conn *c, const char *topic, uint32_t *out)
{
    for (size_t i = 0; i < c->ntopics; i++)
        if (strcmp(c->topics[i], topic) == 0) {
            *out = (uint32_t)i;
            return 0;
        }
    char **v = realloc(c->topics, (c->ntopics + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    c->topics = v;
    if (!(v[c->ntopics] = strdup(topic)))
        return -ENOMEM;
    *out = (uint32_t)c->ntopics++;
    return 0;
}

static struct sl_ws_cursor *cursor_find(struct sl_ws_conn *c, const char *topic, int32_t p)
{
    for (size_t i = 0; i < c->ncur; i++)
        if (c->cur[i].partition == p && (!topic || strcmp(c->topics[c->cur[i].topic], topic) == 0))
            return &c->cur[i];
    return NULL;
}

/* The starting offset of topic/partition for 'from' (below the log start it is the log start; a future
 * offset waits for its records). */
static int resolve_from(struct sl_ws *ws, const char *topic, int32_t p, const struct sl_from *f, sl_offset_t *out)
{
    sl_offset_t start, hw;
    int rc = sl_broker_offsets(ws->b, topic, p, &start, &hw);
    if (rc)
        return rc;
    switch (f->kind) {
    case SL_FROM_LATEST: *out = hw; break;
    case SL_FROM_EARLIEST: *out = start; break;
    case SL_FROM_OFFSET: *out = f->value < start ? start : f->value; break;
    case SL_FROM_TIME: rc = sl_broker_offset_for_time(ws->b, topic, p, f->value, out); break;
    }
    return rc;
}

static int cursor_add(struct sl_ws_conn *c, const char *topic, int32_t p, sl_offset_t at)
{
    uint32_t ti;
    int rc = topic_index(c, topic, &ti);
    if (rc)
        return rc;
    struct sl_ws_cursor *v = realloc(c->cur, (c->ncur + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    c->cur = v;
    v[c->ncur++] = (struct sl_ws_cursor){.topic = ti, .partition = p, .next = at, .acked = at};
    return 0;
}

/* Adds cursors for topic: one partition (p >= 0) or all of them, from c->t.from. */
static int cursors_for_topic(struct sl_ws_conn *c, const char *topic, int32_t p)
{
    int32_t n = sl_broker_partition_count(c->ws->b, topic);
    if (n < 0)
        return n;
    if (p >= n)
        return SL_ENOPART;
    for (int32_t i = p >= 0 ? p : 0; i < (p >= 0 ? p + 1 : n); i++) {
        sl_offset_t at;
        int rc = resolve_from(c->ws, topic, i, &c->t.from, &at);
        if (rc == 0 && !cursor_find(c, topic, i))
            rc = cursor_add(c, topic, i, at);
        if (rc)
            return rc;
    }
    return 0;
}

static int64_t in_flight(const struct sl_ws_conn *c)
{
    int64_t n = 0;
    for (size_t i = 0; i < c->ncur; i++)
        n += c->cur[i].next - c->cur[i].acked;
    return n;
}

/* ---- groups ---- */

/* Coordinator thread, coordinator mutex held: flag and wake only. */
static void on_group_event(void *arg, enum sl_group_event ev, uint64_t generation)
{
    struct sl_ws_conn *c = arg;
    atomic_store(ev == SL_GROUP_EV_EXPIRED  ? &c->expired
                 : ev == SL_GROUP_EV_REVOKE ? &c->revoke
                                            : &c->rebalance,
                 true);
    atomic_store(&c->ws->groups_dirty, true);
    if (c->ws->ctx)
        lws_cancel_service(c->ws->ctx);
}

static int group_join(struct sl_ws_conn *c)
{
    struct sl_ws *ws = c->ws;
    struct sl_member_cfg mc = {
        .kind = SL_MEMBER_WS,
        .reset = c->t.from.kind == SL_FROM_EARLIEST ? SL_RESET_EARLIEST : SL_RESET_LATEST,
        .on_event = on_group_event,
        .arg = c,
    };
    snprintf(mc.format, sizeof mc.format, "%s", sl_rec_format_name(c->t.fmt));
    int rc = sl_groups_join(ws->g, c->t.group, NULL, &mc, c->member);
    if (rc)
        return rc;
    c->joined = true;
    c->last_touch_ms = sl_ws_now_ms();
    return sl_groups_subscribe(ws->g, c->t.group, c->member, (const char *const *)c->topics, c->ntopics, NULL);
}

/* Appends {"topic":..,"partition":..,"offset":..} (and ,"error_code":..,"reason":.. when rc) to b. */
static void tpo_append(struct sl_buf *b, bool first, const char *topic, int32_t p, sl_offset_t off, int rc)
{
    char num[96];
    sl_buf_append(b, first ? "{\"topic\":" : ",{\"topic\":", first ? 9 : 10);
    sl_json_str_append(b, (const uint8_t *)topic, strlen(topic));
    int n = snprintf(num, sizeof num, ",\"partition\":%d,\"offset\":%" PRId64, (int)p, off);
    sl_buf_append(b, num, (size_t)n);
    if (rc) {
        const struct sl_errmap *e = sl_errmap_get(rc);
        n = snprintf(num, sizeof num, ",\"error_code\":%d,\"reason\":", e->error_code);
        sl_buf_append(b, num, (size_t)n);
        sl_json_str_append(b, (const uint8_t *)sl_error_message(rc), strlen(sl_error_message(rc)));
    }
    sl_buf_append(b, "}", 1);
}

static void send_assignment(struct sl_ws_conn *c)
{
    struct sl_buf b = {0};
    char num[64];
    int n = snprintf(num, sizeof num, "{\"type\":\"assignment\",\"generation\":%" PRIu64 ",\"partitions\":[",
                     c->generation);
    sl_buf_append(&b, num, (size_t)n);
    for (size_t i = 0; i < c->ncur; i++)
        tpo_append(&b, i == 0, c->topics[c->cur[i].topic], c->cur[i].partition, c->cur[i].next, 0);
    if (sl_buf_append(&b, "]}", 2) == 0)
        sl_ws_send(c, (const char *)b.base, b.len);
    sl_buf_fini(&b);
}

/* Replaces the cursors by the member's current assignment. */
static int apply_assignment(struct sl_ws_conn *c)
{
    struct sl_ws *ws = c->ws;
    struct sl_tp *tps;
    size_t n;
    int rc = sl_groups_assignment(ws->g, c->t.group, c->member, &tps, &n, &c->generation);
    if (rc)
        return rc;
    struct sl_ws_cursor *old = c->cur;
    size_t nold = c->ncur;
    c->cur = NULL;
    c->ncur = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct sl_ws_cursor *keep = NULL;
        for (size_t j = 0; j < nold && !keep; j++)
            if (old[j].partition == tps[i].partition && strcmp(c->topics[old[j].topic], tps[i].topic) == 0)
                keep = &old[j];
        sl_offset_t at = keep ? keep->next : sl_groups_committed(ws->g, c->t.group, tps[i].topic, tps[i].partition);
        if (!keep && at < 0 && resolve_from(ws, tps[i].topic, tps[i].partition, &c->t.from, &at))
            continue; /* deleted meanwhile: the next rebalance drops it */
        rc = cursor_add(c, tps[i].topic, tps[i].partition, at);
        if (rc == 0 && keep)
            c->cur[c->ncur - 1].acked = keep->acked;
    }
    free(old);
    free(tps);
    if (rc)
        return rc;
    c->started = true;
    send_assignment(c);
    return 0;
}

/* Stops pushing what a pending rebalance takes away and tells the client so. */
static int apply_revoke(struct sl_ws_conn *c)
{
    struct sl_tp *tps;
    size_t n;
    uint64_t gen;
    int rc = sl_groups_revoking(c->ws->g, c->t.group, c->member, &tps, &n, &gen);
    if (rc || n == 0) {
        free(rc ? NULL : tps);
        return rc;
    }
    struct sl_buf b = {0};
    char num[80];
    int k = snprintf(num, sizeof num, "{\"type\":\"revoke\",\"generation\":%" PRIu64 ",\"partitions\":[", gen);
    sl_buf_append(&b, num, (size_t)k);
    for (size_t i = 0; i < n; i++) {
        struct sl_ws_cursor *cur = cursor_find(c, tps[i].topic, tps[i].partition);
        if (cur)
            cur->revoked = true;
        tpo_append(&b, i == 0, tps[i].topic, tps[i].partition, cur ? cur->next : -1, 0);
    }
    if (sl_buf_append(&b, "]}", 2) == 0)
        sl_ws_send(c, (const char *)b.base, b.len);
    sl_buf_fini(&b);
    free(tps);
    return 0;
}

void sl_wsc_group_events(struct sl_ws_conn *c)
{
    if (!c->wsi || !c->joined || c->closing)
        return;
    if (atomic_load(&c->expired)) {
        c->joined = false; /* the coordinator removed the member */
        sl_ws_fail(c, 408, 40801, "Group membership expired (consumer.instance.timeout.ms).");
        return;
    }
    if (atomic_exchange(&c->revoke, false)) {
        int rc = apply_revoke(c);
        if (rc) {
            sl_ws_fail_rc(c, rc, NULL);
            return;
        }
    }
    if (!atomic_exchange(&c->rebalance, false))
        return;
    int rc = apply_assignment(c);
    if (rc)
        sl_ws_fail_rc(c, rc, NULL);
    else
        lws_callback_on_writable(c->wsi);
}

/* ---- lifecycle ---- */

void sl_wsc_open(struct sl_ws_conn *c)
{
    struct sl_ws *ws = c->ws;
    uint32_t ti;
    c->max_in_flight = c->t.max_in_flight ? c->t.max_in_flight : ws->cfg->ws_max_in_flight;
    int32_t n = sl_broker_partition_count(ws->b, c->t.topic);
    if (n < 0) {
        sl_ws_fail(c, 404, 40401, "Topic '%s' not found.", c->t.topic);
        return;
    }
    if (c->t.partition >= n) {
        sl_ws_fail(c, 404, 40402, "Partition %d of topic '%s' not found.", (int)c->t.partition, c->t.topic);
        return;
    }
    if (topic_index(c, c->t.topic, &ti)) {
        sl_ws_fail(c, 500, 500, "Out of memory.");
        return;
    }
    if (c->t.group[0] && c->t.partition >= 0) {
        sl_ws_fail(c, 400, 400, "'group' and 'partition' are mutually exclusive.");
        return;
    }
    if (c->t.group[0]) {
        int rc = ws->g ? group_join(c) : SL_ESTOPPED;
        if (rc)
            sl_ws_fail_rc(c, rc, rc == -EINVAL ? "Invalid group name." : NULL);
        return; /* the rebalance event positions the cursors */
    }
    int rc = cursors_for_topic(c, c->t.topic, c->t.partition);
    if (rc) {
        sl_ws_fail_rc(c, rc, NULL);
        return;
    }
    c->started = true;
    lws_callback_on_writable(c->wsi);
}

void sl_wsc_close(struct sl_ws_conn *c)
{
    if (c->joined && c->ws->g)
        sl_groups_leave(c->ws->g, c->t.group, c->member);
    c->joined = false;
}

void sl_wsc_tick(struct sl_ws_conn *c, int64_t now)
{
    if (c->closing)
        return;
    if (c->joined && now - c->last_touch_ms >= 1000) {
        struct sl_member_info mi;
        sl_groups_member(c->ws->g, c->t.group, c->member, &mi);
        c->last_touch_ms = now;
    }
    if (c->window_full_since && now - c->window_full_since > c->ws->cfg->ws_idle_timeout_ms) {
        sl_ws_send_error(c, NULL, 40802, "No acknowledgement within ws.idle.timeout.ms: closing.");
        c->closing = true;
        c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        lws_callback_on_writable(c->wsi);
    }
}

/* ---- pushing ---- */

/* What one push attempt did: a step's answer (storage/err.h), next to the negative codes of a failure. */
enum pushed { PUSHED_NOTHING = 0, PUSHED = 1, PUSHED_AT_HW = 2 };

/* Tries to push one frame of cursor i. Returns an enum pushed (PUSHED_AT_HW: the cursor reached the HW), or
 * < 0 (the socket is failing). */
static int push_cursor(struct sl_ws_conn *c, struct sl_ws_cursor *cur, int64_t window)
{
    struct sl_ws *ws = c->ws;
    const char *topic = c->topics[cur->topic];
    const struct sl_ws_frame *fr;
    int rc = sl_ws_cache_get(ws, topic, cur->partition, c->t.fmt, cur->next, (size_t)window, &fr);
    if (rc == SL_EOFFSET) {
        sl_offset_t start, hw;
        if (sl_broker_offsets(ws->b, topic, cur->partition, &start, &hw) || cur->next >= start)
            return PUSHED_NOTHING; /* a future offset: wait for it */
        cur->next = cur->acked = start; /* retention removed what the cursor pointed at */
        rc = sl_ws_cache_get(ws, topic, cur->partition, c->t.fmt, cur->next, (size_t)window, &fr);
    }
    if (rc) {
        sl_ws_fail_rc(c, rc, NULL);
        return rc;
    }
    if (!fr)
        return PUSHED_NOTHING;
    if (lws_write(c->wsi, fr->buf + LWS_PRE, fr->len, LWS_WRITE_TEXT) < 0) {
        c->closing = true;
        c->close_code = LWS_CLOSE_STATUS_UNEXPECTED_CONDITION;
        return -EIO;
    }
    cur->next = fr->next;
    if (c->t.pull)
        c->credit -= (int64_t)fr->count;
    sl_metrics_records_out(ws->metrics, topic, fr->count, fr->bytes);
    return sl_ws_frame_at_hw(ws, fr) ? PUSHED_AT_HW : PUSHED;
}

bool sl_wsc_write(struct sl_ws_conn *c)
{
    if (atomic_load(&c->rebalance) || atomic_load(&c->revoke))
        sl_wsc_group_events(c);
    if (c->qhead)
        return true;
    if (!c->started || c->closing || c->ncur == 0)
        return false;
    int64_t window = c->max_in_flight - in_flight(c);
    if (c->t.pull && c->credit < window)
        window = c->credit;
    if (window <= 0) {
        if (!c->t.pull && !c->window_full_since)
            c->window_full_since = sl_ws_now_ms();
        return false;
    }
    for (size_t k = 0; k < c->ncur; k++) {
        size_t i = (c->rr + k) % c->ncur;
        if (c->cur[i].revoked)
            continue;
        int rc = push_cursor(c, &c->cur[i], window);
        if (rc < 0)
            return false;
        if (rc != PUSHED_NOTHING) {
            c->rr = i + 1;
            if (rc == PUSHED_AT_HW && c->ncur == 1) {
                c->want_data = true; /* the data hook wakes it; a writable round would find nothing */
                return false;
            }
            return true;
        }
    }
    c->want_data = true;
    return false;
}

/* ---- client messages ---- */

/* Reads one {"topic"?, "partition", "offset"} entry into its cursor and offset. Returns 0 or -EINVAL. */
static int entry_cursor(struct sl_ws_conn *c, json_t *e, struct sl_ws_cursor **cur, sl_offset_t *off)
{
    json_t *t = json_object_get(e, "topic"), *p = json_object_get(e, "partition"), *o = json_object_get(e, "offset");
    if (!json_is_integer(p) || !json_is_integer(o) || json_integer_value(o) < 0 || (t && !json_is_string(t)))
        return -EINVAL;
    *cur = cursor_find(c, t ? json_string_value(t) : NULL, (int32_t)json_integer_value(p));
    *off = json_integer_value(o);
    return *cur ? 0 : -EINVAL;
}

static void ack_cursor(struct sl_ws_cursor *cur, sl_offset_t off)
{
    if (off > cur->next)
        off = cur->next;
    if (off > cur->acked)
        cur->acked = off;
}

static int on_ack(struct sl_ws_conn *c, json_t *m)
{
    json_t *offs = json_object_get(m, "offsets");
    if (offs && !json_is_array(offs))
        return -EINVAL;
    if (!offs)
        for (size_t i = 0; i < c->ncur; i++)
            c->cur[i].acked = c->cur[i].next;
    size_t i;
    json_t *e;
    json_array_foreach(offs, i, e) {
        struct sl_ws_cursor *cur;
        sl_offset_t off;
        if (entry_cursor(c, e, &cur, &off) == 0)
            ack_cursor(cur, off); /* a partition no longer assigned is ignored */
        else if (!json_is_object(e))
            return -EINVAL;
    }
    return 0;
}

struct commit_op {
    struct sl_ws_op op;
    struct sl_commit cm;
    int rc;
    size_t n;
    int *why; /* per entry: 0 or why the coordinator refused it */
    struct sl_tpo offs[];
};

static void on_commit_done(struct sl_commit *cm, int rc)
{
    struct commit_op *o = cm->arg;
    o->rc = rc;
    sl_ws_post(o->op.c->ws, &o->op);
}

/* {"type":"error",...,"partitions":[...]} naming each refused entry and why. */
static void send_refusal(struct commit_op *o)
{
    const struct sl_errmap *e = sl_errmap_get(o->rc);
    struct sl_buf b = {0};
    char num[64];
    int k = snprintf(num, sizeof num, "{\"type\":\"error\",\"error_code\":%d,\"message\":", e->error_code);
    sl_buf_append(&b, num, (size_t)k);
    const char *msg = o->rc == SL_ENOMEMBER ? "Commit refused: this socket is no longer a member of the group."
                      : o->rc == SL_EREBALANCE
                          ? "Commit refused: a rebalance is handing these partitions to this member; nothing was "
                            "committed. Retry after the next assignment."
                          : "Commit refused: partitions not assigned to this member (a rebalance gave them to "
                            "another); nothing was committed.";
    sl_json_str_append(&b, (const uint8_t *)msg, strlen(msg));
    sl_buf_append(&b, ",\"partitions\":[", 15);
    bool first = true;
    for (size_t i = 0; i < o->n; i++) {
        int why = o->rc == SL_ENOMEMBER ? SL_ENOMEMBER : o->why[i];
        if (why) {
            tpo_append(&b, first, o->offs[i].topic, o->offs[i].partition, o->offs[i].offset, why);
            first = false;
        }
    }
    if (sl_buf_append(&b, "]}", 2) == 0)
        sl_ws_send(o->op.c, (const char *)b.base, b.len);
    sl_buf_fini(&b);
}

static void commit_complete(struct sl_ws_op *op)
{
    struct commit_op *o = (struct commit_op *)op;
    if (o->rc == SL_EREBALANCE || o->rc == SL_ENOTASSIGNED || o->rc == SL_ENOMEMBER) {
        send_refusal(o);
    } else if (o->rc) {
        const struct sl_errmap *e = sl_errmap_get(o->rc);
        sl_ws_send_error(o->op.c, NULL, e->error_code, "Commit failed.");
    } else {
        struct sl_buf b = {0};
        sl_buf_append(&b, "{\"type\":\"committed\",\"offsets\":[", 31);
        for (size_t i = 0; i < o->n; i++)
            tpo_append(&b, i == 0, o->offs[i].topic, o->offs[i].partition, o->offs[i].offset, 0);
        if (sl_buf_append(&b, "]}", 2) == 0)
            sl_ws_send(o->op.c, (const char *)b.base, b.len);
        sl_buf_fini(&b);
    }
    free(o->why);
    free(o);
}

/* Reads commit entry e ({"topic"?, "partition", "offset"}; the topic defaults to the cursor's, else the URL's)
 * into out, acknowledging its cursor when the session has one. Returns 0 or -EINVAL. */
static int commit_entry(struct sl_ws_conn *c, json_t *e, struct sl_tpo *out)
{
    json_t *t = json_object_get(e, "topic"), *p = json_object_get(e, "partition"), *o = json_object_get(e, "offset");
    if (!json_is_integer(p) || !json_is_integer(o) || json_integer_value(o) < 0 || (t && !json_is_string(t)) ||
        json_integer_value(p) < 0 || json_integer_value(p) > INT32_MAX)
        return -EINVAL;
    struct sl_ws_cursor *cur = cursor_find(c, t ? json_string_value(t) : NULL, (int32_t)json_integer_value(p));
    const char *topic = t ? json_string_value(t) : cur ? c->topics[cur->topic] : c->t.topic;
    if (strlen(topic) > SL_TOPIC_NAME_MAX)
        return -EINVAL;
    snprintf(out->topic, sizeof out->topic, "%s", topic);
    out->partition = (int32_t)json_integer_value(p);
    out->offset = json_integer_value(o);
    if (cur)
        ack_cursor(cur, out->offset);
    return 0;
}

static int on_commit(struct sl_ws_conn *c, json_t *m)
{
    if (!c->joined)
        return -EINVAL;
    json_t *offs = json_object_get(m, "offsets");
    if (offs && !json_is_array(offs))
        return -EINVAL;
    size_t n = offs ? json_array_size(offs) : c->ncur;
    struct commit_op *o = calloc(1, sizeof *o + (n ? n : 1) * sizeof o->offs[0]);
    if (!o || !(o->why = calloc(n ? n : 1, sizeof *o->why))) {
        free(o);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (offs && commit_entry(c, json_array_get(offs, i), &o->offs[i])) {
            free(o->why);
            free(o);
            return -EINVAL;
        }
        if (!offs) { /* everything pushed so far */
            snprintf(o->offs[i].topic, sizeof o->offs[i].topic, "%s", c->topics[c->cur[i].topic]);
            o->offs[i].partition = c->cur[i].partition;
            o->offs[i].offset = c->cur[i].next;
            ack_cursor(&c->cur[i], c->cur[i].next);
        }
    }
    o->n = n;
    o->op.c = c;
    o->op.complete = commit_complete;
    o->cm.done = on_commit_done;
    o->cm.arg = o;
    sl_ws_conn_ref(c);
    c->pending++;
    sl_ws_op_begin(c->ws);
    int rc = n ? sl_groups_member_commit(c->ws->g, c->t.group, c->member, o->offs, n, &o->cm, o->why) : -EINVAL;
    if (rc)
        on_commit_done(&o->cm, rc);
    return 0;
}

static int on_seek(struct sl_ws_conn *c, json_t *m)
{
    struct sl_ws_cursor *cur;
    sl_offset_t off;
    json_t *from = json_object_get(m, "from");
    if (json_is_string(from)) { /* {"type":"seek","partition":p,"from":"earliest"} */
        struct sl_from f;
        json_t *p = json_object_get(m, "partition"), *t = json_object_get(m, "topic");
        if (!json_is_integer(p) || sl_from_parse(json_string_value(from), &f))
            return -EINVAL;
        cur = cursor_find(c, json_is_string(t) ? json_string_value(t) : NULL, (int32_t)json_integer_value(p));
        if (!cur || resolve_from(c->ws, c->topics[cur->topic], cur->partition, &f, &off))
            return -EINVAL;
    } else if (entry_cursor(c, m, &cur, &off)) {
        return -EINVAL;
    }
    cur->next = cur->acked = off;
    return 0;
}

static int on_subscribe(struct sl_ws_conn *c, json_t *m)
{
    json_t *ts = json_object_get(m, "topics"), *t;
    size_t i;
    if (!json_is_array(ts) || json_array_size(ts) == 0)
        return -EINVAL;
    json_array_foreach(ts, i, t) {
        uint32_t ti;
        if (!json_is_string(t) || sl_broker_partition_count(c->ws->b, json_string_value(t)) < 0)
            return SL_ENOTOPIC;
        int rc = c->joined ? topic_index(c, json_string_value(t), &ti)
                           : cursors_for_topic(c, json_string_value(t), -1);
        if (rc)
            return rc;
    }
    if (c->joined)
        return sl_groups_subscribe(c->ws->g, c->t.group, c->member, (const char *const *)c->topics, c->ntopics,
                                   NULL);
    return 0;
}

/* Tells libwebsockets the peer is alive (no ping needed), at most every quarter of the ping interval and at
 * most once a second: each call re-inserts the socket's timer into a sorted list (O(sockets)), which with
 * 1,000 sockets acking every frame was ~19% of the service thread. */
static void confirm_validity(struct sl_ws_conn *c)
{
    int64_t every = (int64_t)c->ws->retry.secs_since_valid_ping * 250;
    if (every > 1000)
        every = 1000;
    if (c->last_rx_ms - c->valid_ms < every)
        return;
    c->valid_ms = c->last_rx_ms;
    lws_validity_confirmed(c->wsi);
}

void sl_wsc_message(struct sl_ws_conn *c, const char *msg, size_t len)
{
    json_error_t jerr;
    json_t *m = json_loadb(msg, len, 0, &jerr);
    const char *type = json_string_value(json_object_get(m, "type"));
    int rc = 0;
    if (!m || !json_is_object(m)) {
        sl_ws_fail(c, 400, 400, "Malformed JSON: %s", m ? "not an object" : jerr.text);
    } else if (!type) {
        sl_ws_fail(c, 400, 400, "Message without a \"type\".");
    } else if (strcmp(type, "revoked") == 0) {
        if (c->joined)
            sl_groups_revoke_ack(c->ws->g, c->t.group, c->member);
        else
            sl_ws_fail(c, 400, 400, "Invalid 'revoked' message (it needs group=...).");
        confirm_validity(c);
    } else if (strcmp(type, "ack") == 0 || strcmp(type, "commit") == 0 || strcmp(type, "credit") == 0 ||
               strcmp(type, "seek") == 0 || strcmp(type, "subscribe") == 0) {
        if (type[0] == 'a')
            rc = on_ack(c, m);
        else if (type[1] == 'o')
            rc = on_commit(c, m);
        else if (type[0] == 'c') {
            json_t *r = json_object_get(m, "records");
            rc = json_is_integer(r) && json_integer_value(r) > 0 ? 0 : -EINVAL;
            if (rc == 0)
                c->credit += json_integer_value(r);
        } else if (type[1] == 'e')
            rc = on_seek(c, m);
        else
            rc = on_subscribe(c, m);
        if (rc == SL_ENOTOPIC)
            sl_ws_fail(c, 404, 40401, "Topic not found.");
        else if (rc)
            sl_ws_fail(c, 400, 400, "Invalid '%s' message%s.", type,
                       strcmp(type, "commit") == 0 && !c->joined ? " (commit needs group=...)" : "");
        confirm_validity(c);
        c->window_full_since = 0;
        if (!(type[0] == 'a' && c->want_data)) /* an ack to a waiting session cannot make data appear */
            lws_callback_on_writable(c->wsi);
    } else {
        sl_ws_fail(c, 400, 400, "Unknown message type '%.40s'.", type);
    }
    json_decref(m);
}
