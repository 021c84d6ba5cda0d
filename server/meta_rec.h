/* The metadata records: what the cluster's metadata quorum (issue 14) commits, one record per change, and how
 * each is written as bytes in a quorum log entry. Pure functions: no I/O, no threads, no globals.
 *
 * The quorum holds broker registrations, topics with their configs, partition assignments, leaders, and the
 * leader and partition epochs (../DESIGN.md §8). Consumer-group membership is not in it. A record is the
 * change, not the state: the state is what applying every committed record in order gives
 * (server/meta_image.h), which every node does, so every node serves the same view.
 *
 * FORMAT of an encoded record (big-endian; str = u16 length + bytes, no NUL):
 *   u8 version (1)  u8 type  then by type:
 *   REGISTER_BROKER   i32 id, i64 incarnation, str host, u16 rest_port, u16 ws_port, u16 cluster_port
 *   FENCE_BROKER,
 *   UNFENCE_BROKER    i32 id, i64 incarnation
 *   TOPIC_CREATE      str name, str topic_id, u32 nparts, nparts x PART, u16 nconfigs, nconfigs x (str key, str value)
 *   TOPIC_DELETE      str name, str topic_id
 *   PARTITIONS_ADD    str name, u32 nparts (the added ones, numbered from the current count), nparts x PART
 *   TOPIC_CONFIG      str name, str key, u8 reset, str value ("" when reset)
 *   PARTITION_CHANGE  str name, i32 partition, PART (the partition's new state)
 *   PART = i32 leader (-1: none), i32 leader_epoch, i32 partition_epoch, u8 nreplicas, nreplicas x i32
 * Decoding is strict: a length past the end, trailing bytes, an unknown version or type, a string over its
 * bound or a count over its limit is SL_ECORRUPT (the quorum log is checksummed; this catches our own bugs
 * and future versions), and so is a reset flag other than 0/1 or a reset with a value: every record has
 * exactly one encoding, so decoding then encoding gives back the same bytes, and encoding then decoding the
 * same record.
 *
 * OWNERSHIP: a decoded record owns its arrays (parts, configs); sl_meta_rec_fini frees them. Records built
 * by hand may point at the caller's arrays and are then never passed to sl_meta_rec_fini. */
#ifndef SL_SERVER_META_REC_H
#define SL_SERVER_META_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/topicmeta.h"
#include "storage/types.h"

#define SL_META_VERSION 1
#define SL_META_MAX_REPLICAS 16     /* replicas of one partition */
#define SL_META_MAX_PARTITIONS 100000 /* partitions of one topic */
#define SL_META_MAX_CONFIGS 256     /* config entries of one topic */
#define SL_META_HOST_MAX 255
#define SL_META_KEY_MAX 127
#define SL_META_VALUE_MAX 1023

enum sl_meta_type {
    SL_META_REGISTER_BROKER = 1,
    SL_META_FENCE_BROKER = 2,
    SL_META_UNFENCE_BROKER = 3,
    SL_META_TOPIC_CREATE = 4,
    SL_META_TOPIC_DELETE = 5,
    SL_META_PARTITIONS_ADD = 6,
    SL_META_TOPIC_CONFIG = 7,
    SL_META_PARTITION_CHANGE = 8,
};

struct sl_meta_broker {
    int32_t id;          /* node.id */
    int64_t incarnation; /* new at every start of the node: a registration with a lower one is stale */
    char host[SL_META_HOST_MAX + 1];
    uint16_t rest_port, ws_port, cluster_port;
    bool fenced;         /* image state only (not encoded in REGISTER): silent past broker.session.timeout.ms */
};

struct sl_meta_part {
    int32_t leader;          /* node id, -1 when none is live */
    int32_t leader_epoch;    /* +1 at every leader change */
    int32_t partition_epoch; /* +1 at every change of this partition's state (KIP-966) */
    uint8_t nreplicas;
    int32_t replicas[SL_META_MAX_REPLICAS];
};

struct sl_meta_kv {
    char key[SL_META_KEY_MAX + 1];
    char value[SL_META_VALUE_MAX + 1];
};

struct sl_meta_rec {
    enum sl_meta_type type;
    struct sl_meta_broker broker;           /* REGISTER; FENCE/UNFENCE: id and incarnation */
    char topic[SL_TOPIC_NAME_MAX + 1];      /* every TOPIC_* and PARTITION_* type */
    char topic_id[SL_TOPIC_ID_LEN + 1];     /* TOPIC_CREATE, TOPIC_DELETE ("": any) */
    struct sl_meta_part *parts;             /* TOPIC_CREATE: all; PARTITIONS_ADD: the added ones */
    uint32_t nparts;
    struct sl_meta_kv *configs;             /* TOPIC_CREATE: the topic's non-default configs */
    uint16_t nconfigs;
    struct sl_meta_kv kv;                   /* TOPIC_CONFIG */
    bool reset;                             /* TOPIC_CONFIG: back to the default (kv.value unused) */
    int32_t partition;                      /* PARTITION_CHANGE */
    struct sl_meta_part part;               /* PARTITION_CHANGE: the new state */
};

/* Appends the encoding of r to out. Returns 0, -EINVAL (a field over its bound, an unknown type: nothing
 * appended) or -ENOMEM. */
int sl_meta_rec_encode(const struct sl_meta_rec *r, struct sl_buf *out);

/* Decodes the record at p[0, n) (exactly one) into *r (zeroed first; owns its arrays on success). Returns 0,
 * SL_ECORRUPT (see FORMAT; *r holds nothing to free) or -ENOMEM. */
int sl_meta_rec_decode(const uint8_t *p, size_t n, struct sl_meta_rec *r);

/* Frees what sl_meta_rec_decode allocated; r can be decoded into again. */
void sl_meta_rec_fini(struct sl_meta_rec *r);

/* "TOPIC_CREATE", ... for logs; "?" for an unknown type. */
const char *sl_meta_type_name(enum sl_meta_type t);

#endif
