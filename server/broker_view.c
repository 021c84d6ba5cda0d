/* The cluster as the v3 API shows it: broker ids, partition replicas and broker configs (server/broker.h,
 * "cluster view").
 *
 * One node: the only broker is this one, holding every partition's only replica (leader, in sync). The
 * broker configs are Kafka's names for the sluice settings that mean the same thing, resolved once from the
 * process configuration when the broker opens: sluice has no dynamic broker configs, so the table is
 * read-only afterwards and needs no lock. A setting given in the config file, the environment or a flag is
 * STATIC_BROKER_CONFIG (Kafka's source for server.properties); otherwise the value is sluice's default. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/broker.h"
#include "server/broker_int.h"
#include "storage/err.h"

/* Kafka broker config -> the sluice key that has its meaning, or a fixed value sluice always has. */
struct mapping {
    const char *kafka;
    const char *key; /* sluice config key, or NULL for fixed */
    const char *fixed; /* the value when key is NULL */
    /* optional: turns the sluice value into Kafka's terms; out has 128 bytes */
    void (*map)(const char *v, char *out);
};

/* durability=sync fsyncs every produce before it is acknowledged: Kafka's flush after every message. */
static void map_durability(const char *v, char *out)
{
    snprintf(out, 128, "%s", strcmp(v, "sync") ? "9223372036854775807" : "1");
}

/* Sorted by Kafka name (the listing order). */
static const struct mapping MAP[] = {
    {"broker.id", "node.id", NULL, NULL},
    {"default.replication.factor", NULL, "1", NULL},
    {"log.cleanup.policy", NULL, "delete", NULL},
    {"log.dirs", "data.dir", NULL, NULL},
    {"log.flush.interval.messages", "durability", NULL, map_durability},
    {"log.flush.interval.ms", "flush.ms", NULL, NULL},
    {"log.retention.bytes", "retention.bytes", NULL, NULL},
    {"log.retention.check.interval.ms", "log.retention.check.interval.ms", NULL, NULL},
    {"log.retention.ms", "retention.ms", NULL, NULL},
    {"log.roll.ms", "segment.ms", NULL, NULL},
    {"log.segment.bytes", "segment.bytes", NULL, NULL},
    {"message.max.bytes", "max.message.bytes", NULL, NULL},
    {"node.id", "node.id", NULL, NULL},
    {"num.partitions", "num.partitions", NULL, NULL},
};
#define NMAP (sizeof MAP / sizeof MAP[0])
_Static_assert(NMAP <= SL_BROKER_CONFIGS_MAX, "raise SL_BROKER_CONFIGS_MAX");

void sl_broker_view_init(struct sl_broker *b, const struct sl_config *cfg)
{
    for (size_t i = 0; i < NMAP; i++) {
        const struct mapping *m = &MAP[i];
        struct sl_broker_config *c = &b->configs[i];
        char v[128] = "", d[128] = "";
        c->name = m->kafka;
        c->is_static = m->key && sl_config_explicit(cfg, m->key);
        if (m->key) {
            sl_config_get(cfg, m->key, v, sizeof v);
            snprintf(d, sizeof d, "%s", sl_config_default(m->key));
        } else {
            snprintf(v, sizeof v, "%s", m->fixed);
            snprintf(d, sizeof d, "%s", m->fixed);
        }
        if (m->map) {
            m->map(v, c->value);
            m->map(d, c->default_value);
        } else {
            memcpy(c->value, v, sizeof v);
            memcpy(c->default_value, d, sizeof d);
        }
    }
    b->nconfigs = NMAP;
}

size_t sl_broker_ids(struct sl_broker *b, int32_t *out, size_t cap)
{
    if (cap > 0)
        out[0] = b->node_id;
    return 1;
}

bool sl_broker_known(struct sl_broker *b, int32_t id)
{
    return id == b->node_id;
}

int sl_broker_replicas(struct sl_broker *b, const char *topic, int32_t partition, struct sl_replica_info *out,
                       size_t cap, size_t *n)
{
    struct sl_topic_info ti;
    int rc = sl_broker_topic_info(b, topic, &ti);
    if (rc)
        return rc;
    if (partition < 0 || partition >= ti.partitions)
        return SL_ENOPART;
    if (cap > 0)
        out[0] = (struct sl_replica_info){.broker_id = b->node_id, .leader = true, .in_sync = true};
    *n = 1;
    return 0;
}

int sl_broker_configs(struct sl_broker *b, int32_t id, const struct sl_broker_config **out, size_t *n)
{
    if (!sl_broker_known(b, id))
        return -ENOENT;
    *out = b->configs;
    *n = b->nconfigs;
    return 0;
}

const struct sl_broker_config *sl_broker_config_find(struct sl_broker *b, int32_t id, const char *name)
{
    if (!name || !sl_broker_known(b, id))
        return NULL;
    for (size_t i = 0; i < b->nconfigs; i++)
        if (!strcmp(b->configs[i].name, name))
            return &b->configs[i];
    return NULL;
}
