/* The RFC 6455 §5.1 mask check on WebSocket sockets (see api/ws/ws_mask.h), reached from the process's recv()
 * (api/http/recv_hook.c) as its fallback, for every socket that is not a followed REST connection; the first
 * sl_ws_mask_track installs it.
 *
 * STATE: one struct track per fd number below SL_WS_MASK_FDS, in a static table (zero pages until used: a
 * socket costs its 24 bytes). 'owner' is the address of the registering thread's thread-local token, NULL
 * when the fd is not tracked; recv() of any other thread, or with MSG_PEEK (api/ws/ws.c's liveness probe), is a
 * pass-through costing the one load of 'owner'. The other fields belong to the owner thread.
 *
 * STATES (of one tracked fd; scan() makes every transition)
 *
 *     HEAD --"\r\n\r\n", Upgrade header seen--> HDR <------------ 'left' payload bytes skipped ------------+
 *     (a plain request's "\r\n\r\n": HEAD)     |--header complete, MASK set, 'left' > 0--> PAYLOAD --+
 *                                               |--header complete, MASK set, 'left' = 0--> HDR
 *                                               +--second header byte with MASK clear--> FAILED (sticky)
 *
 *   HEAD     an HTTP request head, up to and including the first "\r\n\r\n"; 'got' counts how much of that
 *            terminator the last bytes matched, 'upg' how much of "\nupgrade:" (any case). With an Upgrade
 *            header the bytes after it (also in the same read) are frames; without one the request was plain
 *            HTTP (a 404 on this port) and the next bytes are another head (keep-alive, pipelining).
 *   HDR      inside a frame header: 'got' bytes of 'need' seen (need is 2 until the length byte says 2 + 0,
 *            2 or 8 length bytes + 4 mask bytes); 'left' accumulates the 16- or 64-bit length.
 *   PAYLOAD  'left' payload bytes still to come; they are not looked at.
 *   FAILED   a frame header without the mask: the bytes before it were handed over, nothing after it is.
 *
 * INVARIANTS
 *   1. The bytes recv() returned for a tracked fd are a prefix of the bytes the kernel delivered, and that
 *      prefix never contains the second byte of an unmasked frame header (the first may have gone out with
 *      an earlier read: libwebsockets cannot act on one header byte).
 *   2. A FAILED fd returns no byte again; recv() keeps draining the kernel buffer (so poll() does not spin)
 *      and reports end of file and errors as they are.
 *   3. Headers are followed across any split into reads, down to one byte per read.
 *
 * FAILURE MODES: a head libwebsockets ends otherwise than with "\r\n\r\n" is never left (its frames go
 * unchecked: fail open, never a false 1002). A plain request with a body (which this port never reads) can
 * make the body look like heads; api/ws/ws.c hangs up a plain-HTTP socket the check cut (LWS_CALLBACK_HTTP).
 * fds at or above SL_WS_MASK_FDS are not tracked. */
#include "api/ws/ws_mask.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum phase { HEAD, HDR, PAYLOAD, FAILED };

struct track {
    _Atomic(const void *) owner; /* the registering thread's &self, NULL = not tracked */
    uint8_t phase;               /* enum phase; owner thread */
    uint8_t got;                 /* HEAD: terminator bytes matched; HDR: header bytes seen */
    uint8_t need;                /* HDR: header length (2 until the second byte is seen) */
    uint8_t upg;                 /* HEAD: bytes of "\nupgrade:" matched; UPGRADE_SEEN once all were */
    uint64_t left;               /* HDR: the extended length so far; PAYLOAD: payload bytes to skip */
};

static struct track tab[SL_WS_MASK_FDS];
static _Thread_local char self;             /* its address identifies the thread */
static _Thread_local bool failures;         /* this thread's recv() failed an fd since the last take */

static struct track *mine(int fd)
{
    if (fd < 0 || fd >= SL_WS_MASK_FDS)
        return NULL;
    struct track *t = &tab[fd];
    return atomic_load_explicit(&t->owner, memory_order_acquire) == &self ? t : NULL;
}

void sl_ws_mask_track(int fd)
{
    if (fd < 0 || fd >= SL_WS_MASK_FDS)
        return;
    sl_recv_hook_fallback(sl_ws_mask_recv); /* the same value every time: the first socket installs it */
    struct track *t = &tab[fd];
    t->phase = HEAD;
    t->got = 0;
    t->need = 0;
    t->upg = 0;
    t->left = 0;
    atomic_store_explicit(&t->owner, &self, memory_order_release);
}

bool sl_ws_mask_untrack(int fd)
{
    bool failed = sl_ws_mask_failed(fd);
    if (fd >= 0 && fd < SL_WS_MASK_FDS)
        atomic_store_explicit(&tab[fd].owner, NULL, memory_order_release);
    return failed;
}

bool sl_ws_mask_failed(int fd)
{
    struct track *t = mine(fd);
    return t && t->phase == FAILED;
}

bool sl_ws_mask_take_failures(void)
{
    bool f = failures;
    failures = false;
    return f;
}

#define UPGRADE_SEEN 9 /* strlen("\nupgrade:") */

/* One byte of a request head. The head ends at the first "\r\n\r\n"; frames follow it only when it has an
 * Upgrade header (else it was plain HTTP, and what follows is the next request's head). */
static void head_byte(struct track *t, uint8_t b)
{
    static const char end[] = "\r\n\r\n", upgrade[] = "\nupgrade:";
    uint8_t lc = b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
    if (t->upg < UPGRADE_SEEN)
        t->upg = lc == (uint8_t)upgrade[t->upg] ? t->upg + 1 : lc == '\n';
    if (b == (uint8_t)end[t->got])
        t->got++;
    else
        t->got = b == '\r';
    if (t->got == 4) {
        t->phase = t->upg == UPGRADE_SEEN ? HDR : HEAD;
        t->got = 0;
        t->upg = 0;
    }
}

/* One byte of a frame header. Returns false when it is a second byte without the MASK bit. */
static bool header_byte(struct track *t, uint8_t b)
{
    if (t->got == 0) {
        t->need = 2;
        t->left = 0;
    } else if (t->got == 1) {
        if (!(b & 0x80))
            return false;
        uint8_t len = b & 0x7f;
        t->need = (uint8_t)(2 + (len == 126 ? 2 : len == 127 ? 8 : 0) + 4);
        t->left = len < 126 ? len : 0;
    } else if (t->got < t->need - 4) {
        t->left = t->left << 8 | b; /* the 16- or 64-bit length, most significant byte first */
    }
    if (++t->got == t->need) {
        t->got = 0;
        t->phase = t->left ? PAYLOAD : HDR;
    }
    return true;
}

/* Follows buf[0, n) and returns how many of its bytes may go to libwebsockets: n, or the offset of the
 * header of the first unmasked frame (then t is FAILED). */
static size_t scan(struct track *t, const uint8_t *buf, size_t n)
{
    size_t i = 0, start = 0; /* start: where the current frame header began in buf (0: in an earlier read) */
    while (i < n) {
        switch (t->phase) {
        case HEAD:
            head_byte(t, buf[i++]);
            break;
        case HDR:
            if (t->got == 0)
                start = i;
            if (!header_byte(t, buf[i])) {
                t->phase = FAILED;
                return start;
            }
            i++;
            break;
        case PAYLOAD: {
            uint64_t k = n - i < t->left ? n - i : t->left;
            i += (size_t)k;
            t->left -= k;
            if (!t->left)
                t->phase = HDR;
            break;
        }
        default:
            return 0;
        }
    }
    return n;
}

/* recv() on a FAILED fd: reads and drops, so the kernel buffer drains and end of file is seen. */
static ssize_t drop(sl_recv_fn f, int fd, void *buf, size_t len, int flags)
{
    ssize_t n = f(fd, buf, len, flags);
    if (n > 0) {
        errno = EAGAIN;
        return -1;
    }
    return n;
}

ssize_t sl_ws_mask_recv(sl_recv_fn f, int fd, void *buf, size_t len, int flags)
{
    struct track *t = (flags & MSG_PEEK) ? NULL : mine(fd);
    if (!t)
        return f(fd, buf, len, flags);
    if (t->phase == FAILED)
        return drop(f, fd, buf, len, flags);
    ssize_t n = f(fd, buf, len, flags);
    if (n <= 0)
        return n;
    size_t ok = scan(t, buf, (size_t)n);
    if (t->phase != FAILED)
        return n;
    failures = true;
    if (ok)
        return (ssize_t)ok;
    errno = EAGAIN;
    return -1;
}
