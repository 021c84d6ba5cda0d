/* The records module's JSON scanner: byte classes, the one-pass v2 body scanner and the RFC 8259 validator.
 * Internal to api/records.c and api/rec_*.c. */
#ifndef SL_API_REC_SCAN_H
#define SL_API_REC_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Word-at-a-time paths that depend on byte order (base64, plain-byte runs) have a bytewise fallback. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LITTLE_ENDIAN_HOST 1
#else
#define LITTLE_ENDIAN_HOST 0
#endif

size_t utf8_len(const uint8_t *p, const uint8_t *end);

/* Non-zero when one of the 8 bytes at p is a quote, a backslash, a control character or non-ASCII (SWAR; may
 * also flag some plain bytes next to a non-ASCII one, which the byte loop then passes). Zero only when all 8
 * are plain: 0x20..0x7f except '"' and '\\', the bytes a JSON string holds as they are. */
static inline uint64_t needs_look8(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t w, q, b;
    memcpy(&w, p, 8);
    q = w ^ (ones * '"');
    b = w ^ (ones * '\\');
    return ((w - ones * 0x20) | (q - ones) | (b - ones) | w) & high;
}

/* How many of the 8 bytes at p are plain before the first that is not: 8 when all are. On a little-endian
 * machine the lowest flag of needs_look8 is exact (no borrow reaches it from the plain bytes below), so this is
 * the exact count; elsewhere it is 0 for any flagged word and the caller's byte loop finds the byte. */
static inline size_t plain8(const uint8_t *p)
{
    uint64_t m = needs_look8(p);
    if (!m)
        return 8;
#if LITTLE_ENDIAN_HOST
    return (size_t)__builtin_ctzll(m) / 8;
#else
    return 0;
#endif
}

/* Byte classes: JP plain in a string (0x20..0x7f but '"' and '\\'), JW whitespace, JD digit, JH hex digit,
 * JE the character of a one-letter escape. */
enum { JP = 1, JW = 2, JD = 4, JH = 8, JE = 16 };
extern const uint8_t jcls[256];

#define SCAN_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH: the same bodies are accepted */

/* A JSON value in the body: its raw text [p, end). */
struct jspan {
    const uint8_t *p, *end; /* p == NULL: absent */
    bool esc;               /* a string with backslash escapes */
    bool ws;                /* a container with whitespace between its tokens */
    bool integer;           /* a number with neither fraction nor exponent; its value is ival */
    int64_t ival;
};

struct scan {
    const uint8_t *p, *end, *start;
    int depth;       /* containers open around p */
    bool ws;         /* whitespace was skipped (reset by sc_value) */
    const char *bad; /* the syntax error when a function returned false */
};

bool sc_fail(struct scan *s, const char *what);

static inline void sc_ws(struct scan *s)
{
    const uint8_t *p = s->p;
    while (p < s->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    if (p != s->p) {
        s->ws = true;
        s->p = p;
    }
}

size_t str_decode(const uint8_t *p, const uint8_t *end, uint8_t *out);
bool sc_key(struct scan *s, struct jspan *k);
bool sc_value(struct scan *s, struct jspan *v);
bool sc_next(struct scan *s, uint8_t close, bool *more);
int key_index(const struct jspan *k, const char *const *names, int n);
size_t json_compact(const uint8_t *p, const uint8_t *end, uint8_t *out);

static inline bool span_null(const struct jspan *v)
{
    return !v->p || *v->p == 'n';
}

#endif
