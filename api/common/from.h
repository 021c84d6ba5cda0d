/* Where a reader starts, as WebSocket and SSE clients name it in their query (`from=`): "latest",
 * "earliest", a non-negative offset, or "time:<epoch-ms>". Pure parsing; thread-safe. */
#ifndef SL_API_FROM_H
#define SL_API_FROM_H

#include <stdint.h>

enum sl_from_kind { SL_FROM_LATEST, SL_FROM_EARLIEST, SL_FROM_OFFSET, SL_FROM_TIME };

struct sl_from {
    enum sl_from_kind kind;
    int64_t value; /* the offset or the timestamp */
};

/* Parses a from value (decimal digits only, no sign or blanks, at most INT64_MAX). Returns 0 or -EINVAL. */
int sl_from_parse(const char *s, struct sl_from *out);
/* Parses s, decimal digits only (no sign, no blanks), into *out when lo <= value <= hi. Returns 0 or
 * -EINVAL. */
int sl_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);

#endif
