/* Encoding and decoding of metadata records (see meta_rec.h for the FORMAT). The writer appends to an sl_buf
 * and remembers the first failure; the reader walks a bounded cursor and fails on the first field that does
 * not fit, so neither checks after every field. */
#include "server/meta_rec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/err.h"

/* ---- writer ---- */

struct wr {
    struct sl_buf *out;
    int rc;
};

static void put(struct wr *w, const void *p, size_t n)
{
    if (w->rc == 0)
        w->rc = sl_buf_append(w->out, p, n);
}

static void put_u(struct wr *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(w, b, (size_t)bytes);
}

static void put_str(struct wr *w, const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n > max && w->rc == 0)
        w->rc = -EINVAL;
    put_u(w, n, 2);
    put(w, s, n);
}

static void put_part(struct wr *w, const struct sl_meta_part *p)
{
    if (p->nreplicas > SL_META_MAX_REPLICAS && w->rc == 0)
        w->rc = -EINVAL;
    put_u(w, (uint32_t)p->leader, 4);
    put_u(w, (uint32_t)p->leader_epoch, 4);
    put_u(w, (uint32_t)p->partition_epoch, 4);
    put_u(w, p->nreplicas, 1);
    for (int i = 0; i < p->nreplicas && i < SL_META_MAX_REPLICAS; i++)
        put_u(w, (uint32_t)p->replicas[i], 4);
}

static void put_parts(struct wr *w, const struct sl_meta_part *v, uint32_t n)
{
    if (n > SL_META_MAX_PARTITIONS && w->rc == 0)
        w->rc = -EINVAL;
    put_u(w, n, 4);
    for (uint32_t i = 0; i < n && w->rc == 0; i++)
        put_part(w, &v[i]);
}

static void put_body(struct wr *w, const struct sl_meta_rec *r)
{
    switch (r->type) {
    case SL_META_REGISTER_BROKER:
        put_u(w, (uint32_t)r->broker.id, 4);
        put_u(w, (uint64_t)r->broker.incarnation, 8);
        put_str(w, r->broker.host, SL_META_HOST_MAX);
        put_u(w, r->broker.rest_port, 2);
        put_u(w, r->broker.ws_port, 2);
        put_u(w, r->broker.cluster_port, 2);
        break;
    case SL_META_FENCE_BROKER:
    case SL_META_UNFENCE_BROKER:
        put_u(w, (uint32_t)r->broker.id, 4);
        put_u(w, (uint64_t)r->broker.incarnation, 8);
        break;
    case SL_META_TOPIC_CREATE:
        put_str(w, r->topic, SL_TOPIC_NAME_MAX);
        put_str(w, r->topic_id, SL_TOPIC_ID_LEN);
        put_parts(w, r->parts, r->nparts);
        if (r->nconfigs > SL_META_MAX_CONFIGS && w->rc == 0)
            w->rc = -EINVAL;
        put_u(w, r->nconfigs, 2);
        for (uint16_t i = 0; i < r->nconfigs && w->rc == 0; i++) {
            put_str(w, r->configs[i].key, SL_META_KEY_MAX);
            put_str(w, r->configs[i].value, SL_META_VALUE_MAX);
        }
        break;
    case SL_META_TOPIC_DELETE:
        put_str(w, r->topic, SL_TOPIC_NAME_MAX);
        put_str(w, r->topic_id, SL_TOPIC_ID_LEN);
        break;
    case SL_META_PARTITIONS_ADD:
        put_str(w, r->topic, SL_TOPIC_NAME_MAX);
        put_parts(w, r->parts, r->nparts);
        break;
    case SL_META_TOPIC_CONFIG:
        put_str(w, r->topic, SL_TOPIC_NAME_MAX);
        put_str(w, r->kv.key, SL_META_KEY_MAX);
        put_u(w, r->reset, 1);
        put_str(w, r->reset ? "" : r->kv.value, SL_META_VALUE_MAX);
        break;
    case SL_META_PARTITION_CHANGE:
        put_str(w, r->topic, SL_TOPIC_NAME_MAX);
        put_u(w, (uint32_t)r->partition, 4);
        put_part(w, &r->part);
        break;
    default:
        w->rc = -EINVAL;
    }
}

int sl_meta_rec_encode(const struct sl_meta_rec *r, struct sl_buf *out)
{
    size_t len0 = out->len;
    struct wr w = {.out = out};
    put_u(&w, SL_META_VERSION, 1);
    put_u(&w, (uint8_t)r->type, 1);
    put_body(&w, r);
    if (w.rc)
        out->len = len0; /* nothing appended */
    return w.rc;
}

/* ---- reader ---- */

struct rd {
    const uint8_t *p, *end;
    bool bad;
};

static uint64_t get_u(struct rd *r, int bytes)
{
    if (r->bad || r->end - r->p < bytes) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | *r->p++;
    return v;
}

static int32_t get_i32(struct rd *r)
{
    return (int32_t)(uint32_t)get_u(r, 4);
}

static void get_str(struct rd *r, char *dst, size_t max)
{
    size_t n = (size_t)get_u(r, 2);
    if (r->bad || n > max || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        dst[0] = '\0';
        return;
    }
    memcpy(dst, r->p, n);
    dst[n] = '\0';
    if (memchr(dst, '\0', n))
        r->bad = true; /* an embedded NUL would make two different records read the same */
    r->p += n;
}

static void get_part(struct rd *r, struct sl_meta_part *p)
{
    p->leader = get_i32(r);
    p->leader_epoch = get_i32(r);
    p->partition_epoch = get_i32(r);
    p->nreplicas = (uint8_t)get_u(r, 1);
    if (p->nreplicas > SL_META_MAX_REPLICAS) {
        r->bad = true;
        return;
    }
    for (int i = 0; i < p->nreplicas; i++)
        p->replicas[i] = get_i32(r);
}

/* Reads a u32 count then that many PARTs into a malloc'd array. Returns 0 or -ENOMEM (bad input: r->bad). */
static int get_parts(struct rd *r, struct sl_meta_part **out, uint32_t *n)
{
    *n = (uint32_t)get_u(r, 4);
    if (r->bad || *n > SL_META_MAX_PARTITIONS || (size_t)(r->end - r->p) < (size_t)*n * 13) {
        r->bad = true; /* 13: the smallest PART; checked before allocating what the input claims */
        *n = 0;
        return 0;
    }
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return -ENOMEM;
    for (uint32_t i = 0; i < *n && !r->bad; i++)
        get_part(r, &(*out)[i]);
    return 0;
}

static int get_configs(struct rd *r, struct sl_meta_rec *m)
{
    m->nconfigs = (uint16_t)get_u(r, 2);
    if (r->bad || m->nconfigs > SL_META_MAX_CONFIGS || (size_t)(r->end - r->p) < (size_t)m->nconfigs * 4) {
        r->bad = true;
        m->nconfigs = 0;
        return 0;
    }
    m->configs = calloc(m->nconfigs ? m->nconfigs : 1, sizeof *m->configs);
    if (!m->configs)
        return -ENOMEM;
    for (uint16_t i = 0; i < m->nconfigs && !r->bad; i++) {
        get_str(r, m->configs[i].key, SL_META_KEY_MAX);
        get_str(r, m->configs[i].value, SL_META_VALUE_MAX);
    }
    return 0;
}

static int get_body(struct rd *r, struct sl_meta_rec *m)
{
    int rc = 0;
    switch (m->type) {
    case SL_META_REGISTER_BROKER:
        m->broker.id = get_i32(r);
        m->broker.incarnation = (int64_t)get_u(r, 8);
        get_str(r, m->broker.host, SL_META_HOST_MAX);
        m->broker.rest_port = (uint16_t)get_u(r, 2);
        m->broker.ws_port = (uint16_t)get_u(r, 2);
        m->broker.cluster_port = (uint16_t)get_u(r, 2);
        break;
    case SL_META_FENCE_BROKER:
    case SL_META_UNFENCE_BROKER:
        m->broker.id = get_i32(r);
        m->broker.incarnation = (int64_t)get_u(r, 8);
        break;
    case SL_META_TOPIC_CREATE:
        get_str(r, m->topic, SL_TOPIC_NAME_MAX);
        get_str(r, m->topic_id, SL_TOPIC_ID_LEN);
        rc = get_parts(r, &m->parts, &m->nparts);
        if (rc == 0 && !r->bad)
            rc = get_configs(r, m);
        break;
    case SL_META_TOPIC_DELETE:
        get_str(r, m->topic, SL_TOPIC_NAME_MAX);
        get_str(r, m->topic_id, SL_TOPIC_ID_LEN);
        break;
    case SL_META_PARTITIONS_ADD:
        get_str(r, m->topic, SL_TOPIC_NAME_MAX);
        rc = get_parts(r, &m->parts, &m->nparts);
        break;
    case SL_META_TOPIC_CONFIG:
        get_str(r, m->topic, SL_TOPIC_NAME_MAX);
        get_str(r, m->kv.key, SL_META_KEY_MAX);
        uint64_t reset = get_u(r, 1);
        get_str(r, m->kv.value, SL_META_VALUE_MAX);
        if (reset > 1 || (reset && m->kv.value[0]))
            r->bad = true; /* one encoding per record: reset is 0 or 1, and a reset carries no value */
        m->reset = reset == 1;
        break;
    case SL_META_PARTITION_CHANGE:
        get_str(r, m->topic, SL_TOPIC_NAME_MAX);
        m->partition = get_i32(r);
        get_part(r, &m->part);
        break;
    default:
        r->bad = true;
    }
    return rc;
}

int sl_meta_rec_decode(const uint8_t *p, size_t n, struct sl_meta_rec *m)
{
    memset(m, 0, sizeof *m);
    struct rd r = {.p = p, .end = p + n};
    if (get_u(&r, 1) != SL_META_VERSION)
        return SL_ECORRUPT;
    m->type = (enum sl_meta_type)get_u(&r, 1);
    int rc = get_body(&r, m);
    if (rc == 0 && (r.bad || r.p != r.end))
        rc = SL_ECORRUPT; /* short, or trailing bytes */
    if (rc)
        sl_meta_rec_fini(m);
    return rc;
}

void sl_meta_rec_fini(struct sl_meta_rec *m)
{
    free(m->parts);
    free(m->configs);
    m->parts = NULL;
    m->configs = NULL;
    m->nparts = 0;
    m->nconfigs = 0;
}

const char *sl_meta_type_name(enum sl_meta_type t)
{
    switch (t) {
    case SL_META_REGISTER_BROKER: return "REGISTER_BROKER";
    case SL_META_FENCE_BROKER: return "FENCE_BROKER";
    case SL_META_UNFENCE_BROKER: return "UNFENCE_BROKER";
    case SL_META_TOPIC_CREATE: return "TOPIC_CREATE";
    case SL_META_TOPIC_DELETE: return "TOPIC_DELETE";
    case SL_META_PARTITIONS_ADD: return "PARTITIONS_ADD";
    case SL_META_TOPIC_CONFIG: return "TOPIC_CONFIG";
    case SL_META_PARTITION_CHANGE: return "PARTITION_CHANGE";
    }
    return "?";
}
