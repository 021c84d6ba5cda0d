/* sl_fileops_posix (the real file operations) and three helpers built on any fileops table.
 *
 * FAILURE MODES: every function returns -errno as the kernel reported it; EINTR is retried; short writes
 * are continued. sl_file_replace leaves the previous file intact on any error (the tmp file is removed). */
#include "storage/fileops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/err.h"

static int px_open(const char *path, int flags, int mode)
{
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

static int px_close(int fd)
{
    return close(fd) ? -errno : 0;
}

static int px_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static ssize_t px_pread(int fd, void *buf, size_t n, uint64_t off)
{
    ssize_t r;
    do
        r = pread(fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static int px_fdatasync(int fd)
{
    return fdatasync(fd) ? -errno : 0;
}

static int px_ftruncate(int fd, uint64_t len)
{
    return ftruncate(fd, (off_t)len) ? -errno : 0;
}

static int px_fsize(int fd, uint64_t *len)
{
    struct stat st;
    if (fstat(fd, &st))
        return -errno;
    *len = (uint64_t)st.st_size;
    return 0;
}

static int px_rename(const char *from, const char *to)
{
    return rename(from, to) ? -errno : 0;
}

static int px_unlink(const char *path)
{
    return unlink(path) ? -errno : 0;
}

static int px_mkdir(const char *path, int mode)
{
    return mkdir(path, (mode_t)mode) ? -errno : 0;
}

static int px_rmdir(const char *path)
{
    return rmdir(path) ? -errno : 0;
}

static int px_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

const struct sl_fileops sl_fileops_posix = {
    .open = px_open,
    .close = px_close,
    .pwrite = px_pwrite,
    .pread = px_pread,
    .fdatasync = px_fdatasync,
    .ftruncate = px_ftruncate,
    .fsize = px_fsize,
    .rename = px_rename,
    .unlink = px_unlink,
    .mkdir = px_mkdir,
    .rmdir = px_rmdir,
    .fsync_dir = px_fsync_dir,
};

int sl_file_replace(const struct sl_fileops *fo, const char *dir, const char *name, const void *data, size_t n)
{
    char path[4096], tmp[4096 + 8];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -ENAMETOOLONG;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = fo->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return sl_errctx_set(fd, "create %s", tmp);
    int rc = fo->pwrite(fd, data, n, 0);
    if (rc == 0)
        rc = fo->fdatasync(fd);
    int crc = fo->close(fd);
    if (rc == 0)
        rc = crc;
    if (rc == 0)
        rc = fo->rename(tmp, path);
    if (rc) {
        fo->unlink(tmp);
        return sl_errctx_set(rc, "write %s", path);
    }
    rc = fo->fsync_dir(dir);
    return rc ? sl_errctx_set(rc, "fsync of the directory %s", dir) : 0;
}

int sl_file_read_all(const struct sl_fileops *fo, const char *path, size_t max, char **out, size_t *len_out)
{
    int fd = fo->open(path, O_RDONLY, 0);
    if (fd < 0)
        return fd == -ENOENT ? fd : sl_errctx_set(fd, "open %s", path);
    uint64_t size;
    int rc = fo->fsize(fd, &size);
    if (rc)
        goto out_close;
    if (size > max) {
        rc = -EFBIG;
        goto out_close;
    }
    char *buf = malloc((size_t)size + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out_close;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = fo->pread(fd, buf + got, (size_t)size - got, got);
        if (r <= 0) {
            rc = r < 0 ? (int)r : -EIO;
            free(buf);
            goto out_close;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    if (len_out)
        *len_out = got;
out_close:
    fo->close(fd);
    return rc && rc != -EFBIG && rc != -ENOMEM ? sl_errctx_set(rc, "read %s", path) : rc;
}

int sl_dir_make_all(const struct sl_fileops *fo, const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return -ENAMETOOLONG;
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        int rc = fo->mkdir(p, 0755);
        *c = '/';
        if (rc && rc != -EEXIST)
            return sl_errctx_set(rc, "mkdir %s", p);
    }
    int rc = fo->mkdir(p, 0755);
    return rc == -EEXIST ? 0 : rc ? sl_errctx_set(rc, "mkdir %s", p) : 0;
}
