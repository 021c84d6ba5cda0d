/* One segment: the .log file plus its indexes (see segment.h).
 *
 * FAILURE MODES: file errors are returned as -errno and change nothing in memory (a failed append leaves
 *   size and next as they were; the log then goes FAILED). A header that does not parse while walking
 *   yields SL_ECORRUPT (only possible if the index points into the middle of a batch). */
#include "storage/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/err.h"

#define WALK_CHUNK 4096

void sl_seg_name(sl_offset_t base, const char *ext, char *buf, size_t n)
{
    snprintf(buf, n, "%020" PRId64 ".%s", base, ext);
}

int sl_seg_path(const struct sl_seg *s, const char *ext, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s.%s", s->prefix, ext);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int seg_alloc(const struct sl_fileops *fo, const char *dir, sl_offset_t base, struct sl_seg **out)
{
    struct sl_seg *s = calloc(1, sizeof *s);
    size_t plen = strlen(dir) + SL_SEG_NAME_LEN + 2;
    if (!s || !(s->prefix = malloc(plen))) {
        free(s);
        return -ENOMEM;
    }
    snprintf(s->prefix, plen, "%s/%020" PRId64, dir, base);
    s->fo = fo;
    s->base = base;
    s->next = base;
    s->max_ts = INT64_MIN;
    s->refs = 1;
    s->fd = -1;
    pthread_mutex_init(&s->fd_mu, NULL);
    pthread_mutex_init(&s->idx_mu, NULL);
    sl_idx_init(&s->idx);
    *out = s;
    return 0;
}

int sl_seg_open(const struct sl_fileops *fo, const char *dir, sl_offset_t base, bool create,
                struct sl_seg **out)
{
    struct sl_seg *s;
    char path[4200];
    int rc = seg_alloc(fo, dir, base, &s);
    if (rc)
        return rc;
    rc = sl_seg_path(s, "log", path, sizeof path);
    if (rc)
        goto err_free;
    int fd = fo->open(path, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR, 0644);
    if (fd < 0) {
        rc = sl_errctx_set(fd, "%s %s", create ? "create" : "open", path);
        goto err_free;
    }
    sl_seg_fd_adopt(s, fd);
    if (!create && (rc = fo->fsize(fd, &s->size))) {
        sl_errctx_set(rc, "size of %s", path);
        goto err_free;
    }
    if (create) /* index files left by an older segment of the same base would be stale */
        for (int i = 0; i < 2 && rc == 0; i++) {
            rc = sl_seg_path(s, i ? "timeindex" : "index", path, sizeof path);
            if (rc == 0 && (rc = fo->unlink(path)) == -ENOENT)
                rc = 0;
        }
    if (rc)
        goto err_free;
    __atomic_store_n(&s->synced_size, s->size, __ATOMIC_RELEASE);
    *out = s;
    return 0;
err_free:
    sl_seg_unref(s);
    return rc;
}

void sl_seg_ref(struct sl_seg *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void sl_seg_unref(struct sl_seg *s)
{
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    sl_seg_fd_release(s);
    sl_idx_fini(&s->idx);
    pthread_mutex_destroy(&s->idx_mu);
    pthread_mutex_destroy(&s->fd_mu);
    free(s->prefix);
    free(s);
}

int sl_seg_note_batch(struct sl_seg *s, const struct sl_batch_hdr *h, uint64_t n, uint32_t interval)
{
    uint64_t pos = s->size;
    uint32_t rel = (uint32_t)(h->base_offset - s->base);
    int64_t max_ts = s->max_ts > h->max_timestamp ? s->max_ts : h->max_timestamp;
    int rc = 0;
    if (s->since_index >= interval) {
        pthread_mutex_lock(&s->idx_mu);
        struct sl_index *x = &s->idx;
        if (x->n == 0 || rel > x->e[x->n - 1].rel) {
            rc = sl_idx_add(x, rel, (uint32_t)pos);
            if (rc == 0 && max_ts > sl_idx_last_ts(x))
                rc = sl_idx_tadd(x, max_ts, rel);
        }
        pthread_mutex_unlock(&s->idx_mu);
        if (rc)
            return rc;
        s->since_index = 0;
    }
    s->since_index += n;
    __atomic_store_n(&s->max_ts, max_ts, __ATOMIC_RELEASE);
    __atomic_store_n(&s->size, pos + n, __ATOMIC_RELEASE);
    __atomic_store_n(&s->next, h->base_offset + h->last_offset_delta + 1, __ATOMIC_RELEASE);
    return 0;
}

int sl_seg_append(struct sl_seg *s, const uint8_t *p, size_t n, const struct sl_batch_hdr *h, uint32_t interval)
{
    int fd = sl_seg_fd_get(s);
    if (fd < 0)
        return fd;
    int rc = s->fo->pwrite(fd, p, n, s->size);
    if (rc == 0) /* noted before the put: the new size keeps the fd open until it is synced */
        rc = sl_seg_note_batch(s, h, n, interval);
    sl_seg_fd_put(s);
    return rc;
}

ssize_t sl_seg_read(struct sl_seg *s, uint64_t pos, void *buf, size_t n)
{
    int fd = sl_seg_fd_get(s);
    if (fd < 0)
        return fd;
    size_t got = 0;
    ssize_t r = 0;
    while (got < n) {
        r = s->fo->pread(fd, (uint8_t *)buf + got, n - got, pos + got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    sl_seg_fd_put(s);
    if (r < 0) {
        char path[4200];
        if (sl_seg_path(s, "log", path, sizeof path))
            path[0] = '\0';
        return sl_errctx_set((int)r, "read %s at %" PRIu64, path, pos + got);
    }
    return (ssize_t)got;
}

int sl_seg_file_size(struct sl_seg *s, uint64_t *len)
{
    int fd = sl_seg_fd_get(s);
    if (fd < 0)
        return fd;
    int rc = s->fo->fsize(fd, len);
    sl_seg_fd_put(s);
    return rc;
}

int sl_seg_file_truncate(struct sl_seg *s, uint64_t len)
{
    int fd = sl_seg_fd_get(s);
    if (fd < 0)
        return fd;
    int rc = s->fo->ftruncate(fd, len);
    sl_seg_fd_put(s);
    return rc;
}

void sl_seg_locate(struct sl_seg *s, sl_offset_t off, uint64_t *pos, sl_offset_t *base_at)
{
    struct sl_idx_entry e;
    uint32_t rel = off - s->base > UINT32_MAX ? UINT32_MAX : (uint32_t)(off - s->base);
    pthread_mutex_lock(&s->idx_mu);
    bool found = off >= s->base && sl_idx_lookup(&s->idx, rel, &e);
    pthread_mutex_unlock(&s->idx_mu);
    *pos = found ? e.pos : 0;
    *base_at = found ? s->base + e.rel : s->base;
}

int sl_seg_scan(struct sl_seg *s, uint64_t pos, uint64_t end, bool (*stop)(const struct sl_batch_hdr *, void *),
                void *arg, uint64_t *pos_out, struct sl_batch_hdr *h_out)
{
    uint8_t buf[WALK_CHUNK];
    uint64_t buf_pos = 0, buf_len = 0;
    while (pos < end) {
        if (pos < buf_pos || pos + SL_BATCH_HEADER_SIZE > buf_pos + buf_len) {
            size_t want = end - pos < sizeof buf ? (size_t)(end - pos) : sizeof buf;
            ssize_t r = sl_seg_read(s, pos, buf, want);
            if (r < 0)
                return (int)r;
            buf_pos = pos;
            buf_len = (uint64_t)r;
            if (buf_len < SL_BATCH_HEADER_SIZE) {
                *pos_out = pos;
                return SL_ECORRUPT;
            }
        }
        struct sl_batch_hdr h;
        int rc = sl_batch_hdr_decode(buf + (pos - buf_pos), SL_BATCH_HEADER_SIZE, &h);
        if (rc == 0 && (h.length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD || h.last_offset_delta < 0 ||
                        h.magic != SL_BATCH_MAGIC))
            rc = SL_ECORRUPT;
        if (rc) {
            *pos_out = pos;
            return rc;
        }
        if (stop(&h, arg)) {
            *pos_out = pos;
            *h_out = h;
            return 0;
        }
        pos += (uint64_t)h.length + SL_BATCH_LOG_OVERHEAD;
    }
    *pos_out = pos;
    return 1;
}

struct replay {
    struct sl_seg *s;
    uint32_t interval;
    int rc;
};

static bool on_replay(const struct sl_batch_hdr *h, void *arg)
{
    struct replay *r = arg;
    r->rc = sl_seg_note_batch(r->s, h, (uint64_t)h->length + SL_BATCH_LOG_OVERHEAD, r->interval);
    return r->rc != 0;
}

int sl_seg_truncate(struct sl_seg *s, uint64_t pos, sl_offset_t next, uint32_t interval)
{
    int rc = sl_seg_file_truncate(s, pos);
    if (rc)
        return rc;
    struct sl_idx_entry e = {0, 0};
    pthread_mutex_lock(&s->idx_mu);
    sl_idx_truncate(&s->idx, (uint32_t)(next - s->base), pos);
    bool have = s->idx.n > 0;
    if (have)
        e = s->idx.e[s->idx.n - 1];
    int64_t last_ts = sl_idx_last_ts(&s->idx);
    pthread_mutex_unlock(&s->idx_mu);
    /* Rewind to the last kept index entry, then replay the headers up to the cut. */
    __atomic_store_n(&s->size, (uint64_t)e.pos, __ATOMIC_RELEASE);
    __atomic_store_n(&s->next, s->base + e.rel, __ATOMIC_RELEASE);
    __atomic_store_n(&s->max_ts, have ? last_ts : INT64_MIN, __ATOMIC_RELEASE);
    s->since_index = 0;
    struct replay r = {s, interval, 0};
    uint64_t end_pos;
    struct sl_batch_hdr h;
    rc = sl_seg_scan(s, e.pos, pos, on_replay, &r, &end_pos, &h);
    if (rc == 0)
        return r.rc ? r.rc : SL_ECORRUPT;
    if (rc < 0)
        return rc;
    if (pos == 0)
        s->first_append_ms = 0;
    return sl_seg_write_index(s);
}

int sl_seg_sync(struct sl_seg *s)
{
    int fd = sl_seg_fd_get(s);
    if (fd < 0)
        return fd;
    int rc = s->fo->fdatasync(fd);
    sl_seg_fd_put(s);
    return rc;
}

int sl_seg_write_index(struct sl_seg *s)
{
    char ip[4200], tp[4200];
    int rc = sl_seg_path(s, "index", ip, sizeof ip);
    if (rc == 0)
        rc = sl_seg_path(s, "timeindex", tp, sizeof tp);
    if (rc)
        return rc;
    if (s->damaged) {
        for (int i = 0; i < 2 && rc == 0; i++)
            if ((rc = s->fo->unlink(i ? tp : ip)) == -ENOENT)
                rc = 0;
        return rc;
    }
    pthread_mutex_lock(&s->idx_mu);
    rc = sl_idx_write(&s->idx, s->fo, ip, tp);
    pthread_mutex_unlock(&s->idx_mu);
    return rc;
}

int sl_seg_load_index(struct sl_seg *s)
{
    char ip[4200], tp[4200];
    int rc = sl_seg_path(s, "index", ip, sizeof ip);
    if (rc == 0)
        rc = sl_seg_path(s, "timeindex", tp, sizeof tp);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->idx_mu);
    rc = sl_idx_load(&s->idx, s->fo, ip, tp, s->size);
    pthread_mutex_unlock(&s->idx_mu);
    return rc;
}

int sl_seg_delete(struct sl_seg *s)
{
    static const char *const exts[] = {"log", "index", "timeindex"};
    int first = 0;
    if (sl_seg_fd_get(s) >= 0) { /* readers with a ref read on through the open fd (invariant 3) */
        pthread_mutex_lock(&s->fd_mu);
        __atomic_store_n(&s->fd_pinned, true, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&s->fd_mu);
        sl_seg_fd_put(s);
    }
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        char p[4200];
        int rc = sl_seg_path(s, exts[i], p, sizeof p);
        if (rc == 0)
            rc = s->fo->unlink(p);
        if (rc && rc != -ENOENT && !first)
            first = rc;
    }
    return first;
}
