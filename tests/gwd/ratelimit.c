/* Unit tests of gwd/ratelimit.c: the GCRA arithmetic, accuracy under real
 * threads and a real clock, recovery, multi-limit rollback (also under
 * threads), bounded and lossless eviction, identity across a simulated
 * reload, Retry-After, and the exact header fields.
 *
 * No mocks: every test drives the real tables.  Tests that need exact
 * arithmetic pass fixed <now> values (the API takes the clock as an
 * argument precisely so that it can be tested this way); the accuracy test
 * uses CLOCK_MONOTONIC and real threads, the rollback-under-threads test real
 * threads on a clock that counts their attempts.
 */
#include "gwd/ratelimit.h"

#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int gw_suite_gwd_ratelimit(void);

#define SEC 1000000000ULL
#define MS 1000000ULL
#define BASE (1000 * SEC) /* a fixed "now" well past boot */

/* A limit named <name> with the given parameters (strings are literals). */
static struct gw_ratelimit mk(const char *name, uint8_t key, uint32_t quota,
			      uint32_t period_ms, uint32_t burst, uint32_t max_keys)
{
	struct gw_ratelimit p;

	memset(&p, 0, sizeof p);
	p.name.p = name;
	p.name.len = (uint32_t)strlen(name);
	p.key = key;
	p.quota = quota;
	p.period_ms = period_ms;
	p.burst = burst;
	p.max_keys = max_keys;
	return p;
}

/* The key of IPv4 client 10.x.y.z numbered <n>, v4-mapped. */
static struct gwd_ratelimit_keyval ipkey(uint32_t n)
{
	uint8_t ip[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10,
			   (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	struct gwd_ratelimit_keyval k;

	gwd_ratelimit_key_ip(&k, ip);
	return k;
}

/* ---- GCRA arithmetic ------------------------------------------------------ */

/* A full bucket admits exactly <burst> at one instant, then one per T. */
static void test_burst_exact(void)
{
	struct gw_ratelimit p = mk("strict", GW_RLK_IP, 10, 1000, 5, 1000);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
	struct gwd_ratelimit_keyval k = ipkey(1), other = ipkey(2);
	struct gwd_ratelimit_result r;

	CU_ASSERT_FATAL(t != NULL);
	for (uint32_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE, &r), 1);
		CU_ASSERT_EQUAL(r.remaining, 4 - i);
		CU_ASSERT_EQUAL(r.limit, 10);
		CU_ASSERT_EQUAL(r.retry_after_s, 0);
	}
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE, &r), 0);
	CU_ASSERT_EQUAL(r.remaining, 0);
	CU_ASSERT_EQUAL(r.retry_after_s, 1); /* 100 ms, rounded up to 1 s */
	CU_ASSERT_EQUAL(r.reset_s, 1);      /* 500 ms until full */
	CU_ASSERT_PTR_NULL(r.cell);
	/* another key is untouched */
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &other, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 4);
	/* 1 ns short of T: still refused; at T: one more, not two */
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE + 100 * MS - 1, &r), 0);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE + 100 * MS, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 0);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE + 100 * MS, &r), 0);
	/* sustained: exactly one per 100 ms for 10 s */
	unsigned ok = 0;
	for (uint64_t now = BASE + 100 * MS; now < BASE + 10100 * MS; now += 10 * MS)
		ok += (unsigned)gwd_ratelimit_admit(t, &k, now, &r);
	CU_ASSERT_EQUAL(ok, 99);
	/* after 500 ms of silence the whole burst is back */
	uint64_t later = BASE + 20 * SEC;
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, later, &r), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, later, &r), 0);
	gwd_ratelimit_table_free(t);
}

/* Every refusal says when to come back: Retry-After >= 1, and a request at
 * now + Retry-After seconds is admitted.  Random limits and instants. */
static void test_retry_after(void)
{
	unsigned seed = 12345, refusals = 0;

	for (int round = 0; round < 200; round++) {
		uint32_t quota = 1 + (uint32_t)(rand_r(&seed) % 50);
		uint32_t period = 1 + (uint32_t)(rand_r(&seed) % 20000);
		uint32_t burst = 1 + (uint32_t)(rand_r(&seed) % 10);
		struct gw_ratelimit p = mk("r", GW_RLK_IP, quota, period, burst, 10);
		struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
		struct gwd_ratelimit_keyval k = ipkey(7);
		struct gwd_ratelimit_result r, again;
		uint64_t now = BASE;

		CU_ASSERT_FATAL(t != NULL);
		for (int i = 0; i < 40; i++) {
			now += (uint64_t)(rand_r(&seed) % 1000) * 100000; /* 0..100 ms */
			if (gwd_ratelimit_admit(t, &k, now, &r))
				continue;
			refusals++;
			CU_ASSERT(r.retry_after_s >= 1);
			CU_ASSERT(r.next_s >= 1);
			CU_ASSERT_EQUAL(r.remaining, 0);
			CU_ASSERT_EQUAL(gwd_ratelimit_peek(t, &k, now + r.retry_after_s * SEC, &again), 1);
		}
		gwd_ratelimit_table_free(t);
	}
	CU_ASSERT(refusals > 100); /* the test did exercise refusals */
}

/* Rates that do not divide the period, and the saturation of huge bursts. */
static void test_odd_rates(void)
{
	/* 3/s: T = 333333333 ns.  Polled every ms for 100 s with a burst of 2
	 * (so that polling late never loses a unit): 2 + 300, give or take
	 * the rounding of T and the last partial unit */
	struct gw_ratelimit p = mk("odd", GW_RLK_IP, 3, 1000, 2, 10);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
	struct gwd_ratelimit_keyval k = ipkey(1);
	struct gwd_ratelimit_result r;
	unsigned ok = 0;

	CU_ASSERT_FATAL(t != NULL);
	for (uint64_t now = BASE; now < BASE + 100 * SEC; now += MS)
		ok += (unsigned)gwd_ratelimit_admit(t, &k, now, &r);
	CU_ASSERT(ok >= 301 && ok <= 302);
	gwd_ratelimit_table_free(t);

	p = mk("huge", GW_RLK_IP, 1, 86400000, 4000000000u, 10);
	t = gwd_ratelimit_table_new(&p, 0);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE, &r), 1);
	/* burst x T saturates at 2^62 ns (146 years): 53374 more per day */
	CU_ASSERT(r.remaining >= 50000);
	gwd_ratelimit_table_free(t);

	p = mk("bad", GW_RLK_IP, 0, 1000, 1, 10);
	CU_ASSERT_PTR_NULL(gwd_ratelimit_table_new(&p, 0));
	p = mk("bad", GW_RLK_IP, 1, 1000, 1, 10);
	CU_ASSERT_PTR_NULL(gwd_ratelimit_table_new(&p, 3)); /* not a power of two */
}

/* Kind ROUTE: one bucket whatever the key, and no keys tracked. */
static void test_route_kind(void)
{
	struct gw_ratelimit p = mk("route", GW_RLK_ROUTE, 10, 1000, 3, 100000);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
	struct gwd_ratelimit_result r;
	unsigned ok = 0;

	CU_ASSERT_FATAL(t != NULL);
	for (uint32_t i = 0; i < 10; i++) {
		struct gwd_ratelimit_keyval k = ipkey(i);
		ok += (unsigned)gwd_ratelimit_admit(t, &k, BASE, &r);
	}
	CU_ASSERT_EQUAL(ok, 3);
	CU_ASSERT_EQUAL(gwd_ratelimit_table_keys(t), 0);
	gwd_ratelimit_table_free(t);
}

/* Keyed hashes of strings: deterministic within the process, distinct for
 * distinct inputs, absent == empty. */
static void test_key_bytes(void)
{
	struct gwd_ratelimit_keyval a, b, c, e1, e2;

	gwd_ratelimit_key_bytes(&a, "alice", 5);
	gwd_ratelimit_key_bytes(&b, "alice", 5);
	gwd_ratelimit_key_bytes(&c, "alicf", 5);
	gwd_ratelimit_key_bytes(&e1, NULL, 0);
	gwd_ratelimit_key_bytes(&e2, "", 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(&a, &c, sizeof a), 0);
	CU_ASSERT_EQUAL(memcmp(&e1, &e2, sizeof e1), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(&a, &e1, sizeof a), 0);
	/* lengths around the 8-byte block boundary all differ */
	const char *s = "0123456789abcdefghij";
	struct gwd_ratelimit_keyval prev;
	gwd_ratelimit_key_bytes(&prev, s, 0);
	for (size_t n = 1; n <= 20; n++) {
		struct gwd_ratelimit_keyval cur;
		gwd_ratelimit_key_bytes(&cur, s, n);
		CU_ASSERT_NOT_EQUAL(memcmp(&cur, &prev, sizeof cur), 0);
		prev = cur;
	}
}

/* Parameter extremes gwc accepts: 1 per day, and 4294967295 per ms with
 * the largest burst (T rounds to 1 ns, the tolerance to 2^32 - 1 ns), and
 * the largest period: no arithmetic wraps, the answers stay exact. */
static void test_extremes(void)
{
	struct gw_ratelimit p = mk("daily", GW_RLK_IP, 1, 86400000, 1, 10);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
	struct gwd_ratelimit_keyval k = ipkey(1);
	struct gwd_ratelimit_result r;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 0);
	CU_ASSERT_EQUAL(r.reset_s, 86400);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE + 1, &r), 0);
	CU_ASSERT_EQUAL(r.retry_after_s, 86400);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE + 86400 * SEC - 1, &r), 0);
	CU_ASSERT_EQUAL(r.retry_after_s, 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE + 86400 * SEC, &r), 1);
	gwd_ratelimit_table_free(t);

	p = mk("flood", GW_RLK_IP, 4294967295u, 1, 4294967295u, 10);
	t = gwd_ratelimit_table_new(&p, 0);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 4294967294u);
	CU_ASSERT_EQUAL(r.reset_s, 1);
	gwd_ratelimit_table_free(t);

	p = mk("longest", GW_RLK_IP, 1, 4294967295u, 4294967295u, 10);
	t = gwd_ratelimit_table_new(&p, 0);
	CU_ASSERT_FATAL(t != NULL);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE, &r), 1);
	/* T = 4294967295 ms, 1000 of them ahead; the tolerance saturated at
	 * 2^62 ns holds 1073 of them: 73 left, and no sum wrapped */
	CU_ASSERT_EQUAL(r.reset_s, 4294967295u);
	CU_ASSERT_EQUAL(r.remaining, 73);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 72);
	CU_ASSERT_EQUAL(r.reset_s, UINT32_MAX); /* 1001 T: clamped, not wrapped */
	gwd_ratelimit_table_free(t);
}

/* An IPv6 client holds a /64 at least (one subnet; SLAAC and privacy
 * addresses rotate inside it): keyed per address, it would get a fresh
 * bucket per request and fill the table for everyone.  Addresses of one
 * /64 share a bucket; other /64s and every IPv4 address keep their own. */
static void test_ipv6_prefix(void)
{
	struct gw_ratelimit p = mk("v6", GW_RLK_IP, 1, 60000, 2, 1000);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
	uint8_t ip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 };
	struct gwd_ratelimit_keyval k, k2;
	struct gwd_ratelimit_result r;
	unsigned ok = 0;

	CU_ASSERT_FATAL(t != NULL);
	for (unsigned i = 0; i < 100; i++) {
		ip[8] = (uint8_t)(i * 37);
		ip[15] = (uint8_t)i;
		gwd_ratelimit_key_ip(&k, ip);
		ok += (unsigned)gwd_ratelimit_admit(t, &k, BASE, &r);
	}
	CU_ASSERT_EQUAL(ok, 2);
	CU_ASSERT_EQUAL(gwd_ratelimit_table_keys(t), 1);
	ip[7] = 2; /* the next /64: its own bucket */
	gwd_ratelimit_key_ip(&k2, ip);
	CU_ASSERT_NOT_EQUAL(memcmp(&k, &k2, sizeof k), 0);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k2, BASE, &r), 1);
	/* v4-mapped addresses all have a zero first half: never masked */
	k = ipkey(1);
	k2 = ipkey(2);
	CU_ASSERT_NOT_EQUAL(memcmp(&k, &k2, sizeof k), 0);
	gwd_ratelimit_table_free(t);
}

/* ---- accuracy with real threads and a real clock ------------------------- */

#define MAXGAPS 4096
#define GAP (2 * MS) /* a pause of a thread worth recording */

struct hammer {
	struct gwd_ratelimit_table *t;
	const struct gwd_ratelimit_check *checks; /* NULL: hammer t with key k */
	unsigned nchecks;
	struct gwd_ratelimit_keyval k;
	uint64_t start, until;
	uint64_t admitted, refused;
	/* the thread's pauses (descheduled), [from, to) */
	unsigned ngaps;
	uint64_t gaps[MAXGAPS][2];
};

/* Thread body: wait for <start>, then admit as fast as possible until
 * <until>, counting the outcomes and recording the thread's pauses. */
static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct gwd_ratelimit_result r;
	struct gwd_ratelimit_decision d;
	uint64_t now, last = h->start;

	while (gwd_clock_ns() < h->start)
		;
	while ((now = gwd_clock_ns()) < h->until) {
		int ok = h->checks ? gwd_ratelimit_admit_all(h->checks, h->nchecks, now, &d)
				   : gwd_ratelimit_admit(h->t, &h->k, now, &r);
		if (ok == 1)
			h->admitted++;
		else
			h->refused++;
		if (now - last > GAP && h->ngaps < MAXGAPS) {
			h->gaps[h->ngaps][0] = last;
			h->gaps[h->ngaps++][1] = now;
		}
		last = now;
	}
	if (h->until - last > GAP && h->ngaps < MAXGAPS) {
		h->gaps[h->ngaps][0] = last;
		h->gaps[h->ngaps++][1] = h->until;
	}
	return NULL;
}

#define NTHREADS 4

/* Requests the limiter could not admit because no thread was sending: over
 * the stretches when every thread of <h> was paused at once (a loaded
 * machine deschedules the whole process), the bucket refills; past <burst>
 * x T of pause the surplus is lost to any GCRA, and a pause at the very
 * start (bucket full) loses it all.  Returned in units of T. */
static uint64_t stall_loss(const struct hammer *h, uint64_t start, uint64_t t_ns,
			   uint64_t burst)
{
	/* sweep over the pause boundaries: where all threads pause at once */
	static uint64_t ev[NTHREADS * MAXGAPS * 2][2];
	unsigned n = 0, depth = 0;
	uint64_t from = 0, loss_ns = 0;

	for (int i = 0; i < NTHREADS; i++)
		for (unsigned g = 0; g < h[i].ngaps; g++) {
			ev[n][0] = h[i].gaps[g][0];
			ev[n++][1] = 1;
			ev[n][0] = h[i].gaps[g][1];
			ev[n++][1] = 0;
		}
	/* insertion sort is fine: a few hundred events at most */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && (ev[j][0] < ev[j - 1][0] ||
			    (ev[j][0] == ev[j - 1][0] && ev[j][1] < ev[j - 1][1])); j--) {
			uint64_t a = ev[j][0], b = ev[j][1];
			ev[j][0] = ev[j - 1][0];
			ev[j][1] = ev[j - 1][1];
			ev[j - 1][0] = a;
			ev[j - 1][1] = b;
		}
	for (unsigned i = 0; i < n; i++) {
		if (ev[i][1]) {
			if (++depth == NTHREADS)
				from = ev[i][0];
		} else {
			if (depth-- == NTHREADS) {
				uint64_t len = ev[i][0] - from;
				if (from <= start)
					loss_ns += len;
				else if (len > burst * t_ns)
					loss_ns += len - burst * t_ns;
			}
		}
	}
	return loss_ns / t_ns;
}

/* 4 threads on one key, 1000/s with burst 100, 3 windows of 1 s: the admitted
 * count is within 1% of 1000 x 3 + 100.  Never above; below only by what
 * whole-process pauses of a loaded machine made unsendable (measured, and
 * zero on an idle machine).  Then a window of silence: the full burst is
 * available again, and no more. */
static void test_accuracy_threads(void)
{
	struct gw_ratelimit p = mk("acc", GW_RLK_IP, 1000, 1000, 100, 100000);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
	static struct hammer h[NTHREADS];
	pthread_t th[NTHREADS];
	uint64_t admitted = 0, refused = 0, start, loss;
	struct gwd_ratelimit_result r;

	CU_ASSERT_FATAL(t != NULL);
	start = gwd_clock_ns() + 200 * MS; /* every thread is spinning by then */
	for (int i = 0; i < NTHREADS; i++) {
		memset(&h[i], 0, sizeof h[i]);
		h[i].t = t;
		h[i].k = ipkey(42);
		h[i].start = start;
		h[i].until = start + 3 * SEC;
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, hammer_run, &h[i]) == 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		admitted += h[i].admitted;
		refused += h[i].refused;
	}
	loss = stall_loss(h, start, t->t_ns, 100);
	fprintf(stderr, "\n  accuracy: %llu admitted, %llu refused (expected 3100 +- 31; "
		"%llu lost to process stalls)\n", (unsigned long long)admitted,
		(unsigned long long)refused, (unsigned long long)loss);
	CU_ASSERT(admitted <= 3100 + 31);
	CU_ASSERT(admitted + loss >= 3100 - 31);
	CU_ASSERT(loss < 1000); /* the machine let the test run at all */
	CU_ASSERT(refused > admitted); /* the key really was hammered */

	/* recovery: one window of silence refills the bucket (it takes
	 * burst x T = 100 ms), and exactly the burst is admitted at once */
	struct timespec ts = { 1, 0 };
	nanosleep(&ts, NULL);
	uint64_t now = gwd_clock_ns();
	struct gwd_ratelimit_keyval k = ipkey(42);
	unsigned ok = 0;
	for (int i = 0; i < 150; i++)
		ok += (unsigned)gwd_ratelimit_admit(t, &k, now, &r);
	CU_ASSERT_EQUAL(ok, 100);
	gwd_ratelimit_table_free(t);
}

/* ---- several limits: a refused request consumes none ---------------------- */

/* Limit A admits, limit B refuses: A keeps what it had.  And the other way
 * round: B refusing first never touches A. */
static void test_multi_rollback(void)
{
	struct gw_ratelimit pa = mk("per-second", GW_RLK_IP, 10, 1000, 10, 1000);
	struct gw_ratelimit pb = mk("per-route", GW_RLK_ROUTE, 2, 1000, 2, 1);
	struct gwd_ratelimit_table *a = gwd_ratelimit_table_new(&pa, 0), *b = gwd_ratelimit_table_new(&pb, 0);
	struct gwd_ratelimit_check c[2];
	struct gwd_ratelimit_decision d;
	struct gwd_ratelimit_result r;

	CU_ASSERT_FATAL(a && b);
	c[0].table = a;
	c[0].key = ipkey(1);
	c[1].table = b;
	c[1].key = ipkey(1);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 2, BASE, &d), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 2, BASE, &d), 1);
	CU_ASSERT_EQUAL(d.report, 1); /* B has 0 left, A 8 */
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 2, BASE, &d), 0);
		CU_ASSERT_EQUAL(d.refused, 1);
		CU_ASSERT_EQUAL(d.admitted, 0);
		CU_ASSERT_EQUAL(d.report, 1);
		CU_ASSERT_EQUAL(d.r[0].remaining, 8); /* reported as it stands */
	}
	CU_ASSERT_EQUAL(gwd_ratelimit_peek(a, &c[0].key, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 8);
	/* B first: its refusal leaves A alone entirely */
	struct gwd_ratelimit_check rev[2] = { c[1], c[0] };
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(rev, 2, BASE, &d), 0);
	CU_ASSERT_EQUAL(d.refused, 0);
	CU_ASSERT_EQUAL(d.r[1].remaining, 8);
	CU_ASSERT_EQUAL(gwd_ratelimit_peek(a, &c[0].key, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 8);
	/* 500 ms later B has one again, and A (2 used at BASE) is full */
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 2, BASE + 500 * MS, &d), 1);
	CU_ASSERT_EQUAL(d.r[0].remaining, 9);
	CU_ASSERT_EQUAL(d.r[1].remaining, 0);
	CU_ASSERT(gwd_ratelimit_admit_all(c, 17, BASE, &d) < 0); /* too many limits */
	gwd_ratelimit_table_free(a);
	gwd_ratelimit_table_free(b);
}

/* The threads of the rollback test share a clock that counts attempts
 * rather than time: each attempt takes the next tick, TICK ns of virtual
 * time after the previous one, so that what the limits admit depends on how
 * many attempts were made, never on how fast a loaded machine ran them. */
#define TICK (10 * 1000ULL) /* 10 us */
#define ATTEMPTS 20000u

struct counted {
	const struct gwd_ratelimit_check *checks;
	unsigned nchecks;
	_Atomic uint64_t *tick;
	pthread_barrier_t *go;
	uint64_t admitted, refused;
};

/* Thread body: once every thread is ready, ATTEMPTS requests through
 * <checks>, each at the next tick of the shared clock. */
static void *counted_run(void *arg)
{
	struct counted *h = arg;
	struct gwd_ratelimit_decision d;

	pthread_barrier_wait(h->go);
	for (unsigned i = 0; i < ATTEMPTS; i++) {
		uint64_t now = BASE + atomic_fetch_add(h->tick, 1) * TICK;

		if (gwd_ratelimit_admit_all(h->checks, h->nchecks, now, &d) == 1)
			h->admitted++;
		else
			h->refused++;
	}
	return NULL;
}

/* Threads hammer two limits at once: A (1 per hour, burst 10^6: it never
 * refills during the test) and B (100/s, burst 10).  Every request that B
 * refuses was first counted by A and rolled back, so at the end A must have
 * counted exactly the requests admitted overall, not one more.  The clock
 * counts attempts (above): 4 x 20000 of them span 0.8 s of virtual time. */
static void test_multi_rollback_threads(void)
{
	struct gw_ratelimit pa = mk("slow", GW_RLK_IP, 1, 3600000, 1000000, 1000);
	struct gw_ratelimit pb = mk("fast", GW_RLK_IP, 100, 1000, 10, 1000);
	struct gwd_ratelimit_table *a = gwd_ratelimit_table_new(&pa, 0);
	struct gwd_ratelimit_table *b = gwd_ratelimit_table_new(&pb, 0);
	struct gwd_ratelimit_check c[2];
	static struct counted h[NTHREADS];
	static _Atomic uint64_t tick;
	pthread_barrier_t go;
	pthread_t th[NTHREADS];
	uint64_t admitted = 0, refused = 0, span;
	struct gwd_ratelimit_result r;

	CU_ASSERT_FATAL(a && b);
	CU_ASSERT_FATAL(pthread_barrier_init(&go, NULL, NTHREADS) == 0);
	atomic_store(&tick, 0);
	c[0].table = a;
	c[0].key = ipkey(9);
	c[1].table = b;
	c[1].key = ipkey(9);
	for (int i = 0; i < NTHREADS; i++) {
		h[i] = (struct counted){ .checks = c, .nchecks = 2, .tick = &tick, .go = &go };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, counted_run, &h[i]) == 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		admitted += h[i].admitted;
		refused += h[i].refused;
	}
	pthread_barrier_destroy(&go);
	span = atomic_load(&tick) * TICK;
	fprintf(stderr, "\n  rollback: %llu admitted, %llu refused over %llu ms of attempts\n",
		(unsigned long long)admitted, (unsigned long long)refused,
		(unsigned long long)(span / MS));
	CU_ASSERT_EQUAL(admitted + refused, (uint64_t)NTHREADS * ATTEMPTS);
	CU_ASSERT(refused > 1000);
	/* B: its burst, then one per 10 ms of the span (0.8 s: 80), never more;
	 * half of that at least, whatever order the threads ran in */
	CU_ASSERT(admitted <= 10 + span / (10 * MS) + 1);
	CU_ASSERT(admitted >= 10 + span / (20 * MS));
	CU_ASSERT_EQUAL(gwd_ratelimit_peek(a, &c[0].key, BASE + span, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 1000000 - admitted);
	gwd_ratelimit_table_free(a);
	gwd_ratelimit_table_free(b);
}

/* ---- memory bound and eviction -------------------------------------------- */

/* max_keys bounds the tracked keys; a full shard with nothing expired sends
 * newcomers to the shared fallback bucket; expired keys make room. */
static void test_eviction_bound(void)
{
	struct gw_ratelimit p = mk("ev", GW_RLK_IP, 10, 1000, 1, 64);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 1);
	struct gwd_ratelimit_result r;

	CU_ASSERT_FATAL(t != NULL);
	for (uint32_t i = 0; i < 64; i++) {
		struct gwd_ratelimit_keyval k = ipkey(i);
		CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, BASE, &r), 1);
		CU_ASSERT_EQUAL(r.fallback, 0);
	}
	CU_ASSERT_EQUAL(gwd_ratelimit_table_keys(t), 64);
	/* full of unexpired keys (TAT = BASE + 100 ms): newcomers share the
	 * fallback bucket, whose burst is 1 */
	struct gwd_ratelimit_keyval n1 = ipkey(1000), n2 = ipkey(1001);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &n1, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.fallback, 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &n2, BASE, &r), 0);
	CU_ASSERT_EQUAL(r.fallback, 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_table_fallbacks(t), 2);
	CU_ASSERT_EQUAL(gwd_ratelimit_table_keys(t), 64);
	/* tracked keys keep their own bucket meanwhile */
	struct gwd_ratelimit_keyval k0 = ipkey(0);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k0, BASE + 100 * MS, &r), 1);
	CU_ASSERT_EQUAL(r.fallback, 0);
	/* once they expire, 500 newcomers get cells, the bound holds */
	for (uint32_t i = 0; i < 500; i++) {
		struct gwd_ratelimit_keyval k = ipkey(2000 + i);
		uint64_t now = BASE + 300 * MS + i * 100 * MS;
		CU_ASSERT_EQUAL(gwd_ratelimit_admit(t, &k, now, &r), 1);
		CU_ASSERT_EQUAL(r.fallback, 0);
		CU_ASSERT(gwd_ratelimit_table_keys(t) <= 64);
	}
	CU_ASSERT_EQUAL(gwd_ratelimit_table_fallbacks(t), 2);
	gwd_ratelimit_table_free(t);

	/* default sharding: 5000 distinct keys at one instant into 1000 slots */
	p = mk("ev2", GW_RLK_IP, 10, 1000, 2, 1000);
	t = gwd_ratelimit_table_new(&p, 0);
	CU_ASSERT_FATAL(t != NULL);
	for (uint32_t i = 0; i < 5000; i++) {
		struct gwd_ratelimit_keyval k = ipkey(i);
		gwd_ratelimit_admit(t, &k, BASE, &r);
	}
	CU_ASSERT(gwd_ratelimit_table_keys(t) <= 1000);
	CU_ASSERT(gwd_ratelimit_table_keys(t) >= 900); /* shards fill nearly evenly */
	CU_ASSERT_EQUAL(gwd_ratelimit_table_keys(t) + gwd_ratelimit_table_fallbacks(t), 5000);
	gwd_ratelimit_table_free(t);
}

/* Lossless: a table of 64 keys and one of 100000 give the same answer to
 * every request of a long random workload over 2000 clients, as long as no
 * more than 64 keys are unexpired at once (requests every 10 ms, a key stays
 * unexpired 300 ms at most: at most 30 such keys). */
static void test_eviction_lossless(void)
{
	struct gw_ratelimit ps = mk("small", GW_RLK_IP, 10, 1000, 3, 64);
	struct gw_ratelimit pl = mk("large", GW_RLK_IP, 10, 1000, 3, 100000);
	struct gwd_ratelimit_table *s = gwd_ratelimit_table_new(&ps, 1), *l = gwd_ratelimit_table_new(&pl, 0);
	unsigned seed = 99, same = 0, admitted = 0;
	struct gwd_ratelimit_result rs, rl;

	CU_ASSERT_FATAL(s && l);
	for (uint32_t i = 0; i < 20000; i++) {
		/* a few hot clients and a long tail, so that keys both repeat
		 * within their bucket's life and come back after eviction */
		uint32_t n = rand_r(&seed) % 4 ? rand_r(&seed) % 8 : rand_r(&seed) % 2000;
		struct gwd_ratelimit_keyval k = ipkey(n);
		uint64_t now = BASE + (uint64_t)i * 10 * MS;
		int a = gwd_ratelimit_admit(s, &k, now, &rs), b = gwd_ratelimit_admit(l, &k, now, &rl);

		same += a == b && rs.remaining == rl.remaining && rs.reset_s == rl.reset_s &&
			rs.next_s == rl.next_s && rs.retry_after_s == rl.retry_after_s;
		admitted += (unsigned)a;
	}
	CU_ASSERT_EQUAL(same, 20000);
	CU_ASSERT_EQUAL(gwd_ratelimit_table_fallbacks(s), 0);
	CU_ASSERT_EQUAL(gwd_ratelimit_table_keys(s), 64);     /* it did evict */
	CU_ASSERT(gwd_ratelimit_table_keys(l) > 1000);
	CU_ASSERT(admitted < 20000);                   /* and did refuse */
	gwd_ratelimit_table_free(s);
	gwd_ratelimit_table_free(l);
}

struct churn {
	struct gwd_ratelimit_table *t;
	unsigned seed;
	uint64_t until;
	uint64_t hot_admitted;  /* admitted in the hot key's own cell */
	uint64_t returns;       /* times the hot key came back from the fallback */
	struct gwd_ratelimit_keyval hot;
};

/* Thread body: a hot key of its own, interleaved with random keys from a
 * pool of 2^20 (each comes back rarely, so cells keep expiring and being
 * re-keyed under the readers' feet), with the real clock. */
static void *churn_run(void *arg)
{
	struct churn *c = arg;
	struct gwd_ratelimit_result r;
	uint64_t now;
	int was_fallback = 0;

	while ((now = gwd_clock_ns()) < c->until) {
		struct gwd_ratelimit_keyval k = ipkey((uint32_t)rand_r(&c->seed) % (1u << 20));

		gwd_ratelimit_admit(c->t, &k, now, &r);
		int ok = gwd_ratelimit_admit(c->t, &c->hot, now, &r);
		if (ok == 1 && !r.fallback)
			c->hot_admitted++;
		if (was_fallback && !r.fallback)
			c->returns++;
		was_fallback = r.fallback;
	}
	return NULL;
}

/* Insertions, evictions and lookups racing on a small table: the bound holds
 * and each hot key, in its own cell, is never admitted beyond its limit (a
 * lookup that landed on a re-keyed cell would over-admit it).  A hot key
 * that spent time in the fallback bucket (its thread descheduled long enough
 * for its cell to expire and be taken, and the shard full) comes back with a
 * fresh bucket: up to one burst more per return. */
static void test_eviction_threads(void)
{
	struct gw_ratelimit p = mk("churn", GW_RLK_IP, 1000, 1000, 5, 256);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 2);
	struct churn c[NTHREADS];
	pthread_t th[NTHREADS];
	uint64_t start = gwd_clock_ns(), hot = 0;

	CU_ASSERT_FATAL(t != NULL);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&c[i], 0, sizeof c[i]);
		c[i].t = t;
		c[i].seed = 7u + (unsigned)i;
		c[i].until = start + 500 * MS;
		c[i].hot = ipkey(0xf00000u + (uint32_t)i); /* outside the pool */
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, churn_run, &c[i]) == 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		/* burst + 1000/s x 0.5 s (+1: the instants are inclusive) */
		CU_ASSERT(c[i].hot_admitted <= 5 + 500 + 1 + 5 * c[i].returns);
		hot += c[i].hot_admitted;
	}
	CU_ASSERT(hot >= 100); /* hot keys did get cells amid the churn */
	CU_ASSERT(gwd_ratelimit_table_keys(t) <= 256);
	gwd_ratelimit_table_free(t);
}

/* ---- identity across reloads ---------------------------------------------- */

/* Generation 1 acquires the tables of its policies; a reload (generation 2)
 * with the same policy ident gets the same table and the client keeps its
 * count; a changed policy (new ident) starts fresh; a table lives until the
 * last generation referring to it is released. */
static void test_registry_reload(void)
{
	struct gwd_ratelimit_registry *reg = gwd_ratelimit_registry_new();
	struct gw_ratelimit p = mk("api", GW_RLK_IP, 10, 1000, 10, 1000);
	struct gw_ratelimit p2 = mk("api", GW_RLK_IP, 20, 1000, 10, 1000);
	struct gwd_ratelimit_keyval k = ipkey(5);
	struct gwd_ratelimit_result r;

	CU_ASSERT_FATAL(reg != NULL);
	struct gwd_ratelimit_table *g1 = gwd_ratelimit_registry_acquire(reg, 0xabcdef, 0, &p);
	struct gwd_ratelimit_table *g1b = gwd_ratelimit_registry_acquire(reg, 0xabcdef, 1, &p);
	CU_ASSERT_FATAL(g1 && g1b);
	CU_ASSERT_PTR_NOT_EQUAL(g1, g1b); /* the second limit of the policy */
	for (int i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(gwd_ratelimit_admit(g1, &k, BASE, &r), 1);

	/* reload: same ident, same parameters */
	struct gwd_ratelimit_table *g2 = gwd_ratelimit_registry_acquire(reg, 0xabcdef, 0, &p);
	CU_ASSERT_PTR_EQUAL(g2, g1);
	gwd_ratelimit_registry_release(reg, g1); /* generation 1 retires */
	gwd_ratelimit_registry_release(reg, g1b);
	CU_ASSERT_EQUAL(gwd_ratelimit_peek(g2, &k, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 3); /* the count survived */
	CU_ASSERT_EQUAL(gwd_ratelimit_admit(g2, &k, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 2);

	/* reload with the policy changed: new ident, fresh table */
	struct gwd_ratelimit_table *g3 = gwd_ratelimit_registry_acquire(reg, 0x123456, 0, &p2);
	CU_ASSERT_FATAL(g3 != NULL);
	CU_ASSERT_PTR_NOT_EQUAL(g3, g2);
	CU_ASSERT_EQUAL(gwd_ratelimit_peek(g3, &k, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 10);
	/* same ident but other parameters (cannot come from gwc): not reused */
	struct gwd_ratelimit_table *g4 = gwd_ratelimit_registry_acquire(reg, 0xabcdef, 0, &p2);
	CU_ASSERT_PTR_NOT_EQUAL(g4, g2);
	gwd_ratelimit_registry_release(reg, g2); /* generation 2 retires: freed */
	gwd_ratelimit_registry_release(reg, g4);
	/* the policy comes back after its table was freed: fresh counts */
	struct gwd_ratelimit_table *g5 = gwd_ratelimit_registry_acquire(reg, 0xabcdef, 0, &p);
	CU_ASSERT_FATAL(g5 != NULL);
	CU_ASSERT_EQUAL(gwd_ratelimit_peek(g5, &k, BASE, &r), 1);
	CU_ASSERT_EQUAL(r.remaining, 10);
	gwd_ratelimit_registry_release(reg, g5);
	gwd_ratelimit_registry_release(reg, g3);
	gwd_ratelimit_registry_release(reg, NULL);
	gwd_ratelimit_registry_free(reg);
}

/* ---- header fields -------------------------------------------------------- */

/* The value of header <name> in <h>, or NULL.  Checks on the way that the
 * lengths handed to the daemon are those of the NUL-terminated strings. */
static const char *hget(const struct gwd_ratelimit_headers *h, const char *name)
{
	for (unsigned i = 0; i < h->n; i++) {
		CU_ASSERT_EQUAL(h->nlen[i], strlen(h->name[i]));
		CU_ASSERT_EQUAL(h->vlen[i], strlen(h->value[i]));
	}
	for (unsigned i = 0; i < h->n; i++)
		if (strcmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

#define CU_ASSERT_HDR(h, name, want)                                        \
	do {                                                                \
		const char *got_ = hget(h, name);                           \
		CU_ASSERT_PTR_NOT_NULL(got_);                               \
		if (got_ && strcmp(got_, want) != 0) {                      \
			fprintf(stderr, "\n  %s: got [%s], want [%s]\n", name, got_, want); \
			CU_FAIL(name);                                      \
		}                                                           \
	} while (0)

/* The fields of one limit, then of two, admitted and refused, compared as
 * exact strings; the refused request's rollback shows in the RateLimit list. */
static void test_headers(void)
{
	struct gw_ratelimit ps = mk("strict", GW_RLK_IP, 10, 1000, 10, 100);
	struct gw_ratelimit ph = mk("per-hour", GW_RLK_IP, 1000, 3600000, 1000, 100);
	struct gwd_ratelimit_table *s = gwd_ratelimit_table_new(&ps, 0), *hr = gwd_ratelimit_table_new(&ph, 0);
	struct gwd_ratelimit_check c[2];
	struct gwd_ratelimit_decision d;
	struct gwd_ratelimit_headers h;
	char buf[GWD_RATELIMIT_HDR_BUF];

	CU_ASSERT_FATAL(s && hr);
	c[0].table = s;
	c[0].key = ipkey(1);
	c[1].table = hr;
	c[1].key = ipkey(1);

	/* one limit, 7 requests at one instant */
	for (int i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 1, BASE, &d), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, sizeof buf, &h), 0);
	CU_ASSERT_EQUAL(h.n, 5);
	CU_ASSERT_HDR(&h, "X-RateLimit-Limit", "10");
	CU_ASSERT_HDR(&h, "X-RateLimit-Remaining", "3");
	CU_ASSERT_HDR(&h, "X-RateLimit-Reset", "1");
	CU_ASSERT_HDR(&h, "RateLimit-Policy", "\"strict\";q=10;w=1");
	CU_ASSERT_HDR(&h, "RateLimit", "\"strict\";r=3;t=1");
	CU_ASSERT_PTR_NULL(hget(&h, "Retry-After"));

	/* exhaust it: a refusal carries Retry-After */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 1, BASE, &d), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 1, BASE, &d), 0);
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, sizeof buf, &h), 0);
	CU_ASSERT_EQUAL(h.n, 6);
	CU_ASSERT_HDR(&h, "X-RateLimit-Remaining", "0");
	CU_ASSERT_HDR(&h, "X-RateLimit-Reset", "1");
	CU_ASSERT_HDR(&h, "RateLimit", "\"strict\";r=0;t=1");
	CU_ASSERT_HDR(&h, "Retry-After", "1");

	/* two limits, 10 s later: strict is full again (9 left after this
	 * one), per-hour (T = 3.6 s) is fresh: 999 left, next unit in 3.6 s */
	uint64_t later = BASE + 10 * SEC;
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 2, later, &d), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, sizeof buf, &h), 0);
	CU_ASSERT_HDR(&h, "X-RateLimit-Limit", "10");      /* strict: 9 left */
	CU_ASSERT_HDR(&h, "X-RateLimit-Remaining", "9");
	CU_ASSERT_HDR(&h, "RateLimit-Policy",
		      "\"strict\";q=10;w=1, \"per-hour\";q=1000;w=3600");
	CU_ASSERT_HDR(&h, "RateLimit", "\"strict\";r=9;t=1, \"per-hour\";r=999;t=4");

	/* per-hour exhausted: its 3.6 s wait is the one reported */
	struct gw_ratelimit pt = mk("tiny-hour", GW_RLK_IP, 1000, 3600000, 1, 100);
	struct gwd_ratelimit_table *th = gwd_ratelimit_table_new(&pt, 0);
	CU_ASSERT_FATAL(th != NULL);
	c[1].table = th;
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 2, later + SEC, &d), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 2, later + SEC, &d), 0);
	CU_ASSERT_EQUAL(d.refused, 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, sizeof buf, &h), 0);
	CU_ASSERT_HDR(&h, "Retry-After", "4");
	CU_ASSERT_HDR(&h, "X-RateLimit-Limit", "1000");
	CU_ASSERT_HDR(&h, "X-RateLimit-Remaining", "0");
	CU_ASSERT_HDR(&h, "X-RateLimit-Reset", "4");
	/* strict counted the first request of the pair, not the refused one */
	CU_ASSERT_HDR(&h, "RateLimit", "\"strict\";r=9;t=1, \"tiny-hour\";r=0;t=4");

	/* too small a buffer: refused cleanly */
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, 20, &h), -1);
	CU_ASSERT_EQUAL(h.n, 0);
	/* the size asked for is enough, and within the documented bound */
	CU_ASSERT(gwd_ratelimit_headers_size(&d) <= GWD_RATELIMIT_HDR_BUF_N(2));
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, gwd_ratelimit_headers_size(&d), &h), 0);
	CU_ASSERT_HDR(&h, "RateLimit", "\"strict\";r=9;t=1, \"tiny-hour\";r=0;t=4");
	CU_ASSERT_HDR(&h, "Retry-After", "4");
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, gwd_ratelimit_headers_size(&d) - 1, &h), -1);
	gwd_ratelimit_table_free(s);
	gwd_ratelimit_table_free(hr);
	gwd_ratelimit_table_free(th);
}

/* Periods that are not whole seconds are advertised conservatively. */
static void test_headers_windows(void)
{
	struct gw_ratelimit p1 = mk("half", GW_RLK_ROUTE, 5, 500, 5, 1);
	struct gw_ratelimit p2 = mk("odd\"name", GW_RLK_ROUTE, 100, 1500, 5, 1);
	struct gw_ratelimit p3 = mk("minute", GW_RLK_ROUTE, 600, 60000, 50, 1);
	struct gwd_ratelimit_table *t1 = gwd_ratelimit_table_new(&p1, 0), *t2 = gwd_ratelimit_table_new(&p2, 0),
			   *t3 = gwd_ratelimit_table_new(&p3, 0);
	struct gwd_ratelimit_check c[3] = { { t1, { { 0, 0 } } }, { t2, { { 0, 0 } } },
				    { t3, { { 0, 0 } } } };
	struct gwd_ratelimit_decision d;
	struct gwd_ratelimit_headers h;
	char buf[GWD_RATELIMIT_HDR_BUF];

	CU_ASSERT_FATAL(t1 && t2 && t3);
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 3, BASE, &d), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, sizeof buf, &h), 0);
	CU_ASSERT_HDR(&h, "RateLimit-Policy",
		      "\"half\";q=10;w=1, \"odd\\\"name\";q=133;w=2, \"minute\";q=600;w=60");
	CU_ASSERT_HDR(&h, "RateLimit",
		      "\"half\";r=4;t=1, \"odd\\\"name\";r=4;t=1, \"minute\";r=49;t=1");
	CU_ASSERT_HDR(&h, "X-RateLimit-Limit", "5"); /* "half": 4 left, reset 1 */
	gwd_ratelimit_table_free(t1);
	gwd_ratelimit_table_free(t2);
	gwd_ratelimit_table_free(t3);

	/* the largest quota over the largest period that is not whole
	 * seconds: quota * w * 1000 passes 2^64 on the way */
	p1 = mk("max", GW_RLK_ROUTE, 4294967295u, 4294967295u, 1, 1);
	t1 = gwd_ratelimit_table_new(&p1, 0);
	CU_ASSERT_FATAL(t1 != NULL);
	c[0].table = t1;
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, 1, BASE, &d), 1);
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, sizeof buf, &h), 0);
	CU_ASSERT_HDR(&h, "RateLimit-Policy", "\"max\";q=4294968000;w=4294968");
	gwd_ratelimit_table_free(t1);
}

/* The worst case for the buffer: GWD_RATELIMIT_MAX_LIMITS limits whose names are
 * all quotes (every byte escaped), at the largest numbers: it fits in
 * GWD_RATELIMIT_HDR_BUF, and nothing is written past a smaller buffer. */
static void test_headers_worst(void)
{
	char name[200];
	struct gwd_ratelimit_table *t[GWD_RATELIMIT_MAX_LIMITS];
	struct gwd_ratelimit_check c[GWD_RATELIMIT_MAX_LIMITS];
	struct gwd_ratelimit_decision d;
	struct gwd_ratelimit_headers h;
	static char buf[GWD_RATELIMIT_HDR_BUF + 64];

	memset(name, '"', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	for (int i = 0; i < GWD_RATELIMIT_MAX_LIMITS; i++) {
		struct gw_ratelimit p = mk(name, GW_RLK_ROUTE, 4000000000u, 1, 4000000000u, 1);

		t[i] = gwd_ratelimit_table_new(&p, 0);
		CU_ASSERT_FATAL(t[i] != NULL);
		c[i].table = t[i];
		memset(&c[i].key, 0, sizeof c[i].key);
	}
	CU_ASSERT_EQUAL(gwd_ratelimit_admit_all(c, GWD_RATELIMIT_MAX_LIMITS, BASE, &d), 1);
	memset(buf, 'Z', sizeof buf);
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, GWD_RATELIMIT_HDR_BUF, &h), 0);
	CU_ASSERT_EQUAL(h.n, 5);
	CU_ASSERT_EQUAL(buf[GWD_RATELIMIT_HDR_BUF], 'Z');
	/* q = 4e9 per ms = 4e12 per second */
	CU_ASSERT_PTR_NOT_NULL(strstr(hget(&h, "RateLimit-Policy"), ";q=4000000000000;w=1"));
	/* what it wrote fits in what it asks for, which fits the bound */
	size_t need = gwd_ratelimit_headers_size(&d), used = 0;
	CU_ASSERT(need <= GWD_RATELIMIT_HDR_BUF);
	for (unsigned i = 0; i < h.n; i++) {
		/* X-RateLimit-Limit is the table's own text, not in <buf> */
		if (h.value[i] >= buf && h.value[i] < buf + sizeof buf &&
		    (size_t)(h.value[i] - buf) + h.vlen[i] + 1 > used)
			used = (size_t)(h.value[i] - buf) + h.vlen[i] + 1;
	}
	CU_ASSERT(used > 0 && used <= need);
	/* one byte short of what it asks for: refused, nothing written */
	memset(buf, 'Z', sizeof buf);
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, need - 1, &h), -1);
	CU_ASSERT_EQUAL(buf[0], 'Z');
	CU_ASSERT_EQUAL(gwd_ratelimit_headers_render(&d, buf, need, &h), 0);
	CU_ASSERT_EQUAL(buf[need], 'Z');
	for (int i = 0; i < GWD_RATELIMIT_MAX_LIMITS; i++)
		gwd_ratelimit_table_free(t[i]);
}

int gw_suite_gwd_ratelimit(void)
{
	CU_pSuite s = CU_add_suite("gwd/ratelimit", NULL, NULL);

	if (!s || !CU_add_test(s, "burst and rate exact", test_burst_exact) ||
	    !CU_add_test(s, "Retry-After >= 1 and honest", test_retry_after) ||
	    !CU_add_test(s, "odd rates, huge bursts, bad params", test_odd_rates) ||
	    !CU_add_test(s, "route key: one bucket", test_route_kind) ||
	    !CU_add_test(s, "keyed string hashes", test_key_bytes) ||
	    !CU_add_test(s, "parameter extremes", test_extremes) ||
	    !CU_add_test(s, "IPv6 clients by /64", test_ipv6_prefix) ||
	    !CU_add_test(s, "accuracy: 4 threads, 3 windows, recovery", test_accuracy_threads) ||
	    !CU_add_test(s, "several limits: rollback", test_multi_rollback) ||
	    !CU_add_test(s, "several limits: rollback under threads",
			 test_multi_rollback_threads) ||
	    !CU_add_test(s, "eviction: bounded, fallback", test_eviction_bound) ||
	    !CU_add_test(s, "eviction: lossless", test_eviction_lossless) ||
	    !CU_add_test(s, "eviction: racing threads", test_eviction_threads) ||
	    !CU_add_test(s, "registry: identity across reloads", test_registry_reload) ||
	    !CU_add_test(s, "headers: exact fields", test_headers) ||
	    !CU_add_test(s, "headers: windows and names", test_headers_windows) ||
	    !CU_add_test(s, "headers: worst-case buffer", test_headers_worst))
		return -1;
	return 0;
}
