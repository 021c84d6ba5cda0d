/* libFuzzer harness: the v3 chunked-stream record splitter sl_v3split_next (api/rest/v3split.h), fed the way
 * api/rest/v3produce.c feeds it: a buffer that grows by pieces of any size (the chunks of the upload) and loses
 * the objects cut from its front.
 *
 * INPUT: byte 0 = seed of the piece sizes (1..32 bytes each), the rest = the body.
 *
 * CHECKS
 *   1. Streaming = whole: cutting the body as it arrives in pieces yields exactly the objects (offsets and
 *      lengths) and the framing error (its offset) of cutting the whole body at once (INVARIANT 1).
 *   2. Every object starts with '{' and ends with '}' or ']' (INVARIANT 2); separators are only
 *      space, tab, CR, LF and ','.
 *   3. Agrees with jansson: where jansson (JSON_DISABLE_EOF_CHECK) loads an object at the same place, it
 *      consumed exactly the object's length (objects with a NUL byte excepted: jansson 2.14 skips a NUL
 *      right after a number, tests/unit/test_records.c scanner_accepts_what_jansson_accepts). */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api/rest/v3split.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_CUTS 256

struct cuts {
    size_t at[MAX_CUTS], len[MAX_CUTS]; /* body offset and length of each object */
    size_t n;
    size_t err_at; /* body offset of a framing error, SIZE_MAX for none */
};

/* Cuts body[0, n) at once into c, checking 2 and 3 on the way. */
static void cut_whole(const char *body, size_t n, struct cuts *c)
{
    size_t at = 0, skip, len;
    c->n = 0;
    c->err_at = SIZE_MAX;
    while (c->n < MAX_CUTS) {
        int rc = sl_v3split_next(body + at, n - at, &skip, &len);
        for (size_t i = at; i < at + skip; i++)
            FUZZ_CHECK(strchr(" \t\r\n,", body[i]) && body[i], "separator 0x%02x", (unsigned char)body[i]);
        at += skip;
        if (rc) {
            FUZZ_CHECK(rc == -EINVAL && at < n && body[at] != '{', "rc %d at %zu", rc, at);
            c->err_at = at;
            return;
        }
        if (!len)
            return;
        FUZZ_CHECK(body[at] == '{' && (body[at + len - 1] == '}' || body[at + len - 1] == ']'), "object ends");
        json_error_t je;
        json_t *o = json_loadb(body + at, n - at, JSON_DISABLE_EOF_CHECK, &je);
        bool nul = memchr(body + at, '\0', len) != NULL; /* jansson 2.14 skips a NUL after a number */
        FUZZ_CHECK(nul || !json_is_object(o) || (size_t)je.position == len, "jansson took %d bytes, splitter %zu",
                   je.position, len);
        json_decref(o);
        c->at[c->n] = at;
        c->len[c->n++] = len;
        at += len;
    }
}

/* Cuts body[0, n) from a buffer that gets it in pieces (sizes from seed), as drain() does: objects are cut
 * after every piece and removed from the front. Checks 1 against whole. Returns the objects found. */
static size_t cut_pieces(char *buf, const char *body, size_t n, unsigned seed, const struct cuts *whole)
{
    size_t have = 0, fed = 0, gone = 0, k = 0, skip, len; /* gone: body bytes already cut off the front */
    bool err = false, full = false;
    while (fed < n && !err && !full) {
        seed = seed * 1103515245u + 12345u;
        size_t piece = 1 + (seed >> 16) % 32;
        piece = piece < n - fed ? piece : n - fed;
        memcpy(buf + have, body + fed, piece);
        have += piece;
        fed += piece;
        size_t at = 0;
        for (;;) {
            int rc = sl_v3split_next(buf + at, have - at, &skip, &len);
            if (rc) {
                FUZZ_CHECK(k == MAX_CUTS || whole->err_at == gone + at + skip, "streaming error at %zu, whole at %zu",
                           gone + at + skip, whole->err_at);
                err = true;
                break;
            }
            if (!len)
                break;
            if ((full = k == whole->n))
                break;
            FUZZ_CHECK(gone + at + skip == whole->at[k] && len == whole->len[k],
                       "object %zu: at %zu len %zu, whole at %zu len %zu", k, gone + at + skip, len, whole->at[k],
                       whole->len[k]);
            at += skip + len;
            k++;
        }
        memmove(buf, buf + at, have - at);
        have -= at;
        gone += at;
    }
    FUZZ_CHECK(!full || whole->n == MAX_CUTS, "streaming found more objects than the whole body");
    FUZZ_CHECK(err == (whole->err_at != SIZE_MAX) || whole->n == MAX_CUTS, "framing error only %s",
               err ? "while streaming" : "in the whole body");
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    char *body = malloc(n ? n : 1); /* exact size: ASan sees any read past the body */
    memcpy(body, data + 1, n);
    struct cuts whole;
    cut_whole(body, n, &whole);
    char *buf = malloc(n ? n : 1);
    size_t k = cut_pieces(buf, body, n, data[0], &whole);
    FUZZ_CHECK(k == whole.n, "streaming found %zu objects, whole %zu", k, whole.n);
    free(buf);
    free(body);
    return 0;
}
