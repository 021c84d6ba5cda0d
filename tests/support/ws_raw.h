/* A raw-TCP WebSocket client for integration tests that need frames the project's client (ws_client.h, on
 * libwebsockets) cannot produce: oversized control frames, announced lengths never sent, messages trickled
 * byte by byte, upgrades never finished. Test code only; plumbing failures abort with Check assertions.
 *
 * Frames are sent with an all-zero mask key (allowed by RFC 6455), so payload bytes can be sent later with
 * sl_wsraw_bytes exactly as they are. Reading answers pings with pongs and records the close frame. */
#ifndef SL_TESTS_WS_RAW_H
#define SL_TESTS_WS_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_wsraw;

/* Connects to 127.0.0.1:port and upgrades path (with the query); asserts a 101. */
struct sl_wsraw *sl_wsraw_connect(uint16_t port, const char *path);
/* Like sl_wsraw_connect, but the n bytes at after (frames, say) go in the same send() as the upgrade request,
 * so the server reads them with its head. */
struct sl_wsraw *sl_wsraw_connect_with(uint16_t port, const char *path, const void *after, size_t n);
/* Sends one frame header: first byte b0 (FIN bit | opcode), payload length 'announce', zero mask; then the
 * first n bytes of payload (n may be less than announce: the rest is sent later, or never). Returns 0, or -1
 * when the server no longer takes bytes (closed, or nothing accepted within 2 s). */
int sl_wsraw_frame(struct sl_wsraw *r, uint8_t b0, uint64_t announce, const void *payload, size_t n);
/* Sends raw bytes (more payload of a frame sent before). Same returns. */
int sl_wsraw_bytes(struct sl_wsraw *r, const void *p, size_t n);
/* Reads for up to ms (answering pings); returns the next text message (malloc'd, NUL-terminated), or NULL
 * on timeout or when the connection closed. */
char *sl_wsraw_text(struct sl_wsraw *r, int ms);
/* Reads (answering pings, dropping messages) until the connection closes or ms pass; true when closed. */
bool sl_wsraw_wait_closed(struct sl_wsraw *r, int ms);
/* The code of the server's close frame; 0 when none came (the TCP connection just ended). */
int sl_wsraw_close_code(const struct sl_wsraw *r);
/* True once a pong for one of the client's pings arrived. */
bool sl_wsraw_ponged(const struct sl_wsraw *r);
/* The socket, for tests that watch the TCP connection itself (sl_tcp_wait_eof). */
int sl_wsraw_fd(const struct sl_wsraw *r);
void sl_wsraw_free(struct sl_wsraw *r);

/* Sends a WebSocket upgrade request for path to 127.0.0.1:port with exactly the given header lines after the
 * request line ("Name: value\r\n"..., without the final empty line), and reads the response until the server
 * closes, the head of a 101 arrived, or 5 s pass. Returns it (malloc'd, NUL-terminated). */
char *sl_ws_upgrade_raw(uint16_t port, const char *path, const char *headers);
/* The standard headers of a valid upgrade (Host, Upgrade, Connection, Key, Version 13, Protocol), for
 * sl_ws_upgrade_raw. */
#define SL_WS_UPGRADE_HEADERS                                                                                    \
    "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"                                          \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sluice.v1\r\n"

/* A plain TCP connection to 127.0.0.1:port (no upgrade), or an assertion. */
int sl_tcp_connect(uint16_t port);
/* True when the peer closed fd (EOF or reset) within ms; data that arrives is dropped. */
bool sl_tcp_wait_eof(int fd, int ms);

#endif
