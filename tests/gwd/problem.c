/* Tests of gwd/problem.c: every problem renders valid problem+json with its
 * stable type, title and status; closing kinds close. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <string.h>

#include "gwd/problem.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"

int gw_suite_gwd_problem(void);

static void test_all(void)
{
	for (int p = 0; p < GWD_PB_COUNT; p++) {
		const struct gwd_problem_info *pi = gwd_problem_info(p);
		struct gwd_req *r = gwd_req_get(gwd_worker_self());
		json_t *j;
		char type[96];

		CU_ASSERT_PTR_NOT_NULL_FATAL(pi);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pi->slug);
		CU_ASSERT(pi->status >= 400 && pi->status <= 599);
		strcpy(r->reqid, "rid-1");
		r->reqid_len = 5;
		CU_ASSERT_EQUAL(gwd_problem(r, p, p % 2 ? "detail \"quoted\"\n" : NULL), 0);
		CU_ASSERT_EQUAL(r->resp.status, pi->status);
		CU_ASSERT_STRING_EQUAL(r->resp.ctype, "application/problem+json");
		j = json_loadb(r->resp.body, r->resp.len, 0, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		snprintf(type, sizeof type, "urn:gw:problem:%s", pi->slug);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "type")), type);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "title")), pi->title);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "status")), pi->status);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "request_id")), "rid-1");
		if (p % 2) {
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "detail")),
					       "detail \"quoted\"\n");
		} else {
			CU_ASSERT_PTR_NULL(json_object_get(j, "detail"));
		}
		json_decref(j);
		gwd_req_put(r);
	}
	CU_ASSERT_PTR_NULL(gwd_problem_info(GWD_PB_COUNT));
}

static void test_close(void)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());

	gwd_problem(r, GWD_PB_DUP_CONTENT_LENGTH, NULL);
	CU_ASSERT_TRUE(r->resp.close);
	gwd_problem(r, GWD_PB_BODY_TOO_LARGE, NULL);
	CU_ASSERT_TRUE(r->resp.close);
	gwd_problem(r, GWD_PB_TOO_MANY_CONNECTIONS, NULL);
	CU_ASSERT_TRUE(r->resp.close);
	gwd_problem(r, GWD_PB_NOT_FOUND, NULL);
	CU_ASSERT_FALSE(r->resp.close);
	gwd_problem(r, GWD_PB_RATE_LIMITED, NULL);
	CU_ASSERT_FALSE(r->resp.close);
	CU_ASSERT_EQUAL(r->resp.status, 429);
	gwd_req_put(r);
}

int gw_suite_gwd_problem(void)
{
	CU_pSuite s = CU_add_suite("gwd/problem", NULL, NULL);

	if (!s || !CU_add_test(s, "every problem is valid problem+json", test_all) ||
	    !CU_add_test(s, "framing problems close the connection", test_close))
		return -1;
	return 0;
}
