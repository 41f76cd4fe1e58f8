/* Tests of gwd/reload.c: generations built from compiled YAML (per-route
 * precomputation), and the reference counting that decides when a retired
 * generation may be freed — under threads acquiring and releasing while
 * another publishes and reclaims, as SIGHUP does under load.  Freed too early
 * shows as a use after free under ASan (`make SAN=1`), the canary below
 * otherwise; never freed shows as a leak and in gwd_reload_reclaim's count. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"
#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_reload(void);

static const char *yaml_a =
	"version: 1\n"
	"settings:\n  limits: { max_header_bytes: 4KiB, max_connections_per_ip: 7 }\n"
	"policies:\n"
	"  small: { body_limit: 100 }\n"
	"  smaller: { body_limit: 10 }\n"
	"routes:\n"
	"  - path: /a\n"
	"    methods: [GET]\n"
	"    respond: { body: 'A' }\n"
	"  - name: two-parts\n"
	"    path: /b/{x}\n"
	"    methods: [POST]\n"
	"    policies: [small, smaller]\n"
	"    echo: {}\n";

static void test_build(void)
{
	struct fxg f;
	const struct gwd_route *a = NULL, *b = NULL;

	if (fxg_build(&f, yaml_a) != 0)
		return;
	CU_ASSERT_EQUAL(f.g->nroutes, 2);
	CU_ASSERT_EQUAL(strlen(f.g->fp_hex), 64);
	CU_ASSERT_EQUAL(f.g->settings.max_header_bytes, 4096);
	CU_ASSERT_EQUAL(f.g->settings.max_conns_per_ip, 7);
	for (uint32_t i = 0; i < f.g->nroutes; i++) {
		if (f.g->routes[i].r.handler == GW_H_RESPOND)
			a = &f.g->routes[i];
		else
			b = &f.g->routes[i];
	}
	if (!a || !b) {
		CU_FAIL("the two routes are not there");
		fxg_free(&f);
		return;
	}
	CU_ASSERT_TRUE(a->body_static);
	CU_ASSERT_EQUAL(a->static_len, 1);
	CU_ASSERT_EQUAL(a->body_limit, GWD_BODY_DEFAULT_LIMIT); /* no policy: the default */
	CU_ASSERT_STRING_EQUAL(a->label.p, "/a");   /* unnamed: the pattern */
	CU_ASSERT_STRING_EQUAL(b->label.p, "two-parts");
	CU_ASSERT_EQUAL(b->npols, 2);
	CU_ASSERT_EQUAL(b->body_limit, 10);          /* the smallest of the two */
	CU_ASSERT_NOT_EQUAL(a->metric_slot, b->metric_slot);
	fxg_free(&f);
}

/* body_limit: none folds to GW_BODY_LIMIT_NONE; with a size beside it, the size. */
static void test_body_none(void)
{
	struct fxg f;

	if (fxg_build(&f, "version: 1\n"
			  "upstreams:\n  u: {targets: [{address: 127.0.0.1:9}]}\n"
			  "policies:\n  any: {body_limit: none}\n  small: {body_limit: 10}\n"
			  "routes:\n"
			  "  - {path: /a, methods: [POST], policies: [any], proxy: {upstream: u}}\n"
			  "  - {path: /b, methods: [POST], policies: [any, small], "
			  "proxy: {upstream: u}}\n") != 0)
		return;
	CU_ASSERT_EQUAL(f.g->nroutes, 2);
	for (uint32_t i = 0; i < f.g->nroutes && i < 2; i++)
		CU_ASSERT_EQUAL(f.g->routes[i].body_limit,
				f.g->routes[i].npols == 1 ? GW_BODY_LIMIT_NONE : 10);
	fxg_free(&f);
}

static void test_corrupt_refused(void)
{
	struct gwd_gen *g = (struct gwd_gen *)1;
	char why[256] = "";
	FILE *f = fopen("/tmp/gwd-reload-test.gwb", "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("not a blob at all", f);
	fclose(f);
	CU_ASSERT_EQUAL(gwd_reload_load("/tmp/gwd-reload-test.gwb", &g, why, sizeof why), -1);
	CU_ASSERT_PTR_NULL(g);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "/tmp/gwd-reload-test.gwb"));
	CU_ASSERT_EQUAL(gwd_reload_load("/nonexistent/x.gwb", &g, why, sizeof why), -1);
	remove("/tmp/gwd-reload-test.gwb");
}

/* ---- reference counting under threads ---- */

#define READERS 3
#define ROUNDS 2000

static _Atomic int stop;
static _Atomic long acquired;
static uint8_t *blob_mem;
static size_t blob_len;

/* A reader: acquire, check the generation is intact (its route table and
 * blob readable), hold it a little, release. */
static void *reader(void *arg)
{
	struct gwd_worker *w = gwd_worker_self();

	(void)arg;
	while (!atomic_load(&stop)) {
		struct gwd_gen *g = gwd_reload_acquire(w);

		if (!g)
			continue;
		/* touch what a request touches: freed memory would be garbage
		 * here (and an ASan report) */
		if (g->nroutes != 2 || strlen(g->fp_hex) != 64 ||
		    gw_blob_count(g->blob, 5 /* GW_BLOB_ROUTES */) != 2)
			CU_FAIL("a generation changed under its reader");
		for (volatile int spin = 0; spin < 200; spin++)
			;
		gwd_reload_release(g, w);
		atomic_fetch_add(&acquired, 1);
	}
	return NULL;
}

/* A new generation over the shared blob bytes. */
static struct gwd_gen *new_gen(void)
{
	struct gw_blob *b;
	struct gwd_gen *g = NULL;
	char why[128];

	if (gw_blob_open_mem(blob_mem, blob_len, &b, why, sizeof why) != GW_OK ||
	    gwd_reload_build(b, &g, why, sizeof why) != 0)
		return NULL;
	return g;
}

static void test_refcount_threads(void)
{
	struct fxg f;
	pthread_t t[READERS];
	struct gwd_worker *me = gwd_worker_self();
	struct gwd_gen *held;
	uint64_t ok_before = gwd_reload_count(1);

	if (fxg_bytes(&f, yaml_a) != 0)
		return;
	blob_mem = f.mem;
	blob_len = f.len;
	gwd_reload_publish(new_gen());
	/* a generation held by a request survives being replaced */
	held = gwd_reload_acquire(me);
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	gwd_reload_publish(new_gen());
	CU_ASSERT_EQUAL(gwd_reload_reclaim(), 1);
	CU_ASSERT_EQUAL(held->nroutes, 2);
	gwd_reload_release(held, me);
	CU_ASSERT_EQUAL(gwd_reload_reclaim(), 0);

	atomic_store(&stop, 0);
	for (int i = 0; i < READERS; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	for (int i = 0; i < ROUNDS; i++) {
		struct gwd_gen *g = new_gen();

		CU_ASSERT_PTR_NOT_NULL_FATAL(g);
		gwd_reload_publish(g);
		gwd_reload_reclaim();
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT(atomic_load(&acquired) > 0);
	/* every reader is gone: every retired generation can go */
	CU_ASSERT_EQUAL(gwd_reload_reclaim(), 0);
	CU_ASSERT_EQUAL(gwd_reload_count(1), ok_before); /* publish is not a SIGHUP reload */
	gwd_reload_shutdown();
	free(f.mem);
}

static void test_reload_counts(void)
{
	char why[256];
	uint64_t err = gwd_reload_count(0);

	CU_ASSERT_EQUAL(gwd_reload("/nonexistent/blob.gwb", why, sizeof why), -1);
	CU_ASSERT_EQUAL(gwd_reload_count(0), err + 1);
}

int gw_suite_gwd_reload(void)
{
	CU_pSuite s = CU_add_suite("gwd/reload", NULL, NULL);

	if (!s || !CU_add_test(s, "a generation from a compiled blob", test_build) ||
	    !CU_add_test(s, "body_limit: none", test_body_none) ||
	    !CU_add_test(s, "a bad blob is refused with a reason", test_corrupt_refused) ||
	    !CU_add_test(s, "reference counting with threads", test_refcount_threads) ||
	    !CU_add_test(s, "failed reloads are counted", test_reload_counts))
		return -1;
	return 0;
}
