/* sl_buf: a growable owned byte buffer (see types.h). Doubles its capacity, never shrinks. */
#include "storage/types.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sl_buf_reserve(struct sl_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return -ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p = realloc(b->base, cap);
    if (!p)
        return -ENOMEM;
    b->base = p;
    b->cap = cap;
    return 0;
}

int sl_buf_append(struct sl_buf *b, const void *p, size_t n)
{
    int rc = sl_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->base + b->len, p, n);
    b->len += n;
    return 0;
}

void sl_buf_fini(struct sl_buf *b)
{
    free(b->base);
    b->base = NULL;
    b->len = b->cap = 0;
}
