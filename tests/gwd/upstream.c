/* Unit tests of gwd/upstream.c: balancing, the circuit breaker, availability,
 * state carried across a reload.  The proxy engine's are in tests/gwd/proxy.c. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gwd/proxy.h"
#include "gwd/upstream.h"
#include "tests/gwd/upstream_fixture.h"

int gw_suite_gwd_upstream(void);

static void test_rr_weights(void)
{
	const uint32_t w[NT] = {1, 2, 3};
	unsigned hits[NT] = {0};

	setup(w, GW_LB_ROUND_ROBIN);
	for (int k = 0; k < 600; k++) {
		int t = gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1);

		CU_ASSERT_FATAL(t >= 0 && t < NT);
		hits[t]++;
	}
	CU_ASSERT_EQUAL(hits[0], 100);
	CU_ASSERT_EQUAL(hits[1], 200);
	CU_ASSERT_EQUAL(hits[2], 300);
}

static void test_rr_skips_unavailable_and_tried(void)
{
	const uint32_t w[NT] = {1, 1, 1};
	uint32_t tried[1] = {1};

	setup(w, GW_LB_ROUND_ROBIN);
	atomic_store(&tgt[0].healthy, 0);
	for (int k = 0; k < 30; k++) {
		int t = gwd_upstream_pick(&up, NULL, 0, tried, 1, 1);

		CU_ASSERT_EQUAL(t, 2);
	}
	atomic_store(&tgt[2].healthy, 0);
	CU_ASSERT_EQUAL(gwd_upstream_pick(&up, NULL, 0, tried, 1, 1), -1);
}

static void test_least_conn(void)
{
	const uint32_t w[NT] = {1, 1, 2};

	setup(w, GW_LB_LEAST_CONN);
	atomic_store(&tgt[0].active, 5);
	atomic_store(&tgt[1].active, 1);
	atomic_store(&tgt[2].active, 4); /* 4/2 = 2 > 1/1 */
	CU_ASSERT_EQUAL(gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1), 1);
	atomic_store(&tgt[2].active, 1); /* 1/2 < 1/1 */
	CU_ASSERT_EQUAL(gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1), 2);
}

static void test_max_conns_cap(void)
{
	const uint32_t w[NT] = {1, 1, 1};

	setup(w, GW_LB_ROUND_ROBIN);
	up.cfg.max_conns = 2;
	atomic_store(&tgt[0].active, 2);
	atomic_store(&tgt[1].active, 2);
	for (int k = 0; k < 10; k++)
		CU_ASSERT_EQUAL(gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1), 2);
	atomic_store(&tgt[2].active, 2);
	CU_ASSERT_EQUAL(gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1), -1);
}

static void test_hash_sticky_and_moves_only_lost_keys(void)
{
	const uint32_t w[NT] = {1, 1, 1};
	int before[200], spread[NT] = {0};
	char key[32];

	setup(w, GW_LB_HASH);
	for (int k = 0; k < 200; k++) {
		int n = snprintf(key, sizeof key, "10.0.0.%d", k);

		before[k] = gwd_upstream_pick(&up, key, (size_t)n, NULL, 0, 1);
		CU_ASSERT_FATAL(before[k] >= 0);
		spread[before[k]]++;
		/* same key, same target */
		CU_ASSERT_EQUAL(gwd_upstream_pick(&up, key, (size_t)n, NULL, 0, 1), before[k]);
	}
	for (int i = 0; i < NT; i++)
		CU_ASSERT(spread[i] > 30); /* 200 keys over 3 targets: none starved */
	atomic_store(&tgt[1].healthy, 0);
	for (int k = 0; k < 200; k++) {
		int n = snprintf(key, sizeof key, "10.0.0.%d", k);
		int t = gwd_upstream_pick(&up, key, (size_t)n, NULL, 0, 1);

		if (before[k] != 1) {
			CU_ASSERT_EQUAL(t, before[k]); /* keys of other targets stay */
		} else {
			CU_ASSERT(t == 0 || t == 2);
		}
	}
}

static void test_circuit_breaker(void)
{
	const uint32_t w[NT] = {1, 1, 1};
	uint64_t t0 = 1000000000ull;

	setup(w, GW_LB_ROUND_ROBIN);
	gwd_upstream_done(&up, 0, 0, t0);
	gwd_upstream_done(&up, 0, 0, t0);
	CU_ASSERT_TRUE(gwd_upstream_target_available(&tgt[0], t0));
	gwd_upstream_done(&up, 0, 1, t0); /* a success resets the streak */
	gwd_upstream_done(&up, 0, 0, t0);
	gwd_upstream_done(&up, 0, 0, t0);
	CU_ASSERT_TRUE(gwd_upstream_target_available(&tgt[0], t0));
	gwd_upstream_done(&up, 0, 0, t0); /* third in a row: ejected */
	CU_ASSERT_FALSE(gwd_upstream_target_available(&tgt[0], t0));
	CU_ASSERT_FALSE(gwd_upstream_target_available(&tgt[0], t0 + 999000000ull));
	CU_ASSERT_EQUAL(gwd_upstream_retry_after(&up, t0), 1);
	CU_ASSERT_TRUE(gwd_upstream_target_available(&tgt[0], t0 + 1000000000ull));
	CU_ASSERT_EQUAL(atomic_load(&tgt[0].failures), 5);
}
static void test_rr_huge_weights(void)
{
	const uint32_t w[NT] = {0x80000000u, 0x7fffffffu, 1};
	unsigned hits[NT] = {0};

	setup(w, GW_LB_ROUND_ROBIN); /* their sum would wrap to 0 in 32 bits */
	for (int k = 0; k < 64; k++) {
		int t = gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1);

		CU_ASSERT_FATAL(t >= 0 && t < NT);
		hits[t]++;
	}
	/* the first 2^31 slots of the cursor belong to target 0 */
	CU_ASSERT_EQUAL(hits[0], 64);
	atomic_store(&tgt[0].healthy, 0);
	CU_ASSERT_EQUAL(gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1), 1);
	CU_ASSERT_EQUAL(gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1), 1);
	/* the cursor past target 0's and 1's shares lands on target 2 */
	atomic_store(&tgt[0].healthy, 1);
	atomic_store(&up.rr, 0xffffffffull);
	CU_ASSERT_EQUAL(gwd_upstream_pick(&up, NULL, 0, NULL, 0, 1), 2);
}

/* Retry-After for targets down by active checks: the check interval rounded
 * up to seconds, also for the largest interval gwc accepts. */
static void test_retry_after_interval(void)
{
	const uint32_t w[NT] = {1, 1, 1};

	setup(w, GW_LB_ROUND_ROBIN);
	up.cfg.hc_interval_ms = 2500;
	CU_ASSERT_EQUAL(gwd_upstream_retry_after(&up, 1), 3);
	up.cfg.hc_interval_ms = UINT32_MAX;
	CU_ASSERT_EQUAL(gwd_upstream_retry_after(&up, 1), 4294968u);
}
/* One upstream named <name> with one target at <hostport>, for inherit. */
static void one_upstream(struct gwd_upstreams *ups, struct gwd_upstream_state *u,
			 struct gwd_upstream_target_state *t, const char *name, const char *hostport,
			 const char *hc_path, uint32_t cb_failures)
{
	memset(u, 0, sizeof *u);
	memset(t, 0, sizeof *t);
	u->cfg.name = (struct gw_str){ name, strlen(name) };
	u->cfg.hc_path = (struct gw_str){ hc_path, strlen(hc_path) };
	u->cfg.cb_failures = cb_failures;
	u->t = t;
	u->n = 1;
	t->weight = 1;
	atomic_init(&t->healthy, 1);
	snprintf(t->hostport, sizeof t->hostport, "%s", hostport);
	ups->u = u;
	ups->n = 1;
}

/* A reload keeps a target's state when upstream and address are the same;
 * an ejection only while ejections stay on, a check's verdict only while the
 * same check runs (nothing else would clear them). */
static void test_inherit(void)
{
	struct gwd_upstreams prev, next;
	struct gwd_upstream_state pu, nu;
	struct gwd_upstream_target_state pt, nt;

	one_upstream(&prev, &pu, &pt, "api", "10.0.0.1:80", "/health", 3);
	atomic_store(&pt.healthy, 0);
	atomic_store(&pt.fails, 5);
	atomic_store(&pt.ejected_until, 123456789);
	atomic_store(&pt.requests, 7);
	atomic_store(&pu.codes[200], 11);
	atomic_store(&pu.dur_count, 11);
	atomic_store(&pu.aborted[0], 2);
	atomic_store(&pu.aborted[1], 3);

	one_upstream(&next, &nu, &nt, "api", "10.0.0.1:80", "/health", 3);
	gwd_upstreams_inherit(&next, &prev);
	CU_ASSERT_EQUAL(atomic_load(&nt.healthy), 0);
	CU_ASSERT_EQUAL(atomic_load(&nt.fails), 5);
	CU_ASSERT_EQUAL(atomic_load(&nt.ejected_until), 123456789);
	CU_ASSERT_EQUAL(atomic_load(&nt.requests), 7);
	CU_ASSERT_EQUAL(atomic_load(&nu.codes[200]), 11);
	CU_ASSERT_EQUAL(atomic_load(&nu.dur_count), 11);
	CU_ASSERT_EQUAL(atomic_load(&nu.aborted[0]), 2);
	CU_ASSERT_EQUAL(atomic_load(&nu.aborted[1]), 3);

	/* the check and the ejections removed: the target is available */
	one_upstream(&next, &nu, &nt, "api", "10.0.0.1:80", "", 0);
	gwd_upstreams_inherit(&next, &prev);
	CU_ASSERT_EQUAL(atomic_load(&nt.healthy), 1);
	CU_ASSERT_EQUAL(atomic_load(&nt.ejected_until), 0);
	CU_ASSERT_EQUAL(atomic_load(&nt.requests), 7);
	CU_ASSERT(gwd_upstream_target_available(&nt, 1));

	/* another check path: its own verdict, from scratch */
	one_upstream(&next, &nu, &nt, "api", "10.0.0.1:80", "/ready", 3);
	gwd_upstreams_inherit(&next, &prev);
	CU_ASSERT_EQUAL(atomic_load(&nt.healthy), 1);
	CU_ASSERT_EQUAL(atomic_load(&nt.ejected_until), 123456789);

	/* another address, another upstream: nothing carried */
	one_upstream(&next, &nu, &nt, "api", "10.0.0.2:80", "/health", 3);
	gwd_upstreams_inherit(&next, &prev);
	CU_ASSERT_EQUAL(atomic_load(&nt.healthy), 1);
	CU_ASSERT_EQUAL(atomic_load(&nt.requests), 0);
	CU_ASSERT_EQUAL(atomic_load(&nu.codes[200]), 11);
	one_upstream(&next, &nu, &nt, "web", "10.0.0.1:80", "/health", 3);
	gwd_upstreams_inherit(&next, &prev);
	CU_ASSERT_EQUAL(atomic_load(&nt.requests), 0);
	CU_ASSERT_EQUAL(atomic_load(&nu.codes[200]), 0);
}

int gw_suite_gwd_upstream(void)
{
	CU_pSuite s = CU_add_suite("gwd/upstream", NULL, NULL);

	if (!s)
		return -1;
	CU_add_test(s, "weighted round robin", test_rr_weights);
	CU_add_test(s, "round robin skips unavailable and tried", test_rr_skips_unavailable_and_tried);
	CU_add_test(s, "least connections, weighted", test_least_conn);
	CU_add_test(s, "per-target connection cap", test_max_conns_cap);
	CU_add_test(s, "hash: sticky, only lost keys move", test_hash_sticky_and_moves_only_lost_keys);
	CU_add_test(s, "circuit breaker ejects and recovers", test_circuit_breaker);
	CU_add_test(s, "weights adding up past 2^32", test_rr_huge_weights);
	CU_add_test(s, "Retry-After of the largest check interval", test_retry_after_interval);
	CU_add_test(s, "state carried across a reload", test_inherit);
	return 0;
}
