/* Origin allowlists (api/common/origins.h). */
#include "api/common/origins.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sl_origins_init(struct sl_origins *o, const char *csv)
{
    memset(o, 0, sizeof *o);
    size_t n = 1;
    for (const char *p = csv; *p; p++)
        n += *p == ',';
    o->list = calloc(n + 1, sizeof *o->list);
    if (!o->list)
        return -ENOMEM;
    size_t k = 0;
    for (const char *p = csv; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if (t - p == 1 && *p == '*')
            o->any = true;
        else if (t > p && !(o->list[k++] = strndup(p, (size_t)(t - p)))) {
            sl_origins_fini(o);
            return -ENOMEM;
        }
        p = e;
    }
    return 0;
}

void sl_origins_fini(struct sl_origins *o)
{
    if (o->list)
        for (char **c = o->list; *c; c++)
            free(*c);
    free(o->list);
    o->list = NULL;
}

bool sl_origins_match(const struct sl_origins *o, const char *origin)
{
    if (o->any)
        return true;
    for (char **c = o->list; c && *c; c++)
        if (!strcasecmp(*c, origin))
            return true;
    return false;
}
