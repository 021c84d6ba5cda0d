/* Produce-body parsing and consume rendering (see api/records.h).
 *
 * Memory: decoded bytes (base64 output, decoded or compacted text, headers arrays, v3 json_dumpb output) live
 * in a chain of arena blocks owned by the request, so slices stay valid while later records are parsed; other
 * v2 slices point into the body (see sl_rec_parse_v2), v3 text values into the jansson tree the request owns.
 * Rendering writes JSON text by hand into an sl_buf (no jansson): values are copied as base64, as raw JSON text
 * (when they are valid JSON), or as escaped strings. */
#include "api/records.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/jsonbody.h"
#include "server/broker.h"
#include "server/partitioner.h"
#include "storage/err.h"

/* ---- arena ---- */

struct sl_arena_blk {
    struct sl_arena_blk *next;
    size_t used, cap;
    uint8_t data[];
};

static void *arena_alloc(struct sl_rec_req *r, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    struct sl_arena_blk *b = r->arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = r->arena;
        r->arena = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void sl_rec_req_init(struct sl_rec_req *r)
{
    memset(r, 0, sizeof *r);
}

void sl_rec_req_fini(struct sl_rec_req *r)
{
    while (r->arena) {
        struct sl_arena_blk *b = r->arena;
        r->arena = b->next;
        free(b);
    }
    free(r->items);
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

int sl_rec_req_keep(struct sl_rec_req *r, json_t *j)
{
    if (!r->root && !(r->root = json_array())) {
        json_decref(j);
        return -ENOMEM;
    }
    if (!json_is_array(r->root)) {
        json_t *a = json_array();
        if (!a || json_array_append_new(a, r->root)) {
            json_decref(a);
            json_decref(j);
            return -ENOMEM;
        }
        r->root = a;
    }
    return json_array_append_new(r->root, j) ? -ENOMEM : 0;
}

static struct sl_rec_item *item_new(struct sl_rec_req *r)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 16;
        struct sl_rec_item *v = realloc(r->items, nc * sizeof *v);
        if (!v)
            return NULL;
        r->items = v;
        r->cap = nc;
    }
    struct sl_rec_item *it = &r->items[r->n++];
    memset(it, 0, sizeof *it);
    it->partition = -1;
    return it;
}

/* ---- formats ---- */

static const struct {
    const char *ctype;
    enum sl_fmt fmt;
} produce_types[] = {
    {"application/vnd.kafka.binary.v2+json", SL_FMT_BINARY},
    {"application/vnd.kafka.v2+json", SL_FMT_BINARY},
    {"application/vnd.kafka+json", SL_FMT_BINARY},
    {"application/octet-stream", SL_FMT_BINARY},
    {"application/vnd.kafka.json.v2+json", SL_FMT_JSON},
    {"application/json", SL_FMT_JSON},
    {"application/vnd.kafka.text.v2+json", SL_FMT_TEXT},
};

/* Copies the media type of a header value (up to ';' or ','), trimmed, into buf. */
static void media_type(const char *s, size_t slen, char *buf, size_t len)
{
    while (slen && isspace((unsigned char)*s))
        s++, slen--;
    size_t n = 0;
    while (n < slen && s[n] != ';' && s[n] != ',')
        n++;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
}

int sl_rec_format_from_ctype(const char *ctype, enum sl_fmt *out)
{
    char mt[128];
    if (!ctype)
        return -EINVAL;
    media_type(ctype, strlen(ctype), mt, sizeof mt);
    for (size_t i = 0; i < sizeof produce_types / sizeof produce_types[0]; i++) {
        if (strcasecmp(mt, produce_types[i].ctype) == 0) {
            *out = produce_types[i].fmt;
            return 0;
        }
    }
    return -EINVAL;
}

int sl_rec_format_from_name(const char *name, enum sl_fmt *out)
{
    if (!name || strcmp(name, "binary") == 0)
        *out = SL_FMT_BINARY;
    else if (strcmp(name, "json") == 0)
        *out = SL_FMT_JSON;
    else if (strcmp(name, "text") == 0 || strcmp(name, "string") == 0)
        *out = SL_FMT_TEXT;
    else
        return -EINVAL;
    return 0;
}

const char *sl_rec_format_name(enum sl_fmt f)
{
    return f == SL_FMT_JSON ? "json" : f == SL_FMT_TEXT ? "text" : "binary";
}

const char *sl_rec_format_ctype(enum sl_fmt f)
{
    return f == SL_FMT_JSON   ? "application/vnd.kafka.json.v2+json"
           : f == SL_FMT_TEXT ? "application/vnd.kafka.text.v2+json"
                              : "application/vnd.kafka.binary.v2+json";
}

/* True when one Accept entry (without parameters) admits format f. */
static bool accept_entry_ok(const char *mt, enum sl_fmt f)
{
    if (strcmp(mt, "*/*") == 0 || strcasecmp(mt, "application/*") == 0 || strcasecmp(mt, "application/json") == 0)
        return true;
    if (strcasecmp(mt, sl_rec_format_ctype(f)) == 0)
        return true;
    /* no embedded format means binary, as Confluent */
    return f == SL_FMT_BINARY &&
           (strcasecmp(mt, "application/vnd.kafka.v2+json") == 0 || strcasecmp(mt, "application/vnd.kafka+json") == 0);
}

bool sl_rec_accept_ok(const char *accept, enum sl_fmt f)
{
    if (!accept || !*accept)
        return true;
    const char *p = accept;
    while (*p) {
        size_t n = strcspn(p, ",");
        char mt[128];
        media_type(p, n, mt, sizeof mt);
        const char *q = memmem(p, n, "q=0", 3);
        bool zero = q && (q + 3 == p + n || q[3] == ',' || q[3] == ' ' || (q[3] == '.' && strspn(q + 4, "0") ==
                                                                                              strcspn(q + 4, ", ;")));
        if (!zero && accept_entry_ok(mt, f))
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

/* ---- output buffer ---- */

/* Word-at-a-time paths that depend on byte order (base64, plain-byte runs) have a bytewise fallback. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LITTLE_ENDIAN_HOST 1
#else
#define LITTLE_ENDIAN_HOST 0
#endif

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

/* ---- base64 ---- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const int8_t b64dec[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
}; /* value + 1; 0 = not base64 */

ssize_t sl_base64_decode(const char *s, size_t n, uint8_t *out)
{
    if (n >= 1 && s[n - 1] == '=')
        n--;
    if (n >= 1 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        int a = b64dec[(uint8_t)s[i]], b = b64dec[(uint8_t)s[i + 1]], c = b64dec[(uint8_t)s[i + 2]],
            d = b64dec[(uint8_t)s[i + 3]];
        if (!a || !b || !c || !d)
            return -1;
        uint32_t v = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 | (uint32_t)(c - 1) << 6 | (uint32_t)(d - 1);
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    size_t rest = n - i;
    if (rest) {
        int a = b64dec[(uint8_t)s[i]], b = b64dec[(uint8_t)s[i + 1]];
        int c = rest == 3 ? b64dec[(uint8_t)s[i + 2]] : 1;
        if (!a || !b || !c)
            return -1;
        uint32_t v = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 | (uint32_t)(c - 1) << 6;
        out[o++] = (uint8_t)(v >> 16);
        if (rest == 3)
            out[o++] = (uint8_t)(v >> 8);
    }
    return (ssize_t)o;
}

/* b64pairs[v]: the two characters of the 12 bits v (8 KiB, filled once by b64_init), so 3 bytes take two
 * lookups instead of four. */
static char b64pairs[4096][2];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void b64_init(void)
{
    for (int v = 0; v < 4096; v++) {
        b64pairs[v][0] = b64chars[v >> 6];
        b64pairs[v][1] = b64chars[v & 63];
    }
}

/* Writes the padded base64 of p[0, n) at o ((n + 2) / 3 * 4 bytes) and returns the end. */
static uint8_t *b64_put(uint8_t *o, const uint8_t *p, size_t n)
{
    size_t i = 0;
    pthread_once(&b64_once, b64_init);
#if LITTLE_ENDIAN_HOST
    for (; n - i >= 8; i += 6, o += 8) { /* 6 bytes from one 8-byte load */
        uint64_t w;
        memcpy(&w, p + i, 8);
        w = __builtin_bswap64(w);
        memcpy(o, b64pairs[w >> 52], 2);
        memcpy(o + 2, b64pairs[(w >> 40) & 4095], 2);
        memcpy(o + 4, b64pairs[(w >> 28) & 4095], 2);
        memcpy(o + 6, b64pairs[(w >> 16) & 4095], 2);
    }
#endif
    for (; n - i >= 3; i += 3, o += 4) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        memcpy(o, b64pairs[v >> 12], 2);
        memcpy(o + 2, b64pairs[v & 4095], 2);
    }
    if (n - i) {
        uint32_t v = (uint32_t)p[i] << 16 | (n - i == 2 ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = (uint8_t)b64chars[v >> 18];
        *o++ = (uint8_t)b64chars[(v >> 12) & 63];
        *o++ = n - i == 2 ? (uint8_t)b64chars[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    return o;
}

int sl_base64_append(struct sl_buf *b, const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0; /* b->base may be NULL: NULL + 0 is undefined in C */
    if (room(b, (n + 2) / 3 * 4))
        return -ENOMEM;
    b->len = (size_t)(b64_put(b->base + b->len, p, n) - b->base);
    return 0;
}

/* ---- JSON text helpers ---- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!n || (size_t)(end - p) < n || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
        return 0; /* overlong, surrogate */
    if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

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
static const uint8_t jcls[256] = {
    /* 0_ */ 0, 0, 0, 0, 0, 0, 0, 0, 0, JW, JW, 0, 0, JW, 0, 0,
    /* 1_ */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 2_ */ JP | JW, JP, JE, JP, JP, JP, JP, JP, JP, JP, JP, JP, JP, JP, JP, JP | JE,
    /* 3_ */ JP | JD | JH, JP | JD | JH, JP | JD | JH, JP | JD | JH, JP | JD | JH, JP | JD | JH, JP | JD | JH,
             JP | JD | JH, JP | JD | JH, JP | JD | JH, JP, JP, JP, JP, JP, JP,
    /* 4_ */ JP, JP | JH, JP | JH, JP | JH, JP | JH, JP | JH, JP | JH, JP, JP, JP, JP, JP, JP, JP, JP, JP,
    /* 5_ */ JP, JP, JP, JP, JP, JP, JP, JP, JP, JP, JP, JP, JE, JP, JP, JP,
    /* 6_ */ JP, JP | JH, JP | JH | JE, JP | JH, JP | JH, JP | JH, JP | JH | JE, JP, JP, JP, JP, JP, JP, JP,
             JP | JE, JP,
    /* 7_ */ JP, JP, JP | JE, JP, JP | JE, JP, JP, JP, JP, JP, JP, JP, JP, JP, JP, JP,
    /* 8_ .. F_: 0 */
};

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

int sl_dec_append(struct sl_buf *b, int64_t v)
{
    if (room(b, 20))
        return -ENOMEM;
    b->len = (size_t)(dec_put(b->base + b->len, v) - b->base);
    return 0;
}

/* Writes the JSON form of the byte at *pp, which is not plain (an escape, a valid UTF-8 sequence as it is, or
 * U+FFFD for a byte that starts none) at o (at most 6 bytes); advances *pp past it and returns the end. */
static uint8_t *esc_put(uint8_t *o, const uint8_t **pp, const uint8_t *end)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = *pp;
    uint8_t c = *p;
    if (c >= 0x80) {
        size_t ul = utf8_len(p, end);
        *pp = p + (ul ? ul : 1);
        if (!ul) {
            memcpy(o, "\xef\xbf\xbd", 3);
            return o + 3;
        }
        memcpy(o, p, ul);
        return o + ul;
    }
    *pp = p + 1;
    *o++ = '\\';
    if (c == '"' || c == '\\') {
        *o++ = c;
    } else if (c == '\n' || c == '\r' || c == '\t') {
        *o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
    } else {
        memcpy(o, "u00", 3);
        o[3] = (uint8_t)hex[c >> 4];
        o[4] = (uint8_t)hex[c & 15];
        o += 5;
    }
    return o;
}

/* Plain runs are copied 8 bytes at a time; room grows only at a byte that is not plain (by at most 6 bytes
 * for it plus the rest of the string), so a string without escapes costs one capacity check. */
int sl_json_str_append(struct sl_buf *b, const uint8_t *p, size_t n)
{
    if (room(b, n + 2))
        return -ENOMEM;
    const uint8_t *end = p + n;
    uint8_t *o = b->base + b->len;
    *o++ = '"';
    for (;;) {
        for (; end - p >= 8 && !needs_look8(p); p += 8, o += 8)
            memcpy(o, p, 8);
        for (; p < end && (jcls[*p] & JP); p++)
            *o++ = *p;
        if (p == end)
            break;
        b->len = (size_t)(o - b->base);
        if (room(b, 6 + (size_t)(end - p)))
            return -ENOMEM;
        o = esc_put(b->base + b->len, &p, end);
    }
    *o++ = '"';
    b->len = (size_t)(o - b->base);
    return 0;
}

/* A non-allocating JSON validator: one iterative pass, containers nest on a bit stack (at most JV_MAX_DEPTH
 * deep), bytes are classified by one table, string contents skip 8 plain bytes at a time. RFC 8259 exactly:
 * \u needs 4 hex digits (lone surrogates pass), other escapes are \" \\ \/ \b \f \n \r \t, raw string bytes
 * are >= 0x20 and valid UTF-8. */
#define JV_MAX_DEPTH 512

static inline const uint8_t *jv_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (jcls[*p] & JW))
        p++;
    return p;
}

/* The string whose contents start at p (after its opening quote): returns the end of its closing quote, or
 * NULL when it is not a valid string. */
static const uint8_t *jv_string(const uint8_t *p, const uint8_t *end)
{
    for (;;) {
        while (end - p >= 8) {
            size_t k = plain8(p);
            p += k;
            if (k < 8)
                break;
        }
        while (p < end && (jcls[*p] & JP))
            p++;
        if (p == end)
            return NULL;
        size_t n;
        if (*p == '"')
            return p + 1;
        if (*p == '\\' && end - p >= 2 && p[1] == 'u')
            n = end - p >= 6 && (jcls[p[2]] & jcls[p[3]] & jcls[p[4]] & jcls[p[5]] & JH) ? 6 : 0;
        else if (*p == '\\')
            n = end - p >= 2 && (jcls[p[1]] & JE) ? 2 : 0;
        else
            n = *p >= 0x80 ? utf8_len(p, end) : 0; /* else a control character */
        if (!n)
            return NULL;
        p += n;
    }
}

static const uint8_t *jv_digits(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *s = p;
    while (p < end && (jcls[*p] & JD))
        p++;
    return p > s ? p : NULL;
}

/* The number at p (a '-' or a digit): returns its end, or NULL when it is not a valid number. */
static const uint8_t *jv_number(const uint8_t *p, const uint8_t *end)
{
    if (*p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (!(p = jv_digits(p, end)))
        return NULL;
    if (p < end && *p == '.' && !(p = jv_digits(p + 1, end)))
        return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        p = jv_digits(p, end);
    }
    return p;
}

/* The scalar at p (p < end): returns its end, or NULL when it is not a valid string, number or literal. */
static const uint8_t *jv_scalar(const uint8_t *p, const uint8_t *end)
{
    size_t left = (size_t)(end - p);
    switch (*p) {
    case '"':
        return jv_string(p + 1, end);
    case 't':
        return left >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return left >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return left >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return *p == '-' || (jcls[*p] & JD) ? jv_number(p, end) : NULL;
    }
}

/* A state machine over three states: 'value' expects a value, 'key' an object member's name and colon,
 * 'next' (after a value) a comma, the close of the innermost container, or the end of the text at depth 0.
 * Bit d of obj tells whether the container at depth d + 1 is an object. */
bool sl_json_valid(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    uint64_t obj[JV_MAX_DEPTH / 64] = {0};
    unsigned depth = 0;
value:
    if ((p = jv_ws(p, end)) == end)
        return false;
    if (*p == '{' || *p == '[') {
        if (depth == JV_MAX_DEPTH)
            return false;
        bool o = *p++ == '{';
        obj[depth / 64] = o ? obj[depth / 64] | 1ull << depth % 64 : obj[depth / 64] & ~(1ull << depth % 64);
        depth++;
        if ((p = jv_ws(p, end)) < end && *p == (o ? '}' : ']')) {
            p++;
            depth--;
            goto next;
        }
        if (o)
            goto key;
        goto value;
    }
    if (!(p = jv_scalar(p, end)))
        return false;
next:
    p = jv_ws(p, end);
    if (depth == 0)
        return p == end;
    if (p == end)
        return false;
    bool in_obj = obj[(depth - 1) / 64] >> (depth - 1) % 64 & 1;
    if (*p == (in_obj ? '}' : ']')) {
        p++;
        depth--;
        goto next;
    }
    if (*p++ != ',')
        return false;
    if (!in_obj)
        goto value;
key:
    if ((p = jv_ws(p, end)) == end || *p != '"' || !(p = jv_string(p + 1, end)))
        return false;
    if ((p = jv_ws(p, end)) == end || *p++ != ':')
        return false;
    goto value;
}

/* ---- time ---- */

void sl_rfc3339_format(int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)secs * 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac)
        snprintf(buf + n, len - n, ".%03dZ", frac);
    else
        snprintf(buf + n, len - n, "Z");
}

int sl_rfc3339_parse(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -EINVAL;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        if (!digits)
            return -EINVAL;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
            return -EINVAL;
        off = (int64_t)(hh * 60 + mm) * 60000 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    *ms = (int64_t)timegm(&tm) * 1000 + frac - off;
    return 0;
}

/* ---- produce parsing ---- */

static int fail(struct sl_rec_err *err, unsigned status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct sl_rec_err *err, unsigned status, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->status = status;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Decodes a base64 JSON string into the arena. Returns 0, -EINVAL (not base64), -ENOMEM. */
static int take_base64(struct sl_rec_req *r, json_t *j, struct sl_slice *out)
{
    size_t n = json_string_length(j);
    uint8_t *dst = arena_alloc(r, n / 4 * 3 + 3);
    if (!dst)
        return -ENOMEM;
    ssize_t got = sl_base64_decode(json_string_value(j), n, dst);
    if (got < 0)
        return -EINVAL;
    out->base = dst;
    out->len = (size_t)got;
    return 0;
}

/* Serializes any JSON value compactly into the arena. */
static int take_json(struct sl_rec_req *r, json_t *j, struct sl_slice *out)
{
    size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *dst = arena_alloc(r, n ? n : 1);
    if (!dst || (n && json_dumpb(j, dst, n, JSON_COMPACT | JSON_ENCODE_ANY) != n))
        return -ENOMEM;
    out->base = (const uint8_t *)dst;
    out->len = n;
    return 0;
}

/* Headers [{"<kname>": string, "value": base64|null}] into the arena. */
static int take_headers(struct sl_rec_req *r, json_t *j, const char *kname, struct sl_record *rec, const char *where,
                        unsigned status, int code, struct sl_rec_err *err)
{
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_array(j))
        return fail(err, status, code, "%s.headers must be an array", where);
    size_t n = json_array_size(j);
    struct sl_header *h = arena_alloc(r, (n ? n : 1) * sizeof *h);
    if (!h)
        return fail(err, 500, 50002, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(j, i), *k = json_object_get(e, kname), *v = json_object_get(e, "value");
        if (!json_is_object(e) || !json_is_string(k))
            return fail(err, status, code, "%s.headers[%zu].%s must be a string", where, i, kname);
        const char *const names[] = {kname, "value", NULL}, *m = sl_json_unknown(e, names);
        if (m)
            return fail(err, status, code, "Unrecognized field: %s.headers[%zu].%.64s", where, i, m);
        h[i].key.base = (const uint8_t *)json_string_value(k);
        h[i].key.len = json_string_length(k);
        h[i].value.base = NULL;
        h[i].value.len = 0;
        if (v && !json_is_null(v)) {
            int rc = json_is_string(v) ? take_base64(r, v, &h[i].value) : -EINVAL;
            if (rc == -ENOMEM)
                return fail(err, 500, 50002, "out of memory");
            if (rc)
                return fail(err, status, code, "%s.headers[%zu].value must be a base64 string", where, i);
        }
    }
    rec->headers = h;
    rec->nheaders = (uint32_t)n;
    return 0;
}

/* ---- v2 produce: one pass over the body ----
 *
 * sl_rec_parse_v2 walks the body once with the scanner below (strict RFC 8259, no allocation, no recursion:
 * containers nest on a bit stack) and takes every field as a slice of the body: a json-format key/value is its
 * raw text (compacted into the arena only when it has whitespace between tokens), a text value a string's
 * bytes (decoded into the arena only when it has escapes), a binary value is base64-decoded into the arena
 * straight from the string. It accepts exactly the bodies jansson's json_loadb(flags 0) accepts, which the
 * old parser used: top level an object or array, depth <= 2048, no \u0000, no lone surrogate, valid UTF-8,
 * integers within int64 and reals within double (else 400); duplicate keys: the last one wins. Errors keep
 * jansson-era precedence: any syntax error (400), then the envelope (422), the record count (413), then the
 * first failing record (422) -- so after a record fails, the rest of the body is only checked for syntax.
 * Differences from the jansson era, by design: json-format values keep their escapes and number spelling as
 * sent ("\u00e9", 1e2) instead of jansson's re-serialization ("é", 100.0); both are the same JSON value. */

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

static bool sc_fail(struct scan *s, const char *what)
{
    if (!s->bad)
        s->bad = what;
    return false;
}

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

static bool sc_expect(struct scan *s, uint8_t c, const char *what)
{
    sc_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return sc_fail(s, what);
}

static int hex4(const uint8_t *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* The escape at p (a backslash) as a code point in *cp. Returns the bytes it spans (2, 6, or 12 for a
 * surrogate pair), 0 when invalid: unknown escape, bad hex, a lone surrogate, or \u0000 (jansson refuses NUL
 * without JSON_ALLOW_NUL). */
static size_t esc_decode(const uint8_t *p, const uint8_t *end, uint32_t *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (end - p < 2)
        return 0;
    if (p[1] != 'u') {
        const char *k = p[1] ? strchr(from, p[1]) : NULL;
        if (!k)
            return 0;
        *cp = (uint8_t)to[k - from];
        return 2;
    }
    int v = end - p >= 6 ? hex4(p + 2) : -1;
    if (v <= 0 || (v >= 0xdc00 && v <= 0xdfff))
        return 0;
    if (v >= 0xd800 && v <= 0xdbff) {
        int lo = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return 0;
        *cp = 0x10000 + ((uint32_t)(v - 0xd800) << 10) + (uint32_t)(lo - 0xdc00);
        return 12;
    }
    *cp = (uint32_t)v;
    return 6;
}

/* Decodes the inside of a string the scanner accepted, [p, end), into out (room for end - p bytes: decoding
 * never grows). Returns the decoded length. */
static size_t str_decode(const uint8_t *p, const uint8_t *end, uint8_t *out)
{
    size_t o = 0;
    while (p < end) {
        const uint8_t *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = bs ? (size_t)(bs - p) : (size_t)(end - p);
        memcpy(out + o, p, run);
        o += run;
        p += run;
        if (!bs)
            break;
        uint32_t cp = 0;
        p += esc_decode(p, end, &cp);
        if (cp < 0x80) {
            out[o++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            out[o++] = (uint8_t)(0xc0 | cp >> 6);
            out[o++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[o++] = (uint8_t)(0xe0 | cp >> 12);
            out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else {
            out[o++] = (uint8_t)(0xf0 | cp >> 18);
            out[o++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (uint8_t)(0x80 | (cp & 0x3f));
        }
    }
    return o;
}

/* A string at s->p (its opening quote). *esc: it has escapes. */
static bool sc_string(struct scan *s, bool *esc)
{
    const uint8_t *p = s->p + 1, *end = s->end;
    *esc = false;
    for (;;) {
        while (end - p >= 8 && !needs_look8(p)) /* 8 bytes at a time while none needs a look */
            p += 8;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        s->p = p;
        if (p >= end)
            return sc_fail(s, "unterminated string");
        size_t n;
        uint32_t cp;
        if (*p == '"') {
            s->p = p + 1;
            return true;
        } else if (*p == '\\') {
            *esc = true;
            if (!(n = esc_decode(p, end, &cp)))
                return sc_fail(s, "invalid escape in string (or \\u0000, or a lone surrogate)");
        } else if (*p >= 0x80) {
            if (!(n = utf8_len(p, end)))
                return sc_fail(s, "invalid UTF-8 in string");
        } else {
            return sc_fail(s, "control character in string");
        }
        p += n;
    }
}

/* True when the real number whose integer digits are [ip, ie), fraction digits [fp, fe) (fp NULL: none)
 * and exponent ex overflows a double, as strtod (and so jansson) reports it. */
static bool real_overflows(const uint8_t *ip, const uint8_t *ie, const uint8_t *fp, const uint8_t *fe, int64_t ex)
{
    const uint8_t *q = ip;
    int64_t adj; /* decimal exponent of the first significant digit */
    while (q < ie && *q == '0')
        q++;
    if (q < ie) {
        adj = (int64_t)(ie - q) - 1 + ex;
    } else {
        for (q = fp; fp && q < fe && *q == '0'; q++)
            ;
        if (!fp || q == fe)
            return false; /* zero */
        adj = ex - (int64_t)(q - fp) - 1;
    }
    if (adj != 308)
        return adj > 308;
    /* DBL_MAX is 1.79...e308: let strtod decide, from the first 40 significant digits (no '.', so the
     * locale cannot matter) */
    char buf[64];
    int n = 0;
    for (; q < (fp ? fe : ie) && n < 40; q++)
        if (*q != '.')
            buf[n++] = (char)*q;
    snprintf(buf + n, sizeof buf - (size_t)n, "e%d", 308 - (n - 1));
    return isinf(strtod(buf, NULL));
}

static bool sc_digits(struct scan *s)
{
    const uint8_t *b = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > b;
}

/* A number at s->p; fills v->integer / v->ival. Out-of-range numbers fail as jansson's do. */
static bool sc_number(struct scan *s, struct jspan *v)
{
    bool neg = *s->p == '-';
    s->p += neg;
    const uint8_t *ip = s->p, *fp = NULL, *fe = NULL;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!sc_digits(s))
        return sc_fail(s, "invalid number");
    const uint8_t *ie = s->p;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        fp = s->p;
        if (!sc_digits(s))
            return sc_fail(s, "invalid number");
        fe = s->p;
    }
    int64_t ex = 0;
    bool has_exp = s->p < s->end && (*s->p == 'e' || *s->p == 'E');
    if (has_exp) {
        s->p++;
        bool eneg = s->p < s->end && *s->p == '-';
        if (s->p < s->end && (*s->p == '-' || *s->p == '+'))
            s->p++;
        const uint8_t *eb = s->p;
        if (!sc_digits(s))
            return sc_fail(s, "invalid number");
        for (; eb < s->p; eb++)
            ex = ex < 1000000000 ? ex * 10 + (*eb - '0') : ex;
        ex = eneg ? -ex : ex;
    }
    if (fp || has_exp)
        return real_overflows(ip, ie, fp, fe, ex) ? sc_fail(s, "real number overflow") : true;
    size_t nd = (size_t)(ie - ip);
    if (nd > 19 || (nd == 19 && memcmp(ip, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0))
        return sc_fail(s, "too big integer");
    uint64_t u = 0;
    for (const uint8_t *q = ip; q < ie; q++)
        u = u * 10 + (uint64_t)(*q - '0');
    v->integer = true;
    v->ival = !neg ? (int64_t)u : u > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)u;
    return true;
}

static bool sc_literal(struct scan *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return sc_fail(s, "invalid literal");
    s->p += n;
    return true;
}

/* An object key and its colon, s->p at the key's quote (after whitespace). k: the key's inside. */
static bool sc_key(struct scan *s, struct jspan *k)
{
    if (s->p >= s->end || *s->p != '"')
        return sc_fail(s, "string or '}' expected");
    k->p = s->p + 1;
    if (!sc_string(s, &k->esc))
        return false;
    k->end = s->p - 1;
    return sc_expect(s, ':', "':' expected");
}

static bool sc_scalar(struct scan *s, struct jspan *v)
{
    switch (*s->p) {
    case '"':
        return sc_string(s, &v->esc);
    case 't':
        return sc_literal(s, "true", 4);
    case 'f':
        return sc_literal(s, "false", 5);
    case 'n':
        return sc_literal(s, "null", 4);
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return sc_number(s, v);
        return sc_fail(s, "unexpected character");
    }
}

/* Any value at s->p (after whitespace), containers included; fills *v. Nesting is tracked on a bit stack
 * (1 = object), so deep input costs no C stack. */
static bool sc_value(struct scan *s, struct jspan *v)
{
    uint64_t objs[SCAN_MAX_DEPTH / 64];
    struct jspan tmp;
    int d = 0;
    *v = (struct jspan){.p = s->p};
    s->ws = false;
    if (s->p >= s->end)
        return sc_fail(s, "value expected");
    for (;;) {
        uint8_t c = *s->p;
        if (c == '{' || c == '[') {
            if (s->depth + d + 1 > SCAN_MAX_DEPTH)
                return sc_fail(s, "maximum nesting depth reached");
            if (c == '{')
                objs[d / 64] |= 1ull << (d % 64);
            else
                objs[d / 64] &= ~(1ull << (d % 64));
            d++;
            s->p++;
            sc_ws(s);
            if (s->p < s->end && *s->p == (c == '{' ? '}' : ']')) {
                s->p++;
                d--;
                goto after;
            }
            if (c == '{' && !sc_key(s, &tmp))
                return false;
            sc_ws(s);
            if (s->p >= s->end)
                return sc_fail(s, "value expected");
            continue;
        }
        if (!sc_scalar(s, d ? &tmp : v))
            return false;
    after:
        if (d == 0) {
            v->end = s->p;
            v->ws = s->ws;
            return true;
        }
        sc_ws(s);
        bool obj = objs[(d - 1) / 64] >> ((d - 1) % 64) & 1;
        if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
            s->p++;
            d--;
            goto after;
        }
        if (s->p >= s->end || *s->p != ',')
            return sc_fail(s, obj ? "',' or '}' expected" : "',' or ']' expected");
        s->p++;
        sc_ws(s);
        if (obj && !sc_key(s, &tmp))
            return false;
        sc_ws(s);
        if (s->p >= s->end)
            return sc_fail(s, "value expected");
    }
}

/* After a member or element: true with *more when a ',' follows, false at close (consumed) or on error. */
static bool sc_next(struct scan *s, uint8_t close, bool *more)
{
    sc_ws(s);
    if (s->p < s->end && (*s->p == ',' || *s->p == close)) {
        *more = *s->p++ == ',';
        sc_ws(s);
        return true;
    }
    return sc_fail(s, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
}

/* Index of key k in names[0, n), or -1. Keys with escapes are compared decoded, as jansson does. */
static int key_index(const struct jspan *k, const char *const *names, int n)
{
    uint8_t buf[96];
    const uint8_t *p = k->p;
    size_t len = (size_t)(k->end - k->p);
    if (k->esc) {
        if (len > sizeof buf)
            return -1;
        len = str_decode(k->p, k->end, buf);
        p = buf;
    }
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0)
            return i;
    return -1;
}

static bool span_null(const struct jspan *v)
{
    return !v->p || *v->p == 'n';
}

/* Copies a container's text without the whitespace between its tokens. out has room for end - p bytes. */
static size_t json_compact(const uint8_t *p, const uint8_t *end, uint8_t *out)
{
    size_t o = 0;
    bool str = false;
    for (; p < end; p++) {
        uint8_t c = *p;
        if (str) {
            out[o++] = c;
            if (c == '\\')
                out[o++] = *++p;
            else if (c == '"')
                str = false;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            str = c == '"';
            out[o++] = c;
        }
    }
    return o;
}

/* State of one sl_rec_parse_v2 call. */
struct v2scan {
    struct scan s;
    struct sl_rec_req *r;
    enum sl_fmt fmt;
    int64_t now_ms;
    size_t max, count;  /* records seen in the (last) records array */
    bool failed;        /* a record failed: *err holds it; the rest is only checked for syntax */
    bool oom;
    char recs;          /* the records member: 0 absent, 'n' null, '[' array, 'x' anything else */
    struct jspan id;    /* top-level "id" (WebSocket produce) */
    struct jspan unknown; /* the first top-level member with an unknown name */
    struct jspan schema;  /* the first non-null schema member (key_schema, value_schema_id...) */
    struct sl_rec_err *err;
};

static void *v2_alloc(struct v2scan *vs, size_t n)
{
    void *p = arena_alloc(vs->r, n ? n : 1);
    vs->oom |= !p;
    return p;
}

/* A json-format value: the raw text, compacted when it has whitespace between tokens. */
static int take_raw(struct v2scan *vs, const struct jspan *v, struct sl_slice *out)
{
    out->base = v->p;
    out->len = (size_t)(v->end - v->p);
    if (v->ws && (*v->p == '{' || *v->p == '[')) {
        uint8_t *dst = v2_alloc(vs, out->len);
        if (!dst)
            return -ENOMEM;
        out->len = json_compact(v->p, v->end, dst);
        out->base = dst;
    }
    return 0;
}

/* A string's bytes: its inside when it has no escapes, else decoded into the arena. */
static int take_str(struct v2scan *vs, const struct jspan *v, struct sl_slice *out)
{
    out->base = v->p + 1;
    out->len = (size_t)(v->end - v->p) - 2;
    if (v->esc) {
        uint8_t *dst = v2_alloc(vs, out->len);
        if (!dst)
            return -ENOMEM;
        out->len = str_decode(v->p + 1, v->end - 1, dst);
        out->base = dst;
    }
    return 0;
}

/* A base64 string decoded into the arena. Returns 0, -EINVAL (not base64), -ENOMEM. */
static int take_b64(struct v2scan *vs, const struct jspan *v, struct sl_slice *out)
{
    struct sl_slice s;
    int rc = take_str(vs, v, &s);
    uint8_t *dst = rc ? NULL : v2_alloc(vs, s.len / 4 * 3 + 3);
    if (!dst)
        return -ENOMEM;
    ssize_t got = sl_base64_decode((const char *)s.base, s.len, dst);
    if (got < 0)
        return -EINVAL;
    out->base = dst;
    out->len = (size_t)got;
    return 0;
}

/* Records the first record failure (422). */
/* A member name for a message: its raw text, at most 64 bytes ("%.*s"). */
#define SPAN_NAME(k) (int)((k)->end - (k)->p > 64 ? 64 : (k)->end - (k)->p), (const char *)(k)->p

static void v2_reject(struct v2scan *vs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void v2_reject(struct v2scan *vs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vs->err->status = 422;
    vs->err->code = 422;
    vsnprintf(vs->err->msg, sizeof vs->err->msg, fmt, ap);
    va_end(ap);
    vs->failed = true;
}

/* One key or value of record i. Returns 0 (also after v2_reject) or -ENOMEM. */
static int v2_take_field(struct v2scan *vs, const struct jspan *v, const char *what, size_t i, struct sl_slice *out)
{
    out->base = NULL;
    out->len = 0;
    if (span_null(v))
        return 0;
    if (vs->fmt == SL_FMT_JSON)
        return take_raw(vs, v, out);
    if (*v->p != '"') {
        v2_reject(vs, "records[%zu].%s must be a %s string", i, what, vs->fmt == SL_FMT_BINARY ? "base64" : "JSON");
        return 0;
    }
    if (vs->fmt == SL_FMT_TEXT)
        return take_str(vs, v, out);
    int rc = take_b64(vs, v, out);
    if (rc == -EINVAL)
        v2_reject(vs, "records[%zu].%s is not a valid base64 string", i, what);
    return rc == -EINVAL ? 0 : rc;
}

/* Header j of record i, the object v: {"key": string, "value": base64 | null}. */
static int v2_take_header(struct v2scan *vs, const struct jspan *v, size_t i, size_t j, struct sl_header *h)
{
    static const char *const names[] = {"key", "value"};
    struct jspan f[2] = {{0}}, k, tmp;
    struct scan t = {.p = v->p + 1, .end = v->end, .start = vs->s.start, .depth = 5};
    bool more = *v->p == '{';
    sc_ws(&t);
    if (more && *t.p == '}')
        more = false;
    while (more) {
        if (!sc_key(&t, &k))
            return -EINVAL;
        int x = key_index(&k, names, 2);
        sc_ws(&t);
        if (!sc_value(&t, x >= 0 ? &f[x] : &tmp) || !sc_next(&t, '}', &more))
            return -EINVAL;
        if (x < 0 && !vs->failed)
            v2_reject(vs, "Unrecognized field: records[%zu].headers[%zu].%.*s", i, j, SPAN_NAME(&k));
    }
    if (vs->failed)
        return 0;
    if (*v->p != '{' || !f[0].p || *f[0].p != '"') {
        v2_reject(vs, "records[%zu].headers[%zu].key must be a string", i, j);
        return 0;
    }
    int rc = take_str(vs, &f[0], &h->key);
    h->value.base = NULL;
    h->value.len = 0;
    if (rc || span_null(&f[1]))
        return rc;
    rc = *f[1].p == '"' ? take_b64(vs, &f[1], &h->value) : -EINVAL;
    if (rc == -EINVAL)
        v2_reject(vs, "records[%zu].headers[%zu].value must be a base64 string", i, j);
    return rc == -EINVAL ? 0 : rc;
}

/* The headers array v of record i (already syntax-checked: scanned again, twice: count, then take). */
static int v2_take_headers(struct v2scan *vs, const struct jspan *v, size_t i, struct sl_record *rec)
{
    if (span_null(v))
        return 0;
    if (*v->p != '[') {
        v2_reject(vs, "records[%zu].headers must be an array", i);
        return 0;
    }
    struct jspan e;
    struct scan t = {.p = v->p + 1, .end = v->end, .start = vs->s.start, .depth = 4};
    size_t n = 0;
    bool more = true;
    sc_ws(&t);
    if (*t.p == ']')
        more = false;
    while (more && sc_value(&t, &e) && sc_next(&t, ']', &more))
        n++;
    struct sl_header *h = v2_alloc(vs, n * sizeof *h);
    if (!h)
        return -ENOMEM;
    t.p = v->p + 1;
    sc_ws(&t);
    for (size_t j = 0; j < n && !vs->failed; j++) {
        int rc = sc_value(&t, &e) && sc_next(&t, ']', &more) ? v2_take_header(vs, &e, i, j, &h[j]) : -EINVAL;
        if (rc)
            return rc;
    }
    rec->headers = h;
    rec->nheaders = (uint32_t)n;
    return 0;
}

enum { F_KEY, F_VALUE, F_PARTITION, F_TIMESTAMP, F_HEADERS, F_N };

/* Record i, whose fields f were collected (last one wins), checked in the jansson-era order. */
static int v2_take_record(struct v2scan *vs, const struct jspan *f, size_t i)
{
    struct sl_rec_item *it = item_new(vs->r);
    if (!it)
        return -ENOMEM;
    const struct jspan *p = &f[F_PARTITION], *ts = &f[F_TIMESTAMP];
    if (!span_null(p)) {
        if (!p->integer || p->ival < 0 || p->ival > INT32_MAX) {
            v2_reject(vs, "records[%zu].partition must be a non-negative integer", i);
            return 0;
        }
        it->partition = (int32_t)p->ival;
    }
    it->rec.timestamp = vs->now_ms;
    if (!span_null(ts)) {
        if (!ts->integer || ts->ival < 0) {
            v2_reject(vs, "records[%zu].timestamp must be epoch milliseconds", i);
            return 0;
        }
        it->rec.timestamp = ts->ival;
    }
    int rc = v2_take_field(vs, &f[F_KEY], "key", i, &it->rec.key);
    if (rc == 0 && !vs->failed)
        rc = v2_take_field(vs, &f[F_VALUE], "value", i, &it->rec.value);
    if (rc == 0 && !vs->failed)
        rc = v2_take_headers(vs, &f[F_HEADERS], i, &it->rec);
    return rc;
}

/* The record object at s->p, the i-th element. */
static bool v2_scan_record(struct v2scan *vs, size_t i)
{
    static const char *const names[F_N] = {"key", "value", "partition", "timestamp", "headers"};
    struct scan *s = &vs->s;
    struct jspan f[F_N] = {{0}}, k, tmp;
    bool more = true;
    s->p++;
    s->depth = 3;
    sc_ws(s);
    if (s->p < s->end && *s->p == '}')
        more = false, s->p++;
    while (more) {
        if (!sc_key(s, &k))
            return false;
        int x = key_index(&k, names, F_N);
        sc_ws(s);
        if (!sc_value(s, x >= 0 ? &f[x] : &tmp) || !sc_next(s, '}', &more))
            return false;
        if (x < 0 && !vs->failed)
            v2_reject(vs, "Unrecognized field: records[%zu].%.*s", i, SPAN_NAME(&k));
    }
    s->depth = 2;
    if (vs->failed)
        return true;
    int rc = v2_take_record(vs, f, i);
    vs->oom |= rc == -ENOMEM;
    return rc == 0 || sc_fail(s, "internal error");
}

/* The records array at s->p. */
static bool v2_scan_records(struct v2scan *vs)
{
    struct scan *s = &vs->s;
    struct jspan tmp;
    bool more = true;
    s->p++;
    s->depth = 2;
    sc_ws(s);
    if (s->p < s->end && *s->p == ']')
        more = false, s->p++;
    while (more) {
        size_t i = vs->count++;
        bool take = !vs->failed && vs->count <= vs->max;
        if (take && s->p < s->end && *s->p == '{') {
            if (!v2_scan_record(vs, i))
                return false;
        } else {
            if (!sc_value(s, &tmp))
                return false;
            if (take)
                v2_reject(vs, "records[%zu] must be a JSON object", i);
        }
        if (!sc_next(s, ']', &more))
            return false;
    }
    s->depth = 1;
    return true;
}

/* The top-level object at s->p. */
static bool v2_scan_top(struct v2scan *vs)
{
    /* Confluent's v2 schema members: sluice has no schema registry, so only null is meaningful */
    static const char *const names[] = {"records", "id", "key_schema", "value_schema", "key_schema_id",
                                        "value_schema_id"};
    struct scan *s = &vs->s;
    struct jspan k, v;
    bool more = true;
    s->p++;
    s->depth = 1;
    sc_ws(s);
    if (s->p < s->end && *s->p == '}')
        more = false, s->p++;
    while (more) {
        if (!sc_key(s, &k))
            return false;
        int x = key_index(&k, names, 6);
        sc_ws(s);
        if (x < 0 && !vs->unknown.p)
            vs->unknown = k;
        if (x >= 2 && s->p < s->end && *s->p != 'n' && !vs->schema.p)
            vs->schema = k;
        if (x == 0) { /* a repeated records member replaces the earlier one */
            vs->r->n = 0;
            vs->count = 0;
            vs->failed = false;
            vs->recs = s->p < s->end ? (char)*s->p : 0;
        }
        if (x == 0 && vs->recs == '[') {
            if (!v2_scan_records(vs))
                return false;
        } else {
            if (!sc_value(s, x == 1 ? &vs->id : &v))
                return false;
            if (x == 0 && vs->recs != 'n')
                vs->recs = 'x';
        }
        if (!sc_next(s, '}', &more))
            return false;
    }
    return true;
}

int sl_rec_parse_v2(struct sl_rec_req *r, const char *body, size_t len, enum sl_fmt fmt, int64_t now_ms,
                    size_t max_records, struct sl_rec_err *err)
{
    struct v2scan vs = {.s = {.p = (const uint8_t *)body, .end = (const uint8_t *)body + len,
                              .start = (const uint8_t *)body},
                        .r = r, .fmt = fmt, .now_ms = now_ms, .max = max_records, .err = err};
    struct scan *s = &vs.s;
    struct jspan v;
    if (len == 0)
        return fail(err, 422, 42206, "Payload error. Request body is empty. Data is required.");
    sc_ws(s);
    bool top_obj = s->p < s->end && *s->p == '{';
    bool ok = top_obj ? v2_scan_top(&vs)
                      : s->p < s->end && *s->p == '[' ? sc_value(s, &v) : sc_fail(s, "'[' or '{' expected");
    if (ok) {
        sc_ws(s);
        ok = s->p == s->end || sc_fail(s, "end of file expected");
    }
    if (vs.oom)
        return fail(err, 500, 50002, "out of memory");
    if (!ok)
        return fail(err, 400, 400, "Malformed JSON: %s at byte %zu", s->bad, (size_t)(s->p - s->start));
    r->object = top_obj;
    if (vs.id.p && take_raw(&vs, &vs.id, &r->id))
        return fail(err, 500, 50002, "out of memory");
    if (!top_obj)
        return fail(err, 422, 422, "The request body must be a JSON object");
    if (vs.unknown.p)
        return fail(err, 422, 422, "Unrecognized field: %.*s", SPAN_NAME(&vs.unknown));
    if (vs.schema.p)
        return fail(err, 422, 422, "%.*s is not supported: sluice has no schema registry (use the binary, json "
                    "or string formats)", SPAN_NAME(&vs.schema));
    if (vs.recs == 0 || vs.recs == 'n')
        return fail(err, 422, 422, "records may not be null");
    if (vs.recs != '[')
        return fail(err, 422, 422, "records must be an array");
    if (vs.count == 0)
        return fail(err, 422, 422, "records may not be empty");
    if (vs.count > max_records)
        return fail(err, 413, 413, "Too many records in one request: %zu (rest.max.records.per.request is %zu)",
                    vs.count, max_records);
    return vs.failed ? -EINVAL : 0;
}

const char *sl_rec_v3type_name(int t)
{
    return t == SL_V3_BINARY ? "BINARY" : t == SL_V3_JSON ? "JSON" : t == SL_V3_STRING ? "STRING" : NULL;
}

/* Fails with 400 "Unrecognized field: <where>.<name>" when object o has a member not in names. */
static int only_members(json_t *o, const char *const *names, const char *where, struct sl_rec_err *err)
{
    if (!sl_json_check_members(o, names, where, err->msg, sizeof err->msg))
        return 0;
    if (!*where && json_object_get(o, "records")) /* the likely mistake, said */
        snprintf(err->msg, sizeof err->msg, "Unrecognized field: records (a v2 body? A v3 request is one record "
                 "object per JSON value)");
    err->status = 400;
    err->code = 400;
    return -EINVAL;
}

/* One v3 key or value: {"type": BINARY|JSON|STRING, "data": ...}. */
static int v3_field(struct sl_rec_req *r, json_t *j, const char *what, int *type, struct sl_slice *out,
                    struct sl_rec_err *err)
{
    out->base = NULL;
    out->len = 0;
    *type = SL_V3_NONE;
    if (!j || json_is_null(j))
        return 0;
    /* Confluent's ProduceRequestData: type and data, and schema-registry members sluice cannot honour */
    static const char *const names[] = {"type", "data", "subject", "subject_name_strategy", "schema_id",
                                        "schema_version", "schema", NULL};
    if (!json_is_object(j))
        return fail(err, 400, 400, "%s must be an object with type and data", what);
    if (only_members(j, names, what, err))
        return -EINVAL;
    for (size_t i = 2; i < 7; i++)
        if (json_object_get(j, names[i]) && !json_is_null(json_object_get(j, names[i])))
            return fail(err, 400, 400, "%s.%s is not supported: sluice has no schema registry (type BINARY, "
                        "JSON or STRING)", what, names[i]);
    const char *t = json_string_value(json_object_get(j, "type"));
    json_t *data = json_object_get(j, "data");
    if (!t)
        return fail(err, 400, 400, "%s.type is required (BINARY, JSON or STRING)", what);
    *type = strcmp(t, "BINARY") == 0 ? SL_V3_BINARY : strcmp(t, "JSON") == 0 ? SL_V3_JSON
                                                   : strcmp(t, "STRING") == 0 ? SL_V3_STRING : SL_V3_NONE;
    if (*type == SL_V3_NONE)
        return fail(err, 400, 400, "%s.type %s is not supported (BINARY, JSON or STRING; no schema registry)",
                    what, t);
    if (!data || json_is_null(data))
        return 0;
    if (*type == SL_V3_JSON)
        return take_json(r, data, out) ? fail(err, 500, 500, "out of memory") : 0;
    if (!json_is_string(data)) {
        err->in_data = true;
        return fail(err, 400, 400, "%s.data must be a string for type %s", what, t);
    }
    if (*type == SL_V3_STRING) {
        out->base = (const uint8_t *)json_string_value(data);
        out->len = json_string_length(data);
        return 0;
    }
    int rc = take_base64(r, data, out);
    if (rc == -ENOMEM)
        return fail(err, 500, 500, "out of memory");
    if (!rc)
        return 0;
    err->in_data = true;
    return fail(err, 400, 400, "Bad Request: data=%.40s is not a base64 string.", json_string_value(data));
}

static int v3_record(struct sl_rec_req *r, struct sl_rec_item *it, json_t *obj, bool entry, int64_t now_ms,
                     struct sl_rec_err *err)
{
    /* Confluent's ProduceRequest members; a records:batch entry adds its id */
    static const char *const names[] = {"partition_id", "headers", "key", "value", "timestamp", NULL, NULL};
    static const char *const entry_names[] = {"partition_id", "headers", "key", "value", "timestamp", "id", NULL};
    if (!json_is_object(obj))
        return fail(err, 400, 400, "The record must be a JSON object");
    if (only_members(obj, entry ? entry_names : names, "", err))
        return -EINVAL;
    json_t *p = json_object_get(obj, "partition_id"), *ts = json_object_get(obj, "timestamp");
    if (p && !json_is_null(p)) {
        if (!json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > INT32_MAX)
            return fail(err, 400, 400, "partition_id must be a non-negative integer");
        it->partition = (int32_t)json_integer_value(p);
    }
    it->rec.timestamp = now_ms;
    if (ts && !json_is_null(ts)) {
        if (!json_is_string(ts) || sl_rfc3339_parse(json_string_value(ts), &it->rec.timestamp))
            return fail(err, 400, 400, "timestamp must be an RFC 3339 date-time");
    }
    int rc = v3_field(r, json_object_get(obj, "key"), "key", &it->key_type, &it->rec.key, err);
    if (rc == 0)
        rc = v3_field(r, json_object_get(obj, "value"), "value", &it->value_type, &it->rec.value, err);
    if (rc == 0)
        rc = take_headers(r, json_object_get(obj, "headers"), "name", &it->rec, "record", 400, 400, err);
    return rc;
}

int sl_rec_parse_v3(struct sl_rec_req *r, json_t *obj, bool entry, int64_t now_ms, struct sl_rec_err *err)
{
    struct sl_rec_item *it = item_new(r);
    if (!it)
        return fail(err, 500, 500, "out of memory");
    int rc = v3_record(r, it, obj, entry, now_ms, err);
    if (rc) {
        it->err_code = (int)err->status;
        it->err_msg = "invalid record";
    }
    return rc;
}

void sl_rec_partition(struct sl_rec_req *r, int32_t partitions)
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
                sticky = sl_partitioner_sticky(partitions);
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

static int push_batch(struct sl_batch_builder *bb, int32_t partition, struct sl_rec_batch **v, size_t *n,
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
        struct sl_rec_batch *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = nc;
    }
    struct sl_rec_batch *b = &(*v)[*n];
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

int sl_rec_build(struct sl_rec_req *r, size_t max_batch_bytes, struct sl_rec_batch **out, size_t *nout)
{
    struct order *ord = malloc((r->n ? r->n : 1) * sizeof *ord);
    size_t k = 0, n = 0, cap = 0, cur = 0;
    struct sl_rec_batch *v = NULL;
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

void sl_rec_batches_free(struct sl_rec_batch *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++)
        free(b[i].data);
    free(b);
}

/* ---- rendering ----
 *
 * SPEED: JSON is written straight into rd->out behind inline capacity checks (room, put): no snprintf, no call
 * per piece; numbers by dec_put; strings by sl_json_str_append (plain runs 8 bytes at a time); base64 by
 * b64_put (12 bits per lookup); json-format values are checked by sl_json_valid (iterative, table-driven)
 * before they are copied as they are. What is the same for every record of a call is worked out once per call
 * (struct rhead): ",\"partition\":P,\"offset\":" formatted, and whether the topic needs escaping at all.
 * The output is byte for byte what the snprintf-based renderer wrote (tests/unit/test_records.c keeps that
 * renderer as the oracle of a differential test). */

/* Bytes of a record's JSON from its offset to its headers: ",\"timestamp\":", ",\"headers\":" and two
 * numbers of at most 20 bytes. */
#define REC_TAIL_MAX (sizeof ",\"timestamp\":" - 1 + 20 + sizeof ",\"headers\":" - 1 + 20)

/* What every record of one sl_rec_render call shares. */
struct rhead {
    const char *topic;
    size_t topic_len;
    bool topic_plain; /* every byte plain: its JSON string is the topic between quotes */
    uint8_t mid[48];  /* ,"partition":<partition>,"offset": */
    size_t mid_len;
};

static int render_bytes(struct sl_buf *o, enum sl_fmt fmt, struct sl_slice s)
{
    if (!s.base)
        return put(o, "null", 4);
    if (fmt == SL_FMT_BINARY) {
        if (room(o, (s.len + 2) / 3 * 4 + 2))
            return -ENOMEM;
        uint8_t *w = o->base + o->len;
        *w++ = '"';
        w = b64_put(w, s.base, s.len);
        *w++ = '"';
        o->len = (size_t)(w - o->base);
        return 0;
    }
    if (fmt == SL_FMT_JSON && sl_json_valid(s.base, s.len))
        return put(o, s.base, s.len);
    return sl_json_str_append(o, s.base, s.len); /* text, or json-format bytes that are not JSON */
}

static int render_headers(struct sl_buf *o, struct sl_batch_iter *it, const struct sl_record *r)
{
    int rc = put(o, "[", 1);
    for (uint32_t i = 0; rc == 0 && i < r->nheaders; i++) {
        struct sl_header h;
        rc = sl_batch_iter_header(it, i, &h);
        if (rc == 0)
            rc = i ? put(o, ",{\"key\":", 8) : put(o, "{\"key\":", 7);
        if (rc == 0)
            rc = sl_json_str_append(o, h.key.base, h.key.len);
        if (rc == 0)
            rc = put(o, ",\"value\":", 9);
        if (rc == 0)
            rc = render_bytes(o, SL_FMT_BINARY, h.value);
        if (rc == 0)
            rc = put(o, "}", 1);
    }
    return rc ? rc : put(o, "]", 1);
}

/* Appends {"topic":<topic>,"key": with a comma before it when a record precedes it. */
static int render_head(struct sl_render *rd, const struct rhead *hd)
{
    struct sl_buf *o = rd->out;
    if (!hd->topic_plain) {
        int rc = rd->count ? put(o, ",{\"topic\":", 10) : put(o, "{\"topic\":", 9);
        if (rc == 0)
            rc = sl_json_str_append(o, (const uint8_t *)hd->topic, hd->topic_len);
        return rc ? rc : put(o, ",\"key\":", 7);
    }
    if (room(o, 11 + hd->topic_len + 8))
        return -ENOMEM;
    uint8_t *w = o->base + o->len;
    if (rd->count)
        *w++ = ',';
    w = (uint8_t *)memcpy(w, "{\"topic\":\"", 10) + 10;
    w = (uint8_t *)memcpy(w, hd->topic, hd->topic_len) + hd->topic_len;
    w = (uint8_t *)memcpy(w, "\",\"key\":", 8) + 8;
    o->len = (size_t)(w - o->base);
    return 0;
}

static int render_one(struct sl_render *rd, const struct rhead *hd, struct sl_batch_iter *it,
                      const struct sl_record *r)
{
    struct sl_buf *o = rd->out;
    int rc = render_head(rd, hd);
    if (rc == 0)
        rc = render_bytes(o, rd->fmt, r->key);
    if (rc == 0)
        rc = put(o, ",\"value\":", 9);
    if (rc == 0)
        rc = render_bytes(o, rd->fmt, r->value);
    if (rc == 0 && (rc = room(o, hd->mid_len + REC_TAIL_MAX)) == 0) {
        uint8_t *w = (uint8_t *)memcpy(o->base + o->len, hd->mid, hd->mid_len) + hd->mid_len;
        w = dec_put(w, r->offset);
        w = (uint8_t *)memcpy(w, ",\"timestamp\":", 13) + 13;
        w = dec_put(w, r->timestamp);
        w = (uint8_t *)memcpy(w, ",\"headers\":", 11) + 11;
        o->len = (size_t)(w - o->base);
    }
    if (rc == 0)
        rc = render_headers(o, it, r);
    return rc ? rc : put(o, "}", 1);
}

static void rhead_init(struct rhead *hd, const char *topic, int32_t partition)
{
    static const char p[] = ",\"partition\":", off[] = ",\"offset\":";
    hd->topic = topic;
    hd->topic_len = strlen(topic);
    hd->topic_plain = true;
    for (size_t i = 0; i < hd->topic_len; i++)
        hd->topic_plain &= (jcls[(uint8_t)topic[i]] & JP) != 0;
    uint8_t *w = (uint8_t *)memcpy(hd->mid, p, sizeof p - 1) + sizeof p - 1;
    w = dec_put(w, partition);
    w = (uint8_t *)memcpy(w, off, sizeof off - 1) + sizeof off - 1;
    hd->mid_len = (size_t)(w - hd->mid);
}

/* True when the batch's offsets are ones a log could have assigned: base >= 0, lastOffsetDelta >= 0, and the
 * offset after its last record representable (so base + delta and *next never overflow). */
static bool offsets_fit(const struct sl_batch_hdr *h)
{
    return h->base_offset >= 0 && h->last_offset_delta >= 0 && h->base_offset < INT64_MAX - h->last_offset_delta;
}

int sl_rec_render(struct sl_render *rd, const char *topic, int32_t partition, const uint8_t *data, size_t n,
                  sl_offset_t from, sl_offset_t *next)
{
    struct rhead hd;
    size_t at = 0;
    rhead_init(&hd, topic, partition);
    *next = from;
    while (at + SL_BATCH_HEADER_SIZE <= n && !rd->full) {
        struct sl_batch_hdr h;
        struct sl_batch_iter it;
        struct sl_record r;
        int rc = sl_batch_hdr_decode(data + at, n - at, &h);
        size_t sz = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
        if (rc || h.length < 0 || sz > n - at || !offsets_fit(&h))
            return SL_ECORRUPT;
        if (h.base_offset + h.last_offset_delta < from) {
            at += sz;
            continue;
        }
        rc = sl_batch_iter_init(&it, data + at, sz);
        int more;
        while (rc == 0 && (more = sl_batch_iter_next(&it, &r)) > 0) {
            if (r.offset < h.base_offset || r.offset > h.base_offset + h.last_offset_delta) {
                rc = SL_ECORRUPT; /* an offsetDelta outside the batch (unvalidated bytes) */
                break;
            }
            if (r.offset < from)
                continue;
            size_t cost = r.key.len + r.value.len;
            if ((rd->count && rd->used + cost > rd->max_bytes) || (rd->max_records && rd->count >= rd->max_records)) {
                rd->full = true;
                break;
            }
            rc = render_one(rd, &hd, &it, &r);
            rd->used += cost;
            rd->count++;
            *next = r.offset + 1;
        }
        if (rc == 0 && more < 0)
            rc = more;
        if (rc)
            return rc;
        at += sz;
    }
    return 0;
}

int sl_rec_fetch_render(struct sl_broker *b, struct sl_render *rd, const char *topic, int32_t partition,
                        sl_offset_t from, struct sl_buf *scratch, sl_offset_t *next)
{
    sl_offset_t cur = from, hw = from;
    int rc = 0;
    while (!rd->full) {
        size_t budget = rd->max_bytes > rd->used ? rd->max_bytes - rd->used : 0;
        size_t fetch = budget < 65536 ? 65536 : budget > (16u << 20) ? (16u << 20) : budget;
        scratch->len = 0;
        rc = sl_broker_fetch(b, topic, partition, cur, fetch, scratch, &hw);
        if (rc == SL_EDAMAGED && cur > from)
            rc = 0; /* the good prefix first; the next read from cur reports the damage */
        if (rc || scratch->len == 0)
            break;
        sl_offset_t nx;
        rc = sl_rec_render(rd, topic, partition, scratch->base, scratch->len, cur, &nx);
        if (rc || nx == cur)
            break;
        cur = nx;
        if (cur >= hw)
            break;
    }
    *next = cur;
    return rc;
}

void sl_rec_damage_msg(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t off, char *buf,
                       size_t n)
{
    sl_offset_t from, to;
    char why[160];
    if (sl_broker_damage_at(b, topic, partition, off, &from, &to, why, sizeof why) == 0)
        snprintf(buf, n,
                 "Offsets [%" PRId64 ", %" PRId64 ") of %s-%" PRId32 " are in a damaged range of the log (%s); the "
                 "next readable offset is %" PRId64 ".",
                 from, to, topic, partition, why, to);
    else
        snprintf(buf, n, "Offset %" PRId64 " of %s-%" PRId32 " is in a damaged range of the log.", off, topic,
                 partition);
}
