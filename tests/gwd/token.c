/* Tests of gwd/token.c: token length and alphabet, uniqueness, the digest
 * (SHA-256, FIPS 180-2 vector), base64url (RFC 4648 section 10 vectors and
 * the two URL-safe characters), and the shape filter. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/token.h"

int gw_suite_gwd_token(void);

static void test_b64url(void)
{
	static const struct { const char *in; const char *out; } v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
	};
	char out[32];
	const uint8_t url[] = { 0xfb, 0xff, 0xbf };

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		int n = gwd_token_b64url_encode((const uint8_t *)v[i].in, strlen(v[i].in), out,
		                         sizeof out);
		CU_ASSERT_EQUAL(n, (int)strlen(v[i].out));
		CU_ASSERT_STRING_EQUAL(out, v[i].out);
	}
	/* '-' and '_' where standard base64 has '+' and '/' */
	CU_ASSERT_EQUAL(gwd_token_b64url_encode(url, 3, out, sizeof out), 4);
	CU_ASSERT_STRING_EQUAL(out, "-_-_");
	/* room for the NUL is required */
	CU_ASSERT_EQUAL(gwd_token_b64url_encode((const uint8_t *)"foo", 3, out, 4), -1);
	CU_ASSERT_EQUAL(gwd_token_b64url_encode((const uint8_t *)"foo", 3, out, 5), 4);
}

static int cmp_tok(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_new(void)
{
	enum { N = 2000 };
	char (*toks)[GWD_TOKEN_LEN + 1] = calloc(N, sizeof *toks);
	uint8_t d[32], d2[32];
	int seen_dash_or_underscore = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(toks);
	for (int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL_FATAL(gwd_token_new(toks[i], d), 0);
		CU_ASSERT_EQUAL(strlen(toks[i]), GWD_TOKEN_LEN);
		CU_ASSERT(gwd_token_shape_ok(toks[i], GWD_TOKEN_LEN));
		CU_ASSERT_EQUAL(gwd_token_digest(toks[i], GWD_TOKEN_LEN, d2), 0);
		CU_ASSERT_EQUAL(memcmp(d, d2, 32), 0);
		if (strpbrk(toks[i], "-_"))
			seen_dash_or_underscore = 1;
	}
	/* 256 random bits: any repeat means the generator is broken */
	qsort(toks, N, sizeof *toks, cmp_tok);
	int dups = 0;
	for (int i = 1; i < N; i++)
		dups += strcmp(toks[i - 1], toks[i]) == 0;
	CU_ASSERT_EQUAL(dups, 0);
	/* 2000 tokens of 43 characters without one of 2/64 characters would be
	 * a biased alphabet */
	CU_ASSERT(seen_dash_or_underscore);
	CU_ASSERT_EQUAL(gwd_token_new(toks[0], NULL), 0);
	free(toks);
}

static void test_digest(void)
{
	uint8_t d[32];
	char hex[65];

	CU_ASSERT_EQUAL_FATAL(gwd_token_digest("abc", 3, d), 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	CU_ASSERT_STRING_EQUAL(hex,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_shape(void)
{
	char t[64];

	memset(t, 'A', sizeof t);
	CU_ASSERT(gwd_token_shape_ok(t, 43));
	CU_ASSERT(!gwd_token_shape_ok(t, 42));
	CU_ASSERT(!gwd_token_shape_ok(t, 44));
	CU_ASSERT(!gwd_token_shape_ok(NULL, 43));
	t[10] = '+';
	CU_ASSERT(!gwd_token_shape_ok(t, 43));
	t[10] = '/';
	CU_ASSERT(!gwd_token_shape_ok(t, 43));
	t[10] = '=';
	CU_ASSERT(!gwd_token_shape_ok(t, 43));
	t[10] = '\0';
	CU_ASSERT(!gwd_token_shape_ok(t, 43));
	t[10] = ' ';
	CU_ASSERT(!gwd_token_shape_ok(t, 43));
	t[10] = '_';
	t[42] = '-';
	CU_ASSERT(gwd_token_shape_ok(t, 43));
}

int gw_suite_gwd_token(void)
{
	CU_pSuite s = CU_add_suite("gwd/token", NULL, NULL);

	if (!s)
		return -1;
	if (!CU_add_test(s, "base64url", test_b64url) ||
	    !CU_add_test(s, "new tokens", test_new) ||
	    !CU_add_test(s, "SHA-256 digest", test_digest) ||
	    !CU_add_test(s, "token shape", test_shape))
		return -1;
	return 0;
}
