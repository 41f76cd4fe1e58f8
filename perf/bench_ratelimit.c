/* Benchmark of gwd's rate limiter alone (gwd/ratelimit.c): what one
 * admission costs, and what one million keys weigh.  Not a test: it asserts
 * nothing and its figures depend on the machine; docs/ratelimit.md records
 * them with the machine they came from.
 *
 *   bin/bench_ratelimit [seconds-per-figure]     (default 1)
 *
 * Figures:
 *   - the clock read (gwd_clock_ns), which the daemon pays once per request;
 *   - one hot key, 1 thread and 2 threads (all admitted: a limit far above
 *     what the loop can send, so every call is a successful CAS);
 *   - one hot key over its limit (every call refused: a load, no CAS);
 *   - gwd_ratelimit_admit_all + gwd_ratelimit_headers_render for one limit (the daemon's
 *     whole per-request rate-limit work);
 *   - 1M distinct keys: first sight of each (slow path: lock, insertion),
 *     then again in random order (fast path, cache-missing);
 *   - memory of a table of max_keys 1M: computed (cells + chain heads) and
 *     measured (resident set before and after touching every key).
 */
#include "gwd/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS (1u << 20)

static double seconds = 1.0;

/* Resident set size of this process in bytes, from /proc/self/statm; 0 when
 * it cannot be read. */
static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * 4096u;
}

/* The limit of <quota> per second with <burst>, keyed by IP, <max_keys>. */
static struct gw_ratelimit limit(uint32_t quota, uint32_t burst, uint32_t max_keys)
{
	struct gw_ratelimit p;

	memset(&p, 0, sizeof p);
	p.name.p = "bench";
	p.name.len = 5;
	p.key = GW_RLK_IP;
	p.quota = quota;
	p.period_ms = 1000;
	p.burst = burst;
	p.max_keys = max_keys;
	return p;
}

/* The key of IPv4 client number <n> (v4-mapped). */
static struct gwd_ratelimit_keyval ipkey(uint32_t n)
{
	uint8_t ip[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, (uint8_t)(n >> 24),
			   (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	struct gwd_ratelimit_keyval k;

	gwd_ratelimit_key_ip(&k, ip);
	return k;
}

struct hot {
	struct gwd_ratelimit_table *t;
	struct gwd_ratelimit_keyval k;
	uint64_t ops, admitted, ns;
	pthread_barrier_t *bar;
};

/* Thread body: admit key <k> in a loop for <seconds>, reading the clock
 * every call as the daemon does.  Counts calls, admissions and time. */
static void *hot_run(void *arg)
{
	struct hot *h = arg;
	struct gwd_ratelimit_result r;
	uint64_t t0, end, now;

	pthread_barrier_wait(h->bar);
	t0 = gwd_clock_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	do {
		for (int i = 0; i < 256; i++) {
			now = gwd_clock_ns();
			h->admitted += (uint64_t)gwd_ratelimit_admit(h->t, &h->k, now, &r);
		}
		h->ops += 256;
	} while (now < end);
	h->ns = now - t0;
	return NULL;
}

/* ns per admission of one hot key from <nthreads> threads against limit
 * <p>; prints the figure under <label>. */
static void bench_hot(const char *label, const struct gw_ratelimit *p, int nthreads)
{
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(p, 0);
	struct hot h[8];
	pthread_t th[8];
	pthread_barrier_t bar;
	uint64_t ops = 0, admitted = 0, ns = 0;

	if (!t)
		return;
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		memset(&h[i], 0, sizeof h[i]);
		h[i].t = t;
		h[i].k = ipkey(7);
		h[i].bar = &bar;
		pthread_create(&th[i], NULL, hot_run, &h[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		ops += h[i].ops;
		admitted += h[i].admitted;
		ns = h[i].ns > ns ? h[i].ns : ns;
	}
	/* per thread: the time one call takes as its caller sees it */
	printf("%-44s %7.1f ns/call  (%d thread%s, %.1f M calls/s total, %.0f%% admitted)\n",
	       label, (double)ns * nthreads / (double)ops, nthreads, nthreads > 1 ? "s" : "",
	       (double)ops / ((double)ns / 1e9) / 1e6, 100.0 * (double)admitted / (double)ops);
	pthread_barrier_destroy(&bar);
	gwd_ratelimit_table_free(t);
}

/* ns per gwd_clock_ns() call. */
static void bench_clock(void)
{
	uint64_t t0 = gwd_clock_ns(), x = 0, n = 10000000;

	for (uint64_t i = 0; i < n; i++)
		x += gwd_clock_ns();
	uint64_t ns = gwd_clock_ns() - t0;
	printf("%-44s %7.1f ns/call  (checksum %llu)\n", "clock read (gwd_clock_ns)",
	       (double)ns / (double)n, (unsigned long long)(x & 1));
}

/* ns per request of the daemon's whole rate-limit step for one limit:
 * decision plus header rendering into a stack buffer. */
static void bench_decision(void)
{
	struct gw_ratelimit p = limit(1000000000u, 1000000000u, 100000);
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
	struct gwd_ratelimit_check c = { t, ipkey(9) };
	struct gwd_ratelimit_decision d;
	struct gwd_ratelimit_headers h;
	char buf[GWD_RATELIMIT_HDR_BUF_N(1)];
	uint64_t n = 0, t0, now;

	if (!t)
		return;
	t0 = gwd_clock_ns();
	do {
		for (int i = 0; i < 256; i++) {
			now = gwd_clock_ns();
			gwd_ratelimit_admit_all(&c, 1, now, &d);
			gwd_ratelimit_headers_render(&d, buf, sizeof buf, &h);
		}
		n += 256;
	} while (now - t0 < (uint64_t)(seconds * 1e9));
	printf("%-44s %7.1f ns/call\n", "admit_all + headers_render, 1 limit",
	       (double)(now - t0) / (double)n);
	gwd_ratelimit_table_free(t);
}

/* 1M distinct keys: insertion, then lookups in random order; and the
 * memory: computed from the table's layout and measured as RSS growth. */
static void bench_million(void)
{
	struct gw_ratelimit p = limit(10, 10, NKEYS);
	uint64_t rss0 = rss_bytes(), rss1, rss2, t0, ns, bytes = 0;
	struct gwd_ratelimit_table *t = gwd_ratelimit_table_new(&p, 0);
	struct gwd_ratelimit_result r;
	uint32_t *order;
	uint64_t now = gwd_clock_ns();
	unsigned seed = 1;

	if (!t)
		return;
	rss1 = rss_bytes();
	order = malloc(NKEYS * sizeof *order);
	if (!order) {
		gwd_ratelimit_table_free(t);
		return;
	}
	for (uint32_t i = 0; i < NKEYS; i++)
		order[i] = i;
	for (uint32_t i = NKEYS - 1; i > 0; i--) {
		uint32_t j = (uint32_t)rand_r(&seed) % (i + 1), x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	uint64_t rss_order = rss_bytes();

	t0 = gwd_clock_ns();
	for (uint32_t i = 0; i < NKEYS; i++) {
		struct gwd_ratelimit_keyval k = ipkey(0x0a000000u + i);
		gwd_ratelimit_admit(t, &k, now, &r);
	}
	ns = gwd_clock_ns() - t0;
	rss2 = rss_bytes();
	printf("%-44s %7.1f ns/call  (%llu keys held, %llu fallbacks)\n",
	       "1M distinct keys, first sight (insert)", (double)ns / NKEYS,
	       (unsigned long long)gwd_ratelimit_table_keys(t),
	       (unsigned long long)gwd_ratelimit_table_fallbacks(t));
	t0 = gwd_clock_ns();
	for (uint32_t i = 0; i < NKEYS; i++) {
		struct gwd_ratelimit_keyval k = ipkey(0x0a000000u + order[i]);
		gwd_ratelimit_admit(t, &k, now, &r);
	}
	ns = gwd_clock_ns() - t0;
	printf("%-44s %7.1f ns/call\n", "1M distinct keys, again, random order", (double)ns / NKEYS);

	for (uint32_t i = 0; i < t->nshards; i++)
		bytes += (uint64_t)t->shards[i].cap * sizeof(struct gwd_ratelimit_cell) +
			 ((uint64_t)t->shards[i].bmask + 1) * sizeof(uint32_t);
	bytes += sizeof *t + t->nshards * sizeof *t->shards;
	printf("memory for %u keys: computed %.1f MiB = %.1f B/key (cell %zu B + chain heads); "
	       "RSS: +%.1f MiB at creation, +%.1f MiB after touching every key = %.1f B/key\n",
	       NKEYS, (double)bytes / 1048576.0, (double)bytes / NKEYS, sizeof(struct gwd_ratelimit_cell),
	       (double)(rss1 - rss0) / 1048576.0,
	       (double)(rss2 - rss_order + rss1 - rss0) / 1048576.0,
	       (double)(rss2 - rss_order + rss1 - rss0) / NKEYS);
	free(order);
	gwd_ratelimit_table_free(t);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		seconds = atof(argv[1]) > 0 ? atof(argv[1]) : 1.0;
	struct gw_ratelimit open_limit = limit(1000000000u, 1000000000u, 100000);
	struct gw_ratelimit tight = limit(10, 10, 100000);

	/* first, so that no memory freed by the others is reused: the RSS
	 * growth is then the table's own */
	bench_million();
	bench_clock();
	bench_hot("hot key, admitted (CAS), incl. clock", &open_limit, 1);
	bench_hot("hot key, admitted (CAS), incl. clock", &open_limit, 2);
	bench_hot("hot key, refused (no CAS), incl. clock", &tight, 1);
	bench_hot("hot key, refused (no CAS), incl. clock", &tight, 2);
	bench_decision();
	return 0;
}
