/* The process's own resource usage, read from /proc/self, for the standard process_* families of GET /metrics
 * (the names and meanings of the Prometheus client libraries' process collector).
 *
 * THREADS: any thread; no state is kept between calls. */
#ifndef SL_API_PROCSTAT_H
#define SL_API_PROCSTAT_H

#include <stdint.h>

struct sl_procstat {
    double cpu_seconds;       /* user + system CPU time */
    uint64_t resident_bytes;  /* resident set size */
    uint64_t virtual_bytes;   /* virtual memory size */
    uint64_t open_fds;        /* entries of /proc/self/fd, not counting the one used to list them */
    uint64_t max_fds;         /* RLIMIT_NOFILE soft limit (UINT64_MAX: unlimited) */
    double start_time;        /* process start, seconds since the Unix epoch */
};

/* Fills *out from /proc/self/stat, /proc/self/fd, /proc/stat (boot time) and getrlimit. Returns 0, -errno
 * from the file layer, or -EINVAL when /proc/self/stat or /proc/stat does not parse. *out is undefined on
 * error. */
int sl_procstat_read(struct sl_procstat *out);

#endif
