/* Topic configs: the standard Kafka set (sl_topic_config_defs, for listings) and the ones sluice honours
 * (sl_topic_config_names): parsing, validation and formatting (see broker.h sl_topic_cfg).
 *
 * The set is Kafka 3.9's TopicConfig less message.format.version and message.downconversion.enable (both gone
 * in Kafka 4.0; sluice has one record format). A config sluice does not honour is read-only: setting or
 * resetting it is SL_ECONFIG with a message naming it, and it shows Kafka's behaviour (its default, or the
 * broker config it follows). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/broker.h"
#include "storage/err.h"

const char *const sl_topic_config_names[] = {
    "cleanup.policy", "max.message.bytes", "retention.bytes", "retention.ms", "segment.bytes", "segment.ms", NULL,
};

#define I64MAX "9223372036854775807"

const struct sl_topic_config_def sl_topic_config_defs[] = {
    {"cleanup.policy", "delete", "log.cleanup.policy", 0},
    {"compression.gzip.level", "-1", "compression.gzip.level", -1},
    {"compression.lz4.level", "9", "compression.lz4.level", -1},
    {"compression.type", "producer", "compression.type", -1},
    {"compression.zstd.level", "3", "compression.zstd.level", -1},
    {"delete.retention.ms", "86400000", "log.cleaner.delete.retention.ms", -1},
    {"file.delete.delay.ms", "60000", "log.segment.delete.delay.ms", -1},
    {"flush.messages", I64MAX, "log.flush.interval.messages", -1},
    {"flush.ms", I64MAX, "log.flush.interval.ms", -1},
    {"follower.replication.throttled.replicas", "", NULL, -1},
    {"index.interval.bytes", "4096", "log.index.interval.bytes", -1},
    {"leader.replication.throttled.replicas", "", NULL, -1},
    {"local.retention.bytes", "-2", "log.local.retention.bytes", -1},
    {"local.retention.ms", "-2", "log.local.retention.ms", -1},
    {"max.compaction.lag.ms", I64MAX, "log.cleaner.max.compaction.lag.ms", -1},
    {"max.message.bytes", "1048588", "message.max.bytes", 1},
    {"message.timestamp.after.max.ms", I64MAX, "log.message.timestamp.after.max.ms", -1},
    {"message.timestamp.before.max.ms", I64MAX, "log.message.timestamp.before.max.ms", -1},
    {"message.timestamp.difference.max.ms", I64MAX, "log.message.timestamp.difference.max.ms", -1},
    {"message.timestamp.type", "CreateTime", "log.message.timestamp.type", -1},
    {"min.cleanable.dirty.ratio", "0.5", "log.cleaner.min.cleanable.ratio", -1},
    {"min.compaction.lag.ms", "0", "log.cleaner.min.compaction.lag.ms", -1},
    {"min.insync.replicas", "1", "min.insync.replicas", -1},
    {"preallocate", "false", "log.preallocate", -1},
    {"remote.log.copy.disable", "false", NULL, -1},
    {"remote.log.delete.on.disable", "false", NULL, -1},
    {"remote.storage.enable", "false", NULL, -1},
    {"retention.bytes", "-1", "log.retention.bytes", 2},
    {"retention.ms", "604800000", "log.retention.ms", 3},
    {"segment.bytes", "1073741824", "log.segment.bytes", 4},
    {"segment.index.bytes", "10485760", "log.index.size.max.bytes", -1},
    {"segment.jitter.ms", "0", "log.roll.jitter.ms", -1},
    {"segment.ms", "604800000", "log.roll.ms", 5},
    {"unclean.leader.election.enable", "false", "unclean.leader.election.enable", -1},
    {NULL, NULL, NULL, -1},
};

const struct sl_topic_config_def *sl_topic_config_def(const char *name)
{
    for (const struct sl_topic_config_def *d = sl_topic_config_defs; name && d->name; d++)
        if (!strcmp(d->name, name))
            return d;
    return NULL;
}

/* SL_ECONFIG when key is a standard Kafka topic config sluice does not honour. */
static int refuse_read_only(const char *key, char *err, size_t errlen)
{
    const struct sl_topic_config_def *d = sl_topic_config_def(key);
    if (!d || d->honoured >= 0)
        return 0;
    snprintf(err, errlen,
             "Config '%s' is read-only on sluice: it cannot be set or reset (sluice keeps Kafka's "
             "behaviour for it)",
             key);
    return SL_ECONFIG;
}

static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return SL_ECONFIG;
    *out = v;
    return 0;
}

static int set_number(struct sl_topic_cfg *c, const char *key, const char *value, char *err, size_t errlen)
{
    int64_t v;
    struct {
        const char *name;
        int64_t min, max;
    } lim[] = {
        {"retention.ms", -1, INT64_MAX},     {"retention.bytes", -1, INT64_MAX},
        {"segment.bytes", 14, INT32_MAX},    {"segment.ms", 1, INT64_MAX},
        {"max.message.bytes", 0, INT32_MAX},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        if (strcmp(key, lim[i].name))
            continue;
        if (parse_i64(value, lim[i].min, lim[i].max, &v)) {
            snprintf(err, errlen, "Invalid value %s for configuration %s: must be an integer in [%" PRId64 ", %" PRId64 "]",
                     value, key, lim[i].min, lim[i].max);
            return SL_ECONFIG;
        }
        if (!strcmp(key, "retention.ms"))
            c->retention_ms = v;
        else if (!strcmp(key, "retention.bytes"))
            c->retention_bytes = v;
        else if (!strcmp(key, "segment.bytes"))
            c->segment_bytes = v;
        else if (!strcmp(key, "segment.ms"))
            c->segment_ms = v;
        else
            c->max_message_bytes = (int32_t)v;
        return 0;
    }
    snprintf(err, errlen, "Unknown topic config name: %s", key);
    return SL_ECONFIG;
}

int sl_topic_cfg_check_bounds(const char *key, const char *value, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        int64_t min;
        const char *why;
    } bound[] = {
        {"segment.bytes", 1048576, "1 MiB, Kafka's minimum since KIP-1030"},
        {"segment.ms", 60000, "one minute, Kafka's minimum since KIP-1030"},
    };
    for (size_t i = 0; i < sizeof bound / sizeof bound[0]; i++) {
        int64_t v;
        if (strcmp(key, bound[i].name) || parse_i64(value, INT64_MIN, INT64_MAX, &v) || v >= bound[i].min)
            continue;
        snprintf(err, errlen, "Invalid value %s for configuration %s: must be at least %" PRId64 " (%s; smaller "
                 "values would open a new segment file too often)", value, key, bound[i].min, bound[i].why);
        return SL_ECONFIG;
    }
    return 0;
}

int sl_topic_cfg_set(struct sl_topic_cfg *cfg, const struct sl_topic_cfg *dflt, const char *key, const char *value,
                     char *err, size_t errlen)
{
    char tmp[32];
    if (refuse_read_only(key, err, errlen))
        return SL_ECONFIG;
    if (!value) {
        if (sl_topic_cfg_get(dflt, key, tmp, sizeof tmp)) {
            snprintf(err, errlen, "Unknown topic config name: %s", key);
            return SL_ECONFIG;
        }
        value = tmp;
    }
    if (!strcmp(key, "cleanup.policy")) {
        if (!strcmp(value, "delete")) {
            snprintf(cfg->cleanup_policy, sizeof cfg->cleanup_policy, "delete");
            return 0;
        }
        if (strstr(value, "compact"))
            snprintf(err, errlen, "cleanup.policy=%s is not supported: sluice has no log compaction yet; use delete",
                     value);
        else
            snprintf(err, errlen, "Invalid value %s for configuration cleanup.policy: must be delete", value);
        return SL_ECONFIG;
    }
    return set_number(cfg, key, value, err, errlen);
}

int sl_topic_cfg_get(const struct sl_topic_cfg *cfg, const char *key, char *buf, size_t buflen)
{
    if (!strcmp(key, "cleanup.policy"))
        snprintf(buf, buflen, "%s", cfg->cleanup_policy);
    else if (!strcmp(key, "max.message.bytes"))
        snprintf(buf, buflen, "%" PRId32, cfg->max_message_bytes);
    else if (!strcmp(key, "retention.bytes"))
        snprintf(buf, buflen, "%" PRId64, cfg->retention_bytes);
    else if (!strcmp(key, "retention.ms"))
        snprintf(buf, buflen, "%" PRId64, cfg->retention_ms);
    else if (!strcmp(key, "segment.bytes"))
        snprintf(buf, buflen, "%" PRId64, cfg->segment_bytes);
    else if (!strcmp(key, "segment.ms"))
        snprintf(buf, buflen, "%" PRId64, cfg->segment_ms);
    else
        return SL_ECONFIG;
    return 0;
}
