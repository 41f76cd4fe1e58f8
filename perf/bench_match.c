/* The routing micro-benchmark: nanoseconds per gw_match() on a real blob.
 *
 *   bin/bench_match BLOB REQUESTS [--rounds N] [--seed S]
 *
 * REQUESTS holds lines "METHOD HOST PATH" (HOST "-" for none), as written by
 * perf/gen_routes.py --requests.  Each path is normalised once up front (the
 * benchmark is about the matcher; the normaliser is timed separately), the
 * list is shuffled with a fixed seed, one untimed round warms the caches, and
 * then every lookup of N rounds is timed on its own with CLOCK_MONOTONIC.
 * The clock's own cost, measured the same way around nothing, is subtracted.
 * Printed, one "key=value" per field on one line for perf/bench-routing.sh:
 * lookups, found/405/404 counts, median and p99 ns per lookup, the mean of
 * an untimed-per-call loop (no clock in between: a check on the median),
 * normalise+match mean, and the number of allocations made during the timed
 * rounds, counted by wrapping malloc and friends (gw_match promises none).
 * Not a test: figures depend on the machine; docs/performance.md keeps them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/blob.h"
#include "lib/error.h"
#include "lib/match.h"
#include "lib/path.h"

/* ---- allocation counting ---------------------------------------------------
 * The executable's malloc family interposes on the C library's for the whole
 * process (ELF symbol interposition), so a call from lib/ or from libc itself
 * is seen; each forwards to glibc's own entry points. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile int bench_counting;
static volatile unsigned long bench_allocs;

void *malloc(size_t n)
{
	if (bench_counting)
		bench_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	if (bench_counting)
		bench_allocs++;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	if (bench_counting)
		bench_allocs++;
	return __libc_realloc(p, n);
}

void *aligned_alloc(size_t a, size_t n)
{
	if (bench_counting)
		bench_allocs++;
	return __libc_memalign(a, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
	void *p;

	if (bench_counting)
		bench_allocs++;
	p = __libc_memalign(a, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void free(void *p)
{
	__libc_free(p);
}

/* ---- requests ----------------------------------------------------------- */

struct bench_req {
	unsigned method;
	char *host; /* "" for none */
	char *raw;  /* as read */
	char *path; /* normalised */
	size_t hlen, rawlen, len;
};

/* Nanoseconds of CLOCK_MONOTONIC. */
static inline uint64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Read <file> into a malloc'd array of requests (<*n> of them).  Lines whose
 * path the normaliser refuses are skipped.  NULL on error (printed). */
static struct bench_req *bench_read(const char *file, size_t *n)
{
	FILE *f = fopen(file, "r");
	struct bench_req *v = NULL;
	size_t cap = 0;
	char line[4096], m[16], h[256], p[2048];

	*n = 0;
	if (!f) {
		perror(file);
		return NULL;
	}
	while (fgets(line, sizeof line, f)) {
		struct bench_req *r;
		size_t outlen;

		if (sscanf(line, "%15s %255s %2047s", m, h, p) != 3)
			continue;
		if (*n == cap) {
			struct bench_req *nv = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof *v);

			if (!nv)
				goto fail;
			v = nv;
		}
		r = &v[*n];
		r->method = gw_method_bit(m, strlen(m));
		r->host = strdup(strcmp(h, "-") == 0 ? "" : h);
		r->raw = strdup(p);
		r->path = malloc(strlen(p) + 1);
		if (!r->host || !r->raw || !r->path)
			goto fail;
		r->hlen = strlen(r->host);
		r->rawlen = strlen(p);
		if (!r->method || gw_path_normalize(p, r->rawlen, r->path, r->rawlen + 1, &outlen) != 0) {
			free(r->host);
			free(r->raw);
			free(r->path);
			continue;
		}
		r->len = outlen;
		(*n)++;
	}
	fclose(f);
	return v;
fail:
	fprintf(stderr, "bench_match: out of memory\n");
	fclose(f);
	free(v);
	return NULL;
}

/* Move the strings of the <n> requests of <v> into one allocation, in array
 * order (the old ones are freed; the arena is leaked on purpose: it lives
 * until exit).  0, or -1 when memory runs out. */
static int bench_pack(struct bench_req *v, size_t n)
{
	size_t size = 0, o = 0;
	char *arena;

	for (size_t i = 0; i < n; i++)
		size += v[i].hlen + 1 + v[i].rawlen + 1 + v[i].len + 1;
	arena = malloc(size ? size : 1);
	if (!arena)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct bench_req *r = &v[i];

		memcpy(arena + o, r->path, r->len + 1);
		free(r->path);
		r->path = arena + o;
		o += r->len + 1;
		memcpy(arena + o, r->host, r->hlen + 1);
		free(r->host);
		r->host = arena + o;
		o += r->hlen + 1;
		memcpy(arena + o, r->raw, r->rawlen + 1);
		free(r->raw);
		r->raw = arena + o;
		o += r->rawlen + 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gw_blob *b = NULL;
	struct bench_req *req;
	size_t n = 0, total;
	unsigned rounds = 20;
	unsigned long seed = 1, found = 0, nomethod = 0, notfound = 0;
	uint64_t *ns, clock_cost, t0, sink = 0;
	char why[256] = "";
	struct gw_match m;
	int rc;

	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoul(argv[++i], NULL, 10);
		else
			argc = 0;
	}
	if (argc < 3 || rounds == 0) {
		fprintf(stderr, "usage: bench_match BLOB REQUESTS [--rounds N] [--seed S]\n");
		return 2;
	}
	/* The counter must see an allocation, or its zero below means nothing
	 * (volatile: the compiler may not drop the pair). */
	bench_counting = 1;
	{
		void *volatile probe = malloc(16);

		free(probe);
	}
	bench_counting = 0;
	if (bench_allocs != 1) {
		fprintf(stderr, "bench_match: the allocation counter does not work\n");
		return 2;
	}
	bench_allocs = 0;
	rc = gw_blob_open(argv[1], &b, why, sizeof why);
	if (rc != GW_OK) {
		fprintf(stderr, "bench_match: %s: %s: %s\n", argv[1], gw_strerror(rc), why);
		return 2;
	}
	req = bench_read(argv[2], &n);
	if (!req || n == 0) {
		fprintf(stderr, "bench_match: no usable request in %s\n", argv[2]);
		return 2;
	}
	/* Fisher-Yates with a fixed LCG: the same order on every run. */
	for (size_t i = n - 1; i > 0; i--) {
		size_t j;
		struct bench_req t;

		seed = seed * 6364136223846793005u + 1442695040888963407u;
		j = (size_t)((seed >> 33) % (i + 1));
		t = req[i];
		req[i] = req[j];
		req[j] = t;
	}
	/* In gwd the path has just been written by the normaliser and the Host
	 * header just parsed: both are in cache when gw_match() runs.  Packing
	 * the shuffled requests' strings in lookup order into one arena gives
	 * the same (the prefetcher streams them), instead of timing the first
	 * touch of 100k scattered strings. */
	if (bench_pack(req, n) < 0) {
		fprintf(stderr, "bench_match: out of memory\n");
		return 2;
	}
	total = n * rounds;
	ns = malloc(total * sizeof *ns);
	if (!ns) {
		fprintf(stderr, "bench_match: out of memory\n");
		return 2;
	}
	/* The clock's own cost: the median of timing nothing. */
	for (size_t i = 0; i < n && i < total; i++) {
		t0 = bench_now();
		ns[i] = bench_now() - t0;
	}
	qsort(ns, n < total ? n : total, sizeof *ns, bench_cmp_u64);
	clock_cost = ns[(n < total ? n : total) / 2];
	/* Warm-up, and the outcome counts. */
	for (size_t i = 0; i < n; i++) {
		const struct bench_req *r = &req[i];

		switch (gw_match(b, r->host, r->hlen, r->method, r->path, r->len, &m)) {
		case GW_MATCH_FOUND:
			found++;
			break;
		case GW_MATCH_NO_METHOD:
			nomethod++;
			break;
		default:
			notfound++;
		}
	}
	bench_counting = 1;
	for (unsigned k = 0; k < rounds; k++)
		for (size_t i = 0; i < n; i++) {
			const struct bench_req *r = &req[i];
			uint64_t t1, t2;

			t1 = bench_now();
			sink += (uint64_t)gw_match(b, r->host, r->hlen, r->method, r->path, r->len, &m);
			t2 = bench_now();
			ns[k * n + i] = t2 - t1 > clock_cost ? t2 - t1 - clock_cost : 0;
		}
	/* The same without a clock per call: the mean, as a check on the
	 * per-call figures. */
	t0 = bench_now();
	for (unsigned k = 0; k < rounds; k++)
		for (size_t i = 0; i < n; i++) {
			const struct bench_req *r = &req[i];

			sink += (uint64_t)gw_match(b, r->host, r->hlen, r->method, r->path, r->len, &m);
		}
	double mean = (double)(bench_now() - t0) / (double)total;
	/* Normalise + match, as gwd does per request (into a stack buffer). */
	t0 = bench_now();
	for (unsigned k = 0; k < rounds; k++)
		for (size_t i = 0; i < n; i++) {
			const struct bench_req *r = &req[i];
			char buf[2048];
			size_t len;

			if (gw_path_normalize(r->raw, r->rawlen, buf, sizeof buf, &len) == 0)
				sink += (uint64_t)gw_match(b, r->host, r->hlen, r->method, buf, len, &m);
		}
	double mean_norm = (double)(bench_now() - t0) / (double)total;
	bench_counting = 0;
	qsort(ns, total, sizeof *ns, bench_cmp_u64);
	printf("lookups=%zu requests=%zu found=%lu 405=%lu 404=%lu median_ns=%llu p99_ns=%llu "
	       "mean_ns=%.0f norm_match_mean_ns=%.0f clock_ns=%llu allocs=%lu sink=%llu\n",
	       total, n, found, nomethod, notfound, (unsigned long long)ns[total / 2],
	       (unsigned long long)ns[total * 99 / 100], mean, mean_norm,
	       (unsigned long long)clock_cost, bench_allocs, (unsigned long long)(sink & 1));
	free(req);
	free(ns);
	gw_blob_close(b);
	return bench_allocs ? 1 : 0;
}
