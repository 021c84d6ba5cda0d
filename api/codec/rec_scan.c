/* The JSON scanner and validator of the records codec (contract and accepted grammar: api/codec/rec_scan.h). */
#include "api/codec/rec_scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
size_t sl_utf8_len(const uint8_t *p, const uint8_t *end)
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

const uint8_t sl_jcls[256] = {
    /* 0_ */ 0, 0, 0, 0, 0, 0, 0, 0, 0, SL_JW, SL_JW, 0, 0, SL_JW, 0, 0,
    /* 1_ */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 2_ */ SL_JP | SL_JW, SL_JP, SL_JE, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP | SL_JE,
    /* 3_ */ SL_JP | SL_JD | SL_JH, SL_JP | SL_JD | SL_JH, SL_JP | SL_JD | SL_JH, SL_JP | SL_JD | SL_JH, SL_JP | SL_JD | SL_JH, SL_JP | SL_JD | SL_JH, SL_JP | SL_JD | SL_JH,
             SL_JP | SL_JD | SL_JH, SL_JP | SL_JD | SL_JH, SL_JP | SL_JD | SL_JH, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP,
    /* 4_ */ SL_JP, SL_JP | SL_JH, SL_JP | SL_JH, SL_JP | SL_JH, SL_JP | SL_JH, SL_JP | SL_JH, SL_JP | SL_JH, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP,
    /* 5_ */ SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JE, SL_JP, SL_JP, SL_JP,
    /* 6_ */ SL_JP, SL_JP | SL_JH, SL_JP | SL_JH | SL_JE, SL_JP | SL_JH, SL_JP | SL_JH, SL_JP | SL_JH, SL_JP | SL_JH | SL_JE, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP,
             SL_JP | SL_JE, SL_JP,
    /* 7_ */ SL_JP, SL_JP, SL_JP | SL_JE, SL_JP, SL_JP | SL_JE, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP, SL_JP,
    /* 8_ .. F_: 0 */
};

/* A non-allocating JSON validator: one iterative pass, containers nest on a bit stack (at most JV_MAX_DEPTH
 * deep), bytes are classified by one table, string contents skip 8 plain bytes at a time. RFC 8259 exactly:
 * \u needs 4 hex digits (lone surrogates pass), other escapes are \" \\ \/ \b \f \n \r \t, raw string bytes
 * are >= 0x20 and valid UTF-8. */
#define JV_MAX_DEPTH 512

static inline const uint8_t *jv_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (sl_jcls[*p] & SL_JW))
        p++;
    return p;
}

/* The string whose contents start at p (after its opening quote): returns the end of its closing quote, or
 * NULL when it is not a valid string. */
static const uint8_t *jv_string(const uint8_t *p, const uint8_t *end)
{
    for (;;) {
        while (end - p >= 8) {
            size_t k = sl_json_plain8(p);
            p += k;
            if (k < 8)
                break;
        }
        while (p < end && (sl_jcls[*p] & SL_JP))
            p++;
        if (p == end)
            return NULL;
        size_t n;
        if (*p == '"')
            return p + 1;
        if (*p == '\\' && end - p >= 2 && p[1] == 'u')
            n = end - p >= 6 && (sl_jcls[p[2]] & sl_jcls[p[3]] & sl_jcls[p[4]] & sl_jcls[p[5]] & SL_JH) ? 6 : 0;
        else if (*p == '\\')
            n = end - p >= 2 && (sl_jcls[p[1]] & SL_JE) ? 2 : 0;
        else
            n = *p >= 0x80 ? sl_utf8_len(p, end) : 0; /* else a control character */
        if (!n)
            return NULL;
        p += n;
    }
}

static const uint8_t *jv_digits(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *s = p;
    while (p < end && (sl_jcls[*p] & SL_JD))
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
        return *p == '-' || (sl_jcls[*p] & SL_JD) ? jv_number(p, end) : NULL;
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

bool sl_scan_fail(struct sl_scan *s, const char *what)
{
    if (!s->bad)
        s->bad = what;
    return false;
}

static bool sc_expect(struct sl_scan *s, uint8_t c, const char *what)
{
    sl_scan_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return sl_scan_fail(s, what);
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
size_t sl_scan_str_decode(const uint8_t *p, const uint8_t *end, uint8_t *out)
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
static bool sc_string(struct sl_scan *s, bool *esc)
{
    const uint8_t *p = s->p + 1, *end = s->end;
    *esc = false;
    for (;;) {
        while (end - p >= 8 && !sl_json_needs_look8(p)) /* 8 bytes at a time while none needs a look */
            p += 8;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        s->p = p;
        if (p >= end)
            return sl_scan_fail(s, "unterminated string");
        size_t n;
        uint32_t cp;
        if (*p == '"') {
            s->p = p + 1;
            return true;
        } else if (*p == '\\') {
            *esc = true;
            if (!(n = esc_decode(p, end, &cp)))
                return sl_scan_fail(s, "invalid escape in string (or \\u0000, or a lone surrogate)");
        } else if (*p >= 0x80) {
            if (!(n = sl_utf8_len(p, end)))
                return sl_scan_fail(s, "invalid UTF-8 in string");
        } else {
            return sl_scan_fail(s, "control character in string");
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

static bool sc_digits(struct sl_scan *s)
{
    const uint8_t *b = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > b;
}

/* A number at s->p; fills v->integer / v->ival. Out-of-range numbers fail as jansson's do. */
static bool sc_number(struct sl_scan *s, struct sl_jspan *v)
{
    bool neg = *s->p == '-';
    s->p += neg;
    const uint8_t *ip = s->p, *fp = NULL, *fe = NULL;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!sc_digits(s))
        return sl_scan_fail(s, "invalid number");
    const uint8_t *ie = s->p;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        fp = s->p;
        if (!sc_digits(s))
            return sl_scan_fail(s, "invalid number");
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
            return sl_scan_fail(s, "invalid number");
        for (; eb < s->p; eb++)
            ex = ex < 1000000000 ? ex * 10 + (*eb - '0') : ex;
        ex = eneg ? -ex : ex;
    }
    if (fp || has_exp)
        return real_overflows(ip, ie, fp, fe, ex) ? sl_scan_fail(s, "real number overflow") : true;
    size_t nd = (size_t)(ie - ip);
    if (nd > 19 || (nd == 19 && memcmp(ip, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0))
        return sl_scan_fail(s, "too big integer");
    uint64_t u = 0;
    for (const uint8_t *q = ip; q < ie; q++)
        u = u * 10 + (uint64_t)(*q - '0');
    v->integer = true;
    v->ival = !neg ? (int64_t)u : u > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)u;
    return true;
}

static bool sc_literal(struct sl_scan *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return sl_scan_fail(s, "invalid literal");
    s->p += n;
    return true;
}

/* An object key and its colon, s->p at the key's quote (after whitespace). k: the key's inside. */
bool sl_scan_key(struct sl_scan *s, struct sl_jspan *k)
{
    if (s->p >= s->end || *s->p != '"')
        return sl_scan_fail(s, "string or '}' expected");
    k->p = s->p + 1;
    if (!sc_string(s, &k->esc))
        return false;
    k->end = s->p - 1;
    return sc_expect(s, ':', "':' expected");
}

static bool sc_scalar(struct sl_scan *s, struct sl_jspan *v)
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
        return sl_scan_fail(s, "unexpected character");
    }
}

/* Any value at s->p (after whitespace), containers included; fills *v. Nesting is tracked on a bit stack
 * (1 = object), so deep input costs no C stack. */
bool sl_scan_value(struct sl_scan *s, struct sl_jspan *v)
{
    uint64_t objs[SL_SCAN_MAX_DEPTH / 64];
    struct sl_jspan tmp;
    int d = 0;
    *v = (struct sl_jspan){.p = s->p};
    s->ws = false;
    if (s->p >= s->end)
        return sl_scan_fail(s, "value expected");
    for (;;) {
        uint8_t c = *s->p;
        if (c == '{' || c == '[') {
            if (s->depth + d + 1 > SL_SCAN_MAX_DEPTH)
                return sl_scan_fail(s, "maximum nesting depth reached");
            if (c == '{')
                objs[d / 64] |= 1ull << (d % 64);
            else
                objs[d / 64] &= ~(1ull << (d % 64));
            d++;
            s->p++;
            sl_scan_ws(s);
            if (s->p < s->end && *s->p == (c == '{' ? '}' : ']')) {
                s->p++;
                d--;
                goto after;
            }
            if (c == '{' && !sl_scan_key(s, &tmp))
                return false;
            sl_scan_ws(s);
            if (s->p >= s->end)
                return sl_scan_fail(s, "value expected");
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
        sl_scan_ws(s);
        bool obj = objs[(d - 1) / 64] >> ((d - 1) % 64) & 1;
        if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
            s->p++;
            d--;
            goto after;
        }
        if (s->p >= s->end || *s->p != ',')
            return sl_scan_fail(s, obj ? "',' or '}' expected" : "',' or ']' expected");
        s->p++;
        sl_scan_ws(s);
        if (obj && !sl_scan_key(s, &tmp))
            return false;
        sl_scan_ws(s);
        if (s->p >= s->end)
            return sl_scan_fail(s, "value expected");
    }
}

/* After a member or element: true with *more when a ',' follows, false at close (consumed) or on error. */
bool sl_scan_next(struct sl_scan *s, uint8_t close, bool *more)
{
    sl_scan_ws(s);
    if (s->p < s->end && (*s->p == ',' || *s->p == close)) {
        *more = *s->p++ == ',';
        sl_scan_ws(s);
        return true;
    }
    return sl_scan_fail(s, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
}

/* Index of key k in names[0, n), or -1. Keys with escapes are compared decoded, as jansson does. */
int sl_scan_key_index(const struct sl_jspan *k, const char *const *names, int n)
{
    uint8_t buf[96];
    const uint8_t *p = k->p;
    size_t len = (size_t)(k->end - k->p);
    if (k->esc) {
        if (len > sizeof buf)
            return -1;
        len = sl_scan_str_decode(k->p, k->end, buf);
        p = buf;
    }
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0)
            return i;
    return -1;
}


/* Copies a container's text without the whitespace between its tokens. out has room for end - p bytes. */
size_t sl_scan_compact(const uint8_t *p, const uint8_t *end, uint8_t *out)
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
