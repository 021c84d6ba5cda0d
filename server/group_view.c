/* Read-only views of the group coordinator: the list of groups and the description of one (see
 * server/groups.h). Shares the coordinator's mutex and state through server/groups_int.h. */
#include "server/groups.h"
#include "server/groups_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/err.h"

static int cmp_desc(const void *a, const void *b)
{
    const struct sl_group_desc *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static void desc_fill(const struct group *gr, struct sl_group_desc *d)
{
    snprintf(d->name, sizeof d->name, "%s", gr->name);
    d->generation = gr->generation;
    d->is_simple = true;
    d->nmembers = 0;
    d->members = NULL;
    for (const struct member *m = gr->members; m; m = m->next) {
        d->nmembers++;
        if (sl_grp_subscribed(m))
            d->is_simple = false;
    }
}

int sl_groups_list(struct sl_groups *g, struct sl_group_desc **out, size_t *n)
{
    pthread_mutex_lock(&g->mu);
    size_t k = 0;
    for (struct group *gr = g->groups; gr; gr = gr->next)
        k += gr->members || gr->nc;
    *out = calloc(k + 1, sizeof **out);
    size_t i = 0;
    for (struct group *gr = g->groups; *out && gr; gr = gr->next)
        if (gr->members || gr->nc)
            desc_fill(gr, &(*out)[i++]);
    pthread_mutex_unlock(&g->mu);
    if (!*out)
        return -ENOMEM;
    *n = k;
    qsort(*out, k, sizeof **out, cmp_desc);
    return 0;
}

int sl_groups_describe(struct sl_groups *g, const char *group, struct sl_group_desc *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&g->mu);
    struct group *gr = sl_grp_group_find(g, group);
    int rc = gr && (gr->members || gr->nc) ? 0 : SL_ENOGROUP;
    if (rc == 0) {
        desc_fill(gr, out);
        out->members = calloc(out->nmembers + 1, sizeof *out->members);
        rc = out->members ? 0 : -ENOMEM;
    }
    size_t i = 0;
    for (struct member *m = rc == 0 ? gr->members : NULL; m; m = m->next, i++) {
        struct sl_member_desc *md = &out->members[i];
        snprintf(md->id, sizeof md->id, "%s", m->id);
        md->kind = m->cfg.kind;
        md->assigned = malloc((m->nassigned + 1) * sizeof *md->assigned);
        if (!md->assigned) {
            rc = -ENOMEM;
            break;
        }
        if (m->nassigned) /* m->assigned is NULL before the first assignment: memcpy(_, NULL, 0) is UB */
            memcpy(md->assigned, m->assigned, m->nassigned * sizeof *md->assigned);
        md->nassigned = m->nassigned;
    }
    pthread_mutex_unlock(&g->mu);
    if (rc)
        sl_groups_desc_fini(out);
    return rc;
}

void sl_groups_desc_fini(struct sl_group_desc *d)
{
    for (size_t i = 0; d->members && i < d->nmembers; i++)
        free(d->members[i].assigned);
    free(d->members);
    d->members = NULL;
    d->nmembers = 0;
}

void sl_groups_desc_free_all(struct sl_group_desc *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_groups_desc_fini(&d[i]);
    free(d);
}
