/* faultfs: the fault-injecting file operations (see faultfs.h). */
#include "tests/support/faultfs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TRACKED 1024

/* A file written through faultfs: what a power loss would leave of it. */
struct tracked {
    char *path;
    int fd;          /* -1 while closed */
    uint64_t synced; /* size at the last successful fdatasync (or at first open) */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t counts[SL_FAULT_NKINDS]; /* guarded by: mu */
static uint64_t armed_at;                /* guarded by: mu; counts[armed_kind] value that fails, 0 = none */
static enum sl_fault_kind armed_kind;    /* guarded by: mu */
static bool crash_mode;                  /* guarded by: mu */
static bool fired;                       /* guarded by: mu */
static struct tracked files[MAX_TRACKED];  /* guarded by: mu */
static int nfiles;                         /* guarded by: mu */

/* Callers hold mu. */
static struct tracked *by_path(const char *path)
{
    for (int i = 0; i < nfiles; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    return NULL;
}

static struct tracked *by_fd(int fd)
{
    for (int i = 0; i < nfiles; i++)
        if (files[i].fd == fd)
            return &files[i];
    return NULL;
}

static void forget(struct tracked *t)
{
    free(t->path);
    *t = files[--nfiles];
}

/* Notes that path is open for writing as fd (size: its current size). */
static void track_open(const char *path, int fd, uint64_t size)
{
    pthread_mutex_lock(&mu);
    struct tracked *t = by_path(path);
    if (!t && nfiles < MAX_TRACKED) {
        t = &files[nfiles++];
        t->path = strdup(path);
        t->synced = size;
    }
    if (t)
        t->fd = fd;
    pthread_mutex_unlock(&mu);
}

enum verdict { PASS, FAIL, TEAR };

/* Counts one call of 'kind' and decides its fate. */
static enum verdict judge(enum sl_fault_kind kind)
{
    enum verdict v = PASS;
    pthread_mutex_lock(&mu);
    uint64_t n = ++counts[kind];
    if (fired && crash_mode) {
        v = FAIL;
    } else if (!fired && armed_at && kind == armed_kind && n == armed_at) {
        fired = true;
        v = kind == SL_FAULT_WRITE ? TEAR : FAIL;
    }
    pthread_mutex_unlock(&mu);
    return v;
}

/* For the uncounted calls that change the disk: fail once the process is dead. */
static bool dead(void)
{
    pthread_mutex_lock(&mu);
    bool d = fired && crash_mode;
    pthread_mutex_unlock(&mu);
    return d;
}

static int ff_open(const char *path, int flags, int mode)
{
    bool writing = flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC);
    if (writing && judge(SL_FAULT_OPEN) != PASS)
        return -EIO;
    int fd = sl_fileops_posix.open(path, flags, mode);
    uint64_t size = 0;
    if (fd >= 0 && writing && sl_fileops_posix.fsize(fd, &size) == 0)
        track_open(path, fd, size);
    return fd;
}

static int ff_close(int fd)
{
    pthread_mutex_lock(&mu);
    struct tracked *t = by_fd(fd);
    if (t)
        t->fd = -1;
    pthread_mutex_unlock(&mu);
    return sl_fileops_posix.close(fd);
}

static int ff_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
    switch (judge(SL_FAULT_WRITE)) {
    case PASS:
        return sl_fileops_posix.pwrite(fd, buf, n, off);
    case TEAR:
        if (n / 2)
            (void)sl_fileops_posix.pwrite(fd, buf, n / 2, off);
        return -EIO;
    case FAIL:
    default:
        return -EIO;
    }
}

static ssize_t ff_pread(int fd, void *buf, size_t n, uint64_t off)
{
    return sl_fileops_posix.pread(fd, buf, n, off);
}

static int ff_fdatasync(int fd)
{
    if (judge(SL_FAULT_SYNC) != PASS)
        return -EIO;
    uint64_t size = 0;
    int rc = sl_fileops_posix.fsize(fd, &size);
    if (rc == 0)
        rc = sl_fileops_posix.fdatasync(fd);
    if (rc == 0) {
        pthread_mutex_lock(&mu);
        struct tracked *t = by_fd(fd);
        if (t)
            t->synced = size;
        pthread_mutex_unlock(&mu);
    }
    return rc;
}

static int ff_ftruncate(int fd, uint64_t len)
{
    if (judge(SL_FAULT_TRUNCATE) != PASS)
        return -EIO;
    int rc = sl_fileops_posix.ftruncate(fd, len);
    if (rc == 0) {
        pthread_mutex_lock(&mu);
        struct tracked *t = by_fd(fd);
        if (t && t->synced > len)
            t->synced = len;
        pthread_mutex_unlock(&mu);
    }
    return rc;
}

static int ff_fsize(int fd, uint64_t *len)
{
    return sl_fileops_posix.fsize(fd, len);
}

static int ff_rename(const char *from, const char *to)
{
    if (judge(SL_FAULT_RENAME) != PASS)
        return -EIO;
    int rc = sl_fileops_posix.rename(from, to);
    if (rc == 0) {
        pthread_mutex_lock(&mu);
        struct tracked *t = by_path(to);
        if (t)
            forget(t);
        if ((t = by_path(from)) != NULL) {
            char *p = strdup(to);
            free(t->path);
            t->path = p;
        }
        pthread_mutex_unlock(&mu);
    }
    return rc;
}

static int ff_unlink(const char *path)
{
    if (dead())
        return -EIO;
    int rc = sl_fileops_posix.unlink(path);
    if (rc == 0) {
        pthread_mutex_lock(&mu);
        struct tracked *t = by_path(path);
        if (t)
            forget(t);
        pthread_mutex_unlock(&mu);
    }
    return rc;
}

static int ff_mkdir(const char *path, int mode)
{
    return dead() ? -EIO : sl_fileops_posix.mkdir(path, mode);
}

static int ff_rmdir(const char *path)
{
    return dead() ? -EIO : sl_fileops_posix.rmdir(path);
}

static int ff_fsync_dir(const char *path)
{
    return judge(SL_FAULT_SYNC) == PASS ? sl_fileops_posix.fsync_dir(path) : -EIO;
}

const struct sl_fileops sl_faultfs = {
    .open = ff_open,
    .close = ff_close,
    .pwrite = ff_pwrite,
    .pread = ff_pread,
    .fdatasync = ff_fdatasync,
    .ftruncate = ff_ftruncate,
    .fsize = ff_fsize,
    .rename = ff_rename,
    .unlink = ff_unlink,
    .mkdir = ff_mkdir,
    .rmdir = ff_rmdir,
    .fsync_dir = ff_fsync_dir,
};

void sl_faultfs_reset(void)
{
    pthread_mutex_lock(&mu);
    while (nfiles > 0)
        forget(&files[nfiles - 1]);
    for (int k = 0; k < SL_FAULT_NKINDS; k++)
        counts[k] = 0;
    armed_at = 0;
    crash_mode = false;
    fired = false;
    pthread_mutex_unlock(&mu);
}

void sl_faultfs_arm(enum sl_fault_kind kind, uint64_t n)
{
    pthread_mutex_lock(&mu);
    armed_kind = kind;
    armed_at = n ? counts[kind] + n : 0;
    fired = false;
    pthread_mutex_unlock(&mu);
}

void sl_faultfs_set_crash(bool on)
{
    pthread_mutex_lock(&mu);
    crash_mode = on;
    pthread_mutex_unlock(&mu);
}

uint64_t sl_faultfs_count(enum sl_fault_kind kind)
{
    pthread_mutex_lock(&mu);
    uint64_t n = counts[kind];
    pthread_mutex_unlock(&mu);
    return n;
}

bool sl_faultfs_fired(void)
{
    pthread_mutex_lock(&mu);
    bool f = fired;
    pthread_mutex_unlock(&mu);
    return f;
}

int sl_faultfs_power_cut(const char *suffix)
{
    int cut = 0;
    size_t m = strlen(suffix);
    pthread_mutex_lock(&mu);
    for (int i = 0; i < nfiles; i++) {
        const struct tracked *t = &files[i];
        size_t n = strlen(t->path);
        struct stat st;
        if (n < m || strcmp(t->path + n - m, suffix) != 0 || stat(t->path, &st) != 0)
            continue;
        if ((uint64_t)st.st_size > t->synced && truncate(t->path, (off_t)t->synced) == 0)
            cut++;
    }
    pthread_mutex_unlock(&mu);
    return cut;
}

const char *sl_faultfs_kind_name(enum sl_fault_kind kind)
{
    static const char *const names[SL_FAULT_NKINDS] = {"write", "sync", "rename", "truncate", "open"};
    return (unsigned)kind < SL_FAULT_NKINDS ? names[kind] : "?";
}
