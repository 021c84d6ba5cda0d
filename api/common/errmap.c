/* sluice code -> HTTP status + Confluent error_code (see errmap.h). The codes follow the Confluent REST
 * Proxy (kafka-rest Errors.java, rest-utils KafkaExceptionMapper): 404xx not found, 400xx/422xx bad input,
 * 409xx conflicts, 500xx/503xx server side. Every code here is listed in openapi/sluice.yaml
 * (components/schemas/Error). */
#include "api/common/errmap.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "server/err.h"

struct row {
    int rc;
    struct sl_errmap map;
};

static const struct row rows[] = {
    {SL_ENOTOPIC, {404, 40401, "Topic not found."}},
    {SL_ENOPART, {404, 40402, "Partition not found."}},
    {SL_ENOMEMBER, {404, 40403, "Consumer instance not found."}},
    {SL_ENOGROUP, {404, 40405, "Consumer group not found."}},
    {SL_EEXISTS, {400, 40002, "Already exists."}},
    {SL_ESTATE, {409, 40903, "Illegal state."}},
    {SL_EREBALANCE, {409, 40904, "Rebalance in progress: the partition is being handed over to this member; retry after the assignment."}},
    {SL_ENOTASSIGNED, {409, 40905, "Partition not assigned to this member."}},
    {SL_EBADNAME, {400, 40002, "Invalid topic name."}},
    {SL_ECONFIG, {400, 40002, "Invalid configuration."}},
    {SL_EOFFSET, {400, 40002, "Offset out of range."}},
    {SL_ETOOBIG, {413, 413, "Record batch too large."}},
    {SL_EBADBATCH, {422, 42208, "Malformed record batch."}},
    {SL_ELIMIT, {422, 42206, "Limit exceeded."}},
    {SL_ENOTLEADER, {503, 50302, "Not the leader for this partition."}},
    {SL_EFENCED, {503, 50302, "Fenced by a newer leader epoch."}},
    {SL_ESTOPPED, {503, 50302, "Server is shutting down."}},
    {SL_EFAILED, {500, 50002, "Log failed after an I/O error; restart required."}},
    {SL_ECORRUPT, {500, 50002, "Corrupt data."}},
    {SL_EDAMAGED, {422, 42209, "Offsets in a damaged range of the log."}},
    {SL_EINTERNAL, {403, 40301, "Internal topic: clients cannot write, delete or reconfigure it."}},
    {-ENOMEM, {503, 50003, "Out of memory; retry."}},
    {-EAGAIN, {503, 50003, "Temporarily unavailable; retry."}},
    {-ENOBUFS, {503, 50301, "The server's buffer memory (buffer.memory.max.bytes) is exhausted; retry later."}},
    {-ENOSPC, {500, 50002, "No space left on device."}},
    {-EINVAL, {400, 400, "Bad request."}},
    {-ETIMEDOUT, {503, 50003, "Timed out; retry."}},
};

static const struct sl_errmap fallback = {500, 50002, "Internal server error."};

const struct sl_errmap *sl_errmap_get(int rc)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].rc == rc)
            return &rows[i].map;
    return &fallback;
}

const char *sl_errmap_message(const struct sl_errmap *m, const char *context, char *buf, size_t cap)
{
    if (m->status < 500 || !context || !context[0])
        return m->message;
    snprintf(buf, cap, "%s (%s)", m->message, context);
    return buf;
}
