/* The v2 produce grammar (contract: api/codec/records.h, sl_rec_parse_v2), written on the JSON scanner of
 * api/codec/rec_scan.h.
 *
 * sl_rec_parse_v2 walks the body once with the scanner (strict RFC 8259, no allocation, no recursion:
 * containers nest on a bit stack) and takes every field as a slice of the body: a json-format key/value is its
 * raw text (compacted into the arena only when it has whitespace between tokens), a text value a string's
 * bytes (decoded into the arena only when it has escapes), a binary value is base64-decoded into the arena
 * straight from the string. It accepts exactly the bodies jansson's json_loadb(flags 0) accepts, which the
 * old parser used: top level an object or array, depth <= 2048, no \u0000, no lone surrogate, valid UTF-8,
 * integers within int64 and reals within double (else 400); duplicate keys: the last one wins. Errors keep
 * jansson-era precedence: any syntax error (400), then the envelope (422), the record count (413), then the
 * first failing record (422) -- so after a record fails, the rest of the body is only checked for syntax.
 * Differences from the jansson era, by design: json-format values keep their escapes and number spelling as
 * sent ("\u00e9", 1e2) instead of jansson's re-serialization ("é", 100.0); both are the same JSON value. */
#include "api/codec/rec_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* State of one sl_rec_parse_v2 call. */
struct v2scan {
    struct sl_scan s;
    struct sl_rec_req *r;
    enum sl_fmt fmt;
    int64_t now_ms;
    size_t max, count;  /* records seen in the (last) records array */
    bool failed;        /* a record failed: *err holds it; the rest is only checked for syntax */
    bool oom;
    char recs;          /* the records member: 0 absent, 'n' null, '[' array, 'x' anything else */
    struct sl_jspan id;    /* top-level "id" (WebSocket produce) */
    struct sl_jspan unknown; /* the first top-level member with an unknown name */
    struct sl_jspan schema;  /* the first non-null schema member (key_schema, value_schema_id...) */
    struct sl_rec_err *err;
};

static void *v2_alloc(struct v2scan *vs, size_t n)
{
    void *p = rec_arena_alloc(vs->r, n ? n : 1);
    vs->oom |= !p;
    return p;
}

/* A json-format value: the raw text, compacted when it has whitespace between tokens. */
static int take_raw(struct v2scan *vs, const struct sl_jspan *v, struct sl_slice *out)
{
    out->base = v->p;
    out->len = (size_t)(v->end - v->p);
    if (v->ws && (*v->p == '{' || *v->p == '[')) {
        uint8_t *dst = v2_alloc(vs, out->len);
        if (!dst)
            return -ENOMEM;
        out->len = sl_scan_compact(v->p, v->end, dst);
        out->base = dst;
    }
    return 0;
}

/* A string's bytes: its inside when it has no escapes, else decoded into the arena. */
static int take_str(struct v2scan *vs, const struct sl_jspan *v, struct sl_slice *out)
{
    out->base = v->p + 1;
    out->len = (size_t)(v->end - v->p) - 2;
    if (v->esc) {
        uint8_t *dst = v2_alloc(vs, out->len);
        if (!dst)
            return -ENOMEM;
        out->len = sl_scan_str_decode(v->p + 1, v->end - 1, dst);
        out->base = dst;
    }
    return 0;
}

/* A base64 string decoded into the arena. Returns 0, -EINVAL (not base64), -ENOMEM. */
static int take_b64(struct v2scan *vs, const struct sl_jspan *v, struct sl_slice *out)
{
    struct sl_slice s;
    int rc = take_str(vs, v, &s);
    uint8_t *dst = rc ? NULL : v2_alloc(vs, s.len / 4 * 3 + 3);
    if (!dst)
        return -ENOMEM;
    ssize_t got = sl_base64_decode((const char *)s.base, s.len, dst);
    if (got < 0)
        return -EINVAL;
    out->base = dst;
    out->len = (size_t)got;
    return 0;
}

/* Records the first record failure (422). */
/* A member name for a message: its raw text, at most 64 bytes ("%.*s"). */
#define SPAN_NAME(k) (int)((k)->end - (k)->p > 64 ? 64 : (k)->end - (k)->p), (const char *)(k)->p

static void v2_reject(struct v2scan *vs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void v2_reject(struct v2scan *vs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vs->err->status = 422;
    vs->err->code = 422;
    vsnprintf(vs->err->msg, sizeof vs->err->msg, fmt, ap);
    va_end(ap);
    vs->failed = true;
}

/* One key or value of record i. Returns 0 (also after v2_reject) or -ENOMEM. */
static int v2_take_field(struct v2scan *vs, const struct sl_jspan *v, const char *what, size_t i, struct sl_slice *out)
{
    out->base = NULL;
    out->len = 0;
    if (sl_jspan_null(v))
        return 0;
    if (vs->fmt == SL_FMT_JSON)
        return take_raw(vs, v, out);
    if (*v->p != '"') {
        v2_reject(vs, "records[%zu].%s must be a %s string", i, what, vs->fmt == SL_FMT_BINARY ? "base64" : "JSON");
        return 0;
    }
    if (vs->fmt == SL_FMT_TEXT)
        return take_str(vs, v, out);
    int rc = take_b64(vs, v, out);
    if (rc == -EINVAL)
        v2_reject(vs, "records[%zu].%s is not a valid base64 string", i, what);
    return rc == -EINVAL ? 0 : rc;
}

/* Header j of record i, the object v: {"key": string, "value": base64 | null}. */
static int v2_take_header(struct v2scan *vs, const struct sl_jspan *v, size_t i, size_t j, struct sl_header *h)
{
    static const char *const names[] = {"key", "value"};
    struct sl_jspan f[2] = {{0}}, k, tmp;
    struct sl_scan t = {.p = v->p + 1, .end = v->end, .start = vs->s.start, .depth = 5};
    bool more = *v->p == '{';
    sl_scan_ws(&t);
    if (more && *t.p == '}')
        more = false;
    while (more) {
        if (!sl_scan_key(&t, &k))
            return -EINVAL;
        int x = sl_scan_key_index(&k, names, 2);
        sl_scan_ws(&t);
        if (!sl_scan_value(&t, x >= 0 ? &f[x] : &tmp) || !sl_scan_next(&t, '}', &more))
            return -EINVAL;
        if (x < 0 && !vs->failed)
            v2_reject(vs, "Unrecognized field: records[%zu].headers[%zu].%.*s", i, j, SPAN_NAME(&k));
    }
    if (vs->failed)
        return 0;
    if (*v->p != '{' || !f[0].p || *f[0].p != '"') {
        v2_reject(vs, "records[%zu].headers[%zu].key must be a string", i, j);
        return 0;
    }
    int rc = take_str(vs, &f[0], &h->key);
    h->value.base = NULL;
    h->value.len = 0;
    if (rc || sl_jspan_null(&f[1]))
        return rc;
    rc = *f[1].p == '"' ? take_b64(vs, &f[1], &h->value) : -EINVAL;
    if (rc == -EINVAL)
        v2_reject(vs, "records[%zu].headers[%zu].value must be a base64 string", i, j);
    return rc == -EINVAL ? 0 : rc;
}

/* The headers array v of record i (already syntax-checked: scanned again, twice: count, then take). */
static int v2_take_headers(struct v2scan *vs, const struct sl_jspan *v, size_t i, struct sl_record *rec)
{
    if (sl_jspan_null(v))
        return 0;
    if (*v->p != '[') {
        v2_reject(vs, "records[%zu].headers must be an array", i);
        return 0;
    }
    struct sl_jspan e;
    struct sl_scan t = {.p = v->p + 1, .end = v->end, .start = vs->s.start, .depth = 4};
    size_t n = 0;
    bool more = true;
    sl_scan_ws(&t);
    if (*t.p == ']')
        more = false;
    while (more && sl_scan_value(&t, &e) && sl_scan_next(&t, ']', &more))
        n++;
    struct sl_header *h = v2_alloc(vs, n * sizeof *h);
    if (!h)
        return -ENOMEM;
    t.p = v->p + 1;
    sl_scan_ws(&t);
    for (size_t j = 0; j < n && !vs->failed; j++) {
        int rc = sl_scan_value(&t, &e) && sl_scan_next(&t, ']', &more) ? v2_take_header(vs, &e, i, j, &h[j]) : -EINVAL;
        if (rc)
            return rc;
    }
    rec->headers = h;
    rec->nheaders = (uint32_t)n;
    return 0;
}

enum { F_KEY, F_VALUE, F_PARTITION, F_TIMESTAMP, F_HEADERS, F_N };

/* Record i, whose fields f were collected (last one wins), checked in the jansson-era order. */
static int v2_take_record(struct v2scan *vs, const struct sl_jspan *f, size_t i)
{
    struct sl_rec_item *it = rec_item_new(vs->r);
    if (!it)
        return -ENOMEM;
    const struct sl_jspan *p = &f[F_PARTITION], *ts = &f[F_TIMESTAMP];
    if (!sl_jspan_null(p)) {
        if (!p->integer || p->ival < 0 || p->ival > INT32_MAX) {
            v2_reject(vs, "records[%zu].partition must be a non-negative integer", i);
            return 0;
        }
        it->partition = (int32_t)p->ival;
    }
    it->rec.timestamp = vs->now_ms;
    if (!sl_jspan_null(ts)) {
        if (!ts->integer || ts->ival < 0) {
            v2_reject(vs, "records[%zu].timestamp must be epoch milliseconds", i);
            return 0;
        }
        it->rec.timestamp = ts->ival;
    }
    int rc = v2_take_field(vs, &f[F_KEY], "key", i, &it->rec.key);
    if (rc == 0 && !vs->failed)
        rc = v2_take_field(vs, &f[F_VALUE], "value", i, &it->rec.value);
    if (rc == 0 && !vs->failed)
        rc = v2_take_headers(vs, &f[F_HEADERS], i, &it->rec);
    return rc;
}

/* The record object at s->p, the i-th element. */
static bool v2_scan_record(struct v2scan *vs, size_t i)
{
    static const char *const names[F_N] = {"key", "value", "partition", "timestamp", "headers"};
    struct sl_scan *s = &vs->s;
    struct sl_jspan f[F_N] = {{0}}, k, tmp;
    bool more = true;
    s->p++;
    s->depth = 3;
    sl_scan_ws(s);
    if (s->p < s->end && *s->p == '}')
        more = false, s->p++;
    while (more) {
        if (!sl_scan_key(s, &k))
            return false;
        int x = sl_scan_key_index(&k, names, F_N);
        sl_scan_ws(s);
        if (!sl_scan_value(s, x >= 0 ? &f[x] : &tmp) || !sl_scan_next(s, '}', &more))
            return false;
        if (x < 0 && !vs->failed)
            v2_reject(vs, "Unrecognized field: records[%zu].%.*s", i, SPAN_NAME(&k));
    }
    s->depth = 2;
    if (vs->failed)
        return true;
    int rc = v2_take_record(vs, f, i);
    vs->oom |= rc == -ENOMEM;
    return rc == 0 || sl_scan_fail(s, "internal error");
}

/* The records array at s->p. */
static bool v2_scan_records(struct v2scan *vs)
{
    struct sl_scan *s = &vs->s;
    struct sl_jspan tmp;
    bool more = true;
    s->p++;
    s->depth = 2;
    sl_scan_ws(s);
    if (s->p < s->end && *s->p == ']')
        more = false, s->p++;
    while (more) {
        size_t i = vs->count++;
        bool take = !vs->failed && vs->count <= vs->max;
        if (take && s->p < s->end && *s->p == '{') {
            if (!v2_scan_record(vs, i))
                return false;
        } else {
            if (!sl_scan_value(s, &tmp))
                return false;
            if (take)
                v2_reject(vs, "records[%zu] must be a JSON object", i);
        }
        if (!sl_scan_next(s, ']', &more))
            return false;
    }
    s->depth = 1;
    return true;
}

/* The top-level object at s->p. */
static bool v2_scan_top(struct v2scan *vs)
{
    /* Confluent's v2 schema members: sluice has no schema registry, so only null is meaningful */
    static const char *const names[] = {"records", "id", "key_schema", "value_schema", "key_schema_id",
                                        "value_schema_id"};
    struct sl_scan *s = &vs->s;
    struct sl_jspan k, v;
    bool more = true;
    s->p++;
    s->depth = 1;
    sl_scan_ws(s);
    if (s->p < s->end && *s->p == '}')
        more = false, s->p++;
    while (more) {
        if (!sl_scan_key(s, &k))
            return false;
        int x = sl_scan_key_index(&k, names, 6);
        sl_scan_ws(s);
        if (x < 0 && !vs->unknown.p)
            vs->unknown = k;
        if (x >= 2 && s->p < s->end && *s->p != 'n' && !vs->schema.p)
            vs->schema = k;
        if (x == 0) { /* a repeated records member replaces the earlier one */
            vs->r->n = 0;
            vs->count = 0;
            vs->failed = false;
            vs->recs = s->p < s->end ? (char)*s->p : 0;
        }
        if (x == 0 && vs->recs == '[') {
            if (!v2_scan_records(vs))
                return false;
        } else {
            if (!sl_scan_value(s, x == 1 ? &vs->id : &v))
                return false;
            if (x == 0 && vs->recs != 'n')
                vs->recs = 'x';
        }
        if (!sl_scan_next(s, '}', &more))
            return false;
    }
    return true;
}

int sl_rec_parse_v2(struct sl_rec_req *r, const char *body, size_t len, enum sl_fmt fmt, int64_t now_ms,
                    size_t max_records, struct sl_rec_err *err)
{
    struct v2scan vs = {.s = {.p = (const uint8_t *)body, .end = (const uint8_t *)body + len,
                              .start = (const uint8_t *)body},
                        .r = r, .fmt = fmt, .now_ms = now_ms, .max = max_records, .err = err};
    struct sl_scan *s = &vs.s;
    struct sl_jspan v;
    if (len == 0)
        return rec_fail(err, 422, 42206, "Payload error. Request body is empty. Data is required.");
    sl_scan_ws(s);
    bool top_obj = s->p < s->end && *s->p == '{';
    bool ok = top_obj ? v2_scan_top(&vs)
                      : s->p < s->end && *s->p == '[' ? sl_scan_value(s, &v) : sl_scan_fail(s, "'[' or '{' expected");
    if (ok) {
        sl_scan_ws(s);
        ok = s->p == s->end || sl_scan_fail(s, "end of file expected");
    }
    if (vs.oom)
        return rec_fail(err, 500, 50002, "out of memory");
    if (!ok)
        return rec_fail(err, 400, 400, "Malformed JSON: %s at byte %zu", s->bad, (size_t)(s->p - s->start));
    r->object = top_obj;
    if (vs.id.p && take_raw(&vs, &vs.id, &r->id))
        return rec_fail(err, 500, 50002, "out of memory");
    if (!top_obj)
        return rec_fail(err, 422, 422, "The request body must be a JSON object");
    if (vs.unknown.p)
        return rec_fail(err, 422, 422, "Unrecognized field: %.*s", SPAN_NAME(&vs.unknown));
    if (vs.schema.p)
        return rec_fail(err, 422, 422, "%.*s is not supported: sluice has no schema registry (use the binary, json "
                    "or string formats)", SPAN_NAME(&vs.schema));
    if (vs.recs == 0 || vs.recs == 'n')
        return rec_fail(err, 422, 422, "records may not be null");
    if (vs.recs != '[')
        return rec_fail(err, 422, 422, "records must be an array");
    if (vs.count == 0)
        return rec_fail(err, 422, 422, "records may not be empty");
    if (vs.count > max_records)
        return rec_fail(err, 413, 413, "Too many records in one request: %zu (rest.max.records.per.request is %zu)",
                    vs.count, max_records);
    return vs.failed ? -EINVAL : 0;
}
