/* Tests of gwd/respond.c: query lookup, template rendering with JSON escaping
 * and the :- / :+ forms, and the handler over a generation compiled from YAML
 * (static bodies served without a copy, substituted ones rendered). */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <string.h>

#include "gwd/reqctx.h"
#include "gwd/respond.h"
#include "gwd/worker.h"
#include "lib/match.h"
#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_respond(void);

static void test_query_get(void)
{
	const char *q = "a=1&name=J%C3%B6rg+X&empty=&flag&a=2&n%61me=second&bad=%zz%4";
	char dst[128];
	size_t n;

	CU_ASSERT_EQUAL(gwd_respond_query_get(q, strlen(q), "a", 1, dst, &n), 1);
	CU_ASSERT(n == 1 && dst[0] == '1'); /* the first one wins */
	CU_ASSERT_EQUAL(gwd_respond_query_get(q, strlen(q), "name", 4, dst, &n), 1);
	CU_ASSERT(n == 7 && memcmp(dst, "J\xc3\xb6rg X", 7) == 0);
	CU_ASSERT_EQUAL(gwd_respond_query_get(q, strlen(q), "empty", 5, dst, &n), 1);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(gwd_respond_query_get(q, strlen(q), "flag", 4, dst, &n), 1);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(gwd_respond_query_get(q, strlen(q), "bad", 3, dst, &n), 1);
	CU_ASSERT(n == 5 && memcmp(dst, "%zz%4", 5) == 0); /* invalid escapes kept */
	CU_ASSERT_EQUAL(gwd_respond_query_get(q, strlen(q), "missing", 7, dst, &n), 0);
	CU_ASSERT_EQUAL(gwd_respond_query_get(q, strlen(q), "nam", 3, dst, &n), 0);
	CU_ASSERT_EQUAL(gwd_respond_query_get(NULL, 0, "a", 1, dst, &n), 0);
	CU_ASSERT_EQUAL(gwd_respond_query_get("", 0, "a", 1, dst, &n), 0);
}

/* A template part. */
static struct gw_tpl part(uint8_t kind, uint8_t mode, uint16_t param, const char *text,
			  const char *alt)
{
	struct gw_tpl t = { .kind = kind, .mode = mode, .param = param };

	t.text.p = text ? text : "";
	t.text.len = text ? (uint32_t)strlen(text) : 0;
	t.alt.p = alt ? alt : "";
	t.alt.len = alt ? (uint32_t)strlen(alt) : 0;
	return t;
}

/* Render <t> over path "/u/<id>/files/<rest>" and query <q> into <out>. */
static int render(const struct gw_tpl *t, uint32_t n, const char *q, char *out, size_t cap)
{
	static const char path[] = "/u/7\"x/files/a/b";
	struct gw_match m = { .nparams = 1 };
	char scratch[256];
	struct gwd_respond_tpl_ctx c = { path, &m, q, q ? strlen(q) : 0, scratch };
	struct gwd_buf b;
	int rc;

	m.params[0].off = 3;
	m.params[0].len = 3;
	m.rest_off = 13;
	m.rest_len = 3;
	gwd_buf_init(&b, out, cap - 1);
	rc = gwd_respond_tpl_render(&b, t, n, &c);
	out[b.len] = '\0';
	return rc;
}

static void test_render(void)
{
	char out[256];
	struct gw_tpl t[] = {
		part(GW_TPL_LITERAL, 0, 0, "{\"id\":\"", NULL),
		part(GW_TPL_PARAM, GW_TPL_PLAIN, 0, NULL, NULL),
		part(GW_TPL_LITERAL, 0, 0, "\",\"rest\":\"", NULL),
		part(GW_TPL_REST, GW_TPL_PLAIN, 0, NULL, NULL),
		part(GW_TPL_LITERAL, 0, 0, "\",\"n\":\"", NULL),
		part(GW_TPL_QUERY, GW_TPL_DEFAULT, 0, "n", "anon"),
		part(GW_TPL_QUERY, GW_TPL_ALT, 0, "n", "!"),
		part(GW_TPL_LITERAL, 0, 0, "\"}", NULL),
	};
	json_t *j;

	CU_ASSERT_EQUAL(render(t, 8, "n=%22%0A%3C", out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "{\"id\":\"7\\\"x\",\"rest\":\"a/b\",\"n\":\"\\\"\\n<!\"}");
	j = json_loads(out, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(j);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "n")), "\"\n<!");
	json_decref(j);
	/* absent and empty: the default, and nothing for :+ */
	CU_ASSERT_EQUAL(render(t, 8, NULL, out, sizeof out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"n\":\"anon\"}"));
	CU_ASSERT_EQUAL(render(t, 8, "n=", out, sizeof out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"n\":\"anon\"}"));
	/* too small a buffer says so */
	CU_ASSERT_EQUAL(render(t, 8, NULL, out, 10), -1);
	/* the bound holds for the worst case: every byte escaped to 6 */
	{
		char q[70] = "n=";
		for (int i = 0; i < 20; i++)
			strcat(q, "%01");
		CU_ASSERT_EQUAL(render(t, 8, q, out, sizeof out), 0);
		CU_ASSERT(strlen(out) <= gwd_respond_tpl_bound(t, 8, strlen("/u/7\"x/files/a/b?") + strlen(q)));
	}
}

static const char *yaml =
	"version: 1\n"
	"routes:\n"
	"  - path: /hello\n"
	"    methods: [GET]\n"
	"    respond:\n"
	"      status: 202\n"
	"      headers: { Content-Type: application/json, X-Extra: yes }\n"
	"      body: '{\"message\":\"hello${query.name:+, }${query.name}\"}'\n"
	"  - path: /static\n"
	"    methods: [GET]\n"
	"    respond: { body: 'fixed' }\n";

static void test_handler(void)
{
	struct fxg f;
	struct gwd_req *r;
	struct gw_match m;
	int found = 0;

	if (fxg_build(&f, yaml) != 0)
		return;
	r = gwd_req_get(gwd_worker_self());
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	r->gen = f.g;
	r->target = gwd_req_strdup(r, "/hello?name=%22W%22", 19);
	r->target_len = 19;
	r->path = "/hello";
	r->path_len = 6;
	r->query = r->target + 7;
	r->query_len = 12;
	if (gw_match(f.g->blob, NULL, 0, GW_M_GET, "/hello", 6, &m) == GW_MATCH_FOUND) {
		found = 1;
		r->m = m;
		r->route = &f.g->routes[m.route];
		CU_ASSERT_FALSE(r->route->body_static);
		CU_ASSERT_EQUAL(gwd_respond_handle(r), 0);
		CU_ASSERT_EQUAL(r->resp.status, 202);
		CU_ASSERT_STRING_EQUAL(r->resp.ctype, "application/json");
		CU_ASSERT_EQUAL(r->resp.len, strlen("{\"message\":\"hello, \\\"W\\\"\"}"));
		CU_ASSERT_EQUAL(memcmp(r->resp.body, "{\"message\":\"hello, \\\"W\\\"\"}", r->resp.len), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r->resp_hdrs);
		CU_ASSERT_STRING_EQUAL(r->resp_hdrs->name, "X-Extra");
		CU_ASSERT_STRING_EQUAL(r->resp_hdrs->value, "yes");
	}
	CU_ASSERT_TRUE(found);
	gwd_req_put(r);
	/* a static body comes from the blob mapping itself: no copy */
	r = gwd_req_get(gwd_worker_self());
	r->gen = f.g;
	if (gw_match(f.g->blob, NULL, 0, GW_M_GET, "/static", 7, &m) == GW_MATCH_FOUND) {
		r->route = &f.g->routes[m.route];
		CU_ASSERT_TRUE(r->route->body_static);
		CU_ASSERT_EQUAL(gwd_respond_handle(r), 0);
		CU_ASSERT_EQUAL(r->resp.status, 200);
		CU_ASSERT_EQUAL(r->resp.len, 5);
		CU_ASSERT(r->resp.body >= (const char *)f.mem &&
			  r->resp.body < (const char *)f.mem + f.len);
	} else {
		CU_FAIL("/static does not match");
	}
	gwd_req_put(r);
	fxg_free(&f);
}

int gw_suite_gwd_respond(void)
{
	CU_pSuite s = CU_add_suite("gwd/respond", NULL, NULL);

	if (!s || !CU_add_test(s, "query lookup and decoding", test_query_get) ||
	    !CU_add_test(s, "template rendering", test_render) ||
	    !CU_add_test(s, "respond handler over a compiled blob", test_handler))
		return -1;
	return 0;
}
