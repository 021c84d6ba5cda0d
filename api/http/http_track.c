/* The request-stream tracker for kept-alive REST connections (see http_track.h for the states and why).
 *
 * INVARIANT: everything before t's position in the stream has been passed on or held; held bytes are the
 * beginning of one incomplete head and nothing else (they always come first in the next scan). */
#include "api/http/http_track.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sl_http_track_init(struct sl_http_track *t)
{
    memset(t, 0, sizeof *t);
    t->state = SL_TRACK_HEAD;
}

void sl_http_track_fini(struct sl_http_track *t)
{
    free(t->held);
    sl_http_track_init(t);
}

static void refuse(struct sl_http_track *t, enum sl_refusal why)
{
    t->state = SL_TRACK_REFUSED;
    t->why = why;
}

/* The body that follows a valid head h (framing already checked). */
static void after_head(struct sl_http_track *t, const struct sl_http1_head *h)
{
    const struct sl_http1_field *cl = sl_http1_field(h, "Content-Length");
    if (sl_http1_field(h, "Transfer-Encoding")) { /* exactly "chunked": the framing check says so */
        memset(&t->ch, 0, sizeof t->ch);
        t->state = SL_TRACK_CHUNKED;
    } else if (cl) {
        uint64_t v = 0;
        for (size_t i = 0; i < cl->value_len; i++)
            v = v * 10 + (uint64_t)(cl->value[i] - '0'); /* 1 to 18 digits: no overflow */
        t->left = v;
        t->state = v ? SL_TRACK_BODY_CL : SL_TRACK_HEAD;
    }
}

/* HEAD at buf[*pos, n): passes on empty lines and one whole valid head. Returns false when the scan must
 * stop here (held, refused, or out of memory: *oom). */
static bool scan_head(struct sl_http_track *t, const char *buf, size_t n, size_t *pos, bool *oom)
{
    while (*pos < n && (buf[*pos] == '\r' || buf[*pos] == '\n'))
        (*pos)++;
    if (*pos == n)
        return false;
    size_t avail = n - *pos;
    bool full = avail >= SL_REFUSE_HEAD_MAX;
    struct sl_http1_head h;
    enum sl_refusal why;
    switch (sl_refuse_check_head(buf + *pos, full ? SL_REFUSE_HEAD_MAX : avail, full, &h, &why)) {
    case SL_HEAD_OK:
        *pos += h.len;
        after_head(t, &h);
        return true;
    case SL_HEAD_MORE:
        if (!(t->held = malloc(avail))) {
            *oom = true;
            return false;
        }
        memcpy(t->held, buf + *pos, avail);
        t->held_len = avail;
        return false;
    case SL_HEAD_REFUSED:
        refuse(t, why);
        return false;
    }
    return false;
}

long sl_http_track_scan(struct sl_http_track *t, const char *buf, size_t n)
{
    size_t pos = 0;
    bool oom = false;
    while (pos < n && t->state != SL_TRACK_REFUSED) {
        if (t->state == SL_TRACK_HEAD) {
            if (!scan_head(t, buf, n, &pos, &oom))
                break; /* a held head starts at pos */
        } else if (t->state == SL_TRACK_BODY_CL) {
            size_t k = n - pos < t->left ? n - pos : (size_t)t->left;
            pos += k;
            if ((t->left -= k) == 0)
                t->state = SL_TRACK_HEAD;
        } else {
            size_t ignored;
            ssize_t used = sl_chunked_decode(&t->ch, buf + pos, n - pos, NULL, &ignored);
            if (used < 0) {
                refuse(t, SL_REFUSE_FRAMING);
                break;
            }
            pos += (size_t)used;
            if (t->ch.done)
                t->state = SL_TRACK_HEAD;
        }
    }
    return oom ? -ENOMEM : (long)pos;
}

long sl_http_track_unhold(struct sl_http_track *t, char *buf, size_t cap)
{
    if (!t->held)
        return 0;
    if (t->held_len > cap)
        return -ENOBUFS;
    long n = (long)t->held_len;
    memcpy(buf, t->held, t->held_len);
    free(t->held);
    t->held = NULL;
    t->held_len = 0;
    return n;
}
