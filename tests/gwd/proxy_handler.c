/* Tests of gwd/proxy_handler.c's pure parts: strip_prefix's segment rule,
 * rewrite rendering in each template mode (and what the check of rendered
 * targets then says), and the '_'-as-'-' folding that look-alike header
 * names are judged by.  The header walk and the forwarded fields run
 * through the real gwd in tests/integration/proxy_security.sh. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "gwd/proxy_handler.h"
#include "lib/path.h"

int gw_suite_gwd_proxy_handler(void);

static void test_strip_prefix(void)
{
	static const struct {
		const char *path, *prefix, *want;
	} c[] = {
		{ "/api/users/1", "/api", "/users/1" },
		{ "/api", "/api", "/" },
		{ "/apix/users", "/api", "/apix/users" }, /* not at a segment boundary */
		{ "/ap", "/api", "/ap" },
		{ "/v1/api/x", "/api", "/v1/api/x" },
		{ "/", "/api", "/" },
		{ "/a/b/c", "/a/b", "/c" },
		{ "/a/bc", "/a/b", "/a/bc" },
		{ "/x", "", "/x" },
	};

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		size_t n;
		const char *p = gwd_proxy_strip_prefix(c[i].path, strlen(c[i].path), c[i].prefix,
						       strlen(c[i].prefix), &n);

		if (n != strlen(c[i].want) || memcmp(p, c[i].want, n) != 0)
			fprintf(stderr, "\n%s - %s: got %.*s, want %s\n", c[i].path, c[i].prefix,
				(int)n, p, c[i].want);
		CU_ASSERT_EQUAL(n, strlen(c[i].want));
		CU_ASSERT_EQUAL(memcmp(p, c[i].want, n), 0);
	}
}

#define S(lit) { lit, sizeof lit - 1 }
#define LIT(lit) { .kind = GW_TPL_LITERAL, .text = S(lit) }
#define QRY(name, m, a) { .kind = GW_TPL_QUERY, .mode = m, .text = S(name), .alt = S(a) }

/* Render <t> for path "/api/users/42/files/a/b" (parameter 0 = "42", the
 * rest "a/b") and <query>; "TOOLONG" when it does not fit, else the path
 * and, after a space, "ok" or the check's status. */
static void render(const struct gw_tpl *t, uint32_t n, const char *query, char *res, size_t cap)
{
	static const char path[] = "/api/users/42/files/a/b";
	struct gw_match m = { .nparams = 1, .rest_off = 20, .rest_len = 3 };
	char scratch[256], out[256], check[256];
	struct gwd_respond_tpl_ctx c = {
		.path = path, .m = &m, .query = query, .qlen = query ? strlen(query) : 0,
		.scratch = scratch,
	};
	size_t o;

	m.params[0].off = 11;
	m.params[0].len = 2;
	if (gwd_proxy_render(t, n, &c, out, sizeof out, &o) < 0) {
		snprintf(res, cap, "TOOLONG");
		return;
	}
	CU_ASSERT_EQUAL(o, strlen(out));
	snprintf(res, cap, "%s %d", out, gw_path_check_target(out, o, check, sizeof check));
}

static void test_render(void)
{
	static const struct gw_tpl plain[] = { LIT("/accounts/"), QRY("a", GW_TPL_PLAIN, ""), LIT("/profile") };
	static const struct gw_tpl dflt[] = { LIT("/v1/"), QRY("a", GW_TPL_DEFAULT, "x/y") };
	static const struct gw_tpl alt[] = { LIT("/v1/users"), QRY("a", GW_TPL_ALT, "/by-a") };
	static const struct gw_tpl params[] = {
		LIT("/u/"), { .kind = GW_TPL_PARAM, .param = 0 }, LIT("/"), { .kind = GW_TPL_REST },
	};
	static const struct gw_tpl noslash[] = { QRY("a", GW_TPL_PLAIN, "") };
	static const struct {
		const struct gw_tpl *t;
		uint32_t n;
		const char *query, *want;
	} c[] = {
		{ plain, 3, "a=alice", "/accounts/alice/profile 0" },
		{ plain, 3, "a=..", "/accounts/../profile -11" },
		{ plain, 3, "a=.", "/accounts/./profile -11" },
		{ plain, 3, "a=%2e%2E", "/accounts/../profile -11" },
		{ plain, 3, "a=..x", "/accounts/..x/profile 0" },
		{ plain, 3, "a=a/../b", "/accounts/a%2F..%2Fb/profile -3" },
		{ plain, 3, "a=%00", "/accounts/%00/profile -5" },
		{ plain, 3, "a=x%0D%0Ay", "/accounts/x%0D%0Ay/profile -6" },
		{ plain, 3, "a=%252e", "/accounts/%252e/profile -10" },
		{ plain, 3, "a=x;y", "/accounts/x%3By/profile 0" },
		{ plain, 3, "b=1", "/accounts//profile 0" },
		{ plain, 3, NULL, "/accounts//profile 0" },
		{ dflt, 2, "a=q", "/v1/q 0" },
		{ dflt, 2, "a=", "/v1/x/y 0" },
		{ dflt, 2, NULL, "/v1/x/y 0" },
		{ alt, 2, "a=1", "/v1/users/by-a 0" },
		{ alt, 2, "a=", "/v1/users 0" },
		{ params, 4, NULL, "/u/42/a/b 0" },
		{ noslash, 1, "a=rel", "/rel 0" },
		{ noslash, 1, NULL, "/ 0" },
	};
	char res[300];

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		render(c[i].t, c[i].n, c[i].query, res, sizeof res);
		if (strcmp(res, c[i].want) != 0)
			fprintf(stderr, "\n#%zu %s: got [%s], want [%s]\n", i, c[i].query ? c[i].query : "-",
				res, c[i].want);
		CU_ASSERT_STRING_EQUAL(res, c[i].want);
	}
	/* too long for the buffer: refused, not cut */
	{
		static const char path[] = "/x";
		char big[300], scratch[300], out[16];
		struct gw_match m = { 0 };
		struct gwd_respond_tpl_ctx cx = { .path = path, .m = &m, .query = big, .scratch = scratch };
		size_t o;

		memset(big, 'z', sizeof big);
		memcpy(big, "a=", 2);
		big[sizeof big - 1] = '\0';
		cx.qlen = strlen(big);
		CU_ASSERT_EQUAL(gwd_proxy_render(plain, 3, &cx, out, sizeof out, &o), -1);
	}
}

static void test_lookalike(void)
{
	char f[32];

	CU_ASSERT_EQUAL(gwd_proxy_lookalike("X_Gw_User", 9, f), 1);
	CU_ASSERT_NSTRING_EQUAL(f, "X-Gw-User", 9);
	CU_ASSERT_EQUAL(gwd_proxy_lookalike("x_forwarded-for", 15, f), 1);
	CU_ASSERT_NSTRING_EQUAL(f, "x-forwarded-for", 15);
	CU_ASSERT_EQUAL(gwd_proxy_lookalike("Content_Length", 14, f), 1);
	CU_ASSERT_NSTRING_EQUAL(f, "Content-Length", 14);
	CU_ASSERT_EQUAL(gwd_proxy_lookalike("X-Plain", 7, f), 0);
	CU_ASSERT_NSTRING_EQUAL(f, "X-Plain", 7);
	/* only the given length is read and written */
	memset(f, '#', sizeof f);
	CU_ASSERT_EQUAL(gwd_proxy_lookalike("a_b_c", 2, f), 1);
	CU_ASSERT_NSTRING_EQUAL(f, "a-#", 3);
}

int gw_suite_gwd_proxy_handler(void)
{
	CU_pSuite s = CU_add_suite("gwd/proxy_handler", NULL, NULL);

	if (!s || !CU_add_test(s, "strip_prefix at segment boundaries", test_strip_prefix) ||
	    !CU_add_test(s, "rewrite rendering and its check", test_render) ||
	    !CU_add_test(s, "look-alike names folded", test_lookalike))
		return -1;
	return 0;
}
