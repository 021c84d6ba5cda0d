/* Raw HTTP/1.1 over a plain socket, for tests that need what libcurl cannot express: trickled heads and
 * bodies, kept-alive connections that stay silent, streams answered while the upload is open. Test code
 * only; failures abort the test (Check assertions). */
#ifndef SL_TESTS_RAWHTTP_H
#define SL_TESTS_RAWHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_raw {
    int fd;
    char buf[1 << 16]; /* everything received so far, NUL-terminated */
    size_t len;
    bool eof;          /* the server closed (or reset) the connection */
};

/* Connects to 127.0.0.1:port (blocking socket). */
void sl_raw_open(struct sl_raw *c, uint16_t port);
/* Connects like sl_raw_open, but returns false instead of aborting when the connection is refused. */
bool sl_raw_try_open(struct sl_raw *c, uint16_t port);
void sl_raw_close(struct sl_raw *c);
/* Sends s; returns false when the server already closed the connection (EPIPE, ECONNRESET). */
bool sl_raw_send(struct sl_raw *c, const char *s);
/* Sends one HTTP chunk holding data. */
bool sl_raw_chunk(struct sl_raw *c, const char *data);
/* Reads until needle is in what was received (true), EOF or timeout_ms (false). needle NULL: until EOF
 * (true) or timeout (false). */
bool sl_raw_wait(struct sl_raw *c, const char *needle, int timeout_ms);
/* Reads what is there without waiting; true when the server has closed the connection. */
bool sl_raw_closed(struct sl_raw *c);

#endif
