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
static void mkdigest(uint32_t i, uint8_t d[GW_DIGEST_LEN])
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);

	for (int k = 0; k < GW_DIGEST_LEN; k++) {
		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ull;
		d[k] = (uint8_t)(x >> 56);
	}
}

static struct gw_acache_val val(const char *name, uint64_t created, uint64_t expires,
                                uint64_t seen)
{
	struct gw_acache_val v;

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
		struct gw_acache *c = NULL;
		struct gw_acache_val v = val("u", 0, UINT64_MAX, 0);
		uint8_t d[32];
		char name[GW_NAME_MAX + 1];
		uint8_t len;
		uint32_t hits = 0;

		CU_ASSERT_EQUAL_FATAL(gw_acache_new(&c, sizes[k]), 0);
		CU_ASSERT(gw_acache_capacity(c) <= sizes[k]);
		CU_ASSERT(gw_acache_capacity(c) >= sizes[k] / 2);
		for (uint32_t i = 0; i < 3 * sizes[k] + 10; i++) {
			mkdigest(i, d);
			CU_ASSERT_EQUAL(gw_acache_put(c, d, gw_acache_gen(c, d), &v, 0), 1);
			CU_ASSERT(gw_acache_count(c) <= gw_acache_capacity(c));
		}
		CU_ASSERT_EQUAL(gw_acache_count(c), gw_acache_capacity(c));
		for (uint32_t i = 0; i < 3 * sizes[k] + 10; i++) {
			mkdigest(i, d);
			hits += gw_acache_get(c, d, 1, 0, 0, 0, name, &len) == GW_AC_HIT;
		}
		CU_ASSERT_EQUAL(hits, gw_acache_capacity(c));
		gw_acache_free(c);
	}
}

/* An entry used between insertions survives eviction (second chance). */
static void test_clock(void)
{
	struct gw_acache *c = NULL;
	struct gw_acache_val v = val("hot", 0, UINT64_MAX, 0);
	uint8_t hot[32], d[32];
	char name[GW_NAME_MAX + 1];
	uint8_t len;

	CU_ASSERT_EQUAL_FATAL(gw_acache_new(&c, 16), 0); /* one shard of 16 */
	mkdigest(100000, hot);
	CU_ASSERT_EQUAL(gw_acache_put(c, hot, gw_acache_gen(c, hot), &v, 0), 1);
	for (uint32_t i = 0; i < 200; i++) {
		mkdigest(i, d);
		CU_ASSERT_EQUAL(gw_acache_get(c, hot, 1, 0, 0, 0, name, &len), GW_AC_HIT);
		CU_ASSERT_EQUAL(gw_acache_put(c, d, gw_acache_gen(c, d), &v, 0), 1);
	}
	CU_ASSERT_EQUAL(gw_acache_get(c, hot, 1, 0, 0, 0, name, &len), GW_AC_HIT);
	CU_ASSERT_STRING_EQUAL(name, "hot");
	CU_ASSERT_EQUAL(len, 3);
	gw_acache_free(c);
}

static void test_expiry(void)
{
	struct gw_acache *c = NULL;
	struct gw_acache_val v = val("alice", 1000, 100000, 1000);
	uint8_t d[32];
	char name[GW_NAME_MAX + 1];
	uint8_t len;

	CU_ASSERT_EQUAL_FATAL(gw_acache_new(&c, 64), 0);
	mkdigest(1, d);
	CU_ASSERT_EQUAL(gw_acache_put(c, d, gw_acache_gen(c, d), &v, 0), 1);
	/* idle 500: alive at 1499, touched there; alive at 1998; ended at 2498 */
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 1499, 500, 0, 1, name, &len), GW_AC_HIT);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 1998, 500, 0, 0, name, &len), GW_AC_HIT);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 1999, 500, 0, 0, name, &len), GW_AC_EXPIRED);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 1999, 500, 0, 0, name, &len), GW_AC_MISS);
	CU_ASSERT_EQUAL(gw_acache_count(c), 0);
	/* lifetime from the caller, and expires_ms from the entry */
	CU_ASSERT_EQUAL(gw_acache_put(c, d, gw_acache_gen(c, d), &v, 0), 1);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 5999, 0, 5000, 0, name, &len), GW_AC_HIT);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 6000, 0, 5000, 0, name, &len), GW_AC_EXPIRED);
	CU_ASSERT_EQUAL(gw_acache_put(c, d, gw_acache_gen(c, d), &v, 0), 1);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 99999, 0, 0, 0, name, &len), GW_AC_HIT);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 100000, 0, 0, 0, name, &len), GW_AC_EXPIRED);
	gw_acache_free(c);
}

static void test_generation(void)
{
	struct gw_acache *c = NULL;
	struct gw_acache_val v = val("alice", 0, UINT64_MAX, 0);
	uint8_t d[32];
	char name[GW_NAME_MAX + 1];
	uint8_t len;
	uint64_t g;

	CU_ASSERT_EQUAL_FATAL(gw_acache_new(&c, 64), 0);
	mkdigest(7, d);
	/* reader took the generation, then a logout removed (absent) d */
	g = gw_acache_gen(c, d);
	CU_ASSERT_EQUAL(gw_acache_remove(c, d), 0);
	CU_ASSERT_EQUAL(gw_acache_put(c, d, g, &v, 0), 0);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 1, 0, 0, 0, name, &len), GW_AC_MISS);
	/* a clear counts as a removal too */
	g = gw_acache_gen(c, d);
	gw_acache_clear(c);
	CU_ASSERT_EQUAL(gw_acache_put(c, d, g, &v, 0), 0);
	g = gw_acache_gen(c, d);
	CU_ASSERT_EQUAL(gw_acache_put(c, d, g, &v, 0), 1);
	CU_ASSERT_EQUAL(gw_acache_remove(c, d), 1);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 1, 0, 0, 0, name, &len), GW_AC_MISS);
	gw_acache_free(c);
}

static void test_dirty_walk(void)
{
	struct gw_acache *c = NULL;
	struct gw_acache_val v = val("u", 0, UINT64_MAX, 10);
	struct gw_acache_cursor cur = { 0, 0 };
	struct gw_store_touch t[7];
	uint8_t d[32];
	char name[GW_NAME_MAX + 1];
	uint8_t len;
	size_t n, total = 0;

	CU_ASSERT_EQUAL_FATAL(gw_acache_new(&c, 1024), 0);
	for (uint32_t i = 0; i < 100; i++) {
		mkdigest(i, d);
		CU_ASSERT_EQUAL(gw_acache_put(c, d, gw_acache_gen(c, d), &v, 0), 1);
	}
	/* 30 touched (dirty), 70 not; a touch at an older time changes nothing */
	for (uint32_t i = 0; i < 100; i++) {
		mkdigest(i, d);
		CU_ASSERT_EQUAL(gw_acache_get(c, d, i < 30 ? 50 : 5, 0, 0, 1, name, &len),
		                GW_AC_HIT);
	}
	do {
		n = gw_acache_collect(c, &cur, t, 7);
		for (size_t k = 0; k < n; k++)
			CU_ASSERT_EQUAL(t[k].last_seen_ms, 50);
		total += n;
	} while (n == 7);
	CU_ASSERT_EQUAL(total, 30);
	memset(&cur, 0, sizeof cur);
	CU_ASSERT_EQUAL(gw_acache_collect(c, &cur, t, 7), 0);
	/* redirty brings them back */
	mkdigest(3, d);
	memcpy(t[0].hash, d, 32);
	gw_acache_redirty(c, t, 1);
	memset(&cur, 0, sizeof cur);
	CU_ASSERT_EQUAL(gw_acache_collect(c, &cur, t, 7), 1);
	CU_ASSERT_EQUAL(memcmp(t[0].hash, d, 32), 0);
	gw_acache_free(c);
}

static void test_sync(void)
{
	struct gw_acache *c = NULL;
	struct gw_acache_val v = val("u", 0, UINT64_MAX, 0);
	uint8_t d[32];
	char name[GW_NAME_MAX + 1];
	uint8_t len;

	CU_ASSERT_EQUAL_FATAL(gw_acache_new(&c, 64), 0);
	gw_acache_sync(c, 5);
	mkdigest(1, d);
	CU_ASSERT_EQUAL(gw_acache_put(c, d, gw_acache_gen(c, d), &v, 0), 1);
	gw_acache_sync(c, 5);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 1, 0, 0, 0, name, &len), GW_AC_HIT);
	gw_acache_sync(c, 6);
	CU_ASSERT_EQUAL(gw_acache_get(c, d, 1, 0, 0, 0, name, &len), GW_AC_MISS);
	CU_ASSERT_EQUAL(gw_acache_count(c), 0);
	gw_acache_free(c);
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
