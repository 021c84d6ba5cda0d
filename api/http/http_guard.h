/* The checks a request's head gets before it is routed, for the requests libmicrohttpd parses itself (the
 * second and later requests of a kept-alive connection; the first one was checked by the front,
 * api/http/front.c): RFC 9112 §6.3 framing (api/http/http1.h FRAMING), field names without whitespace and the 8 KiB
 * head limit (api/http/refuse.h), so that a request is refused the same way whichever request of its connection
 * it is.
 *
 * THREADS: a libmicrohttpd pool thread, in the access handler's first call for the request. */
#ifndef SL_API_HTTP_GUARD_H
#define SL_API_HTTP_GUARD_H

struct sl_req;

/* Checks req's head; version is the access handler's ("HTTP/1.1"). Returns 0 when it may go on, or -EPROTO when it was refused: the JSON answer (400 or
 * 431, as api/http/refuse.h) is queued with Connection: close, and the handler returns. */
int sl_http_guard_head(struct sl_req *req, const char *version);

#endif
