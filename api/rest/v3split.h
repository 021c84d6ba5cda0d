/* Cutting a v3 produce body into records: the body of POST /v3/.../records is concatenated JSON objects,
 * optionally separated by whitespace or commas, and it arrives in pieces of any size (api/rest/v3produce.c
 * buffers the unparsed rest and asks again after every piece). This finds where the first object ends; it
 * does not check that the object is valid JSON (jansson does, per record, so one bad record fails alone).
 *
 * INVARIANTS
 *   1. Prefix-stable: if sl_v3split_next(s, n) finds an object of length L after skip bytes, every longer
 *      buffer that starts with the same n bytes gives the same skip and L, and every prefix of s shorter
 *      than skip + L but at least skip + 1 bytes long says "incomplete" (returns 0 with *len 0). So a
 *      stream split anywhere is cut exactly like the whole body.
 *   2. A found object is s[skip, skip + L): it starts with '{' and ends with the '}' or ']' that brings the
 *      depth of braces and brackets outside strings back to zero.
 *
 * Pure function over a caller buffer: no allocation, any thread. */
#ifndef SL_API_V3SPLIT_H
#define SL_API_V3SPLIT_H

#include <stddef.h>

/* Skips the separators (space, tab, CR, LF, ',') at the start of s[0, n) into *skip and measures the JSON
 * object that follows. Returns 0 with *len its length, or *len 0 when it is not complete yet (or only
 * separators were seen); returns -EINVAL when the first byte after the separators cannot start an object.
 * s may be NULL when n is 0. */
int sl_v3split_next(const char *s, size_t n, size_t *skip, size_t *len);

#endif
