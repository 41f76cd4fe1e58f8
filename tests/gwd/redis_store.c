/* Tests of gwd/redis_store.c through the store interface (gwd/store.h)
 * against a real redis-server: users (duplicates, rehash by id, list order),
 * sessions (the user check, TTL, touch, the cascade of a user deletion),
 * API keys, only digests at rest, the invalidations a second store (a
 * daemon's, with its subscriber) receives, and availability across a Redis
 * outage. */
#include <CUnit/CUnit.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwd/redis.h"
#include "gwd/store.h"
#include "tests/gwd/redis_fixture.h"
#include "tests/gwd/store_contract.h"

int gw_suite_gwd_redis_store(void);

static struct redis_fx fx;

static int suite_init(void)
{
	setenv("GWD_STORE_TIMEOUT_MS", "2000", 1); /* valgrind is slow */
	return fx_redis_start(&fx);
}

static int suite_clean(void)
{
	fx_redis_clean(&fx);
	unsetenv("GWD_STORE_TIMEOUT_MS");
	return 0;
}

/* Wall-clock unix milliseconds. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleep <ms>. */
static void nap_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One raw command's integer or string answer through a pool of <st>. */
static long long raw_int(struct gwd_store *st, const char *cmd, const char *key)
{
	redisReply *r = gwd_redis_cmd(gwd_store_redis_pool(st), 2,
	                              (const char *const[]){ cmd, key }, NULL);
	long long v = -2;

	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	if (r)
		freeReplyObject(r);
	return v;
}

static void test_users(void)
{
	struct gwd_store *st = NULL;
	char err[128], pw[GWD_STORE_PWHASH_MAX + 1];
	int64_t id = 0;

	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, fx.url, 0, 0, err, sizeof err), 0);
	CU_ASSERT(gwd_store_shared(st));
	CU_ASSERT(gwd_store_available(st));
	contract_users(st);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id, pw, sizeof pw), 1);
	CU_ASSERT_EQUAL(gwd_store_user_del(st, "bob"), 1);
	CU_ASSERT_EQUAL(gwd_store_user_del(st, "bob"), 0);
	/* a deleted user's id does not rehash whoever comes next */
	CU_ASSERT_EQUAL(gwd_store_user_del(st, "alice"), 1);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "alice", "$newer", 400), 1);
	CU_ASSERT_EQUAL(gwd_store_user_set_hash(st, id, "$newer", "$stolen"), 0);
	gwd_store_close(st);
}

static void test_sessions(void)
{
	struct gwd_store *st = NULL;
	struct gwd_store_session row;
	struct gwd_store_touch t;
	uint8_t h[GWD_STORE_DIGEST_LEN], h2[GWD_STORE_DIGEST_LEN];
	char err[128], pw[GWD_STORE_PWHASH_MAX + 1], key[96], hex[65];
	int64_t id = 0;
	uint64_t now = now_ms();

	memset(h, 0x11, sizeof h);
	memset(h2, 0x22, sizeof h2);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, fx.url, 0, 0, err, sizeof err), 0);
	gwd_store_set_session_idle(st, 60000);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "sam", "$h", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "sam", &id, pw, sizeof pw), 1);
	/* the user must still own the id */
	CU_ASSERT_EQUAL(gwd_store_session_add(st, h, id + 1000, "sam", now, now + 3600000), -1);
	CU_ASSERT_EQUAL(gwd_store_session_add(st, h, id, "sam", now, now + 3600000), 0);
	CU_ASSERT_EQUAL(gwd_store_session_add(st, h2, id, "sam", now, now + 3600000), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, h, &row), 1);
	CU_ASSERT_STRING_EQUAL(row.name, "sam");
	CU_ASSERT_EQUAL(row.created_ms, now);
	CU_ASSERT_EQUAL(row.expires_ms, now + 3600000);
	CU_ASSERT_EQUAL(row.last_seen_ms, now);
	/* Redis ends it by itself: idle + grace, well before the hour */
	gwd_redis_hex(h, sizeof h, hex);
	snprintf(key, sizeof key, "gw:s:%s", hex);
	long long ttl = raw_int(st, "PTTL", key);
	CU_ASSERT(ttl > 50000 && ttl <= 65000);
	memcpy(t.hash, h, sizeof h);
	t.last_seen_ms = now + 5000;
	CU_ASSERT_EQUAL(gwd_store_session_touch(st, &t, 1), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, h, &row), 1);
	CU_ASSERT_EQUAL(row.last_seen_ms, now + 5000);
	t.last_seen_ms = now + 1000; /* never backwards */
	CU_ASSERT_EQUAL(gwd_store_session_touch(st, &t, 1), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, h, &row), 1);
	CU_ASSERT_EQUAL(row.last_seen_ms, now + 5000);
	CU_ASSERT_EQUAL(gwd_store_session_count(st), 2);
	CU_ASSERT_EQUAL(gwd_store_session_del(st, h), 1);
	CU_ASSERT_EQUAL(gwd_store_session_del(st, h), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, h, &row), 0);
	/* the user's deletion takes its sessions along */
	CU_ASSERT_EQUAL(gwd_store_user_del(st, "sam"), 1);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, h2, &row), 0);
	CU_ASSERT_EQUAL(gwd_store_session_sweep(st, now, 0), 0);
	gwd_store_close(st);
}

static void test_keys(void)
{
	struct gwd_store *st = NULL;
	uint8_t h[GWD_STORE_DIGEST_LEN], h2[GWD_STORE_DIGEST_LEN];
	char err[128], name[GWD_STORE_NAME_MAX + 1];

	memset(h, 0x33, sizeof h);
	memset(h2, 0x44, sizeof h2);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, fx.url, 0, 0, err, sizeof err), 0);
	contract_keys(st, h, h2);
	CU_ASSERT_EQUAL(gwd_store_key_del(st, "ci"), 1);
	CU_ASSERT_EQUAL(gwd_store_key_get(st, h, name), 0);
	CU_ASSERT_EQUAL(gwd_store_key_del(st, "ci"), 0);
	CU_ASSERT_EQUAL(gwd_store_key_del(st, "batch"), 1);
	/* SQLite-only walks refuse a Redis store */
	CU_ASSERT_EQUAL(gwd_store_key_each(st, NULL, NULL), -1);
	gwd_store_close(st);
}

static _Atomic int evicted_s, evicted_k;

static void on_session(void *arg, const uint8_t d[GWD_STORE_DIGEST_LEN])
{
	(void)arg;
	if (d[0] == 0x44)
		atomic_fetch_add(&evicted_s, 1);
}

static void on_key(void *arg, const uint8_t d[GWD_STORE_DIGEST_LEN])
{
	(void)arg;
	if (d[0] == 0x55)
		atomic_fetch_add(&evicted_k, 1);
}

static void test_invalidation(void)
{
	struct gwd_store *daemon = NULL, *cli = NULL;
	uint8_t h[GWD_STORE_DIGEST_LEN], k[GWD_STORE_DIGEST_LEN];
	char err[128], pw[GWD_STORE_PWHASH_MAX + 1];
	uint64_t now = now_ms(), rev;
	int64_t id;

	memset(h, 0x44, sizeof h);
	memset(k, 0x55, sizeof k);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&daemon, fx.url, GWD_STORE_LAZY, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_on_evict(daemon, 's', on_session, NULL), 0);
	CU_ASSERT_EQUAL(gwd_store_on_evict(daemon, 'k', on_key, NULL), 0);
	for (int i = 0; i < 200 && !gwd_store_available(daemon); i++)
		nap_ms(10);
	CU_ASSERT_FATAL(gwd_store_available(daemon));
	rev = gwd_store_revision(daemon);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&cli, fx.url, 0, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_user_add(cli, "eve", "$h", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(cli, "eve", &id, pw, sizeof pw), 1);
	CU_ASSERT_EQUAL(gwd_store_session_add(cli, h, id, "eve", now, now + 60000), 0);
	CU_ASSERT_EQUAL(gwd_store_key_add(cli, "kbot", k, 1), 1);
	CU_ASSERT_EQUAL(gwd_store_session_del(cli, h), 1);
	CU_ASSERT_EQUAL(gwd_store_key_del(cli, "kbot"), 1);
	for (int i = 0; i < 100 && (!evicted_s || !evicted_k); i++)
		nap_ms(10);
	CU_ASSERT_EQUAL(atomic_load(&evicted_s), 1);
	CU_ASSERT_EQUAL(atomic_load(&evicted_k), 1);
	/* a user's deletion ends its sessions in every daemon's cache */
	CU_ASSERT_EQUAL(gwd_store_session_add(cli, h, id, "eve", now, now + 60000), 0);
	CU_ASSERT_EQUAL(gwd_store_user_del(cli, "eve"), 1);
	for (int i = 0; i < 100 && atomic_load(&evicted_s) < 2; i++)
		nap_ms(10);
	CU_ASSERT_EQUAL(atomic_load(&evicted_s), 2);
	/* Redis gone: unavailable; back: available again, the revision moved
	 * (messages may have been missed meanwhile) */
	fx_redis_stop(&fx, SIGKILL);
	for (int i = 0; i < 200 && gwd_store_available(daemon); i++)
		nap_ms(10);
	CU_ASSERT(!gwd_store_available(daemon));
	CU_ASSERT_EQUAL(gwd_store_session_get(daemon, h, &(struct gwd_store_session){ 0 }), -1);
	CU_ASSERT_EQUAL_FATAL(fx_redis_start(&fx), 0);
	for (int i = 0; i < 300 && !gwd_store_available(daemon); i++)
		nap_ms(10);
	CU_ASSERT(gwd_store_available(daemon));
	CU_ASSERT_NOT_EQUAL(gwd_store_revision(daemon), rev);
	gwd_store_close(cli);
	gwd_store_close(daemon);
}

static void test_unreachable(void)
{
	struct gwd_store *st = NULL;
	char err[128], url[64];

	snprintf(url, sizeof url, "redis://127.0.0.1:%d", fx_free_port());
	CU_ASSERT_EQUAL(gwd_store_open(&st, url, 0, 0, err, sizeof err), -1);
	CU_ASSERT_PTR_NULL(st);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "127.0.0.1"));
	/* a daemon's store opens all the same, unavailable */
	CU_ASSERT_EQUAL(gwd_store_open(&st, url, GWD_STORE_LAZY, 0, err, sizeof err), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT(!gwd_store_available(st));
	gwd_store_close(st);
}

int gw_suite_gwd_redis_store(void)
{
	CU_pSuite s = CU_add_suite("gwd/redis_store", suite_init, suite_clean);

	if (!s)
		return -1;
	if (!CU_add_test(s, "users", test_users) ||
	    !CU_add_test(s, "sessions: user check, TTL, touch, cascade", test_sessions) ||
	    !CU_add_test(s, "api keys", test_keys) ||
	    !CU_add_test(s, "invalidations, outage, revision", test_invalidation) ||
	    !CU_add_test(s, "unreachable Redis", test_unreachable))
		return -1;
	return 0;
}
