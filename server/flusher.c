/* The flusher thread: group commit.
 *
 * Appenders put their partition on a dirty list (sl_flusher_mark). The flusher takes the whole list,
 * fdatasyncs each partition once (sl_log_sync covers every batch written before it) and reports the new
 * durable offset to the partition (sl_partition_durable), which applies its HW rule, fires the watches the HW
 * passes and hands back the produces it covers; the flusher calls the data hook when the HW advanced
 * (subscribers are woken first), then completes them. A lone produce wakes the
 * flusher at once: no timer, no waiting for another round unless an fdatasync is already running. Appends
 * that arrive during an fdatasync simply join the next round: one fdatasync per partition per round, however
 * many producers. In async durability appends complete at once and the flusher syncs the dirty partitions
 * every flush.ms. A round over several partitions is spread over the flusher and SL_SYNC_HELPERS helper
 * threads, so their fdatasyncs overlap.
 *
 * STATES of a partition: clean --mark--> queued (on dirty list) --flusher takes list--> syncing --> clean;
 * a mark while syncing re-queues it. 'queued' is guarded by fl_mu.
 *
 * FAILURE MODES: a failed sync makes the log FAILED (storage/log.h); it is reported to the partition
 * (sl_partition_sync_failed), whose pending produces complete with SL_EFAILED; every later append fails.
 * Other partitions go on. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "server/broker_int.h"
#include "server/logging.h"
#include "server/err.h"

/* The signal goes out after fl_mu is released: signalled under the lock, the flusher woke only to block on
 * fl_mu until this thread let go of it (strace: futex wake, then the flusher's FUTEX_WAIT on fl_mu), one more
 * sleep and wake-up on the path of every lone produce. The predicate (dirty_head) is set under fl_mu, so the
 * wake-up cannot be lost. */
void sl_flusher_mark(struct sl_broker *b, struct part *p)
{
    bool wake = false;
    pthread_mutex_lock(&b->fl_mu);
    if (!p->queued) {
        p->queued = true;
        p->dirty_next = b->dirty_head;
        b->dirty_head = p;
        wake = b->durability == SL_DURABILITY_SYNC;
    }
    pthread_mutex_unlock(&b->fl_mu);
    if (wake)
        pthread_cond_signal(&b->fl_cv);
}

void sl_flusher_forget(struct sl_broker *b, struct part *p)
{
    pthread_mutex_lock(&b->fl_mu);
    for (struct part **pp = &b->dirty_head; *pp; pp = &(*pp)->dirty_next) {
        if (*pp == p) {
            *pp = p->dirty_next;
            break;
        }
    }
    p->queued = false;
    pthread_mutex_unlock(&b->fl_mu);
}

static void record_fsync(struct sl_broker *b, uint64_t ns)
{
    atomic_fetch_add(&b->st_fsyncs, 1);
    atomic_fetch_add(&b->st_fsync_ns, ns);
    int i = 0;
    for (uint64_t lim = 64000; i < 15 && ns > lim; lim *= 2)
        i++;
    atomic_fetch_add(&b->st_fsync_hist[i], 1);
}

/* Syncs one partition and reports the result to it (server/partition.c decides the HW and what completes),
 * completes what it hands back (or, with defer, moves it onto *defer: the flusher thread holds topics_lock,
 * and a done callback may take a lock that is held while calling into the broker, the group coordinator's)
 * and then, at most once a second, persists the recovery point (partition.ckpt, two more fsyncs: they used to
 * delay the produces of every ~1000th round by 0.7-1 ms, the whole p99.9 of produce->push at 1,000
 * records/s). Caller holds topics_lock (read). The data hook runs as soon as the HW is published, before the
 * produces complete: completing them resumes their REST connections (a write to libmicrohttpd's wake-up pipe
 * for each), and the push used to wait behind those and behind the rest of the round: 19 us median, 85 us p99
 * from the fdatasync's return to the hook with one producer and one subscriber (timestamps along the path),
 * now under 1 us. */
static void sync_part(struct sl_broker *b, struct part *p, struct sl_part_done *defer)
{
    struct sl_log *log = sl_partition_log(p->pt);
    sl_offset_t durable = 0;
    int64_t t0 = sl_clock_mono_ns(b->clock);
    int rc = sl_log_sync_data(log, &durable);
    record_fsync(b, (uint64_t)(sl_clock_mono_ns(b->clock) - t0));
    struct sl_part_done done;
    sl_part_done_init(&done);
    if (rc) {
        sl_error("partition %s-%d: sync failed: %s; the partition stays failed until restart",
                 p->topic->meta.name, p->id, sl_error_message(rc));
        sl_partition_sync_failed(p->pt, SL_EFAILED, &done);
    } else {
        sl_partition_durable(p->pt, durable, &done);
    }
    if (done.advanced)
        sl_broker_call_data_hook(b);
    if (defer)
        sl_part_done_move(defer, &done);
    else
        sl_part_done_run(&done);
    if (rc == 0 && sl_log_checkpoint_due(log) && (rc = sl_log_checkpoint(log)))
        sl_error("partition %s-%d: checkpoint failed: %s; the partition stays failed until restart",
                 p->topic->meta.name, p->id, sl_error_message(rc));
}

/* Takes partitions of the current round until none is left. defer: see sync_part. */
static void take_and_sync(struct sl_broker *b, struct part **list, size_t n, struct sl_part_done *defer)
{
    for (size_t i; (i = atomic_fetch_add(&b->sw_next, 1)) < n;)
        sync_part(b, list[i], defer);
}

static void *helper_main(void *arg)
{
    struct sl_broker *b = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&b->sw_mu);
    for (;;) {
        while (!b->sw_stop && b->sw_round == seen)
            pthread_cond_wait(&b->sw_cv, &b->sw_mu);
        if (b->sw_stop)
            break;
        seen = b->sw_round;
        struct part **list = b->sw_list;
        size_t n = b->sw_n;
        pthread_mutex_unlock(&b->sw_mu);
        take_and_sync(b, list, n, NULL); /* a helper holds no broker lock: it completes at once */
        pthread_mutex_lock(&b->sw_mu);
        if (--b->sw_busy == 0)
            pthread_cond_signal(&b->sw_done_cv);
    }
    pthread_mutex_unlock(&b->sw_mu);
    return NULL;
}

/* Syncs every partition of the round, several at a time when there are several. Caller holds topics_lock
 * (read), which keeps the partitions alive while the helpers use them; the produces this thread completes go
 * onto *defer. */
static void sync_all(struct sl_broker *b, struct part **v, size_t n, struct sl_part_done *defer)
{
    if (n == 1 || b->nhelpers == 0) {
        for (size_t i = 0; i < n; i++)
            sync_part(b, v[i], defer);
        return;
    }
    pthread_mutex_lock(&b->sw_mu);
    b->sw_list = v;
    b->sw_n = n;
    atomic_store(&b->sw_next, 0);
    b->sw_busy = b->nhelpers;
    b->sw_round++;
    pthread_cond_broadcast(&b->sw_cv);
    pthread_mutex_unlock(&b->sw_mu);
    take_and_sync(b, v, n, defer);
    pthread_mutex_lock(&b->sw_mu);
    while (b->sw_busy > 0)
        pthread_cond_wait(&b->sw_done_cv, &b->sw_mu);
    pthread_mutex_unlock(&b->sw_mu);
}

/* Takes the dirty list and syncs it. Called with fl_mu held; returns with it unlocked. The list is taken
 * under topics_lock (read), so a topic deletion (write lock, sl_flusher_forget) either ran before and
 * unlinked its partitions, or waits until this round is over. */
static void flush_round(struct sl_broker *b)
{
    pthread_mutex_unlock(&b->fl_mu);
    pthread_rwlock_rdlock(&b->topics_lock);
    pthread_mutex_lock(&b->fl_mu);
    /* Copy the list out: once 'queued' is cleared, an appender may relink a partition at once. */
    size_t n = 0;
    for (struct part *p = b->dirty_head; p; p = p->dirty_next)
        n++;
    struct part *stackv[64], **v = n <= 64 ? stackv : malloc(n * sizeof *v);
    if (!v) { /* out of memory: leave the list for the next round */
        pthread_mutex_unlock(&b->fl_mu);
        pthread_rwlock_unlock(&b->topics_lock);
        return;
    }
    n = 0;
    for (struct part *p = b->dirty_head; p; p = p->dirty_next) {
        v[n++] = p;
        p->queued = false;
    }
    b->dirty_head = NULL;
    pthread_mutex_unlock(&b->fl_mu);
    struct sl_part_done defer;
    sl_part_done_init(&defer);
    sync_all(b, v, n, &defer);
    if (v != stackv)
        free(v);
    pthread_rwlock_unlock(&b->topics_lock);
    sl_part_done_run(&defer); /* no broker lock held: done callbacks may take theirs (issue 11) */
}

static void *flusher_main(void *arg)
{
    struct sl_broker *b = arg;
    pthread_mutex_lock(&b->fl_mu);
    while (!b->fl_stop) {
        if (b->durability == SL_DURABILITY_SYNC) {
            while (!b->fl_stop && !b->dirty_head)
                pthread_cond_wait(&b->fl_cv, &b->fl_mu);
        } else {
            struct timespec ts;
            sl_clock_deadline(&ts, b->flush_ms);
            while (!b->fl_stop && pthread_cond_timedwait(&b->fl_cv, &b->fl_mu, &ts) != ETIMEDOUT)
                ;
        }
        flush_round(b);
        pthread_mutex_lock(&b->fl_mu);
    }
    flush_round(b); /* the final round: everything appended before stop becomes durable */
    return NULL;
}

static void stop_helpers(struct sl_broker *b)
{
    pthread_mutex_lock(&b->sw_mu);
    b->sw_stop = true;
    pthread_cond_broadcast(&b->sw_cv);
    pthread_mutex_unlock(&b->sw_mu);
    for (int i = 0; i < b->nhelpers; i++)
        pthread_join(b->helpers[i], NULL);
    b->nhelpers = 0;
}

int sl_flusher_start(struct sl_broker *b)
{
    pthread_mutex_init(&b->sw_mu, NULL);
    pthread_cond_init(&b->sw_cv, NULL);
    pthread_cond_init(&b->sw_done_cv, NULL);
    for (int i = 0; i < SL_SYNC_HELPERS; i++) {
        if (pthread_create(&b->helpers[i], NULL, helper_main, b))
            break; /* fewer helpers only means less parallel fsync */
        b->nhelpers++;
    }
    int rc = pthread_create(&b->flusher, NULL, flusher_main, b);
    if (rc) {
        stop_helpers(b);
        return -rc;
    }
    b->fl_started = true;
    return 0;
}

void sl_flusher_stop(struct sl_broker *b)
{
    if (!b->fl_started)
        return;
    pthread_mutex_lock(&b->fl_mu);
    b->fl_stop = true;
    pthread_cond_signal(&b->fl_cv);
    pthread_mutex_unlock(&b->fl_mu);
    pthread_join(b->flusher, NULL);
    b->fl_started = false;
    stop_helpers(b);
    pthread_mutex_destroy(&b->sw_mu);
    pthread_cond_destroy(&b->sw_cv);
    pthread_cond_destroy(&b->sw_done_cv);
}
