/* Streaming v3 produce outside libmicrohttpd: POST /v3/clusters/{cid}/topics/{t}/records with a chunked body,
 * answered while the upload goes on -- each record's delivery report is sent as soon as the record is
 * durable, so a client may wait for a report before it sends the next record. (libmicrohttpd 0.9.75 cannot
 * start a response before the request body is complete.) api/front.c hands such a connection over when it is
 * the connection's first request; everything else stays on libmicrohttpd.
 *
 * PROTOCOL (one request per connection; the response says Connection: close):
 *   - the target is checked first (cluster, JSON Content-Type, topic); a failure is answered like the
 *     libmicrohttpd route (404/415/40401 ... with a JSON error body) and the connection closes.
 *   - "Expect: 100-continue" is answered with 100 Continue.
 *   - HTTP 200, Transfer-Encoding: chunked, Content-Type: application/json, once the first report is ready;
 *     then one report per line, in record order (the form of api/h_produce.c for several records).
 *   - a body without any record is answered 400 like the libmicrohttpd route.
 *   - broken chunked framing adds a 400 report and ends the body; a client that closes its side ends it too;
 *     rest.max.body.bytes does not apply (nothing is buffered beyond one record: max.message.bytes).
 *   - a body that sends nothing for SL_PSTREAM_IDLE_MS ends as if the client had closed it.
 *   - the reports of every record received are sent before the final chunk, also when the server stops.
 *
 * THREADS: one thread per streaming connection (they are few and long-lived), started by sl_streams_take.
 * The produce done callbacks (flusher thread) only wake it (eventfd). */
#ifndef SL_API_PRODUCE_STREAM_H
#define SL_API_PRODUCE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http1.h"
#include "api/router.h"

#define SL_PSTREAM_IDLE_MS 30000

struct sl_http_srv;
struct sl_streams;

/* The registry of streaming connections of one REST server. srv (CORS, api) must outlive it. Returns 0 and
 * *out, or -ENOMEM. */
int sl_streams_new(struct sl_http_srv *srv, size_t max_conns, struct sl_streams **out);
/* True when head (a complete request head) is a streaming produce this module serves: POST, HTTP/1.1, a
 * chunked body, and the path of the v3 records route. path gets the decoded path (cap bytes) and m the
 * route match into it. Any thread. */
bool sl_streams_wants(const struct sl_router *r, const struct sl_http1_head *head, char *path, size_t cap,
                      struct sl_route_match *m);
/* Takes the connected socket fd, whose first request head is unread in the socket, and serves it on a new
 * thread. Returns 0, or -EBUSY (at the connection limit, or stopping) / -errno, and then fd is still the
 * caller's. */
int sl_streams_take(struct sl_streams *s, int fd);
/* Ends every stream (no more body is read; reports of what was received are sent) and waits at most
 * timeout_ms for their threads. Returns the number still running. New connections are refused. */
size_t sl_streams_stop(struct sl_streams *s, int64_t timeout_ms);
/* Frees s; only after sl_streams_stop returned 0 (else s is left allocated: threads still use it). */
void sl_streams_free(struct sl_streams *s);

#endif
