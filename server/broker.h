/* The broker: topics -> partitions -> logs, and the calls the REST and WebSocket layers make.
 *
 * INVARIANTS
 *   1. Appends to one partition are serialized by that partition's append mutex; the flusher's
 *      sl_log_sync runs beside them (see storage/log.h THREADS).
 *   2. The high watermark (HW) is what consumers may see; each partition decides it by one rule
 *      (server/partition.h, "THE HW RULE"). sync durability: HW = durable offset, so a record is visible
 *      exactly when its produce is acknowledged. async: HW = LEO after each append.
 *   3. A produce's done callback runs exactly once, when the HW passes its batch (durable in sync, written
 *      in async), or with an error; never when sl_broker_produce itself returned an error.
 *   4. A watch fires at most once, when the partition's HW passes its offset, or when the topic is deleted
 *      or the broker stops. After sl_broker_unwatch returns, the callback is not running and never will.
 *
 * THREADS
 *   Every function is callable from any thread after sl_broker_open and before sl_broker_close.
 *   Callbacks (produce done, watch fire, data hook) run on the flusher thread or one of its sync helpers in
 *   sync mode, and on the producing thread in async mode; they must be short and must not call back into the broker for the
 *   same partition (resume a connection, set a flag, wake a loop). Topic deletion waits for in-flight
 *   calls on that topic to finish.
 *
 * ON-DISK LAYOUT: <data_dir>/meta/<topic>.topic (storage/topicmeta.h), <data_dir>/<topic>-<p>/ (storage/log.h)
 * with <topic>-<p>/topic.id (server/topic_dirs.c), <data_dir>/meta/cluster.id, <data_dir>/quarantine/ (partition
 * directories that belong to no topic, or to another incarnation of the name). <data_dir>/meta.properties is
 * not the broker's: server/data_identity.h checks and writes it around sl_broker_open.
 *
 * INTERNAL TOPICS: names starting "__" (__consumer_offsets) are the broker's. The calls made for clients
 * (create, delete, add partitions, set config, sl_broker_produce) refuse them with SL_EINTERNAL. */
#ifndef SL_SERVER_BROKER_H
#define SL_SERVER_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "storage/clock.h"
#include "storage/fileops.h"
#include "storage/topicmeta.h"
#include "storage/types.h"

/* The internal topic of committed consumer-group offsets, created by sl_broker_open (server/groups.h). */
#define SL_OFFSETS_TOPIC "__consumer_offsets"

/* The topic configs sluice honours, resolved (defaults filled in). */
struct sl_topic_cfg {
    int64_t retention_ms;
    int64_t retention_bytes;
    int64_t segment_bytes;
    int64_t segment_ms;
    int32_t max_message_bytes;
    char cleanup_policy[16]; /* "delete" */
};

/* Names of the honoured topic configs, NULL-terminated, in a stable order. */
extern const char *const sl_topic_config_names[];

/* One standard Kafka topic config (Kafka's TopicConfig). */
struct sl_topic_config_def {
    const char *name;          /* "retention.ms" */
    const char *kafka_default; /* Kafka's default value, as text */
    const char *broker_name;   /* the broker config it defaults to ("log.retention.ms"), or NULL when none */
    int honoured;              /* index in sl_topic_config_names, or -1: read-only, Kafka's behaviour fixed */
};
/* Every standard Kafka topic config, sorted by name, terminated by a NULL name. Static. */
extern const struct sl_topic_config_def sl_topic_config_defs[];
/* The definition named name, or NULL. */
const struct sl_topic_config_def *sl_topic_config_def(const char *name);

/* The bounds on topic configs a client sets (create, alter), where a tiny value is an attack on the server:
 * segment.bytes >= 1 MiB and segment.ms >= 60000, Kafka's KIP-1030 minimums (both bound how fast a partition can
 * open new segment files). Broker defaults (server config) are not bounded here. Returns 0 or SL_ECONFIG (err
 * says which bound). Unknown keys and bad numbers pass: sl_topic_cfg_set reports those. */
int sl_topic_cfg_check_bounds(const char *key, const char *value, char *err, size_t errlen);

/* Validates and applies one topic config to cfg. value NULL resets it to the broker default (dflt).
 * Returns 0 or SL_ECONFIG (err says why: unknown key, a read-only config (set or reset), not a number,
 * compact not supported, ...); cfg is unchanged then. */
int sl_topic_cfg_set(struct sl_topic_cfg *cfg, const struct sl_topic_cfg *dflt, const char *key, const char *value,
                     char *err, size_t errlen);
/* Formats the value of key into buf. Returns 0 or SL_ECONFIG for an unknown key. */
int sl_topic_cfg_get(const struct sl_topic_cfg *cfg, const char *key, char *buf, size_t buflen);

struct sl_broker;

/* Opens the data dir, reopens (and recovers) every topic, creates the internal __consumer_offsets topic when
 * missing, and starts the flusher and housekeeping threads. cfg is borrowed for the call (copied). fo is the
 * file-operation table every file of the data dir goes through (logs, metadata, ids; sl_fileops_posix in
 * production, a failing one in tests) and clock the time every broker decision reads (sl_clock_posix); both are
 * borrowed, must not be NULL and must outlive b. Returns 0 and *out, or an error (logged). */
int sl_broker_open(const struct sl_config *cfg, const struct sl_fileops *fo, const struct sl_clock *clock,
                   struct sl_broker **out);

/* Flushes and completes every pending produce (durable, or with an error), fires every watch with
 * SL_ESTOPPED, stops the threads, closes every log cleanly and frees b. Callers must have stopped issuing
 * calls. */
void sl_broker_close(struct sl_broker *b);

/* The cluster id (stable across restarts) and this node's id. The string lives as long as b. */
const char *sl_broker_cluster_id(struct sl_broker *b);
int32_t sl_broker_node_id(struct sl_broker *b);

/* ---- topics ---- */

/* Creates a topic with 'partitions' partitions and the given config overrides (n pairs, within
 * sl_topic_cfg_check_bounds), and a new topic id. validate_only: check everything, create nothing. Returns 0,
 * SL_EBADNAME, SL_EEXISTS, SL_ECONFIG, SL_EINTERNAL (a "__" name) (err filled), -errno. */
int sl_broker_topic_create(struct sl_broker *b, const char *name, int32_t partitions, const struct sl_kv *configs,
                           size_t n, bool validate_only, char *err, size_t errlen);
/* Deletes a topic and its data, then calls the deleted hook. Returns 0, SL_ENOTOPIC, SL_EINTERNAL. */
int sl_broker_topic_delete(struct sl_broker *b, const char *name);
/* Raises the partition count to 'count' (never lowers: SL_ECONFIG). Returns 0, SL_ENOTOPIC, SL_ECONFIG,
 * SL_EINTERNAL. */
int sl_broker_topic_add_partitions(struct sl_broker *b, const char *name, int32_t count, char *err, size_t errlen);
/* Sets (value != NULL, within sl_topic_cfg_check_bounds) or resets (value == NULL) one topic config,
 * persisting it. Returns 0, SL_ENOTOPIC, SL_ECONFIG, SL_EINTERNAL (err filled), -errno. */
int sl_broker_topic_set_config(struct sl_broker *b, const char *name, const char *key, const char *value, char *err,
                               size_t errlen);

struct sl_topic_info {
    char name[SL_TOPIC_NAME_MAX + 1];
    int32_t partitions;
    bool internal;
    struct sl_topic_cfg cfg;
    uint32_t overridden; /* bit i set: sl_topic_config_names[i] is set on the topic (not a default) */
};
/* Copies out every topic, sorted by name, into a malloc'd array the caller frees. Returns 0 or -ENOMEM. */
int sl_broker_topics(struct sl_broker *b, struct sl_topic_info **out, size_t *n);
/* Returns 0 and the topic's info, or SL_ENOTOPIC. */
int sl_broker_topic_info(struct sl_broker *b, const char *name, struct sl_topic_info *out);
/* The broker-wide defaults, for config listings. */
const struct sl_topic_cfg *sl_broker_topic_defaults(struct sl_broker *b);

/* ---- partitions ---- */

struct sl_part_info {
    sl_offset_t log_start;
    sl_offset_t log_end;  /* LEO */
    sl_offset_t hw;       /* high watermark: the end offset consumers see */
    uint64_t size_bytes;
    uint32_t segments;
    bool failed;              /* FAILED after an I/O error (disk full, ...): readable, not writable */
    uint32_t damaged_ranges;  /* holes in the log (storage/recover.h), each reported with its offsets */
    uint32_t quarantined;     /* files recovery moved into the partition's quarantine/ folder */
    char reason[256];         /* why failed, then the first damaged range; "" when healthy */
};
/* Returns 0, SL_ENOTOPIC or SL_ENOPART. */
int sl_broker_partition_info(struct sl_broker *b, const char *topic, int32_t partition, struct sl_part_info *out);

/* ---- cluster view: brokers, replicas, broker configs (server/broker_view.c) ----
 * One node today: the only broker is sl_broker_node_id, and it holds every partition's only replica, which
 * is the leader and in sync. These calls are the seam a cluster will fill from its metadata. */

/* The broker ids of the cluster, ascending, into out (cap entries). Returns how many there are (may be more
 * than cap). */
size_t sl_broker_ids(struct sl_broker *b, int32_t *out, size_t cap);
/* True when id is a broker of the cluster. */
bool sl_broker_known(struct sl_broker *b, int32_t id);

struct sl_replica_info {
    int32_t broker_id;
    bool leader;
    bool in_sync;
};
/* The replicas of topic/partition, leader first, into out (cap entries); *n is how many there are.
 * Returns 0, SL_ENOTOPIC or SL_ENOPART. */
int sl_broker_replicas(struct sl_broker *b, const char *topic, int32_t partition, struct sl_replica_info *out,
                       size_t cap, size_t *n);

/* One Kafka broker config whose meaning sluice has, resolved from the process configuration at
 * sl_broker_open (sluice does not change broker configs at run time). */
struct sl_broker_config {
    const char *name;          /* Kafka's name (log.retention.ms); static */
    char value[128];           /* the value in effect */
    char default_value[128];   /* sluice's built-in default, in Kafka's terms */
    bool is_static;            /* set in the config file, the environment or a flag: STATIC_BROKER_CONFIG */
};
/* The configs of broker id, sorted by name: *out points into b and stays valid until sl_broker_close; *n
 * gets the count. Returns 0 or -ENOENT for an unknown broker. */
int sl_broker_configs(struct sl_broker *b, int32_t id, const struct sl_broker_config **out, size_t *n);
/* The config named name of broker id, or NULL when the broker or the name is unknown. Valid until
 * sl_broker_close. */
const struct sl_broker_config *sl_broker_config_find(struct sl_broker *b, int32_t id, const char *name);

/* ---- produce ---- */

/* A produce request, allocated and embedded by the caller; it must stay valid until done runs. */
struct sl_produce {
    void (*done)(struct sl_produce *req, int rc); /* rc 0, SL_EFAILED, SL_ESTOPPED, -errno */
    void *arg;                                    /* for the caller */
    sl_offset_t first, last;                      /* set before done(0) */
    bool built; /* set by the caller: the batch is sl_bb_finish's output, unmodified (no second CRC walk) */
    const char *why; /* set before done(SL_EFAILED): what failed ("fdatasync in /d/t-0: ..."); valid inside
                      * done only (it is the partition log's reason, storage/log.h sl_log_fail_why) */
    /* private to the broker (server/partition.c: the pending list, the offset awaited, the outcome) */
    struct sl_produce *next_;
    sl_offset_t wait_for_;
    int rc_;
};

/* Appends one finished batch (storage/batch.h; modified in place) to topic/partition and arranges for
 * req->done. Returns 0 (done will run exactly once, possibly before this returns), or SL_ENOTOPIC,
 * SL_ENOPART, SL_ETOOBIG (batch larger than the topic's max.message.bytes), SL_EBADBATCH, SL_EFAILED,
 * SL_ESTOPPED, SL_EINTERNAL (an internal topic) (done never runs). */
int sl_broker_produce(struct sl_broker *b, const char *topic, int32_t partition, uint8_t *batch, size_t n,
                      struct sl_produce *req);
/* sl_broker_produce for the broker's own writers (the group coordinator): internal topics only
 * (SL_ENOTOPIC for any other). */
int sl_broker_produce_internal(struct sl_broker *b, const char *topic, int32_t partition, uint8_t *batch, size_t n,
                               struct sl_produce *req);

/* The broker's sticky partitioner (server/partitioner.h), for the keyless records of client produces. Valid
 * until sl_broker_close; any thread. */
struct sl_partitioner *sl_broker_partitioner(struct sl_broker *b);

/* Number of partitions of topic, or SL_ENOTOPIC. */
int32_t sl_broker_partition_count(struct sl_broker *b, const char *topic);

/* ---- read ---- */

/* Reads whole batches from 'from' below the HW, at most max_bytes (at least one batch when available),
 * appending them to out; stops before a damaged range. *hw_out gets the HW at the time of the read.
 * Returns 0 (possibly nothing when from == HW), SL_EOFFSET when from < log start or from > HW,
 * SL_EDAMAGED when from lies in a damaged range (sl_broker_damage_at names it), SL_ENOTOPIC, SL_ENOPART. */
int sl_broker_fetch(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t from, size_t max_bytes,
                    struct sl_buf *out, sl_offset_t *hw_out);
/* The damaged range holding offset off of topic/partition: 0 with [*from, *to) and the reason in why
 * (whylen bytes), or -ENOENT, SL_ENOTOPIC, SL_ENOPART. */
int sl_broker_damage_at(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t off, sl_offset_t *from,
                        sl_offset_t *to, char *why, size_t whylen);

/* One partition that is not healthy (failed, damaged, or with quarantined files). */
struct sl_part_health {
    char topic[SL_TOPIC_NAME_MAX + 1];
    int32_t partition;
    struct sl_part_info info;
};
/* Every unhealthy partition, in a malloc'd array the caller frees (*n may be 0). Returns 0 or -ENOMEM. */
int sl_broker_health(struct sl_broker *b, struct sl_part_health **out, size_t *n);

/* Log start offset and HW. */
int sl_broker_offsets(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t *start,
                      sl_offset_t *end);
/* The earliest offset with timestamp >= ts (HW when none). */
int sl_broker_offset_for_time(struct sl_broker *b, const char *topic, int32_t partition, int64_t ts,
                              sl_offset_t *out);

/* ---- waiting for data ---- */

/* A watch, embedded by the caller. */
struct sl_watch {
    void (*fire)(struct sl_watch *w, int rc); /* rc 0: HW > offset; SL_ENOTOPIC: deleted; SL_ESTOPPED */
    void *arg;
    /* private */
    struct sl_watch *next_, *prev_;
    void *part_;
    sl_offset_t offset_;
};
/* Arms w to fire once the HW of topic/partition exceeds 'offset'. If it already does, fires w before
 * returning (on this thread). Returns 0 (w armed or fired), SL_ENOTOPIC, SL_ENOPART (w not armed). */
int sl_broker_watch(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t offset,
                    struct sl_watch *w);
/* Disarms w. Returns 0 if it was removed before firing, -ENOENT if it already fired (or was never armed).
 * After return the fire callback is not running and never will: a fire in progress on another thread is
 * waited for. So an owner calls this before freeing w (or what fire touches) even when fire already ran,
 * and never while holding a lock its fire callback takes. */
int sl_broker_unwatch(struct sl_broker *b, struct sl_watch *w);

/* Registers the one hook called after a topic is deleted (the group coordinator deletes the group offsets
 * of the topic), on the deleting thread with no broker lock held. Calls are serialized; fn NULL unregisters, and
 * after return the old hook is not running and never runs again. */
void sl_broker_set_deleted_hook(struct sl_broker *b, void (*fn)(void *arg, const char *topic), void *arg);

/* Partition directories moved into <data_dir>/quarantine/ by this open (they belonged to no topic, or to
 * another incarnation of its name). */
unsigned sl_broker_quarantined_dirs(struct sl_broker *b);

/* Sets the broker's one data hook, called whenever any partition's HW advances (the WebSocket server wakes
 * its service thread with it), as soon as the new HW is published and before the produces it covers complete
 * (so subscribers are woken before producers are answered). It may run on several threads at once (sync
 * helpers): fn must be thread-safe and quick, and must not call back into the broker. fn == NULL removes the
 * hook. Any thread, any time: on return, the previous hook is not running and will not run again, so its arg
 * may be freed. */
void sl_broker_set_data_hook(struct sl_broker *b, void (*fn)(void *arg), void *arg);

/* ---- stats, for /metrics ---- */
struct sl_broker_stats {
    uint64_t fsyncs;
    uint64_t fsync_ns_total;
    uint64_t fsync_hist[16]; /* fsync latency buckets: <= 2^(i) * 64 us */
    uint64_t produce_batches;
};
void sl_broker_stats(struct sl_broker *b, struct sl_broker_stats *out);

#endif
