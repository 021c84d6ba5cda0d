/* sl_meta_apply and the snapshot (see meta_image.h). Each apply checks everything first and allocates
 * before it changes anything, so a refusal or an allocation failure leaves the image as it was. Brokers
 * and topics are kept sorted (ids, names): lookups are binary searches and a snapshot is the same bytes on
 * every node. */
#include "server/meta_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/endian.h"
#include "storage/err.h"

/* ---- lookups ---- */

/* Index of name in im->topics, or where it would go (*found false). */
static size_t topic_slot(const struct sl_meta_image *im, const char *name, bool *found)
{
    size_t lo = 0, hi = im->ntopics;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(im->topics[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static size_t broker_slot(const struct sl_meta_image *im, int32_t id, bool *found)
{
    size_t lo = 0, hi = im->nbrokers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (im->brokers[mid].id == id) {
            *found = true;
            return mid;
        }
        if (im->brokers[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

const struct sl_meta_topic *sl_meta_topic(const struct sl_meta_image *im, const char *name)
{
    bool found;
    size_t i = topic_slot(im, name, &found);
    return found ? &im->topics[i] : NULL;
}

const struct sl_meta_broker *sl_meta_broker(const struct sl_meta_image *im, int32_t id)
{
    bool found;
    size_t i = broker_slot(im, id, &found);
    return found ? &im->brokers[i] : NULL;
}

const char *sl_meta_config(const struct sl_meta_topic *t, const char *key)
{
    for (uint16_t i = 0; i < t->nconfigs; i++)
        if (strcmp(t->configs[i].key, key) == 0)
            return t->configs[i].value;
    return NULL;
}

/* ---- brokers ---- */

static int apply_register(struct sl_meta_image *im, const struct sl_meta_broker *b)
{
    bool found;
    size_t i = broker_slot(im, b->id, &found);
    if (found && im->brokers[i].incarnation > b->incarnation)
        return SL_EFENCED;
    if (!found) {
        struct sl_meta_broker *v = realloc(im->brokers, (im->nbrokers + 1) * sizeof *v);
        if (!v)
            return -ENOMEM;
        im->brokers = v;
        memmove(&v[i + 1], &v[i], (im->nbrokers - i) * sizeof *v);
        im->nbrokers++;
    }
    im->brokers[i] = *b;
    im->brokers[i].fenced = false;
    return 0;
}

static int apply_fence(struct sl_meta_image *im, const struct sl_meta_broker *b, bool fenced)
{
    bool found;
    size_t i = broker_slot(im, b->id, &found);
    if (!found)
        return -ENOENT;
    if (im->brokers[i].incarnation != b->incarnation)
        return SL_EFENCED;
    im->brokers[i].fenced = fenced;
    return 0;
}

/* ---- topics ---- */

static bool part_ok(const struct sl_meta_part *p)
{
    if (p->nreplicas == 0 || p->nreplicas > SL_META_MAX_REPLICAS)
        return false;
    bool leader_in = p->leader == -1;
    for (int i = 0; i < p->nreplicas; i++) {
        if (p->replicas[i] < 0)
            return false;
        for (int j = 0; j < i; j++)
            if (p->replicas[j] == p->replicas[i])
                return false;
        leader_in = leader_in || p->replicas[i] == p->leader;
    }
    return leader_in;
}

static bool parts_ok(const struct sl_meta_part *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!part_ok(&v[i]))
            return false;
    return n > 0;
}

static void topic_fini(struct sl_meta_topic *t)
{
    free(t->parts);
    free(t->configs);
}

static int apply_create(struct sl_meta_image *im, const struct sl_meta_rec *r)
{
    bool found;
    size_t i = topic_slot(im, r->topic, &found);
    if (!sl_topic_name_valid(r->topic))
        return SL_EBADNAME;
    if (found)
        return SL_EEXISTS;
    if (!parts_ok(r->parts, r->nparts) || r->nconfigs > SL_META_MAX_CONFIGS)
        return SL_ECONFIG;
    struct sl_meta_topic t = {.nparts = r->nparts, .nconfigs = r->nconfigs};
    snprintf(t.name, sizeof t.name, "%s", r->topic);
    snprintf(t.id, sizeof t.id, "%s", r->topic_id);
    t.parts = malloc(r->nparts * sizeof *t.parts);
    t.configs = malloc((r->nconfigs ? r->nconfigs : 1) * sizeof *t.configs);
    struct sl_meta_topic *v = t.parts && t.configs ? realloc(im->topics, (im->ntopics + 1) * sizeof *v) : NULL;
    if (!v) {
        topic_fini(&t);
        return -ENOMEM;
    }
    memcpy(t.parts, r->parts, r->nparts * sizeof *t.parts);
    if (r->nconfigs)
        memcpy(t.configs, r->configs, r->nconfigs * sizeof *t.configs);
    im->topics = v;
    memmove(&v[i + 1], &v[i], (im->ntopics - i) * sizeof *v);
    v[i] = t;
    im->ntopics++;
    return 0;
}

static int apply_delete(struct sl_meta_image *im, const struct sl_meta_rec *r)
{
    bool found;
    size_t i = topic_slot(im, r->topic, &found);
    if (!found || (r->topic_id[0] && strcmp(r->topic_id, im->topics[i].id) != 0))
        return SL_ENOTOPIC;
    topic_fini(&im->topics[i]);
    memmove(&im->topics[i], &im->topics[i + 1], (im->ntopics - i - 1) * sizeof *im->topics);
    im->ntopics--;
    return 0;
}

static int apply_add(struct sl_meta_image *im, const struct sl_meta_rec *r)
{
    bool found;
    size_t i = topic_slot(im, r->topic, &found);
    if (!found)
        return SL_ENOTOPIC;
    struct sl_meta_topic *t = &im->topics[i];
    if (!parts_ok(r->parts, r->nparts) || t->nparts + (uint64_t)r->nparts > SL_META_MAX_PARTITIONS)
        return SL_ECONFIG;
    struct sl_meta_part *v = realloc(t->parts, (t->nparts + r->nparts) * sizeof *v);
    if (!v)
        return -ENOMEM;
    memcpy(&v[t->nparts], r->parts, r->nparts * sizeof *v);
    t->parts = v;
    t->nparts += r->nparts;
    return 0;
}

static int apply_config(struct sl_meta_image *im, const struct sl_meta_rec *r)
{
    bool found;
    size_t i = topic_slot(im, r->topic, &found);
    if (!found)
        return SL_ENOTOPIC;
    if (!r->kv.key[0])
        return SL_ECONFIG;
    struct sl_meta_topic *t = &im->topics[i];
    uint16_t k = 0;
    while (k < t->nconfigs && strcmp(t->configs[k].key, r->kv.key) != 0)
        k++;
    if (r->reset) {
        if (k < t->nconfigs) {
            memmove(&t->configs[k], &t->configs[k + 1], (t->nconfigs - k - 1) * sizeof *t->configs);
            t->nconfigs--;
        }
        return 0;
    }
    if (k == t->nconfigs) {
        if (t->nconfigs == SL_META_MAX_CONFIGS)
            return SL_ECONFIG;
        struct sl_meta_kv *v = realloc(t->configs, (t->nconfigs + 1) * sizeof *v);
        if (!v)
            return -ENOMEM;
        t->configs = v;
        t->nconfigs++;
    }
    t->configs[k] = r->kv;
    return 0;
}

static int apply_change(struct sl_meta_image *im, const struct sl_meta_rec *r)
{
    bool found;
    size_t i = topic_slot(im, r->topic, &found);
    if (!found)
        return SL_ENOTOPIC;
    struct sl_meta_topic *t = &im->topics[i];
    if (r->partition < 0 || (uint32_t)r->partition >= t->nparts)
        return SL_ENOPART;
    struct sl_meta_part *cur = &t->parts[r->partition];
    const struct sl_meta_part *nw = &r->part;
    if (nw->partition_epoch != cur->partition_epoch + 1 || nw->leader_epoch < cur->leader_epoch ||
        (nw->leader != cur->leader && nw->leader_epoch <= cur->leader_epoch))
        return SL_EFENCED;
    if (!part_ok(nw))
        return SL_ECONFIG;
    *cur = *nw;
    return 0;
}

int sl_meta_apply(struct sl_meta_image *im, const struct sl_meta_rec *r)
{
    switch (r->type) {
    case SL_META_REGISTER_BROKER: return apply_register(im, &r->broker);
    case SL_META_FENCE_BROKER: return apply_fence(im, &r->broker, true);
    case SL_META_UNFENCE_BROKER: return apply_fence(im, &r->broker, false);
    case SL_META_TOPIC_CREATE: return apply_create(im, r);
    case SL_META_TOPIC_DELETE: return apply_delete(im, r);
    case SL_META_PARTITIONS_ADD: return apply_add(im, r);
    case SL_META_TOPIC_CONFIG: return apply_config(im, r);
    case SL_META_PARTITION_CHANGE: return apply_change(im, r);
    }
    return SL_ECORRUPT;
}

/* ---- snapshot ---- */

/* Appends r behind its u32 length. */
static int put_framed(struct sl_buf *out, const struct sl_meta_rec *r)
{
    size_t at = out->len;
    uint8_t len[4] = {0};
    int rc = sl_buf_append(out, len, sizeof len);
    if (rc == 0)
        rc = sl_meta_rec_encode(r, out);
    if (rc) {
        out->len = at;
        return rc;
    }
    sl_be32_put(out->base + at, (uint32_t)(out->len - at - 4));
    return 0;
}

int sl_meta_snapshot(const struct sl_meta_image *im, struct sl_buf *out)
{
    size_t at = out->len;
    uint8_t count[4] = {0};
    int rc = sl_buf_append(out, count, sizeof count);
    uint32_t n = 0;
    for (size_t i = 0; rc == 0 && i < im->nbrokers; i++) {
        struct sl_meta_rec r = {.type = SL_META_REGISTER_BROKER, .broker = im->brokers[i]};
        rc = put_framed(out, &r);
        n++;
        if (rc == 0 && im->brokers[i].fenced) {
            r.type = SL_META_FENCE_BROKER;
            rc = put_framed(out, &r);
            n++;
        }
    }
    for (size_t i = 0; rc == 0 && i < im->ntopics; i++) {
        const struct sl_meta_topic *t = &im->topics[i];
        struct sl_meta_rec r = {.type = SL_META_TOPIC_CREATE, .parts = t->parts, .nparts = t->nparts,
                                .configs = t->configs, .nconfigs = t->nconfigs};
        snprintf(r.topic, sizeof r.topic, "%s", t->name);
        snprintf(r.topic_id, sizeof r.topic_id, "%s", t->id);
        rc = put_framed(out, &r);
        n++;
    }
    if (rc) {
        out->len = at;
        return rc == -EINVAL ? SL_ECORRUPT : rc; /* -EINVAL: an image apply would never have built */
    }
    sl_be32_put(out->base + at, n);
    return 0;
}

int sl_meta_restore(struct sl_meta_image *im, const uint8_t *p, size_t n)
{
    memset(im, 0, sizeof *im);
    if (n < 4)
        return SL_ECORRUPT;
    uint32_t count = sl_be32_get(p);
    size_t at = 4;
    int rc = 0;
    for (uint32_t k = 0; rc == 0 && k < count; k++) {
        if (n - at < 4) {
            rc = SL_ECORRUPT;
            break;
        }
        uint32_t len = sl_be32_get(p + at);
        at += 4;
        if (len > n - at) {
            rc = SL_ECORRUPT;
            break;
        }
        struct sl_meta_rec r;
        rc = sl_meta_rec_decode(p + at, len, &r);
        if (rc == 0) {
            rc = sl_meta_apply(im, &r);
            if (rc && rc != -ENOMEM)
                rc = SL_ECORRUPT;
            sl_meta_rec_fini(&r);
        }
        at += len;
    }
    if (rc == 0 && at != n)
        rc = SL_ECORRUPT; /* bytes after the last record */
    if (rc)
        sl_meta_image_fini(im);
    return rc;
}

void sl_meta_image_fini(struct sl_meta_image *im)
{
    for (size_t i = 0; i < im->ntopics; i++)
        topic_fini(&im->topics[i]);
    free(im->topics);
    free(im->brokers);
    memset(im, 0, sizeof *im);
}
