/* The `from` query value (see from.h), and the bounded decimal parser the query arguments share. */
#include "api/common/from.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sl_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (*s < '0' || *s > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

int sl_from_parse(const char *s, struct sl_from *out)
{
    out->value = 0;
    if (strcmp(s, "latest") == 0) {
        out->kind = SL_FROM_LATEST;
        return 0;
    }
    if (strcmp(s, "earliest") == 0) {
        out->kind = SL_FROM_EARLIEST;
        return 0;
    }
    if (strncmp(s, "time:", 5) == 0) {
        out->kind = SL_FROM_TIME;
        return sl_parse_i64(s + 5, 0, INT64_MAX, &out->value);
    }
    out->kind = SL_FROM_OFFSET;
    return sl_parse_i64(s, 0, INT64_MAX, &out->value);
}

