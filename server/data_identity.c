/* <data_dir>/meta.properties: parse, format, check before the broker opens, record after (see the header). */
#include "server/data_identity.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/err.h"

#define FILE_MAX 4096                /* a meta.properties is a few lines; anything larger is not one */
#define CLUSTER_ID_FILE "cluster.id" /* in <data_dir>/meta/, the broker's (server/broker.c) */

/* ---- the format ---- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\f'))
        s[--n] = '\0';
    return s;
}

/* What survives a key=value line: 1..63 bytes, no control byte, no space at either end (values are trimmed). */
static bool printable_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SL_CLUSTER_ID_CAP || s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] == 0x7f)
            return false;
    return true;
}

static bool parse_node_id(const char *s, int32_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
        return false;
    long long v = strtoll(s, NULL, 10);
    if (v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

/* Applies one "key=value" line (already trimmed, not a comment). seen: bit 0 version, 1 cluster.id, 2 node.id. */
static int apply_line(char *s, unsigned lineno, struct sl_data_identity *out, unsigned *seen, char *err, size_t errlen)
{
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "line %u: expected key=value", lineno);
        return SL_ECONFIG;
    }
    *eq = '\0';
    const char *key = trim(s), *value = trim(eq + 1);
    if (strcmp(key, "version") == 0) {
        if (strcmp(value, "1") != 0) {
            snprintf(err, errlen, "line %u: version %.20s is not supported (sluice reads version 1)", lineno, value);
            return SL_ECONFIG;
        }
        *seen |= 1u;
    } else if (strcmp(key, "cluster.id") == 0) {
        if (!printable_id(value)) {
            snprintf(err, errlen, "line %u: cluster.id must be 1..63 printable bytes", lineno);
            return SL_ECONFIG;
        }
        snprintf(out->cluster_id, sizeof out->cluster_id, "%s", value);
        *seen |= 2u;
    } else if (strcmp(key, "node.id") == 0) {
        if (!parse_node_id(value, &out->node_id)) {
            snprintf(err, errlen, "line %u: node.id '%.20s' is not a number in 0..2147483647", lineno, value);
            return SL_ECONFIG;
        }
        *seen |= 4u;
    }
    return 0; /* other keys (Kafka's directory.id) are not sluice's */
}

int sl_data_identity_parse(const char *text, struct sl_data_identity *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *copy = strdup(text);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    unsigned seen = 0, lineno = 0;
    int rc = 0;
    for (char *save = NULL, *line = copy; rc == 0 && line; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        char *s = trim(line);
        if (*s != '\0' && *s != '#' && *s != '!')
            rc = apply_line(s, lineno, out, &seen, err, errlen);
    }
    free(copy);
    if (rc == 0 && seen != 7) {
        snprintf(err, errlen, "no %s line", !(seen & 1u) ? "version" : !(seen & 2u) ? "cluster.id" : "node.id");
        rc = SL_ECONFIG;
    }
    return rc;
}

int sl_data_identity_format(const struct sl_data_identity *id, char *buf, size_t cap, char *err, size_t errlen)
{
    if (!printable_id(id->cluster_id)) {
        snprintf(err, errlen,
                 "cluster id '%.63s' cannot be recorded: it must be 1..63 printable bytes, no space at either end",
                 id->cluster_id);
        return SL_ECONFIG;
    }
    int n = snprintf(buf, cap,
                     "# sluice data directory identity (Kafka's meta.properties); do not edit\n"
                     "version=1\ncluster.id=%s\nnode.id=%ld\n",
                     id->cluster_id, (long)id->node_id);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "meta.properties does not fit in %zu bytes", cap);
        return -ENOSPC;
    }
    return 0;
}

/* ---- the files ---- */

/* Reads <data_dir>/meta.properties into *out. Returns 0, -ENOENT (no file), SL_ECONFIG or -errno (err filled). */
static int load(const struct sl_fileops *fo, const char *data_dir, struct sl_data_identity *out, char *err,
                size_t errlen)
{
    char path[4200], *text = NULL, why[256];
    snprintf(path, sizeof path, "%s/%s", data_dir, SL_DATA_IDENTITY_FILE);
    int rc = sl_file_read_all(fo, path, FILE_MAX, &text, NULL);
    if (rc == -ENOENT)
        return rc;
    if (rc) {
        snprintf(err, errlen, "cannot read %s: %s", path, sl_error_message(rc));
        return rc;
    }
    rc = sl_data_identity_parse(text, out, why, sizeof why);
    free(text);
    if (rc)
        snprintf(err, errlen, "%s is not a valid identity file: %s", path, why);
    return rc;
}

/* The cluster id in <data_dir>/meta/cluster.id, as the broker reads it (server/broker.c load_cluster_id: the
 * first line, cut to the buffer; keep the two in step).
 * Returns 0, -ENOENT (no file, or an empty one: the broker generates an id then) or -errno. */
static int read_cluster_id_file(const struct sl_fileops *fo, const char *data_dir, char out[SL_CLUSTER_ID_CAP])
{
    char path[4200], *text = NULL;
    snprintf(path, sizeof path, "%s/meta/%s", data_dir, CLUSTER_ID_FILE);
    int rc = sl_file_read_all(fo, path, 256, &text, NULL);
    if (rc)
        return rc;
    text[strcspn(text, "\r\n")] = '\0';
    snprintf(out, SL_CLUSTER_ID_CAP, "%s", text);
    free(text);
    return out[0] ? 0 : -ENOENT;
}

/* Compares what the directory holds with what this start has. Returns 0 or SL_ECONFIG with the one line. */
static int compare(const char *data_dir, const struct sl_data_identity *have, const char *cluster_id, int32_t node_id,
                   const char *cluster_src, char *err, size_t errlen)
{
    bool same_node = have->node_id == node_id, same_cluster = strcmp(have->cluster_id, cluster_id) == 0;
    if (same_node && same_cluster)
        return 0;
    if (same_cluster)
        snprintf(err, errlen, "data dir %s belongs to node %ld of cluster %s, not node %ld (node.id)", data_dir,
                 (long)have->node_id, have->cluster_id, (long)node_id);
    else
        snprintf(err, errlen, "data dir %s belongs to node %ld of cluster %s, not node %ld of cluster %s (%s)",
                 data_dir, (long)have->node_id, have->cluster_id, (long)node_id, cluster_id, cluster_src);
    return SL_ECONFIG;
}

/* Writes cluster_id into <data_dir>/meta/cluster.id, durably. Returns 0 or -errno (err filled). */
static int restore_cluster_id_file(const struct sl_fileops *fo, const char *data_dir, const char *cluster_id, char *err,
                                   size_t errlen)
{
    char dir[4200], line[SL_CLUSTER_ID_CAP + 1];
    snprintf(dir, sizeof dir, "%s/meta", data_dir);
    int n = snprintf(line, sizeof line, "%s\n", cluster_id);
    int rc = sl_dir_make_all(fo, dir);
    if (rc == 0)
        rc = sl_file_replace(fo, dir, CLUSTER_ID_FILE, line, (size_t)n);
    if (rc)
        snprintf(err, errlen, "cannot restore %s/%s from %s: %s", dir, CLUSTER_ID_FILE, SL_DATA_IDENTITY_FILE,
                 sl_error_message(rc));
    return rc;
}

int sl_data_identity_check(const struct sl_fileops *fo, const struct sl_config *cfg, char *err, size_t errlen)
{
    struct sl_data_identity have;
    int rc = load(fo, cfg->data_dir, &have, err, errlen);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    char cid[SL_CLUSTER_ID_CAP];
    if (cfg->cluster_id && *cfg->cluster_id) {
        snprintf(cid, sizeof cid, "%s", cfg->cluster_id);
        return compare(cfg->data_dir, &have, cid, cfg->node_id, "cluster.id", err, errlen);
    }
    rc = read_cluster_id_file(fo, cfg->data_dir, cid);
    if (rc == 0)
        return compare(cfg->data_dir, &have, cid, cfg->node_id, "meta/cluster.id", err, errlen);
    if (rc != -ENOENT) {
        snprintf(err, errlen, "cannot read %s/meta/%s: %s", cfg->data_dir, CLUSTER_ID_FILE, sl_error_message(rc));
        return rc;
    }
    rc = compare(cfg->data_dir, &have, have.cluster_id, cfg->node_id, "", err, errlen);
    return rc ? rc : restore_cluster_id_file(fo, cfg->data_dir, have.cluster_id, err, errlen);
}

int sl_data_identity_record(const struct sl_fileops *fo, const char *data_dir, const char *cluster_id, int32_t node_id,
                            char *err, size_t errlen)
{
    struct sl_data_identity have;
    int rc = load(fo, data_dir, &have, err, errlen);
    if (rc == 0)
        return compare(data_dir, &have, cluster_id, node_id, "the broker's", err, errlen);
    if (rc != -ENOENT)
        return rc;
    struct sl_data_identity id = {.node_id = node_id};
    char text[512];
    snprintf(id.cluster_id, sizeof id.cluster_id, "%s", cluster_id);
    rc = sl_data_identity_format(&id, text, sizeof text, err, errlen);
    if (rc)
        return rc;
    rc = sl_file_replace(fo, data_dir, SL_DATA_IDENTITY_FILE, text, strlen(text));
    if (rc)
        snprintf(err, errlen, "cannot write %s/%s: %s", data_dir, SL_DATA_IDENTITY_FILE, sl_error_message(rc));
    return rc;
}
