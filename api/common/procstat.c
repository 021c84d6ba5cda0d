/* sl_procstat_read: /proc/self/stat and friends (see procstat.h).
 *
 * /proc/self/stat is one line: "pid (comm) state ppid ...". comm may hold spaces and parentheses, so the
 * fields are counted from the LAST ')'. Fields used (proc(5), 1-based): 14 utime, 15 stime (clock ticks),
 * 22 starttime (clock ticks after boot), 23 vsize (bytes), 24 rss (pages). The boot time is the "btime"
 * line of /proc/stat. */
#include "api/common/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Reads a whole small /proc file into buf (NUL-terminated). Returns 0 or -errno. */
static int slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, size - 1, f);
    int rc = ferror(f) ? -EIO : 0;
    fclose(f);
    buf[n] = '\0';
    return rc;
}

static int read_stat(struct sl_procstat *out, double *start_ticks)
{
    char buf[2048];
    int rc = slurp("/proc/self/stat", buf, sizeof buf);
    if (rc)
        return rc;
    char *p = strrchr(buf, ')');
    if (!p)
        return -EINVAL;
    unsigned long long v[25] = {0}; /* v[n] = field n; fields 3.. follow the ')' */
    int field = 3;
    char *save = NULL;
    for (char *tok = strtok_r(p + 1, " \n", &save); tok && field <= 24; tok = strtok_r(NULL, " \n", &save), field++)
        v[field] = strtoull(tok, NULL, 10);
    if (field <= 24)
        return -EINVAL;
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    if (tck <= 0 || page <= 0)
        return -EINVAL;
    out->cpu_seconds = (double)(v[14] + v[15]) / (double)tck;
    out->virtual_bytes = v[23];
    out->resident_bytes = v[24] * (unsigned long long)page;
    *start_ticks = (double)v[22] / (double)tck;
    return 0;
}

static int read_btime(double *btime)
{
    char buf[16384];
    int rc = slurp("/proc/stat", buf, sizeof buf);
    if (rc)
        return rc;
    const char *b = strstr(buf, "\nbtime ");
    if (!b)
        return -EINVAL;
    *btime = (double)strtoull(b + 7, NULL, 10);
    return 0;
}

static int count_fds(uint64_t *n)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -errno;
    uint64_t k = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            k++;
    closedir(d);
    *n = k ? k - 1 : 0; /* the directory stream's own fd */
    return 0;
}

int sl_procstat_read(struct sl_procstat *out)
{
    double start_ticks, btime;
    int rc = read_stat(out, &start_ticks);
    if (rc == 0)
        rc = read_btime(&btime);
    if (rc == 0)
        rc = count_fds(&out->open_fds);
    if (rc)
        return rc;
    out->start_time = btime + start_ticks;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return -errno;
    out->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    return 0;
}
