/* Tests of gwd/redis.c: the store URL (host, port, database, password from
 * the URL, a file or the environment; what is refused), hex, and the pool
 * against a real redis-server (commands, pipelines, error replies, a Redis
 * that refuses connections, a restart healed). */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/redis.h"
#include "tests/gwd/redis_fixture.h"

int gw_suite_gwd_redis(void);

static struct redis_fx fx;

static int suite_init(void)
{
	unsetenv("GWD_STORE_PASSWORD");
	unsetenv("GWD_STORE_PASSWORD_FILE");
	unsetenv("GWD_STORE_TIMEOUT_MS");
	return fx_redis_start(&fx);
}

static int suite_clean(void)
{
	fx_redis_clean(&fx);
	return 0;
}

static void test_url(void)
{
	struct gwd_redis_conf c;
	char err[128];

	CU_ASSERT(gwd_redis_is_url("redis://x"));
	CU_ASSERT(!gwd_redis_is_url("var/gwd.db"));
	CU_ASSERT(!gwd_redis_is_url(NULL));
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://127.0.0.1:6390/3", &c, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(c.host, "127.0.0.1");
	CU_ASSERT_EQUAL(c.port, 6390);
	CU_ASSERT_EQUAL(c.db, 3);
	CU_ASSERT_STRING_EQUAL(c.password, "");
	CU_ASSERT_EQUAL(c.timeout_ms, GWD_REDIS_TIMEOUT_MS);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://:s3cr@t@db.local", &c, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(c.host, "db.local");
	CU_ASSERT_EQUAL(c.port, 6379);
	CU_ASSERT_STRING_EQUAL(c.password, "s3cr@t");
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://[::1]:7000", &c, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(c.host, "::1");
	CU_ASSERT_EQUAL(c.port, 7000);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h:0", &c, err, sizeof err), -1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h:65536", &c, err, sizeof err), -1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h:12x", &c, err, sizeof err), -1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://:6379", &c, err, sizeof err), -1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h/db", &c, err, sizeof err), -1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("http://h", &c, err, sizeof err), -1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://[::1", &c, err, sizeof err), -1);
}

static void test_password_sources(void)
{
	struct gwd_redis_conf c;
	char err[128], path[320];
	FILE *f;

	setenv("GWD_STORE_PASSWORD", "from-env", 1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h", &c, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(c.password, "from-env");
	/* the URL's own password wins */
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://:url@h", &c, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(c.password, "url");
	snprintf(path, sizeof path, "%s/pw", fx.dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("from-file\n", f);
	fclose(f);
	setenv("GWD_STORE_PASSWORD_FILE", path, 1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h", &c, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(c.password, "from-file");
	setenv("GWD_STORE_PASSWORD_FILE", "/nonexistent/pw", 1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h", &c, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "GWD_STORE_PASSWORD_FILE"));
	unsetenv("GWD_STORE_PASSWORD_FILE");
	unsetenv("GWD_STORE_PASSWORD");
	setenv("GWD_STORE_TIMEOUT_MS", "250", 1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h", &c, err, sizeof err), 0);
	CU_ASSERT_EQUAL(c.timeout_ms, 250);
	setenv("GWD_STORE_TIMEOUT_MS", "0", 1);
	CU_ASSERT_EQUAL(gwd_redis_parse_url("redis://h", &c, err, sizeof err), -1);
	unsetenv("GWD_STORE_TIMEOUT_MS");
}

static void test_hex(void)
{
	const uint8_t b[3] = { 0x00, 0xab, 0x7f };
	char out[7];

	gwd_redis_hex(b, 3, out);
	CU_ASSERT_STRING_EQUAL(out, "00ab7f");
}

static void test_pool(void)
{
	struct gwd_redis_conf c;
	struct gwd_redis_pool *p = NULL;
	redisReply *r, *rep[2];
	const char *a1[] = { "SET", "gw:test:k", "v" }, *a2[] = { "GET", "gw:test:k" };
	const char *const *argv[2] = { a1, a2 };
	int argc[2] = { 3, 2 };
	char err[128];

	CU_ASSERT_EQUAL_FATAL(gwd_redis_parse_url(fx.url, &c, err, sizeof err), 0);
	c.timeout_ms = 2000; /* valgrind is slow */
	CU_ASSERT_EQUAL_FATAL(gwd_redis_pool_new(&p, &c, 2), 0);
	CU_ASSERT(gwd_redis_pool_available(p));
	CU_ASSERT_EQUAL_FATAL(gwd_redis_pipeline(p, 2, argc, argv, NULL, rep), 0);
	CU_ASSERT_EQUAL(rep[1]->type, REDIS_REPLY_STRING);
	CU_ASSERT_STRING_EQUAL(rep[1]->str, "v");
	freeReplyObject(rep[0]);
	freeReplyObject(rep[1]);
	/* an error reply is a failure, the pool stays usable */
	r = gwd_redis_cmd(p, 2, (const char *const[]){ "NOSUCHCOMMAND", "x" }, NULL);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT(gwd_redis_pool_available(p));
	r = gwd_redis_cmd(p, 1, (const char *const[]){ "PING" }, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	freeReplyObject(r);
	/* Redis restarted: the broken connections are replaced at once */
	fx_redis_stop(&fx, SIGTERM);
	CU_ASSERT_EQUAL_FATAL(fx_redis_start(&fx), 0);
	r = gwd_redis_cmd(p, 2, (const char *const[]){ "GET", "gw:test:k" }, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->str, "v"); /* from the append-only file */
	freeReplyObject(r);
	/* Redis gone: the pool goes unavailable and calls fail at once */
	fx_redis_stop(&fx, SIGKILL);
	CU_ASSERT_PTR_NULL(gwd_redis_cmd(p, 1, (const char *const[]){ "PING" }, NULL));
	CU_ASSERT(!gwd_redis_pool_available(p));
	CU_ASSERT_PTR_NULL(gwd_redis_cmd(p, 1, (const char *const[]){ "PING" }, NULL));
	CU_ASSERT_EQUAL(gwd_redis_pool_heal(p), 0);
	CU_ASSERT_EQUAL_FATAL(fx_redis_start(&fx), 0);
	CU_ASSERT_EQUAL(gwd_redis_pool_heal(p), 1);
	CU_ASSERT(gwd_redis_pool_available(p));
	gwd_redis_pool_free(p);
}

static void test_metrics(void)
{
	char mem[4096];
	struct gwd_buf b;

	gwd_buf_init(&b, mem, sizeof mem);
	gwd_redis_metrics(&b, NULL);
	CU_ASSERT(!b.full);
	mem[b.len] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(mem, "gateway_store_errors_total "));
	CU_ASSERT_PTR_NOT_NULL(strstr(mem, "gateway_store_latency_seconds_bucket{le=\"+Inf\"} "));
}

int gw_suite_gwd_redis(void)
{
	CU_pSuite s = CU_add_suite("gwd/redis", suite_init, suite_clean);

	if (!s)
		return -1;
	if (!CU_add_test(s, "store URL", test_url) ||
	    !CU_add_test(s, "password from URL, file, environment", test_password_sources) ||
	    !CU_add_test(s, "hex", test_hex) ||
	    !CU_add_test(s, "pool: pipeline, errors, restart, outage", test_pool) ||
	    !CU_add_test(s, "metrics", test_metrics))
		return -1;
	return 0;
}
