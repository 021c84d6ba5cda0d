/* Topic metadata files (see topicmeta.h for the format) and the directory-tree removal used to delete a topic.
 *
 * INVARIANTS
 *   1. A name reaches a path only after sl_topic_name_valid() accepted it, so "<meta_dir>/<name>.topic" never
 *      leaves meta_dir.
 *   2. A .topic file is only ever replaced whole (sl_file_replace), so a reader sees the old or the new file.
 *   3. A loaded topic's name equals its file's stem; a file whose name= line disagrees is treated as corrupt.
 *
 * FAILURE MODES
 *   A file that does not parse (or is larger than MAX_META_BYTES) is skipped and counted, never fatal: one bad
 *   file must not keep the broker from starting. An I/O error while reading is returned. A "<name>.topic.tmp"
 *   left by a crash inside sl_file_replace is removed by sl_topicmeta_load_all. */
#include "storage/topicmeta.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/err.h"
#include "storage/types.h"

#define SUFFIX ".topic"
#define TMP_SUFFIX ".topic.tmp"
#define MAX_META_BYTES (1u << 20)

bool sl_topic_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = strlen(name);
    if (n == 0 || n > SL_TOPIC_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                  ch == '_' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* mkdir -p through fo; each directory created is made durable in its parent. */
static int make_dirs(const struct sl_fileops *fo, const char *dir)
{
    char path[4096];
    if (dir[0] == '\0')
        return -EINVAL;
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int rc = fo->mkdir(path, 0755);
        if (rc == 0) {
            char *slash = strrchr(path, '/');
            if (slash && slash != path) {
                *slash = '\0';
                rc = fo->fsync_dir(path);
                *slash = '/';
            } else {
                rc = fo->fsync_dir(slash ? "/" : ".");
            }
        } else if (rc == -EEXIST) {
            rc = 0;
        }
        *p = saved;
        if (rc)
            return sl_errctx_set(rc, "mkdir %s", path);
        if (saved == '\0')
            return 0;
    }
}

/* Keys and values are written one per line; a line break inside one would change the file's meaning. */
bool sl_topic_id_valid(const char *id)
{
    return strlen(id) == SL_TOPIC_ID_LEN &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == SL_TOPIC_ID_LEN;
}

static bool line_safe(const char *s)
{
    return strpbrk(s, "\r\n") == NULL;
}

static int append_str(struct sl_buf *b, const char *s)
{
    return sl_buf_append(b, s, strlen(s));
}

static int serialize(const struct sl_topic_meta *m, struct sl_buf *b)
{
    char head[SL_TOPIC_NAME_MAX + SL_TOPIC_ID_LEN + 128];
    int hl = snprintf(head, sizeof head, "# sluice topic metadata\nname=%s\npartitions=%d\ncreated.ms=%lld\n",
                      m->name, (int)m->partitions, (long long)m->created_ms);
    if (m->id[0] && sl_topic_id_valid(m->id))
        snprintf(head + hl, sizeof head - (size_t)hl, "id=%s\n", m->id);
    int rc = append_str(b, head);
    for (size_t i = 0; rc == 0 && i < m->nconfigs; i++) {
        const struct sl_kv *kv = &m->configs[i];
        if (!line_safe(kv->key) || !line_safe(kv->value) || kv->key[0] == '\0' || strchr(kv->key, '='))
            return -EINVAL;
        rc = append_str(b, "config.");
        if (rc == 0)
            rc = append_str(b, kv->key);
        if (rc == 0)
            rc = append_str(b, "=");
        if (rc == 0)
            rc = append_str(b, kv->value);
        if (rc == 0)
            rc = append_str(b, "\n");
    }
    return rc;
}

int sl_topicmeta_save(const struct sl_fileops *fo, const char *meta_dir, const struct sl_topic_meta *m)
{
    if (!sl_topic_name_valid(m->name))
        return SL_EBADNAME;
    struct sl_buf b = {0};
    int rc = serialize(m, &b);
    if (rc)
        goto out;
    rc = make_dirs(fo, meta_dir);
    if (rc)
        goto out;
    char file[SL_TOPIC_NAME_MAX + sizeof SUFFIX];
    snprintf(file, sizeof file, "%s%s", m->name, SUFFIX);
    rc = sl_file_replace(fo, meta_dir, file, b.base, b.len);
out:
    sl_buf_fini(&b);
    return rc;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    if (!((*s >= '0' && *s <= '9') || *s == '-'))
        return SL_ECORRUPT;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return SL_ECORRUPT;
    *out = v;
    return 0;
}

/* Applies one "key=value" line to m. Unknown keys are ignored so newer files stay loadable. */
static int parse_line(struct sl_topic_meta *m, char *line, bool *has_name, bool *has_parts)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#' || *s == '!')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq)
        return SL_ECORRUPT;
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    int64_t v;
    if (strcmp(key, "name") == 0) {
        if (!sl_topic_name_valid(value))
            return SL_ECORRUPT;
        snprintf(m->name, sizeof m->name, "%s", value);
        *has_name = true;
    } else if (strcmp(key, "partitions") == 0) {
        if (parse_i64(value, &v) || v < 1 || v > INT32_MAX)
            return SL_ECORRUPT;
        m->partitions = (int32_t)v;
        *has_parts = true;
    } else if (strcmp(key, "created.ms") == 0) {
        if (parse_i64(value, &v))
            return SL_ECORRUPT;
        m->created_ms = v;
    } else if (strcmp(key, "id") == 0) {
        if (!sl_topic_id_valid(value))
            return SL_ECORRUPT;
        snprintf(m->id, sizeof m->id, "%s", value);
    } else if (strncmp(key, "config.", 7) == 0 && key[7] != '\0') {
        return sl_topicmeta_set(m, key + 7, value);
    }
    return 0;
}

/* Parses text (NUL-terminated, modified in place) into *m, which must be zeroed. On error m is finalized. */
static int parse(char *text, const char *stem, struct sl_topic_meta *m)
{
    bool has_name = false, has_parts = false;
    int rc = 0;
    for (char *line = text, *next; rc == 0 && line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        rc = parse_line(m, line, &has_name, &has_parts);
    }
    if (rc == 0 && (!has_name || !has_parts || strcmp(m->name, stem) != 0))
        rc = SL_ECORRUPT;
    if (rc)
        sl_topicmeta_fini(m);
    return rc;
}

/* Reads and parses <dir>/<file> into *m. Returns 0, SL_ECORRUPT (skip it), -ENOMEM or -errno. */
static int load_one(const struct sl_fileops *fo, const char *dir, const char *file, struct sl_topic_meta *m)
{
    char path[4096], stem[SL_TOPIC_NAME_MAX + 2];
    size_t stem_len = strlen(file) - strlen(SUFFIX);
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return -ENAMETOOLONG;
    if (stem_len > SL_TOPIC_NAME_MAX)
        return SL_ECORRUPT;
    snprintf(stem, sizeof stem, "%.*s", (int)stem_len, file);
    char *text;
    int rc = sl_file_read_all(fo, path, MAX_META_BYTES, &text, NULL);
    if (rc == -EFBIG)
        return SL_ECORRUPT;
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    rc = parse(text, stem, m);
    free(text);
    return rc;
}

static int cmp_meta(const void *a, const void *b)
{
    return strcmp(((const struct sl_topic_meta *)a)->name, ((const struct sl_topic_meta *)b)->name);
}

/* Appends one loaded topic to *arr (growing it). Returns 0 or -ENOMEM. */
static int push(struct sl_topic_meta **arr, size_t *n, size_t *cap, const struct sl_topic_meta *m)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct sl_topic_meta *p = realloc(*arr, ncap * sizeof *p);
        if (!p)
            return -ENOMEM;
        *arr = p;
        *cap = ncap;
    }
    (*arr)[(*n)++] = *m;
    return 0;
}

/* Handles one directory entry: removes a leftover tmp file, loads a .topic file. */
static int load_entry(const struct sl_fileops *fo, const char *dir, const char *file, struct sl_topic_meta **arr,
                      size_t *n, size_t *cap, size_t *skipped)
{
    char path[4096];
    if (ends_with(file, TMP_SUFFIX)) {
        if (snprintf(path, sizeof path, "%s/%s", dir, file) < (int)sizeof path)
            (void)fo->unlink(path); /* a crash inside sl_file_replace; the .topic file is intact */
        return 0;
    }
    if (!ends_with(file, SUFFIX))
        return 0;
    struct sl_topic_meta m;
    int rc = load_one(fo, dir, file, &m);
    if (rc == SL_ECORRUPT || rc == -ENOENT) {
        *skipped += rc == SL_ECORRUPT;
        return 0;
    }
    if (rc)
        return rc;
    rc = push(arr, n, cap, &m);
    if (rc)
        sl_topicmeta_fini(&m);
    return rc;
}

int sl_topicmeta_load_all(const struct sl_fileops *fo, const char *meta_dir, struct sl_topic_meta **out, size_t *n,
                          size_t *skipped)
{
    struct sl_topic_meta *arr = NULL;
    size_t count = 0, cap = 0, nskipped = 0;
    int rc = 0;
    DIR *d = opendir(meta_dir);
    if (!d) {
        if (errno != ENOENT)
            return -errno;
    } else {
        struct dirent *de;
        while (rc == 0 && (de = readdir(d)) != NULL)
            rc = load_entry(fo, meta_dir, de->d_name, &arr, &count, &cap, &nskipped);
        closedir(d);
    }
    if (rc) {
        sl_topicmeta_free_all(arr, count);
        return rc;
    }
    if (count > 1)
        qsort(arr, count, sizeof *arr, cmp_meta);
    *out = arr;
    *n = count;
    if (skipped)
        *skipped = nskipped;
    return 0;
}

int sl_topicmeta_remove(const struct sl_fileops *fo, const char *meta_dir, const char *name)
{
    if (!sl_topic_name_valid(name))
        return SL_EBADNAME;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s%s", meta_dir, name, SUFFIX) >= (int)sizeof path)
        return -ENAMETOOLONG;
    int rc = fo->unlink(path);
    if (rc)
        return rc;
    return fo->fsync_dir(meta_dir);
}

static struct sl_kv *find_kv(const struct sl_topic_meta *m, const char *key)
{
    for (size_t i = 0; i < m->nconfigs; i++)
        if (strcmp(m->configs[i].key, key) == 0)
            return &m->configs[i];
    return NULL;
}

static int remove_kv(struct sl_topic_meta *m, struct sl_kv *kv)
{
    free(kv->key);
    free(kv->value);
    size_t i = (size_t)(kv - m->configs);
    memmove(kv, kv + 1, (m->nconfigs - i - 1) * sizeof *kv);
    m->nconfigs--;
    return 0;
}

int sl_topicmeta_set(struct sl_topic_meta *m, const char *key, const char *value)
{
    struct sl_kv *kv = find_kv(m, key);
    if (!value)
        return kv ? remove_kv(m, kv) : 0;
    char *v = strdup(value);
    if (!v)
        return -ENOMEM;
    if (kv) {
        free(kv->value);
        kv->value = v;
        return 0;
    }
    char *k = strdup(key);
    struct sl_kv *arr = k ? realloc(m->configs, (m->nconfigs + 1) * sizeof *arr) : NULL;
    if (!arr) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    m->configs = arr;
    m->configs[m->nconfigs++] = (struct sl_kv){.key = k, .value = v};
    return 0;
}

const char *sl_topicmeta_get(const struct sl_topic_meta *m, const char *key)
{
    const struct sl_kv *kv = find_kv(m, key);
    return kv ? kv->value : NULL;
}

void sl_topicmeta_fini(struct sl_topic_meta *m)
{
    for (size_t i = 0; i < m->nconfigs; i++) {
        free(m->configs[i].key);
        free(m->configs[i].value);
    }
    free(m->configs);
    m->configs = NULL;
    m->nconfigs = 0;
}

void sl_topicmeta_free_all(struct sl_topic_meta *arr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_topicmeta_fini(&arr[i]);
    free(arr);
}

/* Symbolic links are removed, never followed, so the removal cannot reach outside path. */
int sl_dir_remove_tree(const struct sl_fileops *fo, const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *de;
    char child[4096];
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (snprintf(child, sizeof child, "%s/%s", path, de->d_name) >= (int)sizeof child) {
            rc = -ENAMETOOLONG;
            break;
        }
        struct stat st;
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN)
            is_dir = lstat(child, &st) == 0 && S_ISDIR(st.st_mode);
        rc = is_dir ? sl_dir_remove_tree(fo, child) : fo->unlink(child);
        if (rc == -ENOENT)
            rc = 0;
    }
    closedir(d);
    return rc ? rc : fo->rmdir(path);
}
