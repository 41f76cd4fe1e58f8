/* Tests of gwd/pipeline.c's stages, one by one, over generations built from
 * YAML (the real compiler, blob and generation): the checks of the head
 * (field count, a raw NUL, Host, size), the target (absolute-form authority,
 * the normaliser's refusals), the match (404, 405 with Allow), the CORS
 * preflight, the route's policies in the order it lists them (the first that
 * refuses answers), the handler's body limit, and the body count.
 *
 * The file includes pipeline.c to reach its static stages (the unit runner
 * then leaves pipeline.o out).  The first stage, identify(), reads the head
 * from libmicrohttpd and the last ones queue to it: those run in the
 * integration scripts (raw_requests.sh, keepalive.sh), against a real gwd.
 */
#include "gwd/pipeline.c"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>

#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_pipeline(void);

static const char *yaml =
	"version: 1\n"
	"settings:\n"
	"  limits: { max_header_bytes: 1KiB }\n"
	"policies:\n"
	"  office: { ip: { allow: [10.0.0.0/8] } }\n"
	"  small: { body_limit: 10 }\n"
	"  smaller: { body_limit: 5 }\n"
	"  web: { cors: { origins: [https://app.example.com] } }\n"
	"routes:\n"
	"  - path: /get\n"
	"    methods: [GET]\n"
	"    respond: { body: g }\n"
	"  - path: /ip-then-limit\n"
	"    methods: [POST]\n"
	"    policies: [office, small]\n"
	"    respond: { body: a }\n"
	"  - path: /limit-then-ip\n"
	"    methods: [POST]\n"
	"    policies: [small, office, smaller]\n"
	"    respond: { body: b }\n"
	"  - path: /cors\n"
	"    methods: [PUT]\n"
	"    policies: [web, office]\n"
	"    respond: { body: c }\n"
	"  - path: /login\n"
	"    methods: [POST]\n"
	"    login: {}\n";

/* A request over <g> from IPv4 <ip>, HTTP/1.1, method <m> (a GW_M_* bit),
 * raw target <target>. */
static struct gwd_req *req(struct gwd_gen *g, struct gwd_conn *c, const char *ip, unsigned m,
			   const char *target)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());
	struct sockaddr_in *a = (struct sockaddr_in *)&c->addr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	memset(c, 0, sizeof *c);
	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
	c->family = 4;
	r->conn = c;
	r->gen = g;
	r->method = m;
	r->http11 = 1;
	r->t_start_ns = gwd_clock_ns();
	r->target_len = (uint32_t)strlen(target);
	r->target = gwd_req_strdup(r, target, r->target_len);
	r->reqid_len = (uint8_t)gwd_reqid_make(r->w, r->reqid);
	return r;
}

/* The problem type in <r>'s answer is <slug>. */
static int answered(struct gwd_req *r, unsigned status, const char *slug)
{
	char want[96];

	snprintf(want, sizeof want, "\"urn:gw:problem:%s\"", slug);
	return r->resp.status == status && r->resp.body && strstr(r->resp.body, want);
}

/* Up to the match: head checks, target, preflight, route. */
static int route(struct gwd_req *r, const struct fields *fs, struct gwd_edge_facts *facts)
{
	return check_connection(r) || check_head(r, fs, "GET", facts) || read_target(r, facts) ||
	       preflight(r, fs) || match_route(r);
}

static void test_head_checks(void)
{
	struct fxg f;
	struct gwd_conn c;
	struct fields fs = { 0 };
	struct gwd_edge_facts facts;
	struct gwd_req *r;
	char big[1100];

	if (fxg_build(&f, yaml) != 0)
		return;
	r = req(f.g, &c, "10.0.0.1", GW_M_GET, "/get");
	c.over_limit = 1;
	CU_ASSERT_EQUAL(check_connection(r), 1);
	CU_ASSERT(answered(r, 503, "too-many-connections"));
	CU_ASSERT(r->resp.close);
	gwd_req_put(r);

	r = req(f.g, &c, "10.0.0.1", GW_M_GET, "/get");
	fs.overflow = 1;
	CU_ASSERT_EQUAL(check_head(r, &fs, "GET", &facts), 1);
	CU_ASSERT(answered(r, 431, "headers-too-large"));
	gwd_req_put(r);
	fs.overflow = 0;

	r = req(f.g, &c, "10.0.0.1", GW_M_GET, "/get");
	r->edge_nul = 1;
	CU_ASSERT_EQUAL(check_head(r, &fs, "GET", &facts), 1);
	CU_ASSERT(answered(r, 400, "nul-in-path"));
	gwd_req_put(r);

	/* HTTP/1.1 needs Host; HTTP/1.0 does not */
	r = req(f.g, &c, "10.0.0.1", GW_M_GET, "/get");
	CU_ASSERT_EQUAL(check_head(r, &fs, "GET", &facts), 1);
	CU_ASSERT(answered(r, 400, "bad-header"));
	gwd_req_put(r);
	r = req(f.g, &c, "10.0.0.1", GW_M_GET, "/get");
	r->http11 = 0;
	CU_ASSERT_EQUAL(check_head(r, &fs, "GET", &facts), 0);
	CU_ASSERT_EQUAL(r->content_length, UINT64_MAX);
	CU_ASSERT_EQUAL(r->resp.status, 0);
	gwd_req_put(r);

	/* the request line counts against limits.max_header_bytes (1 KiB) */
	memset(big, 'a', sizeof big - 1);
	big[0] = '/';
	big[sizeof big - 1] = '\0';
	r = req(f.g, &c, "10.0.0.1", GW_M_GET, big);
	r->http11 = 0;
	CU_ASSERT_EQUAL(check_head(r, &fs, "GET", &facts), 1);
	CU_ASSERT(answered(r, 431, "headers-too-large"));
	gwd_req_put(r);
	fxg_free(&f);
}

static void test_target_and_match(void)
{
	static const struct {
		const char *target;
		unsigned method, status;
		const char *slug; /* NULL: routed */
	} c[] = {
		{ "/get?x=1", GW_M_GET, 0, NULL },
		{ "http://h.example/get", GW_M_GET, 0, NULL },
		{ "/a/../get/", GW_M_GET, 0, NULL },
		{ "/get", GW_M_POST, 405, "method-not-allowed" },
		{ "/nope", GW_M_GET, 404, "not-found" },
		{ "*", GW_M_GET, 400, "bad-target" },
		{ "/a%2Fb", GW_M_GET, 400, "encoded-slash" },
		{ "/../get", GW_M_GET, 400, "path-above-root" },
		{ "/a#/../get", GW_M_GET, 400, "bad-target" },
	};
	struct fxg f;
	struct gwd_conn conn;
	struct fields fs = { 0 };
	struct gwd_edge_facts facts;

	if (fxg_build(&f, yaml) != 0)
		return;
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		struct gwd_req *r = req(f.g, &conn, "10.0.0.1", c[i].method, c[i].target);

		r->http11 = 0;
		CU_ASSERT_EQUAL(route(r, &fs, &facts), c[i].slug != NULL);
		if (c[i].slug) {
			CU_ASSERT(answered(r, c[i].status, c[i].slug));
		} else {
			CU_ASSERT_PTR_NOT_NULL(r->route);
			CU_ASSERT_EQUAL(r->path_len, 4);
			CU_ASSERT_EQUAL(memcmp(r->path, "/get", 4), 0);
			CU_ASSERT_EQUAL(r->body_limit, GWD_BODY_DEFAULT_LIMIT);
		}
		gwd_req_put(r);
	}
	/* the absolute-form authority is the host; the query is kept raw */
	{
		struct gwd_req *r = req(f.g, &conn, "10.0.0.1", GW_M_GET, "http://h.example/get?q=%41");

		r->http11 = 0;
		CU_ASSERT_EQUAL(route(r, &fs, &facts), 0);
		CU_ASSERT(r->host_len == 9 && memcmp(r->host, "h.example", 9) == 0);
		CU_ASSERT(r->query_len == 5 && memcmp(r->query, "q=%41", 5) == 0);
		gwd_req_put(r);
	}
	/* 405 names what the path allows; a GET route also allows HEAD */
	{
		struct gwd_req *r = req(f.g, &conn, "10.0.0.1", GW_M_DELETE, "/get");
		struct gwd_hdr *h;

		r->http11 = 0;
		CU_ASSERT_EQUAL(route(r, &fs, &facts), 1);
		for (h = r->resp_hdrs; h && strcmp(h->name, "Allow") != 0; h = h->next)
			;
		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		CU_ASSERT_STRING_EQUAL(h->value, "GET, HEAD");
		gwd_req_put(r);
	}
	fxg_free(&f);
}

/* An OPTIONS preflight is answered by the cors policy before the route's
 * other policies, but for its ip policy: an address it allows gets the
 * preflight's answer, another 403.  Without Access-Control-Request-Method it
 * is an ordinary OPTIONS request. */
static void test_preflight(void)
{
	struct fxg f;
	struct gwd_conn conn;
	struct fields fs = { 0 };
	struct gwd_edge_facts facts;
	struct gwd_req *r;

	if (fxg_build(&f, yaml) != 0)
		return;
	fs.origin = "https://app.example.com";
	fs.origin_len = strlen(fs.origin);
	fs.acrm = "PUT";
	fs.acrm_len = 3;
	r = req(f.g, &conn, "10.0.0.1", GW_M_OPTIONS, "/cors");
	r->http11 = 0;
	CU_ASSERT_EQUAL(route(r, &fs, &facts), 1);
	CU_ASSERT_EQUAL(r->resp.status, 204);
	gwd_req_put(r);
	r = req(f.g, &conn, "192.0.2.1", GW_M_OPTIONS, "/cors");
	r->http11 = 0;
	CU_ASSERT_EQUAL(route(r, &fs, &facts), 1);
	CU_ASSERT(answered(r, 403, "forbidden"));
	gwd_req_put(r);
	fs.acrm = NULL;
	r = req(f.g, &conn, "192.0.2.1", GW_M_OPTIONS, "/cors");
	r->http11 = 0;
	CU_ASSERT_EQUAL(route(r, &fs, &facts), 1);
	CU_ASSERT(answered(r, 405, "method-not-allowed"));
	gwd_req_put(r);
	fxg_free(&f);
}

/* Route <path> for a POST from <ip> announcing <clen> body bytes, then its
 * policies; returns what run_policies returned. */
static int post(struct gwd_gen *g, struct gwd_conn *c, const char *ip, const char *path,
		uint64_t clen, struct gwd_req **out)
{
	struct fields fs = { 0 };
	struct gwd_edge_facts facts;
	struct gwd_req *r = req(g, c, ip, GW_M_POST, path);

	r->http11 = 0;
	*out = r;
	if (route(r, &fs, &facts))
		return -1;
	r->content_length = clen;
	return run_policies(r, NULL, 0);
}

/* The route's policies run in the order it lists them: the first that
 * refuses answers.  Several body limits: the smallest applies. */
static void test_policy_order(void)
{
	struct fxg f;
	struct gwd_conn c;
	struct gwd_req *r;

	if (fxg_build(&f, yaml) != 0)
		return;
	CU_ASSERT_EQUAL(post(f.g, &c, "192.0.2.1", "/ip-then-limit", 100, &r), 1);
	CU_ASSERT(answered(r, 403, "forbidden"));
	gwd_req_put(r);
	CU_ASSERT_EQUAL(post(f.g, &c, "192.0.2.1", "/limit-then-ip", 100, &r), 1);
	CU_ASSERT(answered(r, 413, "body-too-large"));
	gwd_req_put(r);
	CU_ASSERT_EQUAL(post(f.g, &c, "10.0.0.1", "/ip-then-limit", 10, &r), 0);
	CU_ASSERT_EQUAL(r->body_limit, 10);
	gwd_req_put(r);
	CU_ASSERT_EQUAL(post(f.g, &c, "10.0.0.1", "/limit-then-ip", 6, &r), 1);
	CU_ASSERT(answered(r, 413, "body-too-large"));
	gwd_req_put(r);
	CU_ASSERT_EQUAL(post(f.g, &c, "10.0.0.1", "/limit-then-ip", 5, &r), 0);
	CU_ASSERT_EQUAL(prepare_handler(r), 0);
	gwd_req_put(r);
	fxg_free(&f);
}

/* The login handler caps the body at GWD_LOGIN_BODY_MAX and keeps it. */
static void test_prepare_handler(void)
{
	struct fxg f;
	struct gwd_conn c;
	struct gwd_req *r;

	if (fxg_build(&f, yaml) != 0)
		return;
	CU_ASSERT_EQUAL(post(f.g, &c, "10.0.0.1", "/login", GWD_LOGIN_BODY_MAX, &r), 0);
	CU_ASSERT_EQUAL(prepare_handler(r), 0);
	CU_ASSERT_EQUAL(r->body_limit, GWD_LOGIN_BODY_MAX);
	CU_ASSERT(r->body_keep);
	gwd_req_put(r);
	CU_ASSERT_EQUAL(post(f.g, &c, "10.0.0.1", "/login", GWD_LOGIN_BODY_MAX + 1, &r), 0);
	CU_ASSERT_EQUAL(prepare_handler(r), 1);
	CU_ASSERT(answered(r, 413, "body-too-large"));
	gwd_req_put(r);
	fxg_free(&f);
}

/* A chunked body past its limit: 413 (closing) once it passes, the rest read
 * and dropped, the connection closed past BODY_DISCARD_MAX more. */
static void test_body_count(void)
{
	static char chunk[64 * 1024];
	struct fxg f;
	struct gwd_conn c;
	struct gwd_req *r;
	uint64_t sent;
	int rc = 0;

	if (fxg_build(&f, yaml) != 0)
		return;
	CU_ASSERT_EQUAL(post(f.g, &c, "10.0.0.1", "/login", UINT64_MAX, &r), 0);
	CU_ASSERT_EQUAL(prepare_handler(r), 0);
	CU_ASSERT_EQUAL(body(r, chunk, 100), 0);
	CU_ASSERT_EQUAL(r->body_len, 100);
	CU_ASSERT_EQUAL(r->resp.status, 0);
	CU_ASSERT_EQUAL(body(r, chunk, GWD_LOGIN_BODY_MAX), 0);
	CU_ASSERT(answered(r, 413, "body-too-large"));
	CU_ASSERT(r->resp.close);
	CU_ASSERT_EQUAL(r->body_len, 100); /* nothing kept past the limit */
	for (sent = 0; sent <= BODY_DISCARD_MAX && rc == 0; sent += sizeof chunk)
		rc = body(r, chunk, sizeof chunk);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT(sent > BODY_DISCARD_MAX - sizeof chunk);
	gwd_req_put(r);
	fxg_free(&f);
}

int gw_suite_gwd_pipeline(void)
{
	CU_pSuite s = CU_add_suite("gwd/pipeline", NULL, NULL);

	if (!s || !CU_add_test(s, "head checks", test_head_checks) ||
	    !CU_add_test(s, "target and match", test_target_and_match) ||
	    !CU_add_test(s, "CORS preflight before the policies", test_preflight) ||
	    !CU_add_test(s, "policies in the route's order", test_policy_order) ||
	    !CU_add_test(s, "the handler's body limit", test_prepare_handler) ||
	    !CU_add_test(s, "body count past the limit", test_body_count))
		return -1;
	return 0;
}
