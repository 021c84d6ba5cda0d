/* HTTP/1.1 request heads and chunked bodies (api/http/http1.h).
 *
 * CHUNKED STATES (one byte at a time, except data runs, which are copied whole):
 *   SIZE --hex--> SIZE; --';' or ' '--> EXT (skipped to end of line); --LF--> DATA (size > 0) or TRAILER
 *   DATA --left bytes--> DATA_END --CR? LF--> SIZE
 *   TRAILER --LF (empty line)--> done; --other--> TRAILER_LINE (skipped to end of line) --LF--> TRAILER */
#include "api/http/http1.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

enum { C_SIZE, C_EXT, C_DATA, C_DATA_END, C_TRAILER, C_TRAILER_LINE };

#define MAX_CHUNK ((uint64_t)1 << 40)

/* The end of the line starting at p (the LF), or NULL when the buffer ends first. */
static const char *line_end(const char *p, const char *end)
{
    return memchr(p, '\n', (size_t)(end - p));
}

/* The line [p, lf) without its CR. */
static size_t line_len(const char *p, const char *lf)
{
    size_t n = (size_t)(lf - p);
    return n && p[n - 1] == '\r' ? n - 1 : n;
}

static int parse_request_line(const char *p, size_t n, struct sl_http1_head *h)
{
    const char *sp1 = memchr(p, ' ', n);
    if (!sp1 || sp1 == p)
        return -1;
    const char *sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p));
    if (!sp2 || sp2 == sp1 + 1)
        return -1;
    const char *ver = sp2 + 1;
    size_t vlen = n - (size_t)(ver - p);
    if (vlen != 8 || memcmp(ver, "HTTP/", 5) || !isdigit((unsigned char)ver[5]) || ver[6] != '.' ||
        !isdigit((unsigned char)ver[7])) {
        h->error = SL_HTTP1_MALFORMED;
        return -1;
    }
    if (ver[5] != '1') {
        h->error = SL_HTTP1_VERSION; /* HTTP/0.9, HTTP/2.0: 505 */
        return -1;
    }
    h->method = p;
    h->method_len = (size_t)(sp1 - p);
    h->target = sp1 + 1;
    h->target_len = (size_t)(sp2 - sp1 - 1);
    h->minor = ver[7] - '0';
    return 0;
}

static int parse_field(const char *p, size_t n, struct sl_http1_head *h)
{
    if (h->nfields == SL_HTTP1_MAX_HDRS) {
        h->error = SL_HTTP1_TOO_MANY;
        return -1;
    }
    h->error = SL_HTTP1_MALFORMED; /* the default reason of the -1 returns below */
    if (*p == ' ' || *p == '\t')
        return -1; /* obsolete folding */
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return -1;
    const char *v = colon + 1, *e = p + n;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    struct sl_http1_field *f = &h->f[h->nfields++];
    *f = (struct sl_http1_field){p, v, (size_t)(colon - p), (size_t)(e - v)};
    for (size_t i = 0; i < f->name_len; i++)
        if (p[i] == ' ' || p[i] == '\t')
            return -1;
    h->error = 0;
    return 0;
}

int sl_http1_parse_head(const char *buf, size_t n, struct sl_http1_head *h)
{
    const char *p = buf, *end = buf + n;
    memset(h, 0, sizeof *h);
    while (p < end && (*p == '\r' || *p == '\n'))
        p++; /* RFC 9112 §2.2: ignore empty lines before the request line */
    for (bool first = true;; first = false) {
        const char *lf = line_end(p, end);
        if (!lf)
            return 0;
        size_t len = line_len(p, lf);
        if (len == 0 && !first) {
            h->len = (size_t)(lf + 1 - buf);
            return 1;
        }
        if (first ? parse_request_line(p, len, h) : parse_field(p, len, h)) {
            if (!h->error)
                h->error = SL_HTTP1_MALFORMED;
            return -EBADMSG;
        }
        p = lf + 1;
    }
}

const struct sl_http1_field *sl_http1_field(const struct sl_http1_head *h, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < h->nfields; i++)
        if (h->f[i].name_len == n && !strncasecmp(h->f[i].name, name, n))
            return &h->f[i];
    return NULL;
}

bool sl_http1_has_token(const struct sl_http1_head *h, const char *name, const char *token)
{
    const struct sl_http1_field *f = sl_http1_field(h, name);
    if (!f || !f->value)
        return false; /* no pointer arithmetic on NULL (issue 11: clang's UBSan aborts on NULL + 0) */
    size_t tn = strlen(token);
    for (const char *p = f->value, *e = p + f->value_len; p < e;) {
        while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *t = p;
        while (p < e && *p != ',')
            p++;
        const char *te = p;
        while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if ((size_t)(te - t) == tn && !strncasecmp(t, token, tn))
            return true;
    }
    return false;
}

/* ---- framing ---- */

static bool name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && !strncasecmp(name, want, len);
}

static void framing_length(struct sl_http1_framing *f, const char *v, size_t n)
{
    uint64_t x = 0;
    if (n == 0 || n > 18)
        f->bad = true; /* 18 digits cannot overflow; nobody sends an exabyte */
    for (size_t i = 0; i < n && !f->bad; i++) {
        if (!isdigit((unsigned char)v[i]))
            f->bad = true; /* also "5, 5": a list is not accepted */
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (f->ncl++ == 0)
        f->cl = x;
    else if (f->cl != x)
        f->bad = true;
}

static void framing_codings(struct sl_http1_framing *f, const char *v, size_t n)
{
    const char *p = v, *e = v + n;
    do {
        const char *t = p;
        while (p < e && *p != ',')
            p++;
        const char *te = p;
        while (t < te && (*t == ' ' || *t == '\t'))
            t++;
        while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if (!name_is(t, (size_t)(te - t), "chunked"))
            f->bad = true; /* gzip, a parameter, an empty element */
        f->nte++;
    } while (p++ < e);
}

void sl_http1_framing_field(struct sl_http1_framing *f, const char *name, size_t name_len, const char *value,
                            size_t value_len)
{
    if (name_is(name, name_len, "Content-Length"))
        framing_length(f, value, value_len);
    else if (name_is(name, name_len, "Transfer-Encoding"))
        framing_codings(f, value ? value : "", value ? value_len : 0);
}

bool sl_http1_framing_ok(const struct sl_http1_framing *f, int minor)
{
    if (f->bad)
        return false;
    if (f->nte == 0)
        return true;
    return f->nte == 1 && f->ncl == 0 && minor >= 1; /* §6.1: Transfer-Encoding in HTTP/1.0 is faulty */
}

bool sl_http1_head_framing_ok(const struct sl_http1_head *h)
{
    struct sl_http1_framing f = {0};
    for (size_t i = 0; i < h->nfields; i++)
        sl_http1_framing_field(&f, h->f[i].name, h->f[i].name_len, h->f[i].value, h->f[i].value_len);
    return sl_http1_framing_ok(&f, h->minor);
}

/* ---- chunked ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One framing byte (not data). Returns 0 or -1. */
static int chunked_byte(struct sl_chunked *c, char ch)
{
    switch (c->state) {
    case C_SIZE: {
        int v = hexval(ch);
        if (v >= 0) {
            if ((c->left = c->left * 16 + (uint64_t)v) > MAX_CHUNK)
                return -1;
            c->digits = true;
        } else if (ch == '\n' || ch == ';' || ch == ' ' || ch == '\t' || ch == '\r') {
            if (!c->digits)
                return -1;
            c->state = ch == '\n' ? (c->left ? C_DATA : C_TRAILER) : C_EXT;
        } else {
            return -1;
        }
        return 0;
    }
    case C_EXT:
        if (ch == '\n')
            c->state = c->left ? C_DATA : C_TRAILER;
        return 0;
    case C_DATA_END:
        if (ch == '\n') {
            c->state = C_SIZE;
            c->left = 0;
            c->digits = false;
        } else if (ch != '\r') {
            return -1;
        }
        return 0;
    case C_TRAILER:
        if (ch == '\n')
            c->done = true;
        else if (ch != '\r')
            c->state = C_TRAILER_LINE;
        return 0;
    case C_TRAILER_LINE:
        if (ch == '\n')
            c->state = C_TRAILER;
        return 0;
    }
    return -1;
}

ssize_t sl_chunked_decode(struct sl_chunked *c, const char *in, size_t n, char *out, size_t *out_len)
{
    size_t i = 0, o = 0;
    while (i < n && !c->done) {
        if (c->state == C_DATA) {
            size_t k = n - i < c->left ? n - i : (size_t)c->left;
            if (out)
                memmove(out + o, in + i, k);
            o += k;
            i += k;
            if ((c->left -= k) == 0)
                c->state = C_DATA_END;
            continue;
        }
        if (chunked_byte(c, in[i++])) {
            *out_len = o;
            return -EBADMSG;
        }
    }
    *out_len = o;
    return (ssize_t)i;
}
