/* Requests refused before they reach a route, with the same JSON error body as every other error: the one
 * table of these answers (HTTP status, Confluent error_code, message), the check of a connection's first
 * request head that the front (api/http/front.c) applies, and the front's best-effort writer.
 *
 * THE FIRST HEAD (sl_refuse_check_head) is refused when it
 *   - does not end within SL_REFUSE_HEAD_MAX bytes, or has more than SL_HTTP1_MAX_HDRS fields: 431/43101
 *     (the Confluent REST Proxy's Jetty refuses heads over 8 KiB the same way);
 *   - has a version other than HTTP/1.x: 505/505;
 *   - is not a request line and "name: value" fields (api/http/http1.h): 400/400;
 *   - frames its body ambiguously (RFC 9112 §6.3, FRAMING in api/http/http1.h): 400/400.
 * A head that does not arrive whole within rest.header.timeout.ms is answered 408/408 by the front, and one
 * that cannot be served at all (the process is out of file descriptors) 503/50003.
 *
 * THREADS: pure functions and a read-only table, any thread; sl_refuse_send uses only its fd. */
#ifndef SL_API_REFUSE_H
#define SL_API_REFUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "api/http/http1.h"

#define SL_REFUSE_HEAD_MAX 8192

enum sl_refusal {
    SL_REFUSE_MALFORMED, /* 400 */
    SL_REFUSE_FRAMING,   /* 400 */
    SL_REFUSE_TOO_LARGE, /* 431, 43101 */
    SL_REFUSE_VERSION,   /* 505 */
    SL_REFUSE_TIMEOUT,   /* 408 */
    SL_REFUSE_BUSY,      /* 503, 50003 */
};

struct sl_refuse_answer {
    unsigned status;
    int error_code;
    const char *reason;  /* the status line's reason phrase */
    const char *message; /* the JSON body's message */
};

/* The answer for r. Static lifetime; never NULL. */
const struct sl_refuse_answer *sl_refuse_get(enum sl_refusal r);

enum sl_head_check { SL_HEAD_OK, SL_HEAD_MORE, SL_HEAD_REFUSED };
/* Checks the first n bytes a connection sent (full: no more fit in the caller's buffer of at most
 * SL_REFUSE_HEAD_MAX bytes). OK: *h holds the parsed head, which is acceptable. MORE: incomplete, wait.
 * REFUSED: *why says how to answer. */
enum sl_head_check sl_refuse_check_head(const char *buf, size_t n, bool full, struct sl_http1_head *h,
                                        enum sl_refusal *why);

/* Formats the whole HTTP/1.1 response for r (JSON body, Connection: close) into buf (cap >= 512). Returns
 * its length. */
size_t sl_refuse_format(enum sl_refusal r, char *buf, size_t cap);
/* Answers r on the non-blocking socket fd without ever waiting: first reads and discards what the client
 * sent so far (so that closing does not reset the connection before the answer is read), then sends what
 * the socket buffer takes (the answer is far smaller than any socket buffer) and shuts the sending side
 * down. Does not close fd. Returns 0, or -EPIPE when the client has already closed its side (nothing to
 * linger for). */
int sl_refuse_send(int fd, enum sl_refusal r);
/* Reads and discards what is readable on fd. Returns 0 while the connection is open, or -EPIPE once the
 * client closed it or it failed. */
int sl_refuse_drain(int fd);

#endif
