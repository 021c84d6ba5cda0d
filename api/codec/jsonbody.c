/* Strict request bodies (api/codec/jsonbody.h). */
#include "api/codec/jsonbody.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *sl_json_unknown(json_t *o, const char *const *names)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        const char *const *n = names;
        while (*n && strcmp(*n, k) != 0)
            n++;
        if (!*n)
            return k;
    }
    return NULL;
}

int sl_json_check_members(json_t *o, const char *const *names, const char *where, char *msg, size_t cap)
{
    const char *k = sl_json_unknown(o, names);
    if (!k)
        return 0;
    snprintf(msg, cap, "Unrecognized field: %s%s%.64s", where, *where ? "." : "", k);
    return -EINVAL;
}
