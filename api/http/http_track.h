/* Following a kept-alive REST connection's request stream before libmicrohttpd parses it, so that a request
 * libmicrohttpd 0.9.75 would answer itself -- in HTML, with no hook for the body -- is answered with the
 * documented JSON error instead (api/http/refuse.h has the answers). The tracker sees the bytes exactly as
 * libmicrohttpd reads them (api/http/recv_hook.c) and decides how many of them libmicrohttpd may have:
 *
 *   HEAD      a request head, checked whole with sl_refuse_check_head (the check the front applies to a
 *             first head: 8 KiB and 48 fields at most, HTTP/1.x, "name: value" fields, RFC 9112 framing).
 *             Empty lines before it are passed on (RFC 9112 §2.2 lets a server ignore them). An incomplete
 *             head is held here, not passed on, until it is complete: libmicrohttpd only ever gets whole,
 *             valid heads, so it never answers a bad one (nor a head larger than its 16 KiB pool).
 *   BODY_CL   Content-Length bytes, passed on by count.
 *   CHUNKED   a chunked body, passed on as its framing checks out (sl_chunked_decode without output); a
 *             broken chunk line or an overflowing size is refused 400 (libmicrohttpd: 400 or 413, HTML).
 *   REFUSED   the bytes before the bad head or chunk were passed on; nothing after them ever is.
 *
 * The connection's owner then answers `why` (sl_refuse_send) when libmicrohttpd next wants bytes -- it has
 * by then answered every request before the bad one -- and reports end of file, so libmicrohttpd closes
 * the connection without a word of its own.
 *
 * MEMORY: a held head is malloc'd (at most SL_REFUSE_HEAD_MAX bytes per connection) and freed as soon as it
 * is complete; a connection between requests holds nothing.
 * THREADS: a tracker belongs to its connection; one thread at a time (the one reading the socket). */
#ifndef SL_API_HTTP_TRACK_H
#define SL_API_HTTP_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http/http1.h"
#include "api/http/refuse.h"

enum sl_track_state { SL_TRACK_HEAD, SL_TRACK_BODY_CL, SL_TRACK_CHUNKED, SL_TRACK_REFUSED };

struct sl_http_track {
    enum sl_track_state state;
    uint64_t left;         /* BODY_CL: body bytes still to pass on */
    struct sl_chunked ch;  /* CHUNKED: the decoder's state */
    char *held;            /* an incomplete head (malloc'd), or NULL */
    size_t held_len;
    enum sl_refusal why;   /* REFUSED: the answer owed */
};

/* A tracker at the start of a connection (zeroed, state HEAD). */
void sl_http_track_init(struct sl_http_track *t);
/* Frees the held head; t is then as after init. */
void sl_http_track_fini(struct sl_http_track *t);

/* Scans buf[0, n), the held head (if any, moved to the front of buf by sl_http_track_unhold) followed by
 * the bytes just read, and returns how many may be passed on, k <= n. The rest, buf[k, n), is either held
 * (an incomplete head: copied into t) or refused (state REFUSED, t->why set). Returns -ENOMEM when an
 * incomplete head cannot be held (nothing is passed on then; the caller refuses the connection). */
long sl_http_track_scan(struct sl_http_track *t, const char *buf, size_t n);
/* Moves the held head to buf (cap bytes) and forgets it. Returns its length, or -ENOBUFS when it does not
 * fit (it stays held). */
long sl_http_track_unhold(struct sl_http_track *t, char *buf, size_t cap);

#endif
