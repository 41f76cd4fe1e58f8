/* Tests of gwd/cors.c: origin matching, the preflight answer and the headers
 * of actual requests, with policies compiled from YAML. */
#include <CUnit/CUnit.h>
#include <string.h>
#include <strings.h>

#include "gwd/cors.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"
#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_cors(void);

static const char *yaml =
	"version: 1\n"
	"policies:\n"
	"  web:\n"
	"    cors:\n"
	"      origins: [https://app.example.com, https://b.example.com]\n"
	"      methods: [GET, POST]\n"
	"      headers: [Content-Type, Authorization]\n"
	"      expose: [X-Request-ID]\n"
	"      credentials: true\n"
	"      max_age: 10m\n"
	"  any:\n"
	"    cors:\n"
	"      origins: ['*']\n"
	"routes:\n"
	"  - path: /a\n"
	"    methods: [GET, POST, PUT]\n"
	"    policies: [web]\n"
	"    respond: { body: a }\n"
	"  - path: /b\n"
	"    methods: [GET, DELETE]\n"
	"    policies: [any]\n"
	"    respond: { body: b }\n";

/* The value of response header <name> of <r>, or NULL. */
static const char *hdr(struct gwd_req *r, const char *name)
{
	for (struct gwd_hdr *h = r->resp_hdrs; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

/* The cors record of policy <name> in <g>. */
static const struct gw_cors *policy(const struct gwd_gen *g, const char *name)
{
	for (uint32_t i = 0; i < g->npolicies; i++)
		if (g->policies[i].kind == GW_P_CORS && strcmp(g->policies[i].name.p, name) == 0)
			return &g->cors[g->policies[i].index];
	return NULL;
}

static void test_cors(void)
{
	struct fxg f;
	const struct gw_cors *web, *any;
	struct gwd_req *r;
	int wild;

	if (fxg_build(&f, yaml) != 0)
		return;
	web = policy(f.g, "web");
	any = policy(f.g, "any");
	if (!web || !any) {
		CU_FAIL("policies missing");
		fxg_free(&f);
		return;
	}
	CU_ASSERT_TRUE(gwd_cors_origin_ok(web, f.g->strlist, f.g->nstrlist, "https://b.example.com", 21, &wild));
	CU_ASSERT_FALSE(wild);
	CU_ASSERT_FALSE(gwd_cors_origin_ok(web, f.g->strlist, f.g->nstrlist, "https://evil.example.com", 24, &wild));
	CU_ASSERT_FALSE(gwd_cors_origin_ok(web, f.g->strlist, f.g->nstrlist, "https://app.example.co", 22, &wild));
	CU_ASSERT_TRUE(gwd_cors_origin_ok(any, f.g->strlist, f.g->nstrlist, "http://x", 8, &wild));
	CU_ASSERT_TRUE(wild);

	/* preflight allowed */
	r = gwd_req_get(gwd_worker_self());
	CU_ASSERT_EQUAL(gwd_cors_preflight(r, web, f.g->strlist, f.g->nstrlist, GW_M_GET | GW_M_POST | GW_M_PUT,
					   "https://app.example.com", 23, "POST", 4), 0);
	CU_ASSERT_EQUAL(r->resp.status, 204);
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Allow-Origin"), "https://app.example.com");
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Allow-Methods"), "GET, POST");
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Allow-Headers"), "Content-Type, Authorization");
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Allow-Credentials"), "true");
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Max-Age"), "600");
	CU_ASSERT_STRING_EQUAL(hdr(r, "Vary"), "Origin");
	gwd_req_put(r);
	/* a method outside the policy's list (PUT), and a foreign origin: 403 */
	r = gwd_req_get(gwd_worker_self());
	gwd_cors_preflight(r, web, f.g->strlist, f.g->nstrlist, GW_M_GET | GW_M_POST | GW_M_PUT,
			   "https://app.example.com", 23, "PUT", 3);
	CU_ASSERT_EQUAL(r->resp.status, 403);
	gwd_req_put(r);
	r = gwd_req_get(gwd_worker_self());
	gwd_cors_preflight(r, web, f.g->strlist, f.g->nstrlist, GW_M_GET, "https://evil.example.com", 24,
			   "GET", 3);
	CU_ASSERT_EQUAL(r->resp.status, 403);
	CU_ASSERT_PTR_NULL(hdr(r, "Access-Control-Allow-Origin"));
	gwd_req_put(r);
	/* no methods listed: the route's methods */
	r = gwd_req_get(gwd_worker_self());
	gwd_cors_preflight(r, any, f.g->strlist, f.g->nstrlist, GW_M_GET | GW_M_DELETE, "http://x", 8,
			   "DELETE", 6);
	CU_ASSERT_EQUAL(r->resp.status, 204);
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Allow-Origin"), "*");
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Allow-Methods"), "GET, DELETE");
	CU_ASSERT_PTR_NULL(hdr(r, "Access-Control-Allow-Credentials"));
	gwd_req_put(r);
	/* actual requests */
	r = gwd_req_get(gwd_worker_self());
	CU_ASSERT_EQUAL(gwd_cors_actual(r, web, f.g->strlist, f.g->nstrlist, "https://b.example.com", 21), 0);
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Allow-Origin"), "https://b.example.com");
	CU_ASSERT_STRING_EQUAL(hdr(r, "Access-Control-Expose-Headers"), "X-Request-ID");
	gwd_req_put(r);
	r = gwd_req_get(gwd_worker_self());
	CU_ASSERT_EQUAL(gwd_cors_actual(r, web, f.g->strlist, f.g->nstrlist, "https://evil.example.com", 24), 0);
	CU_ASSERT_PTR_NULL(r->resp_hdrs);
	gwd_req_put(r);
	fxg_free(&f);
}

int gw_suite_gwd_cors(void)
{
	CU_pSuite s = CU_add_suite("gwd/cors", NULL, NULL);

	if (!s || !CU_add_test(s, "origins, preflight and actual requests", test_cors))
		return -1;
	return 0;
}
