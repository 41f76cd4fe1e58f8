/* Tests of gwd/kdf.c: the PBKDF2-HMAC-SHA256 primitive against published
 * vectors (RFC 7914 section 11, and the SHA-256 counterparts of RFC 6070's
 * vectors), the stored-string format, malformed stored strings, the rehash
 * rule, and the cost: the default count is measured and the dummy check for
 * unknown users must cost about what a real check costs. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwd/kdf.h"

int gw_suite_gwd_kdf(void);

struct vector {
	const char *pw;
	size_t pwlen;
	const char *salt;
	size_t saltlen;
	unsigned iter;
	size_t dklen;
	const char *hex;
};

static const struct vector vectors[] = {
	/* RFC 6070's inputs with HMAC-SHA256 (as published in the errata-era
	 * test suites, e.g. Go's x/crypto/pbkdf2 tests) */
	{ "password", 8, "salt", 4, 1, 32,
	  "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b" },
	{ "password", 8, "salt", 4, 2, 32,
	  "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43" },
	{ "password", 8, "salt", 4, 4096, 32,
	  "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a" },
	{ "passwordPASSWORDpassword", 24, "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36,
	  4096, 40,
	  "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9" },
	{ "pass\0word", 9, "sa\0lt", 5, 4096, 16, "89b69d0516f829893c696226650a8687" },
	/* RFC 7914 section 11 */
	{ "passwd", 6, "salt", 4, 1, 64,
	  "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	  "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783" },
	{ "Password", 8, "NaCl", 4, 80000, 64,
	  "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
	  "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d" },
};

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
		const struct vector *v = &vectors[i];
		uint8_t out[64];
		char hex[129];

		CU_ASSERT_EQUAL_FATAL(gwd_kdf_pbkdf2(v->pw, v->pwlen, v->salt, v->saltlen,
		                                    v->iter, out, v->dklen), 0);
		for (size_t k = 0; k < v->dklen; k++)
			snprintf(hex + 2 * k, 3, "%02x", out[k]);
		CU_ASSERT_STRING_EQUAL(hex, v->hex);
	}
}

static void test_hash_verify(void)
{
	char a[GWD_KDF_STR_MAX], b[GWD_KDF_STR_MAX], want[64];

	CU_ASSERT_EQUAL_FATAL(gwd_kdf_hash("s3cret", 6, 1000, a, sizeof a), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_kdf_hash("s3cret", 6, 1000, b, sizeof b), 0);
	CU_ASSERT_EQUAL(strncmp(a, "$pbkdf2-sha256$i=1000$", 22), 0);
	/* 22 characters of salt, 43 of hash: 16 and 32 bytes unpadded */
	CU_ASSERT_EQUAL(strlen(a), 22 + 22 + 1 + 43);
	CU_ASSERT_STRING_NOT_EQUAL(a, b); /* fresh salt each time */
	CU_ASSERT_EQUAL(gwd_kdf_verify(a, "s3cret", 6), 1);
	CU_ASSERT_EQUAL(gwd_kdf_verify(b, "s3cret", 6), 1);
	CU_ASSERT_EQUAL(gwd_kdf_verify(a, "s3cret!", 7), 0);
	CU_ASSERT_EQUAL(gwd_kdf_verify(a, "s3cre", 5), 0);
	CU_ASSERT_EQUAL(gwd_kdf_verify(a, "", 0), 0);
	/* the password is bytes: a NUL inside counts */
	CU_ASSERT_EQUAL(gwd_kdf_hash("a\0b", 3, 1000, a, sizeof a), 0);
	CU_ASSERT_EQUAL(gwd_kdf_verify(a, "a\0b", 3), 1);
	CU_ASSERT_EQUAL(gwd_kdf_verify(a, "a", 1), 0);
	/* default cost */
	CU_ASSERT_EQUAL_FATAL(gwd_kdf_hash("pw", 2, 0, a, sizeof a), 0);
	snprintf(want, sizeof want, "$pbkdf2-sha256$i=%u$", GWD_KDF_ITER);
	CU_ASSERT_EQUAL(strncmp(a, want, strlen(want)), 0);
	/* bounds */
	CU_ASSERT_EQUAL(gwd_kdf_hash("pw", 2, GWD_KDF_MIN_ITER - 1, a, sizeof a), -1);
	CU_ASSERT_EQUAL(gwd_kdf_hash("pw", 2, GWD_KDF_MAX_ITER + 1, a, sizeof a), -1);
	CU_ASSERT_EQUAL(gwd_kdf_hash("pw", 2, 1000, a, 20), -1);
	CU_ASSERT_STRING_EQUAL(a, "");
}

/* A known stored string made by hand from the RFC 6070-style vector: salt
 * "saltsaltsaltsalt" is not what gwd_kdf_hash would pick, but verify must only
 * follow the string. */
static void test_verify_foreign_string(void)
{
	uint8_t dk[32];
	const char *salt = "saltsaltsaltsalt";
	char s[GWD_KDF_STR_MAX];

	/* c2FsdHNhbHRzYWx0c2FsdA is "saltsaltsaltsalt" in unpadded base64 */
	CU_ASSERT_EQUAL_FATAL(gwd_kdf_pbkdf2("hunter2", 7, salt, 16, 1000, dk, 32), 0);
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char h[48];
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < 32; i++) {
		acc = acc << 8 | dk[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			h[o++] = b64[acc >> bits & 63];
		}
	}
	h[o++] = b64[acc << (6 - bits) & 63];
	h[o] = '\0';
	snprintf(s, sizeof s, "$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2FsdA$%s", h);
	CU_ASSERT_EQUAL(gwd_kdf_verify(s, "hunter2", 7), 1);
	CU_ASSERT_EQUAL(gwd_kdf_verify(s, "hunter3", 7), 0);
}

static void test_malformed(void)
{
	static const char *bad[] = {
		"",
		"plain",
		"$pbkdf2-sha1$i=1000$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=0$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=999$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=01000$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=99999999999$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=1000x$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2Fsd$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAA-AAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2FsdA",
		"$pbkdf2-sha256$i=1000$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CU_ASSERT_EQUAL(gwd_kdf_verify(bad[i], "x", 1), -1);
		CU_ASSERT_EQUAL(gwd_kdf_needs_rehash(bad[i]), 1);
	}
	CU_ASSERT_EQUAL(gwd_kdf_verify(NULL, "x", 1), -1);
	/* the well-formed twin of the lines above parses (and mismatches) */
	CU_ASSERT_EQUAL(gwd_kdf_verify("$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0c2FsdA$"
	                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x", 1), 0);
}

static void test_rehash(void)
{
	char s[GWD_KDF_STR_MAX];

	CU_ASSERT_EQUAL_FATAL(gwd_kdf_hash("pw", 2, 1000, s, sizeof s), 0);
	CU_ASSERT_EQUAL(gwd_kdf_needs_rehash(s), 1);
	CU_ASSERT_EQUAL_FATAL(gwd_kdf_hash("pw", 2, GWD_KDF_ITER, s, sizeof s), 0);
	CU_ASSERT_EQUAL(gwd_kdf_needs_rehash(s), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_kdf_hash("pw", 2, GWD_KDF_ITER * 2, s, sizeof s), 0);
	CU_ASSERT_EQUAL(gwd_kdf_needs_rehash(s), 0);
}

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The default cost is measured and printed; it must be real work (>= 5 ms:
 * catches the count being lowered by mistake), and the dummy check for an
 * unknown user must take about the time of a real check (medians within a
 * factor of two, loose enough for a busy machine). */
static void test_cost(void)
{
	char s[GWD_KDF_STR_MAX];
	double real[5], dummy[5];
	struct timespec t;

	CU_ASSERT_EQUAL_FATAL(gwd_kdf_hash("correct horse", 13, 0, s, sizeof s), 0);
	gwd_kdf_dummy_verify("warm", 4); /* makes the dummy hash */
	for (int i = 0; i < 5; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		CU_ASSERT_EQUAL(gwd_kdf_verify(s, "wrong horse", 11), 0);
		real[i] = ms_since(&t);
		clock_gettime(CLOCK_MONOTONIC, &t);
		gwd_kdf_dummy_verify("wrong horse", 11);
		dummy[i] = ms_since(&t);
	}
	qsort(real, 5, sizeof *real, cmp_double);
	qsort(dummy, 5, sizeof *dummy, cmp_double);
	fprintf(stderr, "\n  kdf: PBKDF2-HMAC-SHA256 i=%u: verify %.1f ms, dummy %.1f ms "
	        "(medians of 5)\n", GWD_KDF_ITER, real[2], dummy[2]);
	CU_ASSERT(real[2] >= 5.0);
	CU_ASSERT(dummy[2] >= real[2] / 2 && dummy[2] <= real[2] * 2);
}

int gw_suite_gwd_kdf(void)
{
	CU_pSuite s = CU_add_suite("gwd/kdf", NULL, NULL);

	if (!s)
		return -1;
	if (!CU_add_test(s, "published PBKDF2-HMAC-SHA256 vectors", test_vectors) ||
	    !CU_add_test(s, "hash and verify", test_hash_verify) ||
	    !CU_add_test(s, "verify a string made elsewhere", test_verify_foreign_string) ||
	    !CU_add_test(s, "malformed stored strings", test_malformed) ||
	    !CU_add_test(s, "rehash when the cost rose", test_rehash) ||
	    !CU_add_test(s, "cost and dummy timing", test_cost))
		return -1;
	return 0;
}
