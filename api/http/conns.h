/* Deadlines of libmicrohttpd's connections: libmicrohttpd 0.9.75 only knows an idle timeout that every byte
 * resets, so a client trickling one byte every few seconds holds its connection (and a slot of
 * rest.max.connections) forever. This module keeps one record per connection, knows which phase the
 * connection is in, and a sweeper thread ends connections that overstay their phase.
 *
 * PHASES (one connection; transitions under the record's mutex)
 *
 *   HEAD --head_done--> BODY --body_done--> BUSY --request_done--> IDLE --first byte seen--> HEAD
 *     |                   |                                          |
 *     +-- overdue: 408 ---+-- overdue: 408 (none if already replied) +-- overdue: closed silently
 *                         v
 *                      CLOSING --linger over--> read side shut too (libmicrohttpd closes the connection)
 *
 *   HEAD   from the connection's start (a head the front could not see whole yet) or from the first byte
 *          after the previous request ended; deadline rest.header.timeout.ms.
 *   BODY   from the end of the head to the handler's call; deadline rest.body.timeout.ms.
 *   BUSY   the handler runs, waits (a suspended long poll: its own `timeout` rules) or the reply is sent:
 *          no deadline here (libmicrohttpd's own timeout still ends a reply nobody reads).
 *   IDLE   keep-alive, nothing in progress; deadline rest.idle.timeout.ms.
 *
 * HOW A CONNECTION IS ENDED: libmicrohttpd owns the socket and cannot queue a response in the middle of a
 * body, so the sweeper writes the 408 itself (no response is in progress in HEAD, or in BODY before any
 * reply: libmicrohttpd writes nothing then) and shuts the socket's write side; LINGER_MS later (or at once
 * for IDLE) it shuts the read side too. libmicrohttpd then reads end-of-file and closes the connection
 * from its own thread, completing the request as usual.
 *
 * THREADS: open/close/head_done/body_done/request_done run on libmicrohttpd's threads (its connection
 * callbacks and the access handler); the sweeper is this module's own thread. A record lives from open to
 * close; libmicrohttpd closes the socket only after close returned, and close waits for a running sweep,
 * so the sweeper never touches a socket number that was reused. */
#ifndef SL_API_CONNS_H
#define SL_API_CONNS_H

#include <stdbool.h>
#include <stdint.h>

struct sl_conns;
struct sl_conn;

struct sl_conns_cfg {
    int64_t header_ms, body_ms, idle_ms; /* rest.header/body/idle.timeout.ms, each > 0 */
};

/* Starts the sweeper. Returns 0 and *out, or -errno. */
int sl_conns_start(const struct sl_conns_cfg *cfg, struct sl_conns **out);
/* Joins the sweeper and frees cs. Every record must have been closed (libmicrohttpd stopped). NULL: no-op. */
void sl_conns_stop(struct sl_conns *cs);

/* A connection started (MHD_CONNECTION_NOTIFY_STARTED) on socket fd: returns its record (phase HEAD), or
 * NULL when out of memory (the connection then has no deadlines). */
struct sl_conn *sl_conns_open(struct sl_conns *cs, int fd);
/* The connection closed (MHD_CONNECTION_NOTIFY_CLOSED), before libmicrohttpd closes fd. Frees c; NULL: no-op. */
void sl_conns_close(struct sl_conns *cs, struct sl_conn *c);

/* Phase transitions, from the access handler / completion callback of the connection's request. NULL c:
 * no-op. */
void sl_conn_head_done(struct sl_conn *c);
void sl_conn_body_done(struct sl_conn *c);
void sl_conn_request_done(struct sl_conn *c);
/* True once the sweeper answered 408 on c (for the request's metrics). */
bool sl_conn_timed_out(struct sl_conn *c);

/* Connections ended by each deadline since the process started, all servers together (for /metrics). Any
 * thread. */
struct sl_conns_stats {
    uint64_t header, body, idle;
};
void sl_conns_stats(struct sl_conns_stats *out);

#endif
