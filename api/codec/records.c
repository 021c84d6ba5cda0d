/* The records codec's request object and formats (see api/codec/records.h): the arena and items both produce
 * grammars fill, the embedded formats of content types and Accept headers, the error filler.
 *
 * Memory: decoded bytes (base64 output, decoded or compacted text, headers arrays, v3 json_dumpb output) live
 * in a chain of arena blocks owned by the request, so slices stay valid while later records are parsed; other
 * v2 slices point into the body (see sl_rec_parse_v2), v3 text values into the jansson tree the request owns.
 * The grammars (api/codec/rec_v2.c, api/codec/rec_v3.c) only ever append to the arena and the items. */
#include "api/codec/records.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/codec/jsonbody.h"
#include "api/codec/rec_int.h"
#include "server/broker.h"
#include "server/partitioner.h"
#include "storage/err.h"

/* ---- arena ---- */

struct sl_arena_blk {
    struct sl_arena_blk *next;
    size_t used, cap;
    uint8_t data[];
};

void *rec_arena_alloc(struct sl_rec_req *r, size_t n)
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

struct sl_rec_item *rec_item_new(struct sl_rec_req *r)
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

/* ---- produce parsing ---- */

int rec_fail(struct sl_rec_err *err, unsigned status, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->status = status;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -EINVAL;
}
