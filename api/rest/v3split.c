/* The v3 produce body splitter (api/rest/v3split.h): one pass over the bytes with a brace/bracket depth and a
 * string state (inside a string, a backslash escapes the next byte), so braces in strings do not count. */
#include "api/rest/v3split.h"

#include <errno.h>
#include <stdbool.h>

static bool is_sep(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',';
}

int sl_v3split_next(const char *s, size_t n, size_t *skip, size_t *len)
{
    size_t i = 0;
    while (i < n && is_sep(s[i]))
        i++;
    *skip = i;
    *len = 0;
    if (i == n)
        return 0;
    if (s[i] != '{')
        return -EINVAL;
    size_t depth = 0;
    bool str = false, esc = false;
    for (size_t j = i; j < n; j++) {
        char c = s[j];
        if (str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            *len = j + 1 - i;
            return 0;
        }
    }
    return 0;
}
