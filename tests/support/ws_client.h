/* A small blocking WebSocket client for integration tests, on the libwebsockets client API. Test code only.
 *
 * Each client has its own client-only lws context and is serviced only inside its own calls (connect, send,
 * recv, wait_closed), on the calling thread: a client nobody calls does not read its socket, which is how
 * tests make a slow consumer. Failures of the test's own plumbing abort with a Check assertion. */
#ifndef SL_TESTS_WS_CLIENT_H
#define SL_TESTS_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_wscl;

struct sl_wscl_opts {
    bool deflate;        /* offer permessage-deflate */
    size_t rx_buffer;    /* 0 = 64 KiB */
};

/* Connects to ws://127.0.0.1:port<path> (path includes the query) within timeout_ms. Returns the client
 * (also when the server refused or closed at once: see sl_wscl_closed), or NULL if the handshake failed. */
struct sl_wscl *sl_wscl_connect(uint16_t port, const char *path, const struct sl_wscl_opts *opts, int timeout_ms);
/* Sends one text message; services until it is written (timeout 10 s). Returns 0 or -1 (closed). */
int sl_wscl_send(struct sl_wscl *c, const char *text);
/* The next complete message (malloc'd, NUL-terminated; the caller frees), waiting up to timeout_ms; NULL on
 * timeout or when the connection closed with nothing queued. */
char *sl_wscl_recv(struct sl_wscl *c, int timeout_ms);
/* Services for up to timeout_ms or until closed; returns true when the connection is closed. Received
 * messages stay queued for sl_wscl_recv. */
bool sl_wscl_wait_closed(struct sl_wscl *c, int timeout_ms);
bool sl_wscl_closed(const struct sl_wscl *c);
/* The close code the server sent (0 = none seen, e.g. the TCP connection just dropped). */
int sl_wscl_close_code(const struct sl_wscl *c);
/* The Sec-WebSocket-Extensions the server accepted ("" when none). */
const char *sl_wscl_extensions(const struct sl_wscl *c);
/* Services the socket (reads, pongs) for ms without consuming queued messages. */
void sl_wscl_service(struct sl_wscl *c, int ms);
/* Closes (1000) and frees. NULL is fine. */
void sl_wscl_free(struct sl_wscl *c);

#endif
