/* Broker internals shared by broker.c, flusher.c, housekeeper.c, topic_dirs.c and broker_view.c. Not for api/.
 *
 * LOCK ORDER (outer to inner): hook_mu -> (the group coordinator's mutex) -> topics_lock (rwlock) ->
 * the partition's append_mu -> its wait_mu (server/partition.h). fl_mu, sw_mu and hk_mu are leaves, never
 * held together with a partition lock.
 * Callbacks: produce done runs with no broker lock held (the flusher thread completes after releasing
 * topics_lock; a sync helper holds none; the producing thread after releasing topics_lock), except when a
 * topic is deleted or the broker closes (sl_partition_close under topics_lock write: SL_ENOTOPIC,
 * SL_ESTOPPED); the data hook runs with no partition lock held (under topics_lock read on the flusher);
 * watch fires run under the partition's wait_mu, which is what makes sl_broker_unwatch race-free. */
#ifndef SL_SERVER_BROKER_INT_H
#define SL_SERVER_BROKER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "server/broker.h"
#include "server/partition.h"
#include "server/partitioner.h"
#include "storage/clock.h"
#include "storage/log.h"

struct topic;

/* Extra threads that fsync partitions in parallel with the flusher: fdatasync of different files overlaps
 * in the kernel (ext4 batches them into one journal commit), so a round over N partitions costs about one
 * fsync instead of N. */
#define SL_SYNC_HELPERS 3

/* The broker's slot for one partition: where it sits (topic, id) and its place on the flusher's dirty list.
 * Everything about the partition itself is in pt (server/partition.h). */
struct part {
    struct topic *topic;
    int32_t id;
    struct sl_partition *pt;   /* owned; opened and closed with the topic under topics_lock (write) */
    bool queued;               /* guarded by: broker fl_mu; in the flusher's dirty list */
    struct part *dirty_next;   /* guarded by: broker fl_mu */
};

struct topic {
    struct sl_topic_meta meta;
    struct sl_topic_cfg cfg;
    uint32_t overridden;
    bool internal;
    bool adopt_dirs; /* the id was assigned at this open: directories without topic.id adopt it */
    int32_t nparts;
    struct part **parts;
};

/* Entries of the broker-config table (server/broker_view.c); a static assert there checks it is enough. */
#define SL_BROKER_CONFIGS_MAX 16

struct sl_broker {
    const struct sl_fileops *fo; /* borrowed from sl_broker_open's caller; every file of the data dir */
    const struct sl_clock *clock; /* borrowed likewise */
    struct sl_partitioner partitioner; /* the sticky partitioner's counter (sl_broker_partitioner) */
    struct sl_topic_cfg defaults;
    struct sl_broker_config configs[SL_BROKER_CONFIGS_MAX]; /* written by sl_broker_open, then read-only */
    size_t nconfigs;
    char *data_dir;
    char *meta_dir;
    enum sl_durability durability;
    int64_t flush_ms;
    int64_t retention_check_ms;
    int32_t node_id;
    int32_t num_partitions;
    char cluster_id[64];

    pthread_rwlock_t topics_lock;
    struct topic **topics; /* guarded by: topics_lock; sorted by name */
    size_t ntopics;        /* guarded by: topics_lock */

    /* flusher */
    pthread_t flusher;
    pthread_mutex_t fl_mu;
    pthread_cond_t fl_cv;
    struct part *dirty_head; /* guarded by: fl_mu */
    bool fl_stop;            /* guarded by: fl_mu */
    bool fl_started;

    /* sync helpers: the flusher fsyncs a round's partitions on itself and SL_SYNC_HELPERS more threads */
    pthread_t helpers[SL_SYNC_HELPERS];
    int nhelpers;
    pthread_mutex_t sw_mu;
    pthread_cond_t sw_cv;       /* helpers wait for a new round */
    pthread_cond_t sw_done_cv;  /* the flusher waits for the helpers to finish a round */
    struct part **sw_list;      /* guarded by: sw_mu; the round's partitions */
    size_t sw_n;                /* guarded by: sw_mu */
    _Atomic size_t sw_next;     /* next index to take in sw_list */
    int sw_busy;                /* guarded by: sw_mu; helpers still working on the round */
    uint64_t sw_round;          /* guarded by: sw_mu */
    bool sw_stop;               /* guarded by: sw_mu */

    /* housekeeper */
    pthread_t keeper;
    pthread_mutex_t hk_mu;
    pthread_cond_t hk_cv;
    bool hk_stop; /* guarded by: hk_mu */
    bool hk_started;

    pthread_rwlock_t data_rw;   /* read: a call of the data hook; write: sl_broker_set_data_hook */
    void (*data_hook)(void *arg); /* guarded by: data_rw */
    void *data_arg;               /* guarded by: data_rw */
    pthread_mutex_t hook_mu;                            /* held while the deleted hook runs */
    void (*deleted_hook)(void *arg, const char *topic); /* guarded by: hook_mu */
    void *deleted_arg;                                  /* guarded by: hook_mu */
    _Atomic unsigned quarantined_dirs;

    _Atomic uint64_t st_fsyncs, st_fsync_ns, st_batches;
    _Atomic uint64_t st_fsync_hist[16];
};

/* flusher.c */
int sl_flusher_start(struct sl_broker *b);
/* Syncs whatever is dirty one last time, completes pending produces, stops and joins the thread. */
void sl_flusher_stop(struct sl_broker *b);
/* Puts p on the dirty list and wakes the flusher. Caller holds topics_lock (read). */
void sl_flusher_mark(struct sl_broker *b, struct part *p);
/* Removes p from the dirty list (topic deletion). Caller holds topics_lock (write). */
void sl_flusher_forget(struct sl_broker *b, struct part *p);
/* Calls the data hook, if one is set (any thread). */
void sl_broker_call_data_hook(struct sl_broker *b);

/* topic_dirs.c: topic ids and the partition directories that carry them (see its header). */
/* 22 random URL-safe base64 characters into out (topic and cluster ids). */
void sl_random_id(char out[SL_TOPIC_ID_LEN + 1]);
/* Makes <data>/<t>-<p>/ t's: stamps a new or adoptable directory, quarantines one of another incarnation
 * first. Returns 0 or -errno. */
int sl_part_dir_claim(struct sl_broker *b, const struct topic *t, int32_t p);
/* Quarantines every <name>-<p> directory of data_dir that no loaded topic owns (find looks a name up).
 * Returns 0 or -errno. */
int sl_orphans_quarantine(struct sl_broker *b, struct topic *(*find)(struct sl_broker *, const char *));

/* housekeeper.c: retention and time-based rolls every retention_check_ms. */
int sl_housekeeper_start(struct sl_broker *b);
void sl_housekeeper_stop(struct sl_broker *b);
/* One pass over every partition (exposed for tests). */
void sl_housekeeper_run_once(struct sl_broker *b, int64_t now_ms);

/* server/broker_view.c: fills b->configs from cfg (the Kafka broker configs sluice has). */
void sl_broker_view_init(struct sl_broker *b, const struct sl_config *cfg);

#endif
