/* The buffered-bytes budget (see budget.h): one atomic counter, taken with a compare-and-swap loop so that
 * it never passes the limit, even for a moment. */
#include "api/common/budget.h"

#include <stdatomic.h>

static _Atomic uint64_t used, limit_, refusals;

void sl_budget_init(uint64_t limit)
{
    atomic_store(&limit_, limit);
    atomic_store(&used, 0);
    atomic_store(&refusals, 0);
}

bool sl_budget_take(size_t n)
{
    uint64_t lim = atomic_load(&limit_), cur = atomic_load(&used);
    do {
        if (lim && (n > lim || cur > lim - n)) {
            atomic_fetch_add(&refusals, 1);
            return false;
        }
    } while (!atomic_compare_exchange_weak(&used, &cur, cur + n));
    return true;
}

void sl_budget_give(size_t n)
{
    atomic_fetch_sub(&used, n);
}

uint64_t sl_budget_used(void)
{
    return atomic_load(&used);
}

uint64_t sl_budget_limit(void)
{
    return atomic_load(&limit_);
}

uint64_t sl_budget_refusals(void)
{
    return atomic_load(&refusals);
}
