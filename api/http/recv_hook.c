/* recv() for the process (see recv_hook.h), and the REST side of it: kept-alive connections' requests
 * checked before libmicrohttpd parses them (api/http/http_track.h). Sockets not followed here go on to the
 * installed fallback (the WebSocket mask check, api/ws/ws_mask.c, installs itself).
 *
 * HOW IT IS REACHED: the executable defines recv, so the dynamic linker binds the shared libraries' recv
 * (libmicrohttpd's) to it; the C library's comes from dlsym(RTLD_NEXT). The sanitizer runtimes define recv
 * as a weak interceptor: this strong definition wins and RTLD_NEXT returns the next one.
 *
 * A FOLLOWED READ (flags without MSG_PEEK): the held incomplete head (if any) is put at the front of the
 * caller's buffer, the kernel's bytes after it (at most len in all), and the tracker says how many the
 * caller may have. When none: EAGAIN (a head still incomplete: held; poll wakes the caller when more
 * arrives), or -- the tracker refused a request and every request before it was passed on, so the caller
 * only reads again once it has answered them -- the JSON answer is written (sl_refuse_send: drain, send,
 * shut the write side) and end of file returned, and libmicrohttpd closes the connection silently. When
 * the refusal comes after bytes that were passed on, the read side is shut at once, so that the socket
 * reads as readable (end of file) when libmicrohttpd next polls it; the answer then goes out as above.
 *
 * INVARIANT: the bytes a followed recv returns are a prefix of what the kernel delivered, minus nothing
 * in between; held bytes are returned before any later byte. */
#undef _FORTIFY_SOURCE /* recv is defined here; the fortified inline wrapper would clash */
#include "api/http/recv_hook.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "api/http/http_track.h"
#include "api/http/refuse.h"

struct followed {
    struct sl_http_track t;
    bool answered; /* the refusal was sent: from now on recv passes through (sl_refuse_send reads too) */
};

static _Atomic(struct followed *) tab[SL_RECV_HOOK_FDS];
static _Atomic(sl_recv_fn) real_recv;
static _Atomic(sl_recv_fallback_fn) fallback;

void sl_recv_hook_fallback(sl_recv_fallback_fn fn)
{
    atomic_store_explicit(&fallback, fn, memory_order_release);
}

sl_recv_fn sl_recv_next(void)
{
    sl_recv_fn f = atomic_load_explicit(&real_recv, memory_order_acquire);
    if (!f) {
        f = (sl_recv_fn)dlsym(RTLD_NEXT, "recv");
        atomic_store_explicit(&real_recv, f, memory_order_release);
    }
    return f;
}

int sl_recv_hook_http(int fd)
{
    if (fd < 0 || fd >= SL_RECV_HOOK_FDS)
        return -EBADF;
    struct followed *fl = calloc(1, sizeof *fl);
    if (!fl)
        return -ENOMEM;
    sl_http_track_init(&fl->t);
    struct followed *old = atomic_exchange_explicit(&tab[fd], fl, memory_order_acq_rel);
    if (old) { /* a socket closed without forget: its number is reused now */
        sl_http_track_fini(&old->t);
        free(old);
    }
    return 0;
}

void sl_recv_hook_forget(int fd)
{
    if (fd < 0 || fd >= SL_RECV_HOOK_FDS)
        return;
    struct followed *fl = atomic_exchange_explicit(&tab[fd], NULL, memory_order_acq_rel);
    if (fl) {
        sl_http_track_fini(&fl->t);
        free(fl);
    }
}

/* Answers the refusal the tracker decided and reports end of file. */
static ssize_t answer(struct followed *fl, int fd, enum sl_refusal why)
{
    fl->answered = true;
    sl_refuse_send(fd, why);
    return 0;
}

static ssize_t followed_recv(struct followed *fl, sl_recv_fn f, int fd, char *buf, size_t len, int flags)
{
    if (fl->t.state == SL_TRACK_REFUSED)
        return answer(fl, fd, fl->t.why);
    long h = sl_http_track_unhold(&fl->t, buf, len);
    if (h < 0)
        return answer(fl, fd, SL_REFUSE_TOO_LARGE);
    ssize_t m = f(fd, buf + h, len - (size_t)h, flags);
    if (m <= 0) {
        if (h > 0 && m < 0) { /* nothing new: hold the head again (an incomplete head is held whole) */
            int saved = errno;
            if (sl_http_track_scan(&fl->t, buf, (size_t)h) < 0)
                return answer(fl, fd, SL_REFUSE_BUSY);
            errno = saved;
        }
        return m; /* end of file mid-head: libmicrohttpd closes, having never seen the head */
    }
    long k = sl_http_track_scan(&fl->t, buf, (size_t)h + (size_t)m);
    if (k < 0)
        return answer(fl, fd, SL_REFUSE_BUSY);
    if (k > 0) {
        /* refused after good bytes: libmicrohttpd answers those first, then waits for the socket to be
         * readable -- which it would never be again, the bad bytes are read. Shutting the read side makes
         * it readable (end of file) without a word to the client; libmicrohttpd polls a connection for
         * reading only once it has answered what it has, and its next recv() gets the answer. */
        if (fl->t.state == SL_TRACK_REFUSED)
            shutdown(fd, SHUT_RD);
        return (ssize_t)k;
    }
    if (fl->t.state == SL_TRACK_REFUSED)
        return answer(fl, fd, fl->t.why);
    errno = EAGAIN;
    return -1;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    sl_recv_fn f = sl_recv_next();
    if (!(flags & MSG_PEEK) && fd >= 0 && fd < SL_RECV_HOOK_FDS) {
        struct followed *fl = atomic_load_explicit(&tab[fd], memory_order_acquire);
        if (fl && !fl->answered)
            return followed_recv(fl, f, fd, buf, len, flags);
    }
    sl_recv_fallback_fn fb = atomic_load_explicit(&fallback, memory_order_acquire);
    return fb ? fb(f, fd, buf, len, flags) : f(fd, buf, len, flags);
}
