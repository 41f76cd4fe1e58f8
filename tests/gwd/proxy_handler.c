/* Tests of gwd/proxy_handler.c's pure parts: strip_prefix's segment rule
 * and the '_'-as-'-' folding that look-alike header names are judged by.
 * The header walk, the rendered rewrite check and the forwarded fields run
 * through the real gwd in tests/integration/proxy_security.sh. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "gwd/proxy_handler.h"

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
	    !CU_add_test(s, "look-alike names folded", test_lookalike))
		return -1;
	return 0;
}
