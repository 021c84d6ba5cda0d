/* The file-operation seam: every byte storage/ reads or writes goes through one of these functions.
 *
 * Production code uses sl_fileops_posix. Tests substitute a table that fails the N-th write, fsync or
 * rename (tests/support/faultfs.c) to check recovery and the sticky failed state. All functions return
 * 0 (or a non-negative count/fd) on success and -errno on failure; none of them sets errno for the caller.
 * All entries are thread-safe to the same extent as the POSIX calls they wrap. */
#ifndef SL_STORAGE_FILEOPS_H
#define SL_STORAGE_FILEOPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sl_fileops {
    /* open(2): returns an fd >= 0 or -errno. */
    int (*open)(const char *path, int flags, int mode);
    int (*close)(int fd);
    /* Writes all n bytes at off (loops over short writes). Returns 0 or -errno. */
    int (*pwrite)(int fd, const void *buf, size_t n, uint64_t off);
    /* Reads up to n bytes at off. Returns the count read (0 at EOF) or -errno. */
    ssize_t (*pread)(int fd, void *buf, size_t n, uint64_t off);
    /* fdatasync(2). */
    int (*fdatasync)(int fd);
    int (*ftruncate)(int fd, uint64_t len);
    /* Returns the file size in *len. */
    int (*fsize)(int fd, uint64_t *len);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, int mode);
    int (*rmdir)(const char *path);
    /* Opens the directory and fsyncs it, making renames and creations in it durable. */
    int (*fsync_dir)(const char *path);
};

/* The real thing: thin wrappers over POSIX. */
extern const struct sl_fileops sl_fileops_posix;

/* Writes a whole small file durably: path.tmp, write, fdatasync, rename over path, fsync of dir.
 * Returns 0 or -errno; on error the old file (if any) is intact. */
int sl_file_replace(const struct sl_fileops *fo, const char *dir, const char *name, const void *data, size_t n);

/* Reads a whole small file (at most max bytes) into a NUL-terminated malloc'd buffer that the caller frees.
 * Returns 0, -ENOENT, -EFBIG when larger than max, or -errno. */
int sl_file_read_all(const struct sl_fileops *fo, const char *path, size_t max, char **out, size_t *len_out);

/* Creates dir and every missing parent (mkdir -p), mode 0755; an existing directory is success. Not durable:
 * the caller fsyncs the parents it needs (sl_fileops.fsync_dir). Returns 0, -ENAMETOOLONG or -errno. */
int sl_dir_make_all(const struct sl_fileops *fo, const char *dir);

#endif
