/* The metadata state machine under libraft (see meta_fsm.h). Snapshot buffers are ours (fsm version 2:
 * snapshot_finalize frees them); a restored buffer is libraft's and freed with raft_free on success, as
 * raft.h requires. */
#include "server/meta_fsm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/err.h"
#include "storage/endian.h"

int sl_meta_entry_encode(const struct sl_meta_rec *rec, struct sl_buf *out)
{
    size_t at = out->len;
    static const uint8_t zeros[8];
    int rc = sl_buf_append(out, zeros, 4);
    if (rc == 0)
        rc = sl_meta_rec_encode(rec, out);
    size_t n = out->len - at - 4;
    if (rc == 0)
        rc = sl_buf_append(out, zeros, (8 - (out->len - at) % 8) % 8);
    if (rc) {
        out->len = at;
        return rc;
    }
    sl_be32_put(out->base + at, (uint32_t)n);
    return 0;
}

/* The record inside an ENTRY: 0, or SL_ECORRUPT (a length past the end, padding not zeros or too long). */
static int entry_decode(const uint8_t *p, size_t len, struct sl_meta_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    if (len < 4 || len % 8)
        return SL_ECORRUPT;
    size_t n = sl_be32_get(p);
    if (n > len - 4 || len - 4 - n >= 8)
        return SL_ECORRUPT;
    for (size_t i = 4 + n; i < len; i++)
        if (p[i])
            return SL_ECORRUPT;
    return sl_meta_rec_decode(p + 4, n, rec);
}

static int fsm_apply(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    struct sl_meta_fsm *f = rf->data;
    struct sl_meta_rec rec;
    int rc = entry_decode(buf->base, buf->len, &rec);
    pthread_mutex_lock(&f->mu);
    if (rc == 0)
        rc = sl_meta_apply(&f->image, &rec);
    f->applied++;
    f->refused += rc != 0;
    f->corrupt += rc == SL_ECORRUPT;
    pthread_mutex_unlock(&f->mu);
    if (f->on_apply)
        f->on_apply(f->arg, &rec, rc);
    sl_meta_rec_fini(&rec);
    *result = (void *)(intptr_t)rc;
    return 0;
}

static int fsm_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n)
{
    struct sl_meta_fsm *f = rf->data;
    struct sl_buf b = {0};
    pthread_mutex_lock(&f->mu);
    int rc = sl_meta_snapshot(&f->image, &b);
    pthread_mutex_unlock(&f->mu);
    struct raft_buffer *v = rc ? NULL : raft_malloc(sizeof *v);
    void *copy = v ? raft_malloc(b.len ? b.len : 1) : NULL;
    if (!copy) {
        raft_free(v);
        sl_buf_fini(&b);
        return RAFT_NOMEM;
    }
    memcpy(copy, b.base, b.len);
    v->base = copy; /* libraft's from here: it frees the array and the buffer (fsm version 1) */
    v->len = b.len;
    sl_buf_fini(&b);
    *bufs = v;
    *n = 1;
    return 0;
}

static int fsm_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct sl_meta_fsm *f = rf->data;
    struct sl_meta_image im;
    int rc = sl_meta_restore(&im, buf->base, buf->len);
    if (rc)
        return rc == -ENOMEM ? RAFT_NOMEM : RAFT_MALFORMED;
    pthread_mutex_lock(&f->mu);
    sl_meta_image_fini(&f->image);
    f->image = im;
    f->restores++;
    pthread_mutex_unlock(&f->mu);
    raft_free(buf->base);
    return 0;
}

int sl_meta_fsm_init(struct sl_meta_fsm *f)
{
    memset(f, 0, sizeof *f);
    int rc = pthread_mutex_init(&f->mu, NULL);
    if (rc)
        return -rc;
    f->fsm = (struct raft_fsm){.version = 1, .data = f, .apply = fsm_apply, .snapshot = fsm_snapshot,
                               .restore = fsm_restore};
    return 0;
}

void sl_meta_fsm_fini(struct sl_meta_fsm *f)
{
    sl_meta_image_fini(&f->image);
    pthread_mutex_destroy(&f->mu);
}

int sl_meta_fsm_read(struct sl_meta_fsm *f, int (*fn)(const struct sl_meta_image *im, void *arg), void *arg)
{
    pthread_mutex_lock(&f->mu);
    int rc = fn(&f->image, arg);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int sl_meta_raft_rc(int raft_rc)
{
    switch (raft_rc) {
    case 0: return 0;
    case RAFT_NOTLEADER:
    case RAFT_LEADERSHIPLOST: return SL_ENOTLEADER;
    case RAFT_SHUTDOWN: return SL_ESTOPPED;
    case RAFT_NOMEM: return -ENOMEM;
    default: return -EIO;
    }
}

int sl_meta_propose(struct raft *r, struct raft_apply *req, const struct sl_meta_rec *rec, raft_apply_cb cb)
{
    struct sl_buf b = {0};
    int rc = sl_meta_entry_encode(rec, &b);
    if (rc) {
        sl_buf_fini(&b);
        return rc;
    }
    struct raft_buffer rb = {.base = raft_malloc(b.len), .len = b.len};
    if (!rb.base) {
        sl_buf_fini(&b);
        return -ENOMEM;
    }
    memcpy(rb.base, b.base, b.len);
    sl_buf_fini(&b);
    rc = raft_apply(r, req, &rb, 1, cb);
    if (rc == RAFT_NOTLEADER) /* refused before taking the buffer; on later failures libraft 0.22.1 has */
        raft_free(rb.base);   /* released it itself (seen under ASan) */
    return sl_meta_raft_rc(rc);
}
