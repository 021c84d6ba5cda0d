/* The server layer's error codes, and the names of every sluice code.
 *
 * The convention is storage/err.h's: 0 on success, -errno, or a negative SL_E* code. storage/ owns -1000 to
 * -1099 and knows nothing above it; the codes below belong to server/ (consumer groups today; the cluster's
 * later) and live in -1100 to -1199. sl_error_message and sl_error_name name all three kinds, so api/ and
 * server/ use them instead of storage's sl_strerror, which knows only its own codes and -errno. The API layer
 * maps every code to an HTTP status and a Confluent error code in one table (api/common/errmap.c), checked
 * against openapi/sluice.yaml by test_openapi. */
#ifndef SL_SERVER_ERR_H
#define SL_SERVER_ERR_H

#include "storage/err.h"

/* X(name, value, message) */
#define SL_SERVER_ERRORS(X)                                                       \
    X(SL_ENOMEMBER, -1100, "unknown consumer instance")                           \
    X(SL_ENOGROUP, -1101, "unknown consumer group")                               \
    X(SL_EREBALANCE, -1102, "rebalance in progress")                              \
    X(SL_ENOTASSIGNED, -1103, "partition not assigned to this member")

enum sl_server_err {
#define SL_SERVER_ERR_ENUM(name, value, msg) name = value,
    SL_SERVER_ERRORS(SL_SERVER_ERR_ENUM)
#undef SL_SERVER_ERR_ENUM
};

/* A static, human-readable message for rc: 0, -errno, a storage SL_E* code or a server one. Thread-safe. */
const char *sl_error_message(int rc);

/* The symbolic name ("SL_ENOGROUP", "SL_ECORRUPT", "ENOENT", ...) of rc, for logs and tests. Thread-safe. */
const char *sl_error_name(int rc);

#endif
