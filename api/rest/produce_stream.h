/* Streaming v3 produce outside libmicrohttpd: POST /v3/clusters/{cid}/topics/{t}/records with a chunked body,
 * answered while the upload goes on -- each record's delivery report is sent as soon as the record is
 * durable, so a client may wait for a report before it sends the next record. (libmicrohttpd 0.9.75 cannot
 * start a response before the request body is complete.) api/http/front.c hands such a connection over when it is
 * the connection's first request; everything else stays on libmicrohttpd.
 *
 * PROTOCOL (one request per connection; the response says Connection: close):
 *   - the target is checked first (cluster, JSON Content-Type, topic); a failure is answered like the
 *     libmicrohttpd route (404/415/40401 ... with a JSON error body) and the connection closes.
 *   - "Expect: 100-continue" is answered with 100 Continue.
 *   - HTTP 200, Transfer-Encoding: chunked, Content-Type: application/json, once the first report is ready;
 *     then one report per line, in record order (the form of api/rest/h_produce.c for several records).
 *   - a body without any record is answered 400 like the libmicrohttpd route.
 *   - broken chunked framing adds a 400 report and ends the body; a client that closes its side ends it too;
 *     rest.max.body.bytes does not apply (nothing is buffered beyond one record: max.message.bytes; that
 *     buffer is charged to the buffer budget, api/common/budget.h).
 *   - DEADLINES: between records, a stream that completes no record and starts none for idle_ms
 *     (rest.idle.timeout.ms) ends as if the client had closed it (the reports so far, then the final chunk;
 *     whitespace or empty chunks do not count as activity); a record once started must be complete within
 *     body_ms (rest.body.timeout.ms), else a 408 report ends the stream ("Record not completed within ...").
 *   - the reports of every record received are sent before the final chunk, also when the server stops.
 *   - at most max_streams streams at once (rest.max.streams); one more is answered 503
 *     {"error_code":50303,...} with Retry-After: 1 and Connection: close, on the accepting thread, without
 *     blocking (the head, already in the socket, is read first so that closing does not reset the answer).
 *
 * THREADS: one thread per stream, at most max_streams of them, started by sl_streams_take: streams are long
 * lived and each waits in poll() on its socket and an eventfd, so a thread is the simplest correct shape,
 * and the cap bounds the threads and their stacks (an epoll pool would need every stage below made
 * resumable, for no gain at 64 streams). The produce done callbacks (flusher thread) only wake a stream
 * (eventfd). */
#ifndef SL_API_PRODUCE_STREAM_H
#define SL_API_PRODUCE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http/http1.h"
#include "api/http/router.h"

struct sl_http_srv;
struct sl_streams;

struct sl_streams_cfg {
    size_t max_streams;                  /* rest.max.streams, >= 1 */
    int64_t header_ms, body_ms, idle_ms; /* rest.header/body/idle.timeout.ms, > 0 */
};

/* The registry of streaming connections of one REST server. srv (CORS, api) must outlive it; cfg is copied.
 * Returns 0 and *out, or -ENOMEM. */
int sl_streams_new(struct sl_http_srv *srv, const struct sl_streams_cfg *cfg, struct sl_streams **out);
/* Takes the connected socket fd, whose first request head is unread in the socket, and serves it on a new
 * thread; at max_streams it answers 503/50303 itself and closes fd (returns 0 too). Returns 0, or -EBUSY
 * (stopping) / -errno, and then fd is still the caller's. */
int sl_streams_take(struct sl_streams *s, int fd);
/* Ends every stream (no more body is read; reports of what was received are sent) and waits at most
 * timeout_ms for their threads. Returns the number still running. New connections are refused. */
size_t sl_streams_stop(struct sl_streams *s, int64_t timeout_ms);
/* Frees s; only after sl_streams_stop returned 0 (else s is left allocated: threads still use it). */
void sl_streams_free(struct sl_streams *s);

#endif
