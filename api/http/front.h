/* The REST port's listener. It accepts each connection, looks at the head of its first request without
 * consuming it (MSG_PEEK), and hands the connection over: a chunked POST to a route flagged SL_ROUTE_STREAM
 * to the stream taker it was given (the v3 produce, api/rest/produce_stream.c, which answers while the upload
 * goes on), everything else to libmicrohttpd (MHD_add_connection; the
 * daemon runs without a listen socket). A connection stays with whoever got it for its whole life, so only
 * the first request of a connection can be a raw stream; a chunked produce later on a kept-alive
 * libmicrohttpd connection is still served, with its reports after the upload.
 *
 * The first head is checked here (api/http/refuse.h) so that libmicrohttpd, whose own error answers are HTML,
 * never has to refuse it: a head that is malformed, frames its body ambiguously, uses another HTTP version
 * or does not end within SL_FRONT_PEEK bytes is answered here with a JSON error (400, 505, 431) and the
 * connection closed; so is a head that does not arrive whole within the header timeout (408). Answers are
 * written without blocking, best effort; a refused connection lingers (reading and discarding) for at most
 * SL_FRONT_LINGER_MS so that closing it does not reset the answer away.
 *
 * FILE DESCRIPTORS: when accept fails for want of descriptors (EMFILE, ENFILE), the front gives up a reserve
 * descriptor (an open /dev/null) to accept and answer one waiting client 503/50003 at a time (shedding the
 * backlog), stops polling the listen socket for SL_FRONT_PAUSE_MS, and logs one line per
 * SL_FRONT_LOG_EVERY_MS with the number of failures in between.
 *
 * THREADS: one thread runs accept and classification; start/stop from the REST server's thread. */
#ifndef SL_API_FRONT_H
#define SL_API_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "api/http/refuse.h"
#include "api/http/router.h"

#define SL_FRONT_PEEK 8192        /* = SL_REFUSE_HEAD_MAX: the largest first head */
#define SL_FRONT_LINGER_MS 1000   /* a refused connection is closed after this at the latest */
#define SL_FRONT_PAUSE_MS 100     /* the listen socket rests this long after running out of descriptors */
#define SL_FRONT_LOG_EVERY_MS 5000

struct MHD_Daemon;
struct sl_front;

/* Who serves connections whose first request is a stream (see above). take owns fd when it returns 0;
 * otherwise fd stays the caller's (libmicrohttpd then serves the request, its reports after the upload).
 * Called on the front's thread. */
struct sl_front_streams {
    int (*take)(void *ctx, int fd);
    void *ctx;
};

/* True when head (a complete request head) is a stream: POST, HTTP/1.1, a chunked body, and a path (its
 * query cut, percent-decoded into path, cap bytes) that matches a route flagged SL_ROUTE_STREAM (m, into
 * path). Any thread. */
bool sl_front_is_stream(const struct sl_router *r, const struct sl_http1_head *head, char *path, size_t cap,
                        struct sl_route_match *m);

/* What to do with a connection, given the first n bytes it sent (full: the peek buffer is full). REFUSE:
 * answer *why (api/http/refuse.h) and close. */
enum sl_front_kind { SL_FRONT_MORE, SL_FRONT_MHD, SL_FRONT_STREAM, SL_FRONT_REFUSE };
enum sl_front_kind sl_front_classify(const struct sl_router *r, const char *buf, size_t n, bool full,
                                     enum sl_refusal *why);

/* Binds addr (SO_REUSEADDR; port 0 = ephemeral), listens and starts the thread. At most max_wait connections
 * wait here for their head; beyond that they are answered 503 (libmicrohttpd applies the same limit).
 * A first head must arrive whole within header_timeout_ms. d, streams' ctx and r are borrowed and must
 * outlive the front (streams itself is copied). Returns 0 and *out, or -errno. */
int sl_front_start(const struct sockaddr *addr, socklen_t len, int backlog, size_t max_wait,
                   int64_t header_timeout_ms, struct MHD_Daemon *d, const struct sl_front_streams *streams,
                   const struct sl_router *r, struct sl_front **out);
/* The bound port. */
uint16_t sl_front_port(const struct sl_front *f);
/* Stops accepting, closes connections not yet handed over, joins the thread and frees f. NULL is a no-op. */
void sl_front_stop(struct sl_front *f);

#endif
