/* Tests of gwd/policy.c: the client address (peer, or X-Forwarded-For only
 * from a trusted proxy), the ip policy's allow/deny lists, and the dispatch
 * to the real rate limiter (admitted requests carry the RateLimit fields; the
 * request past the burst gets 429 and Retry-After). */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "gwd/conn.h"
#include "gwd/policy.h"
#include "gwd/ratelimit.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"
#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_policy(void);

static const char *yaml =
	"version: 1\n"
	"policies:\n"
	"  office:\n"
	"    ip:\n"
	"      allow: [10.0.0.0/8, '::1']\n"
	"      deny: [10.0.13.0/24]\n"
	"  three:\n"
	"    rate_limit: { rate: 3/min, burst: 3, key: ip }\n"
	"  ietf:\n"
	"    rate_limit: { rate: 1/min, key: ip, headers: ietf }\n"
	"  quiet:\n"
	"    rate_limit: [ { rate: 1/min, key: ip, headers: none }, { rate: 9/h, headers: none } ]\n"
	"routes:\n"
	"  - path: /a\n"
	"    methods: [GET]\n"
	"    policies: [office, three]\n"
	"    respond: { body: a }\n";

/* A request from <ip> (v4 or v6 text) over generation <g>. */
static struct gwd_req *req_from(struct gwd_gen *g, struct gwd_conn *c, const char *ip)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());

	memset(c, 0, sizeof *c);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&c->addr;

		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		c->family = 6;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&c->addr;

		a->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &a->sin_addr);
		c->family = 4;
	}
	r->conn = c;
	r->gen = g;
	r->t_start_ns = gwd_clock_ns(); /* the pipeline's clock reading at the request line */
	return r;
}

/* The policy named <name> of <g>. */
static const struct gw_policy *policy(struct gwd_gen *g, const char *name)
{
	for (uint32_t i = 0; i < g->npolicies; i++)
		if (strcmp(g->policies[i].name.p, name) == 0)
			return &g->policies[i];
	return NULL;
}

static void test_ip(void)
{
	static const struct {
		const char *ip;
		int refused;
	} c[] = {
		{ "10.1.2.3", 0 }, { "10.0.13.7", 1 }, { "192.168.1.1", 1 }, { "::1", 0 }, { "::2", 1 },
	};
	struct fxg f;
	struct gwd_conn conn;
	const struct gw_policy *p;

	if (fxg_build(&f, yaml) != 0)
		return;
	p = policy(f.g, "office");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		struct gwd_req *r = req_from(f.g, &conn, c[i].ip);

		CU_ASSERT_EQUAL(gwd_policy_ip(r, p), c[i].refused);
		if (c[i].refused)
			CU_ASSERT_EQUAL(r->resp.status, 403);
		gwd_req_put(r);
	}
	fxg_free(&f);
}

static const char *hdr(struct gwd_req *r, const char *name)
{
	for (struct gwd_hdr *h = r->resp_hdrs; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

/* A rate-limit registry installed for generations, and the fixture's
 * generation built with it.  0, or -1 (the failure is asserted). */
static int rl_setup(struct gwd_ratelimit_registry **reg, struct fxg *f)
{
	*reg = gwd_ratelimit_registry_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(*reg);
	gwd_reload_set_rl_registry(*reg);
	if (fxg_build(f, yaml) == 0)
		return 0;
	gwd_reload_set_rl_registry(NULL);
	gwd_ratelimit_registry_free(*reg);
	return -1;
}

/* Undo rl_setup. */
static void rl_teardown(struct gwd_ratelimit_registry *reg, struct fxg *f)
{
	fxg_free(f);
	gwd_reload_set_rl_registry(NULL);
	gwd_ratelimit_registry_free(reg);
}

static void test_rate_limit(void)
{
	struct gwd_ratelimit_registry *reg;
	struct fxg f;
	struct gwd_conn conn;
	const struct gw_policy *p;

	if (rl_setup(&reg, &f) != 0)
		return;
	p = policy(f.g, "three");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (int i = 0; i < 4; i++) {
		struct gwd_req *r = req_from(f.g, &conn, "10.9.9.9");
		int rc;

		/* a field added before and one after: the limiter's fields are
		 * linked in between, in order, and the list's tail stays right */
		CU_ASSERT_EQUAL(gwd_req_add_resp_header_ref(r, "X-Before", 8, "1", 1), 0);
		rc = gwd_policy_rate_limit(r, p);
		CU_ASSERT_EQUAL(gwd_req_add_resp_header(r, "X-After", "2"), 0);
		CU_ASSERT_EQUAL(rc, i < 3 ? 0 : 1);
		{
			static const char *order[] = { "X-Before", "X-RateLimit-Limit",
						       "X-RateLimit-Remaining", "X-RateLimit-Reset",
						       "RateLimit-Policy", "RateLimit", "Retry-After",
						       "X-After" };
			unsigned k = 0;

			for (struct gwd_hdr *h = r->resp_hdrs; h; h = h->next, k++) {
				if (k == 6 && i < 3)
					k++; /* no Retry-After on an admitted request */
				CU_ASSERT_FATAL(k < sizeof order / sizeof *order);
				CU_ASSERT_STRING_EQUAL(h->name, order[k]);
				CU_ASSERT_EQUAL(h->nlen, strlen(h->name));
				CU_ASSERT_EQUAL(h->vlen, strlen(h->value));
			}
			CU_ASSERT_EQUAL(k, 8);
		}
		CU_ASSERT_STRING_EQUAL(hdr(r, "X-RateLimit-Limit"), "3");
		CU_ASSERT_STRING_EQUAL(hdr(r, "RateLimit-Policy"), "\"three\";q=3;w=60");
		if (i < 3) {
			char want[4];

			snprintf(want, sizeof want, "%d", 2 - i);
			CU_ASSERT_STRING_EQUAL(hdr(r, "X-RateLimit-Remaining"), want);
			CU_ASSERT_EQUAL(r->resp.status, 0);
		} else {
			CU_ASSERT_EQUAL(r->resp.status, 429);
			CU_ASSERT_PTR_NOT_NULL(hdr(r, "Retry-After"));
		}
		gwd_req_put(r);
	}
	/* another address has its own bucket */
	{
		struct gwd_req *r = req_from(f.g, &conn, "10.9.9.10");

		CU_ASSERT_EQUAL(gwd_policy_rate_limit(r, p), 0);
		gwd_req_put(r);
	}
	rl_teardown(reg, &f);
}

/* The names of <r>'s response fields, space-separated, into <out>. */
static const char *field_names(struct gwd_req *r, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (struct gwd_hdr *h = r->resp_hdrs; h; h = h->next)
		o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? " " : "", h->name);
	return out;
}

/* headers: ietf sends the IETF pair only, headers: none nothing; a refusal
 * still carries Retry-After; the tail of the list stays right. */
static void test_rate_limit_header_modes(void)
{
	struct gwd_ratelimit_registry *reg;
	static const struct {
		const char *policy, *admitted, *refused;
	} want[] = {
		{ "ietf", "RateLimit-Policy RateLimit X-After", "RateLimit-Policy RateLimit Retry-After X-After" },
		{ "quiet", "X-After", "Retry-After X-After" },
	};
	struct fxg f;
	struct gwd_conn conn;
	char names[256];

	if (rl_setup(&reg, &f) != 0)
		return;
	for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
		const struct gw_policy *p = policy(f.g, want[k].policy);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		for (int i = 0; i < 2; i++) {
			struct gwd_req *r = req_from(f.g, &conn, "10.9.9.11");

			CU_ASSERT_EQUAL(gwd_policy_rate_limit(r, p), i);
			CU_ASSERT_EQUAL(gwd_req_add_resp_header(r, "X-After", "2"), 0);
			CU_ASSERT_STRING_EQUAL(field_names(r, names, sizeof names),
					       i ? want[k].refused : want[k].admitted);
			gwd_req_put(r);
		}
	}
	rl_teardown(reg, &f);
}

int gw_suite_gwd_policy(void)
{
	CU_pSuite s = CU_add_suite("gwd/policy", NULL, NULL);

	if (!s || !CU_add_test(s, "ip allow and deny lists", test_ip) ||
	    !CU_add_test(s, "rate_limit dispatch: headers and 429", test_rate_limit) ||
	    !CU_add_test(s, "rate_limit headers: ietf and none", test_rate_limit_header_modes))
		return -1;
	return 0;
}
