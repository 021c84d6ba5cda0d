/* partition.ckpt and leader-epoch-checkpoint (formats in checkpoint.h).
 *
 * FAILURE MODES: a write error leaves the previous file intact (sl_file_replace). A torn, truncated or
 *   hand-edited file fails strict parsing with SL_ECORRUPT; the log then treats it as missing. */
#include "storage/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/err.h"

#define CKPT_MAX 4096
#define EPOCH_CKPT_MAX (16u << 20)

int sl_ckpt_format(const struct sl_pckpt *c, char *buf, size_t n)
{
    int w = snprintf(buf, n,
                     "sluice-partition 1\nrecovery_point %" PRId64 "\nhigh_watermark %" PRId64
                     "\nlog_start_offset %" PRId64 "\nclean %d\n",
                     c->recovery_point, c->high_watermark, c->log_start, c->clean ? 1 : 0);
    return w < 0 || (size_t)w >= n ? -ENOSPC : w;
}

/* Parses a decimal number of at most 19 digits ending exactly at 'end' char. Advances *p past it. */
static int parse_num(const char **p, const char *lim, char end, int64_t *v)
{
    const char *s = *p;
    int64_t x = 0;
    int digits = 0;
    while (s < lim && *s >= '0' && *s <= '9') {
        if (++digits > 18 && x > (INT64_MAX - (*s - '0')) / 10)
            return SL_ECORRUPT;
        x = x * 10 + (*s - '0');
        s++;
    }
    if (digits == 0 || (digits > 1 && (*p)[0] == '0') || s >= lim || *s != end)
        return SL_ECORRUPT;
    *p = s + 1;
    *v = x;
    return 0;
}

/* Expects the literal 'word' then a number then '\n'. */
static int parse_field(const char **p, const char *lim, const char *word, int64_t *v)
{
    size_t wl = strlen(word);
    if ((size_t)(lim - *p) < wl || memcmp(*p, word, wl) != 0)
        return SL_ECORRUPT;
    *p += wl;
    return parse_num(p, lim, '\n', v);
}

int sl_ckpt_parse(const char *text, size_t len, struct sl_pckpt *c)
{
    const char *p = text, *lim = text + len;
    int64_t version, rp, hw, start, clean;
    int rc = parse_field(&p, lim, "sluice-partition ", &version);
    if (rc == 0 && version != 1)
        rc = SL_ECORRUPT;
    if (rc == 0)
        rc = parse_field(&p, lim, "recovery_point ", &rp);
    if (rc == 0)
        rc = parse_field(&p, lim, "high_watermark ", &hw);
    if (rc == 0)
        rc = parse_field(&p, lim, "log_start_offset ", &start);
    if (rc == 0)
        rc = parse_field(&p, lim, "clean ", &clean);
    if (rc == 0 && (clean > 1 || p != lim))
        rc = SL_ECORRUPT;
    if (rc)
        return rc;
    c->recovery_point = rp;
    c->high_watermark = hw;
    c->log_start = start;
    c->clean = clean == 1;
    return 0;
}

int sl_ckpt_write(const struct sl_fileops *fo, const char *dir, const struct sl_pckpt *c)
{
    char buf[512];
    int n = sl_ckpt_format(c, buf, sizeof buf);
    if (n < 0)
        return n;
    return sl_file_replace(fo, dir, SL_PCKPT_NAME, buf, (size_t)n);
}

static int read_file(const struct sl_fileops *fo, const char *dir, const char *name, size_t max, char **text,
                     size_t *len)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -ENAMETOOLONG;
    int rc = sl_file_read_all(fo, path, max, text, len);
    return rc == -EFBIG ? SL_ECORRUPT : rc;
}

int sl_ckpt_read(const struct sl_fileops *fo, const char *dir, struct sl_pckpt *c)
{
    char *text;
    size_t len;
    int rc = read_file(fo, dir, SL_PCKPT_NAME, CKPT_MAX, &text, &len);
    if (rc)
        return rc;
    rc = sl_ckpt_parse(text, len, c);
    free(text);
    return rc;
}

int sl_ckpt_epochs_parse(const char *text, size_t len, struct sl_epoch_entry **out, size_t *n)
{
    const char *p = text, *lim = text + len;
    int64_t version, count;
    struct sl_epoch_entry *e = NULL;
    int rc = parse_num(&p, lim, '\n', &version);
    if (rc == 0 && version != 0)
        rc = SL_ECORRUPT;
    if (rc == 0)
        rc = parse_num(&p, lim, '\n', &count);
    if (rc == 0 && (size_t)count > len / 4) /* each line takes at least 4 bytes */
        rc = SL_ECORRUPT;
    if (rc)
        return rc;
    if (count > 0 && !(e = malloc((size_t)count * sizeof *e)))
        return -ENOMEM;
    for (int64_t i = 0; i < count && rc == 0; i++) {
        int64_t ep, start;
        rc = parse_num(&p, lim, ' ', &ep);
        if (rc == 0)
            rc = parse_num(&p, lim, '\n', &start);
        if (rc == 0 && (ep > INT32_MAX || (i > 0 && (ep <= e[i - 1].epoch || start < e[i - 1].start))))
            rc = SL_ECORRUPT;
        if (rc == 0)
            e[i] = (struct sl_epoch_entry){(sl_epoch_t)ep, start};
    }
    if (rc == 0 && p != lim)
        rc = SL_ECORRUPT;
    if (rc) {
        free(e);
        return rc;
    }
    *out = e;
    *n = (size_t)count;
    return 0;
}

int sl_ckpt_epochs_write(const struct sl_fileops *fo, const char *dir, const struct sl_epoch_entry *e, size_t n)
{
    size_t cap = 32 + n * 34, len;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    len = (size_t)snprintf(buf, cap, "0\n%zu\n", n);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%" PRId32 " %" PRId64 "\n", e[i].epoch, e[i].start);
    int rc = sl_file_replace(fo, dir, SL_EPOCH_CKPT_NAME, buf, len);
    free(buf);
    return rc;
}

int sl_ckpt_epochs_read(const struct sl_fileops *fo, const char *dir, struct sl_epoch_entry **out, size_t *n)
{
    char *text;
    size_t len;
    int rc = read_file(fo, dir, SL_EPOCH_CKPT_NAME, EPOCH_CKPT_MAX, &text, &len);
    if (rc)
        return rc;
    rc = sl_ckpt_epochs_parse(text, len, out, n);
    free(text);
    return rc;
}
