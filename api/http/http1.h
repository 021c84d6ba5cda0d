/* Minimal HTTP/1.1 request-head parsing and a chunked transfer-coding decoder (RFC 9112 §2-3, §7.1), for the
 * connection front (api/http/front.c), which classifies a connection by its first request head, and for the one
 * route served outside libmicrohttpd (api/rest/produce_stream.c). Pure functions over caller buffers: no I/O, no
 * allocation, any thread.
 *
 * Accepted: request line "METHOD SP target SP HTTP/1.x", header lines "name: value" (optional whitespace
 * around the value), lines ending in CRLF or a bare LF. Rejected (-1): anything else, including obsolete line
 * folding, more than SL_HTTP1_MAX_HDRS headers, a chunk size over 2^40 or without hex digits.
 *
 * FRAMING (RFC 9112 §6.3), sl_http1_framing_*: a request may carry either one Content-Length (1 to 18
 * digits; repeated fields are accepted only when every value is the same, as §6.3 allows, since then every
 * parser agrees on the length) or, in HTTP/1.1, a Transfer-Encoding that is exactly "chunked" -- never both,
 * never another coding (gzip, "chunked, chunked", an empty value), never a comma list of lengths. */
#ifndef SL_API_HTTP1_H
#define SL_API_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SL_HTTP1_MAX_HDRS 48

struct sl_http1_field {
    const char *name, *value; /* into the parsed buffer; not NUL-terminated */
    size_t name_len, value_len;
};

/* Why sl_http1_parse_head returned -1. */
enum sl_http1_error { SL_HTTP1_MALFORMED = 1, SL_HTTP1_VERSION, SL_HTTP1_TOO_MANY };

struct sl_http1_head {
    const char *method, *target; /* into the parsed buffer; not NUL-terminated */
    size_t method_len, target_len;
    int minor;                   /* HTTP/1.<minor> */
    size_t nfields;
    struct sl_http1_field f[SL_HTTP1_MAX_HDRS];
    size_t len;                  /* bytes of the head, the final empty line included */
    enum sl_http1_error error;   /* set when malformed: VERSION for HTTP/d.d other than 1.x, TOO_MANY for
                                  * more than SL_HTTP1_MAX_HDRS fields */
};

/* Parses the request head at buf[0, n). Returns 1 when complete (*h filled; h->len bytes), 0 when more bytes
 * are needed, -EBADMSG when malformed (h->error says how). */
int sl_http1_parse_head(const char *buf, size_t n, struct sl_http1_head *h);
/* The first field called name (case-insensitive), or NULL. */
const struct sl_http1_field *sl_http1_field(const struct sl_http1_head *h, const char *name);
/* True when field name exists and its comma-separated list holds token (case-insensitive), e.g.
 * Transfer-Encoding: gzip, chunked. */
bool sl_http1_has_token(const struct sl_http1_head *h, const char *name, const char *token);

/* RFC 9112 §6.3 framing of one request, accumulated over its header fields in any order (a repeated field
 * is fed once per occurrence). Zero-initialize, feed every field, then ask sl_http1_framing_ok. */
struct sl_http1_framing {
    unsigned ncl, nte;   /* Content-Length fields seen; Transfer-Encoding codings seen */
    uint64_t cl;         /* the first Content-Length value */
    bool bad;            /* a Content-Length that is not 1*18DIGIT, two different ones, or a coding other
                          * than chunked */
};
/* Feeds one header field (any other name is ignored). */
void sl_http1_framing_field(struct sl_http1_framing *f, const char *name, size_t name_len, const char *value,
                            size_t value_len);
/* True when the fields fed describe a valid framing for an HTTP/1.<minor> request (see FRAMING). */
bool sl_http1_framing_ok(const struct sl_http1_framing *f, int minor);
/* The same over a parsed head. */
bool sl_http1_head_framing_ok(const struct sl_http1_head *h);

/* Chunked body decoder. Zero-initialize, then feed bytes in any split. */
struct sl_chunked {
    int state;
    uint64_t left; /* data bytes left in the current chunk, or the size being parsed */
    bool digits;   /* the size being parsed has a digit */
    bool done;     /* the last chunk and the trailer section were read */
};

/* Decodes in[0, n) into out (which may equal in: the output never runs ahead of the input; NULL only checks
 * the framing); *out_len is set to the data bytes written (counted). Returns the input bytes consumed (n, or fewer once done: the rest belongs to
 * the next request), or -EBADMSG on a framing error. */
ssize_t sl_chunked_decode(struct sl_chunked *c, const char *in, size_t n, char *out, size_t *out_len);

#endif
