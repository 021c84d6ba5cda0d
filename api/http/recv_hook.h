/* recv() for the whole process: the one place where sluice sees the bytes its libraries read from their
 * sockets, before their parsers do. libmicrohttpd 0.9.75 answers bad requests of kept-alive connections
 * itself, in HTML, with no hook for the body; the copy of recv in the executable is the one the shared
 * libraries bind to, so sluice can follow those connections' request streams (api/http/http_track.h) and
 * answer such a request with its JSON error instead (api/http/refuse.h). Every other recv() goes to the
 * fallback a higher layer installed (the WebSocket mask check, api/ws/ws_mask.h, which passes sockets it does
 * not track -- and MSG_PEEK reads -- straight to the C library's), or straight to the C library's.
 *
 * THREADS: register on any thread before the socket is first read (libmicrohttpd's NOTIFY_STARTED runs in
 * MHD_add_connection's caller, the front, before the connection's worker reads); recv() on a registered
 * socket comes from one thread at a time (libmicrohttpd's worker of that connection); unregister before the
 * socket is closed (NOTIFY_CLOSED), so that a reused number starts clean. */
#ifndef SL_API_RECV_HOOK_H
#define SL_API_RECV_HOOK_H

#include <sys/types.h>

/* Sockets numbered from 0 to SL_RECV_HOOK_FDS - 1 can be registered; larger ones are not followed (their
 * bad requests get libmicrohttpd's own answers). */
#define SL_RECV_HOOK_FDS (1 << 18)

typedef ssize_t (*sl_recv_fn)(int fd, void *buf, size_t len, int flags);
/* The C library's recv (resolved once, any thread). */
sl_recv_fn sl_recv_next(void);

/* Where recv() sends the sockets it does not follow itself: f is the C library's recv. */
typedef ssize_t (*sl_recv_fallback_fn)(sl_recv_fn f, int fd, void *buf, size_t len, int flags);
/* Installs fn as that fallback (NULL: the C library's). Any thread; takes effect for the next recv(). Set
 * it before the first socket that needs it is read. */
void sl_recv_hook_fallback(sl_recv_fallback_fn fn);

/* Follows fd, a REST connection libmicrohttpd is about to read, from the start of a request head. Returns
 * 0, or -ENOMEM / -EBADF (fd out of range): fd then passes through. */
int sl_recv_hook_http(int fd);
/* Stops following fd and frees its state. No-op when fd is not followed. */
void sl_recv_hook_forget(int fd);

#endif
