/* Deterministic record batches and a whole-log checker (see logcheck.h). */
#include "tests/support/logcheck.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "storage/batch.h"
#include "storage/err.h"

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int64_t sl_tlog_ts(sl_offset_t off)
{
    return SL_TLOG_T0 + 10 * off;
}

int32_t sl_tlog_count(sl_offset_t base)
{
    return 1 + (int32_t)(mix((uint64_t)base ^ 0xb5) % 4);
}

static int add_record(struct sl_batch_builder *b, sl_offset_t o)
{
    char key[32], hval[32];
    uint8_t value[128];
    uint64_t seed = mix((uint64_t)o);
    size_t vlen = 4 + (size_t)(seed % 120);
    for (size_t i = 0; i < vlen; i++)
        value[i] = (uint8_t)((seed >> ((i % 8) * 8)) ^ (i * 31));
    int klen = snprintf(key, sizeof key, "k%" PRId64, o);
    int hlen = snprintf(hval, sizeof hval, "v%" PRId64, o);
    struct sl_header h = {
        .key = {(const uint8_t *)"h", 1},
        .value = {(const uint8_t *)hval, (size_t)hlen},
    };
    struct sl_record r = {
        .timestamp = sl_tlog_ts(o),
        .key = o % 7 == 0 ? (struct sl_slice){NULL, 0} : (struct sl_slice){(const uint8_t *)key, (size_t)klen},
        .value = o % 11 == 5 ? (struct sl_slice){NULL, 0} : (struct sl_slice){value, vlen},
        .nheaders = o % 3 == 0 ? 1 : 0,
        .headers = &h,
    };
    return sl_bb_add(b, &r);
}

int sl_tlog_gen(sl_offset_t base, sl_epoch_t epoch, struct sl_buf *out)
{
    struct sl_batch_builder b;
    struct sl_slice s;
    int rc = 0;
    sl_bb_init(&b);
    for (int32_t i = 0; i < sl_tlog_count(base) && rc == 0; i++)
        rc = add_record(&b, base + i);
    if (rc == 0)
        rc = sl_bb_finish(&b, &s);
    if (rc == 0) {
        out->len = 0;
        rc = sl_buf_append(out, s.base, s.len);
    }
    if (rc == 0) {
        sl_batch_set_base(out->base, base);
        sl_batch_set_epoch(out->base, epoch);
    }
    sl_bb_fini(&b);
    return rc;
}

int sl_tlog_append(struct sl_log *l, sl_epoch_t epoch, sl_offset_t *base_out, sl_offset_t *last_out)
{
    struct sl_buf buf = {0};
    sl_offset_t base = sl_log_end(l), first = -1, last = -1;
    *base_out = base;
    *last_out = base + sl_tlog_count(base) - 1;
    int rc = sl_tlog_gen(base, epoch, &buf);
    if (rc)
        return rc;
    /* The log assigns base and epoch itself: hand it a batch with neither, as a producer would. */
    sl_batch_set_base(buf.base, 0);
    sl_batch_set_epoch(buf.base, 0);
    rc = sl_log_append(l, buf.base, buf.len, epoch, &first, &last);
    if (rc == 0 && (first != base || last != *last_out))
        rc = SL_ESTATE;
    sl_buf_fini(&buf);
    return rc;
}

/* Checks the batches in buf, the first of which must start at *next; advances *next past them. */
static int check_chunk(const struct sl_buf *buf, sl_epoch_t epoch, sl_offset_t *next, struct sl_buf *want,
                       char *why, size_t n)
{
    size_t pos = 0;
    while (pos < buf->len) {
        const uint8_t *p = buf->base + pos;
        size_t left = buf->len - pos;
        struct sl_batch_hdr h;
        if (left < SL_BATCH_HEADER_SIZE || sl_batch_hdr_decode(p, left, &h) != 0) {
            snprintf(why, n, "read returned %zu stray bytes after offset %" PRId64, left, *next);
            return -1;
        }
        size_t size = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
        if (h.length < 0 || size > left) {
            snprintf(why, n, "batch at %" PRId64 " claims %zu bytes, read gave %zu", h.base_offset, size, left);
            return -1;
        }
        if (sl_batch_validate(p, size) != 0) {
            snprintf(why, n, "read served a batch at %" PRId64 " that fails validation", h.base_offset);
            return -1;
        }
        if (h.base_offset != *next) {
            snprintf(why, n, "offsets not dense: expected a batch at %" PRId64 ", got one at %" PRId64, *next,
                     h.base_offset);
            return -1;
        }
        if (sl_tlog_gen(h.base_offset, epoch, want) != 0) {
            snprintf(why, n, "out of memory");
            return -1;
        }
        if (want->len != size || memcmp(want->base, p, size) != 0) {
            snprintf(why, n, "batch at %" PRId64 " (%zu bytes) differs from what was appended (%zu bytes)",
                     h.base_offset, size, want->len);
            return -1;
        }
        *next = h.base_offset + h.last_offset_delta + 1;
        pos += size;
    }
    return 0;
}

int sl_tlog_check(struct sl_log *l, sl_epoch_t epoch, sl_offset_t must_have, sl_offset_t max_end, char *why,
                  size_t n)
{
    struct sl_buf buf = {0}, want = {0};
    sl_offset_t next = sl_log_start(l), leo = sl_log_end(l);
    int rc = 0;
    while (rc == 0 && next < leo) {
        buf.len = 0;
        int r = sl_log_read(l, next, 64 * 1024, INT64_MAX, &buf);
        if (r != 0) {
            snprintf(why, n, "sl_log_read(%" PRId64 ") = %s with LEO %" PRId64, next, sl_errname(r), leo);
            rc = -1;
        } else if (buf.len == 0) {
            snprintf(why, n, "sl_log_read(%" PRId64 ") returned nothing below LEO %" PRId64, next, leo);
            rc = -1;
        } else {
            rc = check_chunk(&buf, epoch, &next, &want, why, n);
        }
    }
    if (rc == 0 && next != leo) {
        snprintf(why, n, "batches end at %" PRId64 " but LEO is %" PRId64, next, leo);
        rc = -1;
    }
    if (rc == 0 && leo < must_have) {
        snprintf(why, n, "acknowledged records lost: LEO %" PRId64 " < acknowledged end %" PRId64, leo, must_have);
        rc = -1;
    }
    if (rc == 0 && leo > max_end) {
        snprintf(why, n, "LEO %" PRId64 " is beyond anything ever appended (%" PRId64 ")", leo, max_end);
        rc = -1;
    }
    sl_buf_fini(&buf);
    sl_buf_fini(&want);
    return rc;
}
