/* Strict request bodies: a member a body parser does not know is an error that names it, never ignored.
 * (Issue 12: a typo such as {"valeu": ...} used to store a record with a null value.)
 *
 * Pure functions over jansson values; any thread. Names lists are NULL-terminated. */
#ifndef SL_API_JSONBODY_H
#define SL_API_JSONBODY_H

#include <jansson.h>

/* The first member name of object o that is not in names, or NULL (also when o is not an object). The
 * string belongs to o. */
const char *sl_json_unknown(json_t *o, const char *const *names);

/* Formats "Unrecognized field: <where>.<name>" (no "<where>." when where is "") into msg (cap bytes) when o
 * has a member not in names. Returns -EINVAL when it did, 0 when every member is known. */
int sl_json_check_members(json_t *o, const char *const *names, const char *where, char *msg, size_t cap);

#endif
