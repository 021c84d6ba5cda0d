/* The mask-bit check of client WebSocket frames (RFC 6455 §5.1: a server MUST close the connection when a
 * client frame is not masked). libwebsockets 4.1.6 parses unmasked client frames (it even answers an unmasked
 * ping) and has no hook before its frame parser, so the process's recv() (api/http/recv_hook.h, the copy
 * libwebsockets.so binds to) hands its calls to sl_ws_mask_recv, installed as its fallback by the first
 * sl_ws_mask_track. For a socket registered here that follows
 * the byte stream as libwebsockets reads it and never hands over a frame header whose MASK bit is clear;
 * every other call (test clients, other threads) goes straight to the C library's.
 *
 * THREADS: a socket is tracked only for the thread that registered it (the WebSocket service thread, in
 * libwebsockets callbacks); recv() on the same fd from any other thread passes through untouched.
 * sl_ws_mask_untrack may run on any thread (it is one atomic store). */
#ifndef SL_API_WS_MASK_H
#define SL_API_WS_MASK_H

#include <stdbool.h>
#include <sys/types.h>

#include "api/http/recv_hook.h"

/* File descriptors from 0 to SL_WS_MASK_FDS - 1 can be tracked (the bound of libwebsockets' fd table in
 * api/ws/ws.c); sl_ws_mask_track ignores larger ones, whose frames then go unchecked. */
#define SL_WS_MASK_FDS (1 << 18)

/* Starts following fd, a socket just accepted and not yet read from: its first bytes are HTTP request heads;
 * the bytes after the first head with an Upgrade header (up to its "\r\n\r\n") are client frames. Forgets
 * whatever an earlier socket with the same number left. Call on the thread that will read fd (libwebsockets'
 * FILTER_NETWORK_CONNECTION). */
void sl_ws_mask_track(int fd);
/* Stops following fd (its recv() passes through from now on). Returns true when fd had sent an unmasked
 * frame. Call before fd is closed, so that a socket that reuses the number starts clean; a socket closed
 * without it (libwebsockets failed it before any sluice callback) leaves an entry that only the registering
 * thread would read and that the next sl_ws_mask_track of the number resets. */
bool sl_ws_mask_untrack(int fd);
/* Whether fd, tracked by this thread, sent a frame header with the MASK bit clear. Such a socket's recv()
 * hands over only the bytes before that header; from then on it reads and drops what arrives and returns
 * -1/EAGAIN (0 at end of file, the error of a failed read), so libwebsockets never sees the frame. The
 * caller closes the connection with 1002. */
bool sl_ws_mask_failed(int fd);
/* True once after this thread's recv() found one or more unmasked frames (since the previous call): the
 * service thread then looks for its sockets for which sl_ws_mask_failed holds. */
bool sl_ws_mask_take_failures(void);
/* recv(fd, buf, len, flags) through f (the C library's), with the check above when fd is tracked by this
 * thread and flags lack MSG_PEEK; a pass-through to f otherwise. The process's recv() fallback. */
ssize_t sl_ws_mask_recv(sl_recv_fn f, int fd, void *buf, size_t len, int flags);

#endif
