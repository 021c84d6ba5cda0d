/* The produce set (server/produce.h): a countdown of the batches in flight, started at nb + 1 so that the
 * submitting thread holds one count of its own and on_done cannot run while batches are still being handed
 * to the broker; whoever takes the count to zero runs on_done.
 *
 * INVARIANT: each slot completes exactly once -- through the broker's done callback (sl_broker_produce
 * returned 0) or here at once (it returned an error; the broker then never calls done). */
#include "server/produce.h"

#include <stdlib.h>
#include <string.h>

#include "storage/err.h"

static void countdown(struct sl_produce_set *s)
{
    if (atomic_fetch_sub(&s->left_, 1) == 1)
        s->on_done(s);
}

static void slot_done(struct sl_produce *prod, int rc)
{
    struct sl_produce_slot *slot = prod->arg;
    struct sl_produce_set *s = slot->set;
    slot->rc = rc;
    if (rc && prod->why && prod->why[0])
        slot->context = strdup(prod->why); /* NULL when out of memory: only the context is lost */
    if (s->on_batch)
        s->on_batch(s, (size_t)(slot - s->slots), rc);
    countdown(s);
}

struct sl_produce_set *sl_produce_set_new(const struct sl_produce_batch *batches, size_t nb,
                                          sl_produce_done_fn on_done, void *arg)
{
    struct sl_produce_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->slots = calloc(nb ? nb : 1, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    s->batches = batches;
    s->nb = nb;
    s->on_done = on_done;
    s->arg = arg;
    return s;
}

void sl_produce_set_free(struct sl_produce_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nb; i++)
        free(s->slots[i].context);
    free(s->slots);
    free(s);
}

void sl_produce_submit(struct sl_broker *b, const char *topic, struct sl_produce_set *s)
{
    atomic_store(&s->left_, s->nb + 1);
    for (size_t i = 0; i < s->nb; i++) {
        struct sl_produce_slot *slot = &s->slots[i];
        const struct sl_produce_batch *pb = &s->batches[i];
        slot->set = s;
        slot->prod.done = slot_done;
        slot->prod.arg = slot;
        slot->prod.built = true; /* the codec's sl_bb_finish output: no second CRC walk */
        sl_errctx_clear();
        int rc = sl_broker_produce(b, topic, pb->partition, pb->data, pb->len, &slot->prod);
        if (rc) {
            slot->prod.why = sl_errctx(); /* refused on this thread: its context, if the refusal set one */
            slot_done(&slot->prod, rc);
        }
    }
    countdown(s);
}

size_t sl_produce_set_ok_records(const struct sl_produce_set *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nb; i++)
        n += s->slots[i].rc == 0 ? (size_t)s->batches[i].count : 0;
    return n;
}

const char *sl_produce_set_context(const struct sl_produce_set *s, size_t i)
{
    return s->slots[i].context ? s->slots[i].context : "";
}

const char *sl_produce_set_first_context(const struct sl_produce_set *s)
{
    for (size_t i = 0; i < s->nb; i++)
        if (s->slots[i].rc)
            return sl_produce_set_context(s, i);
    return "";
}

int sl_produce_set_first_error(const struct sl_produce_set *s)
{
    for (size_t i = 0; i < s->nb; i++)
        if (s->slots[i].rc)
            return s->slots[i].rc;
    return 0;
}
