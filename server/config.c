/* Process configuration: one table of keys (the KEYS array) drives defaults, the properties file, the
 * SLUICE_* environment, the flags and the usage text. Adding a key is one line in KEYS plus its field in
 * struct sl_config.
 *
 * ORDER (each later source wins): embedded defaults -> --config FILE -> SLUICE_* environment -> flags.
 * --config is found in argv first because it decides which file is read before the environment applies.
 *
 * FAILURE MODES: every error is SL_ECONFIG (or -ENOMEM) with a message that names the source
 * ("FILE:LINE", "environment SLUICE_X", "flag --x"), the key and the problem. Nothing is logged here: the
 * logger's level is itself a config value. */
#include "server/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/logging.h"
#include "server/err.h"

/* K_STR must not be empty; K_STR_ANY may be ""; K_STR_OPT turns "" into NULL (unset); K_HOST may be "" or
 * a host name or IP address (letters, digits, '.', '-', ':'; at most 253 bytes); K_VOTERS may be "" or a
 * voter list that sl_voters_parse accepts, parsed into c->voters. */
enum kind { K_STR, K_STR_ANY, K_STR_OPT, K_HOST, K_VOTERS, K_INT, K_I32, K_I64, K_LEVEL, K_DURABILITY };

struct key_def {
    const char *key;
    enum kind kind;
    size_t off;        /* of the field in struct sl_config */
    int64_t min, max;  /* inclusive, numbers only */
    const char *def;   /* textual default; NULL = field stays NULL */
    const char *flag;  /* dedicated flag, NULL = only --set */
    const char *help;
};

/* The _Generic makes a key whose kind does not match its field's C type a compile error. */
#define FIELD(field, ctype) _Generic(((struct sl_config *)0)->field, ctype: offsetof(struct sl_config, field))
#define STR(k, field, def, flag, help) {k, K_STR, FIELD(field, char *), 0, 0, def, flag, help}
#define STR_ANY(k, field, def, flag, help) {k, K_STR_ANY, FIELD(field, char *), 0, 0, def, flag, help}
#define STR_OPT(k, field, def, flag, help) {k, K_STR_OPT, FIELD(field, char *), 0, 0, def, flag, help}
#define HOST(k, field, def, flag, help) {k, K_HOST, FIELD(field, char *), 0, 0, def, flag, help}
#define VOTERS(k, field, def, flag, help) {k, K_VOTERS, FIELD(field, char *), 0, 0, def, flag, help}
#define INT(k, field, lo, hi, def, flag, help) {k, K_INT, FIELD(field, int), lo, hi, def, flag, help}
#define I32(k, field, lo, hi, def, flag, help) {k, K_I32, FIELD(field, int32_t), lo, hi, def, flag, help}
#define I64(k, field, lo, hi, def, flag, help) {k, K_I64, FIELD(field, int64_t), lo, hi, def, flag, help}

static const struct key_def KEYS[] = {
    STR("data.dir", data_dir, "./data", "--data-dir", "directory holding all topic data"),
    STR("rest.bind", rest_bind, "0.0.0.0", "--rest-bind", "address the REST listener binds to"),
    INT("rest.port", rest_port, 0, 65535, "8082", "--rest-port", "REST port (0 = ephemeral)"),
    INT("ws.port", ws_port, 0, 65535, "8092", "--ws-port", "WebSocket port (0 = ephemeral)"),
    STR("ws.bind", ws_bind, "0.0.0.0", "--ws-bind",
        "address the WebSocket listener binds to (0.0.0.0 or :: = every interface, IPv4 and IPv6)"),
    I32("node.id", node_id, 0, INT32_MAX, "1", "--node-id", "this broker's id"),
    {"log.level", K_LEVEL, FIELD(log_level, enum sl_level), 0, 0, "info", "--log-level",
     "debug|info|warn|error"},
    {"durability", K_DURABILITY, FIELD(durability, enum sl_durability), 0, 0, "sync", "--durability",
     "sync (fsync before ack) | async (fsync every flush.ms)"},
    I64("flush.ms", flush_ms, 1, INT64_MAX, "1000", NULL, "fsync interval in async mode"),
    I32("num.partitions", num_partitions, 1, INT32_MAX, "1", NULL, "partitions of a new topic"),
    /* segment.bytes is a Kafka int: index entries hold 32-bit positions. */
    I64("segment.bytes", segment_bytes, 1, INT32_MAX, "1073741824", NULL, "topic default segment size"),
    I64("segment.ms", segment_ms, 1, INT64_MAX, "604800000", NULL, "topic default segment roll time"),
    I64("retention.ms", retention_ms, -1, INT64_MAX, "604800000", NULL, "topic default; -1 = unlimited"),
    I64("retention.bytes", retention_bytes, -1, INT64_MAX, "-1", NULL, "topic default; -1 = unlimited"),
    I32("max.message.bytes", max_message_bytes, 1, INT32_MAX, "1048588", NULL, "topic default largest batch"),
    I64("log.retention.check.interval.ms", retention_check_ms, 1, INT64_MAX, "300000", NULL,
        "how often retention runs"),
    I32("log.max.open.segments", log_max_open_segments, 0, INT32_MAX, "0", NULL,
        "segment files kept open at once (least recently used closed first); 0 = a quarter of the fd limit"),
    I64("rest.max.body.bytes", rest_max_body_bytes, 1, INT64_MAX, "67108864", NULL, "largest request body"),
    I64("buffer.memory.max.bytes", buffer_memory_max_bytes, 0, INT64_MAX, "268435456", NULL,
        "client bytes buffered by all connections together (bodies, WebSocket messages); 0 = unlimited"),
    I32("rest.max.connections", rest_max_connections, 1, INT32_MAX, "10000", NULL, "concurrent connections"),
    I32("rest.max.records.per.request", rest_max_records, 1, INT32_MAX, "100000", NULL,
        "records in one produce request"),
    I64("rest.header.timeout.ms", rest_header_timeout_ms, 100, INT64_MAX, "10000", NULL,
        "a request head must arrive whole within this (408 after)"),
    I64("rest.body.timeout.ms", rest_body_timeout_ms, 100, INT64_MAX, "60000", NULL,
        "a request body (or one record of a chunked v3 stream) must arrive whole within this after its head"),
    I64("rest.idle.timeout.ms", rest_idle_timeout_ms, 100, INT64_MAX, "30000", NULL,
        "a connection with no request in progress (or a silent v3 stream) is closed after this"),
    I32("rest.max.streams", rest_max_streams, 1, INT32_MAX, "64", NULL,
        "chunked v3 produce streams served at once (each by a thread of a bounded pool)"),
    I32("rest.threads", rest_threads, 2, 1024, "2", NULL, "HTTP worker threads (2..1024)"),
    STR_ANY("cors.allowed.origins", cors_allowed_origins, "", NULL, "comma-separated; \"*\" = any"),
    I64("consumer.instance.timeout.ms", consumer_instance_timeout_ms, 1, INT64_MAX, "300000", NULL,
        "idle consumer instances are removed after this"),
    I64("rebalance.timeout.ms", rebalance_timeout_ms, 0, INT64_MAX, "10000", NULL,
        "how long a group rebalance waits for members to commit and acknowledge a revoke; 0 = do not wait"),
    I32("ws.max.connections", ws_max_connections, 1, INT32_MAX, "10000", NULL,
        "concurrent WebSocket connections; more are refused (close 4503)"),
    I64("ws.idle.timeout.ms", ws_idle_timeout_ms, 1000, 65535000, "60000", NULL,
        "WebSocket: ping after half of it, close a silent or non-acking socket after it"),
    I32("ws.max.in.flight", ws_max_in_flight, 1, INT32_MAX, "1000", NULL,
        "WebSocket: default unacknowledged records per socket (max_in_flight query parameter)"),
    /* 1 MiB + 64 KiB: a default-sized record batch (max.message.bytes, 1048588) plus its JSON envelope. */
    I64("ws.max.message.bytes", ws_max_message_bytes, 1024, 1073741824, "1114112", NULL,
        "WebSocket: largest client message; a larger one (or a frame announcing more) is refused (close 4413)"),
    /* Below the 30-60 s idle cut of common proxies (nginx proxy_read_timeout 60 s, AWS ALB 60 s). */
    I64("sse.heartbeat.ms", sse_heartbeat_ms, 100, 3600000, "15000", NULL,
        "SSE: a comment line (\": heartbeat\") is sent on a stream silent for this long"),
    HOST("advertised.host", advertised_host, "", NULL,
        "host name put in URLs sluice returns (v3 self/related, v2 base_uri); empty = rest.bind, or localhost"),
    STR_OPT("cluster.id", cluster_id, NULL, NULL, "unset = derived once and persisted in data.dir"),
    VOTERS("controller.quorum.voters", quorum_voters, "", NULL,
           "id@host:port,... of the metadata quorum's voters (at most 5); empty = a one-node cluster"),
    INT("cluster.port", cluster_port, 0, 65535, "9094", NULL,
        "node-to-node RPC port (0 = ephemeral), on rest.bind's address, on a voter"),
    I64("broker.session.timeout.ms", broker_session_timeout_ms, 500, 3600000, "9000", NULL,
        "the controller fences a node it has not heard from for this long (Kafka's default)"),
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])
_Static_assert(NKEYS <= 64, "struct sl_config explicit_keys has one bit per key");

/* SLUICE_* variables that are not configuration: the test harness sets them for every test process. */
static const char *const NOT_CONFIG_ENV[] = {"SLUICE_BIN", "SLUICE_SOURCE_DIR"};

static const struct key_def *find_key(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].key, key) == 0)
            return &KEYS[i];
    return NULL;
}

/* Writes the environment name of key ("SLUICE_REST_PORT") into buf. */
static void env_name(const char *key, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "SLUICE_");
    for (; *key && n + 1 < cap; key++)
        buf[n++] = *key == '.' ? '_' : (char)(*key >= 'a' && *key <= 'z' ? *key - 'a' + 'A' : *key);
    buf[n] = '\0';
}

/* Strict decimal: optional '-', digits, nothing else. */
static int parse_i64(const char *s, int64_t *out)
{
    if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    *out = v;
    return 0;
}

static bool is_string(enum kind kind)
{
    return kind == K_STR || kind == K_STR_ANY || kind == K_STR_OPT || kind == K_HOST || kind == K_VOTERS;
}

/* sl_voters_parse with the key named in the message. */
static int parse_voters(const struct key_def *k, const char *value, struct sl_voters *out, char *err,
                        size_t errlen)
{
    char why[400];
    if (sl_voters_parse(value, out, why, sizeof why)) {
        snprintf(err, errlen, "key '%s': %s", k->key, why);
        return SL_ECONFIG;
    }
    return 0;
}

static int set_string(struct sl_config *c, const struct key_def *k, const char *value, char *err, size_t errlen)
{
    char **field = (char **)((char *)c + k->off);
    if (k->kind == K_STR && *value == '\0') {
        snprintf(err, errlen, "key '%s': must not be empty", k->key);
        return SL_ECONFIG;
    }
    struct sl_voters vs = {0};
    if (k->kind == K_VOTERS && parse_voters(k, value, &vs, err, errlen))
        return SL_ECONFIG;
    size_t n = strlen(value);
    if (k->kind == K_HOST && (n > 253 || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789.-:") != n)) {
        snprintf(err, errlen, "key '%s': '%s' is not a host name or IP address (IPv6 without brackets)", k->key,
                 value);
        return SL_ECONFIG;
    }
    char *dup = NULL;
    if (k->kind != K_STR_OPT || *value != '\0') {
        dup = strdup(value);
        if (!dup) {
            snprintf(err, errlen, "key '%s': out of memory", k->key);
            return -ENOMEM;
        }
    }
    free(*field);
    *field = dup;
    if (k->kind == K_VOTERS)
        c->voters = vs;
    return 0;
}

static int set_number(struct sl_config *c, const struct key_def *k, const char *value, char *err, size_t errlen)
{
    int64_t v;
    int rc = parse_i64(value, &v);
    if (rc == -EINVAL) {
        snprintf(err, errlen, "key '%s': '%s' is not an integer", k->key, value);
        return SL_ECONFIG;
    }
    if (rc || v < k->min || v > k->max) {
        snprintf(err, errlen, "key '%s': %s is out of range %lld..%lld", k->key, value, (long long)k->min,
                 (long long)k->max);
        return SL_ECONFIG;
    }
    void *field = (char *)c + k->off;
    if (k->kind == K_INT)
        *(int *)field = (int)v;
    else if (k->kind == K_I32)
        *(int32_t *)field = (int32_t)v;
    else
        *(int64_t *)field = v;
    return 0;
}

static int set_enum(struct sl_config *c, const struct key_def *k, const char *value, char *err, size_t errlen)
{
    if (k->kind == K_LEVEL) {
        if (sl_logging_parse_level(value, &c->log_level) == 0)
            return 0;
    } else if (strcmp(value, "sync") == 0 || strcmp(value, "async") == 0) {
        c->durability = value[0] == 's' ? SL_DURABILITY_SYNC : SL_DURABILITY_ASYNC;
        return 0;
    }
    snprintf(err, errlen, "key '%s': '%s' is not one of %s", k->key, value, k->help);
    return SL_ECONFIG;
}

int sl_config_set(struct sl_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const struct key_def *k = find_key(key);
    if (!k) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return SL_ECONFIG;
    }
    switch (k->kind) {
    case K_STR:
    case K_STR_ANY:
    case K_STR_OPT:
    case K_HOST:
    case K_VOTERS:
        return set_string(c, k, value, err, errlen);
    case K_INT:
    case K_I32:
    case K_I64:
        return set_number(c, k, value, err, errlen);
    case K_LEVEL:
    case K_DURABILITY:
        return set_enum(c, k, value, err, errlen);
    }
    snprintf(err, errlen, "key '%s': unhandled kind", key);
    return SL_ECONFIG;
}

void sl_config_defaults(struct sl_config *c)
{
    char err[256];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NKEYS; i++)
        if (KEYS[i].def)
            (void)sl_config_set(c, KEYS[i].key, KEYS[i].def, err, sizeof err); /* only -ENOMEM can fail */
}

void sl_config_fini(struct sl_config *c)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (is_string(KEYS[i].kind)) {
            char **field = (char **)((char *)c + KEYS[i].off);
            free(*field);
            *field = NULL;
        }
    }
    free(c->config_file);
    c->config_file = NULL;
}

/* sl_config_set with the source ("FILE:LINE", "environment X", "flag --x") put in front of the message. */
static int set_from(struct sl_config *c, const char *src, const char *key, const char *value, char *err,
                    size_t errlen)
{
    char msg[512];
    int rc = sl_config_set(c, key, value, msg, sizeof msg);
    if (rc)
        snprintf(err, errlen, "%s: %s", src, msg);
    else
        c->explicit_keys |= UINT64_C(1) << (find_key(key) - KEYS);
    return rc;
}

/* ---- the properties file ---- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n' ||
                     s[n - 1] == '\f'))
        s[--n] = '\0';
    return s;
}

/* Applies one line of the file; blank lines and '#' / '!' comments are skipped. */
static int apply_line(struct sl_config *c, const char *path, unsigned lineno, char *line, char *err,
                      size_t errlen)
{
    char src[4200];
    snprintf(src, sizeof src, "%s:%u", path, lineno);
    char *s = trim(line);
    if (*s == '\0' || *s == '#' || *s == '!')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "%s: expected 'key = value', got '%s'", src, s);
        return SL_ECONFIG;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (*key == '\0') {
        snprintf(err, errlen, "%s: missing key before '='", src);
        return SL_ECONFIG;
    }
    return set_from(c, src, key, value, err, errlen);
}

static int load_file(struct sl_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int rc = -errno;
        snprintf(err, errlen, "config file %s: %s", path, sl_error_message(rc));
        return SL_ECONFIG;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0)
        rc = apply_line(c, path, ++lineno, line, err, errlen);
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "config file %s: read error", path);
        rc = SL_ECONFIG;
    }
    free(line);
    fclose(f);
    return rc;
}

/* ---- the environment ---- */

static bool is_not_config_env(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof NOT_CONFIG_ENV / sizeof NOT_CONFIG_ENV[0]; i++)
        if (strlen(NOT_CONFIG_ENV[i]) == n && strncmp(NOT_CONFIG_ENV[i], name, n) == 0)
            return true;
    return false;
}

/* Applies one "SLUICE_X=value" entry; other entries are ignored. */
static int apply_env(struct sl_config *c, const char *entry, char *err, size_t errlen)
{
    const char *eq = strchr(entry, '=');
    if (strncmp(entry, "SLUICE_", 7) != 0 || !eq)
        return 0;
    size_t n = (size_t)(eq - entry);
    if (is_not_config_env(entry, n))
        return 0;
    char want[128], src[160];
    for (size_t i = 0; i < NKEYS; i++) {
        env_name(KEYS[i].key, want, sizeof want);
        if (strlen(want) == n && strncmp(want, entry, n) == 0) {
            snprintf(src, sizeof src, "environment %s", want);
            return set_from(c, src, KEYS[i].key, eq + 1, err, errlen);
        }
    }
    snprintf(err, errlen, "environment %.*s: no such configuration key", (int)(n > 200 ? 200 : n), entry);
    return SL_ECONFIG;
}

static int load_env(struct sl_config *c, char **envp, char *err, size_t errlen)
{
    for (size_t i = 0; envp && envp[i]; i++) {
        int rc = apply_env(c, envp[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- flags ---- */

enum flag_pass { PASS_CONFIG, PASS_REST };

/* Splits argv[*i] into a flag name and its value ("--x=v" or "--x v", advancing *i). The name is copied into
 * name (cap bytes); *value points into argv or is NULL for --help/-h. */
static int next_flag(int argc, char **argv, int *i, char *name, size_t cap, const char **value, char *err,
                     size_t errlen)
{
    const char *arg = argv[*i];
    *value = NULL;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        snprintf(name, cap, "--help");
        return 0;
    }
    if (strncmp(arg, "--", 2) != 0) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", arg);
        return SL_ECONFIG;
    }
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    snprintf(name, cap, "%.*s", (int)(n < cap ? n : cap - 1), arg);
    if (eq) {
        *value = eq + 1;
    } else if (*i + 1 < argc) {
        *value = argv[++*i];
    } else {
        snprintf(err, errlen, "flag %s needs a value", name);
        return SL_ECONFIG;
    }
    return 0;
}

static const struct key_def *key_for_flag(const char *flag)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (KEYS[i].flag && strcmp(KEYS[i].flag, flag) == 0)
            return &KEYS[i];
    return NULL;
}

/* Applies one flag of the given pass (--help: c->help). Returns 0 or SL_ECONFIG. */
static int apply_flag(struct sl_config *c, enum flag_pass pass, const char *name, const char *value,
                      char *err, size_t errlen)
{
    char src[160];
    snprintf(src, sizeof src, "flag %s", name);
    if (strcmp(name, "--help") == 0) {
        c->help = true;
        return 0;
    }
    if (strcmp(name, "--config") == 0) {
        if (pass != PASS_CONFIG)
            return 0;
        char *dup = strdup(value);
        if (!dup)
            return -ENOMEM;
        free(c->config_file);
        c->config_file = dup;
        return 0;
    }
    if (strcmp(name, "--set") == 0) {
        const char *eq = strchr(value, '=');
        if (!eq || eq == value) {
            snprintf(err, errlen, "%s: expected key=value, got '%s'", src, value);
            return SL_ECONFIG;
        }
        if (pass != PASS_REST)
            return 0;
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)((size_t)(eq - value) < sizeof key ? eq - value : 127), value);
        return set_from(c, src, key, eq + 1, err, errlen);
    }
    const struct key_def *k = key_for_flag(name);
    if (!k) {
        snprintf(err, errlen, "unknown flag %s (see --help)", name);
        return SL_ECONFIG;
    }
    return pass == PASS_REST ? set_from(c, src, k->key, value, err, errlen) : 0;
}

static int load_flags(struct sl_config *c, enum flag_pass pass, int argc, char **argv, char *err,
                      size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *value;
        int rc = next_flag(argc, argv, &i, name, sizeof name, &value, err, errlen);
        if (rc == 0)
            rc = apply_flag(c, pass, name, value, err, errlen);
        if (rc || c->help)
            return rc;
    }
    return 0;
}

/* The settings that only make sense together (config.h, CLUSTER SETTINGS). */
static int check_cluster(const struct sl_config *c, char *err, size_t errlen)
{
    if (c->voters.n > 0 && !sl_config_explicit(c, "node.id")) {
        snprintf(err, errlen,
                 "controller.quorum.voters is set, so node.id must be set too (this node's id in the voter list, "
                 "or an id of its own for a non-voter)");
        return SL_ECONFIG;
    }
    return 0;
}

int sl_config_load(struct sl_config *c, int argc, char **argv, char **envp, char *err, size_t errlen)
{
    sl_config_defaults(c);
    if (!c->data_dir || !c->rest_bind || !c->ws_bind || !c->cors_allowed_origins || !c->advertised_host ||
        !c->quorum_voters) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    /* Pass 1 finds --config (and --help, and any malformed or unknown flag) before anything is applied. */
    int rc = load_flags(c, PASS_CONFIG, argc, argv, err, errlen);
    if (rc == 0 && c->help) {
        sl_config_usage(stdout);
        return 0;
    }
    if (rc == 0 && c->config_file)
        rc = load_file(c, c->config_file, err, errlen);
    if (rc == 0)
        rc = load_env(c, envp, err, errlen);
    if (rc == 0)
        rc = load_flags(c, PASS_REST, argc, argv, err, errlen);
    if (rc == 0)
        rc = check_cluster(c, err, errlen);
    return rc;
}

static const char *metavar(enum kind kind)
{
    switch (kind) {
    case K_INT:
    case K_I32:
    case K_I64:
        return "N";
    case K_LEVEL:
    case K_DURABILITY:
        return "MODE";
    default:
        return "STR";
    }
}

static void print_key(FILE *f, const struct key_def *k)
{
    char env[128], range[64] = "";
    env_name(k->key, env, sizeof env);
    const char *def = !k->def ? "(unset)" : *k->def ? k->def : "\"\"";
    if (k->kind == K_INT || k->kind == K_I32 || k->kind == K_I64)
        snprintf(range, sizeof range, " [%lld..%lld]", (long long)k->min, (long long)k->max);
    fprintf(f, "  %-32s %-40s %s\n      %s%s\n", k->key, env, def, k->help, range);
}

void sl_config_usage(FILE *f)
{
    fprintf(f, "Usage: sluice [flags]\n\n"
               "Settings come from, each later source winning: built-in defaults, the --config file\n"
               "(key = value lines, '#' or '!' comments), SLUICE_* environment variables, flags.\n\n"
               "Flags:\n"
               "  --config FILE          read settings from FILE\n"
               "  --set KEY=VALUE        set any key below\n"
               "  -h, --help             print this text and exit\n");
    for (size_t i = 0; i < NKEYS; i++) {
        if (!KEYS[i].flag)
            continue;
        char left[64];
        snprintf(left, sizeof left, "%s %s", KEYS[i].flag, metavar(KEYS[i].kind));
        fprintf(f, "  %-22s same as --set %s=...\n", left, KEYS[i].key);
    }
    fprintf(f, "\nKeys (environment variable, default):\n");
    for (size_t i = 0; i < NKEYS; i++)
        print_key(f, &KEYS[i]);
}

/* ---- reading keys back (the v3 broker-config listing) ---- */

int sl_config_get(const struct sl_config *c, const char *key, char *buf, size_t buflen)
{
    const struct key_def *k = find_key(key);
    if (!k)
        return SL_ECONFIG;
    const void *field = (const char *)c + k->off;
    switch (k->kind) {
    case K_INT:
        snprintf(buf, buflen, "%d", *(const int *)field);
        break;
    case K_I32:
        snprintf(buf, buflen, "%ld", (long)*(const int32_t *)field);
        break;
    case K_I64:
        snprintf(buf, buflen, "%lld", (long long)*(const int64_t *)field);
        break;
    case K_LEVEL:
        snprintf(buf, buflen, "%s", (const char *[]){"debug", "info", "warn", "error"}[c->log_level & 3]);
        break;
    case K_DURABILITY:
        snprintf(buf, buflen, "%s", c->durability == SL_DURABILITY_SYNC ? "sync" : "async");
        break;
    default: {
        const char *s = *(char *const *)field;
        snprintf(buf, buflen, "%s", s ? s : "");
    }
    }
    return 0;
}

const char *sl_config_default(const char *key)
{
    const struct key_def *k = find_key(key);
    return !k ? NULL : k->def ? k->def : "";
}

bool sl_config_explicit(const struct sl_config *c, const char *key)
{
    const struct key_def *k = find_key(key);
    return k && (c->explicit_keys >> (k - KEYS) & 1u);
}
