/* Whose data directory this is: <data_dir>/meta.properties, Kafka's identity file, names the cluster and the
 * node a data directory belongs to, so that a node never serves (or, later, replicates into) another node's
 * or another cluster's data.
 *
 * ON-DISK FORMAT (Kafka's meta.properties, version 1, as KRaft writes it): text, one key=value per line,
 * blank lines and '#' / '!' comments ignored, spaces around keys and values ignored:
 *     # sluice data directory identity; do not edit
 *     version=1
 *     cluster.id=<the cluster id: 1..63 bytes, no control byte, no space at either end>
 *     node.id=<0..2147483647>
 * Other keys (Kafka's directory.id) are accepted and ignored; a later line wins over an earlier one with
 * the same key. version 0 (ZooKeeper-era, broker.id=) is refused. Written durably (sl_file_replace: temp file,
 * fdatasync, rename, directory fsync) and never rewritten once there.
 *
 * INVARIANTS
 *   1. meta.properties, once written, holds the (cluster id, node id) every later start of the directory
 *      must have: the configured node.id, and the cluster id the broker uses (cluster.id when configured,
 *      else meta/cluster.id). A start with any other pair is refused before the broker opens.
 *   2. A directory without meta.properties (new, or written by a sluice from before this file) is adopted:
 *      after the broker opened it, its cluster id (meta/cluster.id's, unchanged) and node.id are recorded.
 *   3. meta/cluster.id stays what the broker reads (server/broker.c); when it is missing but meta.properties
 *      is there, sl_data_identity_check restores it from meta.properties rather than letting the broker
 *      generate a new id.
 *
 * FAILURE MODES: a mismatch or a malformed file is SL_ECONFIG with one line in err naming the directory; a
 * read or write failure is -errno with the file named. Nothing is logged here (the caller prints err).
 *
 * THREADS: called by server/main.c before and after sl_broker_open, before any other thread uses the data
 * directory. The parse and format functions are pure. */
#ifndef SL_SERVER_DATA_IDENTITY_H
#define SL_SERVER_DATA_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "storage/fileops.h"

#define SL_DATA_IDENTITY_FILE "meta.properties"
/* The broker's cluster id buffer (server/broker_int.h): a longer configured id is cut to 63 bytes there. */
#define SL_CLUSTER_ID_CAP 64

struct sl_data_identity {
    char cluster_id[SL_CLUSTER_ID_CAP];
    int32_t node_id;
};

/* Parses the text of a meta.properties file. Pure. Returns 0, or SL_ECONFIG with a one-line message in err
 * ("line 3: node.id 'x' is not a number in 0..2147483647", "no cluster.id"). */
int sl_data_identity_parse(const char *text, struct sl_data_identity *out, char *err, size_t errlen);

/* Writes id as a meta.properties text into buf (cap bytes). Pure. Returns 0, or SL_ECONFIG (err filled) for
 * a cluster id that cannot round-trip (empty, a control byte, a space at either end), or -ENOSPC when cap is short. */
int sl_data_identity_format(const struct sl_data_identity *id, char *buf, size_t cap, char *err, size_t errlen);

/* Before sl_broker_open: when cfg->data_dir has a meta.properties, checks that cfg->node_id and the cluster id
 * the broker will use are the recorded ones (INVARIANT 1), restoring a missing meta/cluster.id from it
 * (INVARIANT 3; the only write). A directory without the file passes (it is recorded after the open).
 * Returns 0, SL_ECONFIG (mismatch or malformed file; err is the one line to print) or -errno (err filled). */
int sl_data_identity_check(const struct sl_fileops *fo, const struct sl_config *cfg, char *err, size_t errlen);

/* After sl_broker_open: writes <data_dir>/meta.properties with cluster_id (sl_broker_cluster_id) and node_id
 * when it is missing, durably; when present, checks it as sl_data_identity_check does. Returns 0,
 * SL_ECONFIG or -errno, err filled. */
int sl_data_identity_record(const struct sl_fileops *fo, const char *data_dir, const char *cluster_id, int32_t node_id,
                            char *err, size_t errlen);

#endif
