/* Tests of gwd/hdrpol.c (the headers policy) and gwd/echo.c, over policies
 * compiled from YAML: request additions and removals seen through
 * gwd_req_header, response removals before additions, Content-Type handled as
 * the response's type; echo collects within its limit and answers the bytes. */
#include <CUnit/CUnit.h>
#include <string.h>
#include <strings.h>

#include "gwd/echo.h"
#include "gwd/hdrpol.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"
#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_hdrpol(void);

static const char *yaml =
	"version: 1\n"
	"policies:\n"
	"  tidy:\n"
	"    headers:\n"
	"      request:\n"
	"        add: { X-Gateway: gw, X-Tenant: t1 }\n"
	"        remove: [X-Internal-Debug]\n"
	"      response:\n"
	"        add: { Cache-Control: no-store, X-Frame-Options: DENY, Content-Type: text/x-new }\n"
	"        remove: [X-Powered-By, Cache-Control, Content-Type]\n"
	"  strip:\n"
	"    headers:\n"
	"      request:\n"
	"        remove: [X-Tenant]\n"
	"routes:\n"
	"  - path: /a\n"
	"    methods: [POST]\n"
	"    policies: [tidy, strip]\n"
	"    echo: {}\n";

static const struct gw_hdrpol *pol(struct gwd_gen *g, const char *name)
{
	for (uint32_t i = 0; i < g->npolicies; i++)
		if (strcmp(g->policies[i].name.p, name) == 0)
			return &g->hdrpols[g->policies[i].index];
	return NULL;
}

static int count(struct gwd_req *r, const char *name, const char **value)
{
	int n = 0;

	for (struct gwd_hdr *h = r->resp_hdrs; h; h = h->next)
		if (strcasecmp(h->name, name) == 0) {
			n++;
			if (value)
				*value = h->value;
		}
	return n;
}

static void test_headers(void)
{
	struct fxg f;
	const struct gw_hdrpol *tidy, *strip;
	struct gwd_req *r;
	const char *v = NULL;
	size_t n;

	if (fxg_build(&f, yaml) != 0)
		return;
	tidy = pol(f.g, "tidy");
	strip = pol(f.g, "strip");
	if (!tidy || !strip) {
		CU_FAIL("policies missing");
		fxg_free(&f);
		return;
	}
	r = gwd_req_get(gwd_worker_self());
	r->gen = f.g;
	CU_ASSERT_EQUAL(gwd_hdrpol_request(r, f.g, tidy), 0);
	v = gwd_req_header(r, "x-gateway", &n);
	CU_ASSERT(v && n == 2 && strcmp(v, "gw") == 0);
	CU_ASSERT_PTR_NOT_NULL(gwd_req_header(r, "X-Tenant", NULL));
	CU_ASSERT_PTR_NULL(gwd_req_header(r, "X-Internal-Debug", NULL));
	/* a later policy removes what an earlier one added */
	CU_ASSERT_EQUAL(gwd_hdrpol_request(r, f.g, strip), 0);
	CU_ASSERT_PTR_NULL(gwd_req_header(r, "X-Tenant", NULL));
	CU_ASSERT_PTR_NOT_NULL(gwd_req_header(r, "X-Gateway", NULL));

	/* response: the handler's headers, then the policy */
	r->resp.ctype = "text/plain";
	gwd_req_add_resp_header(r, "X-Powered-By", "me");
	gwd_req_add_resp_header(r, "Cache-Control", "max-age=60");
	gwd_req_add_resp_header(r, "X-Kept", "1");
	CU_ASSERT_EQUAL(gwd_hdrpol_response(r, f.g, tidy), 0);
	CU_ASSERT_EQUAL(count(r, "X-Powered-By", NULL), 0);
	CU_ASSERT_EQUAL(count(r, "Cache-Control", &v), 1); /* removed, then added: replaced */
	CU_ASSERT_STRING_EQUAL(v, "no-store");
	CU_ASSERT_EQUAL(count(r, "X-Frame-Options", NULL), 1);
	CU_ASSERT_EQUAL(count(r, "X-Kept", NULL), 1);
	CU_ASSERT_STRING_EQUAL(r->resp.ctype, "text/x-new");
	CU_ASSERT_EQUAL(count(r, "Content-Type", NULL), 0); /* the type is not a list entry */
	gwd_req_put(r);
	fxg_free(&f);
}

static void test_echo(void)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());
	char big[100000];

	memset(big, 'x', sizeof big);
	r->content_length = sizeof big;
	CU_ASSERT_EQUAL(gwd_echo_prepare(r), 0);
	CU_ASSERT_EQUAL(r->body_limit, GWD_ECHO_DEFAULT_LIMIT); /* no route limit: 1 MiB */
	CU_ASSERT(r->body_cap >= sizeof big);                    /* reserved once */
	CU_ASSERT_EQUAL(gwd_echo_data(r, big, 60000), 0);
	CU_ASSERT_EQUAL(gwd_echo_data(r, big + 60000, sizeof big - 60000), 0);
	CU_ASSERT_EQUAL(gwd_echo_handle(r), 0);
	CU_ASSERT_EQUAL(r->resp.status, 200);
	CU_ASSERT_EQUAL(r->resp.len, sizeof big);
	CU_ASSERT_EQUAL(memcmp(r->resp.body, big, sizeof big), 0);
	CU_ASSERT_PTR_NULL(r->resp.ctype); /* no request Content-Type: none back */
	gwd_req_put(r);
	/* a route limit is kept */
	r = gwd_req_get(gwd_worker_self());
	r->body_limit = 10;
	CU_ASSERT_EQUAL(gwd_echo_prepare(r), 0);
	CU_ASSERT_EQUAL(r->body_limit, 10);
	CU_ASSERT_EQUAL(gwd_echo_handle(r), 0);
	CU_ASSERT_EQUAL(r->resp.len, 0);
	gwd_req_put(r);
}

int gw_suite_gwd_hdrpol(void)
{
	CU_pSuite s = CU_add_suite("gwd/hdrpol", NULL, NULL);

	if (!s || !CU_add_test(s, "request overlay and response edits", test_headers) ||
	    !CU_add_test(s, "echo collects and answers the bytes", test_echo))
		return -1;
	return 0;
}
