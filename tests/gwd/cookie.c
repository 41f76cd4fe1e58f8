/* Tests of gwd/cookie.c, the one Cookie parser: pairs and their blanks
 * (SP and HTAB alike), quoted values, pairs without '=', empty pairs; the
 * authenticator's lookup and the proxy's stripper agreeing on every input
 * (what one finds, the other removes). */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "gwd/cookie.h"

int gw_suite_gwd_cookie(void);

/* The pairs of <s> as "name=value|" (value "-" when absent). */
static void pairs(const char *s, char *out, size_t cap)
{
	struct gwd_cookie c;
	size_t pos = 0, o = 0;

	out[0] = '\0';
	while (gwd_cookie_next(s, strlen(s), &pos, &c) && o < cap) {
		int n = c.value ? snprintf(out + o, cap - o, "%.*s=%.*s|", (int)c.name_len, c.name,
					   (int)c.value_len, c.value)
				: snprintf(out + o, cap - o, "%.*s=-|", (int)c.name_len, c.name);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void test_pairs(void)
{
	static const struct {
		const char *in, *want;
	} c[] = {
		{ "", "" },
		{ ";; ; \t;", "" },
		{ "a=1", "a=1|" },
		{ "a=1; b=2", "a=1|b=2|" },
		{ "a=1;b=2", "a=1|b=2|" },
		{ "a=1;\tb=2", "a=1|b=2|" },
		{ " \ta = 1 \t;\t b\t=\t2\t", "a=1|b=2|" },
		{ "a=\"q v\"; b=\"", "a=q v|b=\"|" },
		{ "flag; a=", "flag=-|a=|" },
		{ "a=b=c", "a=b=c|" },
		{ "=v", "=v|" },
	};
	char out[256];

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		pairs(c[i].in, out, sizeof out);
		if (strcmp(out, c[i].want) != 0)
			fprintf(stderr, "\n[%s]: got [%s], want [%s]\n", c[i].in, out, c[i].want);
		CU_ASSERT_STRING_EQUAL(out, c[i].want);
	}
}

static void test_find(void)
{
	const char *v = NULL;
	size_t n = 0;
	const char *s = "a=1;\tgw_session=\"TOKEN\" ; gw_session=second";

	CU_ASSERT_EQUAL(gwd_cookie_find(s, strlen(s), "gw_session", 10, &v, &n), 1);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_NSTRING_EQUAL(v, "TOKEN", 5);
	CU_ASSERT_EQUAL(gwd_cookie_find(s, strlen(s), "gw_sess", 7, &v, &n), 0);
	CU_ASSERT_EQUAL(gwd_cookie_find("gw_session", 10, "gw_session", 10, &v, &n), 0);
	CU_ASSERT_EQUAL(gwd_cookie_find("GW_SESSION=x", 12, "gw_session", 10, &v, &n), 0);
	/* the length bounds the search, not a NUL */
	CU_ASSERT_EQUAL(gwd_cookie_find("a=1; gw_session=T", 8, "gw_session", 10, &v, &n), 0);
}

static void test_strip(void)
{
	static const struct {
		const char *in, *want;
	} c[] = {
		{ "gw_session=T", "" },
		{ "a=1; gw_session=T; b=2", "a=1; b=2" },
		{ "a=1;\tgw_session=T", "a=1" },
		{ "a=1;gw_session=T;b=2", "a=1; b=2" },
		{ " gw_session =T;a=\"x\"", "a=\"x\"" },
		{ "gw_session; a=1", "a=1" },
		{ "gw_sessionx=1; xgw_session=2", "gw_sessionx=1; xgw_session=2" },
		{ "a=1;;;b=2", "a=1; b=2" },
	};
	char out[256];

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		size_t n = gwd_cookie_strip(c[i].in, strlen(c[i].in), "gw_session", 10, out);

		CU_ASSERT_EQUAL(n, strlen(out));
		if (strcmp(out, c[i].want) != 0)
			fprintf(stderr, "\n[%s]: got [%s], want [%s]\n", c[i].in, out, c[i].want);
		CU_ASSERT_STRING_EQUAL(out, c[i].want);
	}
}

/* Every header over a small alphabet: whenever the lookup finds the cookie,
 * the stripped header no longer holds it, and the stripper's output fits
 * the documented bound. */
static void test_agree(void)
{
	static const char alpha[] = { 'k', '=', ';', ' ', '\t', '"', 'v' };
	char in[7], out[2 * sizeof in + 1];
	unsigned long total = 1;
	const size_t len = 6;

	for (size_t i = 0; i < len; i++)
		total *= sizeof alpha;
	for (unsigned long x = 0; x < total; x++) {
		unsigned long y = x;
		const char *v;
		size_t n, o;

		for (size_t i = 0; i < len; i++) {
			in[i] = alpha[y % sizeof alpha];
			y /= sizeof alpha;
		}
		in[len] = '\0';
		o = gwd_cookie_strip(in, len, "k", 1, out);
		CU_ASSERT_TRUE_FATAL(o <= 2 * len);
		if (gwd_cookie_find(out, o, "k", 1, &v, &n)) {
			fprintf(stderr, "\n[%s] stripped to [%s] still holds k\n", in, out);
			CU_FAIL_FATAL("stripper and lookup disagree");
		}
	}
	CU_PASS("agree");
}

int gw_suite_gwd_cookie(void)
{
	CU_pSuite s = CU_add_suite("gwd/cookie", NULL, NULL);

	if (!s || !CU_add_test(s, "pairs, blanks, quotes", test_pairs) ||
	    !CU_add_test(s, "lookup", test_find) || !CU_add_test(s, "strip", test_strip) ||
	    !CU_add_test(s, "lookup and stripper agree", test_agree))
		return -1;
	return 0;
}
