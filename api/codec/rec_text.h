/* Text encodings of the records codec (api/codec/rec_text.c): strict base64, decimal integers, JSON string
 * literals, RFC 3339 times. The produce grammars decode with them, the renderer writes with them; other
 * handlers use them too (through api/codec/records.h, which includes this header).
 *
 * CONTRACT: the appending functions grow an sl_buf (caller-owned) and return 0 or -ENOMEM, leaving what was
 * appended before; the writers at a raw pointer (sl_dec_put, sl_b64_put) need the room stated and never fail.
 * All are reentrant; any thread. */
#ifndef SL_API_REC_TEXT_H
#define SL_API_REC_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "storage/types.h"

/* Strict base64 decode of n chars at s into out (room for n / 4 * 3 + 3 bytes). Returns the decoded length,
 * or -EINVAL when s is not base64. */
ssize_t sl_base64_decode(const char *s, size_t n, uint8_t *out);
/* Base64 encode (padded) of n bytes, appended to b. Returns 0 or -ENOMEM. */
int sl_base64_append(struct sl_buf *b, const uint8_t *p, size_t n);
/* Appends p as a JSON string literal (quotes included; invalid UTF-8 becomes U+FFFD). */
int sl_json_str_append(struct sl_buf *b, const uint8_t *p, size_t n);
/* Appends v in decimal (what printf's PRId64 writes, without its cost). Returns 0 or -ENOMEM. */
int sl_dec_append(struct sl_buf *b, int64_t v);
/* Formats epoch ms as RFC 3339 UTC ("2021-02-05T19:14:42.123Z") into buf (>= 32 bytes). */
void sl_rfc3339_format(int64_t ms, char *buf, size_t len);
/* Parses RFC 3339 ("2021-02-05T19:14:42Z", fraction and +hh:mm offsets allowed) into epoch ms. 0 or -EINVAL. */
int sl_rfc3339_parse(const char *s, int64_t *ms);

/* Writes the padded base64 of p[0, n) at o ((n + 2) / 3 * 4 bytes) and returns the end. */
uint8_t *sl_b64_put(uint8_t *o, const uint8_t *p, size_t n);

/* Decimal digits of u (1..20). */
static inline unsigned sl_dec_width(uint64_t u)
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
static inline uint8_t *sl_dec_put(uint8_t *o, int64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        *o++ = '-';
    uint8_t *end = o + sl_dec_width(u), *e = end;
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
