/* Leader-epoch cache (see epoch.h). Small sorted array; every operation is linear or binary search. */
#include "storage/epoch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/err.h"

void sl_epochs_init(struct sl_epochs *c)
{
    memset(c, 0, sizeof *c);
}

void sl_epochs_fini(struct sl_epochs *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

static int reserve(struct sl_epochs *c, size_t n)
{
    if (n <= c->cap)
        return 0;
    size_t cap = c->cap ? c->cap : 8;
    while (cap < n)
        cap *= 2;
    struct sl_epoch_entry *p = realloc(c->e, cap * sizeof *p);
    if (!p)
        return -ENOMEM;
    c->e = p;
    c->cap = cap;
    return 0;
}

int sl_epochs_set(struct sl_epochs *c, const struct sl_epoch_entry *e, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (e[i].epoch <= e[i - 1].epoch || e[i].start < e[i - 1].start)
            return SL_ECORRUPT;
    int rc = reserve(c, n);
    if (rc)
        return rc;
    if (n)
        memcpy(c->e, e, n * sizeof *e);
    c->n = n;
    return 0;
}

int sl_epochs_assign(struct sl_epochs *c, sl_epoch_t epoch, sl_offset_t start)
{
    sl_epoch_t latest = sl_epochs_latest(c);
    if (epoch == latest)
        return 0;
    if (epoch < latest)
        return SL_EFENCED;
    while (c->n && c->e[c->n - 1].start >= start)
        c->n--;
    int rc = reserve(c, c->n + 1);
    if (rc)
        return rc;
    c->e[c->n++] = (struct sl_epoch_entry){epoch, start};
    return 1;
}

sl_epoch_t sl_epochs_latest(const struct sl_epochs *c)
{
    return c->n ? c->e[c->n - 1].epoch : -1;
}

sl_offset_t sl_epochs_end_offset(const struct sl_epochs *c, sl_epoch_t epoch, sl_offset_t leo)
{
    if (c->n == 0 || epoch < 0)
        return -1;
    if (epoch == c->e[c->n - 1].epoch)
        return leo;
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].epoch > epoch)
            return c->e[i].start;
    return -1;
}

bool sl_epochs_truncate_end(struct sl_epochs *c, sl_offset_t end_offset)
{
    size_t n = c->n;
    while (c->n && c->e[c->n - 1].start >= end_offset)
        c->n--;
    return n != c->n;
}

bool sl_epochs_truncate_start(struct sl_epochs *c, sl_offset_t start_offset)
{
    size_t drop = 0;
    while (drop + 1 < c->n && c->e[drop + 1].start <= start_offset)
        drop++;
    bool changed = drop > 0;
    if (drop)
        memmove(c->e, c->e + drop, (c->n - drop) * sizeof *c->e);
    c->n -= drop;
    if (c->n && c->e[0].start < start_offset) {
        c->e[0].start = start_offset;
        changed = true;
    }
    return changed;
}
