/* Tests of gwd/cluster_rl.c against a real redis-server: a cluster limit
 * admits its burst and then refuses with Retry-After, the budget is in
 * Redis (a second table of the same identity, as another instance would
 * hold, shares it), a refused request's token goes back with rollback, and
 * with Redis gone `on_store_error: allow` falls back to the local limit
 * while `deny` refuses. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/clock.h"
#include "gwd/cluster_rl.h"
#include "gwd/ratelimit.h"
#include "gwd/store.h"
#include "tests/gwd/redis_fixture.h"

int gw_suite_gwd_cluster_rl(void);

static struct redis_fx fx;
static struct gwd_store *st;

static int suite_init(void)
{
	char err[128];

	setenv("GWD_STORE_TIMEOUT_MS", "2000", 1);
	if (fx_redis_start(&fx) < 0)
		return -1;
	gwd_cluster_configure(fx.url);
	if (gwd_store_open(&st, fx.url, 0, 0, err, sizeof err) < 0)
		return -1;
	return gwd_cluster_start(st, err, sizeof err);
}

static int suite_clean(void)
{
	gwd_cluster_stop();
	gwd_store_close(st);
	fx_redis_clean(&fx);
	unsetenv("GWD_STORE_TIMEOUT_MS");
	return 0;
}

/* A cluster limit of <quota> per second, burst <burst>, as policy <ident>. */
static struct gwd_ratelimit_table *cluster_table(struct gwd_ratelimit_registry *reg, uint64_t ident,
                                         uint32_t quota, uint32_t burst, uint8_t onerr)
{
	struct gw_ratelimit p = {
		.name = { "c", 1 }, .key = GW_RLK_IP, .quota = quota, .period_ms = 1000,
		.burst = burst, .max_keys = 1000, .scope = GW_RLS_CLUSTER,
		.on_store_error = onerr,
	};

	return gwd_ratelimit_registry_acquire(reg, ident, 0, &p);
}

static void test_burst_shared(void)
{
	struct gwd_ratelimit_registry *reg = gwd_ratelimit_registry_new(), *other = gwd_ratelimit_registry_new();
	struct gwd_ratelimit_table *t, *t2;
	struct gwd_ratelimit_keyval k = { { 1, 2 } };
	struct gwd_ratelimit_result r = { 0 };
	int admitted = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	t = cluster_table(reg, 0x1234, 1, 20, GW_RLE_ALLOW);
	t2 = cluster_table(other, 0x1234, 1, 20, GW_RLE_ALLOW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t2);
	CU_ASSERT_PTR_NOT_NULL(t->cl);
	/* 1/s, burst 20: the two tables (two instances) share 20, not 40 */
	for (int i = 0; i < 40; i++) {
		struct gwd_ratelimit_result x;
		if (gwd_ratelimit_admit(i % 2 ? t2 : t, &k, gwd_clock_ns(), &x))
			admitted++;
		else
			r = x;
	}
	/* (one more if a second went by: the budget refills at 1/s) */
	CU_ASSERT(admitted >= 20 && admitted <= 21);
	CU_ASSERT_EQUAL(r.admitted, 0);
	CU_ASSERT(r.retry_after_s >= 1);
	CU_ASSERT_EQUAL(r.limit, 1);
	gwd_ratelimit_registry_release(reg, t);
	gwd_ratelimit_registry_release(other, t2);
	gwd_ratelimit_registry_free(reg);
	gwd_ratelimit_registry_free(other);
}

static void test_rollback(void)
{
	struct gwd_ratelimit_registry *reg = gwd_ratelimit_registry_new();
	struct gwd_ratelimit_table *t = cluster_table(reg, 0x5678, 1, 1, GW_RLE_ALLOW);
	struct gwd_ratelimit_keyval k = { { 3, 4 } };
	struct gwd_ratelimit_result r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, gwd_clock_ns(), &r), 1);
	CU_ASSERT(r.cluster);
	gwd_ratelimit_rollback(&k, &r);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, gwd_clock_ns(), &r), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, gwd_clock_ns(), &r), 0);
	gwd_ratelimit_registry_release(reg, t);
	gwd_ratelimit_registry_free(reg);
}

static void test_store_gone(void)
{
	struct gwd_ratelimit_registry *reg = gwd_ratelimit_registry_new();
	struct gwd_ratelimit_table *ta = cluster_table(reg, 0x9a, 1, 5, GW_RLE_ALLOW);
	struct gwd_ratelimit_table *td = cluster_table(reg, 0x9b, 1, 5, GW_RLE_DENY);
	struct gwd_ratelimit_keyval k = { { 5, 6 } };
	struct gwd_ratelimit_result r;
	int admitted = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ta);
	CU_ASSERT_PTR_NOT_NULL_FATAL(td);
	fx_redis_stop(&fx, SIGKILL);
	/* the lease connection notices at its next round */
	for (int i = 0; i < 10; i++)
		(void)gwd_ratelimit_admit(td, &k, gwd_clock_ns(), &r);
	for (int i = 0; i < 10; i++)
		admitted += gwd_ratelimit_admit(ta, &k, gwd_clock_ns(), &r);
	/* allow: the local limit (burst 5, 1/s: one more per second the
	 * test took, under valgrind) decides */
	CU_ASSERT(admitted >= 5 && admitted <= 7);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(td, &k, gwd_clock_ns(), &r), 0);
	CU_ASSERT(r.retry_after_s >= 1);
	CU_ASSERT_EQUAL_FATAL(fx_redis_start(&fx), 0);
	gwd_ratelimit_registry_release(reg, ta);
	gwd_ratelimit_registry_release(reg, td);
	gwd_ratelimit_registry_free(reg);
}

int gw_suite_gwd_cluster_rl(void)
{
	CU_pSuite s = CU_add_suite("gwd/cluster_rl", suite_init, suite_clean);

	if (!s)
		return -1;
	if (!CU_add_test(s, "burst shared by two instances, then 429", test_burst_shared) ||
	    !CU_add_test(s, "rollback gives the token back", test_rollback) ||
	    !CU_add_test(s, "store gone: allow and deny", test_store_gone))
		return -1;
	return 0;
}
