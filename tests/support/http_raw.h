/* Raw HTTP/1.1 over a TCP socket, for tests that send what curl will not (broken heads, trickled bytes,
 * conflicting framing) and read the answer byte-exactly. Test code only; failures are reported, not
 * asserted, so that a test can say what it expected. */
#ifndef SL_TESTS_HTTP_RAW_H
#define SL_TESTS_HTTP_RAW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct sl_raw_resp {
    int status;          /* 0: no status line arrived */
    char head[8192];     /* the response head, NUL-terminated */
    char *body;          /* malloc'd, NUL-terminated; by Content-Length, else up to EOF */
    size_t body_len;
};

/* Sends n bytes of p (blocking). Returns 0, or -1 when the peer is gone. */
int sl_raw_send_fd(int fd, const void *p, size_t n);
/* Reads one response within ms. Returns 0 (*out filled; free with sl_raw_resp_fini), or -1 on timeout or
 * EOF before a whole response. */
int sl_raw_read(int fd, int ms, struct sl_raw_resp *out);
void sl_raw_resp_fini(struct sl_raw_resp *r);
/* The body as JSON, or NULL. The caller decrefs. */
json_t *sl_raw_json(const struct sl_raw_resp *r);
/* Connects to 127.0.0.1:port, sends req (NUL-terminated), reads one response (5 s) into *out. Returns the
 * connected fd (the caller closes it), or -1 when no response came (out->status is 0 then). */
int sl_raw_exchange(unsigned port, const char *req, struct sl_raw_resp *out);

#endif
