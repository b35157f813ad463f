/* budget: reservations against --budget, in the run's ledger or in one
 * of this process's own (see budget.h). */
#include "budget.h"
#include "ledger.h"

static struct ledger own;
static struct ledger *l = &own;
static int64_t limit;   /* nano-USD; 0: none */

void budget_configure(const struct budget_config *c)
{
	l = c->ledger ? c->ledger : &own;
	limit = c->usd > 0 ? ledger_nusd(c->usd) : 0;
}

/* The run remembers the largest budget it refused under: a process with
 * that budget or less starts nothing more, one given more goes on. */
static void refuse(void)
{
	int64_t was = __atomic_load_n(&l->refused, __ATOMIC_ACQUIRE);
	while (was < limit &&
	       !__atomic_compare_exchange_n(&l->refused, &was, limit, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

int budget_reserve(double usd)
{
	int64_t n = ledger_nusd(usd);
	if (!limit) {
		ledger_add(&l->committed, n);
		return 1;
	}
	if (__atomic_load_n(&l->refused, __ATOMIC_ACQUIRE) >= limit)
		return 0;
	int64_t was = __atomic_load_n(&l->committed, __ATOMIC_ACQUIRE);
	do {
		if (was + n > limit) {
			refuse();
			return 0;
		}
	} while (!__atomic_compare_exchange_n(&l->committed, &was, was + n, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return 1;
}

void budget_settle(double reserved, double actual)
{
	int64_t a = ledger_nusd(actual);
	ledger_add(&l->committed, a - ledger_nusd(reserved));
	ledger_add(&l->spent, a);
}

void budget_release(double reserved)
{
	ledger_add(&l->committed, -ledger_nusd(reserved));
}
