/* Tests of gwd/status.c: the per-second sampler (what it takes from the
 * counters, when), the feed (parsed back with jansson: routes as compiled with
 * their counters, upstream targets, the blob), and the page answered by
 * default. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <string.h>

#include "gwd/metrics.h"
#include "gwd/reqctx.h"
#include "gwd/status.h"
#include "gwd/worker.h"
#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_status(void);

static const char *const yaml =
	"version: 1\n"
	"upstreams:\n"
	"  app:\n"
	"    targets:\n"
	"      - address: 127.0.0.1:9\n"
	"policies:\n"
	"  tight:\n"
	"    rate_limit: { rate: 1/h, burst: 5 }\n"
	"routes:\n"
	"  - path: /status-test/status\n"
	"    methods: [GET]\n"
	"    status: {}\n"
	"  - path: /status-test/limited\n"
	"    name: status-test-limited\n"
	"    methods: [GET, POST]\n"
	"    policies: [tight]\n"
	"    respond: { body: ok }\n"
	"  - path: /status-test/app/*\n"
	"    methods: [GET]\n"
	"    proxy: { upstream: app }\n";

static void test_quantiles(void)
{
	uint64_t h[GWD_METRICS_NBUCKETS + 1] = { 0 };

	CU_ASSERT_EQUAL(gwd_metrics_quantile_ms(h, 0.5), -1);
	/* 100 in (0.1 ms, 0.25 ms]: the median is halfway, 0.175 ms */
	h[1] = 100;
	CU_ASSERT_DOUBLE_EQUAL(gwd_metrics_quantile_ms(h, 0.5), 0.175, 1e-9);
	/* one more in +Inf: p99 still below, p100 answers the last finite bound */
	h[GWD_METRICS_NBUCKETS] = 1;
	CU_ASSERT(gwd_metrics_quantile_ms(h, 0.99) <= 0.25);
	CU_ASSERT_DOUBLE_EQUAL(gwd_metrics_quantile_ms(h, 1.0), 10000.0, 1e-9);
}

/* The feed for <f> as JSON (the handler asked with ?format=json). */
static json_t *feed(struct fxg *f)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());
	json_t *j;

	r->gen = f->g;
	r->query = "format=json";
	r->query_len = 11;
	CU_ASSERT_EQUAL(gwd_status_handle(r, NULL), 0);
	CU_ASSERT_EQUAL(r->resp.status, 200);
	CU_ASSERT_STRING_EQUAL(r->resp.ctype, "application/json");
	j = json_loadb(r->resp.body, r->resp.len, 0, NULL);
	gwd_req_put(r);
	return j;
}

static json_t *route(json_t *j, const char *pattern)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(j, "routes"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "pattern")), pattern) == 0)
			return r;
	return NULL;
}

static json_int_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void test_sampler_and_feed(void)
{
	struct gwd_worker *w = gwd_worker_self();
	uint64_t t0 = 5000000000000ull;
	json_t *j, *r, *s, *t, *col;
	const struct gwd_route *lim;
	struct fxg f;
	size_t n;

	if (fxg_build(&f, yaml) != 0)
		return;
	lim = &f.g->routes[1];
	CU_ASSERT_STRING_EQUAL(lim->r.pattern.p, "/status-test/limited");
	gwd_status_tick(t0);             /* origin (or a sample of earlier suites' counts) */
	gwd_status_tick(t0 + 1000000000);
	gwd_status_tick(t0 + 1500000000); /* less than a second: no sample */
	for (int i = 0; i < 12; i++)
		gwd_metrics_request(w, lim->metric_slot, GW_M_GET, i < 5 ? 200 : 429, 150000);
	gwd_metrics_request(w, lim->metric_slot, GW_M_POST, 503, 2000000);
	gwd_status_tick(t0 + 2000000000);

	j = feed(&f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	/* the newest sample holds exactly what was counted since the one before */
	s = json_object_get(j, "samples");
	col = json_object_get(s, "requests");
	n = json_array_size(col);
	CU_ASSERT_FATAL(n >= 1 && n <= GWD_STATUS_SAMPLES);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(col, n - 1)), 13);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(json_object_get(s, "429"), n - 1)), 7);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(json_object_get(s, "4xx"), n - 1)), 7);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(json_object_get(s, "5xx"), n - 1)), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(json_object_get(s, "dt_ms"), n - 1)), 1000);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(s, "p99_ms")), n);
	/* 12 of 13 at 0.15 ms: the median in (0.1, 0.25] ms, p99 in (1, 2.5] ms */
	{
		double p50 = json_number_value(json_array_get(json_object_get(s, "p50_ms"), n - 1));
		double p99 = json_number_value(json_array_get(json_object_get(s, "p99_ms"), n - 1));

		CU_ASSERT(p50 > 0.1 && p50 <= 0.25);
		CU_ASSERT(p99 > 1 && p99 <= 2.5);
	}

	/* routes as compiled, with their counters */
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "routes")), 3);
	r = route(j, "/status-test/limited");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "name")), "status-test-limited");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "handler")), "respond");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(r, "methods")), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		json_array_get(json_object_get(r, "policies"), 0), "kind")), "rate_limit");
	CU_ASSERT_EQUAL(num(r, "requests"), 13);
	CU_ASSERT_EQUAL(num(r, "429"), 7);
	CU_ASSERT_EQUAL(num(r, "5xx"), 1);
	r = route(j, "/status-test/app/*");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "upstream")), "app");
	CU_ASSERT_TRUE(json_is_null(json_object_get(r, "p50_ms"))); /* nothing measured */
	/* the upstream: no health check, so up, never checked */
	t = json_array_get(json_object_get(json_array_get(json_object_get(j, "upstreams"), 0), "targets"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "address")), "127.0.0.1:9");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "state")), "up");
	CU_ASSERT_TRUE(json_is_null(json_object_get(t, "last_check")));
	/* the blob */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(j, "blob"), "fingerprint")),
			       f.g->fp_hex);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(j, "store"), "status")),
			       "unknown");
	json_decref(j);
	fxg_free(&f);
}

static void test_page(void)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());
	struct fxg f;

	if (fxg_build(&f, yaml) != 0) {
		gwd_req_put(r);
		return;
	}
	r->gen = f.g;
	CU_ASSERT_EQUAL(gwd_status_handle(r, NULL), 0);
	CU_ASSERT_EQUAL(r->resp.status, 200);
	CU_ASSERT_STRING_EQUAL(r->resp.ctype, "text/html; charset=utf-8");
	CU_ASSERT_EQUAL(r->resp.len, gwd_status_page_len);
	CU_ASSERT(gwd_status_page_len > 100000); /* the chart library came along */
	CU_ASSERT(memmem(r->resp.body, r->resp.len, "<!doctype html>", 15) != NULL);
	gwd_req_put(r);
	fxg_free(&f);
}

int gw_suite_gwd_status(void)
{
	CU_pSuite s = CU_add_suite("gwd/status", NULL, NULL);

	if (!s || !CU_add_test(s, "quantiles from histogram buckets", test_quantiles) ||
	    !CU_add_test(s, "the sampler and the feed", test_sampler_and_feed) ||
	    !CU_add_test(s, "the page by default", test_page))
		return -1;
	return 0;
}
