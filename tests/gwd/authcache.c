/* Tests of gwd/authcache.c: the exact bound, CLOCK eviction keeping what is
 * in use, expiry on lookup, the generation guard against a put that read the
 * store before a removal, the dirty walk, clear and revision sync. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gwd/authcache.h"

int gw_suite_gwd_authcache(void);

/* A digest made from <i>: spread over all bytes like a real SHA-256. */
static void mkdigest(uint32_t i, uint8_t d[GWD_STORE_DIGEST_LEN])
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);

	for (int k = 0; k < GWD_STORE_DIGEST_LEN; k++) {
		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ull;
		d[k] = (uint8_t)(x >> 56);
	}
}

static struct gwd_authcache_val val(const char *name, uint64_t created, uint64_t expires,
                                uint64_t seen)
{
	struct gwd_authcache_val v;

	memset(&v, 0, sizeof v);
	v.created_ms = created;
	v.expires_ms = expires;
	v.last_seen_ms = seen;
	v.len = (uint8_t)strlen(name);
	memcpy(v.name, name, v.len + 1u);
	return v;
}

static void test_bound(void)
{
	static const uint32_t sizes[] = { 1, 7, 64, 100, 1000, 5000 };

	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		struct gwd_authcache *c = NULL;
		struct gwd_authcache_val v = val("u", 0, UINT64_MAX, 0);
		uint8_t d[32];
		char name[GWD_STORE_NAME_MAX + 1];
		uint8_t len;
		uint32_t hits = 0;

		CU_ASSERT_EQUAL_FATAL(gwd_authcache_new(&c, sizes[k]), 0);
		CU_ASSERT(gwd_authcache_capacity(c) <= sizes[k]);
		CU_ASSERT(gwd_authcache_capacity(c) >= sizes[k] / 2);
		for (uint32_t i = 0; i < 3 * sizes[k] + 10; i++) {
			mkdigest(i, d);
			CU_ASSERT_EQUAL(gwd_authcache_put(c, d, gwd_authcache_gen(c, d), &v, 0), 1);
			CU_ASSERT(gwd_authcache_count(c) <= gwd_authcache_capacity(c));
		}
		CU_ASSERT_EQUAL(gwd_authcache_count(c), gwd_authcache_capacity(c));
		for (uint32_t i = 0; i < 3 * sizes[k] + 10; i++) {
			mkdigest(i, d);
			hits += gwd_authcache_get(c, d, 1, 0, 0, 0, name, &len) == GWD_AUTHCACHE_HIT;
		}
		CU_ASSERT_EQUAL(hits, gwd_authcache_capacity(c));
		gwd_authcache_free(c);
	}
}

/* An entry used between insertions survives eviction (second chance). */
static void test_clock(void)
{
	struct gwd_authcache *c = NULL;
	struct gwd_authcache_val v = val("hot", 0, UINT64_MAX, 0);
	uint8_t hot[32], d[32];
	char name[GWD_STORE_NAME_MAX + 1];
	uint8_t len;

	CU_ASSERT_EQUAL_FATAL(gwd_authcache_new(&c, 16), 0); /* one shard of 16 */
	mkdigest(100000, hot);
	CU_ASSERT_EQUAL(gwd_authcache_put(c, hot, gwd_authcache_gen(c, hot), &v, 0), 1);
	for (uint32_t i = 0; i < 200; i++) {
		mkdigest(i, d);
		CU_ASSERT_EQUAL(gwd_authcache_get(c, hot, 1, 0, 0, 0, name, &len), GWD_AUTHCACHE_HIT);
		CU_ASSERT_EQUAL(gwd_authcache_put(c, d, gwd_authcache_gen(c, d), &v, 0), 1);
	}
	CU_ASSERT_EQUAL(gwd_authcache_get(c, hot, 1, 0, 0, 0, name, &len), GWD_AUTHCACHE_HIT);
	CU_ASSERT_STRING_EQUAL(name, "hot");
	CU_ASSERT_EQUAL(len, 3);
	gwd_authcache_free(c);
}

static void test_expiry(void)
{
	struct gwd_authcache *c = NULL;
	struct gwd_authcache_val v = val("alice", 1000, 100000, 1000);
	uint8_t d[32];
	char name[GWD_STORE_NAME_MAX + 1];
	uint8_t len;

	CU_ASSERT_EQUAL_FATAL(gwd_authcache_new(&c, 64), 0);
	mkdigest(1, d);
	CU_ASSERT_EQUAL(gwd_authcache_put(c, d, gwd_authcache_gen(c, d), &v, 0), 1);
	/* idle 500: alive at 1499, touched there; alive at 1998; ended at 2498 */
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 1499, 500, 0, 1, name, &len), GWD_AUTHCACHE_HIT);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 1998, 500, 0, 0, name, &len), GWD_AUTHCACHE_HIT);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 1999, 500, 0, 0, name, &len), GWD_AUTHCACHE_EXPIRED);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 1999, 500, 0, 0, name, &len), GWD_AUTHCACHE_MISS);
	CU_ASSERT_EQUAL(gwd_authcache_count(c), 0);
	/* lifetime from the caller, and expires_ms from the entry */
	CU_ASSERT_EQUAL(gwd_authcache_put(c, d, gwd_authcache_gen(c, d), &v, 0), 1);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 5999, 0, 5000, 0, name, &len), GWD_AUTHCACHE_HIT);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 6000, 0, 5000, 0, name, &len), GWD_AUTHCACHE_EXPIRED);
	CU_ASSERT_EQUAL(gwd_authcache_put(c, d, gwd_authcache_gen(c, d), &v, 0), 1);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 99999, 0, 0, 0, name, &len), GWD_AUTHCACHE_HIT);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 100000, 0, 0, 0, name, &len), GWD_AUTHCACHE_EXPIRED);
	gwd_authcache_free(c);
}

static void test_generation(void)
{
	struct gwd_authcache *c = NULL;
	struct gwd_authcache_val v = val("alice", 0, UINT64_MAX, 0);
	uint8_t d[32];
	char name[GWD_STORE_NAME_MAX + 1];
	uint8_t len;
	uint64_t g;

	CU_ASSERT_EQUAL_FATAL(gwd_authcache_new(&c, 64), 0);
	mkdigest(7, d);
	/* reader took the generation, then a logout removed (absent) d */
	g = gwd_authcache_gen(c, d);
	CU_ASSERT_EQUAL(gwd_authcache_remove(c, d), 0);
	CU_ASSERT_EQUAL(gwd_authcache_put(c, d, g, &v, 0), 0);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 1, 0, 0, 0, name, &len), GWD_AUTHCACHE_MISS);
	/* a clear counts as a removal too */
	g = gwd_authcache_gen(c, d);
	gwd_authcache_clear(c);
	CU_ASSERT_EQUAL(gwd_authcache_put(c, d, g, &v, 0), 0);
	g = gwd_authcache_gen(c, d);
	CU_ASSERT_EQUAL(gwd_authcache_put(c, d, g, &v, 0), 1);
	CU_ASSERT_EQUAL(gwd_authcache_remove(c, d), 1);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 1, 0, 0, 0, name, &len), GWD_AUTHCACHE_MISS);
	gwd_authcache_free(c);
}

static void test_dirty_walk(void)
{
	struct gwd_authcache *c = NULL;
	struct gwd_authcache_val v = val("u", 0, UINT64_MAX, 10);
	struct gwd_authcache_cursor cur = { 0, 0 };
	struct gwd_store_touch t[7];
	uint8_t d[32];
	char name[GWD_STORE_NAME_MAX + 1];
	uint8_t len;
	size_t n, total = 0;

	CU_ASSERT_EQUAL_FATAL(gwd_authcache_new(&c, 1024), 0);
	for (uint32_t i = 0; i < 100; i++) {
		mkdigest(i, d);
		CU_ASSERT_EQUAL(gwd_authcache_put(c, d, gwd_authcache_gen(c, d), &v, 0), 1);
	}
	/* 30 touched (dirty), 70 not; a touch at an older time changes nothing */
	for (uint32_t i = 0; i < 100; i++) {
		mkdigest(i, d);
		CU_ASSERT_EQUAL(gwd_authcache_get(c, d, i < 30 ? 50 : 5, 0, 0, 1, name, &len),
		                GWD_AUTHCACHE_HIT);
	}
	do {
		n = gwd_authcache_collect(c, &cur, t, 7);
		for (size_t k = 0; k < n; k++)
			CU_ASSERT_EQUAL(t[k].last_seen_ms, 50);
		total += n;
	} while (n == 7);
	CU_ASSERT_EQUAL(total, 30);
	memset(&cur, 0, sizeof cur);
	CU_ASSERT_EQUAL(gwd_authcache_collect(c, &cur, t, 7), 0);
	/* redirty brings them back */
	mkdigest(3, d);
	memcpy(t[0].hash, d, 32);
	gwd_authcache_redirty(c, t, 1);
	memset(&cur, 0, sizeof cur);
	CU_ASSERT_EQUAL(gwd_authcache_collect(c, &cur, t, 7), 1);
	CU_ASSERT_EQUAL(memcmp(t[0].hash, d, 32), 0);
	gwd_authcache_free(c);
}

static void test_sync(void)
{
	struct gwd_authcache *c = NULL;
	struct gwd_authcache_val v = val("u", 0, UINT64_MAX, 0);
	uint8_t d[32];
	char name[GWD_STORE_NAME_MAX + 1];
	uint8_t len;

	CU_ASSERT_EQUAL_FATAL(gwd_authcache_new(&c, 64), 0);
	gwd_authcache_sync(c, 5);
	mkdigest(1, d);
	CU_ASSERT_EQUAL(gwd_authcache_put(c, d, gwd_authcache_gen(c, d), &v, 0), 1);
	gwd_authcache_sync(c, 5);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 1, 0, 0, 0, name, &len), GWD_AUTHCACHE_HIT);
	gwd_authcache_sync(c, 6);
	CU_ASSERT_EQUAL(gwd_authcache_get(c, d, 1, 0, 0, 0, name, &len), GWD_AUTHCACHE_MISS);
	CU_ASSERT_EQUAL(gwd_authcache_count(c), 0);
	gwd_authcache_free(c);
}

int gw_suite_gwd_authcache(void)
{
	CU_pSuite s = CU_add_suite("gwd/authcache", NULL, NULL);

	if (!s)
		return -1;
	if (!CU_add_test(s, "exact bound", test_bound) ||
	    !CU_add_test(s, "CLOCK keeps the entry in use", test_clock) ||
	    !CU_add_test(s, "idle, lifetime and absolute expiry", test_expiry) ||
	    !CU_add_test(s, "generation guards put after remove", test_generation) ||
	    !CU_add_test(s, "dirty walk and redirty", test_dirty_walk) ||
	    !CU_add_test(s, "revision sync clears", test_sync))
		return -1;
	return 0;
}
