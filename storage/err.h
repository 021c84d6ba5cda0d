/* sluice error codes: one convention for the whole tree.
 *
 * Every fallible function returns int: 0 on success, -errno for an operating-system error, or one of the
 * SL_E* codes below, which live in a reserved negative range (-1000 and below) so they never collide with
 * -errno. sl_strerror() names either kind. The API layer maps these codes to HTTP statuses and Confluent
 * error codes in one table (api/common/errmap.c). */
#ifndef SL_STORAGE_ERR_H
#define SL_STORAGE_ERR_H

/* X(name, value, message) */
#define SL_ERRORS(X)                                                              \
    X(SL_ECORRUPT, -1000, "corrupt data")                                          \
    X(SL_EOFFSET, -1001, "offset out of range")                                   \
    X(SL_ETOOBIG, -1002, "record batch too large")                                \
    X(SL_EFAILED, -1003, "log failed after an I/O error; restart required")       \
    X(SL_ENOTOPIC, -1004, "unknown topic")                                        \
    X(SL_ENOPART, -1005, "unknown partition")                                     \
    X(SL_EEXISTS, -1006, "already exists")                                        \
    X(SL_EBADNAME, -1007, "invalid topic name")                                   \
    X(SL_ECONFIG, -1008, "invalid configuration")                                 \
    X(SL_ENOTLEADER, -1009, "not the leader for this partition")                  \
    X(SL_EFENCED, -1010, "fenced by a newer leader epoch")                        \
    X(SL_ESTOPPED, -1011, "shutting down")                                        \
    X(SL_EBADBATCH, -1012, "malformed record batch")                              \
    X(SL_ELIMIT, -1013, "limit exceeded")                                         \
    X(SL_ENOMEMBER, -1014, "unknown consumer instance")                           \
    X(SL_ENOGROUP, -1015, "unknown consumer group")                               \
    X(SL_ESTATE, -1016, "illegal state")                                          \
    X(SL_EDAMAGED, -1018, "offsets in a damaged range of the log")              \
    X(SL_EINTERNAL, -1019, "internal topic: clients cannot write, delete or reconfigure it") \
    X(SL_EREBALANCE, -1020, "rebalance in progress")                             \
    X(SL_ENOTASSIGNED, -1021, "partition not assigned to this member")

enum sl_err {
#define SL_ERR_ENUM(name, value, msg) name = value,
    SL_ERRORS(SL_ERR_ENUM)
#undef SL_ERR_ENUM
};

/* Returns a static, human-readable message for rc (0, -errno, or an SL_E* code). Thread-safe. */
const char *sl_strerror(int rc);

/* Returns the symbolic name ("SL_ECORRUPT", "ENOENT", ...) of rc, for logs. Thread-safe. */
const char *sl_errname(int rc);

#endif
