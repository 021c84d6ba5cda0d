/* Text encodings of the records codec (contract: api/codec/rec_text.h): base64, decimal, JSON strings, RFC 3339. */
#include "api/codec/rec_int.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
        return -EINVAL;
    size_t o = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        int a = b64dec[(uint8_t)s[i]], b = b64dec[(uint8_t)s[i + 1]], c = b64dec[(uint8_t)s[i + 2]],
            d = b64dec[(uint8_t)s[i + 3]];
        if (!a || !b || !c || !d)
            return -EINVAL;
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
            return -EINVAL;
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
uint8_t *sl_b64_put(uint8_t *o, const uint8_t *p, size_t n)
{
    size_t i = 0;
    pthread_once(&b64_once, b64_init);
#if SL_LITTLE_ENDIAN_HOST
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
    if (rec_room(b, (n + 2) / 3 * 4))
        return -ENOMEM;
    b->len = (size_t)(sl_b64_put(b->base + b->len, p, n) - b->base);
    return 0;
}

int sl_dec_append(struct sl_buf *b, int64_t v)
{
    if (rec_room(b, 20))
        return -ENOMEM;
    b->len = (size_t)(sl_dec_put(b->base + b->len, v) - b->base);
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
        size_t ul = sl_utf8_len(p, end);
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
    if (rec_room(b, n + 2))
        return -ENOMEM;
    const uint8_t *end = p + n;
    uint8_t *o = b->base + b->len;
    *o++ = '"';
    for (;;) {
        for (; end - p >= 8 && !sl_json_needs_look8(p); p += 8, o += 8)
            memcpy(o, p, 8);
        for (; p < end && (sl_jcls[*p] & SL_JP); p++)
            *o++ = *p;
        if (p == end)
            break;
        b->len = (size_t)(o - b->base);
        if (rec_room(b, 6 + (size_t)(end - p)))
            return -ENOMEM;
        o = esc_put(b->base + b->len, &p, end);
    }
    *o++ = '"';
    b->len = (size_t)(o - b->base);
    return 0;
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
