/* Test helpers for code that uses the broker (see brokerutil.h). */
#include "tests/support/brokerutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/batch.h"
#include "storage/err.h"

void sl_tb_config(struct sl_config *cfg, const char *dir, enum sl_durability d)
{
    sl_config_defaults(cfg);
    free(cfg->data_dir);
    cfg->data_dir = strdup(dir);
    cfg->durability = d;
    cfg->flush_ms = 50;
    cfg->log_level = SL_LEVEL_WARN;
}

uint8_t *sl_tb_batch(const char *prefix, int n, int64_t ts, size_t *len)
{
    struct sl_batch_builder bb;
    sl_bb_init(&bb);
    for (int i = 0; i < n; i++) {
        char k[32], v[128];
        int kl = snprintf(k, sizeof k, "k%d", i);
        int vl = snprintf(v, sizeof v, "%s-%d", prefix, i);
        struct sl_record r = {.timestamp = ts,
                              .key = {(const uint8_t *)k, (size_t)kl},
                              .value = {(const uint8_t *)v, (size_t)vl}};
        if (sl_bb_add(&bb, &r))
            abort();
    }
    struct sl_slice s;
    if (sl_bb_finish(&bb, &s))
        abort();
    uint8_t *copy = malloc(s.len);
    memcpy(copy, s.base, s.len);
    *len = s.len;
    sl_bb_fini(&bb);
    return copy;
}

struct waiter {
    struct sl_produce req;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rc;
};

static void on_done(struct sl_produce *req, int rc)
{
    struct waiter *w = req->arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->rc = rc;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int sl_tb_produce_wait(struct sl_broker *b, const char *topic, int32_t p, const char *prefix, int n,
                       sl_offset_t *first, sl_offset_t *last)
{
    size_t len;
    uint8_t *batch = sl_tb_batch(prefix, n, 1700000000000LL, &len);
    struct waiter w = {.req = {.done = on_done}};
    w.req.arg = &w;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int rc = sl_broker_produce(b, topic, p, batch, len, &w.req);
    if (rc == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 10;
        pthread_mutex_lock(&w.mu);
        while (!w.done && pthread_cond_timedwait(&w.cv, &w.mu, &ts) == 0)
            ;
        rc = w.done ? w.rc : -ETIMEDOUT;
        pthread_mutex_unlock(&w.mu);
        if (first)
            *first = w.req.first;
        if (last)
            *last = w.req.last;
    }
    free(batch);
    return rc;
}

int64_t sl_tb_count_records(struct sl_broker *b, const char *topic, int32_t p, sl_offset_t from)
{
    int64_t count = 0;
    for (;;) {
        struct sl_buf buf = {0};
        sl_offset_t hw;
        int rc = sl_broker_fetch(b, topic, p, from, 1 << 20, &buf, &hw);
        if (rc || buf.len == 0) {
            sl_buf_fini(&buf);
            return rc ? rc : count;
        }
        size_t pos = 0;
        while (pos + SL_BATCH_HEADER_SIZE <= buf.len) {
            struct sl_batch_hdr h;
            sl_batch_hdr_decode(buf.base + pos, buf.len - pos, &h);
            sl_offset_t last = h.base_offset + h.last_offset_delta;
            if (last >= from)
                count += last - (h.base_offset > from ? h.base_offset : from) + 1;
            from = last + 1;
            pos += (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
        }
        sl_buf_fini(&buf);
    }
}
