/* Sparse offset index and time index (see index.h for the format and invariants).
 *
 * FAILURE MODES: a missing, short, torn or non-monotone file makes sl_idx_load return -ENOENT or
 * SL_ECORRUPT; the caller rebuilds from the log, so index files never need fsync. */
#include "storage/index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "storage/endian.h"
#include "storage/err.h"

#define IDX_FILE_MAX (512u << 20)


static void put64(uint8_t *p, uint64_t v)
{
    sl_be32_put(p, (uint32_t)(v >> 32));
    sl_be32_put(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)sl_be32_get(p) << 32 | sl_be32_get(p + 4);
}

void sl_idx_init(struct sl_index *x)
{
    memset(x, 0, sizeof *x);
}

void sl_idx_fini(struct sl_index *x)
{
    free(x->e);
    free(x->t);
    memset(x, 0, sizeof *x);
}

void sl_idx_clear(struct sl_index *x)
{
    x->n = 0;
    x->tn = 0;
}

static int grow(void **arr, uint32_t *cap, size_t elem)
{
    uint32_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

int sl_idx_add(struct sl_index *x, uint32_t rel, uint32_t pos)
{
    if (x->n && (rel <= x->e[x->n - 1].rel || pos <= x->e[x->n - 1].pos))
        return -EINVAL;
    if (x->n == x->cap) {
        int rc = grow((void **)&x->e, &x->cap, sizeof *x->e);
        if (rc)
            return rc;
    }
    x->e[x->n].rel = rel;
    x->e[x->n].pos = pos;
    x->n++;
    return 0;
}

int sl_idx_tadd(struct sl_index *x, int64_t ts, uint32_t rel)
{
    if (x->tn && (ts <= x->t[x->tn - 1].ts || rel <= x->t[x->tn - 1].rel))
        return -EINVAL;
    if (x->tn == x->tcap) {
        int rc = grow((void **)&x->t, &x->tcap, sizeof *x->t);
        if (rc)
            return rc;
    }
    x->t[x->tn].ts = ts;
    x->t[x->tn].rel = rel;
    x->tn++;
    return 0;
}

bool sl_idx_lookup(const struct sl_index *x, uint32_t rel, struct sl_idx_entry *out)
{
    uint32_t lo = 0, hi = x->n; /* first entry with e.rel > rel lies in [lo, hi] */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (x->e[mid].rel <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    *out = x->e[lo - 1];
    return true;
}

bool sl_idx_tlookup(const struct sl_index *x, int64_t ts, struct sl_tidx_entry *out)
{
    uint32_t lo = 0, hi = x->tn; /* first entry with t.ts >= ts */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (x->t[mid].ts < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    *out = x->t[lo - 1];
    return true;
}

int64_t sl_idx_last_ts(const struct sl_index *x)
{
    return x->tn ? x->t[x->tn - 1].ts : INT64_MIN;
}

void sl_idx_truncate(struct sl_index *x, uint32_t rel_end, uint64_t pos_end)
{
    while (x->n && (x->e[x->n - 1].rel >= rel_end || x->e[x->n - 1].pos >= pos_end))
        x->n--;
    /* Every time entry's rel keeps its offset entry (INVARIANT 2). */
    while (x->tn && (x->t[x->tn - 1].rel >= rel_end || x->n == 0 || x->t[x->tn - 1].rel > x->e[x->n - 1].rel))
        x->tn--;
}

static int parse_offsets(struct sl_index *x, const uint8_t *p, size_t len, uint64_t log_size)
{
    if (len % SL_IDX_ENTRY_SIZE)
        return SL_ECORRUPT;
    for (size_t i = 0; i < len; i += SL_IDX_ENTRY_SIZE) {
        uint32_t rel = sl_be32_get(p + i), pos = sl_be32_get(p + i + 4);
        if (pos >= log_size)
            return SL_ECORRUPT;
        int rc = sl_idx_add(x, rel, pos);
        if (rc)
            return rc == -EINVAL ? SL_ECORRUPT : rc;
    }
    return 0;
}

static int parse_times(struct sl_index *x, const uint8_t *p, size_t len)
{
    if (len % SL_TIDX_ENTRY_SIZE)
        return SL_ECORRUPT;
    for (size_t i = 0; i < len; i += SL_TIDX_ENTRY_SIZE) {
        int64_t ts = (int64_t)get64(p + i);
        uint32_t rel = sl_be32_get(p + i + 8);
        struct sl_idx_entry e;
        if (!sl_idx_lookup(x, rel, &e) || e.rel != rel)
            return SL_ECORRUPT;
        int rc = sl_idx_tadd(x, ts, rel);
        if (rc)
            return rc == -EINVAL ? SL_ECORRUPT : rc;
    }
    return 0;
}

int sl_idx_load(struct sl_index *x, const struct sl_fileops *fo, const char *idx_path, const char *tidx_path,
                uint64_t log_size)
{
    char *ib = NULL, *tb = NULL;
    size_t ilen = 0, tlen = 0;
    sl_idx_clear(x);
    int rc = sl_file_read_all(fo, idx_path, IDX_FILE_MAX, &ib, &ilen);
    if (rc)
        goto out;
    rc = sl_file_read_all(fo, tidx_path, IDX_FILE_MAX, &tb, &tlen);
    if (rc)
        goto out;
    rc = parse_offsets(x, (const uint8_t *)ib, ilen, log_size);
    if (rc == 0)
        rc = parse_times(x, (const uint8_t *)tb, tlen);
out:
    if (rc == -EFBIG)
        rc = SL_ECORRUPT;
    if (rc)
        sl_idx_clear(x);
    free(ib);
    free(tb);
    return rc;
}

static int write_file(const struct sl_fileops *fo, const char *path, const uint8_t *p, size_t n)
{
    int fd = fo->open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0)
        return sl_errctx_set(fd, "open %s", path);
    int rc = n ? fo->pwrite(fd, p, n, 0) : 0;
    if (rc == 0)
        rc = fo->ftruncate(fd, n);
    int crc = fo->close(fd);
    return rc || crc ? sl_errctx_set(rc ? rc : crc, "write %s", path) : 0;
}

int sl_idx_write(const struct sl_index *x, const struct sl_fileops *fo, const char *idx_path,
                 const char *tidx_path)
{
    size_t ilen = (size_t)x->n * SL_IDX_ENTRY_SIZE, tlen = (size_t)x->tn * SL_TIDX_ENTRY_SIZE;
    uint8_t *buf = malloc(ilen > tlen ? ilen + 1 : tlen + 1);
    if (!buf)
        return -ENOMEM;
    for (uint32_t i = 0; i < x->n; i++) {
        sl_be32_put(buf + (size_t)i * SL_IDX_ENTRY_SIZE, x->e[i].rel);
        sl_be32_put(buf + (size_t)i * SL_IDX_ENTRY_SIZE + 4, x->e[i].pos);
    }
    int rc = write_file(fo, idx_path, buf, ilen);
    if (rc)
        goto out;
    for (uint32_t i = 0; i < x->tn; i++) {
        put64(buf + (size_t)i * SL_TIDX_ENTRY_SIZE, (uint64_t)x->t[i].ts);
        sl_be32_put(buf + (size_t)i * SL_TIDX_ENTRY_SIZE + 8, x->t[i].rel);
    }
    rc = write_file(fo, tidx_path, buf, tlen);
out:
    free(buf);
    return rc;
}
