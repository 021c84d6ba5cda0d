/* The housekeeper thread: every log.retention.check.interval.ms it applies retention (retention.ms,
 * retention.bytes: whole closed segments) and time-based rolls (segment.ms) to every partition, under each
 * partition's append lock (sl_partition_housekeep) so it never races an append. */
#include <errno.h>
#include <time.h>

#include "server/broker_int.h"
#include "server/logging.h"
#include "server/err.h"

void sl_housekeeper_run_once(struct sl_broker *b, int64_t now_ms)
{
    pthread_rwlock_rdlock(&b->topics_lock);
    for (size_t i = 0; i < b->ntopics; i++) {
        struct topic *t = b->topics[i];
        for (int32_t k = 0; k < t->nparts; k++) {
            struct part *p = t->parts[k];
            int rc = sl_partition_housekeep(p->pt, now_ms);
            if (rc > 0)
                sl_info("retention: deleted %d segment(s) of %s-%d, log start now %lld", rc, t->meta.name, k,
                        (long long)sl_log_start(sl_partition_log(p->pt)));
            else if (rc < 0 && rc != SL_EFAILED)
                sl_warn("housekeeping %s-%d: %s", t->meta.name, k, sl_error_message(rc));
        }
    }
    pthread_rwlock_unlock(&b->topics_lock);
}

static void *keeper_main(void *arg)
{
    struct sl_broker *b = arg;
    pthread_mutex_lock(&b->hk_mu);
    while (!b->hk_stop) {
        struct timespec ts;
        sl_clock_deadline(&ts, b->retention_check_ms);
        while (!b->hk_stop && pthread_cond_timedwait(&b->hk_cv, &b->hk_mu, &ts) != ETIMEDOUT)
            ;
        if (b->hk_stop)
            break;
        pthread_mutex_unlock(&b->hk_mu);
        sl_housekeeper_run_once(b, sl_clock_wall_ms(b->clock));
        pthread_mutex_lock(&b->hk_mu);
    }
    pthread_mutex_unlock(&b->hk_mu);
    return NULL;
}

int sl_housekeeper_start(struct sl_broker *b)
{
    int rc = pthread_create(&b->keeper, NULL, keeper_main, b);
    if (rc)
        return -rc;
    b->hk_started = true;
    return 0;
}

void sl_housekeeper_stop(struct sl_broker *b)
{
    if (!b->hk_started)
        return;
    pthread_mutex_lock(&b->hk_mu);
    b->hk_stop = true;
    pthread_cond_signal(&b->hk_cv);
    pthread_mutex_unlock(&b->hk_mu);
    pthread_join(b->keeper, NULL);
    b->hk_started = false;
}
