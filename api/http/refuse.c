/* Refusals before routing (api/http/refuse.h).
 *
 * The answers are formatted from the table, never built with jansson: the front thread must not allocate
 * per refused connection, and the messages are fixed ASCII without characters JSON would escape. */
#include "api/http/refuse.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

static const struct sl_refuse_answer answers[] = {
    [SL_REFUSE_MALFORMED] = {400, 400, "Bad Request", "Bad Request: the request head is malformed."},
    [SL_REFUSE_FRAMING] = {400, 400, "Bad Request",
                           "Bad Request: ambiguous message framing (conflicting Content-Length, Content-Length "
                           "with Transfer-Encoding, or a transfer coding other than chunked)."},
    [SL_REFUSE_TOO_LARGE] = {431, 43101, "Request Header Fields Too Large",
                             "Request header fields too large: the request head is limited to 8192 bytes "
                             "and 48 fields."},
    [SL_REFUSE_VERSION] = {505, 505, "HTTP Version Not Supported", "HTTP version not supported: use HTTP/1.1."},
    [SL_REFUSE_TIMEOUT] = {408, 408, "Request Timeout",
                           "Request timeout: the request head did not arrive within rest.header.timeout.ms."},
    [SL_REFUSE_BUSY] = {503, 50003, "Service Unavailable", "Too many connections; retry."},
};

const struct sl_refuse_answer *sl_refuse_get(enum sl_refusal r)
{
    if ((size_t)r >= sizeof answers / sizeof answers[0])
        r = SL_REFUSE_MALFORMED;
    return &answers[r];
}

enum sl_head_check sl_refuse_check_head(const char *buf, size_t n, bool full, struct sl_http1_head *h,
                                        enum sl_refusal *why)
{
    int rc = sl_http1_parse_head(buf, n, h);
    if (rc == 0 && !full)
        return SL_HEAD_MORE;
    if (rc == 0)
        *why = SL_REFUSE_TOO_LARGE;
    else if (rc < 0)
        *why = h->error == SL_HTTP1_VERSION    ? SL_REFUSE_VERSION
               : h->error == SL_HTTP1_TOO_MANY ? SL_REFUSE_TOO_LARGE
                                               : SL_REFUSE_MALFORMED;
    else if (!sl_http1_head_framing_ok(h))
        *why = SL_REFUSE_FRAMING;
    else
        return SL_HEAD_OK;
    return SL_HEAD_REFUSED;
}

size_t sl_refuse_format(enum sl_refusal r, char *buf, size_t cap)
{
    const struct sl_refuse_answer *a = sl_refuse_get(r);
    char body[384];
    int bn = snprintf(body, sizeof body, "{\"error_code\":%d,\"message\":\"%s\"}", a->error_code, a->message);
    int n = snprintf(buf, cap,
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n%s",
                     a->status, a->reason, bn, body);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

int sl_refuse_drain(int fd)
{
    char scratch[4096];
    for (int i = 0; i < 64; i++) { /* at most 256 KiB a call: a fast sender cannot hold the thread */
        ssize_t r = recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return -EPIPE;
        if (r < 0)
            return 0;
    }
    return 0;
}

int sl_refuse_send(int fd, enum sl_refusal r)
{
    char out[1024];
    size_t n = sl_refuse_format(r, out, sizeof out);
    int rc = sl_refuse_drain(fd);
    ssize_t w = send(fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)w; /* best effort: a client that does not read its answer does not get it whole */
    shutdown(fd, SHUT_WR);
    return rc;
}
