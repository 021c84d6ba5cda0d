/* The JSON scanner of the records codec: the low-level piece the produce grammars and the renderer share.
 *
 * Two lexers over raw JSON text, both strict, non-allocating and non-recursive (containers nest on a bit
 * stack), with one byte-class table (sl_jcls) and the 8-bytes-at-a-time string paths (sl_json_needs_look8):
 *   - the span scanner (struct sl_scan, sl_scan_*): walks a body and hands out each value as a span of the
 *     text (struct sl_jspan); it accepts exactly what jansson's json_loadb(flags 0) accepts (depth <= 2048,
 *     no \u0000, no lone surrogate, valid UTF-8, integers within int64, reals within double). The v2 produce
 *     grammar (api/codec/rec_v2.c) is written on it.
 *   - the validator (sl_json_valid): RFC 8259 exactly (lone surrogates and \u0000 pass), for values the
 *     renderer copies as they are (api/codec/rec_render.c).
 *
 * CONTRACT: every function is pure over the bytes it is given and reentrant; spans point into the caller's
 * text and live as long as it does. A scanning function returns false on a syntax error, with the first
 * error's text in s->bad (static) and s->p at the byte where it was found. Any thread. */
#ifndef SL_API_REC_SCAN_H
#define SL_API_REC_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Word-at-a-time paths that depend on byte order (base64, plain-byte runs) have a bytewise fallback. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SL_LITTLE_ENDIAN_HOST 1
#else
#define SL_LITTLE_ENDIAN_HOST 0
#endif

/* Length of the valid UTF-8 sequence at p (p < end): 1..4, or 0 when invalid (overlong, surrogate, > U+10FFFF,
 * truncated). */
size_t sl_utf8_len(const uint8_t *p, const uint8_t *end);

/* Non-zero when one of the 8 bytes at p is a quote, a backslash, a control character or non-ASCII (SWAR; may
 * also flag some plain bytes next to a non-ASCII one, which the byte loop then passes). Zero only when all 8
 * are plain: 0x20..0x7f except '"' and '\\', the bytes a JSON string holds as they are. */
static inline uint64_t sl_json_needs_look8(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t w, q, b;
    memcpy(&w, p, 8);
    q = w ^ (ones * '"');
    b = w ^ (ones * '\\');
    return ((w - ones * 0x20) | (q - ones) | (b - ones) | w) & high;
}

/* How many of the 8 bytes at p are plain before the first that is not: 8 when all are. On a little-endian
 * machine the lowest flag of sl_json_needs_look8 is exact (no borrow reaches it from the plain bytes below), so this is
 * the exact count; elsewhere it is 0 for any flagged word and the caller's byte loop finds the byte. */
static inline size_t sl_json_plain8(const uint8_t *p)
{
    uint64_t m = sl_json_needs_look8(p);
    if (!m)
        return 8;
#if SL_LITTLE_ENDIAN_HOST
    return (size_t)__builtin_ctzll(m) / 8;
#else
    return 0;
#endif
}

/* Byte classes: SL_JP plain in a string (0x20..0x7f but '"' and '\\'), SL_JW whitespace, SL_JD digit, SL_JH hex digit,
 * SL_JE the character of a one-letter escape. */
enum { SL_JP = 1, SL_JW = 2, SL_JD = 4, SL_JH = 8, SL_JE = 16 };
extern const uint8_t sl_jcls[256];

#define SL_SCAN_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH: the same bodies are accepted */

/* A JSON value in the body: its raw text [p, end). */
struct sl_jspan {
    const uint8_t *p, *end; /* p == NULL: absent */
    bool esc;               /* a string with backslash escapes */
    bool ws;                /* a container with whitespace between its tokens */
    bool integer;           /* a number with neither fraction nor exponent; its value is ival */
    int64_t ival;
};

/* A scan position in the text [start, end). Init with p = start (or inside a span already scanned) and depth
 * = the containers open around p (nesting is limited to SL_SCAN_MAX_DEPTH in all). */
struct sl_scan {
    const uint8_t *p, *end, *start;
    int depth;       /* containers open around p */
    bool ws;         /* whitespace was skipped (reset by sl_scan_value) */
    const char *bad; /* the syntax error when a function returned false */
};

/* Records what (static text) as the syntax error unless one is recorded already; returns false. */
bool sl_scan_fail(struct sl_scan *s, const char *what);

/* Skips JSON whitespace at s->p (sets s->ws when it skipped any). */
static inline void sl_scan_ws(struct sl_scan *s)
{
    const uint8_t *p = s->p;
    while (p < s->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    if (p != s->p) {
        s->ws = true;
        s->p = p;
    }
}

/* An object member's name and its colon, s->p at the name's quote (after whitespace): *k is the inside of
 * the name (k->esc when it has escapes). */
bool sl_scan_key(struct sl_scan *s, struct sl_jspan *k);
/* Any value at s->p (after whitespace), containers included: *v spans its text; v->esc for a string with
 * escapes, v->ws for a container with whitespace between its tokens, v->integer / v->ival for an integer. */
bool sl_scan_value(struct sl_scan *s, struct sl_jspan *v);
/* After a member or element of a container closed by 'close': true with *more when a ',' follows, true with
 * !*more at the close (consumed), false on anything else. Skips the whitespace after either. */
bool sl_scan_next(struct sl_scan *s, uint8_t close, bool *more);
/* Index of the member name k in names[0, n), or -1. Names with escapes are compared decoded (as jansson
 * does; a name longer than 96 bytes with escapes matches nothing). */
int sl_scan_key_index(const struct sl_jspan *k, const char *const *names, int n);
/* Decodes the inside of a string the scanner accepted, [p, end), into out (room for end - p bytes: decoding
 * never grows). Returns the decoded length. */
size_t sl_scan_str_decode(const uint8_t *p, const uint8_t *end, uint8_t *out);
/* Copies a scanned container's text [p, end) without the whitespace between its tokens into out (room for
 * end - p bytes). Returns the length written. */
size_t sl_scan_compact(const uint8_t *p, const uint8_t *end, uint8_t *out);

/* True when v is absent or the literal null. */
static inline bool sl_jspan_null(const struct sl_jspan *v)
{
    return !v->p || *v->p == 'n';
}

/* True when p[0, n) is exactly one valid JSON value (RFC 8259, surrounding whitespace allowed). */
bool sl_json_valid(const uint8_t *p, size_t n);

#endif
