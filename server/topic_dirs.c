/* Partition directories and topic ids: which directory belongs to which incarnation of a topic name.
 *
 * Every topic has an id (meta/<t>.topic "id=", 22 chars of URL-safe base64 from 16 random bytes, as Kafka's
 * topic UUIDs), and every partition directory <data>/<t>-<p>/ holds the same id in its file topic.id
 * ("<id>\n", written durably before the log is opened). Names are reused; ids never are, so data never
 * attaches to the wrong incarnation of a name.
 *
 * INVARIANTS
 *   1. The broker opens a log only in a directory whose topic.id is its topic's id, or in a directory it has
 *      just created and stamped.
 *   2. A directory that does not belong is moved into <data>/quarantine/<dir>.<ms> (logged and counted, never
 *      deleted, never served): a topic.id of another id; data but no topic.id while the topic has an id; a
 *      <name>-<p> directory with no topic of that name, or p past the topic's partition count (its metadata
 *      file was lost or damaged).
 *   3. A topic written before ids (no id= line) gets one when the broker opens, and its directories without
 *      topic.id adopt it. Where that cannot be written (disk full) the topic keeps running without an id.
 *
 * THREADS: sl_orphans_quarantine runs in sl_broker_open, before any other thread; sl_part_dir_claim runs
 * under topics_lock (write) or in sl_broker_open. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "server/broker_int.h"
#include "server/logging.h"
#include "server/err.h"

#define ID_FILE "topic.id"
#define QUARANTINE "quarantine"

void sl_random_id(char out[SL_TOPIC_ID_LEN + 1])
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t rnd[SL_TOPIC_ID_LEN];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(rnd, 1, sizeof rnd, f) != sizeof rnd) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        srand((unsigned)(ts.tv_nsec ^ ts.tv_sec));
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (uint8_t)rand();
    }
    if (f)
        fclose(f);
    for (size_t i = 0; i < sizeof rnd; i++) /* 22 x 6 bits: the 128 random bits of a UUID, and a few more */
        out[i] = a[rnd[i] & 63];
    out[SL_TOPIC_ID_LEN] = '\0';
}

/* Moves <data>/<name> into <data>/quarantine/<name>.<ms>, durably, and says why. Returns 0 or -errno. */
static int quarantine_dir(struct sl_broker *b, const char *name, const char *why)
{
    const struct sl_fileops *fo = b->fo;
    char qdir[4096], from[4096], to[4400];
    snprintf(qdir, sizeof qdir, "%s/%s", b->data_dir, QUARANTINE);
    snprintf(from, sizeof from, "%s/%s", b->data_dir, name);
    snprintf(to, sizeof to, "%s/%s.%" PRId64, qdir, name, sl_clock_wall_ms(b->clock));
    int rc = fo->mkdir(qdir, 0755);
    if (rc == -EEXIST)
        rc = 0;
    if (rc == 0)
        rc = fo->rename(from, to);
    if (rc == 0)
        rc = fo->fsync_dir(qdir);
    if (rc == 0)
        rc = fo->fsync_dir(b->data_dir);
    if (rc) {
        sl_error("cannot quarantine %s (%s): %s", from, why, sl_error_message(rc));
        return sl_errctx_set(rc, "quarantine %s", from);
    }
    atomic_fetch_add(&b->quarantined_dirs, 1);
    sl_warn("quarantined partition directory %s to %s: %s; it is not served (move it back to restore it)", from,
            to, why);
    return 0;
}

/* Whether dir holds anything besides topic.id and leftovers of atomic replaces. */
static bool dir_has_data(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool data = false;
    struct dirent *de;
    while (!data && (de = readdir(d))) {
        const char *nm = de->d_name;
        size_t n = strlen(nm);
        data = strcmp(nm, ".") && strcmp(nm, "..") && strcmp(nm, ID_FILE) && !(n > 4 && !strcmp(nm + n - 4, ".tmp"));
    }
    closedir(d);
    return data;
}

/* The id in dir/topic.id into id (SL_TOPIC_ID_LEN + 1): 0, -ENOENT, SL_ECORRUPT, -errno. */
static int read_dir_id(const struct sl_fileops *fo, const char *dir, char *id)
{
    char path[4200], *text = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, ID_FILE);
    int rc = sl_file_read_all(fo, path, 256, &text, NULL);
    if (rc)
        return rc;
    text[strcspn(text, "\r\n")] = '\0';
    rc = sl_topic_id_valid(text) ? 0 : SL_ECORRUPT;
    if (rc == 0)
        snprintf(id, SL_TOPIC_ID_LEN + 1, "%s", text);
    free(text);
    return rc;
}

static int stamp_dir(const struct sl_fileops *fo, const char *dir, const char *id)
{
    char line[SL_TOPIC_ID_LEN + 2];
    int n = snprintf(line, sizeof line, "%s\n", id);
    int rc = fo->mkdir(dir, 0755);
    if (rc == -EEXIST)
        rc = 0;
    return rc ? sl_errctx_set(rc, "mkdir %s", dir) : sl_file_replace(fo, dir, ID_FILE, line, (size_t)n);
}

int sl_part_dir_claim(struct sl_broker *b, const struct topic *t, int32_t p)
{
    if (!t->meta.id[0])
        return 0; /* a topic from before ids that could not be given one (rule 3) */
    char name[SL_TOPIC_NAME_MAX + 16], dir[4096], id[SL_TOPIC_ID_LEN + 1], why[SL_TOPIC_NAME_MAX + 160];
    snprintf(name, sizeof name, "%s-%" PRId32, t->meta.name, p);
    snprintf(dir, sizeof dir, "%s/%s", b->data_dir, name);
    int rc = read_dir_id(b->fo, dir, id);
    if (rc == 0 && !strcmp(id, t->meta.id))
        return 0;
    if (rc == 0)
        snprintf(why, sizeof why, "it belongs to topic id %s, topic %s is now id %s", id, t->meta.name, t->meta.id);
    else if (rc == SL_ECORRUPT)
        snprintf(why, sizeof why, "its %s does not hold a topic id", ID_FILE);
    else if (rc == -ENOENT && dir_has_data(dir) && !t->adopt_dirs)
        snprintf(why, sizeof why, "it holds data but no %s, and topic %s has id %s", ID_FILE, t->meta.name,
                 t->meta.id);
    else if (rc != -ENOENT)
        return rc;
    else
        why[0] = '\0'; /* new, empty, or adopted by a topic that just got its id */
    if (why[0] && (rc = quarantine_dir(b, name, why)) != 0)
        return rc;
    rc = stamp_dir(b->fo, dir, t->meta.id);
    if (rc && t->adopt_dirs) { /* an existing partition on a full disk: serve it, stamp it next time */
        sl_warn("cannot write %s/%s: %s", dir, ID_FILE, sl_error_message(rc));
        rc = 0;
    }
    return rc;
}

/* Whether name is "<valid topic name>-<partition>"; the split goes into topic and *p. */
static bool parse_part_dir(const char *name, char *topic, int32_t *p)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1) ||
        strlen(dash + 1) > 9 || (size_t)(dash - name) > SL_TOPIC_NAME_MAX)
        return false;
    memcpy(topic, name, (size_t)(dash - name));
    topic[dash - name] = '\0';
    *p = (int32_t)strtol(dash + 1, NULL, 10);
    return sl_topic_name_valid(topic);
}

int sl_orphans_quarantine(struct sl_broker *b, struct topic *(*find)(struct sl_broker *, const char *))
{
    DIR *d = opendir(b->data_dir);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *de;
    char topic[SL_TOPIC_NAME_MAX + 1], why[2 * SL_TOPIC_NAME_MAX + 4200], path[4096];
    while (rc == 0 && (de = readdir(d))) {
        int32_t p;
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", b->data_dir, de->d_name);
        if (!parse_part_dir(de->d_name, topic, &p) || stat(path, &st) || !S_ISDIR(st.st_mode))
            continue;
        struct topic *t = find(b, topic);
        if (t && p < t->meta.partitions)
            continue;
        if (t)
            snprintf(why, sizeof why, "topic %s has %" PRId32 " partition(s)", topic, t->meta.partitions);
        else
            snprintf(why, sizeof why, "no topic %s in %s (its metadata file is missing or damaged)", topic,
                     b->meta_dir);
        rc = quarantine_dir(b, de->d_name, why);
    }
    closedir(d);
    return rc;
}

unsigned sl_broker_quarantined_dirs(struct sl_broker *b)
{
    return (unsigned)atomic_load(&b->quarantined_dirs);
}
