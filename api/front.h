/* The REST port's listener. It accepts each connection, looks at the head of its first request without
 * consuming it (MSG_PEEK), and hands the connection over: a chunked v3 produce to api/produce_stream.c
 * (which answers while the upload goes on), everything else to libmicrohttpd (MHD_add_connection; the
 * daemon runs without a listen socket). A connection stays with whoever got it for its whole life, so only
 * the first request of a connection can be a raw stream; a chunked produce later on a kept-alive
 * libmicrohttpd connection is still served, with its reports after the upload.
 *
 * A connection whose first head does not arrive within SL_FRONT_IDLE_MS is closed (libmicrohttpd's own
 * connection timeout is the same). A head that is malformed or larger than SL_FRONT_PEEK bytes goes to
 * libmicrohttpd, which answers it.
 *
 * THREADS: one thread runs accept and classification; start/stop from the REST server's thread. */
#ifndef SL_API_FRONT_H
#define SL_API_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "api/router.h"

#define SL_FRONT_PEEK 8192
#define SL_FRONT_IDLE_MS 30000

struct MHD_Daemon;
struct sl_front;
struct sl_streams;

/* What to do with a connection, given the first n bytes it sent (full: the peek buffer is full). */
enum sl_front_kind { SL_FRONT_MORE, SL_FRONT_MHD, SL_FRONT_STREAM };
enum sl_front_kind sl_front_classify(const struct sl_router *r, const char *buf, size_t n, bool full);

/* Binds addr (SO_REUSEADDR; port 0 = ephemeral), listens and starts the thread. At most max_wait connections
 * wait here for their head; beyond that they go to libmicrohttpd at once (which applies its connection
 * limit). d, streams and r are borrowed and must outlive the front. Returns 0 and *out, or -errno. */
int sl_front_start(const struct sockaddr *addr, socklen_t len, int backlog, size_t max_wait, struct MHD_Daemon *d,
                   struct sl_streams *streams, const struct sl_router *r, struct sl_front **out);
/* The bound port. */
uint16_t sl_front_port(const struct sl_front *f);
/* Stops accepting, closes connections not yet handed over, joins the thread and frees f. NULL is a no-op. */
void sl_front_stop(struct sl_front *f);

#endif
