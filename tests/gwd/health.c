/* Tests of gwd/health.c: the JSON answer (parsed back), 503 when a check
 * says degraded, "unknown" for checks nobody registered. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <string.h>

#include "gwd/health.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"
#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_health(void);

static int upstream_state = GWD_HEALTH_OK;

static int check_up(void *ctx, char *detail, size_t cap)
{
	(void)ctx;
	if (upstream_state != GWD_HEALTH_OK)
		snprintf(detail, cap, "demo: 0 of 1 targets \"healthy\"");
	return upstream_state;
}

static json_t *answer(struct fxg *f, int *status)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());
	json_t *j;

	r->gen = f->g;
	CU_ASSERT_EQUAL(gwd_health_handle(r), 0);
	*status = r->resp.status;
	CU_ASSERT_STRING_EQUAL(r->resp.ctype, "application/json");
	j = json_loadb(r->resp.body, r->resp.len, 0, NULL);
	gwd_req_put(r);
	return j;
}

static void test_health(void)
{
	struct fxg f;
	json_t *j, *checks;
	int status;

	if (fxg_build(&f, "version: 1\nroutes:\n  - path: /health\n    methods: [GET]\n    health: {}\n") != 0)
		return;
	gwd_health_start();
	j = answer(&f, &status);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "status")), "ok");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "fingerprint")), f.g->fp_hex);
	CU_ASSERT_TRUE(json_is_integer(json_object_get(j, "blob_age_s")));
	CU_ASSERT_TRUE(json_is_integer(json_object_get(j, "uptime_s")));
	checks = json_object_get(j, "checks");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(checks, "upstreams"), "status")),
			       "unknown");
	json_decref(j);

	CU_ASSERT_EQUAL(gwd_health_register("upstreams", check_up, NULL), 0);
	upstream_state = GWD_HEALTH_DEGRADED;
	j = answer(&f, &status);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(status, 503);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "status")), "degraded");
	checks = json_object_get(j, "checks");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(checks, "upstreams"), "status")),
			       "degraded");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(checks, "upstreams"), "detail")),
			       "demo: 0 of 1 targets \"healthy\"");
	CU_ASSERT_PTR_NOT_NULL(json_object_get(checks, "db"));
	json_decref(j);
	upstream_state = GWD_HEALTH_OK;
	j = answer(&f, &status);
	CU_ASSERT_EQUAL(status, 200);
	json_decref(j);
	gwd_health_register("upstreams", NULL, NULL); /* back to unknown */
	fxg_free(&f);
}

int gw_suite_gwd_health(void)
{
	CU_pSuite s = CU_add_suite("gwd/health", NULL, NULL);

	if (!s || !CU_add_test(s, "status, checks, 503 when degraded", test_health))
		return -1;
	return 0;
}
