/* From parsed records to RecordBatches (contract: api/codec/records.h): sl_rec_partition picks each item's
 * partition, sl_rec_build encodes the good items with storage/batch.h's builder, grouped by partition and cut
 * at max.message.bytes. The batches it returns are exactly what sl_bb_finish produced (CRC and record framing
 * guaranteed), which is why their produces set sl_produce.built (the log does not walk them again). */
#include "api/codec/rec_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/partitioner.h"

void sl_rec_partition(struct sl_rec_req *r, int32_t partitions, struct sl_partitioner *pt)
{
    int32_t sticky = -1;
    for (size_t i = 0; i < r->n; i++) {
        struct sl_rec_item *it = &r->items[i];
        if (it->err_code)
            continue;
        if (it->partition >= partitions) {
            it->err_code = 40402;
            it->err_msg = "Partition not found.";
        } else if (it->partition < 0 && it->rec.key.base) {
            it->partition = sl_partitioner_keyed(it->rec.key.base, it->rec.key.len, partitions);
        } else if (it->partition < 0) {
            if (sticky < 0)
                sticky = sl_partitioner_sticky(pt, partitions);
            it->partition = sticky;
        }
    }
}

/* ---- batching ---- */

struct order {
    int32_t partition;
    size_t idx;
};

static int cmp_order(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int push_batch(struct sl_batch_builder *bb, int32_t partition, struct sl_produce_batch **v, size_t *n,
                      size_t *cap)
{
    struct sl_slice s;
    if (bb->count == 0)
        return 0;
    int rc = sl_bb_finish(bb, &s);
    if (rc)
        return rc;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        struct sl_produce_batch *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = nc;
    }
    struct sl_produce_batch *b = &(*v)[*n];
    b->data = malloc(s.len);
    if (!b->data)
        return -ENOMEM;
    memcpy(b->data, s.base, s.len);
    b->len = s.len;
    b->partition = partition;
    b->count = bb->count;
    (*n)++;
    sl_bb_reset(bb);
    return 0;
}

int sl_rec_build(struct sl_rec_req *r, size_t max_batch_bytes, struct sl_produce_batch **out, size_t *nout)
{
    struct order *ord = malloc((r->n ? r->n : 1) * sizeof *ord);
    size_t k = 0, n = 0, cap = 0, cur = 0;
    struct sl_produce_batch *v = NULL;
    if (!ord)
        return -ENOMEM;
    for (size_t i = 0; i < r->n; i++)
        if (!r->items[i].err_code)
            ord[k++] = (struct order){r->items[i].partition, i};
    bool sorted = true; /* keyless records all go to the sticky partition: usually in order already */
    for (size_t j = 1; j < k && sorted; j++)
        sorted = ord[j - 1].partition <= ord[j].partition;
    if (!sorted)
        qsort(ord, k, sizeof *ord, cmp_order);
    struct sl_batch_builder bb;
    sl_bb_init(&bb);
    int rc = 0;
    for (size_t j = 0; j < k && rc == 0; j++) {
        struct sl_rec_item *it = &r->items[ord[j].idx];
        if (bb.count && (j == 0 || ord[j - 1].partition != it->partition))
            rc = push_batch(&bb, ord[j - 1].partition, &v, &n, &cap);
        int64_t base_ts = bb.count ? bb.base_ts : it->rec.timestamp;
        size_t sz = sl_record_encoded_size(&it->rec, base_ts, bb.count);
        if (rc == 0 && bb.count && (bb.count == 0 ? 0 : cur) + sz > max_batch_bytes) {
            rc = push_batch(&bb, it->partition, &v, &n, &cap);
            base_ts = it->rec.timestamp;
            sz = sl_record_encoded_size(&it->rec, base_ts, 0);
        }
        if (rc)
            break;
        if (bb.count == 0)
            cur = SL_BATCH_HEADER_SIZE;
        if (bb.count == 0 && cur + sz > max_batch_bytes) {
            it->err_code = 42208;
            it->err_msg = "Record is larger than the topic's max.message.bytes.";
            continue;
        }
        it->batch = n;
        it->index = bb.count;
        cur += sz;
        rc = sl_bb_add(&bb, &it->rec);
    }
    if (rc == 0 && k)
        rc = push_batch(&bb, ord[k - 1].partition, &v, &n, &cap);
    sl_bb_fini(&bb);
    free(ord);
    if (rc) {
        sl_rec_batches_free(v, n);
        return rc;
    }
    *out = v;
    *nout = n;
    return 0;
}

void sl_rec_batches_free(struct sl_produce_batch *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++)
        free(b[i].data);
    free(b);
}
