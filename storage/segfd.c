/* The segment fd cache: at most `limit` segment files are open in the process; the least recently used
 * one is closed when another must open, and reopened on its next use (see segment.h "FD CACHE").
 *
 * INVARIANTS
 *   1. A segment's fd is open (fd >= 0) while it is used (users > 0): every use goes through
 *      sl_seg_fd_get / sl_seg_fd_put.
 *   2. Only a segment whose every byte is known to be synced (size <= synced_size) and that nobody uses is
 *      closed: a write and the fdatasync that makes it durable always go through the same open file
 *      description, so a writeback error is never lost with a closed fd.
 *   3. Segments with an open fd are on the LRU list (most recent first) exactly once; nopen counts them.
 *
 * LOCKS: cache_mu (the list, nopen, limit) -> s->fd_mu (s->fd, s->fd_users); eviction only trylocks a
 * victim's fd_mu, so a segment's own lock may be held by its user meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "storage/segment.h"

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sl_seg *lru_head, *lru_tail; /* guarded by: cache_mu */
static unsigned nopen, limit;              /* guarded by: cache_mu; limit 0 = unlimited */

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
    s->in_lru = false;
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
    s->in_lru = true;
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

/* Marks s most recently used, adding it when new, then closes the oldest closable fds past the limit. */
static void touch(struct sl_seg *s)
{
    pthread_mutex_lock(&cache_mu);
    if (s->in_lru) {
        if (lru_head != s) {
            lru_unlink(s);
            lru_push_front(s);
        }
    } else {
        lru_push_front(s);
        nopen++;
    }
    for (struct sl_seg *v = lru_tail; limit && nopen > limit && v;) {
        struct sl_seg *prev = v->lru_prev;
        if (v != s)
            try_evict(v);
        v = prev;
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
            return rc;
        }
    }
    s->fd_users++;
    int fd = s->fd;
    pthread_mutex_unlock(&s->fd_mu);
    touch(s);
    return fd;
}

void sl_seg_fd_put(struct sl_seg *s)
{
    pthread_mutex_lock(&s->fd_mu);
    s->fd_users--;
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
