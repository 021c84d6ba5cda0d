/* The segment fd cache: at most `limit` segment files are open in the process; the least recently used
 * one is closed when another must open, and reopened on its next use (see segment.h "FD CACHE").
 *
 * The hot path (a use of a segment whose fd is open) takes no global lock: it stamps the segment with a
 * global use counter. Only opening a closed fd takes cache_mu, and then scans the open segments for the
 * closable one with the oldest stamp (opens are rare: a read of an old segment).
 *
 * INVARIANTS
 *   1. A segment's fd is open (fd >= 0) while it is used (users > 0): every use goes through
 *      sl_seg_fd_get / sl_seg_fd_put.
 *   2. Only a segment whose every byte is known to be synced (size <= synced_size) and that nobody uses is
 *      closed: a write and the fdatasync that makes it durable always go through the same open file
 *      description, so a writeback error is never lost with a closed fd.
 *   3. Segments with an open fd are on the open list exactly once (in_lru); nopen counts them.
 *
 * LOCKS: cache_mu (the list, nopen, limit) -> s->fd_mu (s->fd, s->fd_users); eviction only trylocks a
 * victim's fd_mu, so a segment's own lock may be held by its user meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>

#include "storage/err.h"
#include "storage/segment.h"

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sl_seg *lru_head, *lru_tail; /* guarded by: cache_mu; the segments with an open fd */
static unsigned nopen, limit;              /* guarded by: cache_mu; limit 0 = unlimited */
static _Atomic uint64_t uses;              /* the use counter that stamps segments */

void sl_seg_fd_limit(unsigned max_open)
{
    pthread_mutex_lock(&cache_mu);
    limit = max_open;
    pthread_mutex_unlock(&cache_mu);
}

unsigned sl_seg_fd_open_count(void)
{
    pthread_mutex_lock(&cache_mu);
    unsigned n = nopen;
    pthread_mutex_unlock(&cache_mu);
    return n;
}

static void lru_unlink(struct sl_seg *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
    __atomic_store_n(&s->in_lru, false, __ATOMIC_RELEASE);
}

static void lru_push_front(struct sl_seg *s)
{
    s->lru_prev = NULL;
    s->lru_next = lru_head;
    if (lru_head)
        lru_head->lru_prev = s;
    lru_head = s;
    if (!lru_tail)
        lru_tail = s;
    __atomic_store_n(&s->in_lru, true, __ATOMIC_RELEASE);
}

/* Closes the fd of v if it may be closed (invariant 2). Caller holds cache_mu. */
static bool try_evict(struct sl_seg *v)
{
    if (pthread_mutex_trylock(&v->fd_mu))
        return false;
    bool ok = v->fd >= 0 && v->fd_users == 0 && !v->fd_pinned &&
              sl_seg_size(v) <= __atomic_load_n(&v->synced_size, __ATOMIC_ACQUIRE);
    if (ok) {
        v->fo->close(v->fd);
        v->fd = -1;
        lru_unlink(v);
        nopen--;
    }
    pthread_mutex_unlock(&v->fd_mu);
    return ok;
}

/* The open segment other than s with the oldest stamp that may be closed now, or NULL. Holds cache_mu. */
static struct sl_seg *oldest_closable(const struct sl_seg *s)
{
    struct sl_seg *best = NULL;
    for (struct sl_seg *v = lru_head; v; v = v->lru_next)
        if (v != s && !__atomic_load_n(&v->fd_pinned, __ATOMIC_RELAXED) &&
            __atomic_load_n(&v->fd_users, __ATOMIC_RELAXED) == 0 &&
            (!best || __atomic_load_n(&v->last_use, __ATOMIC_RELAXED) < __atomic_load_n(&best->last_use, __ATOMIC_RELAXED)))
            best = v; /* peeks: try_evict checks again under the victim's lock */
    return best;
}

/* Stamps s as just used; a segment new to the open list goes on it, closing the oldest closable fds past
 * the limit. */
static void touch(struct sl_seg *s)
{
    __atomic_store_n(&s->last_use, atomic_fetch_add(&uses, 1), __ATOMIC_RELAXED);
    if (__atomic_load_n(&s->in_lru, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&cache_mu);
    if (!s->in_lru) {
        lru_push_front(s);
        nopen++;
    }
    for (int tries = 0; limit && nopen > limit && tries < 8; tries++) {
        struct sl_seg *v = oldest_closable(s);
        if (!v)
            break;
        try_evict(v);
    }
    pthread_mutex_unlock(&cache_mu);
}

int sl_seg_fd_get(struct sl_seg *s)
{
    pthread_mutex_lock(&s->fd_mu);
    if (s->fd < 0) {
        char path[4200];
        int rc = sl_seg_path(s, "log", path, sizeof path);
        s->fd = rc ? rc : s->fo->open(path, O_RDWR, 0644);
        if (s->fd < 0) {
            rc = s->fd;
            s->fd = -1;
            pthread_mutex_unlock(&s->fd_mu);
            return sl_errctx_set(rc, "reopen %s", path);
        }
    }
    __atomic_add_fetch(&s->fd_users, 1, __ATOMIC_RELAXED); /* atomic: oldest_closable peeks */
    int fd = s->fd;
    pthread_mutex_unlock(&s->fd_mu);
    touch(s);
    return fd;
}

void sl_seg_fd_put(struct sl_seg *s)
{
    pthread_mutex_lock(&s->fd_mu);
    __atomic_sub_fetch(&s->fd_users, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&s->fd_mu);
}

void sl_seg_fd_adopt(struct sl_seg *s, int fd)
{
    s->fd = fd;
    touch(s);
}

void sl_seg_fd_release(struct sl_seg *s)
{
    pthread_mutex_lock(&cache_mu);
    if (s->in_lru) {
        lru_unlink(s);
        nopen--;
    }
    pthread_mutex_unlock(&cache_mu);
    if (s->fd >= 0)
        s->fo->close(s->fd);
    s->fd = -1;
}
