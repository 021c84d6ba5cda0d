/* The v3 produce grammar (contract: api/codec/records.h, sl_rec_parse_v3): one ProduceRequest object at a time,
 * from a jansson tree (v3 is not the bulk path). Strings are referenced in the tree the request keeps
 * (sl_rec_req_keep); base64 and JSON-type data are decoded or serialized into the request's arena. */
#include "api/codec/rec_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/codec/jsonbody.h"

/* Decodes a base64 JSON string into the arena. Returns 0, -EINVAL (not base64), -ENOMEM. */
static int take_base64(struct sl_rec_req *r, json_t *j, struct sl_slice *out)
{
    size_t n = json_string_length(j);
    uint8_t *dst = rec_arena_alloc(r, n / 4 * 3 + 3);
    if (!dst)
        return -ENOMEM;
    ssize_t got = sl_base64_decode(json_string_value(j), n, dst);
    if (got < 0)
        return -EINVAL;
    out->base = dst;
    out->len = (size_t)got;
    return 0;
}

/* Serializes any JSON value compactly into the arena. */
static int take_json(struct sl_rec_req *r, json_t *j, struct sl_slice *out)
{
    size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *dst = rec_arena_alloc(r, n ? n : 1);
    if (!dst || (n && json_dumpb(j, dst, n, JSON_COMPACT | JSON_ENCODE_ANY) != n))
        return -ENOMEM;
    out->base = (const uint8_t *)dst;
    out->len = n;
    return 0;
}

/* Headers [{"<kname>": string, "value": base64|null}] into the arena. */
static int take_headers(struct sl_rec_req *r, json_t *j, const char *kname, struct sl_record *rec, const char *where,
                        unsigned status, int code, struct sl_rec_err *err)
{
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_array(j))
        return rec_fail(err, status, code, "%s.headers must be an array", where);
    size_t n = json_array_size(j);
    struct sl_header *h = rec_arena_alloc(r, (n ? n : 1) * sizeof *h);
    if (!h)
        return rec_fail(err, 500, 50002, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(j, i), *k = json_object_get(e, kname), *v = json_object_get(e, "value");
        if (!json_is_object(e) || !json_is_string(k))
            return rec_fail(err, status, code, "%s.headers[%zu].%s must be a string", where, i, kname);
        const char *const names[] = {kname, "value", NULL}, *m = sl_json_unknown(e, names);
        if (m)
            return rec_fail(err, status, code, "Unrecognized field: %s.headers[%zu].%.64s", where, i, m);
        h[i].key.base = (const uint8_t *)json_string_value(k);
        h[i].key.len = json_string_length(k);
        h[i].value.base = NULL;
        h[i].value.len = 0;
        if (v && !json_is_null(v)) {
            int rc = json_is_string(v) ? take_base64(r, v, &h[i].value) : -EINVAL;
            if (rc == -ENOMEM)
                return rec_fail(err, 500, 50002, "out of memory");
            if (rc)
                return rec_fail(err, status, code, "%s.headers[%zu].value must be a base64 string", where, i);
        }
    }
    rec->headers = h;
    rec->nheaders = (uint32_t)n;
    return 0;
}

const char *sl_rec_v3type_name(int t)
{
    return t == SL_V3_BINARY ? "BINARY" : t == SL_V3_JSON ? "JSON" : t == SL_V3_STRING ? "STRING" : NULL;
}

/* Fails with 400 "Unrecognized field: <where>.<name>" when object o has a member not in names. */
static int only_members(json_t *o, const char *const *names, const char *where, struct sl_rec_err *err)
{
    if (!sl_json_check_members(o, names, where, err->msg, sizeof err->msg))
        return 0;
    if (!*where && json_object_get(o, "records")) /* the likely mistake, said */
        snprintf(err->msg, sizeof err->msg, "Unrecognized field: records (a v2 body? A v3 request is one record "
                 "object per JSON value)");
    err->status = 400;
    err->code = 400;
    return -EINVAL;
}

/* One v3 key or value: {"type": BINARY|JSON|STRING, "data": ...}. */
static int v3_field(struct sl_rec_req *r, json_t *j, const char *what, int *type, struct sl_slice *out,
                    struct sl_rec_err *err)
{
    out->base = NULL;
    out->len = 0;
    *type = SL_V3_NONE;
    if (!j || json_is_null(j))
        return 0;
    /* Confluent's ProduceRequestData: type and data, and schema-registry members sluice cannot honour */
    static const char *const names[] = {"type", "data", "subject", "subject_name_strategy", "schema_id",
                                        "schema_version", "schema", NULL};
    if (!json_is_object(j))
        return rec_fail(err, 400, 400, "%s must be an object with type and data", what);
    if (only_members(j, names, what, err))
        return -EINVAL;
    for (size_t i = 2; i < 7; i++)
        if (json_object_get(j, names[i]) && !json_is_null(json_object_get(j, names[i])))
            return rec_fail(err, 400, 400, "%s.%s is not supported: sluice has no schema registry (type BINARY, "
                        "JSON or STRING)", what, names[i]);
    const char *t = json_string_value(json_object_get(j, "type"));
    json_t *data = json_object_get(j, "data");
    if (!t)
        return rec_fail(err, 400, 400, "%s.type is required (BINARY, JSON or STRING)", what);
    *type = strcmp(t, "BINARY") == 0 ? SL_V3_BINARY : strcmp(t, "JSON") == 0 ? SL_V3_JSON
                                                   : strcmp(t, "STRING") == 0 ? SL_V3_STRING : SL_V3_NONE;
    if (*type == SL_V3_NONE)
        return rec_fail(err, 400, 400, "%s.type %s is not supported (BINARY, JSON or STRING; no schema registry)",
                    what, t);
    if (!data || json_is_null(data))
        return 0;
    if (*type == SL_V3_JSON)
        return take_json(r, data, out) ? rec_fail(err, 500, 500, "out of memory") : 0;
    if (!json_is_string(data)) {
        err->in_data = true;
        return rec_fail(err, 400, 400, "%s.data must be a string for type %s", what, t);
    }
    if (*type == SL_V3_STRING) {
        out->base = (const uint8_t *)json_string_value(data);
        out->len = json_string_length(data);
        return 0;
    }
    int rc = take_base64(r, data, out);
    if (rc == -ENOMEM)
        return rec_fail(err, 500, 500, "out of memory");
    if (!rc)
        return 0;
    err->in_data = true;
    return rec_fail(err, 400, 400, "Bad Request: data=%.40s is not a base64 string.", json_string_value(data));
}

static int v3_record(struct sl_rec_req *r, struct sl_rec_item *it, json_t *obj, bool entry, int64_t now_ms,
                     struct sl_rec_err *err)
{
    /* Confluent's ProduceRequest members; a records:batch entry adds its id */
    static const char *const names[] = {"partition_id", "headers", "key", "value", "timestamp", NULL, NULL};
    static const char *const entry_names[] = {"partition_id", "headers", "key", "value", "timestamp", "id", NULL};
    if (!json_is_object(obj))
        return rec_fail(err, 400, 400, "The record must be a JSON object");
    if (only_members(obj, entry ? entry_names : names, "", err))
        return -EINVAL;
    json_t *p = json_object_get(obj, "partition_id"), *ts = json_object_get(obj, "timestamp");
    if (p && !json_is_null(p)) {
        if (!json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > INT32_MAX)
            return rec_fail(err, 400, 400, "partition_id must be a non-negative integer");
        it->partition = (int32_t)json_integer_value(p);
    }
    it->rec.timestamp = now_ms;
    if (ts && !json_is_null(ts)) {
        if (!json_is_string(ts) || sl_rfc3339_parse(json_string_value(ts), &it->rec.timestamp))
            return rec_fail(err, 400, 400, "timestamp must be an RFC 3339 date-time");
    }
    int rc = v3_field(r, json_object_get(obj, "key"), "key", &it->key_type, &it->rec.key, err);
    if (rc == 0)
        rc = v3_field(r, json_object_get(obj, "value"), "value", &it->value_type, &it->rec.value, err);
    if (rc == 0)
        rc = take_headers(r, json_object_get(obj, "headers"), "name", &it->rec, "record", 400, 400, err);
    return rc;
}

int sl_rec_parse_v3(struct sl_rec_req *r, json_t *obj, bool entry, int64_t now_ms, struct sl_rec_err *err)
{
    struct sl_rec_item *it = rec_item_new(r);
    if (!it)
        return rec_fail(err, 500, 500, "out of memory");
    int rc = v3_record(r, it, obj, entry, now_ms, err);
    if (rc) {
        it->err_code = (int)err->status;
        it->err_msg = "invalid record";
    }
    return rc;
}
