/* Topic metadata on disk (single node): name, partition count and the topic's own config overrides.
 *
 * ON-DISK FORMAT: <meta_dir>/<topic>.topic, a Kafka server.properties style text file, replaced atomically
 * (tmp + fdatasync + rename + dir fsync):
 *     # sluice topic metadata
 *     name=<topic>
 *     partitions=<n>
 *     created.ms=<epoch ms>
 *     id=<topic id>              22 chars of URL-safe base64 (16 random bytes), as Kafka's topic UUIDs; every
 *                                 partition directory of the topic holds the same id in its topic.id file
 *     config.<key>=<value>        one line per overridden topic config (retention.ms, ...)
 * Names are validated before they are used as file names, so no name can escape the data dir. */
#ifndef SL_STORAGE_TOPICMETA_H
#define SL_STORAGE_TOPICMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/fileops.h"

#define SL_TOPIC_NAME_MAX 249
#define SL_TOPIC_ID_LEN 22

/* Kafka's rule: 1..249 chars of [a-zA-Z0-9._-], and not "." or "..". */
bool sl_topic_name_valid(const char *name);

/* An id of [A-Za-z0-9_-]{22}. */
bool sl_topic_id_valid(const char *id);

struct sl_kv {
    char *key;   /* owned */
    char *value; /* owned */
};

struct sl_topic_meta {
    char name[SL_TOPIC_NAME_MAX + 1];
    int32_t partitions;
    int64_t created_ms;
    char id[SL_TOPIC_ID_LEN + 1]; /* "" in files written before topic ids (the broker assigns one) */
    size_t nconfigs;
    struct sl_kv *configs; /* owned array of owned strings */
};

/* Writes m durably to <meta_dir>/<name>.topic (creating meta_dir). Returns 0, SL_EBADNAME, -errno. */
int sl_topicmeta_save(const struct sl_fileops *fo, const char *meta_dir, const struct sl_topic_meta *m);
/* Loads every *.topic file of meta_dir into a malloc'd array (*out, *n; free with sl_topicmeta_free_all).
 * A missing meta_dir yields 0 topics. A file that does not parse is skipped and reported through the
 * returned count of skipped files in *skipped (may be NULL). Returns 0 or -errno. */
int sl_topicmeta_load_all(const struct sl_fileops *fo, const char *meta_dir, struct sl_topic_meta **out, size_t *n,
                          size_t *skipped);
/* Removes the topic's metadata file durably. Returns 0, -ENOENT, -errno. */
int sl_topicmeta_remove(const struct sl_fileops *fo, const char *meta_dir, const char *name);
/* Sets (or replaces) key in m's configs; value NULL removes it. Returns 0 or -ENOMEM. */
int sl_topicmeta_set(struct sl_topic_meta *m, const char *key, const char *value);
/* Returns the value of key or NULL. The pointer is valid until m changes. */
const char *sl_topicmeta_get(const struct sl_topic_meta *m, const char *key);
void sl_topicmeta_fini(struct sl_topic_meta *m);
void sl_topicmeta_free_all(struct sl_topic_meta *arr, size_t n);

/* Removes a directory tree (files and sub-directories). Returns 0 or -errno. */
int sl_dir_remove_tree(const struct sl_fileops *fo, const char *path);

#endif
