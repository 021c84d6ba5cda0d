/* libFuzzer harness: the HTTP/1.1 request-head parser and the chunked decoder of api/http/http1.h, which read
 * bytes straight from untrusted sockets (api/http/front.c, api/rest/produce_stream.c).
 *
 * INPUT: byte 0 = seed of the cut points and piece sizes; the rest = a request head, then a chunked body (when
 * no complete head parses, the whole rest is also decoded as a chunked body).
 *
 * CHECKS (head)
 *   1. Returns -EBADMSG, 0 or 1; on 1 the head length and every method/target/field view lie inside the buffer,
 *      names are non-empty without blanks, values have no surrounding blanks, and sl_http1_field finds each
 *      name (case-insensitively) at or before its own index.
 *   2. Monotonic in the bytes received (the front parses again as bytes arrive): a prefix that parses (1)
 *      gives the same length and fields as the whole; a prefix that is malformed (-EBADMSG) stays malformed.
 * CHECKS (chunked)
 *   3. Pieces = whole: decoding in place (out == in, as produce_stream.c does) piece by piece gives the same
 *      data, the same framing error or done state, and the same bytes consumed as one call over a
 *      separate buffer; every call writes at most what it consumed. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "api/http/http1.h"
#include "tests/fuzz/fuzz_check.h"

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void check_head(const char *buf, const struct sl_http1_head *h)
{
    FUZZ_CHECK(h->method_len > 0 && inside(h->method, h->method_len, buf, h->len), "method outside");
    FUZZ_CHECK(inside(h->target, h->target_len, buf, h->len) && h->minor >= 0 && h->minor <= 9, "target");
    FUZZ_CHECK(h->nfields <= SL_HTTP1_MAX_HDRS, "nfields %zu", h->nfields);
    for (size_t i = 0; i < h->nfields; i++) {
        const struct sl_http1_field *f = &h->f[i];
        FUZZ_CHECK(f->name_len > 0 && inside(f->name, f->name_len, buf, h->len), "field %zu name", i);
        FUZZ_CHECK(inside(f->value, f->value_len, buf, h->len), "field %zu value", i);
        FUZZ_CHECK(!memchr(f->name, ' ', f->name_len) && !memchr(f->name, '\t', f->name_len), "blank in name");
        FUZZ_CHECK(f->value_len == 0 || (f->value[0] != ' ' && f->value[0] != '\t' &&
                                         f->value[f->value_len - 1] != ' ' && f->value[f->value_len - 1] != '\t'),
                   "field %zu value not trimmed", i);
        char name[256];
        if (f->name_len >= sizeof name || memchr(f->name, '\0', f->name_len))
            continue;
        memcpy(name, f->name, f->name_len);
        name[f->name_len] = '\0';
        const struct sl_http1_field *g = sl_http1_field(h, name);
        FUZZ_CHECK(g && g <= f && g->name_len == f->name_len && !strncasecmp(g->name, name, f->name_len),
                   "field %zu not found by name", i);
        (void)sl_http1_has_token(h, name, "chunked");
    }
}

/* Check 2 at one cut point. */
static void check_prefix(const char *buf, size_t cut, int whole_rc, const struct sl_http1_head *whole)
{
    struct sl_http1_head *h = malloc(sizeof *h);
    int rc = sl_http1_parse_head(buf, cut, h);
    FUZZ_CHECK(rc == -EBADMSG || rc == 0 || rc == 1, "rc %d", rc);
    if (rc == 1)
        FUZZ_CHECK(whole_rc == 1 && h->len == whole->len && h->nfields == whole->nfields,
                   "prefix %zu parses (len %zu) but the whole gives %d (len %zu)", cut, h->len, whole_rc, whole->len);
    if (rc < 0)
        FUZZ_CHECK(whole_rc < 0, "prefix %zu malformed, the whole gives %d", cut, whole_rc);
    free(h);
}

/* Check 3 over body[0, n). */
static void check_chunked(const char *body, size_t n, unsigned seed)
{
    struct sl_chunked one = {0}, many = {0};
    char *out1 = malloc(n ? n : 1), *buf = malloc(n ? n : 1), *got = malloc(n ? n : 1);
    size_t len1 = 0, at = 0, glen = 0;
    ssize_t used1 = sl_chunked_decode(&one, body, n, out1, &len1);
    FUZZ_CHECK(used1 < 0 || ((size_t)used1 <= n && len1 <= (size_t)used1), "used %zd len %zu", used1, len1);
    bool err = false;
    while (at < n && !many.done && !err) {
        seed = seed * 1103515245u + 12345u;
        size_t piece = 1 + (seed >> 16) % 64, olen;
        piece = piece < n - at ? piece : n - at;
        memcpy(buf, body + at, piece);
        ssize_t used = sl_chunked_decode(&many, buf, piece, buf, &olen); /* in place */
        FUZZ_CHECK(olen <= piece && (used < 0 || (size_t)used <= piece), "piece: used %zd olen %zu", used, olen);
        memcpy(got + glen, buf, olen);
        glen += olen;
        err = used < 0;
        at += used < 0 ? piece : (size_t)used;
    }
    FUZZ_CHECK(err == (used1 < 0) && many.done == one.done, "pieces: err %d done %d, whole: used %zd done %d",
               err, many.done, used1, one.done);
    FUZZ_CHECK(glen == len1 && !memcmp(got, out1, glen), "pieces decoded %zu bytes, whole %zu", glen, len1);
    FUZZ_CHECK(err || (size_t)used1 == at, "pieces consumed %zu, whole %zd", at, used1);
    free(out1);
    free(buf);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned seed = data[0];
    size_t n = size - 1;
    char *buf = malloc(n ? n : 1); /* exact size: ASan sees any read past the input */
    memcpy(buf, data + 1, n);
    struct sl_http1_head *h = malloc(sizeof *h);
    int rc = sl_http1_parse_head(buf, n, h);
    FUZZ_CHECK(rc == -EBADMSG || rc == 0 || rc == 1, "rc %d", rc);
    if (rc == 1) {
        FUZZ_CHECK(h->len <= n, "len %zu > %zu", h->len, n);
        check_head(buf, h);
    }
    for (int i = 0; i < 8 && n; i++) {
        seed = seed * 1103515245u + 12345u;
        check_prefix(buf, (seed >> 8) % (n + 1), rc, h);
    }
    if (rc == 1)
        check_chunked(buf + h->len, n - h->len, seed);
    else
        check_chunked(buf, n, seed);
    free(h);
    free(buf);
    return 0;
}
