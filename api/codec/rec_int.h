/* Internals of the records codec, shared by api/codec/records.c and api/codec/rec_*.c only; not for other files.
 *
 * A request's decoded bytes live in its arena (a chain of blocks freed by sl_rec_req_fini): a pointer from
 * rec_arena_alloc stays valid, unmoved, until then. Same thread rules as struct sl_rec_req. */
#ifndef SL_API_REC_INT_H
#define SL_API_REC_INT_H

#include <errno.h>
#include <string.h>

#include "api/codec/rec_scan.h"
#include "api/codec/rec_text.h"
#include "api/codec/records.h"

/* n bytes (8-aligned) from r's arena, or NULL when out of memory. */
void *rec_arena_alloc(struct sl_rec_req *r, size_t n);
/* Appends a zeroed item (partition -1) to r->items and returns it, or NULL when out of memory. Pointers to
 * earlier items are invalidated (the array may move). */
struct sl_rec_item *rec_item_new(struct sl_rec_req *r);
/* Fills *err (status, Confluent code, message) and returns -EINVAL. */
int rec_fail(struct sl_rec_err *err, unsigned status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Makes room for n more bytes: sl_buf_reserve without the call when there is room already. 0 or -ENOMEM. */
static inline int rec_room(struct sl_buf *b, size_t n)
{
    return b->cap - b->len >= n ? 0 : sl_buf_reserve(b, n);
}

/* Appends p[0, n) to b. Returns 0 or -ENOMEM. */
static inline int rec_put(struct sl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0; /* b->base may be NULL: NULL + 0 is undefined in C */
    if (rec_room(b, n))
        return -ENOMEM;
    memcpy(b->base + b->len, p, n);
    b->len += n;
    return 0;
}

#endif
