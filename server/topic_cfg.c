/* Topic configs sluice honours: parsing, validation and formatting (see broker.h sl_topic_cfg). */
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
