/* Process configuration: embedded defaults, then a key = value file (Kafka server.properties style),
 * then SLUICE_* environment variables, then command-line flags; each later source wins.
 *
 * Keys (file) / environment / flag:
 *   data.dir                       SLUICE_DATA_DIR                       --data-dir DIR     ./data
 *   rest.port                      SLUICE_REST_PORT                      --rest-port N      8082 (0 = ephemeral)
 *   rest.bind                      SLUICE_REST_BIND                      --rest-bind ADDR   0.0.0.0
 *   ws.port                        SLUICE_WS_PORT                        --ws-port N        8092 (0 = ephemeral)
 *   ws.bind                        SLUICE_WS_BIND                        --ws-bind ADDR     0.0.0.0 (every interface)
 *   node.id                        SLUICE_NODE_ID                        --node-id N        1
 *   log.level                      SLUICE_LOG_LEVEL                      --log-level L      info
 *   durability                     SLUICE_DURABILITY                     --durability M     sync (sync|async)
 *   flush.ms                       SLUICE_FLUSH_MS                                          1000 (async mode)
 *   num.partitions                 SLUICE_NUM_PARTITIONS                                    1
 *   segment.bytes, segment.ms, retention.ms, retention.bytes, max.message.bytes: topic defaults
 *   log.retention.check.interval.ms SLUICE_LOG_RETENTION_CHECK_INTERVAL_MS                  300000
 *   log.max.open.segments          SLUICE_LOG_MAX_OPEN_SEGMENTS                             0 (a quarter of RLIMIT_NOFILE)
 *   rest.max.body.bytes            SLUICE_REST_MAX_BODY_BYTES                               67108864
 *   buffer.memory.max.bytes        SLUICE_BUFFER_MEMORY_MAX_BYTES                           268435456 (0 = no limit)
 *   rest.max.connections           SLUICE_REST_MAX_CONNECTIONS                              10000
 *   rest.max.records.per.request   SLUICE_REST_MAX_RECORDS_PER_REQUEST                      100000
 *   rest.threads                   SLUICE_REST_THREADS                                      2
 *   cors.allowed.origins           SLUICE_CORS_ALLOWED_ORIGINS                              "" (none; "*" = any)
 *   consumer.instance.timeout.ms   SLUICE_CONSUMER_INSTANCE_TIMEOUT_MS                      300000
 *   ws.max.connections             SLUICE_WS_MAX_CONNECTIONS                                10000
 *   ws.idle.timeout.ms             SLUICE_WS_IDLE_TIMEOUT_MS                                60000
 *   ws.max.in.flight               SLUICE_WS_MAX_IN_FLIGHT                                  1000
 *   ws.max.message.bytes           SLUICE_WS_MAX_MESSAGE_BYTES                              1114112
 *   cluster.id                     SLUICE_CLUSTER_ID                                        derived, persisted
 *   controller.quorum.voters       SLUICE_CONTROLLER_QUORUM_VOTERS                          "" (none: one node)
 *   cluster.port                   SLUICE_CLUSTER_PORT                                      9094 (0 = ephemeral)
 *   broker.session.timeout.ms      SLUICE_BROKER_SESSION_TIMEOUT_MS                         9000
 * The environment name of any key is SLUICE_ + the key upper-cased with '.' turned into '_'. Unknown keys
 * in a file or the environment are errors, so typos do not pass silently.
 *
 * CLUSTER SETTINGS (issue 14; the quorum itself is not built yet, so today they are checked and recorded only):
 *   controller.quorum.voters is parsed and checked by server/voters.h when it is set (any source), into
 *   voters. A node whose node.id is in the list is a voter; a node whose id is not in it is a non-voter
 *   (Kafka's observer: a broker that follows the quorum without voting), which is allowed: that is how
 *   nodes beyond the voters join. What sl_config_load refuses, after all sources, is a voter list without an
 *   explicit node.id (from the file, the environment or a flag): the default 1 would silently make a node
 *   voter 1, or a non-voter, by accident. Kafka's extra rule (process.roles=controller requires node.id in
 *   the voters) needs a role setting sluice does not have yet. */
#ifndef SL_SERVER_CONFIG_H
#define SL_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "server/voters.h"
#include "storage/log.h"

enum sl_durability { SL_DURABILITY_SYNC, SL_DURABILITY_ASYNC };

struct sl_config {
    bool help;                 /* --help (or -h) was given: sl_config_load printed the usage */
    char *data_dir;            /* owned */
    char *rest_bind;           /* owned */
    int rest_port;
    int ws_port;
    char *ws_bind;             /* owned; an IPv4 or IPv6 address (checked by sl_ws_start) */
    int32_t node_id;
    enum sl_level log_level;
    enum sl_durability durability;
    int64_t flush_ms;
    int32_t num_partitions;
    int64_t segment_bytes;
    int64_t segment_ms;
    int64_t retention_ms;
    int64_t retention_bytes;
    int32_t max_message_bytes;
    int64_t retention_check_ms;
    int32_t log_max_open_segments;
    int64_t rest_max_body_bytes;
    int64_t buffer_memory_max_bytes;
    int32_t rest_max_connections;
    int32_t rest_max_records;
    int64_t rest_header_timeout_ms;
    int64_t rest_body_timeout_ms;
    int64_t rest_idle_timeout_ms;
    int32_t rest_max_streams;
    int32_t rest_threads;
    char *cors_allowed_origins; /* owned; comma-separated */
    int64_t consumer_instance_timeout_ms;
    int64_t rebalance_timeout_ms;
    int32_t ws_max_connections;
    int64_t ws_idle_timeout_ms;
    int32_t ws_max_in_flight;
    int64_t ws_max_message_bytes;
    int64_t sse_heartbeat_ms;   /* SSE: a comment line after this much silence on a stream */
    char *advertised_host;      /* owned; "" = rest.bind, or localhost when that is a wildcard */
    char *cluster_id;           /* owned; NULL = derive */
    char *quorum_voters;        /* owned; controller.quorum.voters as given ("" = none) */
    struct sl_voters voters;    /* quorum_voters parsed (server/voters.h); voters.n == 0 when none */
    int cluster_port;           /* node-to-node RPC port (server/membership.h), on a voter */
    int64_t broker_session_timeout_ms; /* the controller fences a node silent for this long */
    char *config_file;          /* owned; the --config file, NULL if none */
    uint64_t explicit_keys;     /* bit i: key i of the KEYS table was set by the file, environment or a flag */
};

/* Fills c with the embedded defaults. */
void sl_config_defaults(struct sl_config *c);

/* Sets one key from its textual value (any source). Returns 0, or SL_ECONFIG with a message in err (which
 * has errlen bytes) naming the key and what is wrong. */
int sl_config_set(struct sl_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Loads defaults, then --config FILE (if given), then env (envp, NULL-terminated "K=V"), then argv, then
 * checks the settings against each other (CLUSTER SETTINGS above).
 * Returns 0 (with c->help set when --help was given: the usage is printed to stdout and nothing after
 * the flags' first pass is loaded) or SL_ECONFIG with err filled. */
int sl_config_load(struct sl_config *c, int argc, char **argv, char **envp, char *err, size_t errlen);

/* Prints the usage text to f. */
void sl_config_usage(FILE *f);

void sl_config_fini(struct sl_config *c);

/* The current value of key formatted as text (as it would be written in the file) into buf. Returns 0, or
 * SL_ECONFIG for an unknown key. */
int sl_config_get(const struct sl_config *c, const char *key, char *buf, size_t buflen);
/* The built-in default of key as text (a static string; "" when it has none), or NULL for an unknown key. */
const char *sl_config_default(const char *key);
/* True when key was set by the --config file, the environment or a flag (Kafka's STATIC_BROKER_CONFIG),
 * false when it has its built-in default or is unknown. */
bool sl_config_explicit(const struct sl_config *c, const char *key);

#endif
