/* faultfs: a struct sl_fileops that wraps sl_fileops_posix and fails the N-th call of one kind on demand.
 * Test code only; the state is process-global (one faulty disk per test process).
 *
 * KINDS (each call is counted under one kind; everything else passes through uncounted)
 *   SL_FAULT_WRITE     pwrite
 *   SL_FAULT_SYNC      fdatasync and fsync_dir
 *   SL_FAULT_RENAME    rename
 *   SL_FAULT_TRUNCATE  ftruncate
 *   SL_FAULT_OPEN      open with write intent (O_WRONLY, O_RDWR, O_CREAT or O_TRUNC); read-only opens are
 *                      neither counted nor failed
 *
 * FAILURE MODES
 *   The armed call returns -EIO. An armed pwrite first writes the first half (n / 2 bytes) of its buffer:
 *   a torn write, the shape a crash leaves at the end of a file.
 *   Crash mode (sl_faultfs_set_crash): once the fault has fired, the process counts as dead: every later
 *   call that would change the disk (pwrite, fdatasync, fsync_dir, rename, ftruncate, open with write intent,
 *   unlink, mkdir, rmdir) returns -EIO without touching it. Reads, fsize and close keep working so the code
 *   under test can release its resources. This models a process crash, not a power loss: bytes written
 *   before the fault stay in the file whether or not they were synced.
 *   Without crash mode only the armed call fails; the disk works again afterwards (for sticky-state tests).
 *   Power loss (sl_faultfs_power_cut): faultfs remembers, for every file opened for writing through it, its
 *   size at the last successful fdatasync (or at its first open); the cut truncates the chosen files back to
 *   that size, dropping appended bytes that were never synced. Only appends are modelled: bytes overwritten
 *   in place are not reverted, and files whose creation was not made durable by fsync_dir are not removed.
 *
 * THREADS: every entry point is thread-safe (one mutex). */
#ifndef SL_TESTS_FAULTFS_H
#define SL_TESTS_FAULTFS_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/fileops.h"

enum sl_fault_kind {
    SL_FAULT_WRITE,
    SL_FAULT_SYNC,
    SL_FAULT_RENAME,
    SL_FAULT_TRUNCATE,
    SL_FAULT_OPEN,
    SL_FAULT_NKINDS
};

/* The faulty table; pass it as sl_log_cfg.fops. */
extern const struct sl_fileops sl_faultfs;

/* Zeroes every counter, disarms, leaves crash mode and forgets that a fault fired. */
void sl_faultfs_reset(void);

/* Makes the n-th call of 'kind' (n >= 1, counted from this call) fail with -EIO. Replaces any earlier arming;
 * n == 0 disarms. The fault fires once. */
void sl_faultfs_arm(enum sl_fault_kind kind, uint64_t n);

/* Turns crash mode on or off (see FAILURE MODES). Off after sl_faultfs_reset. */
void sl_faultfs_set_crash(bool on);

/* Calls of 'kind' since the last reset, the failed ones included. */
uint64_t sl_faultfs_count(enum sl_fault_kind kind);

/* True once the armed fault has fired (until the next reset). */
bool sl_faultfs_fired(void);

/* Simulates a power loss for every file written through faultfs whose name ends with suffix (".log"): cuts
 * it back to its size at its last successful fdatasync. Call it once the code under test has stopped
 * writing. Returns the number of files cut. */
int sl_faultfs_power_cut(const char *suffix);

/* "write", "sync", ... for messages. */
const char *sl_faultfs_kind_name(enum sl_fault_kind kind);

#endif
