/* Internals shared by api/records.c and api/rec_*.c (arena, items, errors, output writers). Not for other
 * files. */
#ifndef SL_API_REC_INT_H
#define SL_API_REC_INT_H

#include <errno.h>
#include <string.h>

#include "api/rec_scan.h"
#include "api/records.h"

void *arena_alloc(struct sl_rec_req *r, size_t n);
struct sl_rec_item *item_new(struct sl_rec_req *r);
int fail(struct sl_rec_err *err, unsigned status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
uint8_t *b64_put(uint8_t *o, const uint8_t *p, size_t n);

/* Makes room for n more bytes: sl_buf_reserve without the call when there is room already. */
static inline int room(struct sl_buf *b, size_t n)
{
    return b->cap - b->len >= n ? 0 : sl_buf_reserve(b, n);
}

static inline int put(struct sl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0; /* b->base may be NULL: NULL + 0 is undefined in C */
    if (room(b, n))
        return -ENOMEM;
    memcpy(b->base + b->len, p, n);
    b->len += n;
    return 0;
}

/* Decimal digits of u (1..20). */
static inline unsigned dec_width(uint64_t u)
{
    static const uint64_t pow10[20] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
                                       1000000000u, 10000000000u, 100000000000u, 1000000000000u,
                                       10000000000000u, 100000000000000u, 1000000000000000u,
                                       10000000000000000u, 100000000000000000u, 1000000000000000000u,
                                       10000000000000000000u};
    unsigned t = (64 - (unsigned)__builtin_clzll(u | 1)) * 1233 >> 12; /* floor(log10(2^bits)): width or one less */
    return t + ((u | 1) >= pow10[t]);
}

/* Writes v in decimal at o (at most 20 bytes, what printf's PRId64 writes) and returns the end. */
static inline uint8_t *dec_put(uint8_t *o, int64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        *o++ = '-';
    uint8_t *end = o + dec_width(u), *e = end;
    for (; u >= 100000000; u /= 100000000, e -= 8) { /* 8 digits as two independent halves (short chains) */
        uint32_t lo = (uint32_t)(u % 100000000), a = lo / 10000, b = lo % 10000;
        memcpy(e - 2, pairs + b % 100 * 2, 2);
        memcpy(e - 4, pairs + b / 100 * 2, 2);
        memcpy(e - 6, pairs + a % 100 * 2, 2);
        memcpy(e - 8, pairs + a / 100 * 2, 2);
    }
    uint32_t w = (uint32_t)u;
    for (; w >= 100; w /= 100)
        memcpy(e -= 2, pairs + w % 100 * 2, 2);
    if (w >= 10)
        memcpy(e - 2, pairs + w * 2, 2);
    else
        e[-1] = (uint8_t)('0' + w);
    return end;
}

#endif
