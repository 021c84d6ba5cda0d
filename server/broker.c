/* The broker: topics -> partitions -> logs (see broker.h for the contract, broker_int.h for the locks).
 *
 * Topic lifecycle: create writes <data>/meta/<t>.topic then opens <data>/<t>-<p>/ logs; delete removes the
 * metadata file first (so a crash mid-delete never resurrects a half-deleted topic), then the directories.
 * Every topic has an id carried by its partition directories (topic_dirs.c): at open, a directory of no
 * topic (its metadata lost or damaged) or of another incarnation of the name is quarantined, never served.
 *
 * Internal topics (names starting "__", only __consumer_offsets today) belong to the broker: clients cannot
 * create, write, delete or reconfigure them (SL_EINTERNAL); the coordinator writes through
 * sl_broker_produce_internal. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "server/broker_int.h"
#include "server/logging.h"
#include "server/err.h"
#include "storage/segment.h"

/* ---- topic table (caller holds topics_lock) ---- */

static struct topic *find_topic(struct sl_broker *b, const char *name, size_t *pos)
{
    size_t lo = 0, hi = b->ntopics;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(b->topics[mid]->meta.name, name);
        if (c == 0) {
            if (pos)
                *pos = mid;
            return b->topics[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return NULL;
}

static int insert_topic(struct sl_broker *b, struct topic *t)
{
    size_t pos;
    find_topic(b, t->meta.name, &pos);
    struct topic **arr = realloc(b->topics, (b->ntopics + 1) * sizeof *arr);
    if (!arr)
        return -ENOMEM;
    memmove(arr + pos + 1, arr + pos, (b->ntopics - pos) * sizeof *arr);
    arr[pos] = t;
    b->topics = arr;
    b->ntopics++;
    return 0;
}

static struct topic *find_topic_by_name(struct sl_broker *b, const char *name)
{
    return find_topic(b, name, NULL);
}

static bool internal_name(const char *name)
{
    return name[0] == '_' && name[1] == '_';
}

static int find_part(struct sl_broker *b, const char *topic, int32_t partition, struct part **out)
{
    struct topic *t = find_topic(b, topic, NULL);
    if (!t)
        return SL_ENOTOPIC;
    if (partition < 0 || partition >= t->nparts)
        return SL_ENOPART;
    *out = t->parts[partition];
    return 0;
}

/* ---- partitions ---- */

static void log_cfg_for(struct sl_broker *b, const struct topic *t, const char *dir, struct sl_log_cfg *lc)
{
    sl_log_cfg_defaults(lc, dir);
    lc->fops = b->fo;
    lc->clock = b->clock;
    lc->reporter = sl_logging_reporter();
    lc->segment_bytes = (uint64_t)t->cfg.segment_bytes;
    lc->segment_ms = t->cfg.segment_ms;
    lc->retention_ms = t->cfg.retention_ms;
    lc->retention_bytes = t->cfg.retention_bytes;
    lc->max_batch_bytes = (uint32_t)t->cfg.max_message_bytes + 64 * 1024; /* the broker enforces the limit */
}

static int part_open(struct sl_broker *b, struct topic *t, int32_t id, struct part **out)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s-%" PRId32, b->data_dir, t->meta.name, id);
    struct part *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    struct sl_log_cfg lc;
    log_cfg_for(b, t, dir, &lc);
    int rc = sl_part_dir_claim(b, t, id);
    if (rc)
        sl_error("cannot open partition %s: %s", dir, sl_error_message(rc));
    else
        rc = sl_partition_open(&lc, b->durability, SL_PART_SINGLE_NODE_EPOCH, &p->pt);
    if (rc) {
        free(p);
        return rc;
    }
    p->topic = t;
    p->id = id;
    *out = p;
    return 0;
}

static void part_close(struct sl_broker *b, struct part *p, bool remove_dir)
{
    int rc = sl_partition_close(p->pt, remove_dir ? SL_ENOTOPIC : SL_ESTOPPED);
    if (rc)
        sl_error("closing partition %s-%d: %s", p->topic->meta.name, p->id, sl_error_message(rc));
    if (remove_dir) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s-%" PRId32, b->data_dir, p->topic->meta.name, p->id);
        sl_dir_remove_tree(b->fo, dir);
    }
    free(p);
}

static void topic_free(struct sl_broker *b, struct topic *t, bool remove_dirs)
{
    for (int32_t i = 0; i < t->nparts; i++)
        if (t->parts[i])
            part_close(b, t->parts[i], remove_dirs);
    free(t->parts);
    sl_topicmeta_fini(&t->meta);
    free(t);
}

static int topic_open_parts(struct sl_broker *b, struct topic *t, int32_t from, int32_t to)
{
    struct part **arr = realloc(t->parts, (size_t)to * sizeof *arr);
    if (!arr)
        return -ENOMEM;
    t->parts = arr;
    for (int32_t i = from; i < to; i++) {
        int rc = part_open(b, t, i, &t->parts[i]);
        if (rc)
            return rc;
        t->nparts = i + 1;
    }
    return 0;
}

/* Resolves meta's config overrides into t->cfg. */
static int topic_apply_meta(struct sl_broker *b, struct topic *t, char *err, size_t errlen)
{
    t->cfg = b->defaults;
    t->overridden = 0;
    for (size_t i = 0; i < t->meta.nconfigs; i++) {
        int rc = sl_topic_cfg_set(&t->cfg, &b->defaults, t->meta.configs[i].key, t->meta.configs[i].value, err,
                                  errlen);
        if (rc)
            return rc;
        for (uint32_t k = 0; sl_topic_config_names[k]; k++)
            if (!strcmp(sl_topic_config_names[k], t->meta.configs[i].key))
                t->overridden |= 1u << k;
    }
    t->internal = internal_name(t->meta.name);
    return 0;
}

/* ---- open / close ---- */

static int topic_create(struct sl_broker *b, const char *name, int32_t partitions, const struct sl_kv *configs,
                        size_t n, bool validate_only, char *err, size_t errlen);

/* server/data_identity.c reads meta/cluster.id the same way (before the broker opens): keep the two in step. */
static int load_cluster_id(struct sl_broker *b, const struct sl_config *cfg)
{
    if (cfg->cluster_id && *cfg->cluster_id) {
        snprintf(b->cluster_id, sizeof b->cluster_id, "%s", cfg->cluster_id);
        return 0;
    }
    char path[4096], *text = NULL;
    snprintf(path, sizeof path, "%s/cluster.id", b->meta_dir);
    int rc = sl_file_read_all(b->fo, path, 256, &text, NULL);
    if (rc == 0) {
        text[strcspn(text, "\r\n")] = '\0';
        snprintf(b->cluster_id, sizeof b->cluster_id, "%s", text);
        free(text);
        if (b->cluster_id[0])
            return 0;
    } else if (rc != -ENOENT) {
        return rc;
    }
    sl_random_id(b->cluster_id); /* 22 chars of URL-safe base64, like Kafka's cluster ids */
    char line[80];
    int n = snprintf(line, sizeof line, "%s\n", b->cluster_id);
    return sl_file_replace(b->fo, b->meta_dir, "cluster.id", line, (size_t)n);
}

static int open_topic_from_meta(struct sl_broker *b, struct sl_topic_meta *m)
{
    char err[256];
    struct topic *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->meta = *m;
    memset(m, 0, sizeof *m); /* ownership moved into t */
    int rc = topic_apply_meta(b, t, err, sizeof err);
    if (rc) {
        sl_warn("topic %s: ignoring invalid stored config: %s", t->meta.name, err);
        t->cfg = b->defaults;
    }
    if (!t->meta.id[0]) { /* written before topic ids: give it one, its directories adopt it */
        sl_random_id(t->meta.id);
        t->adopt_dirs = true;
        rc = sl_topicmeta_save(b->fo, b->meta_dir, &t->meta);
        if (rc) {
            sl_warn("topic %s: cannot record its new topic id: %s", t->meta.name, sl_error_message(rc));
            t->meta.id[0] = '\0';
        } else {
            sl_info("topic %s: assigned topic id %s", t->meta.name, t->meta.id);
        }
    }
    rc = topic_open_parts(b, t, 0, t->meta.partitions);
    if (rc == 0)
        rc = insert_topic(b, t);
    if (rc) {
        topic_free(b, t, false);
        return rc;
    }
    return 0;
}

static int load_topics(struct sl_broker *b)
{
    struct sl_topic_meta *metas = NULL;
    size_t n = 0, skipped = 0;
    int rc = sl_topicmeta_load_all(b->fo, b->meta_dir, &metas, &n, &skipped);
    if (rc)
        return rc;
    if (skipped)
        sl_warn("%zu topic metadata file(s) in %s could not be parsed and were skipped", skipped, b->meta_dir);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = open_topic_from_meta(b, &metas[i]);
    sl_topicmeta_free_all(metas, n);
    return rc;
}

static void defaults_from_config(struct sl_broker *b, const struct sl_config *cfg)
{
    b->defaults.retention_ms = cfg->retention_ms;
    b->defaults.retention_bytes = cfg->retention_bytes;
    b->defaults.segment_bytes = cfg->segment_bytes;
    b->defaults.segment_ms = cfg->segment_ms;
    b->defaults.max_message_bytes = cfg->max_message_bytes;
    snprintf(b->defaults.cleanup_policy, sizeof b->defaults.cleanup_policy, "delete");
}

/* The segment fd cache's limit: configured, else a quarter of RLIMIT_NOFILE (at least 64), leaving the
 * rest to connections. */
static void set_fd_limit(const struct sl_config *cfg)
{
    struct rlimit rl;
    uint64_t n = (uint64_t)cfg->log_max_open_segments;
    if (n == 0) {
        n = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (uint64_t)rl.rlim_cur / 4 : 4096;
        n = n < 64 ? 64 : n > UINT32_MAX ? UINT32_MAX : n;
    }
    sl_seg_fd_limit((unsigned)n);
}

static int broker_init(struct sl_broker *b, const struct sl_config *cfg, const struct sl_fileops *fo,
                       const struct sl_clock *clock)
{
    b->fo = fo;
    b->clock = clock;
    defaults_from_config(b, cfg);
    sl_broker_view_init(b, cfg);
    set_fd_limit(cfg);
    b->durability = cfg->durability;
    b->flush_ms = cfg->flush_ms > 0 ? cfg->flush_ms : 1000;
    b->retention_check_ms = cfg->retention_check_ms > 0 ? cfg->retention_check_ms : 300000;
    b->node_id = cfg->node_id;
    b->num_partitions = cfg->num_partitions > 0 ? cfg->num_partitions : 1;
    pthread_rwlock_init(&b->topics_lock, NULL);
    pthread_mutex_init(&b->hook_mu, NULL);
    pthread_rwlock_init(&b->data_rw, NULL);
    pthread_mutex_init(&b->fl_mu, NULL);
    pthread_cond_init(&b->fl_cv, NULL);
    pthread_mutex_init(&b->hk_mu, NULL);
    pthread_cond_init(&b->hk_cv, NULL);
    b->data_dir = strdup(cfg->data_dir);
    size_t n = strlen(cfg->data_dir) + sizeof "/meta";
    b->meta_dir = malloc(n);
    if (!b->data_dir || !b->meta_dir)
        return -ENOMEM;
    snprintf(b->meta_dir, n, "%s/meta", cfg->data_dir);
    int rc = sl_dir_make_all(b->fo, b->meta_dir);
    if (rc)
        sl_error("cannot create data dir %s: %s", b->meta_dir, sl_error_message(rc));
    return rc;
}

int sl_broker_open(const struct sl_config *cfg, const struct sl_fileops *fo, const struct sl_clock *clock,
                   struct sl_broker **out)
{
    struct sl_broker *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    int rc = broker_init(b, cfg, fo, clock);
    if (rc == 0)
        rc = load_cluster_id(b, cfg);
    if (rc == 0)
        rc = load_topics(b);
    if (rc == 0)
        rc = sl_orphans_quarantine(b, find_topic_by_name);
    if (rc == 0 && !find_topic(b, SL_OFFSETS_TOPIC, NULL)) {
        char err[256];
        struct sl_kv kv[] = {{"retention.ms", "-1"}, {"retention.bytes", "-1"}};
        rc = topic_create(b, SL_OFFSETS_TOPIC, 1, kv, 2, false, err, sizeof err);
        if (rc)
            sl_error("cannot create %s: %s", SL_OFFSETS_TOPIC, err);
    }
    if (rc == 0)
        rc = sl_flusher_start(b);
    if (rc == 0)
        rc = sl_housekeeper_start(b);
    if (rc) {
        sl_broker_close(b);
        return rc;
    }
    sl_info("broker open: %zu topics in %s, durability %s, cluster %s", b->ntopics, b->data_dir,
            b->durability == SL_DURABILITY_SYNC ? "sync" : "async", b->cluster_id);
    *out = b;
    return 0;
}

void sl_broker_close(struct sl_broker *b)
{
    if (!b)
        return;
    sl_housekeeper_stop(b);
    sl_flusher_stop(b);
    pthread_rwlock_wrlock(&b->topics_lock);
    for (size_t i = 0; i < b->ntopics; i++)
        topic_free(b, b->topics[i], false);
    free(b->topics);
    b->topics = NULL;
    b->ntopics = 0;
    pthread_rwlock_unlock(&b->topics_lock);
    pthread_rwlock_destroy(&b->topics_lock);
    pthread_mutex_destroy(&b->hook_mu);
    pthread_rwlock_destroy(&b->data_rw);
    pthread_mutex_destroy(&b->fl_mu);
    pthread_cond_destroy(&b->fl_cv);
    pthread_mutex_destroy(&b->hk_mu);
    pthread_cond_destroy(&b->hk_cv);
    free(b->data_dir);
    free(b->meta_dir);
    free(b);
}

const char *sl_broker_cluster_id(struct sl_broker *b)
{
    return b->cluster_id;
}

int32_t sl_broker_node_id(struct sl_broker *b)
{
    return b->node_id;
}

const struct sl_topic_cfg *sl_broker_topic_defaults(struct sl_broker *b)
{
    return &b->defaults;
}

/* ---- topic administration ---- */

static int build_meta(struct sl_broker *b, const char *name, int32_t partitions, const struct sl_kv *configs,
                      size_t n, struct topic *t, char *err, size_t errlen)
{
    snprintf(t->meta.name, sizeof t->meta.name, "%s", name);
    t->meta.partitions = partitions;
    t->meta.created_ms = sl_clock_wall_ms(b->clock);
    sl_random_id(t->meta.id);
    for (size_t i = 0; i < n; i++)
        if (sl_topicmeta_set(&t->meta, configs[i].key, configs[i].value))
            return -ENOMEM;
    return topic_apply_meta(b, t, err, errlen);
}

static int topic_create(struct sl_broker *b, const char *name, int32_t partitions, const struct sl_kv *configs,
                        size_t n, bool validate_only, char *err, size_t errlen)
{
    if (!sl_topic_name_valid(name)) {
        snprintf(err, errlen, "Invalid topic name '%s': use 1 to 249 of [a-zA-Z0-9._-], not '.' or '..'", name);
        return SL_EBADNAME;
    }
    if (partitions < 1 || partitions > 100000) {
        snprintf(err, errlen, "Number of partitions must be between 1 and 100000, got %" PRId32, partitions);
        return SL_ECONFIG;
    }
    struct topic *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    int rc = build_meta(b, name, partitions, configs, n, t, err, errlen);
    pthread_rwlock_wrlock(&b->topics_lock);
    if (rc == 0 && find_topic(b, name, NULL)) {
        snprintf(err, errlen, "Topic '%s' already exists.", name);
        rc = SL_EEXISTS;
    }
    if (rc || validate_only)
        goto out_free;
    rc = sl_topicmeta_save(b->fo, b->meta_dir, &t->meta);
    if (rc == 0)
        rc = topic_open_parts(b, t, 0, partitions);
    if (rc == 0)
        rc = insert_topic(b, t);
    if (rc) {
        snprintf(err, errlen, "cannot create topic '%s': %s", name, sl_error_message(rc));
        sl_topicmeta_remove(b->fo, b->meta_dir, name);
        topic_free(b, t, true);
        pthread_rwlock_unlock(&b->topics_lock);
        return rc;
    }
    pthread_rwlock_unlock(&b->topics_lock);
    sl_info("created topic %s (id %s) with %" PRId32 " partition(s)", name, t->meta.id, partitions);
    return 0;
out_free:
    pthread_rwlock_unlock(&b->topics_lock);
    topic_free(b, t, false);
    return rc;
}

static int refuse_internal(const char *name, char *err, size_t errlen)
{
    snprintf(err, errlen, "Topic '%s' is internal: its name starts with '__', which is reserved for the broker's "
             "own topics; clients cannot create, write, delete or reconfigure them.", name);
    return SL_EINTERNAL;
}

int sl_broker_topic_create(struct sl_broker *b, const char *name, int32_t partitions, const struct sl_kv *configs,
                           size_t n, bool validate_only, char *err, size_t errlen)
{
    if (internal_name(name))
        return refuse_internal(name, err, errlen);
    for (size_t i = 0; i < n; i++)
        if (sl_topic_cfg_check_bounds(configs[i].key, configs[i].value, err, errlen))
            return SL_ECONFIG;
    return topic_create(b, name, partitions, configs, n, validate_only, err, errlen);
}

int sl_broker_topic_delete(struct sl_broker *b, const char *name)
{
    size_t pos;
    pthread_rwlock_wrlock(&b->topics_lock);
    struct topic *t = find_topic(b, name, &pos);
    if (!t || t->internal) {
        pthread_rwlock_unlock(&b->topics_lock);
        return t ? SL_EINTERNAL : SL_ENOTOPIC;
    }
    int rc = sl_topicmeta_remove(b->fo, b->meta_dir, name);
    if (rc && rc != -ENOENT) {
        pthread_rwlock_unlock(&b->topics_lock);
        return rc;
    }
    memmove(b->topics + pos, b->topics + pos + 1, (b->ntopics - pos - 1) * sizeof *b->topics);
    b->ntopics--;
    for (int32_t i = 0; i < t->nparts; i++)
        sl_flusher_forget(b, t->parts[i]);
    topic_free(b, t, true);
    pthread_rwlock_unlock(&b->topics_lock);
    sl_info("deleted topic %s", name);
    pthread_mutex_lock(&b->hook_mu);
    if (b->deleted_hook)
        b->deleted_hook(b->deleted_arg, name);
    pthread_mutex_unlock(&b->hook_mu);
    return 0;
}

int sl_broker_topic_add_partitions(struct sl_broker *b, const char *name, int32_t count, char *err, size_t errlen)
{
    pthread_rwlock_wrlock(&b->topics_lock);
    struct topic *t = find_topic(b, name, NULL);
    int rc = 0;
    if (!t) {
        rc = SL_ENOTOPIC;
        snprintf(err, errlen, "This server does not host this topic: %s", name);
    } else if (t->internal) {
        rc = refuse_internal(name, err, errlen);
    } else if (count < t->nparts || count > 100000) {
        rc = SL_ECONFIG;
        snprintf(err, errlen, "Topic currently has %" PRId32 " partitions, which is higher than the requested %" PRId32 ".",
                 t->nparts, count);
    } else if (count > t->nparts) {
        int32_t old = t->meta.partitions;
        t->meta.partitions = count;
        rc = sl_topicmeta_save(b->fo, b->meta_dir, &t->meta);
        if (rc == 0)
            rc = topic_open_parts(b, t, t->nparts, count);
        if (rc) {
            t->meta.partitions = old;
            snprintf(err, errlen, "cannot add partitions: %s", sl_error_message(rc));
        }
    }
    pthread_rwlock_unlock(&b->topics_lock);
    return rc;
}

int sl_broker_topic_set_config(struct sl_broker *b, const char *name, const char *key, const char *value, char *err,
                               size_t errlen)
{
    pthread_rwlock_wrlock(&b->topics_lock);
    struct topic *t = find_topic(b, name, NULL);
    int rc = 0;
    if (!t) {
        rc = SL_ENOTOPIC;
        goto out;
    }
    if (t->internal) {
        rc = refuse_internal(name, err, errlen);
        goto out;
    }
    struct sl_topic_cfg probe = t->cfg;
    rc = value ? sl_topic_cfg_check_bounds(key, value, err, errlen) : 0;
    if (rc == 0)
        rc = sl_topic_cfg_set(&probe, &b->defaults, key, value, err, errlen);
    if (rc)
        goto out;
    rc = sl_topicmeta_set(&t->meta, key, value);
    if (rc == 0)
        rc = sl_topicmeta_save(b->fo, b->meta_dir, &t->meta);
    if (rc == 0)
        rc = topic_apply_meta(b, t, err, errlen);
    for (int32_t i = 0; rc == 0 && i < t->nparts; i++) {
        sl_partition_set_limits(t->parts[i]->pt, (uint64_t)t->cfg.segment_bytes, t->cfg.segment_ms,
                                t->cfg.retention_ms, t->cfg.retention_bytes);
    }
out:
    pthread_rwlock_unlock(&b->topics_lock);
    return rc;
}

static void fill_info(const struct topic *t, struct sl_topic_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", t->meta.name);
    out->partitions = t->nparts;
    out->internal = t->internal;
    out->cfg = t->cfg;
    out->overridden = t->overridden;
}

int sl_broker_topics(struct sl_broker *b, struct sl_topic_info **out, size_t *n)
{
    pthread_rwlock_rdlock(&b->topics_lock);
    struct sl_topic_info *arr = calloc(b->ntopics ? b->ntopics : 1, sizeof *arr);
    if (!arr) {
        pthread_rwlock_unlock(&b->topics_lock);
        return -ENOMEM;
    }
    for (size_t i = 0; i < b->ntopics; i++)
        fill_info(b->topics[i], &arr[i]);
    *n = b->ntopics;
    pthread_rwlock_unlock(&b->topics_lock);
    *out = arr;
    return 0;
}

int sl_broker_topic_info(struct sl_broker *b, const char *name, struct sl_topic_info *out)
{
    pthread_rwlock_rdlock(&b->topics_lock);
    struct topic *t = find_topic(b, name, NULL);
    if (t)
        fill_info(t, out);
    pthread_rwlock_unlock(&b->topics_lock);
    return t ? 0 : SL_ENOTOPIC;
}

int sl_broker_partition_info(struct sl_broker *b, const char *topic, int32_t partition, struct sl_part_info *out)
{
    struct part *p;
    pthread_rwlock_rdlock(&b->topics_lock);
    int rc = find_part(b, topic, partition, &p);
    if (rc == 0)
        sl_partition_info(p->pt, out);
    pthread_rwlock_unlock(&b->topics_lock);
    return rc;
}

int sl_broker_damage_at(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t off, sl_offset_t *from,
                        sl_offset_t *to, char *why, size_t whylen)
{
    struct part *p;
    struct sl_log_damage d;
    pthread_rwlock_rdlock(&b->topics_lock);
    int rc = find_part(b, topic, partition, &p);
    if (rc == 0 && (rc = sl_log_damage_at(sl_partition_log(p->pt), off, &d)) == 0) {
        *from = d.from;
        *to = d.to;
        snprintf(why, whylen, "%s", d.why);
    }
    pthread_rwlock_unlock(&b->topics_lock);
    return rc;
}

int sl_broker_health(struct sl_broker *b, struct sl_part_health **out, size_t *n)
{
    struct sl_part_health *v = NULL;
    size_t cnt = 0;
    int rc = 0;
    pthread_rwlock_rdlock(&b->topics_lock);
    for (size_t i = 0; rc == 0 && i < b->ntopics; i++)
        for (int32_t k = 0; rc == 0 && k < b->topics[i]->nparts; k++) {
            struct sl_part_info pi;
            sl_partition_info(b->topics[i]->parts[k]->pt, &pi);
            if (!pi.failed && !pi.damaged_ranges && !pi.quarantined)
                continue;
            struct sl_part_health *nv = realloc(v, (cnt + 1) * sizeof *nv);
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
            snprintf(v[cnt].topic, sizeof v[cnt].topic, "%s", b->topics[i]->meta.name);
            v[cnt].partition = k;
            v[cnt++].info = pi;
        }
    pthread_rwlock_unlock(&b->topics_lock);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = cnt;
    return 0;
}

struct sl_partitioner *sl_broker_partitioner(struct sl_broker *b)
{
    return &b->partitioner;
}

int32_t sl_broker_partition_count(struct sl_broker *b, const char *topic)
{
    pthread_rwlock_rdlock(&b->topics_lock);
    struct topic *t = find_topic(b, topic, NULL);
    int32_t n = t ? t->nparts : SL_ENOTOPIC;
    pthread_rwlock_unlock(&b->topics_lock);
    return n;
}

/* ---- produce ---- */

static int produce(struct sl_broker *b, const char *topic, int32_t partition, uint8_t *batch, size_t n,
                   struct sl_produce *req, bool internal)
{
    struct part *p;
    struct sl_part_done done;
    sl_part_done_init(&done);
    pthread_rwlock_rdlock(&b->topics_lock);
    int rc = find_part(b, topic, partition, &p);
    if (rc == 0 && p->topic->internal != internal)
        rc = internal ? SL_ENOTOPIC : SL_EINTERNAL;
    if (rc == 0 && n > (size_t)p->topic->cfg.max_message_bytes)
        rc = SL_ETOOBIG;
    if (rc == 0)
        rc = sl_partition_append(p->pt, batch, n, req, &done);
    if (rc == 0)
        sl_flusher_mark(b, p);
    pthread_rwlock_unlock(&b->topics_lock);
    if (rc)
        return rc;
    atomic_fetch_add(&b->st_batches, 1);
    if (done.advanced)
        sl_broker_call_data_hook(b); /* subscribers first (partition.h, invariant 4) */
    sl_part_done_run(&done);
    return 0;
}

int sl_broker_produce(struct sl_broker *b, const char *topic, int32_t partition, uint8_t *batch, size_t n,
                      struct sl_produce *req)
{
    return produce(b, topic, partition, batch, n, req, false);
}

int sl_broker_produce_internal(struct sl_broker *b, const char *topic, int32_t partition, uint8_t *batch, size_t n,
                               struct sl_produce *req)
{
    return produce(b, topic, partition, batch, n, req, true);
}

/* ---- read ---- */

int sl_broker_fetch(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t from, size_t max_bytes,
                    struct sl_buf *out, sl_offset_t *hw_out)
{
    struct part *p;
    pthread_rwlock_rdlock(&b->topics_lock);
    int rc = find_part(b, topic, partition, &p);
    if (rc == 0)
        rc = sl_partition_fetch(p->pt, from, max_bytes, out, hw_out);
    pthread_rwlock_unlock(&b->topics_lock);
    return rc;
}

int sl_broker_offsets(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t *start,
                      sl_offset_t *end)
{
    struct part *p;
    pthread_rwlock_rdlock(&b->topics_lock);
    int rc = find_part(b, topic, partition, &p);
    if (rc == 0)
        sl_partition_offsets(p->pt, start, end);
    pthread_rwlock_unlock(&b->topics_lock);
    return rc;
}

int sl_broker_offset_for_time(struct sl_broker *b, const char *topic, int32_t partition, int64_t ts,
                              sl_offset_t *out)
{
    struct part *p;
    pthread_rwlock_rdlock(&b->topics_lock);
    int rc = find_part(b, topic, partition, &p);
    if (rc == 0)
        rc = sl_partition_offset_for_time(p->pt, ts, out);
    pthread_rwlock_unlock(&b->topics_lock);
    return rc;
}

/* ---- watches ---- */

int sl_broker_watch(struct sl_broker *b, const char *topic, int32_t partition, sl_offset_t offset,
                    struct sl_watch *w)
{
    struct part *p;
    bool fire_now = false;
    pthread_rwlock_rdlock(&b->topics_lock);
    int rc = find_part(b, topic, partition, &p);
    if (rc == 0)
        fire_now = sl_partition_watch(p->pt, offset, w);
    pthread_rwlock_unlock(&b->topics_lock);
    if (fire_now)
        w->fire(w, 0);
    return rc;
}

/* The partition keeps the unwatch contract (sl_partition_unwatch, issue 11); topics_lock (read) keeps it alive. */
int sl_broker_unwatch(struct sl_broker *b, struct sl_watch *w)
{
    pthread_rwlock_rdlock(&b->topics_lock); /* partitions are freed only under the write lock */
    int rc = sl_partition_unwatch(w);
    pthread_rwlock_unlock(&b->topics_lock);
    return rc;
}

void sl_broker_set_deleted_hook(struct sl_broker *b, void (*fn)(void *arg, const char *topic), void *arg)
{
    pthread_mutex_lock(&b->hook_mu);
    b->deleted_hook = fn;
    b->deleted_arg = arg;
    pthread_mutex_unlock(&b->hook_mu);
}

void sl_broker_set_data_hook(struct sl_broker *b, void (*fn)(void *arg), void *arg)
{
    pthread_rwlock_wrlock(&b->data_rw); /* waits for the calls of the previous hook in progress */
    b->data_hook = fn;
    b->data_arg = arg;
    pthread_rwlock_unlock(&b->data_rw);
}

void sl_broker_call_data_hook(struct sl_broker *b)
{
    pthread_rwlock_rdlock(&b->data_rw); /* calls run concurrently (sync helpers); only a change waits */
    if (b->data_hook)
        b->data_hook(b->data_arg);
    pthread_rwlock_unlock(&b->data_rw);
}

void sl_broker_stats(struct sl_broker *b, struct sl_broker_stats *out)
{
    out->fsyncs = atomic_load(&b->st_fsyncs);
    out->fsync_ns_total = atomic_load(&b->st_fsync_ns);
    out->produce_batches = atomic_load(&b->st_batches);
    for (int i = 0; i < 16; i++)
        out->fsync_hist[i] = atomic_load(&b->st_fsync_hist[i]);
}
