/* The metadata image: the cluster's metadata as the committed records (server/meta_rec.h) leave it, and the
 * one function that changes it, sl_meta_apply. Every node applies the same records in the same order to its
 * own image, so apply is a pure, deterministic function of (image, record): no clock, no randomness, no I/O.
 *
 * RULES (what apply refuses, leaving the image exactly as it was):
 *   REGISTER_BROKER   a registration older than the one held (lower incarnation): SL_EFENCED. Otherwise it
 *                     replaces the node's entry (endpoints may change) and the node is unfenced.
 *   FENCE/UNFENCE     unknown node: -ENOENT; another incarnation than the one registered: SL_EFENCED.
 *   TOPIC_CREATE      invalid name: SL_EBADNAME; the name taken: SL_EEXISTS; no partitions, or a partition
 *                     with no replica, a replica twice, or a leader that is not one of its replicas:
 *                     SL_ECONFIG.
 *   TOPIC_DELETE      unknown topic, or a topic_id given that is not the topic's: SL_ENOTOPIC.
 *   PARTITIONS_ADD    unknown topic: SL_ENOTOPIC; none added or a bad partition (as above): SL_ECONFIG.
 *   TOPIC_CONFIG      unknown topic: SL_ENOTOPIC; an empty key: SL_ECONFIG. (Which keys and values are
 *                     valid is decided before the record is proposed, by the controller.)
 *   PARTITION_CHANGE  unknown topic: SL_ENOTOPIC; unknown partition: SL_ENOPART; a partition_epoch other
 *                     than the current + 1, or a leader_epoch that goes back, or a new leader without a
 *                     higher leader_epoch: SL_EFENCED (a change computed from a stale view, KIP-966); a bad
 *                     partition (as above): SL_ECONFIG.
 *   An unknown record type: SL_ECORRUPT. Out of memory: -ENOMEM (the quorum then stops: a node that cannot
 *   apply must not serve a view the others do not have).
 *
 * A snapshot is the image written as the records that rebuild it (REGISTER_BROKER and FENCE_BROKER per node,
 * TOPIC_CREATE per topic with its current partitions and configs): u32 count, then count times (u32 length,
 * record), big-endian. The count makes a snapshot cut at a record boundary detectable.
 *
 * THREADS: none of its own; an image is owned by one thread at a time (the quorum's), readers take copies. */
#ifndef SL_SERVER_META_IMAGE_H
#define SL_SERVER_META_IMAGE_H

#include "server/meta_rec.h"

struct sl_meta_topic {
    char name[SL_TOPIC_NAME_MAX + 1];
    char id[SL_TOPIC_ID_LEN + 1];
    uint32_t nparts;
    struct sl_meta_part *parts;  /* owned, nparts */
    uint16_t nconfigs;
    struct sl_meta_kv *configs;  /* owned, nconfigs: the non-default ones, in the order first set */
};

struct sl_meta_image {
    struct sl_meta_broker *brokers; /* owned, sorted by id */
    size_t nbrokers;
    struct sl_meta_topic *topics;   /* owned, sorted by name */
    size_t ntopics;
};

/* Applies r to im (see RULES). Returns 0 or the refusal, with im unchanged. */
int sl_meta_apply(struct sl_meta_image *im, const struct sl_meta_rec *r);

/* The topic called name, or NULL. Valid until the next apply. */
const struct sl_meta_topic *sl_meta_topic(const struct sl_meta_image *im, const char *name);
/* Node id's registration, or NULL. Valid until the next apply. */
const struct sl_meta_broker *sl_meta_broker(const struct sl_meta_image *im, int32_t id);
/* A topic's config value for key, or NULL when it has the default. */
const char *sl_meta_config(const struct sl_meta_topic *t, const char *key);

/* Appends the snapshot of im to out. Returns 0 or -ENOMEM. */
int sl_meta_snapshot(const struct sl_meta_image *im, struct sl_buf *out);
/* Builds *im (empty first) from a snapshot. Returns 0, SL_ECORRUPT (not a snapshot sl_meta_snapshot wrote:
 * short, long, or with a record that does not apply) or -ENOMEM; on error *im is empty. */
int sl_meta_restore(struct sl_meta_image *im, const uint8_t *p, size_t n);

/* Frees everything; *im is then the empty image. */
void sl_meta_image_fini(struct sl_meta_image *im);

#endif
